import { describe, expect, it } from 'vitest';
import {
	bgnbdConditionalExpectedPurchases,
	bgnbdExpectedPurchases,
	bgnbdLogLikelihood,
	bgnbdProbabilityAlive,
	clvFromSummaries,
	clvFromTransactions,
	discountedClv,
	fitBgNbd,
	fitGammaGamma,
	gammaGammaExpectedSpend,
} from '../../../engine/analytics/clv';
import { EngineError } from '../../../engine/shared/errors';
import {
	calibrationSummary,
	CDNOW_BGNBD,
	CDNOW_GAMMA_GAMMA,
	hasCdnow,
	readCdnowCsv,
	seededRandom,
	simulateCustomers,
} from './fixtures';

const within = (actual: number, expected: number, tolerance: number): void => {
	expect(Math.abs(actual - expected) / Math.abs(expected), `${actual} vs ${expected}`).toBeLessThan(
		tolerance,
	);
};

/** Parameters used for the research note's test vectors (lifetimes' rounded CDNOW fit). */
const LIFETIMES_ROUNDED = { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 };

describe('BG/NBD and Gamma-Gamma reproduce the published CDNOW fits', () => {
	it.runIf(hasCdnow)('on cdnow_customers_summary.csv, within 0.1% of each parameter', () => {
		const rows = readCdnowCsv('cdnow_customers_summary.csv');
		expect(rows.length).toBe(2357);
		const fit = fitBgNbd(
			rows.map((r) => r.frequency),
			rows.map((r) => r.recency),
			rows.map((r) => r.T),
		);
		expect(fit.converged).toBe(true);
		for (const name of ['r', 'alpha', 'a', 'b'] as const)
			within(fit.params[name], CDNOW_BGNBD[name], 1e-3);
		expect(fit.logLikelihood).toBeCloseTo(-9582.43, 1);
		expect(fit.repeatCustomers).toBe(946);

		const spend = readCdnowCsv('cdnow_customers_summary_with_transactions.csv');
		const gg = fitGammaGamma(
			spend.map((r) => r.x),
			spend.map((r) => r.zbar),
		);
		expect(gg.converged).toBe(true);
		expect(gg.customers).toBe(946);
		expect(gg.excluded).toEqual({ single_purchase_for_gamma_gamma: 1411 });
		for (const name of ['p', 'q', 'v'] as const)
			within(gg.params[name], CDNOW_GAMMA_GAMMA[name], 1e-3);
		expect(gg.frequencySpendCorrelation).toBeCloseTo(0.11, 2);
	});

	it.skipIf(hasCdnow)(
		'(CDNOW not found: recovers known parameters from a seeded simulation instead)',
		() => {
			const random = seededRandom(1);
			const customers = simulateCustomers(
				random,
				20_000,
				CDNOW_BGNBD,
				[26, 39],
				0,
				CDNOW_GAMMA_GAMMA,
			).map(calibrationSummary);
			const fit = fitBgNbd(
				customers.map((c) => c.x),
				customers.map((c) => c.tx),
				customers.map((c) => c.T),
			);
			// A sample of 20,000 pins the parameters down to a few standard errors, not to 0.1%.
			for (const name of ['r', 'alpha', 'a', 'b'] as const) {
				expect(Math.abs(fit.params[name] - CDNOW_BGNBD[name]), name).toBeLessThan(
					4 * fit.standardErrors![name],
				);
				within(fit.params[name], CDNOW_BGNBD[name], 0.3);
			}
			const gg = fitGammaGamma(
				customers.map((c) => c.x),
				customers.map((c) => c.mean),
			);
			for (const name of ['p', 'q', 'v'] as const) {
				expect(Math.abs(gg.params[name] - CDNOW_GAMMA_GAMMA[name]), name).toBeLessThan(
					4 * gg.standardErrors![name],
				);
			}
		},
	);

	it('matches the reference expectations computed with scipy (test vectors, weeks)', () => {
		const p = LIFETIMES_ROUNDED;
		within(bgnbdExpectedPurchases(p, 39), 1.196723, 1e-6);
		within(bgnbdExpectedPurchases(p, 78), 1.860519, 1e-6);
		const vectors: [number, number, number, number, number, number][] = [
			[0, 0, 38.86, 1, 0.195098, 0.252073],
			[2, 30.43, 38.86, 0.726579, 1.226028, 1.558721],
			[1, 1.71, 38.86, 0.212101, 0.203187, 0.259823],
			[7, 29.43, 35, 0.778977, 4.369282, 5.478979],
			[7, 10, 35, 0.007227, 0.040538, 0.050834],
		];
		// The vectors are printed to 6 decimals: agree to within half a unit in the last place.
		for (const [x, tx, T, alive, y39, y52] of vectors) {
			expect(Math.abs(bgnbdProbabilityAlive(p, x, tx, T) - alive)).toBeLessThan(5e-7);
			expect(Math.abs(bgnbdConditionalExpectedPurchases(p, 39, x, tx, T) - y39)).toBeLessThan(5e-7);
			expect(Math.abs(bgnbdConditionalExpectedPurchases(p, 52, x, tx, T) - y52)).toBeLessThan(5e-7);
		}
		// The stress case: 150 repeat purchases, where the plain series would sum terms near 1e34.
		within(bgnbdConditionalExpectedPurchases(p, 52, 150, 70, 72), 64.39168321871253, 1e-10);
		const spend = { p: 6.25, q: 3.74, v: 15.44 };
		within(gammaGammaExpectedSpend(spend, 1, 11.77), 18.916852, 1e-7);
		within(gammaGammaExpectedSpend(spend, 2, 22.35), 24.663714, 1e-7);
		within(gammaGammaExpectedSpend(spend, 6, 40), 39.674453, 1e-7);
		within(gammaGammaExpectedSpend(spend, 0, 0), (15.44 * 6.25) / 2.74, 1e-12);
	});

	it('stays finite and sensible at the extremes (a near 1, long horizons, huge frequency)', () => {
		const nearOne = { ...LIFETIMES_ROUNDED, a: 1 + 1e-12 };
		const exactlyOne = { ...LIFETIMES_ROUNDED, a: 1 };
		within(bgnbdExpectedPurchases(exactlyOne, 39), bgnbdExpectedPurchases(nearOne, 39), 1e-6);
		within(
			bgnbdConditionalExpectedPurchases(exactlyOne, 39, 3, 20, 30),
			bgnbdConditionalExpectedPurchases(nearOne, 39, 3, 20, 30),
			1e-6,
		);
		let previous = 0;
		for (const t of [1, 52, 520, 5200, 52_000]) {
			const value = bgnbdConditionalExpectedPurchases(LIFETIMES_ROUNDED, t, 171, 77, 78);
			expect(Number.isFinite(value)).toBe(true);
			expect(value).toBeGreaterThan(previous);
			previous = value;
		}
		// 171 purchases and then silence for 77 weeks: certainly gone, without overflow.
		expect(bgnbdProbabilityAlive(LIFETIMES_ROUNDED, 171, 1, 78)).toBeLessThan(1e-100);
		expect(bgnbdConditionalExpectedPurchases(LIFETIMES_ROUNDED, 52, 171, 1, 78)).toBeLessThan(
			1e-100,
		);
		expect(bgnbdProbabilityAlive(LIFETIMES_ROUNDED, 1e4, 1, 78)).toBe(0);
	});
});

describe('fitting simulated data with known parameters', () => {
	const truth = { r: 0.5, alpha: 6, a: 0.9, b: 3 };
	const spend = { p: 5, q: 4, v: 20 };
	const random = seededRandom(11);
	const simulated = simulateCustomers(random, 20_000, truth, [20, 52], 26, spend);
	const calibration = simulated.map(calibrationSummary);
	const fit = fitBgNbd(
		calibration.map((c) => c.x),
		calibration.map((c) => c.tx),
		calibration.map((c) => c.T),
	);

	it('recovers the BG/NBD parameters within 4 standard errors (and 25%)', () => {
		expect(fit.converged).toBe(true);
		expect(fit.standardErrors).toBeDefined();
		for (const name of ['r', 'alpha', 'a', 'b'] as const) {
			expect(Math.abs(fit.params[name] - truth[name]), name).toBeLessThan(
				4 * fit.standardErrors![name],
			);
			within(fit.params[name], truth[name], 0.25);
		}
		// The maximum is a maximum: the true parameters have a lower likelihood.
		expect(fit.logLikelihood).toBeGreaterThan(
			bgnbdLogLikelihood(
				truth,
				calibration.map((c) => c.x),
				calibration.map((c) => c.tx),
				calibration.map((c) => c.T),
			),
		);
	});

	it('predicts the purchases of the next 26 weeks and who is still active', () => {
		const predicted = calibration.reduce(
			(s, c) => s + bgnbdConditionalExpectedPurchases(fit.params, 26, c.x, c.tx, c.T),
			0,
		);
		const actual = calibration.reduce((s, c) => s + c.later, 0);
		within(predicted, actual, 0.05);
		// P(alive) is calibrated against the simulated truth, bucket by bucket.
		const buckets = Array.from({ length: 5 }, () => ({ predicted: 0, alive: 0, n: 0 }));
		simulated.forEach((customer, i) => {
			const c = calibration[i];
			if (c.x === 0) return;
			const pAlive = bgnbdProbabilityAlive(fit.params, c.x, c.tx, c.T);
			const bucket = buckets[Math.min(4, Math.floor(pAlive * 5))];
			bucket.predicted += pAlive;
			bucket.alive += customer.aliveAtT ? 1 : 0;
			bucket.n++;
		});
		for (const bucket of buckets.filter((b) => b.n > 200)) {
			expect(Math.abs(bucket.predicted / bucket.n - bucket.alive / bucket.n)).toBeLessThan(0.05);
		}
	});

	it('recovers the Gamma-Gamma parameters and the population mean spend', () => {
		const gg = fitGammaGamma(
			calibration.map((c) => c.x),
			calibration.map((c) => c.mean),
		);
		expect(gg.excluded.single_purchase_for_gamma_gamma).toBe(
			calibration.filter((c) => c.x === 0).length,
		);
		within(
			(gg.params.v * gg.params.p) / (gg.params.q - 1),
			(spend.v * spend.p) / (spend.q - 1),
			0.05,
		);
		for (const name of ['p', 'q', 'v'] as const) {
			expect(Math.abs(gg.params[name] - spend[name]), name).toBeLessThan(
				4 * gg.standardErrors![name],
			);
		}
	});

	it('gives the same r, a, b whether time is in days or weeks, with alpha scaled by 7', () => {
		// The invariance holds for any sample: 2,000 of the customers, fitted in both units (two fits of
		// 2,000 cost a fifth of one of 20,000; the results agree to ~1e-6 at either size).
		const sample = calibration.slice(0, 2_000);
		const inWeeks = fitBgNbd(
			sample.map((c) => c.x),
			sample.map((c) => c.tx),
			sample.map((c) => c.T),
		);
		const inDays = fitBgNbd(
			sample.map((c) => c.x),
			sample.map((c) => c.tx * 7),
			sample.map((c) => c.T * 7),
		);
		expect(inWeeks.converged && inDays.converged).toBe(true);
		within(inDays.params.alpha, inWeeks.params.alpha * 7, 1e-4);
		for (const name of ['r', 'a', 'b'] as const)
			within(inDays.params[name], inWeeks.params[name], 1e-4);
	});
});

describe('clvFromTransactions', () => {
	const fields = { customerField: 'customer', dateField: 'date', amountField: 'amount' };

	/** Simulated transactions over 52 weeks from 2023-01-01, purchases on whole days. */
	function transactions(): Record<string, unknown>[] {
		const random = seededRandom(5);
		const start = Date.UTC(2023, 0, 1);
		const items: Record<string, unknown>[] = [];
		simulateCustomers(random, 3000, { r: 0.5, alpha: 6, a: 0.9, b: 3 }, [10, 52], 0, {
			p: 5,
			q: 4,
			v: 20,
		}).forEach((c, id) => {
			const first = 52 - c.T;
			c.times.forEach((t, k) => {
				if (t <= c.T)
					items.push({
						customer: `c${id}`,
						date: new Date(start + Math.floor((first + t) * 7) * 86_400_000),
						amount: c.values[k],
					});
			});
		});
		return items;
	}

	it('summarises, fits and predicts every customer, in weeks or days', () => {
		const items = transactions();
		const weeks = clvFromTransactions(items, { ...fields, observationEnd: '2023-12-31' });
		const days = clvFromTransactions(items, {
			...fields,
			observationEnd: '2023-12-31',
			timeUnit: 'days',
		});
		expect(weeks.summary.customers).toBe(3000);
		expect(weeks.summary.observationEnd).toBe('2023-12-31');
		within(days.summary.bgnbd.params.alpha, weeks.summary.bgnbd.params.alpha * 7, 1e-3);
		within(days.summary.bgnbd.params.r, weeks.summary.bgnbd.params.r, 1e-3);
		// A month is 30 days or 4.345 weeks, so the two CLVs agree closely but not exactly.
		within(days.summary.totals.clv!, weeks.summary.totals.clv!, 0.02);
		for (const row of weeks.rows) {
			expect(row.churnRisk).toBeCloseTo(1 - row.probabilityAlive, 12);
			expect(row.clv).toBeGreaterThanOrEqual(0);
			expect(row.expectedPurchases).toBeGreaterThanOrEqual(0);
			expect(row.purchases).toBe(row.frequency + 1);
			expect(row.recency).toBeLessThanOrEqual(row.age);
		}
		expect(weeks.summary.excluded.single_purchase_for_gamma_gamma).toBe(
			weeks.rows.filter((r) => r.frequency === 0).length,
		);
		const total = weeks.rows.reduce((s, r) => s + r.historicalValue!, 0);
		expect(weeks.summary.totals.historicalValue).toBeCloseTo(total, 6);
	});

	it('builds x, t_x, T and the repeat-purchase mean the lifetimes way', () => {
		const items = [
			{ customer: 'a', date: '2024-01-01', amount: 10 },
			{ customer: 'a', date: '2024-01-01', amount: 5 },
			{ customer: 'a', date: '2024-01-08', amount: 20 },
			{ customer: 'a', date: '2024-01-15', amount: 40 },
			{ customer: 'b', date: '2024-01-22', amount: 7 },
		];
		const { rows, summary } = clvFromTransactions(items, {
			...fields,
			observationEnd: '2024-01-29',
			params: { bgnbd: LIFETIMES_ROUNDED, gammaGamma: { p: 6.25, q: 3.74, v: 15.44 } },
		});
		expect(rows[0]).toMatchObject({
			purchases: 3,
			frequency: 2,
			recency: 2,
			age: 4,
			monetaryValue: 30,
			historicalValue: 75,
		});
		expect(rows[1]).toMatchObject({
			purchases: 1,
			frequency: 0,
			recency: 0,
			age: 1,
			monetaryValue: null,
			probabilityAlive: 1,
		});
		expect(summary.bgnbd.fitted).toBe(false);
		expect(rows[0].probabilityAlive).toBeCloseTo(
			bgnbdProbabilityAlive(LIFETIMES_ROUNDED, 2, 2, 4),
			12,
		);
		expect(rows[0].expectedSpend).toBeCloseTo(
			gammaGammaExpectedSpend({ p: 6.25, q: 3.74, v: 15.44 }, 2, 30),
			12,
		);
	});

	it('discounts CLV monthly; without discounting it is spend × expected purchases', () => {
		const settings = {
			horizonMonths: 12,
			unitsPerMonth: 4.345,
			monthlyDiscountRate: 0,
			profitMargin: 1,
		};
		const plain = discountedClv(LIFETIMES_ROUNDED, 30, 2, 30.43, 38.86, settings);
		within(
			plain.expectedPurchases,
			bgnbdConditionalExpectedPurchases(LIFETIMES_ROUNDED, 12 * 4.345, 2, 30.43, 38.86),
			1e-12,
		);
		within(plain.clv, 30 * plain.expectedPurchases, 1e-12);
		const discounted = discountedClv(LIFETIMES_ROUNDED, 30, 2, 30.43, 38.86, {
			...settings,
			monthlyDiscountRate: 0.01,
			profitMargin: 0.4,
		});
		expect(discounted.clv).toBeLessThan(0.4 * plain.clv);
		expect(discounted.clv).toBeGreaterThan((0.4 * plain.clv) / 1.01 ** 12);
	});

	it('counts bad rows, and rejects empty input, bad options and data it cannot fit', () => {
		const items = transactions();
		items.push(
			{ customer: 'z', date: '31/12/2023', amount: 1 },
			{ customer: 'z', date: '2023-06-01', amount: -4 },
		);
		const { summary } = clvFromTransactions(items, fields);
		expect(summary.excluded).toMatchObject({ unparseable_date: 1, negative_amount: 1 });
		expect(summary.excluded.single_purchase_for_gamma_gamma).toBeGreaterThan(0);

		expect(() => clvFromTransactions([], fields)).toThrow(/no items/);
		expect(() => clvFromTransactions(items, { ...fields, timeUnit: 'months' as 'days' })).toThrow(
			/timeUnit/,
		);
		expect(() => clvFromTransactions(items, { ...fields, monthlyDiscountRate: 5 })).toThrow(
			/monthlyDiscountRate/,
		);
		expect(() => clvFromTransactions(items, { ...fields, horizonMonths: 0 })).toThrow(
			/horizonMonths/,
		);
		const oneTimers = Array.from({ length: 20 }, (_, i) => ({
			customer: `c${i}`,
			date: '2024-01-01',
			amount: 3,
		}));
		try {
			clvFromTransactions(oneTimers, fields);
			expect.unreachable();
		} catch (error) {
			expect(error).toBeInstanceOf(EngineError);
			expect((error as EngineError).code).toBe('insufficient_data');
		}
	});
});

describe('clvFromSummaries', () => {
	it.runIf(hasCdnow)('fits the CDNOW cohort from summary items and predicts every customer', () => {
		const items = readCdnowCsv('cdnow_customers_summary_with_transactions.csv');
		const { rows, summary } = clvFromSummaries(items, {
			customerField: 'ID',
			frequencyField: 'x',
			recencyField: 't_x',
			ageField: 'T',
			monetaryField: 'zbar',
		});
		expect(rows.length).toBe(2357);
		// The CSV rounds t_x and T to 2 decimals, as the summary file does: same fit.
		for (const name of ['r', 'alpha', 'a', 'b'] as const)
			within(summary.bgnbd.params[name], CDNOW_BGNBD[name], 1e-3);
		for (const name of ['p', 'q', 'v'] as const)
			within(summary.gammaGamma.params![name], CDNOW_GAMMA_GAMMA[name], 1e-3);
		expect(summary.excluded).toEqual({ single_purchase_for_gamma_gamma: 1411 });
		expect(rows[0].historicalValue).toBeNull();
	});

	it('runs to the bound and says so when nobody seems to drop out, instead of iterating forever', () => {
		// Simulated with a dropout probability of about one in a million.
		const items = simulateCustomers(
			seededRandom(3),
			500,
			{ r: 1, alpha: 5, a: 1e-6, b: 1 },
			[20, 40],
		)
			.map(calibrationSummary)
			.map((c, id) => ({ id, x: c.x, tx: c.tx, T: c.T, m: c.x > 0 ? 10 + (id % 13) : '' }));
		const { rows, summary } = clvFromSummaries(items, {
			customerField: 'id',
			frequencyField: 'x',
			recencyField: 'tx',
			ageField: 'T',
			monetaryField: 'm',
		});
		expect(summary.bgnbd.fit!.converged).toBe(true);
		expect(summary.bgnbd.fit!.atBound).toContain('a');
		expect(summary.warnings.join(' ')).toMatch(
			/ran to their bound: the data carry little information about customers dropping out/,
		);
		// Nobody drops out, so everyone is (almost surely) still active.
		for (const row of rows) expect(row.probabilityAlive).toBeGreaterThan(0.999);
	});

	it('leaves out inconsistent summaries and counts them', () => {
		const items: Record<string, unknown>[] = Array.from({ length: 30 }, (_, i) => ({
			id: i,
			x: i % 3,
			tx: i % 3 === 0 ? 0 : 5 + (i % 7),
			T: 20,
			m: i % 3 === 0 ? '' : 10 + i,
		}));
		items.push(
			{ id: 'late', x: 2, tx: 25, T: 20, m: 5 },
			{ id: 'odd', x: 0, tx: 3, T: 20 },
			{ id: 'neg', x: -1, tx: 0, T: 20 },
		);
		const { summary } = clvFromSummaries(items, {
			customerField: 'id',
			frequencyField: 'x',
			recencyField: 'tx',
			ageField: 'T',
			monetaryField: 'm',
		});
		expect(summary.customers).toBe(30);
		expect(summary.excluded).toMatchObject({ inconsistent_summary: 2, negative_frequency: 1 });
	});
});
