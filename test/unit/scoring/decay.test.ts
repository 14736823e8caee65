import { describe, expect, it } from 'vitest';
import {
	compileDecay,
	compileRuleSet,
	decayFactor,
	type DecayConfig,
} from '../../../engine/scoring';
import { DAY, daysAgo, engineError, NOW, scoreWith } from './helpers';

function factor(config: DecayConfig, ageDays: number): number {
	const decay = compileDecay(config, 'test', 'at');
	if (decay === undefined) throw new Error('expected a decay');
	return decayFactor(decay, ageDays * DAY);
}

describe('time window', () => {
	const window: DecayConfig = { kind: 'window', dateField: 'at', days: 14 };
	it('keeps full points up to and including N days, then none', () => {
		expect(factor(window, 0)).toBe(1);
		expect(factor(window, 14)).toBe(1);
		expect(factor(window, 14 + 1 / DAY)).toBe(0);
		expect(factor(window, 400)).toBe(0);
	});
});

describe('linear (HubSpot-style)', () => {
	it('stepwise: 10 points at 50 % per 30 days are 10, then 5 at 30 days, then 0 at 60 and never below', () => {
		const linear: DecayConfig = {
			kind: 'linear',
			dateField: 'at',
			percentPerPeriod: 50,
			periodDays: 30,
		};
		expect(10 * factor(linear, 0)).toBe(10);
		expect(10 * factor(linear, 30 - 1 / DAY)).toBe(10);
		expect(10 * factor(linear, 30)).toBe(5);
		expect(10 * factor(linear, 59.9)).toBe(5);
		expect(10 * factor(linear, 60)).toBe(0);
		expect(10 * factor(linear, 365)).toBe(0);
	});

	it('floors at 0 when the loss does not divide 100 evenly', () => {
		const linear: DecayConfig = {
			kind: 'linear',
			dateField: 'at',
			percentPerPeriod: 30,
			periodDays: 10,
		};
		expect(factor(linear, 30)).toBeCloseTo(0.1, 12);
		expect(factor(linear, 40)).toBe(0);
	});

	it('continuous: loses the fraction smoothly', () => {
		const linear: DecayConfig = {
			kind: 'linear',
			dateField: 'at',
			percentPerPeriod: 50,
			periodDays: 30,
			stepwise: false,
		};
		expect(factor(linear, 15)).toBeCloseTo(0.75, 12);
		expect(factor(linear, 45)).toBeCloseTo(0.25, 12);
		expect(factor(linear, 60)).toBe(0);
		expect(factor(linear, 61)).toBe(0);
	});
});

describe('exponential half-life', () => {
	const half: DecayConfig = { kind: 'exponential', dateField: 'at', halfLifeDays: 10 };
	it('halves every half-life', () => {
		expect(factor(half, 0)).toBe(1);
		expect(factor(half, 10)).toBe(0.5);
		expect(factor(half, 20)).toBe(0.25);
		expect(factor(half, 5)).toBeCloseTo(Math.SQRT1_2, 12);
	});

	it('falls strictly with age and stays above 0', () => {
		let previous = Infinity;
		for (let d = 0; d <= 200; d += 7) {
			const f = factor(half, d);
			expect(f).toBeLessThan(previous);
			expect(f).toBeGreaterThan(0);
			previous = f;
		}
	});
});

describe('decay in the scorer', () => {
	it('treats future dates as new, for every kind', () => {
		const future = new Date(NOW + 3 * DAY).toISOString();
		for (const decay of [
			{ kind: 'window', days: 1 },
			{ kind: 'linear', percentPerPeriod: 50, periodDays: 1 },
			{ kind: 'exponential', halfLifeDays: 1 },
		] as DecayConfig[]) {
			const result = scoreWith(
				{ field: 'at', operator: 'exists', decay: { ...decay, dateField: 'at' } as DecayConfig },
				{ at: future },
			);
			expect(result.explanation.rules[0].decayFactor).toBe(1);
		}
	});

	it('multiplies the rule points by the factor and reports both', () => {
		const result = scoreWith(
			{
				field: 'visitedPricing',
				operator: 'equals',
				value: true,
				points: 40,
				decay: { kind: 'exponential', dateField: 'visitedAt', halfLifeDays: 7 },
			},
			{ visitedPricing: true, visitedAt: daysAgo(14) },
		);
		const rule = result.explanation.rules[0];
		expect(rule).toMatchObject({ matched: true, points: 40, decayFactor: 0.25, contribution: 10 });
		expect(result.total).toBe(10);
	});

	it('measures a withinLastDays rule from its own field when no date field is given', () => {
		const result = scoreWith(
			{
				field: 'lastVisit',
				operator: 'withinLastDays',
				days: 30,
				decay: { kind: 'exponential', halfLifeDays: 5 },
			},
			{ lastVisit: daysAgo(10) },
		);
		expect(result.explanation.rules[0].decayFactor).toBe(0.25);
	});

	it('applies decay before the group cap', () => {
		const scorer = compileRuleSet({
			rules: [
				{
					group: 'engagement',
					field: 'a',
					operator: 'exists',
					points: 40,
					decay: { kind: 'exponential', dateField: 'at', halfLifeDays: 10 },
				},
				{ group: 'engagement', field: 'b', operator: 'exists', points: 40 },
			],
			groups: [{ name: 'engagement', max: 50 }],
		});
		// Decay first: 40 x 0.5 + 40 = 60, then the cap takes it to 50.
		const result = scorer.score({ a: 1, b: 1, at: daysAgo(10) }, NOW);
		expect(result.explanation.groups[0]).toMatchObject({ points: 60, value: 50, clipped: -10 });
		expect(result.total).toBe(50);
		const older = scorer.score({ a: 1, b: 1, at: daysAgo(40) }, NOW);
		expect(older.explanation.groups[0]).toMatchObject({ points: 42.5, value: 42.5, clipped: 0 });
	});

	it('follows the bad-input policy when the decay date is missing or unreadable', () => {
		const base = {
			field: 'a',
			operator: 'exists' as const,
			points: 20,
			decay: { kind: 'window' as const, dateField: 'seenAt', days: 30 },
		};
		const skipped = scoreWith({ ...base, onBadInput: 'skip' }, { a: 1, seenAt: 'yesterday' });
		expect(skipped.explanation.rules[0]).toMatchObject({
			matched: false,
			contribution: 0,
			badInput: { field: 'seenAt', reason: 'notDate', policy: 'skip' },
		});
		const zeroed = scoreWith({ ...base, onBadInput: 'zero' }, { a: 1 });
		expect(zeroed.explanation.rules[0]).toMatchObject({
			matched: true,
			decayFactor: 0,
			contribution: 0,
			badInput: { field: 'seenAt', reason: 'missing', policy: 'zero' },
		});
		const error = engineError(() =>
			scoreWith({ ...base, onBadInput: 'error' }, { a: 1, seenAt: 'yesterday' }),
		);
		expect(error.code).toBe('not_a_date');
		expect(error.field).toBe('seenAt');
		expect(error.message).toContain('test lead');
		expect(error.message).toContain('"seenAt"');
	});

	it('reads each date field once per lead, however many rules use it', () => {
		let reads = 0;
		class CountingDate extends Date {
			override getTime(): number {
				reads++;
				return super.getTime();
			}
		}
		const scorer = compileRuleSet({
			rules: [
				{ group: 'engagement', field: 'lastSeen', operator: 'withinLastDays', days: 30, points: 5 },
				{ group: 'engagement', field: 'lastSeen', operator: 'withinLastDays', days: 7, points: 5 },
				{
					group: 'engagement',
					field: 'x',
					operator: 'exists',
					points: 5,
					decay: { kind: 'exponential', dateField: 'lastSeen', halfLifeDays: 3 },
				},
			],
		});
		const lead = { x: 1, lastSeen: new CountingDate(NOW - 2 * DAY) };
		scorer.score(lead, NOW);
		expect(reads).toBe(1);
		scorer.score(lead, NOW);
		expect(reads).toBe(2);
	});
});

describe('field reads', () => {
	it('reads each field once per lead, however many rules test it', () => {
		const scorer = compileRuleSet({
			rules: [
				{ group: 'engagement', field: 'visits', operator: 'greaterThan', value: 1, points: 5 },
				{ group: 'engagement', field: 'visits', operator: 'lessThan', value: 100, points: 5 },
				{ group: 'engagement', field: 'visits', operator: 'exists', points: 5 },
			],
		});
		let reads = 0;
		const lead = Object.defineProperty({}, 'visits', {
			enumerable: true,
			get: () => {
				reads++;
				return 7;
			},
		});
		expect(scorer.score(lead, NOW).total).toBe(15);
		expect(reads).toBe(1);
		scorer.score(lead, NOW);
		expect(reads).toBe(2);
	});
});

describe('a lead that goes quiet and re-engages', () => {
	const scorer = compileRuleSet({
		rules: [
			{
				name: 'Good fit',
				group: 'fit',
				field: 'employees',
				operator: 'greaterThan',
				value: 50,
				points: 30,
			},
			{
				name: 'Recent activity',
				group: 'engagement',
				field: 'lastActivityAt',
				operator: 'exists',
				points: 50,
				decay: { kind: 'exponential', dateField: 'lastActivityAt', halfLifeDays: 14 },
			},
			{
				name: 'Demo request',
				group: 'engagement',
				field: 'demoRequestedAt',
				operator: 'exists',
				points: 40,
				decay: {
					kind: 'linear',
					dateField: 'demoRequestedAt',
					percentPerPeriod: 50,
					periodDays: 30,
				},
			},
			{
				name: 'Unsubscribed',
				group: 'engagement',
				field: 'unsubscribed',
				operator: 'equals',
				value: true,
				points: -100,
			},
		],
		total: { cap: 100 },
		stages: [{ name: 'cold' }, { name: 'warm', minScore: 40 }, { name: 'MQL', minScore: 70 }],
	});
	const t0 = Date.parse('2024-01-01T00:00:00Z');

	it('drops below MQL as activity decays, then re-qualifies on new activity', () => {
		const lead = { employees: 200, lastActivityAt: t0, demoRequestedAt: t0 };
		const fresh = scorer.score(lead, t0);
		expect(fresh.total).toBe(100);
		expect(fresh.stage).toBe('MQL');

		const quiet = scorer.score(lead, t0 + 60 * DAY);
		expect(quiet.total).toBeCloseTo(30 + 50 * Math.pow(0.5, 60 / 14), 10);
		expect(quiet.stage).toBe('cold');
		expect(quiet.explanation.rules.find((r) => r.rule === 'Demo request')?.decayFactor).toBe(0);

		const back = scorer.score({ ...lead, lastActivityAt: t0 + 60 * DAY }, t0 + 60 * DAY);
		expect(back.total).toBe(80);
		expect(back.stage).toBe('MQL');
	});

	it('cannot be buried below the floor by negative points, so re-engagement counts in full', () => {
		const buried = scorer.score(
			{ employees: 10, unsubscribed: true, lastActivityAt: t0 - 400 * DAY },
			t0,
		);
		expect(buried.total).toBe(0);
		expect(buried.explanation.clipped).toBeGreaterThan(0);
		const back = scorer.score({ employees: 200, unsubscribed: false, lastActivityAt: t0 }, t0);
		expect(back.total).toBe(80);
	});
});
