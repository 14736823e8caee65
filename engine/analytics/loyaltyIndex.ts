import { EngineError } from '../shared/errors';
import {
	addExclusion,
	checkFieldName,
	checkItems,
	ExclusionCounts,
	readCustomerId,
	readNumber,
} from './transactions';

/**
 * A 0–100 loyalty index from weighted indicators (OECD/JRC composite-indicator method):
 * each indicator is normalized to 0–100 (min–max or percentile rank), flipped when lower is
 * better, and averaged with weights re-normalized over the indicators the customer has.
 * Every index comes with its coverage (share of the weight present) and each indicator's part.
 */

export type Normalisation = 'minMax' | 'percentileRank';
export type Direction = 'higherIsBetter' | 'lowerIsBetter';

export interface LoyaltyIndicator {
	/** Field of the input item holding the indicator. */
	field: string;
	/** Name in the output (default: the field). */
	label?: string;
	/** Relative weight, above 0 (default 1). */
	weight?: number;
	/** Default higherIsBetter; e.g. days since the last purchase is lowerIsBetter. */
	direction?: Direction;
	/** Default minMax. */
	normalisation?: Normalisation;
	/** Fixed bounds for minMax (values outside are clamped); default the data's smallest and largest value. */
	min?: number;
	max?: number;
}

export interface LoyaltyBand {
	name: string;
	/** The band applies from this index upwards (until the next band's minimum). */
	min: number;
}

/** The customer-health convention (>80 / 60–80 / 40–60 / <40). */
export const DEFAULT_LOYALTY_BANDS: readonly LoyaltyBand[] = [
	{ name: 'Champion', min: 80 },
	{ name: 'Healthy', min: 60 },
	{ name: 'Needs Attention', min: 40 },
	{ name: 'At Risk', min: 0 },
];

export interface LoyaltyIndexOptions {
	/** Field holding the customer id (optional; rows always carry the item position). */
	customerField?: string;
	indicators: readonly LoyaltyIndicator[];
	/** Bands by minimum index, or false for none (default DEFAULT_LOYALTY_BANDS). */
	bands?: readonly LoyaltyBand[] | false;
}

export interface IndicatorContribution {
	/** The raw value, or null when missing. */
	value: number | null;
	/** Normalized 0–100, after flipping for lower-is-better; null when missing. */
	score: number | null;
	/** The weight's share among the indicators this customer has (0 when missing). */
	weight: number;
	/** weight × score; the contributions add up to the index (which is rounded to LOYALTY_INDEX_DECIMALS). */
	contribution: number;
}

export interface LoyaltyRow {
	/** Position of the item in the input (0-based). */
	item: number;
	customer?: string;
	/** 0–100, or null when the customer has none of the indicators. */
	loyaltyIndex: number | null;
	/** Share of the total weight whose indicators are present, 0–1. */
	coverage: number;
	band: string | null;
	contributions: Record<string, IndicatorContribution>;
}

export interface LoyaltyIndicatorSummary {
	label: string;
	field: string;
	weight: number;
	direction: Direction;
	normalisation: Normalisation;
	/** Bounds used by minMax (null for percentileRank or when no value is present). */
	min: number | null;
	max: number | null;
	present: number;
	missing: number;
	unparseable: number;
}

export interface LoyaltyIndexResult {
	rows: LoyaltyRow[];
	summary: {
		customers: number;
		scored: number;
		meanIndex: number | null;
		meanCoverage: number;
		indicators: LoyaltyIndicatorSummary[];
		bands: { name: string; min: number; customers: number }[];
		/** Customers without any indicator value (`no_indicator_values`) get a null index and are counted here. */
		excluded: ExclusionCounts;
		warnings: string[];
	};
}

interface CheckedIndicator extends Required<Omit<LoyaltyIndicator, 'min' | 'max'>> {
	min?: number;
	max?: number;
}

function checkIndicators(indicators: readonly LoyaltyIndicator[]): CheckedIndicator[] {
	if (!Array.isArray(indicators) || indicators.length === 0) {
		throw new EngineError(
			'invalid_indicators',
			'The loyalty index needs at least one indicator (a field and a weight)',
			{
				field: 'indicators',
			},
		);
	}
	const labels = new Set<string>();
	return indicators.map((indicator, i) => {
		const field = checkFieldName(indicator?.field, `indicators[${i}].field`);
		const label = indicator.label ?? field;
		if (labels.has(label)) {
			throw new EngineError(
				'invalid_indicators',
				`Two indicators are named "${label}"; give each a different label`,
				{
					field: 'indicators',
				},
			);
		}
		labels.add(label);
		const weight = indicator.weight ?? 1;
		if (typeof weight !== 'number' || !(weight > 0) || !Number.isFinite(weight)) {
			throw new EngineError(
				'invalid_weight',
				`The weight of indicator "${label}" must be a number above 0, got ${String(weight)}`,
				{
					field: 'indicators',
				},
			);
		}
		const direction = indicator.direction ?? 'higherIsBetter';
		if (direction !== 'higherIsBetter' && direction !== 'lowerIsBetter') {
			throw new EngineError(
				'invalid_direction',
				`The direction of indicator "${label}" must be "higherIsBetter" or "lowerIsBetter", got "${String(direction)}"`,
				{ field: 'indicators' },
			);
		}
		const normalisation = indicator.normalisation ?? 'minMax';
		if (normalisation !== 'minMax' && normalisation !== 'percentileRank') {
			throw new EngineError(
				'invalid_normalisation',
				`The normalisation of indicator "${label}" must be "minMax" or "percentileRank", got "${String(normalisation)}"`,
				{ field: 'indicators' },
			);
		}
		for (const bound of [indicator.min, indicator.max]) {
			if (bound !== undefined && (typeof bound !== 'number' || !Number.isFinite(bound))) {
				throw new EngineError(
					'invalid_bounds',
					`The min and max of indicator "${label}" must be numbers when given`,
					{
						field: 'indicators',
					},
				);
			}
		}
		if (
			indicator.min !== undefined &&
			indicator.max !== undefined &&
			!(indicator.max > indicator.min)
		) {
			throw new EngineError(
				'invalid_bounds',
				`The max of indicator "${label}" must be above its min`,
				{ field: 'indicators' },
			);
		}
		return {
			field,
			label,
			weight,
			direction,
			normalisation,
			min: indicator.min,
			max: indicator.max,
		};
	});
}

function checkBands(bands: LoyaltyIndexOptions['bands']): LoyaltyBand[] {
	if (bands === false) return [];
	const list = bands ?? DEFAULT_LOYALTY_BANDS;
	if (!Array.isArray(list)) {
		throw new EngineError('invalid_bands', 'The bands must be a list of {name, min} or false', {
			field: 'bands',
		});
	}
	for (const band of list) {
		if (
			!band ||
			typeof band.name !== 'string' ||
			typeof band.min !== 'number' ||
			!(band.min >= 0 && band.min <= 100)
		) {
			throw new EngineError('invalid_bands', 'Each band needs a name and a min from 0 to 100', {
				field: 'bands',
			});
		}
	}
	// Highest minimum first, so the first band whose minimum the index reaches is the one.
	return [...list].sort((a, b) => b.min - a.min);
}

/**
 * The index is rounded to this many decimals before it is banded and output: far below any
 * meaning, far above floating-point noise, so an index that is exactly on a band's minimum (40 =
 * (2·30 + 1·60)/3) reaches that band instead of landing at 39.99999999999999 in the one below.
 */
export const LOYALTY_INDEX_DECIMALS = 9;
const INDEX_SCALE = 10 ** LOYALTY_INDEX_DECIMALS;

/** An index (or score) rounded to LOYALTY_INDEX_DECIMALS. */
export function roundIndex(value: number): number {
	return Math.round(value * INDEX_SCALE) / INDEX_SCALE;
}

/**
 * Mid-rank percentile among the present values, from 0 for the smallest to 1 for the largest,
 * evenly spaced by rank ((rank − 1) / (n − 1)); tied values share the mean of their positions.
 */
function percentileRanks(values: readonly number[]): Map<number, number> {
	const sorted = [...values].sort((a, b) => a - b);
	const n = sorted.length;
	const ranks = new Map<number, number>();
	let i = 0;
	while (i < n) {
		let j = i;
		while (j + 1 < n && sorted[j + 1] === sorted[i]) j++;
		ranks.set(sorted[i], n === 1 ? 0.5 : (i + j) / (2 * (n - 1)));
		i = j + 1;
	}
	return ranks;
}

export function loyaltyIndex(
	items: readonly Record<string, unknown>[],
	options: LoyaltyIndexOptions,
): LoyaltyIndexResult {
	checkItems(items, 'customers');
	const indicators = checkIndicators(options.indicators);
	const bands = checkBands(options.bands);
	const customerField = options.customerField
		? checkFieldName(options.customerField, 'customerField')
		: undefined;
	const totalWeight = indicators.reduce((s, ind) => s + ind.weight, 0);
	const n = items.length;

	// Read every indicator once; blank is missing, text that is not a number is counted apart.
	const values = indicators.map(() => new Array<number | null>(n).fill(null));
	const indicatorSummaries: LoyaltyIndicatorSummary[] = indicators.map((ind) => ({
		label: ind.label,
		field: ind.field,
		weight: ind.weight,
		direction: ind.direction,
		normalisation: ind.normalisation,
		min: null,
		max: null,
		present: 0,
		missing: 0,
		unparseable: 0,
	}));
	indicators.forEach((ind, k) => {
		for (let i = 0; i < n; i++) {
			const item = items[i];
			const v = item && typeof item === 'object' ? readNumber(item[ind.field]) : undefined;
			if (v === undefined) indicatorSummaries[k].missing++;
			else if (Number.isNaN(v)) indicatorSummaries[k].unparseable++;
			else {
				values[k][i] = v;
				indicatorSummaries[k].present++;
			}
		}
	});

	const normalizers = indicators.map((ind, k) => {
		const present = values[k].filter((v): v is number => v !== null);
		if (present.length === 0) return () => 0;
		const flip = (s: number): number => (ind.direction === 'lowerIsBetter' ? 100 - s : s);
		if (ind.normalisation === 'percentileRank') {
			const ranks = percentileRanks(present);
			return (v: number) => flip(roundIndex(100 * ranks.get(v)!));
		}
		const low = ind.min ?? present.reduce((a, b) => Math.min(a, b));
		const high = ind.max ?? present.reduce((a, b) => Math.max(a, b));
		indicatorSummaries[k].min = low;
		indicatorSummaries[k].max = high;
		// No spread means no information either way: everyone sits in the middle.
		if (high === low) return () => 50;
		// Multiplied before dividing: an exact share (30 of 0–75 is 40) stays exact.
		return (v: number) =>
			flip(roundIndex(Math.min(100, Math.max(0, (100 * (v - low)) / (high - low)))));
	});

	const excluded: ExclusionCounts = {};
	const bandCounts = new Map(bands.map((b) => [b.name, 0]));
	const rows: LoyaltyRow[] = new Array(n);
	let indexSum = 0;
	let scored = 0;
	let coverageSum = 0;
	for (let i = 0; i < n; i++) {
		let presentWeight = 0;
		for (let k = 0; k < indicators.length; k++)
			if (values[k][i] !== null) presentWeight += indicators[k].weight;
		const contributions: Record<string, IndicatorContribution> = {};
		// Σ weight·score / Σ weight, divided once, then rounded (see LOYALTY_INDEX_DECIMALS).
		let weighted = 0;
		for (let k = 0; k < indicators.length; k++) {
			const v = values[k][i];
			if (v === null) {
				contributions[indicators[k].label] = {
					value: null,
					score: null,
					weight: 0,
					contribution: 0,
				};
				continue;
			}
			const score = normalizers[k](v);
			const weight = indicators[k].weight / presentWeight;
			contributions[indicators[k].label] = {
				value: v,
				score,
				weight,
				contribution: (indicators[k].weight * score) / presentWeight,
			};
			weighted += indicators[k].weight * score;
		}
		const index = presentWeight === 0 ? 0 : roundIndex(weighted / presentWeight);
		const coverage = presentWeight / totalWeight;
		coverageSum += coverage;
		const row: LoyaltyRow = { item: i, loyaltyIndex: null, coverage, band: null, contributions };
		if (customerField !== undefined) {
			const item = items[i];
			row.customer =
				item && typeof item === 'object' ? readCustomerId(item[customerField]) : undefined;
		}
		if (presentWeight === 0) addExclusion(excluded, 'no_indicator_values');
		else {
			row.loyaltyIndex = index;
			const band = bands.find((b) => index >= b.min);
			row.band = band?.name ?? null;
			if (band) bandCounts.set(band.name, bandCounts.get(band.name)! + 1);
			indexSum += index;
			scored++;
		}
		rows[i] = row;
	}

	const warnings: string[] = [];
	for (const s of indicatorSummaries) {
		if (s.present === 0)
			warnings.push(`No customer has a value for "${s.label}" (field "${s.field}")`);
		if (s.unparseable > 0)
			warnings.push(`${s.unparseable} values of "${s.label}" are not numbers and count as missing`);
	}
	return {
		rows,
		summary: {
			customers: n,
			scored,
			meanIndex: scored ? indexSum / scored : null,
			meanCoverage: coverageSum / n,
			indicators: indicatorSummaries,
			bands: bands.map((b) => ({ name: b.name, min: b.min, customers: bandCounts.get(b.name)! })),
			excluded,
			warnings,
		},
	};
}
