/* The reward service against a real ledger, on SQLite and PostgreSQL: every rule kind, caps at
 * their edges, holding periods across the due time, reversals, coupon pools, concurrency. */
import { afterAll, describe, expect, it } from 'vitest';
import { EngineError } from '../../../engine/shared/errors';
import { type LedgerStore, openPostgresLedger, openSqliteLedger } from '../../../engine/ledger';
import { RewardService } from '../../../engine/rewards/evaluate';
import { sampleRewardProgram as sampleProgram } from '../../fixtures/sampleRewardProgram';
import type { RewardProgramConfig } from '../../../engine/rewards/program';
import {
	dropSchema,
	IN_CI,
	PG_URL,
	pgAvailability,
	pgConfig,
	randomSchema,
	tempDir,
} from '../../support/databases';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 2, 2, 10, 0, 0); // a Monday, 10:00 UTC

const { available, problem } = pgAvailability();
const opened: LedgerStore[] = [];
const schemas: string[] = [];
const dirs: Array<() => void> = [];

afterAll(async () => {
	await Promise.all(opened.map((l) => l.close()));
	if (available && schemas.length) await Promise.all(schemas.map(dropSchema));
	for (const remove of dirs) remove();
});

interface Clock {
	at: number;
}

type Open = (clock: Clock) => Promise<LedgerStore>;

const backends: Array<[string, Open]> = [
	[
		'SQLite',
		async (clock) => {
			const { dir, remove } = tempDir();
			dirs.push(remove);
			const ledger = await openSqliteLedger(
				{ backend: 'sqlite', path: `${dir}/ledger.sqlite` },
				{ now: () => clock.at },
			);
			opened.push(ledger);
			return ledger;
		},
	],
	[
		'PostgreSQL',
		async (clock) => {
			const schema = randomSchema('rewards_test');
			schemas.push(schema);
			const ledger = await openPostgresLedger(pgConfig(schema), { now: () => clock.at });
			opened.push(ledger);
			return ledger;
		},
	],
];

class World {
	constructor(
		readonly ledger: LedgerStore,
		readonly clock: Clock,
		readonly programId = 'default',
	) {}

	private n = 0;

	async referrer(email = 'ann@example.com'): Promise<number> {
		await this.ledger.ensureProgram({ id: this.programId });
		return (await this.ledger.enrolParticipant({ programId: this.programId, email })).participant
			.id;
	}

	/** A referee who signs up through the referrer and qualifies at `qualifiedAt` (default: the clock). */
	async qualified(
		referrerId: number,
		options: { qualifiedAt?: number; amount?: number; currency?: string } = {},
	): Promise<number> {
		const referralId = await this.signedUp(referrerId);
		await this.ledger.qualifyReferral({
			programId: this.programId,
			referralId,
			orderId: `order-${referralId}`,
			amount: options.amount ?? 80,
			currency: options.currency ?? 'EUR',
			occurredAt: options.qualifiedAt ?? this.clock.at,
			fromStatuses: ['pending'],
		});
		return referralId;
	}

	async signedUp(referrerId: number): Promise<number> {
		this.n += 1;
		const referee = await this.ledger.enrolParticipant({
			programId: this.programId,
			email: `referee${this.n}-${referrerId}@example.com`,
		});
		const { referral } = await this.ledger.recordReferral({
			programId: this.programId,
			referrerId,
			refereeId: referee.participant.id,
			touchedAt: this.clock.at,
			status: 'pending',
		});
		return referral.id;
	}
}

for (const [name, open] of backends) {
	describe.skipIf(name === 'PostgreSQL' && !available && !IN_CI)(
		`reward service on ${name}`,
		() => {
			if (name === 'PostgreSQL' && !available) {
				it('reaches PostgreSQL (required under CI=true)', () => {
					throw new Error(`PostgreSQL is unreachable at ${PG_URL}: ${problem}`);
				});
				return;
			}

			const setup = async () => {
				const clock = { at: T0 };
				const ledger = await open(clock);
				return { clock, ledger, world: new World(ledger, clock) };
			};

			it('runs the sample program: points both sides, a coupon at 3, Gold tier and badge at 10, exactly once on replay', async () => {
				const { clock, ledger, world } = await setup();
				const service = new RewardService(ledger, sampleProgram(), { now: () => clock.at });
				const ann = await world.referrer();
				const results = [];
				for (let i = 0; i < 10; i++) {
					const referralId = await world.qualified(ann, { qualifiedAt: T0 + i * 1000 });
					results.push(await service.evaluateReferral(referralId));
				}
				expect(
					results[0].rewards.map((r) => [r.recipient, r.kind, r.points, r.rule, r.status]),
				).toEqual([
					['referrer', 'points', 100, 'referrer-points', 'approved'],
					['referee', 'points', 50, 'referee-points', 'approved'],
				]);
				expect(results[0].rewards[1].email).toBe(`referee1-${ann}@example.com`);
				const coupon = results[2].rewards.find((r) => r.kind === 'coupon')!;
				expect(coupon).toMatchObject({
					recipient: 'referrer',
					amount: 20,
					currency: 'EUR',
					rule: 'milestones',
					status: 'approved',
				});
				expect(coupon.code).toMatch(/^THANKS-[2-9A-Z]{10}$/);
				expect(coupon.coupon).toMatchObject({
					stripe: { type: 'fixedAmount', amountOff: 2000, currency: 'eur' },
					shopify: { code: coupon.code, amount: '20.00' },
				});
				expect(coupon.earnedBy!.referralIds).toEqual(
					results.slice(0, 3).map((r) => String(r.referralId)),
				);
				expect(new Date(coupon.coupon!.expiresAt!).getTime()).toBe(T0 + 2000 + 90 * DAY);
				expect(results[9].rewards.map((r) => r.kind).sort()).toEqual([
					'badge',
					'points',
					'points',
					'tier',
				]);
				for (const i of [0, 1, 3, 4, 5, 6, 7, 8])
					expect(results[i].rewards.some((r) => r.kind === 'coupon' || r.kind === 'tier')).toBe(
						false,
					);

				const status = await service.status(ann);
				expect(status).toMatchObject({
					points: 1000,
					tier: 'Gold',
					badges: ['Gold'],
					qualifiedReferrals: 10,
				});

				// A replay of every evaluation (n8n retry, duplicate webhook) writes nothing new.
				for (const r of results) {
					const again = await service.evaluateReferral(r.referralId);
					expect(again.rewards.every((x) => x.replayed)).toBe(true);
					expect(again.rewards.map((x) => x.id)).toEqual(r.rewards.map((x) => x.id));
				}
				expect(await ledger.pointsBalance({ programId: 'default', participantId: ann })).toBe(1000);
				expect(
					(await ledger.listRewards({ programId: 'default', recipientId: ann, limit: 1000 }))
						.length,
				).toBe(13);
				const events = await ledger.readEvents({
					afterId: 0,
					types: ['tier.reached', 'badge.earned'],
				});
				expect(events.events.map((e) => e.type).sort()).toEqual(['badge.earned', 'tier.reached']);
			});

			it('awards a milestone to the Nth referral to qualify, even when evaluated late or out of order', async () => {
				const { ledger, world } = await setup();
				const service = new RewardService(ledger, sampleProgram());
				const ann = await world.referrer();
				const ids: number[] = [];
				for (let i = 0; i < 4; i++)
					ids.push(await world.qualified(ann, { qualifiedAt: T0 + i * 1000 }));
				// Evaluated last to first: the third to qualify still earns the coupon, no one else does.
				const results = [];
				for (const id of [...ids].reverse()) results.push(await service.evaluateReferral(id));
				const couponHolders = results
					.filter((r) => r.rewards.some((x) => x.kind === 'coupon'))
					.map((r) => r.referralId);
				expect(couponHolders).toEqual([ids[2]]);
			});

			it('gives referee sign-up rewards at sign-up and not again at qualification; custom and cash rewards', async () => {
				const { ledger, world } = await setup();
				const service = new RewardService(ledger, {
					programId: 'default',
					currency: 'USD',
					rules: [
						{
							id: 'welcome',
							type: 'per_referral',
							side: 'referee',
							on: 'referee_signup',
							reward: { kind: 'custom', customType: 'free_month', customValue: '1' },
						},
						{
							id: 'cash-back',
							type: 'per_referral',
							side: 'referrer',
							on: 'referral_qualified',
							reward: { kind: 'cash', percentOfOrder: 10 },
							minOrderAmount: 50,
						},
					],
				});
				const ann = await world.referrer();
				const referralId = await world.signedUp(ann);
				const atSignup = await service.evaluateReferral(referralId);
				expect(atSignup.events).toEqual(['referee_signup']);
				expect(atSignup.rewards).toMatchObject([
					{
						recipient: 'referee',
						kind: 'custom',
						customType: 'free_month',
						customValue: '1',
						replayed: false,
					},
				]);
				await ledger.qualifyReferral({
					programId: 'default',
					referralId,
					orderId: 'o-big',
					amount: 123.45,
					currency: 'USD',
					fromStatuses: ['pending'],
				});
				const atQualify = await service.evaluateReferral(referralId);
				expect(atQualify.events).toEqual(['referee_signup', 'referral_qualified']);
				expect(atQualify.rewards.map((r) => [r.kind, r.amount, r.currency, r.replayed])).toEqual([
					['custom', undefined, undefined, true],
					['cash', 12.35, 'USD', false],
				]);
				const small = await world.qualified(ann, { amount: 49.99, currency: 'USD' });
				expect((await service.evaluateReferral(small)).skipped).toMatchObject([
					{ rule: 'cash-back', reason: 'below_min_order' },
				]);
			});

			it('reads referred revenue for revenue milestones and lifetime points for point levels', async () => {
				const { ledger, world } = await setup();
				const service = new RewardService(ledger, {
					programId: 'default',
					currency: 'EUR',
					rules: [
						{
							id: 'pts',
							type: 'per_referral',
							side: 'referrer',
							on: 'referral_qualified',
							reward: { kind: 'points', points: 100 },
						},
						{
							id: 'revenue',
							type: 'milestone',
							metric: 'referred_revenue',
							milestones: [{ threshold: 100, reward: { kind: 'cash', amount: 10 } }],
						},
						{
							id: 'silver',
							type: 'status',
							award: 'badge',
							metric: 'points',
							levels: [{ name: 'Silver', min: 200 }],
						},
					],
				});
				const ann = await world.referrer();
				const first = await world.qualified(ann, { amount: 60, qualifiedAt: T0 });
				const usd = await world.qualified(ann, {
					amount: 500,
					currency: 'USD',
					qualifiedAt: T0 + 1,
				});
				const second = await world.qualified(ann, { amount: 50, qualifiedAt: T0 + 2 });
				const kinds = async (id: number) =>
					(await service.evaluateReferral(id)).rewards.map((r) => `${r.rule}:${r.kind}`);
				expect(await kinds(first)).toEqual(['pts:points']);
				// 500 USD moves no EUR threshold; it is the second referral, so 200 points earn Silver.
				expect(await kinds(usd)).toEqual(['pts:points', 'silver:badge']);
				expect(await kinds(second)).toEqual(['pts:points', 'revenue:cash']);
				expect(await kinds(second)).toEqual(['pts:points', 'revenue:cash']);
			});

			it("reads orders from the ledger's conversions, so pruning the outbox changes no revenue milestone", async () => {
				const { ledger, world, clock } = await setup();
				const program: RewardProgramConfig = {
					programId: 'default',
					currency: 'EUR',
					rules: [
						{
							id: 'revenue',
							type: 'milestone',
							metric: 'referred_revenue',
							milestones: [{ threshold: 100, reward: { kind: 'cash', amount: 10 } }],
						},
						{
							id: 'big-order',
							type: 'per_referral',
							side: 'referee',
							on: 'referral_qualified',
							minOrderAmount: 55,
							reward: { kind: 'points', points: 5 },
						},
					],
				};
				const ann = await world.referrer();
				const first = await world.qualified(ann, { amount: 60, qualifiedAt: T0 });
				const second = await world.qualified(ann, { amount: 50, qualifiedAt: T0 + 1 });
				expect(await ledger.pruneEvents({ before: clock.at + DAY })).toBeGreaterThan(0);
				const service = new RewardService(ledger, program);
				expect((await service.evaluateReferral(first)).rewards.map((r) => r.rule)).toEqual([
					'big-order',
				]);
				expect(
					(await service.evaluateReferral(second)).rewards.map((r) => `${r.rule}:${r.amount}`),
				).toEqual(['revenue:10']);
			});

			it('caps per day at the edge (count) and lifetime (value, equal is allowed)', async () => {
				const { ledger, world } = await setup();
				const service = new RewardService(ledger, {
					programId: 'default',
					rules: [
						{
							id: 'pts',
							type: 'per_referral',
							side: 'referrer',
							on: 'referral_qualified',
							reward: { kind: 'points', points: 100 },
						},
					],
					caps: [
						{ id: 'two-a-day', period: 'day', maxCount: 2 },
						{ id: 'lifetime-500', period: 'lifetime', maxValue: 500, unit: 'points' },
					],
				});
				const ann = await world.referrer();
				const day1 = [T0, T0 + 1000, Date.UTC(2026, 2, 2, 23, 59, 59, 999)];
				const outcome = async (at: number) => {
					const r = await service.evaluateReferral(await world.qualified(ann, { qualifiedAt: at }));
					return r.rewards.length ? 'awarded' : `${r.skipped[0].reason}:${r.skipped[0].capId}`;
				};
				const results = [];
				for (const at of day1) results.push(await outcome(at));
				expect(results).toEqual(['awarded', 'awarded', 'cap_reached:two-a-day']);
				// Midnight UTC starts a new day window.
				expect(await outcome(Date.UTC(2026, 2, 3, 0, 0, 0))).toBe('awarded');
				expect(await outcome(Date.UTC(2026, 2, 3, 1, 0, 0))).toBe('awarded');
				expect(await outcome(Date.UTC(2026, 2, 4, 1, 0, 0))).toBe('awarded'); // 500 of 500: the edge is allowed
				expect(await outcome(Date.UTC(2026, 2, 4, 2, 0, 0))).toBe('cap_reached:lifetime-500');
				expect(await ledger.pointsBalance({ programId: 'default', participantId: ann })).toBe(500);
				// A retry of an awarded evaluation does not count its own reward against the cap.
				const first = (await ledger.listReferrals({ programId: 'default', referrerId: ann }))[0];
				expect((await service.evaluateReferral(first.id)).rewards).toMatchObject([
					{ replayed: true },
				]);
			});

			it('holds rewards for the refund window and approves them when due, once', async () => {
				const { clock, ledger, world } = await setup();
				// holdingDays: 14 keeps rewards pending for a 14-day refund window.
				const service = new RewardService(ledger, sampleProgram('default', 14), {
					now: () => clock.at,
				});
				const ann = await world.referrer();
				const ids: number[] = [];
				for (let i = 0; i < 3; i++) ids.push(await world.qualified(ann, { qualifiedAt: T0 }));
				const results = [];
				for (const id of ids) results.push(await service.evaluateReferral(id));
				const coupon = results[2].rewards.find((r) => r.kind === 'coupon')!;
				expect(coupon.status).toBe('pending');
				expect(coupon.code).toBeUndefined(); // not shown before the refund window closes
				expect(results[0].rewards[0]).toMatchObject({
					status: 'pending',
					holdUntil: new Date(T0 + 14 * DAY).toISOString(),
				});
				expect(await ledger.pointsBalance({ programId: 'default', participantId: ann })).toBe(0);

				expect(await service.approveDue({ now: T0 + 14 * DAY - 1 })).toEqual([]);
				const approved = await service.approveDue({ now: T0 + 14 * DAY });
				expect(approved).toHaveLength(7);
				expect(approved.every((r) => r.status === 'approved')).toBe(true);
				expect(approved.find((r) => r.kind === 'coupon')!.code).toMatch(/^THANKS-/);
				expect(await ledger.pointsBalance({ programId: 'default', participantId: ann })).toBe(300);
				expect(await service.approveDue({ now: T0 + 15 * DAY })).toEqual([]);
				expect(await ledger.pointsBalance({ programId: 'default', participantId: ann })).toBe(300);

				const fulfilled = await service.markFulfilled(
					approved.find((r) => r.kind === 'coupon')!.id,
					'email-1',
				);
				expect(fulfilled.status).toBe('fulfilled');
				expect((await service.markFulfilled(fulfilled.id)).replayed).toBe(true);
				await expect(service.markFulfilled(results[0].rewards[0].id + 1000)).rejects.toMatchObject({
					code: 'unknown_reward',
					field: 'rewardId',
				});
			});

			it('reverses pending rewards without claw-back and approved points with claw-back by policy', async () => {
				const { clock, ledger, world } = await setup();
				const held = new RewardService(ledger, sampleProgram('default', 14), {
					now: () => clock.at,
				});
				const ann = await world.referrer();
				const pendingReferral = await world.qualified(ann);
				const evaluated = await held.evaluateReferral(pendingReferral);
				// Rewards never go without their referral: a qualified referral's rewards are not reversed alone.
				await expect(held.reverseReferral(pendingReferral)).rejects.toMatchObject({
					code: 'referral_not_reversed',
					field: 'referralId',
				});
				const reverse = async (id: number) => {
					const { status } = (await ledger.getReferral({ programId: 'default', id }))!;
					await ledger.transitionReferral({
						programId: 'default',
						referralId: id,
						from: status,
						to: 'reversed',
					});
				};
				await reverse(pendingReferral);
				const reversal = await held.reverseReferral(pendingReferral);
				expect(reversal.reversed).toEqual(evaluated.rewards.map((r) => r.id).sort((a, b) => a - b));
				expect(reversal.clawedBack).toEqual([]);
				expect(await held.approveDue({ now: T0 + 30 * DAY })).toEqual([]);
				expect(await ledger.pointsBalance({ programId: 'default', participantId: ann })).toBe(0);

				const now = new RewardService(ledger, sampleProgram(), {
					now: () => clock.at,
					negativeBalancePolicy: 'refuse',
				});
				const paid = await world.qualified(ann);
				await now.evaluateReferral(paid);
				expect(await ledger.pointsBalance({ programId: 'default', participantId: ann })).toBe(100);
				await now.redeemPoints({ participantId: ann, points: 60, reference: 'order-x' });
				await reverse(paid);
				await expect(now.reverseReferral(paid)).rejects.toMatchObject({
					code: 'negative_balance',
					field: 'negativeBalancePolicy',
				});
				expect(await ledger.pointsBalance({ programId: 'default', participantId: ann })).toBe(40);
				const clamped = await now.reverseReferral(paid, 'clamp_at_zero');
				expect(clamped.clawedBack.find((c) => c.recipientId === ann)).toMatchObject({
					points: -40,
				});
				expect(clamped.shortfall[String(ann)]).toBe(60);
				expect(await ledger.pointsBalance({ programId: 'default', participantId: ann })).toBe(0);
				// Reversing again reports the same rewards and claws back nothing more.
				const again = await now.reverseReferral(paid, 'allow_negative');
				expect(again.reversed).toEqual(clamped.reversed);
				expect(await ledger.pointsBalance({ programId: 'default', participantId: ann })).toBe(0);

				const third = await world.qualified(ann);
				await now.evaluateReferral(third);
				await reverse(third);
				const negative = await now.reverseReferral(third, 'allow_negative');
				expect(negative.clawedBack.find((c) => c.recipientId === ann)).toMatchObject({
					points: -100,
				});
			});

			it('takes coupons from a pool, signals low stock, skips when it runs out, and awards after a refill', async () => {
				const { ledger, world } = await setup();
				const service = new RewardService(
					ledger,
					{
						programId: 'default',
						currency: 'EUR',
						rules: [
							{
								id: 'referee-coupon',
								type: 'per_referral',
								side: 'referee',
								on: 'referral_qualified',
								reward: {
									kind: 'coupon',
									percentOff: 15,
									couponSource: 'pool',
									couponPoolId: 'spring',
								},
							},
						],
					},
					{ lowStockThreshold: 2 },
				);
				const ann = await world.referrer();
				await ledger.loadCoupons({
					programId: 'default',
					pool: 'spring',
					codes: ['SPRING-A', 'SPRING-B'],
				});
				const outcomes = [];
				for (let i = 0; i < 3; i++)
					outcomes.push(await service.evaluateReferral(await world.qualified(ann)));
				expect(outcomes.map((o) => o.rewards[0]?.code ?? o.skipped[0].reason)).toEqual([
					'SPRING-A',
					'SPRING-B',
					'coupon_pool_empty',
				]);
				expect(outcomes[0].rewards[0].coupon).toMatchObject({
					percentOff: 15,
					shopify: { type: 'percentage', amount: '15' },
					woocommerce: { discount_type: 'percent' },
				});
				const events = await ledger.readEvents({
					afterId: 0,
					types: ['coupon.pool_low', 'coupon.pool_empty'],
				});
				expect(events.events.map((e) => e.type)).toEqual(['coupon.pool_low', 'coupon.pool_empty']);
				await ledger.loadCoupons({ programId: 'default', pool: 'spring', codes: ['SPRING-C'] });
				const retried = await service.evaluateReferral(outcomes[2].referralId);
				expect(retried.rewards[0]).toMatchObject({ code: 'SPRING-C', replayed: false });
				expect((await service.evaluateReferral(outcomes[2].referralId)).rewards[0]).toMatchObject({
					code: 'SPRING-C',
					replayed: true,
				});
			});

			it('awards a milestone exactly once when 8 evaluations race', async () => {
				const { ledger, world } = await setup();
				const ann = await world.referrer();
				const ids: number[] = [];
				for (let i = 0; i < 3; i++) ids.push(await world.qualified(ann, { qualifiedAt: T0 + i }));
				// Separate service instances, as separate executions would have, without the in-process
				// per-referrer queue: as n8n workers in separate processes, they race at the ledger.
				const results = await Promise.all(
					Array.from({ length: 8 }, () =>
						new RewardService(ledger, sampleProgram(), {
							serializePerReferrer: false,
						}).evaluateReferral(ids[2]),
					),
				);
				expect(
					results.flatMap((r) => r.rewards).filter((x) => x.kind === 'coupon' && !x.replayed),
				).toHaveLength(1);
				const coupons = await ledger.listRewards({ programId: 'default', kind: 'coupon' });
				expect(coupons).toHaveLength(1);
				expect(
					new Set(results.map((r) => r.rewards.find((x) => x.kind === 'coupon')!.code)).size,
				).toBe(1);
				expect((await ledger.listCodes({ programId: 'default', ownerId: ann })).length).toBe(1);
				expect(await ledger.pointsBalance({ programId: 'default', participantId: ann })).toBe(100);
			});

			it('holds a cap exactly when evaluations of one referrer race, as in separate n8n workers', async () => {
				const { ledger, world } = await setup();
				const ann = await world.referrer();
				const ids: number[] = [];
				for (let i = 0; i < 10; i++) ids.push(await world.qualified(ann, { qualifiedAt: T0 + i }));
				const program: RewardProgramConfig = {
					programId: 'default',
					rules: [
						{
							id: 'pts',
							type: 'per_referral',
							side: 'referrer',
							on: 'referral_qualified',
							reward: { kind: 'points', points: 100 },
						},
					],
					caps: [{ id: 'three-ever', period: 'lifetime', maxCount: 3 }],
				};
				// No in-process queue: only the ledger's lease stands between the evaluations.
				const results = await Promise.all(
					ids.map((id) =>
						new RewardService(ledger, program, { serializePerReferrer: false }).evaluateReferral(
							id,
						),
					),
				);
				expect(results.filter((r) => r.rewards.length === 1)).toHaveLength(3);
				expect(results.filter((r) => r.skipped[0]?.reason === 'cap_reached')).toHaveLength(7);
				expect(await ledger.pointsBalance({ programId: 'default', participantId: ann })).toBe(300);
			});

			it('redeems points once per reference and refuses an overdraft', async () => {
				const { ledger, world } = await setup();
				const service = new RewardService(ledger, sampleProgram());
				const ann = await world.referrer();
				await service.evaluateReferral(await world.qualified(ann));
				const first = await service.redeemPoints({
					participantId: ann,
					points: 70,
					reference: 'order-1',
				});
				expect(first).toMatchObject({ balance: 30, replayed: false });
				expect(
					await service.redeemPoints({ participantId: ann, points: 70, reference: 'order-1' }),
				).toMatchObject({ balance: 30, replayed: true });
				await expect(
					service.redeemPoints({ participantId: ann, points: 31, reference: 'order-2' }),
				).rejects.toMatchObject({ code: 'insufficient_points', field: 'points' });
				await expect(
					service.redeemPoints({ participantId: ann, points: -5, reference: 'order-3' }),
				).rejects.toMatchObject({ code: 'invalid_amount' });
				const history = await service.pointsHistory(ann);
				expect(history.map((e) => [e.delta, e.balanceAfter, e.reason])).toEqual([
					[100, 100, 'reward'],
					[-70, 30, 'redeemed'],
				]);
			});
		},
	);
}

describe('reward service configuration errors', () => {
	const base = sampleProgram();
	const fails = (config: unknown) => {
		try {
			new RewardService({} as LedgerStore, config as RewardProgramConfig);
		} catch (error) {
			return error as EngineError;
		}
		throw new Error('expected a configuration error');
	};

	it('refuses negative amounts, overlapping tiers and a cap of zero before touching the ledger', () => {
		const negative = fails({
			...base,
			rules: [
				{
					id: 'neg',
					type: 'per_referral',
					side: 'referrer',
					on: 'referral_qualified',
					reward: { kind: 'cash', amount: -5 },
				},
			],
		});
		expect(negative).toMatchObject({ code: 'invalid_amount', field: 'amount' });
		expect(negative.message).toContain('Rule "neg"');
		const overlap = fails({
			...base,
			rules: [
				{
					id: 'vip',
					type: 'status',
					award: 'tier',
					metric: 'points',
					levels: [
						{ name: 'Silver', min: 100, max: 500 },
						{ name: 'Gold', min: 400 },
					],
				},
			],
		});
		expect(overlap).toMatchObject({ code: 'overlapping_tiers' });
		expect(fails({ ...base, caps: [{ period: 'day', maxCount: 0 }] })).toMatchObject({
			code: 'invalid_cap',
			field: 'maxCount',
		});
		expect(
			fails({
				...base,
				rules: [
					{
						id: 'm',
						type: 'milestone',
						metric: 'qualified_referrals',
						milestones: [
							{ threshold: 2, repeatEvery: 2, badge: 'A' },
							{ threshold: 4, badge: 'B' },
						],
					},
				],
			}),
		).toMatchObject({
			code: 'overlapping_tiers',
		});
	});
});
