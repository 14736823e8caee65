/*
 * Predictive lead scoring: L2-regularised logistic regression with intercept, fitted by Newton/IRLS
 * on standardised numeric and one-hot categorical features. The model is plain JSON (versioned) so
 * the node can save it to the ledger by name and load it back through `parseLogisticModel`.
 */
import { EngineError } from '../shared/errors';
import { firstDependentColumn, fitLogistic, sigmoid } from './logisticFit';
import { parseLogisticModel, type LogisticModel, type ModelFeature } from './logisticModel';
import {
	describeLead,
	describeValue,
	isMissing,
	parseFieldPath,
	readPath,
	toNumber,
	toText,
	type PathSegment,
} from './fields';

export { parseLogisticModel, type LogisticModel, type ModelFeature } from './logisticModel';

export type FeatureType = 'numeric' | 'boolean' | 'categorical';

export interface FeatureSpec {
	/** Dot path into the lead, e.g. `company.employees`. */
	field: string;
	type: FeatureType;
	/** Name shown in factors; defaults to the field. */
	name?: string;
}

export interface TrainLogisticOptions {
	/** Field holding the outcome: true/false, 1/0, yes/no. */
	label: string;
	features: readonly FeatureSpec[];
	/** L2 penalty on the standardised coefficients (never the intercept); default 1. */
	lambda?: number;
	/** Newton iterations; default 100. */
	maxIterations?: number;
	/** Stop when no coefficient moves more than this; default 1e-8. */
	tolerance?: number;
	/** Missing numeric or boolean values: `mean` imputes the training mean (default), `error` refuses. */
	onMissing?: 'mean' | 'error';
	/**
	 * Most frequent categories kept per categorical feature; rarer ones count as "other" (all zeros).
	 * Default 20. With lambda 0 a feature whose kept categories cover every lead would be collinear
	 * with the intercept, so its most frequent category becomes the reference level (no column).
	 */
	maxCategories?: number;
}

export interface ModelFactor {
	feature: string;
	field: string;
	/** The lead's value, as given. */
	value: unknown;
	/** Log-odds this feature adds compared with the average training lead. */
	contribution: number;
}

export interface ModelScore {
	probability: number;
	/** 100 x probability. */
	score: number;
	logit: number;
	/** Log-odds of the average training lead; logit = baselineLogit + sum of all feature contributions. */
	baselineLogit: number;
	/** Largest positive contributions first. */
	positiveFactors: ModelFactor[];
	/** Most negative contributions first. */
	negativeFactors: ModelFactor[];
}

export interface ModelScorer {
	readonly model: LogisticModel;
	score(lead: unknown, leadLabel?: string | number): ModelScore;
	/** Just the probability: no factors, no allocation. */
	probability(lead: unknown, leadLabel?: string | number): number;
}

/** Reads an outcome: true/false, 1/0, yes/no (any case); null if unreadable. */
export function readLabel(value: unknown): 0 | 1 | null {
	if (value === true || value === 1) return 1;
	if (value === false || value === 0) return 0;
	if (typeof value === 'string') {
		const text = value.trim().toLowerCase();
		if (text === 'true' || text === '1' || text === 'yes') return 1;
		if (text === 'false' || text === '0' || text === 'no') return 0;
	}
	return null;
}

/** 1/0 for a boolean feature, NaN when missing, undefined when unreadable. */
function readBoolean(value: unknown): number | undefined {
	if (isMissing(value) || (typeof value === 'string' && value.trim() === '')) return NaN;
	const label = readLabel(value);
	return label === null ? undefined : label;
}

function featureError(
	lead: string,
	feature: string,
	field: string,
	needs: string,
	value: unknown,
): EngineError {
	const got = isMissing(value) ? 'it is missing' : `it holds ${describeValue(value)}`;
	return new EngineError(
		isMissing(value) ? 'missing_field' : 'invalid_feature_value',
		`${lead}: model feature "${feature}" needs ${needs} in field "${field}", but ${got}.`,
		{ field, details: { feature } },
	);
}

/** Numeric value of a numeric/boolean feature; NaN when missing; throws when unreadable. */
function numericFeature(
	value: unknown,
	feature: { name: string; field: string; type: FeatureType },
	lead: string,
): number {
	if (feature.type === 'boolean') {
		const b = readBoolean(value);
		if (b === undefined)
			throw featureError(lead, feature.name, feature.field, 'true/false, yes/no or 1/0', value);
		return b;
	}
	if (isMissing(value) || (typeof value === 'string' && value.trim() === '')) return NaN;
	const n = toNumber(value);
	if (n !== n) throw featureError(lead, feature.name, feature.field, 'a number', value);
	return n;
}

/** Category text of a categorical feature; null when missing. */
function categoryOf(
	value: unknown,
	feature: { name: string; field: string },
	lead: string,
): string | null {
	if (isMissing(value)) return null;
	const text = toText(value);
	if (text === null)
		throw featureError(lead, feature.name, feature.field, 'text, a number or true/false', value);
	const trimmed = text.trim();
	return trimmed === '' ? null : trimmed;
}

function validateSpecs(options: TrainLogisticOptions): {
	specs: Required<FeatureSpec>[];
	paths: PathSegment[][];
	labelPath: PathSegment[];
} {
	const labelPath = parseFieldPath(options.label, 'label', 'The model');
	if (!Array.isArray(options.features) || options.features.length === 0) {
		throw new EngineError(
			'invalid_model_options',
			'The model needs "features": at least one field to learn from.',
			{ field: 'features' },
		);
	}
	const seen = new Set<string>();
	const specs: Required<FeatureSpec>[] = [];
	const paths: PathSegment[][] = [];
	options.features.forEach((f, i) => {
		const where = `Feature ${i + 1}`;
		if (f?.type !== 'numeric' && f?.type !== 'boolean' && f?.type !== 'categorical') {
			throw new EngineError(
				'invalid_model_options',
				`${where}: "type" must be numeric, boolean or categorical; got ${JSON.stringify(f?.type) ?? 'nothing'}.`,
				{
					field: 'type',
				},
			);
		}
		paths.push(parseFieldPath(f.field, 'field', where));
		const name =
			typeof f.name === 'string' && f.name.trim() !== '' ? f.name.trim() : f.field.trim();
		if (seen.has(name)) {
			throw new EngineError(
				'invalid_model_options',
				`${where}: the feature name "${name}" is used twice; give each feature its own name.`,
				{
					field: 'name',
				},
			);
		}
		seen.add(name);
		specs.push({ field: f.field.trim(), type: f.type, name });
	});
	return { specs, paths, labelPath };
}

/** Trains on labelled leads; an unreadable label or feature value is an EngineError naming the item. */
export function trainLogistic(
	items: readonly unknown[],
	options: TrainLogisticOptions,
): LogisticModel {
	const { specs, paths, labelPath } = validateSpecs(options);
	const lambda = options.lambda ?? 1;
	if (!(Number.isFinite(lambda) && lambda >= 0)) {
		throw new EngineError(
			'invalid_model_options',
			`"lambda" must be a number of 0 or more; got ${lambda}.`,
			{ field: 'lambda' },
		);
	}
	const maxCategories = options.maxCategories ?? 20;
	if (!Number.isInteger(maxCategories) || maxCategories < 1) {
		throw new EngineError(
			'invalid_model_options',
			`"maxCategories" must be a whole number of 1 or more; got ${maxCategories}.`,
			{
				field: 'maxCategories',
			},
		);
	}
	const maxIterations = options.maxIterations ?? 100;
	if (!Number.isInteger(maxIterations) || maxIterations < 1) {
		throw new EngineError(
			'invalid_model_options',
			`"maxIterations" must be a whole number of 1 or more; got ${maxIterations}.`,
			{
				field: 'maxIterations',
			},
		);
	}
	const tolerance = options.tolerance ?? 1e-8;
	if (!(tolerance > 0)) {
		throw new EngineError(
			'invalid_model_options',
			`"tolerance" must be a number above 0, e.g. 1e-8; got ${tolerance}.`,
			{ field: 'tolerance' },
		);
	}
	const onMissing = options.onMissing ?? 'mean';
	if (onMissing !== 'mean' && onMissing !== 'error') {
		throw new EngineError(
			'invalid_model_options',
			`"onMissing" must be mean or error; got ${JSON.stringify(onMissing)}.`,
			{ field: 'onMissing' },
		);
	}
	const n = items.length;
	const y = new Float64Array(n);
	let converters = 0;
	for (let i = 0; i < n; i++) {
		const raw = readPath(items[i], labelPath);
		const label = readLabel(raw);
		if (label === null) {
			throw new EngineError(
				isMissing(raw) ? 'missing_field' : 'invalid_label',
				`Item ${i}: the outcome field "${options.label}" needs true/false, yes/no or 1/0, but ${isMissing(raw) ? 'it is missing' : `it holds ${describeValue(raw)}`}.`,
				{ field: options.label, details: { item: i } },
			);
		}
		y[i] = label;
		converters += label;
	}
	if (converters === 0 || converters === n) {
		throw new EngineError(
			'invalid_training_data',
			`Training needs both converted and not converted leads; got ${converters} converted out of ${n}.`,
			{ field: options.label, details: { rows: n, converters } },
		);
	}

	// First pass: raw values, numeric means and standard deviations, category counts.
	const raw: unknown[][] = specs.map(() => new Array<unknown>(n));
	const features: ModelFeature[] = [];
	let column = 0;
	specs.forEach((spec, f) => {
		for (let i = 0; i < n; i++) raw[f][i] = readPath(items[i], paths[f]);
		if (spec.type === 'categorical') {
			const counts = new Map<string, number>();
			for (let i = 0; i < n; i++) {
				const c = categoryOf(raw[f][i], spec, `Item ${i}`);
				if (c !== null) counts.set(c, (counts.get(c) ?? 0) + 1);
			}
			const sorted = [...counts.entries()].sort(
				(a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0),
			);
			let categories = sorted.slice(0, maxCategories).map(([c]) => c);
			const covered = sorted.slice(0, maxCategories).reduce((sum, [, count]) => sum + count, 0);
			if (lambda === 0 && covered === n && categories.length > 0) {
				// One column per category plus the intercept would be singular: dummy coding.
				const [reference, ...rest] = categories;
				categories = rest;
				features.push({
					name: spec.name,
					field: spec.field,
					type: 'categorical',
					column,
					categories,
					reference,
				});
			} else {
				features.push({
					name: spec.name,
					field: spec.field,
					type: 'categorical',
					column,
					categories,
				});
			}
			column += categories.length;
			return;
		}
		let sum = 0;
		let sumSq = 0;
		let present = 0;
		for (let i = 0; i < n; i++) {
			const v = numericFeature(raw[f][i], spec, `Item ${i}`);
			if (v !== v) {
				if (onMissing === 'error')
					throw featureError(`Item ${i}`, spec.name, spec.field, 'a value', raw[f][i]);
				continue;
			}
			sum += v;
			sumSq += v * v;
			present++;
		}
		const mean = present === 0 ? 0 : sum / present;
		const variance = present === 0 ? 0 : Math.max(0, sumSq / present - mean * mean);
		// A constant feature keeps std 1 so it encodes as 0 and the penalty holds its coefficient at 0.
		const std = variance > 1e-24 ? Math.sqrt(variance) : 1;
		features.push({ name: spec.name, field: spec.field, type: spec.type, column, mean, std });
		column += 1;
	});

	const p = column;
	const columns: string[] = [];
	for (const feature of features) {
		if (feature.type === 'categorical')
			for (const c of feature.categories) columns.push(`${feature.name}=${c}`);
		else columns.push(feature.name);
	}
	const x = new Float64Array(n * p);
	features.forEach((feature, f) => {
		for (let i = 0; i < n; i++) {
			if (feature.type === 'categorical') {
				const c = categoryOf(raw[f][i], feature, `Item ${i}`);
				const k = c === null ? -1 : feature.categories.indexOf(c);
				if (k >= 0) x[i * p + feature.column + k] = 1;
			} else {
				const v = numericFeature(raw[f][i], feature, `Item ${i}`);
				x[i * p + feature.column] = v !== v ? 0 : (v - feature.mean) / feature.std;
			}
		}
	});

	if (lambda === 0) {
		const dependent = firstDependentColumn(x, n, p);
		if (dependent >= 0) {
			const feature = features.find(
				(f) =>
					dependent >= f.column &&
					dependent < f.column + (f.type === 'categorical' ? f.categories.length : 1),
			)!;
			const what =
				feature.type === 'categorical'
					? `its category "${columns[dependent].slice(feature.name.length + 1)}" always goes with the values of the features before it`
					: 'it is constant or determined by the features before it (e.g. two fields that always agree)';
			throw new EngineError(
				'model_not_fitted',
				`Without regularization the model cannot tell feature "${feature.name}" (field "${feature.field}") apart: ${what}. ` +
					'Remove that feature, or set Regularization ("lambda") above 0.',
				{
					field: 'features',
					details: { feature: feature.name, column: columns[dependent], lambda },
				},
			);
		}
	}
	const fit = fitLogistic(x, y, n, p, lambda, { maxIterations, tolerance });
	const columnMeans = new Array<number>(p).fill(0);
	for (let i = 0; i < n; i++) for (let j = 0; j < p; j++) columnMeans[j] += x[i * p + j];
	for (let j = 0; j < p; j++) columnMeans[j] /= n;
	return {
		kind: 'logistic-regression',
		version: 1,
		label: options.label.trim(),
		features,
		columns,
		intercept: fit.beta[0],
		coefficients: Array.from(fit.beta.subarray(1)),
		columnMeans,
		lambda,
		onMissing,
		training: {
			rows: n,
			converters,
			iterations: fit.iterations,
			converged: fit.converged,
			logLoss: fit.logLoss,
		},
	};
}

/**
 * Coefficients on the fields' own scale: per unit of each numeric feature, per category for one-hot
 * columns, with the intercept moved to match. Useful to compare with known effects.
 */
export function rawCoefficients(model: LogisticModel): {
	intercept: number;
	coefficients: Record<string, number>;
} {
	let intercept = model.intercept;
	const coefficients: Record<string, number> = {};
	for (const feature of model.features) {
		if (feature.type === 'categorical') {
			// The reference level (dummy coding) is what the other categories are measured against.
			if (feature.reference !== undefined) coefficients[`${feature.name}=${feature.reference}`] = 0;
			feature.categories.forEach((c, k) => {
				coefficients[`${feature.name}=${c}`] = model.coefficients[feature.column + k];
			});
		} else {
			const beta = model.coefficients[feature.column] / feature.std;
			coefficients[feature.name] = beta;
			intercept -= beta * feature.mean;
		}
	}
	return { intercept, coefficients };
}

/** Prepares a model for scoring many leads: paths split and category lookups built once. */
export function compileModel(
	model: LogisticModel,
	options: { topFactors?: number } = {},
): ModelScorer {
	const checked = parseLogisticModel(model);
	const topFactors = options.topFactors ?? 3;
	if (!Number.isInteger(topFactors) || topFactors < 0) {
		throw new EngineError(
			'invalid_model_options',
			`"topFactors" must be a whole number of 0 or more; got ${topFactors}.`,
			{ field: 'topFactors' },
		);
	}
	return new CompiledModel(checked, topFactors);
}

class CompiledModel implements ModelScorer {
	private readonly paths: PathSegment[][];
	private readonly lookups: (Map<string, number> | undefined)[];
	private readonly baselineLogit: number;
	private readonly contributions: Float64Array;
	private readonly values: unknown[];

	constructor(
		readonly model: LogisticModel,
		private readonly topFactors: number,
	) {
		this.paths = model.features.map((f) =>
			parseFieldPath(f.field, 'field', `Model feature "${f.name}"`),
		);
		this.lookups = model.features.map((f) =>
			f.type === 'categorical'
				? new Map(f.categories.map((c, k) => [c, f.column + k] as [string, number]))
				: undefined,
		);
		let baseline = model.intercept;
		for (let j = 0; j < model.coefficients.length; j++)
			baseline += model.coefficients[j] * model.columnMeans[j];
		this.baselineLogit = baseline;
		this.contributions = new Float64Array(model.features.length);
		this.values = new Array<unknown>(model.features.length);
	}

	/** Fills per-feature contributions (log-odds against the average lead) and returns the logit. */
	private evaluate(lead: unknown, leadLabel: string | number | undefined): number {
		if (lead === null || typeof lead !== 'object') {
			throw new EngineError(
				'invalid_lead',
				`${describeLead(leadLabel)}: a lead must be an object of fields; got ${describeValue(lead)}.`,
				{
					details: { lead: leadLabel },
				},
			);
		}
		const { features, coefficients, columnMeans } = this.model;
		const label = describeLead(leadLabel);
		let logit = this.baselineLogit;
		for (let f = 0; f < features.length; f++) {
			const feature = features[f];
			const raw = readPath(lead, this.paths[f]);
			this.values[f] = raw;
			let contribution = 0;
			if (feature.type === 'categorical') {
				const category = categoryOf(raw, feature, label);
				const hit =
					category === null ? undefined : (this.lookups[f] as Map<string, number>).get(category);
				const end = feature.column + feature.categories.length;
				for (let j = feature.column; j < end; j++) {
					contribution += coefficients[j] * ((j === hit ? 1 : 0) - columnMeans[j]);
				}
			} else {
				const v = numericFeature(raw, feature, label);
				if (v !== v && this.model.onMissing === 'error')
					throw featureError(label, feature.name, feature.field, 'a value', raw);
				// A missing value stands in for the training mean: no contribution beyond the average lead's.
				const encoded = v !== v ? 0 : (v - feature.mean) / feature.std;
				contribution = coefficients[feature.column] * (encoded - columnMeans[feature.column]);
			}
			this.contributions[f] = contribution;
			logit += contribution;
		}
		return logit;
	}

	probability(lead: unknown, leadLabel?: string | number): number {
		return sigmoid(this.evaluate(lead, leadLabel));
	}

	score(lead: unknown, leadLabel?: string | number): ModelScore {
		const logit = this.evaluate(lead, leadLabel);
		const probability = sigmoid(logit);
		return {
			probability,
			score: 100 * probability,
			logit,
			baselineLogit: this.baselineLogit,
			positiveFactors: this.pick(1),
			negativeFactors: this.pick(-1),
		};
	}

	/** The top factors of one sign, largest magnitude first. */
	private pick(sign: 1 | -1): ModelFactor[] {
		const out: ModelFactor[] = [];
		if (this.topFactors === 0) return out;
		const { features } = this.model;
		const taken = new Uint8Array(features.length);
		for (let k = 0; k < this.topFactors; k++) {
			let best = -1;
			let bestValue = 0;
			for (let f = 0; f < features.length; f++) {
				const v = sign * this.contributions[f];
				if (taken[f] === 0 && v > bestValue) {
					best = f;
					bestValue = v;
				}
			}
			if (best < 0) break;
			taken[best] = 1;
			out.push({
				feature: features[best].name,
				field: features[best].field,
				value: this.values[best],
				contribution: this.contributions[best],
			});
		}
		return out;
	}
}
