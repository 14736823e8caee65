import { describe, expect, it } from 'vitest';
import {
	auc,
	averagePrecision,
	bootstrapAucInterval,
	brierScore,
	calibrationTable,
	createRandom,
	evaluateScores,
	liftAt,
	logLoss,
} from '../../../engine/scoring';
import { engineError } from './helpers';
import { seededRandom } from './synthetic';

/** AUC by definition: over all converter/non-converter pairs, wins plus half the ties. */
function pairwiseAuc(scores: number[], labels: number[]): number {
	let wins = 0;
	let pairs = 0;
	for (let i = 0; i < scores.length; i++) {
		if (labels[i] !== 1) continue;
		for (let j = 0; j < scores.length; j++) {
			if (labels[j] !== 0) continue;
			pairs++;
			wins += scores[i] > scores[j] ? 1 : scores[i] === scores[j] ? 0.5 : 0;
		}
	}
	return wins / pairs;
}

function randomData(
	seed: number,
	n: number,
	distinct: boolean,
): { scores: number[]; labels: number[] } {
	const random = seededRandom(seed);
	const labels = Array.from({ length: n }, () => (random() < 0.3 ? 1 : 0));
	const scores = labels.map((y) => {
		const s = random() + 0.4 * y;
		return distinct ? s : Math.round(s * 5) / 5;
	});
	return { scores, labels };
}

describe('AUC', () => {
	it('matches the textbook example and counts ties as half', () => {
		expect(auc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBe(0.75);
		expect(auc([1, 1, 2, 2], [0, 1, 0, 1])).toBe(0.5);
		expect(auc([3, 3, 3], [1, 0, 1])).toBe(0.5);
	});

	it('equals the pairwise definition on random data with many ties', () => {
		for (let seed = 1; seed <= 5; seed++) {
			const { scores, labels } = randomData(seed, 400, false);
			expect(auc(scores, labels)).toBeCloseTo(pairwiseAuc(scores, labels), 12);
		}
	});

	it('is NaN without both classes and refuses bad input', () => {
		expect(auc([1, 2], [1, 1])).toBeNaN();
		expect(engineError(() => auc([1, 2], [1])).field).toBe('labels');
		expect(engineError(() => auc([1, NaN], [1, 0])).field).toBe('scores');
		expect(engineError(() => auc([1, 2], [1, 2])).field).toBe('labels');
	});
});

describe('bootstrap interval for the AUC', () => {
	const { scores, labels } = randomData(11, 600, false);

	it('is reproducible for a seed and changes with the seed', () => {
		const a = bootstrapAucInterval(scores, labels, { samples: 300, seed: 5 });
		const b = bootstrapAucInterval(scores, labels, { samples: 300, seed: 5 });
		const c = bootstrapAucInterval(scores, labels, { samples: 300, seed: 6 });
		expect(b).toEqual(a);
		expect(c.lower).not.toBe(a.lower);
		expect(a.samples).toBe(300);
	});

	it('brackets the AUC and narrows with more leads', () => {
		const point = auc(scores, labels);
		const small = bootstrapAucInterval(scores.slice(0, 150), labels.slice(0, 150), {
			samples: 400,
		});
		const large = bootstrapAucInterval(scores, labels, { samples: 400 });
		expect(large.lower).toBeLessThan(point);
		expect(large.upper).toBeGreaterThan(point);
		expect(large.upper - large.lower).toBeLessThan(small.upper - small.lower);
	});

	it('scores each resample exactly as the AUC of the resampled leads', () => {
		// One resample gives lower = upper = that resample's AUC; rebuild it with the same PRNG draws.
		const seed = 42;
		const single = bootstrapAucInterval(scores, labels, { samples: 1, seed });
		const random = createRandom(seed);
		const picked = Array.from({ length: scores.length }, () =>
			Math.floor(random() * scores.length),
		);
		const expected = auc(
			picked.map((i) => scores[i]),
			picked.map((i) => labels[i]),
		);
		expect(single.lower).toBeCloseTo(expected, 12);
		expect(single.upper).toBeCloseTo(expected, 12);
	});

	it('refuses nonsense options', () => {
		expect(engineError(() => bootstrapAucInterval(scores, labels, { samples: 0 })).field).toBe(
			'samples',
		);
		expect(engineError(() => bootstrapAucInterval(scores, labels, { confidence: 95 })).field).toBe(
			'confidence',
		);
	});
});

describe('average precision (PR-AUC)', () => {
	it('matches the textbook example', () => {
		expect(averagePrecision([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBeCloseTo(0.8333333333, 9);
	});

	it('equals the mean precision at each converter when scores are distinct', () => {
		const { scores, labels } = randomData(4, 300, true);
		const order = scores.map((_, i) => i).sort((a, b) => scores[b] - scores[a]);
		let found = 0;
		let sum = 0;
		order.forEach((i, rank) => {
			if (labels[i] === 1) {
				found++;
				sum += found / (rank + 1);
			}
		});
		expect(averagePrecision(scores, labels)).toBeCloseTo(sum / found, 12);
	});

	it('treats a run of ties as one threshold and is NaN without converters', () => {
		expect(averagePrecision([1, 1, 1, 1], [1, 0, 0, 1])).toBe(0.5);
		expect(averagePrecision([1, 2], [0, 0])).toBeNaN();
	});
});

describe('lift', () => {
	it('compares the top decile rate with the overall rate', () => {
		const scores = Array.from({ length: 100 }, (_, i) => i);
		// 20 converters overall, 5 of them among the 10 highest scores.
		const labels = scores.map((s) => (s >= 95 || (s < 15 && s >= 0) ? 1 : 0));
		expect(liftAt(scores, labels, 0.1)).toEqual({ lift: 2.5, capture: 0.25, leads: 10 });
	});

	it('shares tied places at the cut-off pro rata', () => {
		expect(liftAt([5, 5, 5, 5], [1, 0, 0, 0], 0.5).lift).toBe(1);
		// Top 2 of [9, 5, 5, 5]: the 9 (a converter) and half of one of three tied leads holding 1 converter.
		const r = liftAt([9, 5, 5, 5], [1, 1, 0, 0], 0.5);
		expect(r.capture).toBeCloseTo((1 + 1 / 3) / 2, 12);
	});
});

describe('probability metrics', () => {
	it('Brier score and log loss match hand calculation', () => {
		expect(brierScore([0.9, 0.2], [1, 0])).toBeCloseTo(0.025, 12);
		expect(logLoss([0.9, 0.2], [1, 0])).toBeCloseTo(-(Math.log(0.9) + Math.log(0.8)) / 2, 12);
		expect(Number.isFinite(logLoss([0, 1], [1, 0]))).toBe(true);
		expect(engineError(() => brierScore([1.2], [1])).field).toBe('probabilities');
	});

	it('calibration table bins by predicted probability and reports the ECE', () => {
		const { bins, ece } = calibrationTable([0.05, 0.05, 0.15, 1, 0.95], [0, 1, 0, 1, 1], 10);
		expect(bins).toHaveLength(10);
		expect(bins[0]).toMatchObject({
			lower: 0,
			upper: 0.1,
			count: 2,
			meanPredicted: 0.05,
			observedRate: 0.5,
		});
		expect(bins[1]).toMatchObject({ count: 1, observedRate: 0 });
		expect(bins[5]).toMatchObject({ count: 0, meanPredicted: null, observedRate: null });
		expect(bins[9]).toMatchObject({ count: 2, meanPredicted: 0.975, observedRate: 1 });
		expect(ece).toBeCloseTo((2 / 5) * 0.45 + (1 / 5) * 0.15 + (2 / 5) * 0.025, 12);
	});

	it('evaluateScores agrees with the individual metrics', () => {
		const { scores, labels } = randomData(8, 500, false);
		const probabilities = scores.map((s) => Math.min(1, s / 1.4));
		const m = evaluateScores(scores, probabilities, labels, { samples: 200, seed: 3 });
		expect(m.auc).toBe(auc(scores, labels));
		expect(m.prAuc).toBe(averagePrecision(scores, labels));
		expect(m.topDecileLift).toBe(liftAt(scores, labels, 0.1).lift);
		expect(m.brier).toBe(brierScore(probabilities, labels));
		expect(m.ece).toBe(calibrationTable(probabilities, labels).ece);
		expect(m.baseRate).toBe(labels.reduce((a, b) => a + b, 0) / labels.length);
		expect(m.aucInterval).toEqual(bootstrapAucInterval(scores, labels, { samples: 200, seed: 3 }));
	});
});
