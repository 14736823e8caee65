import { EngineError } from '../../shared/errors';
import { formatDay } from '../dates';
import {
	addExclusion,
	checkFieldName,
	checkItems,
	CustomerTransactions,
	ExclusionCounts,
	groupTransactions,
	parseDateOption,
	readCustomerId,
	readNumber,
	TransactionFields,
} from '../transactions';
import {
	BgNbdFit,
	BgNbdParams,
	bgnbdConditionalExpectedPurchases,
	bgnbdProbabilityAlive,
	fitBgNbd,
} from './bgnbd';
import {
	fitGammaGamma,
	GammaGammaFit,
	gammaGammaExpectedSpend,
	GammaGammaParams,
} from './gammaGamma';

export * from './bgnbd';
export * from './gammaGamma';

/**
 * Customer lifetime value: historical value, BG/NBD (purchases, probability alive),
 * Gamma-Gamma (spend per purchase) and CLV discounted monthly over a horizon.
 */

export type TimeUnit = 'days' | 'weeks';

/**
 * What the CLV operation models: purchases and spend (BG/NBD + Gamma-Gamma, the default) or
 * purchases only (BG/NBD: probability alive and expected purchases, no spend and no CLV), for
 * customer summaries without a spend column such as lifetimes' cdnow_customers_summary.csv.
 */
export type ClvModel = 'purchasesAndSpend' | 'purchasesOnly';

/** BG/NBD parameters as given, with the time unit they were fitted in (α is a time; r, a and b have no unit). */
export interface GivenBgNbdParams extends BgNbdParams {
	/** Unit α was fitted in; default the model's Time Unit. α is converted when the two differ. */
	unit?: TimeUnit;
}

/** Time units per month (lifetimes and PyMC-Marketing convention: 30 days, 365/12/7 weeks). */
export const UNITS_PER_MONTH: Record<TimeUnit, number> = { days: 30, weeks: 4.345 };
const DAYS_PER_UNIT: Record<TimeUnit, number> = { days: 1, weeks: 7 };

/** Below this many repeat buyers the fitted parameters are loose; see their standard errors. */
const FEW_REPEAT_CUSTOMERS = 100;
/** Gamma-Gamma assumes spend and frequency are independent; warn beyond this correlation. */
const SPEND_FREQUENCY_CORRELATION_LIMIT = 0.3;

export interface ClvSettings {
	/** Unit of frequency/recency/age in the models (default weeks, as the published CDNOW fits). */
	timeUnit?: TimeUnit;
	/** Purchases and spend (default) or purchases only. */
	model?: ClvModel;
	/**
	 * Optional: also give E[Y(t)], the expected purchases in the next t time units (any positive
	 * number, e.g. 10 days or 2.5 weeks), as `expectedPurchasesInPeriod`.
	 */
	purchasePeriod?: number;
	/** Months ahead for expected purchases and CLV (default 12). */
	horizonMonths?: number;
	/** Monthly discount rate for CLV (default 0.01, i.e. about 12.7% a year). */
	monthlyDiscountRate?: number;
	/** Share of revenue that is profit; CLV is multiplied by it (default 1: CLV in revenue). */
	profitMargin?: number;
	/** Use these parameters instead of fitting (e.g. fitted on a larger history). */
	params?: { bgnbd?: GivenBgNbdParams; gammaGamma?: GammaGammaParams };
	/**
	 * Default true. False leaves `rows` empty (the summary and its totals are still complete): a
	 * summary of 2,000,000 rows need not build an object per customer.
	 */
	rows?: boolean;
}

export interface ClvTransactionOptions extends ClvSettings, TransactionFields {
	/** End of the observation period (default: the latest purchase in the input); later rows are left out. */
	observationEnd?: unknown;
}

export interface ClvSummaryOptions extends ClvSettings {
	customerField: string;
	/** Repeat purchases (purchases after the first). */
	frequencyField: string;
	/** Time from the first to the last purchase (t_x). */
	recencyField: string;
	/** Time from the first purchase to the end of observation (T). */
	ageField: string;
	/** Mean value of the repeat purchases (blank or 0 when there are none); not read with model purchasesOnly. */
	monetaryField?: string;
	/** Optional: total value to date. */
	historicalValueField?: string;
}

/** Per-customer summaries in the models' form; arrays are per customer. */
export interface CustomerSummaries {
	customers: string[];
	/** Purchase periods (distinct days) in total. */
	purchases: Float64Array;
	/** Repeat purchases x = purchases − 1. */
	frequency: Float64Array;
	/** t_x: first to last purchase, in the time unit. */
	recency: Float64Array;
	/** T: first purchase to the end of observation, in the time unit. */
	age: Float64Array;
	/** Mean value of repeat purchase days (0 when none), first purchase excluded as in lifetimes. */
	monetary: Float64Array;
	historicalValue: Float64Array;
	firstDay: Int32Array;
	lastDay: Int32Array;
}

export interface ClvRow {
	customer: string;
	purchases: number | null;
	frequency: number;
	recency: number;
	age: number;
	/** Mean value of repeat purchases; null without any. */
	monetaryValue: number | null;
	historicalValue: number | null;
	firstPurchase?: string;
	lastPurchase?: string;
	probabilityAlive: number;
	/** 1 − probabilityAlive. */
	churnRisk: number;
	/** Expected purchases over the horizon. */
	expectedPurchases: number;
	/** E[Y(t)] for the purchasePeriod t, when one is set. */
	expectedPurchasesInPeriod?: number;
	/** Expected value per purchase (Gamma-Gamma); null with model purchasesOnly. */
	expectedSpend: number | null;
	/** Expected purchases × spend over the horizon, discounted monthly, times the profit margin; null with model purchasesOnly. */
	clv: number | null;
}

export interface ClvResult {
	/** One row per customer; empty when the settings said `rows: false`. */
	rows: ClvRow[];
	summary: {
		customers: number;
		repeatCustomers: number;
		transactions?: number;
		timeUnit: TimeUnit;
		model: ClvModel;
		/** The period t of expectedPurchasesInPeriod, in the time unit (null when not asked for). */
		purchasePeriod: number | null;
		observationEnd?: string;
		horizonMonths: number;
		monthlyDiscountRate: number;
		profitMargin: number;
		bgnbd: { fitted: boolean; params: BgNbdParams; fit?: BgNbdFit };
		/** params null with model purchasesOnly. */
		gammaGamma: { fitted: boolean; params: GammaGammaParams | null; fit?: GammaGammaFit };
		totals: {
			historicalValue: number | null;
			expectedPurchases: number;
			expectedPurchasesInPeriod?: number;
			clv: number | null;
		};
		/**
		 * Transaction rows left out by reason, plus customers left out of the Gamma-Gamma fit
		 * (`*_for_gamma_gamma`; they still get predictions).
		 */
		excluded: ExclusionCounts;
		warnings: string[];
	};
}

/** Per-customer model inputs from grouped transactions; purchases on one UTC day count as one. */
export function summariseTransactions(
	grouped: CustomerTransactions,
	endDay: number,
	timeUnit: TimeUnit,
): CustomerSummaries {
	const n = grouped.customers.length;
	const scale = 1 / DAYS_PER_UNIT[timeUnit];
	const summaries: CustomerSummaries = {
		customers: grouped.customers,
		purchases: new Float64Array(n),
		frequency: new Float64Array(n),
		recency: new Float64Array(n),
		age: new Float64Array(n),
		monetary: new Float64Array(n),
		historicalValue: new Float64Array(n),
		firstDay: new Int32Array(n),
		lastDay: new Int32Array(n),
	};
	const { offsets, days, amounts } = grouped;
	for (let c = 0; c < n; c++) {
		const start = offsets[c];
		const end = offsets[c + 1];
		const first = days[start];
		let firstDayValue = 0;
		let total = 0;
		let purchases = 0;
		for (let i = start; i < end; i++) {
			if (i === start || days[i] !== days[i - 1]) purchases++;
			if (days[i] === first) firstDayValue += amounts[i];
			total += amounts[i];
		}
		const last = days[end - 1];
		summaries.purchases[c] = purchases;
		summaries.frequency[c] = purchases - 1;
		summaries.recency[c] = (last - first) * scale;
		summaries.age[c] = (endDay - first) * scale;
		summaries.monetary[c] = purchases > 1 ? (total - firstDayValue) / (purchases - 1) : 0;
		summaries.historicalValue[c] = total;
		summaries.firstDay[c] = first;
		summaries.lastDay[c] = last;
	}
	return summaries;
}

type CheckedSettings = Required<Omit<ClvSettings, 'params' | 'purchasePeriod' | 'rows'>> & {
	purchasePeriod: number | null;
};

function checkSettings(options: ClvSettings): CheckedSettings {
	const timeUnit = options.timeUnit ?? 'weeks';
	if (timeUnit !== 'days' && timeUnit !== 'weeks') {
		throw new EngineError(
			'invalid_time_unit',
			`The timeUnit must be "days" or "weeks", got "${String(timeUnit)}"`,
			{
				field: 'timeUnit',
			},
		);
	}
	const model = options.model ?? 'purchasesAndSpend';
	if (model !== 'purchasesAndSpend' && model !== 'purchasesOnly') {
		throw new EngineError(
			'invalid_model',
			`The model must be "purchasesAndSpend" or "purchasesOnly", got "${String(model)}"`,
			{ field: 'model' },
		);
	}
	const purchasePeriod = options.purchasePeriod ?? null;
	if (
		purchasePeriod !== null &&
		(typeof purchasePeriod !== 'number' ||
			!(purchasePeriod > 0) ||
			!Number.isFinite(purchasePeriod))
	) {
		throw new EngineError(
			'invalid_purchase_period',
			`The purchasePeriod must be a positive number of ${timeUnit} (e.g. 2.5), got ${String(purchasePeriod)}`,
			{ field: 'purchasePeriod' },
		);
	}
	const horizonMonths = options.horizonMonths ?? 12;
	if (!Number.isInteger(horizonMonths) || horizonMonths < 1 || horizonMonths > 1200) {
		throw new EngineError(
			'invalid_horizon',
			`The horizonMonths must be a whole number of months from 1 to 1200, got ${String(horizonMonths)}`,
			{
				field: 'horizonMonths',
			},
		);
	}
	const monthlyDiscountRate = options.monthlyDiscountRate ?? 0.01;
	if (
		typeof monthlyDiscountRate !== 'number' ||
		!(monthlyDiscountRate >= 0 && monthlyDiscountRate < 1)
	) {
		throw new EngineError(
			'invalid_discount_rate',
			`The monthlyDiscountRate must be a fraction from 0 to below 1 (0.01 is 1% a month), got ${String(monthlyDiscountRate)}`,
			{ field: 'monthlyDiscountRate' },
		);
	}
	const profitMargin = options.profitMargin ?? 1;
	if (typeof profitMargin !== 'number' || !(profitMargin > 0 && profitMargin <= 1)) {
		throw new EngineError(
			'invalid_profit_margin',
			`The profitMargin must be a fraction above 0 and at most 1, got ${String(profitMargin)}`,
			{
				field: 'profitMargin',
			},
		);
	}
	return { timeUnit, model, purchasePeriod, horizonMonths, monthlyDiscountRate, profitMargin };
}

function checkParams(params: ClvSettings['params']): void {
	const positive = (values: Record<string, unknown>, option: string): void => {
		for (const [name, value] of Object.entries(values)) {
			if (name === 'unit') {
				if (value !== undefined && value !== 'days' && value !== 'weeks') {
					throw new EngineError(
						'invalid_model_parameters',
						`The ${option} unit must be "days" or "weeks", got "${String(value)}"`,
						{
							field: option,
						},
					);
				}
				continue;
			}
			if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value)) {
				throw new EngineError(
					'invalid_model_parameters',
					`The ${option} parameter ${name} must be a positive number, got ${String(value)}`,
					{
						field: option,
					},
				);
			}
		}
	};
	if (params?.bgnbd) positive({ ...params.bgnbd }, 'params.bgnbd');
	if (params?.gammaGamma) positive({ ...params.gammaGamma }, 'params.gammaGamma');
}

/**
 * CLV = Σ_{k=1..H} spend · (E[Y(k·f)] − E[Y((k−1)·f)]) / (1 + d)^k × margin,
 * with f time units per month and d the monthly discount rate.
 */
export function discountedClv(
	bgnbd: BgNbdParams,
	expectedSpend: number,
	x: number,
	tx: number,
	T: number,
	settings: {
		horizonMonths: number;
		unitsPerMonth: number;
		monthlyDiscountRate: number;
		profitMargin: number;
	},
): { clv: number; expectedPurchases: number } {
	let previous = 0;
	let clv = 0;
	let discount = 1;
	for (let k = 1; k <= settings.horizonMonths; k++) {
		const cumulative = bgnbdConditionalExpectedPurchases(
			bgnbd,
			k * settings.unitsPerMonth,
			x,
			tx,
			T,
		);
		discount /= 1 + settings.monthlyDiscountRate;
		clv += (cumulative - previous) * discount;
		previous = cumulative;
	}
	return { clv: clv * expectedSpend * settings.profitMargin, expectedPurchases: previous };
}

/**
 * Given BG/NBD parameters in the model's time unit. α is a time (λ ~ Gamma(r, α) is a rate per
 * unit), so parameters fitted in weeks have α × 7 in days; r, a and b are unit-free.
 */
export function bgnbdParamsInUnit(params: GivenBgNbdParams, timeUnit: TimeUnit): BgNbdParams {
	const from = params.unit ?? timeUnit;
	return {
		r: params.r,
		alpha: (params.alpha * DAYS_PER_UNIT[from]) / DAYS_PER_UNIT[timeUnit],
		a: params.a,
		b: params.b,
	};
}

function predict(
	summaries: CustomerSummaries & { hasHistory: boolean },
	settings: CheckedSettings,
	given: ClvSettings['params'],
	excluded: ExclusionCounts,
	extra: { transactions?: number; observationEnd?: string },
	withRows: boolean,
): ClvResult {
	checkParams(given);
	const n = summaries.customers.length;
	const warnings: string[] = [];
	const withSpend = settings.model === 'purchasesAndSpend';
	let repeatCustomers = 0;
	for (let i = 0; i < n; i++) if (summaries.frequency[i] > 0) repeatCustomers++;

	const bgnbdFit = given?.bgnbd
		? undefined
		: fitBgNbd(summaries.frequency, summaries.recency, summaries.age);
	const bgnbd = given?.bgnbd ? bgnbdParamsInUnit(given.bgnbd, settings.timeUnit) : bgnbdFit!.params;
	const ggFit =
		!withSpend || given?.gammaGamma
			? undefined
			: fitGammaGamma(summaries.frequency, summaries.monetary);
	const gammaGamma = withSpend ? (given?.gammaGamma ?? ggFit!.params) : null;
	if (ggFit)
		for (const [reason, count] of Object.entries(ggFit.excluded))
			addExclusion(excluded, reason, count);
	if (gammaGamma && !(gammaGamma.q > 1)) {
		throw new EngineError(
			'model_not_identified',
			`The Gamma-Gamma parameter q is ${gammaGamma.q.toPrecision(4)}; expected spend is only finite for q > 1. ` +
				'Spend varies too much between customers for this model, or there are too few repeat buyers',
			{ field: 'monetary', details: { params: gammaGamma } },
		);
	}
	if (bgnbdFit && !bgnbdFit.converged)
		warnings.push('The BG/NBD fit did not converge; treat its predictions with caution');
	if (ggFit && !ggFit.converged)
		warnings.push('The Gamma-Gamma fit did not converge; treat expected spend with caution');
	if (bgnbdFit && bgnbdFit.atBound.length > 0) {
		warnings.push(
			`BG/NBD parameters ${bgnbdFit.atBound.join(', ')} ran to their bound: the data carry little information about ` +
				(bgnbdFit.atBound.some((name) => name === 'a' || name === 'b')
					? 'customers dropping out'
					: 'differences in purchase rates') +
				', so predictions follow the limiting model',
		);
	}
	if (ggFit && ggFit.atBound.length > 0) {
		warnings.push(
			`Gamma-Gamma parameters ${ggFit.atBound.join(', ')} ran to their bound: spend hardly varies between customers`,
		);
	}
	if (repeatCustomers < FEW_REPEAT_CUSTOMERS && (bgnbdFit || ggFit)) {
		warnings.push(
			`Only ${repeatCustomers} customers bought more than once: the fitted parameters are loose (see their standard errors)`,
		);
	}
	if (ggFit && Math.abs(ggFit.frequencySpendCorrelation) > SPEND_FREQUENCY_CORRELATION_LIMIT) {
		warnings.push(
			`Purchase frequency and spend correlate (${ggFit.frequencySpendCorrelation.toFixed(2)}); ` +
				'the Gamma-Gamma model assumes they do not, so expected spend may be biased',
		);
	}

	const clvSettings = {
		horizonMonths: settings.horizonMonths,
		unitsPerMonth: UNITS_PER_MONTH[settings.timeUnit],
		monthlyDiscountRate: settings.monthlyDiscountRate,
		profitMargin: settings.profitMargin,
	};
	// Customers with the same history get the same prediction; compute each history once.
	const period = settings.purchasePeriod;
	const cache = new Map<
		string,
		{ clv: number; expectedPurchases: number; probabilityAlive: number; inPeriod?: number }
	>();
	const rows: ClvRow[] = withRows ? new Array(n) : [];
	let totalClv = 0;
	let totalPurchases = 0;
	let totalInPeriod = 0;
	let totalHistorical = 0;
	for (let i = 0; i < n; i++) {
		const x = summaries.frequency[i];
		const tx = summaries.recency[i];
		const T = summaries.age[i];
		const m = summaries.monetary[i];
		const expectedSpend = gammaGamma ? gammaGammaExpectedSpend(gammaGamma, x, m) : null;
		const key = `${x}|${tx}|${T}`;
		let prediction = cache.get(key);
		if (!prediction) {
			const perUnitSpend = discountedClv(bgnbd, 1, x, tx, T, clvSettings);
			prediction = { ...perUnitSpend, probabilityAlive: bgnbdProbabilityAlive(bgnbd, x, tx, T) };
			if (period !== null)
				prediction.inPeriod = bgnbdConditionalExpectedPurchases(bgnbd, period, x, tx, T);
			cache.set(key, prediction);
		}
		const clv = expectedSpend === null ? null : prediction.clv * expectedSpend;
		totalClv += clv ?? 0;
		totalPurchases += prediction.expectedPurchases;
		totalInPeriod += prediction.inPeriod ?? 0;
		totalHistorical += summaries.historicalValue[i];
		if (!withRows) continue;
		const row: ClvRow = {
			customer: summaries.customers[i],
			purchases: summaries.hasHistory ? summaries.purchases[i] : null,
			frequency: x,
			recency: tx,
			age: T,
			monetaryValue: x > 0 && (withSpend || summaries.hasHistory) ? m : null,
			historicalValue: Number.isNaN(summaries.historicalValue[i])
				? null
				: summaries.historicalValue[i],
			probabilityAlive: prediction.probabilityAlive,
			churnRisk: 1 - prediction.probabilityAlive,
			expectedPurchases: prediction.expectedPurchases,
			...(period === null ? {} : { expectedPurchasesInPeriod: prediction.inPeriod }),
			expectedSpend,
			clv,
		};
		if (summaries.hasHistory) {
			row.firstPurchase = formatDay(summaries.firstDay[i]);
			row.lastPurchase = formatDay(summaries.lastDay[i]);
		}
		rows[i] = row;
	}

	return {
		rows,
		summary: {
			customers: n,
			repeatCustomers,
			...extra,
			...settings,
			bgnbd: { fitted: bgnbdFit !== undefined, params: bgnbd, fit: bgnbdFit },
			gammaGamma: { fitted: ggFit !== undefined, params: gammaGamma, fit: ggFit },
			totals: {
				historicalValue: Number.isNaN(totalHistorical) ? null : totalHistorical,
				expectedPurchases: totalPurchases,
				...(period === null ? {} : { expectedPurchasesInPeriod: totalInPeriod }),
				clv: withSpend ? totalClv : null,
			},
			excluded,
			warnings,
		},
	};
}

/** CLV from transaction items (one item per purchase row). */
export function clvFromTransactions(
	items: readonly Record<string, unknown>[],
	options: ClvTransactionOptions,
): ClvResult {
	const settings = checkSettings(options);
	const endOption =
		options.observationEnd === undefined
			? undefined
			: parseDateOption(options.observationEnd, 'observationEnd');
	const grouped = groupTransactions(items, options, endOption);
	const endDay = endOption ?? grouped.lastDay;
	const summaries = summariseTransactions(grouped, endDay, settings.timeUnit);
	return predict(
		{ ...summaries, hasHistory: true },
		settings,
		options.params,
		{ ...grouped.excluded },
		{
			transactions: grouped.transactions,
			observationEnd: formatDay(endDay),
		},
		options.rows !== false,
	);
}

/** CLV from per-customer summaries (frequency, recency, age in one time unit, and mean repeat value). */
export function clvFromSummaries(
	items: readonly Record<string, unknown>[],
	options: ClvSummaryOptions,
): ClvResult {
	const settings = checkSettings(options);
	checkItems(items, 'customer summaries');
	const customerField = checkFieldName(options.customerField, 'customerField');
	const fields = {
		frequency: checkFieldName(options.frequencyField, 'frequencyField'),
		recency: checkFieldName(options.recencyField, 'recencyField'),
		age: checkFieldName(options.ageField, 'ageField'),
	};
	const withSpend = settings.model === 'purchasesAndSpend';
	const monetaryField = withSpend
		? checkFieldName(options.monetaryField, 'monetaryField')
		: undefined;
	const historicalField = options.historicalValueField
		? checkFieldName(options.historicalValueField, 'historicalValueField')
		: undefined;
	const excluded: ExclusionCounts = {};
	const kept: { customer: string; x: number; tx: number; T: number; m: number; h: number }[] = [];
	for (const item of items) {
		const customer =
			item && typeof item === 'object' ? readCustomerId(item[customerField]) : undefined;
		if (customer === undefined) {
			addExclusion(excluded, 'missing_customer');
			continue;
		}
		const read: Record<string, number> = {};
		let reason: string | undefined;
		for (const [name, field] of Object.entries(fields)) {
			const v = readNumber(item[field]);
			if (v === undefined) reason = `missing_${name}`;
			else if (Number.isNaN(v)) reason = `unparseable_${name}`;
			else if (v < 0) reason = `negative_${name}`;
			if (reason) break;
			read[name] = v!;
		}
		if (reason) {
			addExclusion(excluded, reason);
			continue;
		}
		const { frequency: x, recency: tx, age: T } = read;
		if (tx > T || (x === 0 && tx !== 0)) {
			// Recency beyond the age, or a last purchase without repeat purchases, cannot both be true.
			addExclusion(excluded, 'inconsistent_summary');
			continue;
		}
		const m = monetaryField === undefined ? undefined : readNumber(item[monetaryField]);
		if (monetaryField !== undefined && x > 0 && (m === undefined || Number.isNaN(m))) {
			addExclusion(excluded, m === undefined ? 'missing_monetary' : 'unparseable_monetary');
			continue;
		}
		if (m !== undefined && m < 0) {
			addExclusion(excluded, 'negative_monetary');
			continue;
		}
		const h = historicalField === undefined ? NaN : (readNumber(item[historicalField]) ?? NaN);
		kept.push({ customer, x, tx, T, m: x > 0 && m !== undefined ? m : 0, h });
	}
	// Every repeat buyer left out for a missing or unreadable spend: the spend field is what is wrong.
	const noSpend = (excluded.missing_monetary ?? 0) + (excluded.unparseable_monetary ?? 0);
	if (monetaryField !== undefined && noSpend > 0 && !kept.some((k) => k.x > 0)) {
		throw new EngineError(
			'missing_monetary',
			`None of the ${noSpend} customers with repeat purchases has a number in "${monetaryField}", the mean value of their repeat purchases, ` +
				'so none could be used. Name the field that holds it, or model purchases only (probability alive and expected purchases, no CLV)',
			{ field: 'monetaryField', details: { excluded } },
		);
	}
	if (kept.length === 0) {
		throw new EngineError(
			'no_valid_customers',
			`None of the ${items.length} customer summaries could be used; frequency, recency and age must be numbers ` +
				'of zero or more with recency at most the age',
			{ field: fields.frequency, details: { excluded } },
		);
	}
	const summaries: CustomerSummaries & { hasHistory: boolean } = {
		customers: kept.map((k) => k.customer),
		purchases: Float64Array.from(kept, (k) => k.x + 1),
		frequency: Float64Array.from(kept, (k) => k.x),
		recency: Float64Array.from(kept, (k) => k.tx),
		age: Float64Array.from(kept, (k) => k.T),
		monetary: Float64Array.from(kept, (k) => k.m),
		historicalValue: Float64Array.from(kept, (k) => k.h),
		firstDay: new Int32Array(0),
		lastDay: new Int32Array(0),
		hasHistory: false,
	};
	return predict(summaries, settings, options.params, excluded, {}, options.rows !== false);
}
