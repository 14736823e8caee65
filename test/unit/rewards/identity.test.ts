import { describe, expect, it } from 'vitest';

import { assignRuleKeys, identifyRules, ruleNames } from '../../../engine/rewards/identity';
import type { PerReferralRule, RewardRule } from '../../../engine/rewards/program';
import { validateRewardProgram } from '../../../engine/rewards/validateProgram';

const points = (value: number, extra: Record<string, unknown> = {}) => ({
	type: 'per_referral',
	side: 'referrer',
	on: 'referral_qualified',
	reward: { kind: 'points', points: value },
	...extra,
});
const keysOf = (rules: unknown[]) =>
	validateRewardProgram({ programId: 'p', currency: 'EUR', rules }).rules.map(
		(r) => (r as PerReferralRule).key,
	);

describe('rule names (engine/rewards/identity.ts)', () => {
	it('keeps a given name, trimmed; a blank or absent one is made up from what the rule is', () => {
		const names = ruleNames([
			points(100, { id: '  Welcome  ' }),
			points(50, { id: '' }),
			points(20, { id: '   ' }),
			points(10),
			{ type: 'per_referral', side: 'referee', reward: { kind: 'coupon' } },
			{ type: 'milestone', metric: 'qualified_referrals' },
			{ type: 'milestone', metric: 'referred_revenue' },
			{ type: 'status', award: 'tier', metric: 'qualified_referrals' },
			{ type: 'status', award: 'badge', metric: 'points' },
		]);
		expect(names).toEqual([
			{ id: 'Welcome', named: true },
			{ id: 'referrer-points', named: false },
			{ id: 'referrer-points-2', named: false },
			{ id: 'referrer-points-3', named: false },
			{ id: 'referee-coupon', named: false },
			{ id: 'milestones', named: false },
			{ id: 'revenue-milestones', named: false },
			{ id: 'tiers-by-referrals', named: false },
			{ id: 'badges-by-points', named: false },
		]);
	});

	it('never makes up a name another rule holds, and keeps which names were made up when validated again', () => {
		expect(ruleNames([points(1), points(2, { id: 'referrer-points' })]).map((n) => n.id)).toEqual([
			'referrer-points-2',
			'referrer-points',
		]);
		expect(ruleNames([points(1, { id: 'referrer-points', named: false })])).toEqual([
			{ id: 'referrer-points', named: false },
		]);
	});

	it('leaves what is not a name (a number) to validation, and names nothing it cannot tell', () => {
		expect(ruleNames([points(1, { id: 7 }), { type: 'unknown' }, 'not a rule'])).toEqual([
			{ id: 7, named: true },
			{ id: undefined, named: false },
			{ id: undefined, named: false },
		]);
	});
});

describe('rule keys (engine/rewards/identity.ts)', () => {
	it('a per-referral rule is keyed by what it gives: not its name, label, holding period or position', () => {
		const [a] = keysOf([points(100, { id: 'first' })]);
		const [, b] = keysOf([
			points(5),
			points(100, {
				id: 'renamed',
				holdingDays: 14,
				reward: { kind: 'points', points: 100, label: 'Thanks' },
			}),
		]);
		expect(a).toMatch(/^pr_[0-9a-f]{24}$/);
		expect(b).toBe(a);
		expect(keysOf([points(101)])[0]).not.toBe(a);
	});

	it('identical rules are told apart by their rank among themselves only', () => {
		const [a, , b] = keysOf([points(100), points(5), points(100)]);
		expect(b).toBe(`${a}#2`);
		const [c, d] = keysOf([points(100, { id: 'x' }), points(100, { id: 'y' })]);
		expect([c, d]).toEqual([a, `${a}#2`]);
	});

	it('identifyRules names, validates under the name, then keys; assignRuleKeys keys only per-referral rules', () => {
		const seen: unknown[] = [];
		const rules = identifyRules(
			[points(100), { type: 'milestone', metric: 'qualified_referrals' }],
			(raw, i, name) => {
				seen.push([i, name.id, name.named]);
				return { ...(raw as object), id: name.id } as RewardRule;
			},
		);
		expect(seen).toEqual([
			[0, 'referrer-points', false],
			[1, 'milestones', false],
		]);
		expect((rules[0] as PerReferralRule).key).toBe(keysOf([points(100)])[0]);
		expect('key' in rules[1]).toBe(false);
		const again = rules.map((r) => ({ ...r }));
		assignRuleKeys(again);
		expect((again[0] as PerReferralRule).key).toBe((rules[0] as PerReferralRule).key);
	});
});
