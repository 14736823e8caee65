import { describe, expect, it } from 'vitest';

import { EngineError } from '../../../engine/shared/errors';
import { firstCollision, validateRewardProgram } from '../../../engine/rewards/validateProgram';
import { type RewardProgramConfig } from '../../../engine/rewards/program';

const perReferral = (reward: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
	id: 'r1',
	type: 'per_referral',
	side: 'referrer',
	on: 'referral_qualified',
	reward,
	...extra,
});

function program(rules: unknown[], extra: Record<string, unknown> = {}): RewardProgramConfig {
	return { programId: 'p1', rules, ...extra } as unknown as RewardProgramConfig;
}

function error(config: unknown): EngineError {
	try {
		validateRewardProgram(config);
	} catch (e) {
		expect(e).toBeInstanceOf(EngineError);
		return e as EngineError;
	}
	throw new Error('expected validateRewardProgram to throw');
}

describe('validateRewardProgram accepts a full program', () => {
	it('fills defaults and normalizes currencies', () => {
		const p = validateRewardProgram(
			program(
				[
					perReferral({ kind: 'cash', amount: 10, currency: 'usd' }),
					{
						id: 'r2',
						type: 'per_referral',
						side: 'referee',
						on: 'referee_signup',
						reward: { kind: 'coupon', percentOff: 15 },
					},
					{
						id: 'ladder',
						type: 'milestone',
						metric: 'qualified_referrals',
						milestones: [
							{ threshold: 3, reward: { kind: 'coupon', amount: 20 } },
							{ threshold: 5, badge: 'Silver' },
							{ threshold: 10, tier: 'Gold' },
						],
					},
					{
						id: 'vip',
						type: 'status',
						award: 'tier',
						metric: 'points',
						levels: [
							{ name: 'Gold', min: 1000 },
							{ name: 'Bronze', min: 0, max: 499 },
							{ name: 'Silver', min: 500 },
						],
					},
				],
				{
					currency: 'eur',
					caps: [
						{ period: 'month', maxCount: 5 },
						{ id: 'spend', period: 'lifetime', maxValue: 500 },
					],
				},
			),
		);
		expect(p.currency).toBe('EUR');
		expect(p.holdingDays).toBe(0);
		expect(p.timeZone).toBe('UTC');
		expect(p.capWindowMode).toBe('calendar');
		expect(p.rules[0]).toMatchObject({ reward: { kind: 'cash', amount: 10, currency: 'USD' } });
		expect(p.rules[1]).toMatchObject({
			reward: { kind: 'coupon', percentOff: 15, couponSource: 'generate' },
		});
		expect(
			(p.rules[2] as { milestones: Array<{ reward?: { currency?: string } }> }).milestones[0].reward
				?.currency,
		).toBe('EUR');
		expect((p.rules[3] as { levels: Array<{ name: string }> }).levels.map((l) => l.name)).toEqual([
			'Bronze',
			'Silver',
			'Gold',
		]);
		expect(p.caps).toEqual([
			{ id: 'cap-1', period: 'month', maxCount: 5 },
			{ id: 'spend', period: 'lifetime', maxValue: 500, unit: 'EUR' },
		]);
	});
});

describe('validateRewardProgram refuses bad input, naming the rule and field', () => {
	it.each([
		[
			'a negative cash amount',
			[perReferral({ kind: 'cash', amount: -5, currency: 'EUR' })],
			'invalid_amount',
			'amount',
		],
		[
			'a zero coupon amount',
			[perReferral({ kind: 'coupon', amount: 0, currency: 'EUR' })],
			'invalid_amount',
			'amount',
		],
		['negative points', [perReferral({ kind: 'points', points: -10 })], 'invalid_amount', 'points'],
		[
			'fractional points',
			[perReferral({ kind: 'points', points: 2.5 })],
			'invalid_number',
			'points',
		],
		[
			'a cash amount without currency',
			[perReferral({ kind: 'cash', amount: 5 })],
			'missing_currency',
			'currency',
		],
		[
			'a coupon amount without currency',
			[perReferral({ kind: 'coupon', amount: 5 })],
			'missing_currency',
			'currency',
		],
		[
			'more decimals than the currency has',
			[perReferral({ kind: 'cash', amount: 20.005, currency: 'EUR' })],
			'too_many_decimals',
			'amount',
		],
		[
			'decimals in a zero-decimal currency',
			[perReferral({ kind: 'cash', amount: 100.5, currency: 'JPY' })],
			'too_many_decimals',
			'amount',
		],
		['an unknown kind', [perReferral({ kind: 'voucher' })], 'unknown_kind', 'kind'],
		[
			'a coupon with both amount and percent',
			[perReferral({ kind: 'coupon', amount: 5, percentOff: 5, currency: 'EUR' })],
			'invalid_reward',
			'amount',
		],
		[
			'a percent over 100',
			[perReferral({ kind: 'coupon', percentOff: 120 })],
			'invalid_number',
			'percentOff',
		],
		[
			'a zero percent',
			[perReferral({ kind: 'coupon', percentOff: 0 })],
			'invalid_amount',
			'percentOff',
		],
		[
			'a pool coupon without pool',
			[perReferral({ kind: 'coupon', percentOff: 5, couponSource: 'pool' })],
			'invalid_text',
			'couponPoolId',
		],
		[
			'a custom reward without type',
			[perReferral({ kind: 'custom' })],
			'invalid_text',
			'customType',
		],
		[
			'points with an amount',
			[perReferral({ kind: 'points', points: 5, amount: 3 })],
			'invalid_reward',
			'amount',
		],
		[
			'an unknown side',
			[perReferral({ kind: 'points', points: 5 }, { side: 'friend' })],
			'invalid_option',
			'side',
		],
		[
			'an unknown event',
			[perReferral({ kind: 'points', points: 5 }, { on: 'purchase' })],
			'invalid_option',
			'on',
		],
		[
			'a minimum order on sign-up',
			[perReferral({ kind: 'points', points: 5 }, { on: 'referee_signup', minOrderAmount: 10 })],
			'invalid_rule',
			'minOrderAmount',
		],
		[
			'a negative holding period',
			[perReferral({ kind: 'points', points: 5 }, { holdingDays: -1 })],
			'invalid_number',
			'holdingDays',
		],
		['an unknown rule type', [{ id: 'x', type: 'lottery' }], 'unknown_rule_type', 'type'],
	])('%s', (_name, rules, code, field) => {
		const e = error(program(rules));
		expect(e.code).toBe(code);
		expect(e.field).toBe(field);
		expect(e.message).toMatch(/^Rule "(r1|x)": /);
		expect(e.details?.rule).toBeDefined();
	});

	it('refuses duplicate rule ids and empty rule lists', () => {
		const rule = perReferral({ kind: 'points', points: 5 });
		expect(error(program([rule, rule])).code).toBe('duplicate_rule_id');
		expect(error(program([])).code).toBe('no_rules');
		expect(error(program([{ type: 'per_referral' }])).field).toBe('side');
		expect(error(program([{ id: 7, type: 'per_referral' }])).field).toBe('id');
		expect(error({ rules: [rule] }).field).toBe('programId');
	});
});

describe('milestone validation', () => {
	const ladder = (milestones: unknown[], extra: Record<string, unknown> = {}) =>
		program([
			{ id: 'ladder', type: 'milestone', metric: 'qualified_referrals', milestones, ...extra },
		]);

	it('refuses duplicate thresholds', () => {
		const e = error(
			ladder([
				{ threshold: 3, badge: 'A' },
				{ threshold: 3, badge: 'B' },
			]),
		);
		expect(e.code).toBe('duplicate_threshold');
		expect(e.details?.rule).toBe('ladder');
	});

	it('refuses a one-time milestone that a recurring one also hits', () => {
		const e = error(
			ladder([
				{ threshold: 5, repeatEvery: 5, reward: { kind: 'points', points: 50 } },
				{ threshold: 10, badge: 'Gold' },
			]),
		);
		expect(e.code).toBe('overlapping_tiers');
		expect(e.message).toContain('both fire at 10');
	});

	it('refuses two recurring milestones that meet, and accepts ones that never do', () => {
		const clash = error(
			ladder([
				{ threshold: 3, repeatEvery: 4, badge: 'A' },
				{ threshold: 5, repeatEvery: 6, badge: 'B' },
			]),
		);
		expect(clash.message).toContain('both fire at 11');
		expect(() =>
			validateRewardProgram(
				ladder([
					{ threshold: 2, repeatEvery: 4, badge: 'A' },
					{ threshold: 3, repeatEvery: 4, badge: 'B' },
				]),
			),
		).not.toThrow();
		expect(() =>
			validateRewardProgram(
				ladder([
					{ threshold: 3, badge: 'A' },
					{ threshold: 5, repeatEvery: 5, badge: 'B' },
				]),
			),
		).not.toThrow();
	});

	it.each([0, -1, 1.5])('refuses repeatEvery %s for counts', (every) => {
		const e = error(ladder([{ threshold: 3, repeatEvery: every, badge: 'A' }]));
		expect(e.code).toBe('invalid_repeat');
		expect(e.field).toBe('repeatEvery');
	});

	it('refuses milestones with zero or two awards, or a threshold of 0', () => {
		expect(error(ladder([{ threshold: 3 }])).field).toBe('reward');
		expect(error(ladder([{ threshold: 3, badge: 'A', tier: 'B' }])).field).toBe('reward');
		expect(error(ladder([{ threshold: 0, badge: 'A' }])).field).toBe('threshold');
		expect(error(ladder([])).field).toBe('milestones');
	});

	it('needs a currency for revenue milestones and checks their collisions in cents', () => {
		const revenue = (milestones: unknown[], extra: Record<string, unknown> = {}) =>
			program([{ id: 'rev', type: 'milestone', metric: 'referred_revenue', milestones, ...extra }]);
		expect(error(revenue([{ threshold: 100, badge: 'A' }])).code).toBe('missing_currency');
		const ok = validateRewardProgram(
			revenue(
				[
					{ threshold: 100, repeatEvery: 100, badge: 'A' },
					{ threshold: 250, badge: 'B' },
				],
				{ currency: 'EUR' },
			),
		);
		expect(ok.rules[0]).toMatchObject({ currency: 'EUR' });
		const e = error(
			revenue(
				[
					{ threshold: 0.1, repeatEvery: 0.1, badge: 'A' },
					{ threshold: 0.3, badge: 'B' },
				],
				{ currency: 'EUR' },
			),
		);
		expect(e.message).toContain('both fire at 0.3');
		expect(
			error(revenue([{ threshold: 100, repeatEvery: 0, badge: 'A' }], { currency: 'EUR' })).code,
		).toBe('invalid_repeat');
	});

	it('refuses percentOfOrder outside per-referral rules', () => {
		expect(
			error(ladder([{ threshold: 3, reward: { kind: 'cash', percentOfOrder: 10 } }])).field,
		).toBe('percentOfOrder');
	});
});

describe('status level validation', () => {
	const levels = (list: unknown[]) =>
		program([
			{ id: 'vip', type: 'status', award: 'tier', metric: 'qualified_referrals', levels: list },
		]);

	it('refuses overlapping ranges, equal starts, duplicate names and max below min', () => {
		expect(
			error(
				levels([
					{ name: 'Silver', min: 5, max: 9 },
					{ name: 'Gold', min: 8 },
				]),
			).code,
		).toBe('overlapping_tiers');
		expect(
			error(
				levels([
					{ name: 'Silver', min: 5 },
					{ name: 'Gold', min: 5 },
				]),
			).code,
		).toBe('overlapping_tiers');
		expect(
			error(
				levels([
					{ name: 'Silver', min: 5 },
					{ name: 'silver', min: 9 },
				]),
			).code,
		).toBe('duplicate_level');
		expect(error(levels([{ name: 'Silver', min: 5, max: 4 }])).field).toBe('max');
		expect(error(levels([{ name: 'Silver', min: -1 }])).field).toBe('min');
	});

	it('accepts touching ranges and gaps', () => {
		expect(() =>
			validateRewardProgram(
				levels([
					{ name: 'Silver', min: 5, max: 9 },
					{ name: 'Gold', min: 10 },
				]),
			),
		).not.toThrow();
		expect(() =>
			validateRewardProgram(
				levels([
					{ name: 'Silver', min: 5, max: 7 },
					{ name: 'Gold', min: 10 },
				]),
			),
		).not.toThrow();
	});

	it('refuses a holding period on status rules', () => {
		expect(
			error(
				program([
					{
						id: 'vip',
						type: 'status',
						award: 'badge',
						metric: 'points',
						levels: [{ name: 'A', min: 1 }],
						holdingDays: 3,
					},
				]),
			).field,
		).toBe('holdingDays');
	});
});

describe('cap validation', () => {
	const rule = perReferral({ kind: 'points', points: 5 });

	it.each([
		[{ period: 'month', maxCount: 0 }, 'maxCount', /maxCount is 0/],
		[{ period: 'month', maxValue: 0, unit: 'EUR' }, 'maxValue', /maxValue is 0/],
		[{ period: 'month' }, 'maxCount', /needs a maxCount, a maxValue/],
		[{ period: 'year', maxCount: 3 }, 'period', /period/],
		[{ period: 'month', maxCount: -2 }, 'maxCount', /whole number/],
		[{ period: 'month', maxValue: 10 }, 'unit', /needs a unit/],
		[{ period: 'month', maxValue: 10.5, unit: 'points' }, 'maxValue', /whole number/],
		[{ period: 'month', maxValue: 10, unit: 'euros' }, 'unit', /ISO 4217/],
		[{ period: 'month', maxCount: 1, ruleIds: ['nope'] }, 'ruleIds', /unknown rule "nope"/],
		[{ period: 'month', maxCount: 1, unit: 'EUR' }, 'unit', /only applies with maxValue/],
	])('refuses %j', (cap, field, message) => {
		const e = error(program([rule], { caps: [cap] }));
		expect(e.code).toBe('invalid_cap');
		expect(e.field).toBe(field);
		expect(e.message).toMatch(message);
	});

	it('refuses duplicate cap ids', () => {
		expect(
			error(
				program([rule], {
					caps: [
						{ id: 'a', period: 'day', maxCount: 1 },
						{ id: 'a', period: 'week', maxCount: 2 },
					],
				}),
			).field,
		).toBe('id');
	});
});

describe('program-level validation', () => {
	const rule = perReferral({ kind: 'points', points: 5 });
	it.each([
		[{ currency: 'EURO' }, 'currency'],
		[{ holdingDays: 1.5 }, 'holdingDays'],
		[{ holdingDays: 400 }, 'holdingDays'],
		[{ timeZone: 'Nowhere/Land' }, 'timeZone'],
		[{ capWindowMode: 'sliding' }, 'capWindowMode'],
	])('refuses %j', (extra, field) => {
		expect(error(program([rule], extra)).field).toBe(field);
	});
});

describe('firstCollision', () => {
	it('solves the general case exactly, also for large steps', () => {
		expect(firstCollision({ at: 3, every: 4 }, { at: 5, every: 6 })).toBe(11);
		expect(firstCollision({ at: 2, every: 4 }, { at: 3, every: 4 })).toBeNull();
		expect(firstCollision({ at: 999_999, every: 999_999 }, { at: 999_998, every: 999_998 })).toBe(
			999_998 * 999_999,
		);
		expect(firstCollision({ at: 10 }, { at: 5, every: 5 })).toBe(10);
		expect(firstCollision({ at: 4 }, { at: 5, every: 5 })).toBeNull();
		expect(firstCollision({ at: 7 }, { at: 7 })).toBe(7);
		expect(firstCollision({ at: 20, every: 1 }, { at: 3, every: 7 })).toBe(24);
	});
});
