/* Issue #13 defect 1 ("A refund of nothing takes points back"), through the nodes in real n8n
 * executions (harness) on SQLite and PostgreSQL: the Referral node's Reverse (Refund) decides for the
 * referral and its rewards together. Before the fix a refund of 0 left a qualified referral whose
 * rewards the Referral Reward node then reversed and clawed back; a partial refund never shrank a
 * percent-of-order reward. */
import { afterAll, describe, expect, it } from 'vitest';
import type { IDataObject } from 'n8n-workflow';
import { closeAllLedgers, openLedger } from '../../engine/ledger';
import { ledgerConfigFromCredential } from '../../nodes/shared/ledger';
import {
	POINTS_AND_CASH_BACK_FORM as FORM,
	ledgerNodeBackends,
	pgTestUrl,
	runLedgerNode,
} from './ledgerBackends';

afterAll(async () => {
	await closeAllLedgers();
});

type Credential = Record<string, unknown>;
type Json = Record<string, any>;

const backends = ledgerNodeBackends('refund');

for (const [name, open] of backends) {
	describe.skipIf(name === 'PostgreSQL' && !pgTestUrl())(
		`refunds through the nodes on ${name}`,
		() => {
			const node = async (
				credential: Credential,
				type: string,
				parameters: IDataObject,
				items: Json[],
			) => runLedgerNode(credential, type, parameters, items);
			const referral = (credential: Credential, parameters: IDataObject, items: Json[]) =>
				node(credential, 'referral', parameters, items);
			const refund = async (credential: Credential, item: Json) =>
				(
					await referral(
						credential,
						{ resource: 'referral', operation: 'reverse', reverseBy: 'orderId', refundFields: {} },
						[item],
					)
				)[0];

			/** Ana refers a friend whose order of 100 EUR qualifies; the rewards are awarded. */
			const world = async (credential: Credential, friend: string, orderId: string) => {
				const [ana] = await referral(credential, { resource: 'participant', operation: 'enrol' }, [
					{ email: 'ana@example.com' },
				]);
				const [bob] = await referral(credential, { resource: 'participant', operation: 'enrol' }, [
					{ email: friend, referralCode: ana.participant.code },
				]);
				const [qualified] = await referral(
					credential,
					{ resource: 'referral', operation: 'qualify' },
					[{ email: friend, orderId, amount: 100, currency: 'EUR' }],
				);
				expect(qualified).toMatchObject({ qualified: true, referral: { status: 'qualified' } });
				const [evaluated] = await node(
					credential,
					'referralReward',
					{
						operation: 'evaluate',
						referralBy: 'id',
						referralField: 'referralId',
						outputMode: 'perReferral',
						...FORM,
					},
					[{ referralId: bob.referral.id }],
				);
				expect(evaluated.error).toBeUndefined();
				const ledger = await openLedger(ledgerConfigFromCredential(credential as never));
				const rewards = await ledger.listRewards({
					programId: 'shop',
					referralId: bob.referral.id,
				});
				expect(rewards.map((r) => [r.rule, r.amount, r.status])).toEqual([
					['referrer-points', 100, 'approved'],
					['referee-points', 50, 'approved'],
					['cash-back', 10, 'approved'],
				]);
				const points = async () => [
					await ledger.pointsBalance({ programId: 'shop', participantId: ana.participant.id }),
					await ledger.pointsBalance({ programId: 'shop', participantId: bob.participant.id }),
				];
				const state = async () => ({
					status: (await ledger.getReferral({ programId: 'shop', id: bob.referral.id }))!.status,
					rewards: (
						await ledger.listRewards({ programId: 'shop', referralId: bob.referral.id })
					).map((r) => [r.amount, r.status]),
					points: await points(),
				});
				return {
					referralId: bob.referral.id as number,
					rewardIds: rewards.map((r) => r.id),
					state,
				};
			};

			it('a refund of 0 changes nothing; a partial refund that leaves a qualifying order shrinks the percent-of-order reward; one below the minimum reverses all; replays answer the same', async () => {
				const { credential, cleanup } = await open();
				try {
					await referral(
						credential,
						{
							resource: 'program',
							operation: 'save',
							qualification: { minOrderAmount: 50 },
							refundPolicy: 'full_refund_only',
						},
						[{}],
					);
					const { referralId, rewardIds, state } = await world(
						credential,
						'bob@example.org',
						'A-1',
					);

					// The request: nothing refunded, nothing reversed, no points taken.
					const zero = await refund(credential, { orderId: 'A-1', refundedAmount: 0 });
					expect(zero).toMatchObject({
						outcome: 'unchanged',
						changed: false,
						referral: { id: referralId, status: 'qualified' },
						reversed: [],
						adjusted: [],
						clawedBack: [],
					});
					expect(await state()).toEqual({
						status: 'qualified',
						rewards: [
							[100, 'approved'],
							[50, 'approved'],
							[10, 'approved'],
						],
						points: [100, 50],
					});
					// The rewards never go alone: the Referral Reward node refuses to reverse those of a standing referral.
					const [alone] = await node(
						credential,
						'referralReward',
						{
							operation: 'reverse',
							referralBy: 'id',
							referralField: 'referralId',
							negativeBalancePolicy: 'allow_negative',
						},
						[{ referralId }],
					);
					expect(alone.error).toMatchObject({
						code: 'referral_not_reversed',
						field: 'referralId',
						message: expect.stringContaining('Reverse (Refund)'),
					});
					expect(await state()).toEqual({
						status: 'qualified',
						rewards: [
							[100, 'approved'],
							[50, 'approved'],
							[10, 'approved'],
						],
						points: [100, 50],
					});

					// 30 of 100 refunded: 70 still qualifies (minimum 50); 10 % of 70 = 7.
					const partial = await refund(credential, { orderId: 'A-1', refundedAmount: 30 });
					expect(partial).toMatchObject({
						outcome: 'adjusted',
						changed: true,
						referral: { id: referralId, status: 'qualified' },
						reversed: [],
						adjusted: [{ rewardId: rewardIds[2], from: 10, to: 7, currency: 'EUR' }],
					});
					expect(await state()).toEqual({
						status: 'qualified',
						rewards: [
							[100, 'approved'],
							[50, 'approved'],
							[7, 'approved'],
						],
						points: [100, 50],
					});
					// A replay, also one racing 5 more, answers like the first request and writes nothing.
					const strip = ({ replayed: _r, ...rest }: Json) => rest;
					const replays = await Promise.all(
						Array.from({ length: 6 }, () =>
							refund(credential, { orderId: 'A-1', refundedAmount: 30 }),
						),
					);
					for (const r of replays) expect(strip(r)).toEqual(strip(partial));
					expect(await state()).toEqual({
						status: 'qualified',
						rewards: [
							[100, 'approved'],
							[50, 'approved'],
							[7, 'approved'],
						],
						points: [100, 50],
					});
					// A smaller refund arriving late changes nothing (the larger one stands).
					expect(await refund(credential, { orderId: 'A-1', refundedAmount: 20 })).toMatchObject({
						outcome: 'unchanged',
						adjusted: [],
					});

					// 60 refunded: 40 is below the minimum of 50: the referral and all its rewards are reversed, points clawed back.
					const below = await refund(credential, { orderId: 'A-1', refundedAmount: 60 });
					expect(below).toMatchObject({
						outcome: 'reversed',
						changed: true,
						referral: { id: referralId, status: 'reversed' },
						reversed: rewardIds,
					});
					expect(below.clawedBack.map((c: Json) => c.points).sort()).toEqual([-100, -50]);
					expect(await state()).toEqual({
						status: 'reversed',
						rewards: [
							[7, 'reversed'],
							[50, 'reversed'],
							[100, 'reversed'],
						].sort((a, b) => (b[0] as number) - (a[0] as number)),
						points: [0, 0],
					});
					// The first requests, replayed after it, still answer as they did.
					expect(strip(await refund(credential, { orderId: 'A-1', refundedAmount: 0 }))).toEqual(
						strip(zero),
					);
					expect(strip(await refund(credential, { orderId: 'A-1', refundedAmount: 30 }))).toEqual(
						strip(partial),
					);
					// Bad input names the field and what is valid; nothing is written.
					const tooMuch = await refund(credential, {
						orderId: 'A-1',
						refundedAmount: 101,
						orderAmount: 100,
					});
					expect(tooMuch.error).toMatchObject({
						field: 'refundedAmount',
						message: expect.stringContaining('from 0 to 100'),
					});
					const negative = await refund(credential, { orderId: 'A-1', refundedAmount: -5 });
					expect(negative.error).toMatchObject({
						field: 'refundedAmount',
						message: expect.stringContaining('zero or more'),
					});
				} finally {
					await cleanup();
				}
			}, 180_000);

			it('under Any Refund Reverses a partial refund reverses the referral and its rewards together; a full refund of another order too', async () => {
				const { credential, cleanup } = await open();
				try {
					await referral(credential, { resource: 'program', operation: 'save' }, [{}]);
					const { referralId, state } = await world(credential, 'cy@example.net', 'B-1');
					expect(await refund(credential, { orderId: 'B-1', refundedAmount: 0 })).toMatchObject({
						outcome: 'unchanged',
						reversed: [],
					});
					const partial = await refund(credential, { orderId: 'B-1', refundedAmount: 10 });
					expect(partial).toMatchObject({
						outcome: 'reversed',
						referral: { id: referralId, status: 'reversed' },
					});
					expect(partial.reversed).toHaveLength(3);
					expect((await state()).points).toEqual([0, 0]);
					// The full refund afterwards is a normal day: the referral was already reversed, nothing more is taken.
					expect(await refund(credential, { orderId: 'B-1' })).toMatchObject({
						outcome: 'reversed',
						changed: false,
						reversed: partial.reversed,
						clawedBack: [],
					});
					expect((await state()).points).toEqual([0, 0]);
				} finally {
					await cleanup();
				}
			}, 180_000);
		},
	);
}
