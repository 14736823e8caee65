import { describe, expect, it } from 'vitest';

import { EngineError } from '../../../engine/shared/errors';
import {
	capWindow,
	planAwards,
	rewardIdempotencyKey,
	type ReferrerState,
	type RewardEvent,
} from '../../../engine/rewards/plan';
import { validateRewardProgram } from '../../../engine/rewards/validateProgram';
import { type RewardProgramConfig } from '../../../engine/rewards/program';

const DAY = 86_400_000;
const T = Date.UTC(2026, 3, 15, 10);

const config: RewardProgramConfig = {
	programId: 'spring',
	currency: 'EUR',
	holdingDays: 14,
	rules: [
		{
			id: 'referrer-points',
			type: 'per_referral',
			side: 'referrer',
			on: 'referral_qualified',
			reward: { kind: 'points', points: 100 },
		},
		{
			id: 'referee-welcome',
			type: 'per_referral',
			side: 'referee',
			on: 'referee_signup',
			reward: { kind: 'coupon', percentOff: 10, couponValidDays: 30, couponPrefix: 'WELCOME-' },
			holdingDays: 0,
		},
		{
			id: 'ladder',
			type: 'milestone',
			metric: 'qualified_referrals',
			milestones: [
				{ threshold: 3, reward: { kind: 'coupon', amount: 20 } },
				{ threshold: 5, badge: 'Silver' },
				{ threshold: 10, tier: 'Gold VIP' },
			],
		},
	],
};
const program = validateRewardProgram(config);

function qualified(n: number, extra: Partial<RewardEvent> = {}): RewardEvent {
	return {
		type: 'referral_qualified',
		referralId: `ref-${n}`,
		referrerId: 'alice',
		refereeId: `friend-${n}`,
		occurredAt: T,
		...extra,
	};
}

function state(qualifiedCount: number, extra: Partial<ReferrerState> = {}): ReferrerState {
	return { qualifiedCount, ...extra };
}

describe('per-referral rewards, both sides', () => {
	it('gives the referee a coupon at sign-up, approved at once when the rule holds for 0 days', () => {
		const plan = planAwards(
			program,
			{
				type: 'referee_signup',
				referralId: 'ref-1',
				referrerId: 'alice',
				refereeId: 'bob',
				occurredAt: T,
			},
			state(0),
		);
		expect(plan.skipped).toEqual([]);
		expect(plan.awards).toEqual([
			{
				// The first coupon slot of the referee at this sign-up; the rule's identity is its key, not its name.
				idempotencyKey: rewardIdempotencyKey(
					'spring',
					'bob',
					'slot:referee:coupon#1',
					'referee_signup:ref-1',
				),
				ruleKey: expect.stringMatching(/^pr_[0-9a-f]{24}$/),
				slot: 1,
				programId: 'spring',
				recipientId: 'bob',
				side: 'referee',
				ruleId: 'referee-welcome',
				ruleType: 'per_referral',
				kind: 'coupon',
				percentOff: 10,
				coupon: { source: 'generate', prefix: 'WELCOME-', expiresAt: T + 30 * DAY },
				status: 'approved',
				earnedBy: { rule: 'referee-welcome', event: 'referee_signup', referralIds: ['ref-1'] },
			},
		]);
	});

	it("holds the referrer's points for the program's holding period", () => {
		const plan = planAwards(program, qualified(1), state(1));
		expect(plan.awards).toHaveLength(1);
		expect(plan.awards[0]).toMatchObject({
			recipientId: 'alice',
			kind: 'points',
			points: 100,
			status: 'pending',
			holdUntil: T + 14 * DAY,
		});
	});

	it('accepts ISO event times', () => {
		const plan = planAwards(
			program,
			qualified(1, { occurredAt: new Date(T).toISOString() }),
			state(1),
		);
		expect(plan.awards[0].holdUntil).toBe(T + 14 * DAY);
	});
});

describe('milestones by qualified referrals', () => {
	it('awards the 20 EUR coupon exactly at the 3rd qualified referral, listing the referrals that earned it', () => {
		expect(planAwards(program, qualified(2), state(2)).awards.map((a) => a.ruleId)).toEqual([
			'referrer-points',
		]);
		const plan = planAwards(
			program,
			qualified(3),
			state(3, { qualifiedReferralIds: ['ref-1', 'ref-2', 'ref-3'] }),
		);
		const coupon = plan.awards.find((a) => a.ruleId === 'ladder');
		expect(coupon).toMatchObject({
			kind: 'coupon',
			amount: 20,
			currency: 'EUR',
			status: 'pending',
			holdUntil: T + 14 * DAY,
		});
		expect(coupon?.earnedBy).toEqual({
			rule: 'ladder',
			event: 'referral_qualified',
			referralIds: ['ref-1', 'ref-2', 'ref-3'],
			milestone: 3,
		});
		expect(planAwards(program, qualified(4), state(4)).awards.map((a) => a.ruleId)).toEqual([
			'referrer-points',
		]);
	});

	it('grants the Silver badge at 5 immediately and not again when already held', () => {
		const plan = planAwards(program, qualified(5), state(5));
		expect(plan.awards.find((a) => a.kind === 'badge')).toMatchObject({
			badge: 'Silver',
			status: 'approved',
			earnedBy: { milestone: 5 },
		});
		expect(
			planAwards(program, qualified(5), state(5, { badges: ['Silver'] })).awards.some(
				(a) => a.kind === 'badge',
			),
		).toBe(false);
	});

	it('grants the Gold VIP tier at 10', () => {
		const plan = planAwards(program, qualified(10), state(10));
		expect(plan.awards.find((a) => a.kind === 'tier')).toMatchObject({
			tier: 'Gold VIP',
			status: 'approved',
		});
		expect(
			planAwards(program, qualified(11), state(11)).awards.some((a) => a.kind === 'tier'),
		).toBe(false);
		expect(
			planAwards(program, qualified(10), state(10, { tier: 'Gold VIP' })).awards.some(
				(a) => a.kind === 'tier',
			),
		).toBe(false);
	});

	it("starts a held coupon's validity when the hold ends", () => {
		const p = validateRewardProgram({
			programId: 'p',
			holdingDays: 14,
			rules: [
				{
					id: 'c',
					type: 'per_referral',
					side: 'referrer',
					on: 'referral_qualified',
					reward: { kind: 'coupon', percentOff: 5, couponValidDays: 30 },
				},
			],
		});
		const award = planAwards(p, qualified(1), state(1)).awards[0];
		expect(award.holdUntil).toBe(T + 14 * DAY);
		expect(award.coupon?.expiresAt).toBe(T + 44 * DAY);
	});

	it('recurring every N fires at N and 2N and nowhere in between, with distinct keys', () => {
		const p = validateRewardProgram({
			programId: 'p',
			rules: [
				{
					id: 'every5',
					type: 'milestone',
					metric: 'qualified_referrals',
					milestones: [{ threshold: 5, repeatEvery: 5, reward: { kind: 'points', points: 500 } }],
				},
			],
		});
		const fired = (n: number) =>
			planAwards(
				p,
				qualified(n),
				state(n, { qualifiedReferralIds: Array.from({ length: n }, (_, i) => `ref-${i + 1}`) }),
			).awards;
		expect(fired(4)).toEqual([]);
		const at5 = fired(5);
		expect(at5).toHaveLength(1);
		expect(at5[0].earnedBy.referralIds).toEqual(['ref-1', 'ref-2', 'ref-3', 'ref-4', 'ref-5']);
		for (const n of [6, 7, 8, 9]) expect(fired(n)).toEqual([]);
		const at10 = fired(10);
		expect(at10).toHaveLength(1);
		expect(at10[0].earnedBy.milestone).toBe(10);
		expect(at10[0].earnedBy.referralIds).toEqual(['ref-6', 'ref-7', 'ref-8', 'ref-9', 'ref-10']);
		expect(at10[0].idempotencyKey).not.toBe(at5[0].idempotencyKey);
		expect(fired(15)).toHaveLength(1);
	});

	it('ignores milestones on sign-up events', () => {
		const plan = planAwards(
			program,
			{
				type: 'referee_signup',
				referralId: 'r',
				referrerId: 'alice',
				refereeId: 'bob',
				occurredAt: T,
			},
			state(3),
		);
		expect(plan.awards.map((a) => a.ruleId)).toEqual(['referee-welcome']);
	});
});

describe('milestones by referred revenue', () => {
	const p = validateRewardProgram({
		programId: 'p',
		currency: 'EUR',
		rules: [
			{
				id: 'rev',
				type: 'milestone',
				metric: 'referred_revenue',
				milestones: [{ threshold: 1000, repeatEvery: 1000, reward: { kind: 'cash', amount: 50 } }],
			},
		],
	});

	it('fires once per threshold crossed, even when one order crosses two', () => {
		const plan = planAwards(
			p,
			qualified(1, { order: { amount: 1600, currency: 'EUR' } }),
			state(1, { referredRevenue: { EUR: 2500 } }),
		);
		expect(plan.awards.map((a) => a.earnedBy.milestone)).toEqual([1000, 2000]);
	});

	it('counts the exact threshold and nothing below it', () => {
		const exact = planAwards(
			p,
			qualified(1, { order: { amount: 0.01, currency: 'EUR' } }),
			state(1, { referredRevenue: { EUR: 1000 } }),
		);
		expect(exact.awards.map((a) => a.earnedBy.milestone)).toEqual([1000]);
		const below = planAwards(
			p,
			qualified(1, { order: { amount: 0.01, currency: 'EUR' } }),
			state(1, { referredRevenue: { EUR: 999.99 } }),
		);
		expect(below.awards).toEqual([]);
	});

	it('ignores orders in another currency', () => {
		const plan = planAwards(
			p,
			qualified(1, { order: { amount: 1600, currency: 'USD' } }),
			state(1, { referredRevenue: { EUR: 2500 } }),
		);
		expect(plan.awards).toEqual([]);
	});
});

describe('caps', () => {
	const capped = (caps: unknown[], rules?: unknown[]) =>
		validateRewardProgram({
			programId: 'p',
			currency: 'EUR',
			rules: (rules ?? [
				{
					id: 'cash',
					type: 'per_referral',
					side: 'referrer',
					on: 'referral_qualified',
					reward: { kind: 'cash', amount: 20 },
				},
			]) as never,
			caps: caps as never,
		});

	it('count cap: the award that reaches the cap exactly is given, the next is skipped with cap_reached', () => {
		const p = capped([{ id: 'monthly', period: 'month', maxCount: 3 }]);
		expect(
			planAwards(p, qualified(1), state(1, { capUsage: { monthly: { count: 2, value: 40 } } }))
				.awards,
		).toHaveLength(1);
		const plan = planAwards(
			p,
			qualified(1),
			state(1, { capUsage: { monthly: { count: 3, value: 60 } } }),
		);
		expect(plan.awards).toEqual([]);
		expect(plan.skipped).toHaveLength(1);
		expect(plan.skipped[0]).toMatchObject({
			status: 'skipped',
			skipReason: 'cap_reached',
			capId: 'monthly',
			amount: 20,
		});
		expect(plan.skipped[0].holdUntil).toBeUndefined();
	});

	it('value cap: 30 + 20 = 50 fits a 50 EUR cap, 30.01 + 20 does not', () => {
		const p = capped([{ id: 'spend', period: 'lifetime', maxValue: 50, unit: 'EUR' }]);
		expect(
			planAwards(p, qualified(1), state(1, { capUsage: { spend: { count: 9, value: 30 } } }))
				.awards,
		).toHaveLength(1);
		expect(
			planAwards(p, qualified(1), state(1, { capUsage: { spend: { count: 9, value: 30.01 } } }))
				.skipped[0].skipReason,
		).toBe('cap_reached');
	});

	it('value caps only count their unit', () => {
		const p = capped([{ id: 'pts', period: 'day', maxValue: 100, unit: 'points' }]);
		expect(
			planAwards(p, qualified(1), state(1, { capUsage: { pts: { count: 0, value: 100 } } })).awards,
		).toHaveLength(1);
		const pointsProgram = capped(
			[{ id: 'pts', period: 'day', maxValue: 100, unit: 'points' }],
			[
				{
					id: 'pts-rule',
					type: 'per_referral',
					side: 'referrer',
					on: 'referral_qualified',
					reward: { kind: 'points', points: 40 },
				},
			],
		);
		expect(
			planAwards(
				pointsProgram,
				qualified(1),
				state(1, { capUsage: { pts: { count: 0, value: 60 } } }),
			).awards,
		).toHaveLength(1);
		expect(
			planAwards(
				pointsProgram,
				qualified(1),
				state(1, { capUsage: { pts: { count: 0, value: 61 } } }),
			).awards,
		).toHaveLength(0);
	});

	it('counts awards planned earlier in the same event', () => {
		const p = capped(
			[{ id: 'once', period: 'day', maxCount: 1 }],
			[
				{
					id: 'a',
					type: 'per_referral',
					side: 'referrer',
					on: 'referral_qualified',
					reward: { kind: 'points', points: 10 },
				},
				{
					id: 'b',
					type: 'per_referral',
					side: 'referrer',
					on: 'referral_qualified',
					reward: { kind: 'points', points: 20 },
				},
			],
		);
		const plan = planAwards(p, qualified(1), state(1));
		expect(plan.awards.map((a) => a.ruleId)).toEqual(['a']);
		expect(plan.skipped.map((a) => [a.ruleId, a.skipReason])).toEqual([['b', 'cap_reached']]);
	});

	it('scopes caps to listed rules and never caps the referee, badges or tiers', () => {
		const p = capped(
			[{ id: 'only-a', period: 'lifetime', maxCount: 1, ruleIds: ['a'] }],
			[
				{
					id: 'a',
					type: 'per_referral',
					side: 'referrer',
					on: 'referral_qualified',
					reward: { kind: 'points', points: 10 },
				},
				{
					id: 'b',
					type: 'per_referral',
					side: 'referrer',
					on: 'referral_qualified',
					reward: { kind: 'points', points: 20 },
				},
				{
					id: 'c',
					type: 'per_referral',
					side: 'referee',
					on: 'referral_qualified',
					reward: { kind: 'points', points: 5 },
				},
				{
					id: 'm',
					type: 'milestone',
					metric: 'qualified_referrals',
					milestones: [{ threshold: 1, badge: 'First' }],
				},
			],
		);
		const plan = planAwards(
			p,
			qualified(1),
			state(1, { capUsage: { 'only-a': { count: 1, value: 0 } } }),
		);
		expect(plan.awards.map((a) => a.ruleId)).toEqual(['b', 'c', 'm']);
		expect(plan.skipped.map((a) => a.ruleId)).toEqual(['a']);
		const all = capped(
			[{ id: 'all', period: 'lifetime', maxCount: 1 }],
			[
				{
					id: 'c',
					type: 'per_referral',
					side: 'referee',
					on: 'referral_qualified',
					reward: { kind: 'points', points: 5 },
				},
				{
					id: 'm',
					type: 'milestone',
					metric: 'qualified_referrals',
					milestones: [{ threshold: 1, badge: 'First' }],
				},
			],
		);
		expect(
			planAwards(all, qualified(1), state(1, { capUsage: { all: { count: 5, value: 0 } } })).awards,
		).toHaveLength(2);
	});

	it('tells the service which window to load usage for', () => {
		const p = validateRewardProgram({
			...config,
			timeZone: 'Europe/Berlin',
			caps: [{ id: 'm', period: 'month', maxCount: 2 }],
		});
		expect(capWindow(p, p.caps[0], T)).toEqual({
			start: Date.UTC(2026, 2, 31, 22),
			end: Date.UTC(2026, 3, 30, 22),
		});
		expect(capWindow(p, { id: 'l', period: 'lifetime', maxCount: 1 }, T)).toEqual({
			start: null,
			end: null,
		});
	});
});

describe('order-based conditions', () => {
	const p = validateRewardProgram({
		programId: 'p',
		rules: [
			{
				id: 'share',
				type: 'per_referral',
				side: 'referrer',
				on: 'referral_qualified',
				reward: { kind: 'cash', percentOfOrder: 10 },
			},
			{
				id: 'min',
				type: 'per_referral',
				side: 'referee',
				on: 'referral_qualified',
				reward: { kind: 'points', points: 5 },
				minOrderAmount: 50,
			},
		],
	});

	it('pays a share of the order, rounded to the currency', () => {
		const plan = planAwards(
			p,
			qualified(1, { order: { amount: 80.55, currency: 'EUR' } }),
			state(1),
		);
		expect(plan.awards.find((a) => a.ruleId === 'share')).toMatchObject({
			amount: 8.06,
			currency: 'EUR',
		});
		const yen = planAwards(p, qualified(1, { order: { amount: 1005, currency: 'JPY' } }), state(1));
		expect(yen.awards.find((a) => a.ruleId === 'share')).toMatchObject({
			amount: 101,
			currency: 'JPY',
		});
	});

	it('skips a share without an order, and a share that rounds to nothing', () => {
		expect(
			planAwards(p, qualified(1), state(1)).skipped.map((a) => [a.ruleId, a.skipReason]),
		).toEqual([
			['share', 'no_order_amount'],
			['min', 'no_order_amount'],
		]);
		const tiny = planAwards(
			p,
			qualified(1, { order: { amount: 0.04, currency: 'EUR' } }),
			state(1),
		);
		expect(tiny.skipped.find((a) => a.ruleId === 'share')?.skipReason).toBe('zero_amount');
	});

	it('applies the minimum order amount at its edge', () => {
		expect(
			planAwards(p, qualified(1, { order: { amount: 50, currency: 'EUR' } }), state(1)).awards.map(
				(a) => a.ruleId,
			),
		).toContain('min');
		const below = planAwards(
			p,
			qualified(1, { order: { amount: 49.99, currency: 'EUR' } }),
			state(1),
		);
		expect(below.skipped.find((a) => a.ruleId === 'min')?.skipReason).toBe('below_min_order');
	});

	it("skips a share in another currency than the rule's", () => {
		const usd = validateRewardProgram({
			programId: 'p',
			rules: [
				{
					id: 'share',
					type: 'per_referral',
					side: 'referrer',
					on: 'referral_qualified',
					reward: { kind: 'cash', percentOfOrder: 10, currency: 'USD' },
				},
			],
		});
		expect(
			planAwards(usd, qualified(1, { order: { amount: 10, currency: 'EUR' } }), state(1)).skipped[0]
				.skipReason,
		).toBe('currency_mismatch');
	});
});

describe('status levels: badges and VIP tiers', () => {
	const p = validateRewardProgram({
		programId: 'p',
		rules: [
			{
				id: 'pts',
				type: 'per_referral',
				side: 'referrer',
				on: 'referral_qualified',
				reward: { kind: 'points', points: 100 },
			},
			{
				id: 'vip',
				type: 'status',
				award: 'tier',
				metric: 'points',
				levels: [
					{ name: 'Bronze', min: 100 },
					{ name: 'Silver', min: 500 },
					{ name: 'Gold', min: 1000 },
				],
			},
			{
				id: 'badges',
				type: 'status',
				award: 'badge',
				metric: 'qualified_referrals',
				levels: [
					{ name: 'Starter', min: 1 },
					{ name: 'Pro', min: 3 },
				],
			},
		],
	});
	const tierOf = (lifetimePoints: number, tier: string | null) =>
		planAwards(
			p,
			qualified(1),
			state(1, { lifetimePoints, tier, badges: ['Starter'] }),
		).awards.find((a) => a.kind === 'tier')?.tier;

	it('counts the points of this event toward the tier', () => {
		expect(tierOf(399, 'Bronze')).toBeUndefined();
		expect(tierOf(400, 'Bronze')).toBe('Silver');
		expect(tierOf(400, 'Silver')).toBeUndefined();
		expect(tierOf(950, null)).toBe('Gold');
	});

	it('never downgrades a held tier', () => {
		expect(tierOf(0, 'Gold')).toBeUndefined();
	});

	it('grants every badge passed, once', () => {
		const jump = planAwards(p, qualified(3), state(3)).awards.filter((a) => a.kind === 'badge');
		expect(jump.map((a) => a.badge)).toEqual(['Starter', 'Pro']);
		expect(jump[0].idempotencyKey).toBe(
			rewardIdempotencyKey('p', 'alice', 'badges', 'level:Starter'),
		);
		expect(
			planAwards(p, qualified(3), state(3, { badges: ['Starter', 'Pro'] })).awards.filter(
				(a) => a.kind === 'badge',
			),
		).toEqual([]);
	});
});

describe('idempotency keys and determinism', () => {
	it('the same inputs give the same plan; keys differ by recipient, rule and earning event', () => {
		const a = planAwards(program, qualified(3), state(3));
		const b = planAwards(config, qualified(3), state(3));
		expect(b).toEqual(a);
		const keys = new Set([
			rewardIdempotencyKey('spring', 'alice', 'r', 'referral_qualified:ref-1'),
			rewardIdempotencyKey('spring', 'bob', 'r', 'referral_qualified:ref-1'),
			rewardIdempotencyKey('spring', 'alice', 'r2', 'referral_qualified:ref-1'),
			rewardIdempotencyKey('spring', 'alice', 'r', 'referral_qualified:ref-2'),
			rewardIdempotencyKey('autumn', 'alice', 'r', 'referral_qualified:ref-1'),
		]);
		expect(keys.size).toBe(5);
		for (const key of keys) expect(key).toMatch(/^rw_[0-9a-f]{40}$/);
	});

	it('joining parts cannot collide ("a:b","c" vs "a","b:c")', () => {
		expect(rewardIdempotencyKey('p', 'a:b', 'c', 'e')).not.toBe(
			rewardIdempotencyKey('p', 'a', 'b:c', 'e'),
		);
	});

	it("does not depend on the state's cap usage for the key", () => {
		const p = validateRewardProgram({
			...config,
			caps: [{ id: 'c', period: 'day', maxCount: 10 }],
		});
		const k1 = planAwards(p, qualified(1), state(1)).awards[0].idempotencyKey;
		const k2 = planAwards(p, qualified(1), state(1, { capUsage: { c: { count: 5, value: 0 } } }))
			.awards[0].idempotencyKey;
		expect(k1).toBe(k2);
	});
});

describe('bad events and state', () => {
	function field(fn: () => unknown): string | undefined {
		try {
			fn();
		} catch (error) {
			expect(error).toBeInstanceOf(EngineError);
			return (error as EngineError).field;
		}
		throw new Error('expected an EngineError');
	}

	it('names the field at fault', () => {
		expect(field(() => planAwards(program, qualified(1, { referralId: '' }), state(1)))).toBe(
			'referralId',
		);
		expect(field(() => planAwards(program, qualified(1, { refereeId: 'alice' }), state(1)))).toBe(
			'refereeId',
		);
		expect(
			field(() => planAwards(program, qualified(1, { type: 'purchase' as never }), state(1))),
		).toBe('event.type');
		expect(field(() => planAwards(program, qualified(1, { occurredAt: 'soon' }), state(1)))).toBe(
			'occurredAt',
		);
		expect(
			field(() =>
				planAwards(program, qualified(1, { order: { amount: -1, currency: 'EUR' } }), state(1)),
			),
		).toBe('order.amount');
		expect(field(() => planAwards(program, qualified(1), state(0)))).toBe('qualifiedCount');
		expect(
			field(() =>
				planAwards(program, qualified(1), state(1, { capUsage: { x: { count: -1, value: 0 } } })),
			),
		).toBe('capUsage.x.count');
		expect(field(() => planAwards({ ...config, rules: [] }, qualified(1), state(1)))).toBe('rules');
	});
});
