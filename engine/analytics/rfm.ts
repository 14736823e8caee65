import { EngineError } from '../shared/errors';
import { formatDay } from './dates';
import {
	addExclusion,
	checkFieldName,
	checkItems,
	ExclusionCounts,
	groupTransactions,
	parseDateOption,
	readCustomerId,
	readNumber,
	TransactionFields,
} from './transactions';

/**
 * RFM: recency, frequency and monetary value per customer, scored 1..k with a tie-correct rule
 * and mapped to named segments.
 *
 * Score = 1 + ⌊k × (share of customers strictly worse)⌋, capped at k. Identical customers always
 * share a score, whatever the row order; quantile cuts with "rank first" split CDNOW's one-time
 * buyers (half the customers) into different scores by row order.
 */

export type MonetaryMeasure = 'total' | 'mean';
/** What counts as one purchase for frequency: a distinct purchase day, or every transaction row. */
export type FrequencyBasis = 'days' | 'transactions';

/** Inclusive score range [lowest, highest]. */
export type ScoreRange = [number, number];

export interface SegmentRule {
	name: string;
	recency?: ScoreRange;
	frequency?: ScoreRange;
	monetary?: ScoreRange;
}

/**
 * The RF grid used by most RFM write-ups, on quintile positions (M is not used), with "Lost" split
 * out of Hibernating as the lowest cell. The cells do not overlap except Lost ⊂ Hibernating, but the
 * order is the precedence all the same: the first rule that matches wins.
 */
export const DEFAULT_SEGMENTS: readonly SegmentRule[] = [
	{ name: 'Champions', recency: [5, 5], frequency: [4, 5] },
	{ name: 'Loyal', recency: [3, 4], frequency: [4, 5] },
	{ name: "Can't Lose", recency: [1, 2], frequency: [5, 5] },
	{ name: 'At Risk', recency: [1, 2], frequency: [3, 4] },
	{ name: 'Potential Loyalist', recency: [4, 5], frequency: [2, 3] },
	{ name: 'Need Attention', recency: [3, 3], frequency: [3, 3] },
	{ name: 'About to Sleep', recency: [3, 3], frequency: [1, 2] },
	{ name: 'Promising', recency: [4, 4], frequency: [1, 1] },
	{ name: 'New', recency: [5, 5], frequency: [1, 1] },
	{ name: 'Lost', recency: [1, 1], frequency: [1, 1] },
	{ name: 'Hibernating', recency: [1, 2], frequency: [1, 2] },
];

/** Customers no custom rule matches. */
export const UNMATCHED_SEGMENT = 'Others';

export interface RfmOptions {
	/** k: scores run from 1 to k; 3, 4 or 5 (default 5). */
	scoreLevels?: number;
	/** Monetary value as the customer's total (default) or mean per purchase. */
	monetary?: MonetaryMeasure;
	/**
	 * Custom segments, matched on the 1..k scores, first match wins, unmatched → "Others".
	 * Without them, DEFAULT_SEGMENTS are matched on quintile positions (the same tie-correct rule
	 * with k = 5), so the named segments mean the same whatever k the scores use.
	 */
	segments?: readonly SegmentRule[];
	/**
	 * Default true. False leaves `rows` empty (the summary and `segmentOfCustomer` are still
	 * complete): a summary of 2,000,000 rows need not build an object per customer.
	 */
	rows?: boolean;
}

export interface RfmTransactionOptions extends RfmOptions, TransactionFields {
	/** The date recency is measured from (default: the latest purchase in the input); later rows are left out. */
	asOf?: unknown;
	/** Default `days`: several rows on one day are one purchase. */
	frequencyBasis?: FrequencyBasis;
}

export interface RfmSummaryOptions extends RfmOptions {
	customerField: string;
	/** Time since the last purchase, in any unit (lower is better). */
	recencyField: string;
	frequencyField: string;
	monetaryField: string;
}

export interface RfmRow {
	customer: string;
	/** Days from the last purchase to the as-of date (for summaries: as given). */
	recency: number;
	frequency: number;
	monetary: number;
	recencyScore: number;
	frequencyScore: number;
	monetaryScore: number;
	/** The three scores as text, e.g. "545". */
	rfmScore: string;
	segment: string;
	firstPurchase?: string;
	lastPurchase?: string;
}

export interface RfmScoreBin {
	score: number;
	customers: number;
	/** Smallest and largest raw value that got this score (null when no customer did). */
	min: number | null;
	max: number | null;
}

export interface RfmSegmentSummary {
	segment: string;
	customers: number;
	shareOfCustomers: number;
	meanRecency: number | null;
	meanFrequency: number | null;
	meanMonetary: number | null;
	totalMonetary: number;
	shareOfMonetary: number;
}

export interface RfmSummary {
	customers: number;
	scoreLevels: number;
	monetary: MonetaryMeasure;
	frequencyBasis: FrequencyBasis | 'as given';
	recencyUnit: 'days' | 'as given';
	asOf?: string;
	transactions?: number;
	scoreRule: string;
	segmentRules: 'default RF grid on quintile positions' | 'custom on scores';
	/** Segment names in precedence order (first match wins). */
	segmentPrecedence: string[];
	segments: RfmSegmentSummary[];
	bins: { recency: RfmScoreBin[]; frequency: RfmScoreBin[]; monetary: RfmScoreBin[] };
	excluded: ExclusionCounts;
	warnings: string[];
}

export interface RfmResult {
	/** One row per customer; empty when the options said `rows: false`. */
	rows: RfmRow[];
	/** Every customer (as in the rows) and their segment, in two lists of the same order. */
	customers: readonly string[];
	segmentOfCustomer: readonly string[];
	summary: RfmSummary;
}

/** Below this many customers the 1..k scores are coarse; Klaviyo asks for 500. */
const FEW_CUSTOMERS = 100;

/**
 * Tie-correct scores: 1 + ⌊k × (customers strictly worse) / n⌋, capped at k.
 * Worse means larger when `higherIsBetter` is false (recency), smaller otherwise.
 */
export function tieCorrectScores(
	values: ArrayLike<number>,
	levels: number,
	higherIsBetter: boolean,
): Uint8Array {
	const n = values.length;
	const sorted = Float64Array.from(values).sort();
	const scores = new Uint8Array(n);
	for (let i = 0; i < n; i++) {
		const v = values[i];
		const worse = higherIsBetter ? lowerBound(sorted, v) : n - upperBound(sorted, v);
		scores[i] = Math.min(levels, 1 + Math.floor((levels * worse) / n));
	}
	return scores;
}

/** First index whose value is ≥ v. */
function lowerBound(sorted: Float64Array, v: number): number {
	let lo = 0;
	let hi = sorted.length;
	while (lo < hi) {
		const mid = (lo + hi) >>> 1;
		if (sorted[mid] < v) lo = mid + 1;
		else hi = mid;
	}
	return lo;
}

/** First index whose value is > v. */
function upperBound(sorted: Float64Array, v: number): number {
	let lo = 0;
	let hi = sorted.length;
	while (lo < hi) {
		const mid = (lo + hi) >>> 1;
		if (sorted[mid] <= v) lo = mid + 1;
		else hi = mid;
	}
	return lo;
}

interface CheckedOptions {
	levels: number;
	monetary: MonetaryMeasure;
	segments?: readonly SegmentRule[];
	rows: boolean;
}

function checkOptions(options: RfmOptions): CheckedOptions {
	const levels = options.scoreLevels ?? 5;
	if (!Number.isInteger(levels) || levels < 3 || levels > 5) {
		throw new EngineError(
			'invalid_score_levels',
			`The scoreLevels must be 3, 4 or 5, got ${String(levels)}`,
			{
				field: 'scoreLevels',
			},
		);
	}
	const monetary = options.monetary ?? 'total';
	if (monetary !== 'total' && monetary !== 'mean') {
		throw new EngineError(
			'invalid_monetary',
			`The monetary option must be "total" or "mean", got "${String(monetary)}"`,
			{
				field: 'monetary',
			},
		);
	}
	if (options.segments !== undefined) checkSegments(options.segments, levels);
	return { levels, monetary, segments: options.segments, rows: options.rows !== false };
}

function checkSegments(segments: readonly SegmentRule[], levels: number): void {
	if (!Array.isArray(segments) || segments.length === 0) {
		throw new EngineError(
			'invalid_segments',
			'The segments must be a non-empty list of rules, or left out for the default RF grid',
			{
				field: 'segments',
			},
		);
	}
	segments.forEach((rule, index) => {
		if (!rule || typeof rule.name !== 'string' || rule.name.trim() === '') {
			throw new EngineError('invalid_segments', `Segment rule ${index + 1} needs a name`, {
				field: 'segments',
			});
		}
		for (const dimension of ['recency', 'frequency', 'monetary'] as const) {
			const range = rule[dimension];
			if (range === undefined) continue;
			const valid =
				Array.isArray(range) &&
				range.length === 2 &&
				Number.isInteger(range[0]) &&
				Number.isInteger(range[1]) &&
				range[0] >= 1 &&
				range[1] <= levels &&
				range[0] <= range[1];
			if (!valid) {
				throw new EngineError(
					'invalid_segments',
					`Segment "${rule.name}": the ${dimension} range must be two whole scores [lowest, highest] between 1 and ${levels}`,
					{ field: 'segments' },
				);
			}
		}
	});
}

function inRange(score: number, range: ScoreRange | undefined): boolean {
	return range === undefined || (score >= range[0] && score <= range[1]);
}

function matchSegment(rules: readonly SegmentRule[], r: number, f: number, m: number): string {
	for (const rule of rules) {
		if (inRange(r, rule.recency) && inRange(f, rule.frequency) && inRange(m, rule.monetary))
			return rule.name;
	}
	return UNMATCHED_SEGMENT;
}

interface RawRfm {
	customers: string[];
	recency: Float64Array;
	frequency: Float64Array;
	monetary: Float64Array;
	firstDay?: Int32Array;
	lastDay?: Int32Array;
}

function scoreAndSegment(
	raw: RawRfm,
	settings: CheckedOptions,
	summaryBase: Pick<
		RfmSummary,
		'frequencyBasis' | 'recencyUnit' | 'asOf' | 'transactions' | 'excluded'
	>,
): RfmResult {
	const { levels } = settings;
	const n = raw.customers.length;
	const rScores = tieCorrectScores(raw.recency, levels, false);
	const fScores = tieCorrectScores(raw.frequency, levels, true);
	const mScores = tieCorrectScores(raw.monetary, levels, true);
	const custom = settings.segments !== undefined;
	const rules = settings.segments ?? DEFAULT_SEGMENTS;
	// The default grid is defined on quintiles; reuse the scores when k already is 5.
	const rGrid = custom || levels === 5 ? rScores : tieCorrectScores(raw.recency, 5, false);
	const fGrid = custom || levels === 5 ? fScores : tieCorrectScores(raw.frequency, 5, true);
	const mGrid = custom || levels === 5 ? mScores : tieCorrectScores(raw.monetary, 5, true);

	const segmentOfCustomer: string[] = new Array(n);
	for (let i = 0; i < n; i++)
		segmentOfCustomer[i] = matchSegment(rules, rGrid[i], fGrid[i], mGrid[i]);
	const rows: RfmRow[] = settings.rows ? new Array(n) : [];
	for (let i = 0; i < rows.length; i++) {
		const row: RfmRow = {
			customer: raw.customers[i],
			recency: raw.recency[i],
			frequency: raw.frequency[i],
			monetary: raw.monetary[i],
			recencyScore: rScores[i],
			frequencyScore: fScores[i],
			monetaryScore: mScores[i],
			rfmScore: `${rScores[i]}${fScores[i]}${mScores[i]}`,
			segment: segmentOfCustomer[i],
		};
		if (raw.firstDay && raw.lastDay) {
			row.firstPurchase = formatDay(raw.firstDay[i]);
			row.lastPurchase = formatDay(raw.lastDay[i]);
		}
		rows[i] = row;
	}

	const precedence = rules.map((rule) => rule.name);
	const names = [...new Set(custom ? [...precedence, UNMATCHED_SEGMENT] : precedence)];
	const totalMonetary = raw.monetary.reduce((sum, v) => sum + v, 0);
	const bySegment = new Map(
		names.map((name) => [name, { customers: 0, recency: 0, frequency: 0, monetary: 0 }]),
	);
	for (let i = 0; i < n; i++) {
		const s = bySegment.get(segmentOfCustomer[i])!;
		s.customers++;
		s.recency += raw.recency[i];
		s.frequency += raw.frequency[i];
		s.monetary += raw.monetary[i];
	}
	const segments: RfmSegmentSummary[] = [];
	for (const [segment, s] of bySegment) {
		if (segment === UNMATCHED_SEGMENT && s.customers === 0) continue;
		segments.push({
			segment,
			customers: s.customers,
			shareOfCustomers: s.customers / n,
			meanRecency: s.customers ? s.recency / s.customers : null,
			meanFrequency: s.customers ? s.frequency / s.customers : null,
			meanMonetary: s.customers ? s.monetary / s.customers : null,
			totalMonetary: s.monetary,
			shareOfMonetary: totalMonetary > 0 ? s.monetary / totalMonetary : 0,
		});
	}

	const warnings: string[] = [];
	if (n < FEW_CUSTOMERS)
		warnings.push(`Only ${n} customers: with so few, 1..${levels} scores are coarse`);
	const bins = {
		recency: binSummary(raw.recency, rScores, levels),
		frequency: binSummary(raw.frequency, fScores, levels),
		monetary: binSummary(raw.monetary, mScores, levels),
	};
	for (const [dimension, dimensionBins] of Object.entries(bins)) {
		const empty = dimensionBins.filter((b) => b.customers === 0).map((b) => b.score);
		if (empty.length > 0) {
			warnings.push(
				`No customer has ${dimension} score ${empty.join(', ')}: tied values share the score below`,
			);
		}
	}

	return {
		rows,
		customers: raw.customers,
		segmentOfCustomer,
		summary: {
			customers: n,
			scoreLevels: levels,
			monetary: settings.monetary,
			...summaryBase,
			scoreRule: `score = 1 + floor(${levels} × share of customers strictly worse), capped at ${levels}`,
			segmentRules: custom ? 'custom on scores' : 'default RF grid on quintile positions',
			segmentPrecedence: precedence,
			segments,
			bins,
			warnings,
		},
	};
}

function binSummary(values: Float64Array, scores: Uint8Array, levels: number): RfmScoreBin[] {
	const bins: RfmScoreBin[] = Array.from({ length: levels }, (_, i) => ({
		score: i + 1,
		customers: 0,
		min: null,
		max: null,
	}));
	for (let i = 0; i < values.length; i++) {
		const bin = bins[scores[i] - 1];
		const v = values[i];
		bin.customers++;
		if (bin.min === null || v < bin.min) bin.min = v;
		if (bin.max === null || v > bin.max) bin.max = v;
	}
	return bins;
}

/** RFM from transaction items (one item per purchase row). */
export function rfmFromTransactions(
	items: readonly Record<string, unknown>[],
	options: RfmTransactionOptions,
): RfmResult {
	const settings = checkOptions(options);
	const basis = options.frequencyBasis ?? 'days';
	if (basis !== 'days' && basis !== 'transactions') {
		throw new EngineError(
			'invalid_frequency_basis',
			`The frequencyBasis must be "days" or "transactions", got "${String(basis)}"`,
			{
				field: 'frequencyBasis',
			},
		);
	}
	const asOfDay = options.asOf === undefined ? undefined : parseDateOption(options.asOf, 'asOf');
	const grouped = groupTransactions(items, options, asOfDay);
	const asOf = asOfDay ?? grouped.lastDay;
	const n = grouped.customers.length;
	const recency = new Float64Array(n);
	const frequency = new Float64Array(n);
	const monetary = new Float64Array(n);
	const firstDay = new Int32Array(n);
	const lastDay = new Int32Array(n);
	const { offsets, days, amounts } = grouped;
	for (let c = 0; c < n; c++) {
		const start = offsets[c];
		const end = offsets[c + 1];
		let total = 0;
		let purchases = 0;
		for (let i = start; i < end; i++) {
			total += amounts[i];
			if (basis === 'transactions' || i === start || days[i] !== days[i - 1]) purchases++;
		}
		firstDay[c] = days[start];
		lastDay[c] = days[end - 1];
		recency[c] = asOf - days[end - 1];
		frequency[c] = purchases;
		monetary[c] = settings.monetary === 'total' ? total : total / purchases;
	}
	return scoreAndSegment(
		{ customers: grouped.customers, recency, frequency, monetary, firstDay, lastDay },
		settings,
		{
			frequencyBasis: basis,
			recencyUnit: 'days',
			asOf: formatDay(asOf),
			transactions: grouped.transactions,
			excluded: grouped.excluded,
		},
	);
}

/** RFM from per-customer summaries (one item per customer with recency, frequency and monetary value). */
export function rfmFromSummaries(
	items: readonly Record<string, unknown>[],
	options: RfmSummaryOptions,
): RfmResult {
	const settings = checkOptions(options);
	checkItems(items, 'customer summaries');
	const customerField = checkFieldName(options.customerField, 'customerField');
	const fields = {
		recency: checkFieldName(options.recencyField, 'recencyField'),
		frequency: checkFieldName(options.frequencyField, 'frequencyField'),
		monetary: checkFieldName(options.monetaryField, 'monetaryField'),
	};
	const excluded: ExclusionCounts = {};
	const seen = new Set<string>();
	const customers: string[] = [];
	const values = { recency: [] as number[], frequency: [] as number[], monetary: [] as number[] };
	for (const item of items) {
		const customer =
			item && typeof item === 'object' ? readCustomerId(item[customerField]) : undefined;
		if (customer === undefined) {
			addExclusion(excluded, 'missing_customer');
			continue;
		}
		let usable = true;
		const read: Record<string, number> = {};
		for (const dimension of ['recency', 'frequency', 'monetary'] as const) {
			const v = readNumber(item[fields[dimension]]);
			if (v === undefined || Number.isNaN(v)) {
				addExclusion(
					excluded,
					v === undefined ? `missing_${dimension}` : `unparseable_${dimension}`,
				);
				usable = false;
				break;
			}
			if (v < 0) {
				addExclusion(excluded, `negative_${dimension}`);
				usable = false;
				break;
			}
			read[dimension] = v;
		}
		if (!usable) continue;
		if (seen.has(customer)) {
			// Two summaries for one customer cannot both be right; the first one is kept.
			addExclusion(excluded, 'duplicate_customer');
			continue;
		}
		seen.add(customer);
		customers.push(customer);
		values.recency.push(read.recency);
		values.frequency.push(read.frequency);
		values.monetary.push(read.monetary);
	}
	if (customers.length === 0) {
		throw new EngineError(
			'no_valid_customers',
			`None of the ${items.length} customer summaries could be used; recency, frequency and monetary must be numbers of zero or more`,
			{ field: fields.recency, details: { excluded } },
		);
	}
	return scoreAndSegment(
		{
			customers,
			recency: Float64Array.from(values.recency),
			frequency: Float64Array.from(values.frequency),
			monetary: Float64Array.from(values.monetary),
		},
		settings,
		{ frequencyBasis: 'as given', recencyUnit: 'as given', excluded },
	);
}
