/* The Referral Reward node in real n8n executions (harness), on SQLite and PostgreSQL: the sample
 * program from the form, each operation, caps, holding periods, reversals, pools, 8 racing runs. */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { IDataObject } from 'n8n-workflow';
import { closeAllLedgers, type LedgerStore, openLedger } from '../../engine/ledger';
import { ledgerConfigFromCredential } from '../../nodes/shared/ledger';
import { runWorkflow, singleNodeWorkflow } from '../harness';
import { pgTestUrl, withPgSchema } from './ledgerBackends';

afterAll(async () => {
	await closeAllLedgers();
});

const DAY = 86_400_000;
type Credential = Record<string, unknown>;
type Json = IDataObject;

/** The README's sample program, as the form holds it. */
export const SAMPLE_FORM = {
	perReferral: {
		rewards: [
			{ side: 'referrer', on: 'referral_qualified', kind: 'points', points: 100, id: '' },
			{ side: 'referee', on: 'referral_qualified', kind: 'points', points: 50, id: '' },
		],
	},
	milestones: {
		milestone: [
			{
				metric: 'qualified_referrals',
				threshold: 3,
				repeatEvery: 0,
				kind: 'coupon',
				amountType: 'amount',
				amount: 20,
				currency: '',
				couponSource: 'generate',
				couponPrefix: 'THANKS',
				couponValidDays: 90,
			},
		],
	},
	levels: { level: [{ award: 'both', metric: 'qualified_referrals', min: 10, name: 'Gold' }] },
	// holdingDays: 0 pays at once; set e.g. 14 to hold rewards for a 14-day refund window.
	programOptions: { currency: 'EUR', holdingDays: 0 },
};

function backends(): Array<
	[string, () => Promise<{ credential: Credential; cleanup: () => Promise<void> }>]
> {
	return [
		[
			'SQLite',
			async () => ({
				credential: {
					backend: 'sqlite',
					path: path.join(mkdtempSync(path.join(os.tmpdir(), 'rm-reward-')), 'ledger.sqlite'),
				},
				cleanup: async () => {},
			}),
		],
		['PostgreSQL', async () => withPgSchema()],
	];
}

for (const [name, open] of backends()) {
	describe.skipIf(name === 'PostgreSQL' && !pgTestUrl())(`Referral Reward node on ${name}`, () => {
		const run = async (
			credential: Credential,
			parameters: Json,
			items: Json[],
			continueOnFail = false,
		) =>
			await runWorkflow(
				singleNodeWorkflow(
					{
						type: 'referralReward',
						parameters: { program: 'default', ...parameters },
						continueOnFail,
						credentials: { referralLedgerApi: { id: '1', name: 'Ledger' } },
					} as never,
					items,
				),
				{ credentials: { referralLedgerApi: credential as never } },
			);
		const evaluate = (
			credential: Credential,
			items: Json[],
			form: Json = SAMPLE_FORM,
			extra: Json = {},
		) =>
			run(
				credential,
				{
					operation: 'evaluate',
					referralBy: 'id',
					referralField: 'referralId',
					outputMode: 'perReferral',
					...form,
					...extra,
				},
				items,
			);

		/** The same ledger instance the node uses (openLedger caches by configuration). */
		const ledgerOf = async (credential: Credential) => {
			const ledger = await openLedger(ledgerConfigFromCredential(credential as never));
			await ledger.ensureProgram({ id: 'default' });
			return ledger;
		};
		let n = 0;
		const qualify = async (
			ledger: LedgerStore,
			referrerId: number,
			qualifiedAt = Date.now(),
			orderId?: string,
		) => {
			n += 1;
			const referee = await ledger.enrolParticipant({
				programId: 'default',
				email: `friend${n}@example.com`,
			});
			const { referral } = await ledger.recordReferral({
				programId: 'default',
				referrerId,
				refereeId: referee.participant.id,
				status: 'pending',
			});
			await ledger.qualifyReferral({
				programId: 'default',
				referralId: referral.id,
				orderId: orderId ?? `order-${n}`,
				amount: 80,
				currency: 'EUR',
				occurredAt: qualifiedAt,
				fromStatuses: ['pending'],
			});
			return referral.id;
		};
		const referrer = async (ledger: LedgerStore, email = 'ann@example.com') =>
			(await ledger.enrolParticipant({ programId: 'default', email })).participant.id;

		it('runs the sample program from the form: the webhook shapes, the coupon for shops, status with tier and badges, replays', async () => {
			const { credential, cleanup } = await open();
			try {
				const ledger = await ledgerOf(credential);
				const ann = await referrer(ledger);
				const ids: number[] = [];
				for (let i = 0; i < 10; i++)
					ids.push(await qualify(ledger, ann, Date.now() - (10 - i) * 1000));
				const result = await evaluate(
					credential,
					ids.map((referralId) => ({ referralId })),
				);
				const out = result.json('Node');
				expect(out).toHaveLength(10);
				expect(out[0].rewards).toMatchObject([
					{
						recipient: 'referrer',
						email: 'ann@example.com',
						kind: 'points',
						points: 100,
						rule: 'referrer-points',
						status: 'approved',
					},
					{
						recipient: 'referee',
						kind: 'points',
						points: 50,
						rule: 'referee-points',
						status: 'approved',
					},
				]);
				const coupon = (out[2].rewards as Json[]).find((r) => r.kind === 'coupon') as Json;
				expect(coupon).toMatchObject({
					amount: 20,
					currency: 'EUR',
					rule: 'milestones',
					status: 'approved',
					coupon: {
						stripe: { amountOff: 2000, currency: 'eur' },
						woocommerce: { discount_type: 'fixed_cart', amount: '20.00' },
					},
				});
				expect(coupon.code).toMatch(/^THANKS-/);
				expect(
					(out[9].rewards as Json[]).filter((r) => r.kind === 'tier' || r.kind === 'badge'),
				).toMatchObject([
					{ kind: 'badge', badge: 'Gold', rule: 'badges-by-referrals' },
					{ kind: 'tier', tier: 'Gold', rule: 'tiers-by-referrals' },
				]);
				expect(result.items('Node').map((i) => i.pairedItem)).toEqual(
					ids.map((_, item) => ({ item })),
				);
				// One notice per person with new rewards, ready for Split Out and an email.
				const referee3 = (out[2].rewards as Json[]).find((r) => r.recipient === 'referee') as Json;
				expect(out[2].notices).toEqual([
					{
						recipient: 'referrer',
						recipientId: ann,
						email: 'ann@example.com',
						referralId: ids[2],
						rewards: (out[2].rewards as Json[]).filter((r) => r.recipient === 'referrer'),
						lines: ['100 points', `a 20.00 EUR coupon: ${coupon.code}`],
						messageKey: `referral-${ids[2]}-rewarded-${ann}`,
					},
					{
						recipient: 'referee',
						recipientId: referee3.recipientId,
						email: referee3.email,
						referralId: ids[2],
						rewards: [referee3],
						lines: ['50 points'],
						messageKey: `referral-${ids[2]}-rewarded-${referee3.recipientId}`,
					},
				]);
				expect((out[9].notices as Json[])[0].lines).toEqual([
					'100 points',
					'the Gold badge',
					'the Gold tier',
				]);

				const status = await run(
					credential,
					{
						resource: 'points',
						operation: 'getStatus',
						participantBy: 'email',
						participantField: 'email',
					},
					[{ email: 'ann@example.com' }],
				);
				expect(status.json('Node')[0]).toMatchObject({
					points: 1000,
					tier: 'Gold',
					badges: ['Gold'],
					qualifiedReferrals: 10,
				});

				// An n8n retry of the whole execution writes nothing new.
				const again = await evaluate(
					credential,
					ids.map((referralId) => ({ referralId })),
					SAMPLE_FORM,
					{ outputMode: 'perReward' },
				);
				const perReward = again.json('Node');
				expect(perReward).toHaveLength(23);
				expect(perReward.every((r) => r.replayed === true)).toBe(true);
				// A replayed evaluation answers with the same notices (the first run may have died before its
				// emails went; their messageKey lets the message log send each once).
				const replayed = await evaluate(
					credential,
					ids.slice(0, 3).map((referralId) => ({ referralId })),
				);
				const noticeKeys = (o: Json) => (o.notices as Json[]).map((n) => [n.messageKey, n.lines]);
				expect(replayed.json('Node').map(noticeKeys)).toEqual(out.slice(0, 3).map(noticeKeys));
				expect(await ledger.pointsBalance({ programId: 'default', participantId: ann })).toBe(1000);

				const list = await run(
					credential,
					{
						operation: 'listRewards',
						listFor: 'participant',
						participantBy: 'email',
						participantField: 'email',
						status: '',
						limit: 100,
					},
					[{ email: 'ann@example.com' }],
				);
				expect(list.json('Node')).toHaveLength(13);
				const history = await run(
					credential,
					{
						resource: 'points',
						operation: 'pointsHistory',
						participantBy: 'email',
						participantField: 'email',
						limit: 5,
					},
					[{ email: 'ann@example.com' }],
				);
				expect(history.json('Node')[0]).toMatchObject({ points: 1000 });
				expect(history.json('Node')[0].history).toHaveLength(5);

				const redeem = await run(
					credential,
					{
						resource: 'points',
						operation: 'redeemPoints',
						participantBy: 'email',
						participantField: 'email',
						points: 300,
						referenceField: 'orderId',
					},
					[
						{ email: 'ann@example.com', orderId: 'shop-1' },
						{ email: 'ann@example.com', orderId: 'shop-1' },
					],
				);
				expect(redeem.json('Node').map((j) => j.redemption)).toMatchObject([
					{ balance: 700, replayed: false },
					{ balance: 700, replayed: true },
				]);

				const fulfil = await run(
					credential,
					{ operation: 'markFulfilled', rewardIdField: 'id', referenceField: '' },
					[{ id: coupon.id }],
				);
				expect(fulfil.json('Node')[0]).toMatchObject({ id: coupon.id, status: 'fulfilled' });

				// Read Inputs From › Values (#19): the reference and the reward ID are the values
				// themselves (dots and @ are not a path, a number stays a number); empty names the parameter.
				const redeemValues = await run(
					credential,
					{
						resource: 'points',
						operation: 'redeemPoints',
						inputSource: 'values',
						participantBy: 'email',
						participantValue: 'ann@example.com',
						points: 300,
						reference: 'order.2@shop',
					},
					[{ orderId: 'shop-1' }, { orderId: 'shop-1' }],
				);
				expect(redeemValues.json('Node').map((j) => j.redemption)).toMatchObject([
					{ balance: 400, replayed: false, reference: 'order.2@shop' },
					{ balance: 400, replayed: true, reference: 'order.2@shop' },
				]);
				const noReference = await run(
					credential,
					{
						resource: 'points',
						operation: 'redeemPoints',
						inputSource: 'values',
						participantBy: 'email',
						participantValue: 'ann@example.com',
						points: 300,
						reference: '={{ $json.missing }}',
					},
					[{ orderId: 'shop-1' }],
				);
				expect(noReference.error('Node')?.message).toContain(
					'Reference is empty: pass what the points pay for',
				);
				const fulfilValues = await run(
					credential,
					{
						operation: 'markFulfilled',
						inputSource: 'values',
						rewardId: `={{ ${String(referee3.id)} }}`,
						reference: 'payout.7@bank',
					},
					[{ id: coupon.id }],
				);
				expect(fulfilValues.json('Node')[0]).toMatchObject({
					id: referee3.id,
					status: 'fulfilled',
				});
				const noRewardId = await run(
					credential,
					{ operation: 'markFulfilled', inputSource: 'values', rewardId: '={{ $json.missing }}' },
					[{ id: coupon.id }],
				);
				expect(noRewardId.error('Node')?.message).toContain(
					'Reward ID is empty: pass the reward ID',
				);
			} finally {
				await cleanup();
			}
		});

		it('refuses bad rules at configuration time, naming the rule and the form field', async () => {
			const { credential, cleanup } = await open();
			try {
				const ledger = await ledgerOf(credential);
				const id = await qualify(ledger, await referrer(ledger));
				const bad = async (form: Json) => {
					const result = await evaluate(credential, [{ referralId: id }], {
						...SAMPLE_FORM,
						...form,
					});
					const error = result.error('Node');
					expect(error).toBeDefined();
					return error!;
				};
				const negative = await bad({
					perReferral: {
						rewards: [
							{
								side: 'referrer',
								on: 'referral_qualified',
								kind: 'cash',
								amount: -5,
								currency: '',
								id: 'cashback',
							},
						],
					},
				});
				expect(negative.message).toContain('Rule "cashback"');
				expect(negative.description).toContain('Amount');
				const overlap = await bad({
					levels: {
						level: [
							{ award: 'tier', metric: 'points', min: 100, name: 'Silver' },
							{ award: 'tier', metric: 'points', min: 100, name: 'Gold' },
						],
					},
				});
				expect(overlap.message).toMatch(/both start at 100/);
				const zeroCap = await bad({ caps: { cap: [{ limit: 'count', max: 0, period: 'day' }] } });
				expect(zeroCap.message).toContain('maxCount is 0');
				expect(zeroCap.description).toContain('Maximum');
				expect(await ledger.listRewards({ programId: 'default' })).toEqual([]);
			} finally {
				await cleanup();
			}
		});

		it('caps a referrer at the edge, holds rewards across the due time, approves once', async () => {
			const { credential, cleanup } = await open();
			try {
				const ledger = await ledgerOf(credential);
				const ann = await referrer(ledger);
				const form = {
					perReferral: {
						rewards: [
							{
								side: 'referrer',
								on: 'referral_qualified',
								kind: 'points',
								points: 100,
								id: 'pts',
							},
						],
					},
					caps: { cap: [{ limit: 'value', max: 200, unit: 'points', period: 'lifetime' }] },
					programOptions: { holdingDays: 14 },
				};
				const due = await qualify(ledger, ann, Date.now() - 15 * DAY);
				const notYet = await qualify(ledger, ann, Date.now() - 13 * DAY);
				const capped = await qualify(ledger, ann, Date.now() - 12 * DAY);
				const out = (
					await evaluate(
						credential,
						[{ referralId: due }, { referralId: notYet }, { referralId: capped }],
						form,
					)
				).json('Node');
				expect(out.map((o) => (o.rewards as Json[]).map((r) => r.status))).toEqual([
					['pending'],
					['pending'],
					[],
				]);
				expect(out[2].skipped).toMatchObject([
					{ rule: 'pts', reason: 'cap_reached', capId: 'cap-1' },
				]);

				const approve = async () =>
					(await run(credential, { operation: 'approveDue', approveLimit: 1000 }, [{}])).json(
						'Node',
					);
				const approved = await approve();
				expect(approved).toHaveLength(1);
				expect(approved[0]).toMatchObject({ referralId: due, status: 'approved', points: 100 });
				expect(await approve()).toEqual([]);
				expect(await ledger.pointsBalance({ programId: 'default', participantId: ann })).toBe(100);
			} finally {
				await cleanup();
			}
		});

		it('reverses by order ID: pending rewards without claw-back, approved points with claw-back', async () => {
			const { credential, cleanup } = await open();
			try {
				const ledger = await ledgerOf(credential);
				const ann = await referrer(ledger);
				const paid = await qualify(ledger, ann, Date.now(), 'refund-me');
				await evaluate(credential, [{ referralId: paid }]);
				const held = await qualify(ledger, ann, Date.now(), 'refund-held');
				const heldOut = (
					await evaluate(credential, [{ referralId: held }], {
						...SAMPLE_FORM,
						programOptions: { currency: 'EUR', holdingDays: 14 },
					})
				).json('Node')[0];
				expect(await ledger.pointsBalance({ programId: 'default', participantId: ann })).toBe(100);
				// Rewards never go without their referral: while it stands, Reverse refuses and changes nothing.
				const [standing] = (
					await run(
						credential,
						{ operation: 'reverse', referralBy: 'orderId', referralField: 'orderId' },
						[{ orderId: 'refund-me' }],
						true,
					)
				).json('Node');
				expect(standing.error).toMatchObject({ code: 'referral_not_reversed' });
				expect(await ledger.pointsBalance({ programId: 'default', participantId: ann })).toBe(100);
				// Referrals reversed with their rewards left behind (as an older version could): Reverse finishes the job.
				for (const id of [paid, held]) {
					const { status } = (await ledger.getReferral({ programId: 'default', id }))!;
					await ledger.transitionReferral({
						programId: 'default',
						referralId: id,
						from: status,
						to: 'reversed',
					});
				}

				const reverse = await run(
					credential,
					{
						operation: 'reverse',
						referralBy: 'orderId',
						referralField: 'orderId',
						negativeBalancePolicy: 'clamp_at_zero',
					},
					[{ orderId: 'refund-me' }, { orderId: 'refund-held' }, { orderId: 'nope' }],
					true,
				);
				const [a, b, c] = reverse.json('Node');
				expect((a.reversed as number[]).length).toBe(2);
				expect(a.clawedBack).toMatchObject([{ recipientId: ann, points: -100 }, { points: -50 }]);
				expect(b.reversed).toEqual((heldOut.rewards as Json[]).map((r) => r.id));
				expect(b.clawedBack).toEqual([]);
				expect(c.error).toMatchObject({ code: 'unknown_referral', parameter: 'Referral Field' });
				expect(await ledger.pointsBalance({ programId: 'default', participantId: ann })).toBe(0);
			} finally {
				await cleanup();
			}
		});

		it('takes coupons from a pool until it runs out, with the low-stock and empty events', async () => {
			const { credential, cleanup } = await open();
			try {
				const ledger = await ledgerOf(credential);
				const ann = await referrer(ledger);
				await ledger.loadCoupons({
					programId: 'default',
					pool: 'welcome',
					codes: ['WELCOME-1', 'WELCOME-2'],
				});
				const form = {
					perReferral: {
						rewards: [
							{
								side: 'referee',
								on: 'referral_qualified',
								kind: 'coupon',
								amountType: 'percentOff',
								percentOff: 10,
								currency: '',
								couponSource: 'pool',
								couponPoolId: 'welcome',
								couponValidDays: 0,
								id: 'welcome-coupon',
							},
						],
					},
					programOptions: { lowStockThreshold: 2 },
				};
				const ids = [
					await qualify(ledger, ann),
					await qualify(ledger, ann),
					await qualify(ledger, ann),
				];
				const out = (
					await evaluate(
						credential,
						ids.map((referralId) => ({ referralId })),
						form,
					)
				).json('Node');
				expect(
					out.map(
						(o) => ((o.rewards as Json[])[0]?.code as string) ?? (o.skipped as Json[])[0].reason,
					),
				).toEqual(['WELCOME-1', 'WELCOME-2', 'coupon_pool_empty']);
				const events = await ledger.readEvents({
					afterId: 0,
					types: ['coupon.pool_low', 'coupon.pool_empty'],
				});
				expect(events.events.map((e) => e.type)).toEqual(['coupon.pool_low', 'coupon.pool_empty']);
			} finally {
				await cleanup();
			}
		});

		it('8 concurrent executions awarding the same milestone write exactly one award', async () => {
			const { credential, cleanup } = await open();
			try {
				const ledger = await ledgerOf(credential);
				const ann = await referrer(ledger);
				const ids: number[] = [];
				for (let i = 0; i < 3; i++)
					ids.push(await qualify(ledger, ann, Date.now() - (3 - i) * 1000));
				const runs = await Promise.all(
					Array.from({ length: 8 }, () => evaluate(credential, [{ referralId: ids[2] }])),
				);
				const coupons = runs.map(
					(r) => (r.json('Node')[0].rewards as Json[]).find((x) => x.kind === 'coupon') as Json,
				);
				expect(new Set(coupons.map((c) => c.id)).size).toBe(1);
				expect(new Set(coupons.map((c) => c.code)).size).toBe(1);
				expect(coupons.filter((c) => c.replayed === false).length).toBeLessThanOrEqual(1);
				expect(await ledger.listRewards({ programId: 'default', kind: 'coupon' })).toHaveLength(1);
				expect(await ledger.pointsBalance({ programId: 'default', participantId: ann })).toBe(100);
			} finally {
				await cleanup();
			}
		});
	});
}
