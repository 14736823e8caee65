/*
 * The saved form of a logistic model: plain, versioned JSON the node stores in the ledger by name,
 * and `parseLogisticModel`, which checks one read back before it is scored with.
 */
import { EngineError } from '../shared/errors';
import { parseFieldPath } from './fields';

export type ModelFeature =
	| {
			name: string;
			field: string;
			type: 'numeric' | 'boolean';
			column: number;
			mean: number;
			std: number;
	  }
	| {
			name: string;
			field: string;
			type: 'categorical';
			column: number;
			/** One column per category listed. */
			categories: string[];
			/**
			 * Reference level (dummy coding), set when the model is fitted without regularization and
			 * every lead has one of the kept categories: that category gets no column, the others'
			 * effects are measured against it, and a category not seen in training counts as it.
			 */
			reference?: string;
	  };

export interface LogisticModel {
	kind: 'logistic-regression';
	version: 1;
	label: string;
	features: ModelFeature[];
	/** One name per encoded column: the feature name, or `name=category` for one-hot columns. */
	columns: string[];
	intercept: number;
	/** Per column, on the encoded scale (numeric: per standard deviation; one-hot: per category). */
	coefficients: number[];
	/** Training mean of each encoded column: the "average lead" factors are measured against. */
	columnMeans: number[];
	lambda: number;
	onMissing: 'mean' | 'error';
	training: {
		rows: number;
		converters: number;
		iterations: number;
		converged: boolean;
		logLoss: number;
	};
}

function invalidModel(why: string): EngineError {
	return new EngineError(
		'invalid_model',
		`The saved model cannot be used: ${why}. Train it again with this version.`,
		{ field: 'model' },
	);
}

function isFiniteArray(value: unknown, length: number): value is number[] {
	return (
		Array.isArray(value) &&
		value.length === length &&
		value.every((v) => typeof v === 'number' && Number.isFinite(v))
	);
}

/** Checks a model read back from storage (object or JSON text) before it is used. */
export function parseLogisticModel(json: unknown): LogisticModel {
	let value = json;
	if (typeof value === 'string') {
		try {
			value = JSON.parse(value);
		} catch {
			throw invalidModel('it is not valid JSON');
		}
	}
	if (value === null || typeof value !== 'object') throw invalidModel('it is not an object');
	const m = value as Partial<LogisticModel>;
	if (m.kind !== 'logistic-regression')
		throw invalidModel(`its kind is ${JSON.stringify(m.kind)}, not "logistic-regression"`);
	if (m.version !== 1)
		throw invalidModel(`its version ${JSON.stringify(m.version)} is not supported (expected 1)`);
	if (typeof m.label !== 'string') throw invalidModel('it has no label field');
	if (!Array.isArray(m.columns) || !m.columns.every((c) => typeof c === 'string'))
		throw invalidModel('its columns are not a list of names');
	const p = m.columns.length;
	if (typeof m.intercept !== 'number' || !Number.isFinite(m.intercept))
		throw invalidModel('its intercept is not a number');
	if (!isFiniteArray(m.coefficients, p)) throw invalidModel(`it needs ${p} numeric coefficients`);
	if (!isFiniteArray(m.columnMeans, p)) throw invalidModel(`it needs ${p} numeric column means`);
	if (m.onMissing !== 'mean' && m.onMissing !== 'error')
		throw invalidModel('its missing-value policy is not mean or error');
	if (!Array.isArray(m.features) || m.features.length === 0)
		throw invalidModel('it has no features');
	let column = 0;
	for (const f of m.features) {
		if (
			f === null ||
			typeof f !== 'object' ||
			typeof f.name !== 'string' ||
			typeof f.field !== 'string' ||
			f.column !== column
		) {
			throw invalidModel('a feature is malformed or out of column order');
		}
		parseFieldPath(f.field, 'field', `Model feature "${f.name}"`);
		if (f.type === 'categorical') {
			if (!Array.isArray(f.categories) || !f.categories.every((c) => typeof c === 'string')) {
				throw invalidModel(`feature "${f.name}" has no category list`);
			}
			if (
				f.reference !== undefined &&
				(typeof f.reference !== 'string' || f.categories.includes(f.reference))
			) {
				throw invalidModel(
					`feature "${f.name}" has a reference level that is not a separate category`,
				);
			}
			column += f.categories.length;
		} else if (f.type === 'numeric' || f.type === 'boolean') {
			if (!Number.isFinite(f.mean) || !(f.std > 0))
				throw invalidModel(`feature "${f.name}" lacks its mean and standard deviation`);
			column += 1;
		} else {
			throw invalidModel(`feature "${(f as { name: string }).name}" has an unknown type`);
		}
	}
	if (column !== p) throw invalidModel(`its features encode ${column} columns but it lists ${p}`);
	return m as LogisticModel;
}
