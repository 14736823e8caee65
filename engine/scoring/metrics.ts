/*
 * How well a score ranks and predicts conversions: AUC (rank statistic, ties averaged) with a seeded
 * bootstrap interval, PR-AUC (average precision), top-decile lift, Brier score, log loss and a
 * calibration table. Labels are 0/1; scores may be on any scale, probabilities in [0, 1].
 */
import { EngineError } from '../shared/errors';
import { createRandom } from './random';

/** Indices sorted by ascending score, and the boundaries of runs of equal scores. */
interface RankOrder {
	order: Uint32Array;
	/** tieStart[k] .. tieStart[k+1]-1 are positions in `order` holding one tied score. */
	tieStart: Uint32Array;
}

function checkInputs(scores: ArrayLike<number>, labels: ArrayLike<number>, what: string): void {
	if (scores.length !== labels.length) {
		throw new EngineError(
			'invalid_metric_input',
			`${what} needs as many labels as scores; got ${scores.length} scores and ${labels.length} labels.`,
			{
				field: 'labels',
			},
		);
	}
	for (let i = 0; i < scores.length; i++) {
		if (!Number.isFinite(scores[i])) {
			throw new EngineError('invalid_metric_input', `${what}: score ${i} is not a finite number.`, {
				field: 'scores',
			});
		}
		if (labels[i] !== 0 && labels[i] !== 1) {
			throw new EngineError('invalid_metric_input', `${what}: label ${i} must be 0 or 1.`, {
				field: 'labels',
			});
		}
	}
}

function rankOrder(scores: ArrayLike<number>): RankOrder {
	const n = scores.length;
	const order = new Uint32Array(n);
	for (let i = 0; i < n; i++) order[i] = i;
	order.sort((a, b) => scores[a] - scores[b]);
	const starts: number[] = [];
	for (let i = 0; i < n; i++)
		if (i === 0 || scores[order[i]] !== scores[order[i - 1]]) starts.push(i);
	starts.push(n);
	return { order, tieStart: Uint32Array.from(starts) };
}

/**
 * Area under the ROC curve with each lead weighted by `weights[i]` (1 when omitted): the chance
 * that a random converter outscores a random non-converter, ties counting half. NaN without both classes.
 */
function weightedAuc(
	rank: RankOrder,
	labels: ArrayLike<number>,
	weights?: ArrayLike<number>,
): number {
	const { order, tieStart } = rank;
	let negativesBelow = 0;
	let pairs = 0;
	let positives = 0;
	for (let k = 0; k + 1 < tieStart.length; k++) {
		let groupPos = 0;
		let groupNeg = 0;
		for (let j = tieStart[k]; j < tieStart[k + 1]; j++) {
			const i = order[j];
			const w = weights === undefined ? 1 : weights[i];
			if (labels[i] === 1) groupPos += w;
			else groupNeg += w;
		}
		pairs += groupPos * (negativesBelow + 0.5 * groupNeg);
		negativesBelow += groupNeg;
		positives += groupPos;
	}
	const denominator = positives * negativesBelow;
	return denominator === 0 ? NaN : pairs / denominator;
}

/** ROC AUC via the Mann-Whitney rank statistic, ties averaged. NaN when one class is absent. */
export function auc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
	checkInputs(scores, labels, 'AUC');
	return weightedAuc(rankOrder(scores), labels);
}

export interface BootstrapOptions {
	/** Resamples; default 1000. */
	samples?: number;
	/** Two-sided coverage; default 0.95. */
	confidence?: number;
	/** PRNG seed so the interval is reproducible; default 1. */
	seed?: number;
}

export interface ConfidenceInterval {
	lower: number;
	upper: number;
	confidence: number;
	/** Resamples that held both classes and so produced an AUC. */
	samples: number;
	seed: number;
}

/** Percentile of sorted values with linear interpolation (R type 7). */
function quantile(sorted: Float64Array, q: number): number {
	if (sorted.length === 0) return NaN;
	const h = (sorted.length - 1) * q;
	const lo = Math.floor(h);
	const hi = Math.min(lo + 1, sorted.length - 1);
	return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

/**
 * Percentile bootstrap interval for the AUC. Sorts once; each resample is drawn as per-lead counts
 * and scored in one linear pass, so 1000 resamples of 10,000 leads take well under a second.
 */
export function bootstrapAucInterval(
	scores: ArrayLike<number>,
	labels: ArrayLike<number>,
	options: BootstrapOptions = {},
): ConfidenceInterval {
	checkInputs(scores, labels, 'AUC bootstrap');
	const samples = options.samples ?? 1000;
	const confidence = options.confidence ?? 0.95;
	const seed = options.seed ?? 1;
	if (!Number.isInteger(samples) || samples < 1) {
		throw new EngineError(
			'invalid_metric_input',
			`Bootstrap "samples" must be a whole number of 1 or more; got ${samples}.`,
			{
				field: 'samples',
			},
		);
	}
	if (!(confidence > 0 && confidence < 1)) {
		throw new EngineError(
			'invalid_metric_input',
			`Bootstrap "confidence" must be between 0 and 1, e.g. 0.95; got ${confidence}.`,
			{
				field: 'confidence',
			},
		);
	}
	const n = scores.length;
	const rank = rankOrder(scores);
	const random = createRandom(seed);
	const counts = new Float64Array(n);
	const values: number[] = [];
	for (let s = 0; s < samples; s++) {
		counts.fill(0);
		for (let d = 0; d < n; d++) counts[Math.floor(random() * n)]++;
		const value = weightedAuc(rank, labels, counts);
		if (value === value) values.push(value);
	}
	const sorted = Float64Array.from(values).sort();
	const tail = (1 - confidence) / 2;
	return {
		lower: quantile(sorted, tail),
		upper: quantile(sorted, 1 - tail),
		confidence,
		samples: values.length,
		seed,
	};
}

/**
 * Average precision (PR-AUC): the mean precision at each recall step, taking each run of tied scores
 * as one threshold (as scikit-learn does). NaN without converters.
 */
export function averagePrecision(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
	checkInputs(scores, labels, 'PR-AUC');
	const { order, tieStart } = rankOrder(scores);
	let positives = 0;
	for (let i = 0; i < labels.length; i++) positives += labels[i];
	if (positives === 0) return NaN;
	let truePos = 0;
	let falsePos = 0;
	let ap = 0;
	// Highest scores first: walk the tie runs from the end.
	for (let k = tieStart.length - 2; k >= 0; k--) {
		let groupPos = 0;
		let groupNeg = 0;
		for (let j = tieStart[k]; j < tieStart[k + 1]; j++) {
			if (labels[order[j]] === 1) groupPos++;
			else groupNeg++;
		}
		truePos += groupPos;
		falsePos += groupNeg;
		if (groupPos > 0) ap += (groupPos / positives) * (truePos / (truePos + falsePos));
	}
	return ap;
}

export interface Lift {
	/** Conversion rate among the top `fraction` divided by the overall rate. */
	lift: number;
	/** Share of all converters found in the top `fraction`. */
	capture: number;
	/** How many leads the top `fraction` holds: ceil(n x fraction). */
	leads: number;
}

/**
 * Lift in the top `fraction` of leads by score (0.1: top decile). Leads tied at the cut-off share
 * the remaining places pro rata, which is the expected result of breaking the tie at random.
 */
export function liftAt(scores: ArrayLike<number>, labels: ArrayLike<number>, fraction = 0.1): Lift {
	checkInputs(scores, labels, 'Lift');
	if (!(fraction > 0 && fraction <= 1)) {
		throw new EngineError(
			'invalid_metric_input',
			`The lift fraction must be above 0 and at most 1, e.g. 0.1; got ${fraction}.`,
			{
				field: 'fraction',
			},
		);
	}
	const n = scores.length;
	let positives = 0;
	for (let i = 0; i < n; i++) positives += labels[i];
	const leads = Math.ceil(n * fraction);
	if (n === 0 || positives === 0) return { lift: NaN, capture: NaN, leads };
	const { order, tieStart } = rankOrder(scores);
	let taken = 0;
	let found = 0;
	for (let k = tieStart.length - 2; k >= 0 && taken < leads; k--) {
		const size = tieStart[k + 1] - tieStart[k];
		let groupPos = 0;
		for (let j = tieStart[k]; j < tieStart[k + 1]; j++) groupPos += labels[order[j]];
		const take = Math.min(size, leads - taken);
		found += (groupPos * take) / size;
		taken += take;
	}
	return { lift: found / leads / (positives / n), capture: found / positives, leads };
}

function checkProbabilities(
	probabilities: ArrayLike<number>,
	labels: ArrayLike<number>,
	what: string,
): void {
	checkInputs(probabilities, labels, what);
	for (let i = 0; i < probabilities.length; i++) {
		if (probabilities[i] < 0 || probabilities[i] > 1) {
			throw new EngineError(
				'invalid_metric_input',
				`${what}: probability ${i} (${probabilities[i]}) is outside 0 to 1.`,
				{
					field: 'probabilities',
				},
			);
		}
	}
}

/** Mean squared difference between predicted probability and outcome. */
export function brierScore(probabilities: ArrayLike<number>, labels: ArrayLike<number>): number {
	checkProbabilities(probabilities, labels, 'Brier score');
	let sum = 0;
	for (let i = 0; i < probabilities.length; i++) sum += (probabilities[i] - labels[i]) ** 2;
	return probabilities.length === 0 ? NaN : sum / probabilities.length;
}

/** Mean negative log-likelihood, probabilities clipped to [1e-15, 1 - 1e-15]. */
export function logLoss(probabilities: ArrayLike<number>, labels: ArrayLike<number>): number {
	checkProbabilities(probabilities, labels, 'Log loss');
	let sum = 0;
	for (let i = 0; i < probabilities.length; i++) {
		const p = Math.min(1 - 1e-15, Math.max(1e-15, probabilities[i]));
		sum -= labels[i] === 1 ? Math.log(p) : Math.log(1 - p);
	}
	return probabilities.length === 0 ? NaN : sum / probabilities.length;
}

export interface CalibrationBin {
	lower: number;
	upper: number;
	count: number;
	/** Mean predicted probability in the bin; null when empty. */
	meanPredicted: number | null;
	/** Share of converters in the bin; null when empty. */
	observedRate: number | null;
}

export interface Calibration {
	bins: CalibrationBin[];
	/** Expected calibration error: bin-size-weighted mean |meanPredicted - observedRate|. */
	ece: number;
}

/** Equal-width bins over [0, 1] (a probability of exactly 1 falls in the last bin). */
export function calibrationTable(
	probabilities: ArrayLike<number>,
	labels: ArrayLike<number>,
	binCount = 10,
): Calibration {
	checkProbabilities(probabilities, labels, 'Calibration');
	if (!Number.isInteger(binCount) || binCount < 1) {
		throw new EngineError(
			'invalid_metric_input',
			`The number of calibration bins must be a whole number of 1 or more; got ${binCount}.`,
			{
				field: 'bins',
			},
		);
	}
	const count = new Float64Array(binCount);
	const predicted = new Float64Array(binCount);
	const observed = new Float64Array(binCount);
	for (let i = 0; i < probabilities.length; i++) {
		const b = Math.min(binCount - 1, Math.floor(probabilities[i] * binCount));
		count[b]++;
		predicted[b] += probabilities[i];
		observed[b] += labels[i];
	}
	let ece = 0;
	const bins: CalibrationBin[] = [];
	for (let b = 0; b < binCount; b++) {
		const c = count[b];
		const meanPredicted = c === 0 ? null : predicted[b] / c;
		const observedRate = c === 0 ? null : observed[b] / c;
		if (c > 0)
			ece +=
				(c / probabilities.length) * Math.abs((meanPredicted as number) - (observedRate as number));
		bins.push({
			lower: b / binCount,
			upper: (b + 1) / binCount,
			count: c,
			meanPredicted,
			observedRate,
		});
	}
	return { bins, ece: probabilities.length === 0 ? NaN : ece };
}

export interface ScoreMetrics {
	leads: number;
	converters: number;
	baseRate: number;
	auc: number;
	aucInterval: ConfidenceInterval;
	prAuc: number;
	topDecileLift: number;
	topDecileCapture: number;
	/** Lift and capture in the top `fraction` of leads (the liftFraction option; default 0.1, the top decile). */
	lift: Lift & { fraction: number };
	brier: number;
	logLoss: number;
	ece: number;
	calibration: CalibrationBin[];
}

/**
 * Every metric at once: ranking metrics from `scores` (any scale), calibration metrics from
 * `probabilities` (the same leads' scores mapped to [0, 1]).
 */
export function evaluateScores(
	scores: ArrayLike<number>,
	probabilities: ArrayLike<number>,
	labels: ArrayLike<number>,
	bootstrap: BootstrapOptions = {},
	liftFraction = 0.1,
): ScoreMetrics {
	let converters = 0;
	for (let i = 0; i < labels.length; i++) converters += labels[i];
	const lift = liftAt(scores, labels, 0.1);
	const chosen = liftFraction === 0.1 ? lift : liftAt(scores, labels, liftFraction);
	const calibration = calibrationTable(probabilities, labels, 10);
	return {
		leads: labels.length,
		converters,
		baseRate: labels.length === 0 ? NaN : converters / labels.length,
		auc: auc(scores, labels),
		aucInterval: bootstrapAucInterval(scores, labels, bootstrap),
		prAuc: averagePrecision(scores, labels),
		topDecileLift: lift.lift,
		topDecileCapture: lift.capture,
		lift: { fraction: liftFraction, ...chosen },
		brier: brierScore(probabilities, labels),
		logLoss: logLoss(probabilities, labels),
		ece: calibration.ece,
		calibration: calibration.bins,
	};
}
