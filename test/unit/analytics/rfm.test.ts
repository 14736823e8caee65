import { describe, expect, it } from 'vitest';
import {
	DEFAULT_SEGMENTS,
	rfmFromSummaries,
	rfmFromTransactions,
	RfmRow,
	tieCorrectScores,
} from '../../../engine/analytics/rfm';
import { EngineError } from '../../../engine/shared/errors';
import {
	hasCdnowMaster,
	readCdnowMaster,
	seededRandom,
	shuffle,
	TransactionItem,
} from './fixtures';

const fields = { customerField: 'customer', dateField: 'date', amountField: 'amount' };

/** Transactions with heavy ties (many one-time buyers), for when CDNOW is not beside the project. */
function syntheticTransactions(): TransactionItem[] {
	const random = seededRandom(7);
	const items: TransactionItem[] = [];
	for (let c = 0; c < 4000; c++) {
		const purchases = random() < 0.5 ? 1 : 1 + Math.floor(-Math.log(1 - random()) * 3);
		for (let k = 0; k < purchases; k++) {
			items.push({
				customer: `c${c}`,
				date: 20240101 + Math.floor(random() * 28),
				amount: Math.round(random() * 4) * 10,
			});
		}
	}
	return items;
}

describe('tieCorrectScores', () => {
	it('scores 1 + ⌊k × share strictly worse⌋, capped at k', () => {
		expect([...tieCorrectScores([10, 20, 30, 40, 50], 5, true)]).toEqual([1, 2, 3, 4, 5]);
		expect([...tieCorrectScores([10, 20, 30, 40, 50], 5, false)]).toEqual([5, 4, 3, 2, 1]);
		// Ties share the score of their lowest member: 6 of 10 customers tied at 1.
		expect([...tieCorrectScores([1, 1, 1, 1, 1, 1, 2, 2, 3, 9], 5, true)]).toEqual([
			1, 1, 1, 1, 1, 1, 4, 4, 5, 5,
		]);
		expect([...tieCorrectScores([7, 7, 7], 3, true)]).toEqual([1, 1, 1]);
		expect([...tieCorrectScores([1, 2, 3, 4], 3, true)]).toEqual([1, 1, 2, 3]);
	});
});

describe('rfmFromTransactions', () => {
	it('computes recency, frequency by purchase day, total or mean monetary, and says which', () => {
		const items = [
			{ customer: 'ann', date: '2024-01-01', amount: 10 },
			{ customer: 'ann', date: '2024-01-01', amount: 20 },
			{ customer: 'ann', date: '2024-01-10', amount: 30 },
			{ customer: 'bob', date: '2024-01-05', amount: 5 },
			{ customer: 'cat', date: '2024-01-20', amount: 100 },
		];
		const total = rfmFromTransactions(items, { ...fields, scoreLevels: 3 });
		const ann = total.rows.find((r) => r.customer === 'ann')!;
		expect(ann).toMatchObject({
			recency: 10,
			frequency: 2,
			monetary: 60,
			firstPurchase: '2024-01-01',
			lastPurchase: '2024-01-10',
		});
		expect(total.summary).toMatchObject({
			asOf: '2024-01-20',
			monetary: 'total',
			frequencyBasis: 'days',
			recencyUnit: 'days',
			customers: 3,
		});
		const mean = rfmFromTransactions(items, {
			...fields,
			monetary: 'mean',
			frequencyBasis: 'transactions',
			asOf: '2024-01-31',
		});
		const ann2 = mean.rows.find((r) => r.customer === 'ann')!;
		expect(ann2).toMatchObject({ recency: 21, frequency: 3, monetary: 20 });
		expect(mean.summary.monetary).toBe('mean');
		expect(mean.summary.frequencyBasis).toBe('transactions');
	});

	it('maps the RF grid to the named segments with Lost carved out of Hibernating', () => {
		// Five customers per recency step and per frequency step: every (R, F) quintile cell once.
		const items: TransactionItem[] = [];
		for (let r = 1; r <= 5; r++) {
			for (let f = 1; f <= 5; f++) {
				const lastDay = Date.UTC(2024, 0, 1 + 10 * r); // more recent for higher r
				for (let k = 0; k < f; k++)
					items.push({ customer: `r${r}f${f}`, date: lastDay - k * 86_400_000, amount: 10 });
			}
		}
		const { rows, summary } = rfmFromTransactions(items, { ...fields, asOf: '2024-03-01' });
		expect(summary.excluded).toEqual({});
		const segment = (r: number, f: number): string =>
			rows.find((row) => row.customer === `r${r}f${f}`)!.segment;
		for (const row of rows) expect(row.customer).toBe(`r${row.recencyScore}f${row.frequencyScore}`);
		expect(segment(5, 5)).toBe('Champions');
		expect(segment(5, 4)).toBe('Champions');
		expect(segment(4, 5)).toBe('Loyal');
		expect(segment(3, 4)).toBe('Loyal');
		expect(segment(1, 5)).toBe("Can't Lose");
		expect(segment(2, 3)).toBe('At Risk');
		expect(segment(4, 2)).toBe('Potential Loyalist');
		expect(segment(3, 3)).toBe('Need Attention');
		expect(segment(3, 2)).toBe('About to Sleep');
		expect(segment(4, 1)).toBe('Promising');
		expect(segment(5, 1)).toBe('New');
		expect(segment(1, 1)).toBe('Lost');
		expect(segment(2, 1)).toBe('Hibernating');
		expect(segment(1, 2)).toBe('Hibernating');
		expect(summary.segmentPrecedence).toEqual(DEFAULT_SEGMENTS.map((s) => s.name));
		expect(summary.segments.map((s) => s.segment)).toEqual(DEFAULT_SEGMENTS.map((s) => s.name));
		const counted = Object.fromEntries(summary.segments.map((s) => [s.segment, s.customers]));
		expect(counted).toMatchObject({ Champions: 2, Loyal: 4, Hibernating: 3, Lost: 1 });
		expect(summary.segments.reduce((sum, s) => sum + s.customers, 0)).toBe(25);
		expect(summary.segments.reduce((sum, s) => sum + s.shareOfMonetary, 0)).toBeCloseTo(1, 12);
		// With k = 3 the scores are coarser but the default segments still follow quintile positions.
		const coarse = rfmFromTransactions(items, { ...fields, asOf: '2024-03-01', scoreLevels: 3 });
		expect(coarse.rows.map((r) => r.segment)).toEqual(rows.map((r) => r.segment));
		expect(Math.max(...coarse.rows.map((r) => r.recencyScore))).toBe(3);
	});

	it('applies custom rules on the 1..k scores, first match wins, the rest are Others', () => {
		const items = [1, 2, 3, 4, 5, 6].map((n) => ({
			customer: `c${n}`,
			date: `2024-01-0${n}`,
			amount: n * 10,
		}));
		const segments = [
			{ name: 'Big spenders', monetary: [3, 3] as [number, number] },
			{ name: 'Recent', recency: [3, 3] as [number, number] },
		];
		const { rows, summary } = rfmFromTransactions(items, { ...fields, scoreLevels: 3, segments });
		const byCustomer = Object.fromEntries(rows.map((r) => [r.customer, r.segment]));
		// c5, c6: both recent and big; the first rule wins.
		expect(byCustomer).toEqual({
			c1: 'Others',
			c2: 'Others',
			c3: 'Others',
			c4: 'Others',
			c5: 'Big spenders',
			c6: 'Big spenders',
		});
		expect(summary.segmentRules).toBe('custom on scores');
		expect(summary.segments.map((s) => [s.segment, s.customers])).toEqual([
			['Big spenders', 2],
			['Recent', 0],
			['Others', 4],
		]);
	});

	it('gives identical scores to identical customers whatever the row order (CDNOW master, or synthetic ties)', () => {
		const items = hasCdnowMaster ? readCdnowMaster() : syntheticTransactions();
		const first = rfmFromTransactions(items, fields);
		const second = rfmFromTransactions(shuffle(seededRandom(42), items), fields);
		const key = (row: RfmRow): string => `${row.rfmScore}|${row.segment}`;
		const before = new Map(first.rows.map((row) => [row.customer, key(row)]));
		expect(second.rows.length).toBe(first.rows.length);
		for (const row of second.rows) expect(key(row), row.customer).toBe(before.get(row.customer));

		// Customers with the same raw values share all three scores.
		const scoresByValues = new Map<string, string>();
		for (const row of first.rows) {
			const values = `${row.recency}|${row.frequency}|${row.monetary}`;
			const seen = scoresByValues.get(values);
			if (seen === undefined) scoresByValues.set(values, row.rfmScore);
			else expect(row.rfmScore).toBe(seen);
		}
		// All one-purchase customers share F = 1; scores come from shares, not positions.
		const oneTime = first.rows.filter((r) => r.frequency === 1);
		expect(new Set(oneTime.map((r) => r.frequencyScore))).toEqual(new Set([1]));
		if (hasCdnowMaster) {
			expect(first.summary.customers).toBe(23570);
			expect(oneTime.length).toBe(12054);
			// The min-rank bins on CDNOW: F = 1 → 1, 2 → 3, 3–4 → 4, ≥ 5 → 5 (score 2 is empty).
			const f = first.summary.bins.frequency;
			expect(f.map((b) => [b.min, b.max])).toEqual([
				[1, 1],
				[null, null],
				[2, 2],
				[3, 4],
				[5, 171],
			]);
			expect(first.summary.warnings.join(' ')).toMatch(/frequency score 2/);
		}
	});

	it('counts what it leaves out and rejects bad options and empty input', () => {
		const { summary } = rfmFromTransactions(
			[
				{ customer: 'a', date: '2024-01-01', amount: 5 },
				{ customer: 'a', date: '1/2/2024', amount: 5 },
				{ customer: 'b', date: '2024-01-02', amount: -5 },
				{ customer: 'c', date: '2024-01-09', amount: 1 },
			],
			{ ...fields, asOf: '2024-01-05' },
		);
		expect(summary.customers).toBe(1);
		expect(summary.excluded).toEqual({
			unparseable_date: 1,
			negative_amount: 1,
			after_end_date: 1,
		});
		expect(() => rfmFromTransactions([], fields)).toThrow(/no items/);
		const one = [{ customer: 'a', date: '2024-01-01', amount: 5 }];
		for (const bad of [2, 6, 4.5])
			expect(() => rfmFromTransactions(one, { ...fields, scoreLevels: bad })).toThrow(/3, 4 or 5/);
		expect(() => rfmFromTransactions(one, { ...fields, monetary: 'median' as 'mean' })).toThrow(
			EngineError,
		);
		expect(() => rfmFromTransactions(one, { ...fields, asOf: 'soon' })).toThrow(/asOf/);
		expect(() =>
			rfmFromTransactions(one, { ...fields, segments: [{ name: 'x', recency: [0, 9] }] }),
		).toThrow(/between 1 and 5/);
	});
});

describe('rfmFromSummaries', () => {
	it('scores per-customer summaries, leaving out and counting unusable ones', () => {
		const { rows, summary } = rfmFromSummaries(
			[
				{ id: 1, r: 3, f: 10, m: 500 },
				{ id: 2, r: 30, f: 2, m: 50 },
				{ id: 3, r: 300, f: 1, m: 10 },
				{ id: 4, r: 'x', f: 1, m: 10 },
				{ id: 5, r: 3, f: -1, m: 10 },
				{ id: 1, r: 3, f: 10, m: 500 },
				{ r: 3, f: 10, m: 500 },
			],
			{
				customerField: 'id',
				recencyField: 'r',
				frequencyField: 'f',
				monetaryField: 'm',
				scoreLevels: 3,
			},
		);
		expect(rows.map((r) => [r.customer, r.rfmScore])).toEqual([
			['1', '333'],
			['2', '222'],
			['3', '111'],
		]);
		expect(summary.excluded).toEqual({
			unparseable_recency: 1,
			negative_frequency: 1,
			duplicate_customer: 1,
			missing_customer: 1,
		});
		expect(summary.recencyUnit).toBe('as given');
		expect(summary.bins.recency.map((b) => b.customers)).toEqual([1, 1, 1]);
	});
});
