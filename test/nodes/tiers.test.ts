/* Issue #13 defect 4 ("Tiers and badges never come down"), through the nodes on SQLite and
 * PostgreSQL: 100 points reached Silver, a refund took the points to 0 and the participant stayed
 * Silver. Now each level (and milestone badge or tier) says what happens below its minimum: Demote
 * (default) or Keep. A refund through the Referral node takes a demoted badge or tier away in its own
 * ledger transaction, holds the lower tier still reached instead, emits tier.lost / badge.lost (the
 * Referral Trigger starts on them) and lists them as `demoted`; its replays answer the same. */
import type { IDataObject, IPollFunctions } from 'n8n-workflow';
import { afterAll, describe, expect, it } from 'vitest';
import { closeAllLedgers, openLedger } from '../../engine/ledger';
import { ReferralTrigger } from '../../nodes/ReferralTrigger/ReferralTrigger.node';
import { ledgerConfigFromCredential } from '../../nodes/shared/ledger';
import { ledgerNodeBackends, pgTestUrl, runLedgerNode } from './ledgerBackends';

afterAll(async () => {
	await closeAllLedgers();
});

type Credential = Record<string, unknown>;
type Json = Record<string, any>;

/** 60 points per qualified referral, 60 more for an order of 100 or more; Bronze 60, Silver 120, Gold 180 (badge and tier). */
const form = (gold: Record<string, unknown> = {}, extra: IDataObject = {}) => ({
	perReferral: {
		rewards: [
			{ side: 'referrer', on: 'referral_qualified', kind: 'points', points: 60, id: 'base' },
			{
				side: 'referrer',
				on: 'referral_qualified',
				kind: 'points',
				points: 60,
				id: 'big-order',
				minOrderAmount: 100,
			},
		],
	},
	levels: {
		level: [
			{ award: 'both', metric: 'points', min: 60, name: 'Bronze' },
			{ award: 'both', metric: 'points', min: 120, name: 'Silver' },
			{ award: 'both', metric: 'points', min: 180, name: 'Gold', ...gold },
		],
	},
	programOptions: { currency: 'EUR', holdingDays: 0 },
	...extra,
});

function pollContext(
	credential: Credential,
	parameters: IDataObject,
	staticData: IDataObject,
): IPollFunctions {
	return {
		getNodeParameter: (name: string, fallback?: unknown) =>
			name in parameters ? parameters[name] : fallback,
		getWorkflowStaticData: () => staticData,
		getMode: () => 'trigger',
		getNode: () => ({
			name: 'Referral Trigger',
			credentials: { referralLedgerApi: { id: '1', name: 'Ledger' } },
		}),
		getCredentials: async () => credential,
		helpers: { returnJsonArray: (items: IDataObject[]) => items.map((json) => ({ json })) },
	} as unknown as IPollFunctions;
}

const backends = ledgerNodeBackends('tiers');

for (const [name, open] of backends) {
	describe.skipIf(name === 'PostgreSQL' && !pgTestUrl())(
		`tiers and badges come down on ${name}`,
		() => {
			const node = async (
				credential: Credential,
				type: string,
				parameters: IDataObject,
				items: Json[],
			) => runLedgerNode(credential, type, parameters, items);
			const referral = (credential: Credential, parameters: IDataObject, items: Json[]) =>
				node(credential, 'referral', parameters, items);
			const refund = async (credential: Credential, orderId: string) =>
				(
					await referral(
						credential,
						{ resource: 'referral', operation: 'reverse', reverseBy: 'orderId', refundFields: {} },
						[{ orderId }],
					)
				)[0];
			const status = async (credential: Credential) =>
				(
					await node(
						credential,
						'referralReward',
						{ operation: 'getStatus', participantBy: 'email', participantField: 'email' },
						[{ email: 'ana@example.com' }],
					)
				)[0];

			/**
			 * 180 points (Gold) brought to 120 by `answer`: Gold (badge and tier) lost with Silver held
			 * instead, the standing and the trigger's two events say so, and five replays at once answer
			 * the same (returned) and write nothing.
			 */
			const expectGoldLostSilverHeld = async (
				credential: Credential,
				anaId: number,
				answer: Json,
				replay: () => Promise<Json>,
				poll: () => Promise<unknown>,
			) => {
				expect(answer.demoted).toEqual([
					expect.objectContaining({
						participantId: anaId,
						kind: 'badge',
						name: 'Gold',
						metric: 'points',
						value: 120,
						min: 180,
					}),
					expect.objectContaining({
						participantId: anaId,
						kind: 'tier',
						name: 'Gold',
						metric: 'points',
						value: 120,
						min: 180,
						heldInstead: 'Silver',
					}),
				]);
				expect(await status(credential)).toMatchObject({
					points: 120,
					tier: 'Silver',
					badges: ['Bronze', 'Silver'],
				});
				const lost = (await poll()) as Array<Array<{ json: Json }>> | null;
				expect(lost![0].map((i) => i.json)).toEqual([
					expect.objectContaining({
						type: 'badge.lost',
						program: 'shop',
						participantId: anaId,
						badge: 'Gold',
						value: 120,
						min: 180,
					}),
					expect.objectContaining({
						type: 'tier.lost',
						program: 'shop',
						participantId: anaId,
						tier: 'Gold',
						now: 'Silver',
						value: 120,
						min: 180,
					}),
				]);
				const strip = ({ replayed: _r, ...rest }: Json) => rest;
				const replays = await Promise.all(Array.from({ length: 5 }, replay));
				for (const again of replays) expect(strip(again)).toEqual(strip(answer));
				expect(await status(credential)).toMatchObject({
					points: 120,
					tier: 'Silver',
					badges: ['Bronze', 'Silver'],
				});
				expect(await poll()).toBeNull();
				return replays;
			};

			/** Ana, and a helper that lets a friend's order qualify and evaluates it with the program form. */
			const world = async (credential: Credential, program: IDataObject) => {
				await referral(credential, { resource: 'program', operation: 'save' }, [{}]);
				const [ana] = await referral(credential, { resource: 'participant', operation: 'enrol' }, [
					{ email: 'ana@example.com' },
				]);
				const order = async (friend: string, orderId: string, amount: number) => {
					const [enrolled] = await referral(
						credential,
						{ resource: 'participant', operation: 'enrol' },
						[{ email: friend, referralCode: ana.participant.code }],
					);
					const [qualified] = await referral(
						credential,
						{ resource: 'referral', operation: 'qualify' },
						[{ email: friend, orderId, amount, currency: 'EUR' }],
					);
					expect(qualified).toMatchObject({ qualified: true });
					const [evaluated] = await node(
						credential,
						'referralReward',
						{
							operation: 'evaluate',
							referralBy: 'id',
							referralField: 'referralId',
							outputMode: 'perReferral',
							...program,
						},
						[{ referralId: enrolled.referral.id }],
					);
					expect(evaluated.error).toBeUndefined();
					return evaluated;
				};
				return { anaId: ana.participant.id as number, order };
			};

			it('Demote: at each threshold (above, exactly at, just below) a refund takes the tier and badges away, holds the lower tier still reached, emits tier.lost and badge.lost; replays answer the same; reached again, they are awarded again', async () => {
				const { credential, cleanup } = await open();
				try {
					const { anaId, order } = await world(credential, form());
					const ledger = await openLedger(ledgerConfigFromCredential(credential as never));
					const trigger = new ReferralTrigger();
					const cursor: IDataObject = {};
					const triggerParams = {
						events: ['tier.lost', 'badge.lost', 'badge.earned'],
						program: 'shop',
						maxEvents: 100,
					};
					expect(
						await trigger.poll.call(pollContext(credential, triggerParams, cursor)),
					).toBeNull();

					await order('b1@example.org', 'R1', 50); // 60: exactly Bronze
					await order('b2@example.org', 'R2', 100); // 180: exactly Gold (Silver's tier skipped)
					await order('b3@example.org', 'R3', 50); // 240: above Gold
					expect(await status(credential)).toMatchObject({
						points: 240,
						tier: 'Gold',
						badges: ['Bronze', 'Silver', 'Gold'],
					});
					const earned = await trigger.poll.call(pollContext(credential, triggerParams, cursor));
					expect(earned![0].map((i) => [i.json.type, i.json.badge])).toEqual([
						['badge.earned', 'Bronze'],
						['badge.earned', 'Silver'],
						['badge.earned', 'Gold'],
					]);

					// Above → exactly at Gold: nothing lost.
					const r3 = await refund(credential, 'R3');
					expect(r3).toMatchObject({ outcome: 'reversed', demoted: [] });
					expect(await status(credential)).toMatchObject({
						points: 180,
						tier: 'Gold',
						badges: ['Bronze', 'Silver', 'Gold'],
					});

					// Exactly at Gold → 120, just below it and exactly at Silver: Gold goes, Silver (never held as a tier) is held instead.
					const r1 = await refund(credential, 'R1');
					expect(r1.outcome).toBe('reversed');
					await expectGoldLostSilverHeld(
						credential,
						anaId,
						r1,
						() => refund(credential, 'R1'),
						() => trigger.poll.call(pollContext(credential, triggerParams, cursor)),
					);

					// 120 → 0: just below Bronze: every tier and badge goes.
					const r2 = await refund(credential, 'R2');
					expect(r2.demoted.map((d: Json) => [d.kind, d.name]).sort()).toEqual([
						['badge', 'Bronze'],
						['badge', 'Silver'],
						['tier', 'Bronze'],
						['tier', 'Silver'],
					]);
					expect(await status(credential)).toMatchObject({ points: 0, tier: null, badges: [] });

					// Reached again: awarded again (new awards, not the lost ones).
					await order('b4@example.org', 'R4', 100); // 120: exactly Silver
					expect(await status(credential)).toMatchObject({
						points: 120,
						tier: 'Silver',
						badges: ['Bronze', 'Silver'],
					});
					const tiers = await ledger.listRewards({
						programId: 'shop',
						recipientId: anaId,
						kind: 'tier',
					});
					expect(tiers.map((t) => [t.metadata.tier, t.status])).toEqual([
						['Bronze', 'reversed'],
						['Gold', 'reversed'],
						['Silver', 'reversed'],
						['Silver', 'approved'],
					]);
				} finally {
					await cleanup();
				}
			}, 240_000);

			it('Keep: a level set to Keep Once Reached stays after the refund, a Demote level below it goes', async () => {
				const { credential, cleanup } = await open();
				try {
					const { order } = await world(credential, form({ whenBelowMinimum: 'keep' }));
					await order('c1@example.org', 'K1', 50); // 60 Bronze
					await order('c2@example.org', 'K2', 100); // 180 Gold
					expect(await status(credential)).toMatchObject({
						points: 180,
						tier: 'Gold',
						badges: ['Bronze', 'Silver', 'Gold'],
					});
					const k2 = await refund(credential, 'K2'); // 60: below Gold (kept) and Silver (demoted)
					expect(k2.demoted).toEqual([
						expect.objectContaining({ kind: 'badge', name: 'Silver', value: 60, min: 120 }),
					]);
					expect(await status(credential)).toMatchObject({
						points: 60,
						tier: 'Gold',
						badges: ['Bronze', 'Gold'],
					});
				} finally {
					await cleanup();
				}
			}, 240_000);

			/** A referral reversed with its rewards left behind (as an older version could), then the Referral Reward node's Reverse. */
			const rewardReverse = async (credential: Credential, orderId: string) => {
				const ledger = await openLedger(ledgerConfigFromCredential(credential as never));
				const found = (await ledger.findReferralByOrderId({ programId: 'shop', orderId }))!;
				if (found.status !== 'reversed')
					await ledger.transitionReferral({
						programId: 'shop',
						referralId: found.id,
						from: found.status,
						to: 'reversed',
					});
				return (
					await node(
						credential,
						'referralReward',
						{ operation: 'reverse', referralBy: 'orderId', referralField: 'orderId' },
						[{ orderId }],
					)
				)[0];
			};

			it('Referral Reward › Reverse applies the same rule: points clawed back below a tier minimum demote it in the same transaction, hold the lower tier, emit tier.lost and badge.lost; replays answer the same', async () => {
				const { credential, cleanup } = await open();
				try {
					const { anaId, order } = await world(credential, form());
					const trigger = new ReferralTrigger();
					const cursor: IDataObject = {};
					const triggerParams = {
						events: ['tier.lost', 'badge.lost'],
						program: 'shop',
						maxEvents: 100,
					};
					expect(
						await trigger.poll.call(pollContext(credential, triggerParams, cursor)),
					).toBeNull();
					await order('e1@example.org', 'V1', 50); // 60: exactly Bronze
					await order('e2@example.org', 'V2', 100); // 180: exactly Gold
					await order('e3@example.org', 'V3', 50); // 240: above Gold
					expect(await status(credential)).toMatchObject({
						points: 240,
						tier: 'Gold',
						badges: ['Bronze', 'Silver', 'Gold'],
					});

					// Above → exactly at Gold: points clawed back, nothing lost.
					const v3 = await rewardReverse(credential, 'V3');
					expect(v3.error).toBeUndefined();
					expect(v3).toMatchObject({
						clawedBack: [expect.objectContaining({ recipientId: anaId, points: -60 })],
						demoted: [],
					});
					expect(await status(credential)).toMatchObject({
						points: 180,
						tier: 'Gold',
						badges: ['Bronze', 'Silver', 'Gold'],
					});

					// Exactly at Gold → 120 (just below Gold, exactly Silver): Gold goes, Silver is held instead.
					const v1 = await rewardReverse(credential, 'V1');
					expect(v1.clawedBack).toEqual([
						expect.objectContaining({ recipientId: anaId, points: -60 }),
					]);
					expect(v1.replayed).toBe(false);
					const replays = await expectGoldLostSilverHeld(
						credential,
						anaId,
						v1,
						() => rewardReverse(credential, 'V1'),
						() => trigger.poll.call(pollContext(credential, triggerParams, cursor)),
					);
					for (const again of replays) expect(again.replayed).toBe(true);
				} finally {
					await cleanup();
				}
			}, 240_000);

			it('Referral Reward › Reverse with a Keep level: it stays, a Demote level below it goes', async () => {
				const { credential, cleanup } = await open();
				try {
					const { order } = await world(credential, form({ whenBelowMinimum: 'keep' }));
					await order('f1@example.org', 'W1', 50); // 60 Bronze
					await order('f2@example.org', 'W2', 100); // 180 Gold
					const w2 = await rewardReverse(credential, 'W2'); // 60: below Gold (kept) and Silver (demoted)
					expect(w2.error).toBeUndefined();
					expect(w2.demoted).toEqual([
						expect.objectContaining({ kind: 'badge', name: 'Silver', value: 60, min: 120 }),
					]);
					expect(await status(credential)).toMatchObject({
						points: 60,
						tier: 'Gold',
						badges: ['Bronze', 'Gold'],
					});
				} finally {
					await cleanup();
				}
			}, 240_000);

			it('milestone tiers and badges by qualified referrals: the refunded referral no longer counts; one still reached stays', async () => {
				const { credential, cleanup } = await open();
				try {
					const program = {
						perReferral: { rewards: [] },
						milestones: {
							milestone: [
								{ metric: 'qualified_referrals', threshold: 2, kind: 'tier', name: 'Ambassador' },
							],
						},
						levels: {
							level: [{ award: 'badge', metric: 'qualified_referrals', min: 1, name: 'Starter' }],
						},
						programOptions: { currency: 'EUR', holdingDays: 0 },
					};
					const { order } = await world(credential, program);
					await order('d1@example.org', 'M1', 20);
					await order('d2@example.org', 'M2', 20);
					expect(await status(credential)).toMatchObject({
						qualifiedReferrals: 2,
						tier: 'Ambassador',
						badges: ['Starter'],
					});
					const m2 = await refund(credential, 'M2'); // 1 qualified: just below 2, exactly at 1
					expect(m2.demoted).toEqual([
						expect.objectContaining({
							kind: 'tier',
							name: 'Ambassador',
							metric: 'qualified_referrals',
							value: 1,
							min: 2,
						}),
					]);
					expect(m2.demoted[0].heldInstead).toBeUndefined();
					expect(await status(credential)).toMatchObject({
						qualifiedReferrals: 1,
						tier: null,
						badges: ['Starter'],
					});
					const m1 = await refund(credential, 'M1');
					expect(m1.demoted).toEqual([
						expect.objectContaining({ kind: 'badge', name: 'Starter', value: 0, min: 1 }),
					]);
					expect(await status(credential)).toMatchObject({
						qualifiedReferrals: 0,
						tier: null,
						badges: [],
					});
				} finally {
					await cleanup();
				}
			}, 240_000);
		},
	);
}
