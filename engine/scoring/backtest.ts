/*
 * Backtest: split labelled leads by date, then measure the rule score and a model trained on the
 * earlier leads, side by side, on the later leads. Splitting by time, never at random, keeps the
 * test honest: the model never learns from leads that come after the ones it is judged on.
 */
import { EngineError } from '../shared/errors';
import { describeValue, isMissing, parseDate, parseFieldPath, readPath } from './fields';
import {
	compileModel,
	readLabel,
	trainLogistic,
	type LogisticModel,
	type TrainLogisticOptions,
} from './logistic';
import { fitLogistic } from './logisticFit';
import { evaluateScores, type BootstrapOptions, type ScoreMetrics } from './metrics';
import { compileRuleSet } from './rules';
import type { RuleScorer, ScoringConfig } from './ruleTypes';

export interface BacktestOptions {
	/** Outcome field: true/false, 1/0, yes/no. */
	label: string;
	/** Date each lead is split and (by default) scored by, e.g. `createdAt`. */
	dateField: string;
	/** Leads dated before the cutoff train; the rest test. Give this or `trainFraction`. */
	cutoff?: string | number | Date;
	/** The earliest share of leads trains, e.g. 0.7; leads sharing the cut-off date stay together. */
	trainFraction?: number;
	/** The rule set to evaluate (config or compiled scorer). */
	rules?: ScoringConfig | RuleScorer;
	/**
	 * How a rule score becomes a probability for Brier and calibration: `platt` (default) fits a
	 * logistic curve to the training leads' scores; `scaled` reads a normalized score as score/100.
	 */
	ruleProbability?: 'platt' | 'scaled';
	/** When rules are evaluated: each lead at its own date (default, `leadDate`) or one fixed time. */
	scoreAt?: 'leadDate' | string | number | Date;
	/** Train a logistic model on the earlier leads and evaluate it too. */
	model?: Omit<TrainLogisticOptions, 'label'>;
	bootstrap?: BootstrapOptions;
	/** Share of the highest-scored test leads lift and capture are measured on (default 0.1: the top decile). */
	liftFraction?: number;
}

export interface BacktestSplit {
	/** ISO time: training leads are dated strictly before it. */
	cutoff: string;
	trainLeads: number;
	testLeads: number;
	trainConverters: number;
	testConverters: number;
}

export interface BacktestReport {
	split: BacktestSplit;
	rules?: ScoreMetrics & { probability: 'platt' | 'scaled' };
	model?: ScoreMetrics & { model: LogisticModel };
}

function isScorer(value: ScoringConfig | RuleScorer): value is RuleScorer {
	return typeof (value as RuleScorer).score === 'function';
}

export function backtest(items: readonly unknown[], options: BacktestOptions): BacktestReport {
	if (!Array.isArray(items)) {
		throw new EngineError('invalid_backtest', 'The backtest needs a list of labelled leads.', {
			field: 'items',
		});
	}
	if (options.rules === undefined && options.model === undefined) {
		throw new EngineError(
			'invalid_backtest',
			'The backtest needs "rules", "model" or both to evaluate.',
			{ field: 'rules' },
		);
	}
	const datePath = parseFieldPath(options.dateField, 'dateField', 'The backtest');
	if (
		options.liftFraction !== undefined &&
		!(
			typeof options.liftFraction === 'number' &&
			options.liftFraction > 0 &&
			options.liftFraction <= 1
		)
	) {
		throw new EngineError(
			'invalid_backtest',
			`The lift fraction is the share of top-scored leads, above 0 and at most 1 (0.1 is the top 10%); got ${String(options.liftFraction)}.`,
			{ field: 'liftFraction' },
		);
	}
	const labelPath = parseFieldPath(options.label, 'label', 'The backtest');

	const n = items.length;
	const dates = new Float64Array(n);
	const labels = new Uint8Array(n);
	for (let i = 0; i < n; i++) {
		const rawDate = readPath(items[i], datePath);
		dates[i] = parseDate(rawDate);
		if (dates[i] !== dates[i]) {
			throw new EngineError(
				isMissing(rawDate) ? 'missing_field' : 'not_a_date',
				`Item ${i}: the backtest needs a date (ISO 8601, epoch milliseconds or a Date) in field "${options.dateField}", but ${isMissing(rawDate) ? 'it is missing' : `it holds ${describeValue(rawDate)}`}.`,
				{ field: options.dateField, details: { item: i } },
			);
		}
		const rawLabel = readPath(items[i], labelPath);
		const label = readLabel(rawLabel);
		if (label === null) {
			throw new EngineError(
				isMissing(rawLabel) ? 'missing_field' : 'invalid_label',
				`Item ${i}: the outcome field "${options.label}" needs true/false, yes/no or 1/0, but ${isMissing(rawLabel) ? 'it is missing' : `it holds ${describeValue(rawLabel)}`}.`,
				{ field: options.label, details: { item: i } },
			);
		}
		labels[i] = label;
	}

	const cutoff = splitCutoff(dates, options);
	const train: number[] = [];
	const test: number[] = [];
	for (let i = 0; i < n; i++) (dates[i] < cutoff ? train : test).push(i);
	const count = (idx: number[]): number => idx.reduce((s, i) => s + labels[i], 0);
	const split: BacktestSplit = {
		cutoff: new Date(cutoff).toISOString(),
		trainLeads: train.length,
		testLeads: test.length,
		trainConverters: count(train),
		testConverters: count(test),
	};
	if (split.testConverters === 0 || split.testConverters === test.length) {
		throw new EngineError(
			'invalid_backtest',
			`The test period (from ${split.cutoff}) needs both converted and not converted leads; it has ${split.testConverters} converted out of ${test.length}. Move the cutoff earlier.`,
			{ field: options.cutoff === undefined ? 'trainFraction' : 'cutoff', details: { ...split } },
		);
	}
	if (train.length === 0) {
		throw new EngineError(
			'invalid_backtest',
			`No lead is dated before the cutoff ${split.cutoff}, so there is nothing to learn from. Move the cutoff later.`,
			{
				field: options.cutoff === undefined ? 'trainFraction' : 'cutoff',
			},
		);
	}
	const testLabels = Float64Array.from(test, (i) => labels[i]);
	const report: BacktestReport = { split };

	if (options.rules !== undefined) {
		report.rules = evaluateRules(
			items,
			options,
			options.rules,
			dates,
			labels,
			train,
			test,
			testLabels,
		);
	}
	if (options.model !== undefined) {
		const model = trainLogistic(
			train.map((i) => items[i]),
			{ ...options.model, label: options.label },
		);
		const scorer = compileModel(model);
		const probabilities = Float64Array.from(test, (i) => scorer.probability(items[i], i));
		report.model = {
			...evaluateScores(
				probabilities,
				probabilities,
				testLabels,
				options.bootstrap,
				options.liftFraction,
			),
			model,
		};
	}
	return report;
}

function splitCutoff(dates: Float64Array, options: BacktestOptions): number {
	if (options.cutoff !== undefined) {
		if (options.trainFraction !== undefined) {
			throw new EngineError(
				'invalid_backtest',
				'Give either a "cutoff" date or a "trainFraction", not both.',
				{ field: 'cutoff' },
			);
		}
		const cutoff = parseDate(options.cutoff);
		if (cutoff !== cutoff) {
			throw new EngineError(
				'invalid_backtest',
				`"cutoff" must be a date (ISO 8601, epoch milliseconds or a Date); got ${describeValue(options.cutoff)}.`,
				{
					field: 'cutoff',
				},
			);
		}
		return cutoff;
	}
	const fraction = options.trainFraction ?? 0.7;
	if (!(fraction > 0 && fraction < 1)) {
		throw new EngineError(
			'invalid_backtest',
			`"trainFraction" must be between 0 and 1, e.g. 0.7; got ${fraction}.`,
			{ field: 'trainFraction' },
		);
	}
	if (dates.length < 2) {
		throw new EngineError(
			'invalid_backtest',
			`The backtest needs at least 2 leads; got ${dates.length}.`,
			{ field: 'items' },
		);
	}
	const sorted = Float64Array.from(dates).sort();
	return sorted[Math.min(sorted.length - 1, Math.max(1, Math.floor(fraction * sorted.length)))];
}

function evaluateRules(
	items: readonly unknown[],
	options: BacktestOptions,
	rules: ScoringConfig | RuleScorer,
	dates: Float64Array,
	labels: Uint8Array,
	train: number[],
	test: number[],
	testLabels: Float64Array,
): ScoreMetrics & { probability: 'platt' | 'scaled' } {
	const scorer = isScorer(rules) ? rules : compileRuleSet({ ...rules, explain: 'none' });
	const mode = options.ruleProbability ?? 'platt';
	if (mode !== 'platt' && mode !== 'scaled') {
		throw new EngineError(
			'invalid_backtest',
			`"ruleProbability" must be platt or scaled; got ${JSON.stringify(mode)}.`,
			{ field: 'ruleProbability' },
		);
	}
	let fixedAt = NaN;
	if (options.scoreAt !== undefined && options.scoreAt !== 'leadDate') {
		fixedAt = parseDate(options.scoreAt);
		if (fixedAt !== fixedAt) {
			throw new EngineError(
				'invalid_backtest',
				`"scoreAt" must be leadDate or a date; got ${describeValue(options.scoreAt)}.`,
				{ field: 'scoreAt' },
			);
		}
	}
	const scoreOf = (i: number): number =>
		scorer.score(items[i], fixedAt === fixedAt ? fixedAt : dates[i], i).score;
	const testScores = Float64Array.from(test, scoreOf);
	let probabilities: Float64Array;
	if (mode === 'scaled') {
		if (!scorer.normalized) {
			throw new EngineError(
				'invalid_backtest',
				'"scaled" reads the rule score as score/100, which needs a rule set normalized to 0-100; use "platt" or normalize the total.',
				{ field: 'ruleProbability' },
			);
		}
		probabilities = testScores.map((s) => Math.min(1, Math.max(0, s / 100)));
	} else {
		probabilities = plattProbabilities(
			Float64Array.from(train, scoreOf),
			Float64Array.from(train, (i) => labels[i]),
			testScores,
		);
	}
	return {
		...evaluateScores(
			testScores,
			probabilities,
			testLabels,
			options.bootstrap,
			options.liftFraction,
		),
		probability: mode,
	};
}

/** Platt scaling: a one-feature logistic fit of outcome on score, learnt on the training leads. */
function plattProbabilities(
	trainScores: Float64Array,
	trainLabels: Float64Array,
	testScores: Float64Array,
): Float64Array {
	const converters = trainLabels.reduce((s, v) => s + v, 0);
	if (converters === 0 || converters === trainLabels.length) {
		throw new EngineError(
			'invalid_backtest',
			`Calibrating the rule score needs both converted and not converted leads before the cutoff; got ${converters} of ${trainLabels.length}. Move the cutoff or use "scaled".`,
			{ field: 'ruleProbability' },
		);
	}
	const n = trainScores.length;
	let mean = 0;
	for (const s of trainScores) mean += s / n;
	let variance = 0;
	for (const s of trainScores) variance += (s - mean) ** 2 / n;
	const std = variance > 1e-24 ? Math.sqrt(variance) : 1;
	const x = trainScores.map((s) => (s - mean) / std);
	// A whisper of penalty keeps the slope finite when the score separates the classes perfectly.
	const fit = fitLogistic(x, trainLabels, n, 1, 1e-6);
	const [a, b] = [fit.beta[0], fit.beta[1]];
	return testScores.map((s) => 1 / (1 + Math.exp(-(a + (b * (s - mean)) / std))));
}
