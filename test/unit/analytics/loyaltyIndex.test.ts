import { describe, expect, it } from 'vitest';
import { loyaltyIndex } from '../../../engine/analytics/loyaltyIndex';
import { EngineError } from '../../../engine/shared/errors';

describe('loyaltyIndex', () => {
	const customers = [
		{ id: 'a', orders: 10, daysSince: 5, nps: 10 },
		{ id: 'b', orders: 5, daysSince: 50, nps: 6 },
		{ id: 'c', orders: 0, daysSince: 95, nps: '' },
		{ id: 'd', orders: '', daysSince: null, nps: undefined },
	];

	it('normalizes min–max, flips lower-is-better, and re-normalizes weights over what is present', () => {
		const { rows, summary } = loyaltyIndex(customers, {
			customerField: 'id',
			indicators: [
				{ field: 'orders', weight: 2 },
				{ field: 'daysSince', weight: 1, direction: 'lowerIsBetter' },
				{ field: 'nps', label: 'promoter', weight: 1, min: 0, max: 10 },
			],
		});
		const [a, b, c, d] = rows;
		expect(a.loyaltyIndex).toBeCloseTo(100, 12);
		expect(a.coverage).toBe(1);
		// b: orders 50, recency 100 − 50 = 50, nps 60 → (2·50 + 50 + 60) / 4.
		expect(b.loyaltyIndex).toBeCloseTo(52.5, 12);
		expect(b.contributions.orders).toEqual({ value: 5, score: 50, weight: 0.5, contribution: 25 });
		// c has no NPS: weights 2 and 1 re-normalized to 2/3 and 1/3, coverage 3/4.
		expect(c.loyaltyIndex).toBeCloseTo(0, 12);
		expect(c.coverage).toBeCloseTo(0.75, 12);
		expect(c.contributions.promoter).toEqual({
			value: null,
			score: null,
			weight: 0,
			contribution: 0,
		});
		expect(c.contributions.orders.weight).toBeCloseTo(2 / 3, 12);
		expect(d).toMatchObject({ customer: 'd', loyaltyIndex: null, coverage: 0, band: null });
		for (const row of [a, b, c]) {
			const sum = Object.values(row.contributions).reduce((s, part) => s + part.contribution, 0);
			expect(sum).toBeCloseTo(row.loyaltyIndex!, 12);
		}
		expect([a.band, b.band, c.band]).toEqual(['Champion', 'Needs Attention', 'At Risk']);
		expect(summary.excluded).toEqual({ no_indicator_values: 1 });
		expect(summary.scored).toBe(3);
		expect(summary.indicators[1]).toMatchObject({
			label: 'daysSince',
			min: 5,
			max: 95,
			present: 3,
			missing: 1,
		});
		expect(summary.bands.map((band) => band.customers)).toEqual([1, 0, 1, 1]);
	});

	it('ranks by percentile with ties sharing a rank, and clamps to fixed bounds', () => {
		const items = [1, 2, 2, 3, 100].map((v) => ({ v }));
		const ranked = loyaltyIndex(items, {
			indicators: [{ field: 'v', normalisation: 'percentileRank' }],
			bands: false,
		});
		expect(ranked.rows.map((r) => r.loyaltyIndex)).toEqual([0, 37.5, 37.5, 75, 100]);
		expect(ranked.rows[0].band).toBeNull();
		const bounded = loyaltyIndex(items, { indicators: [{ field: 'v', min: 0, max: 4 }] });
		expect(bounded.rows.map((r) => r.loyaltyIndex)).toEqual([25, 50, 50, 75, 100]);
		const flat = loyaltyIndex([{ v: 3 }, { v: 3 }], { indicators: [{ field: 'v' }] });
		expect(flat.rows.map((r) => r.loyaltyIndex)).toEqual([50, 50]);
	});

	it('counts non-numeric values as missing and says so', () => {
		const { rows, summary } = loyaltyIndex([{ v: 'lots' }, { v: 4 }, { v: 8 }], {
			indicators: [{ field: 'v' }],
		});
		expect(rows[0].loyaltyIndex).toBeNull();
		expect(summary.indicators[0].unparseable).toBe(1);
		expect(summary.warnings.join(' ')).toMatch(/1 values of "v" are not numbers/);
	});

	it('rejects bad configuration and empty input with a clear error', () => {
		const items = [{ v: 1 }];
		expect(() => loyaltyIndex([], { indicators: [{ field: 'v' }] })).toThrow(/no items/);
		expect(() => loyaltyIndex(items, { indicators: [] })).toThrow(EngineError);
		expect(() => loyaltyIndex(items, { indicators: [{ field: 'v', weight: 0 }] })).toThrow(
			/above 0/,
		);
		expect(() => loyaltyIndex(items, { indicators: [{ field: 'v' }, { field: 'v' }] })).toThrow(
			/different label/,
		);
		expect(() => loyaltyIndex(items, { indicators: [{ field: 'v', min: 5, max: 5 }] })).toThrow(
			/above its min/,
		);
		expect(() =>
			loyaltyIndex(items, { indicators: [{ field: 'v', direction: 'up' as 'higherIsBetter' }] }),
		).toThrow(/lowerIsBetter/);
		expect(() =>
			loyaltyIndex(items, { indicators: [{ field: 'v' }], bands: [{ name: 'x', min: 120 }] }),
		).toThrow(/0 to 100/);
	});
});
