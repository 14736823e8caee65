import { EngineError } from '../shared/errors';
import { formatDay, parseDay } from './dates';

/**
 * Reading transaction items and grouping them by customer, shared by RFM and CLV.
 * Rows that cannot be used are left out and counted by reason rather than failing the whole run:
 * one bad row in 70,000 should not stop an analysis, but the output must say it happened.
 */

/** Reason → how many rows (or customers, where the reason says so) were left out. */
export type ExclusionCounts = Record<string, number>;

export interface TransactionFields {
	/** Field holding the customer id. */
	customerField: string;
	/** Field holding the purchase date. */
	dateField: string;
	/** Field holding the amount. */
	amountField: string;
}

/** Transactions grouped by customer, in flat arrays so 100,000 rows cost no per-row objects. */
export interface CustomerTransactions {
	/** Customer ids in order of first appearance. */
	customers: string[];
	/** Customer i's transactions are at [offsets[i], offsets[i + 1]), sorted by day. */
	offsets: Int32Array;
	/** UTC day numbers (days since 1970-01-01). */
	days: Int32Array;
	amounts: Float64Array;
	/** Rows kept. */
	transactions: number;
	firstDay: number;
	lastDay: number;
	excluded: ExclusionCounts;
}

const NUMBER_PATTERN = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** A finite number from a number or numeric text; NaN for anything else, undefined for blank. */
export function readNumber(value: unknown): number | undefined {
	if (value === undefined || value === null) return undefined;
	if (typeof value === 'number') return Number.isFinite(value) ? value : NaN;
	if (typeof value === 'string') {
		const text = value.trim();
		if (text === '') return undefined;
		return NUMBER_PATTERN.test(text) ? Number(text) : NaN;
	}
	return NaN;
}

/** A customer id as text, or undefined when blank. */
export function readCustomerId(value: unknown): string | undefined {
	if (typeof value === 'string') return value.trim() === '' ? undefined : value;
	if (typeof value === 'number' || typeof value === 'bigint') return String(value);
	return undefined;
}

export function checkFieldName(name: unknown, option: string): string {
	if (typeof name !== 'string' || name.trim() === '') {
		throw new EngineError(
			'invalid_field_name',
			`The ${option} must name a field of the input items, e.g. "customerId"`,
			{
				field: option,
			},
		);
	}
	return name;
}

export function checkItems(items: unknown, what: string): readonly Record<string, unknown>[] {
	if (!Array.isArray(items) || items.length === 0) {
		throw new EngineError(
			'empty_input',
			`There are no ${what} to analyse: the input has no items`,
			{
				details: { items: 0 },
			},
		);
	}
	return items as readonly Record<string, unknown>[];
}

export function addExclusion(excluded: ExclusionCounts, reason: string, count = 1): void {
	excluded[reason] = (excluded[reason] ?? 0) + count;
}

function describeExclusions(excluded: ExclusionCounts): string {
	return Object.entries(excluded)
		.map(([reason, count]) => `${count} ${reason.replace(/_/g, ' ')}`)
		.join(', ');
}

/**
 * Parse and group transaction items. Rows after `endDay` (when given) are left out as `after_end_date`.
 * Throws when the input is empty or no row at all can be used.
 */
export function groupTransactions(
	items: readonly Record<string, unknown>[],
	fields: TransactionFields,
	endDay?: number,
): CustomerTransactions {
	checkItems(items, 'transactions');
	const customerField = checkFieldName(fields.customerField, 'customerField');
	const dateField = checkFieldName(fields.dateField, 'dateField');
	const amountField = checkFieldName(fields.amountField, 'amountField');

	const n = items.length;
	const customerOf = new Int32Array(n);
	const dayOf = new Int32Array(n);
	const amountOf = new Float64Array(n);
	const indexOfCustomer = new Map<string, number>();
	const customers: string[] = [];
	const excluded: ExclusionCounts = {};
	let kept = 0;
	let firstDay = Infinity;
	let lastDay = -Infinity;

	for (let i = 0; i < n; i++) {
		const item = items[i];
		if (item === null || typeof item !== 'object') {
			addExclusion(excluded, 'not_an_object');
			continue;
		}
		const customer = readCustomerId(item[customerField]);
		if (customer === undefined) {
			addExclusion(excluded, 'missing_customer');
			continue;
		}
		const day = parseDay(item[dateField]);
		if (Number.isNaN(day)) {
			addExclusion(excluded, 'unparseable_date');
			continue;
		}
		const amount = readNumber(item[amountField]);
		if (amount === undefined) {
			addExclusion(excluded, 'missing_amount');
			continue;
		}
		if (Number.isNaN(amount)) {
			addExclusion(excluded, 'unparseable_amount');
			continue;
		}
		if (amount < 0) {
			addExclusion(excluded, 'negative_amount');
			continue;
		}
		if (endDay !== undefined && day > endDay) {
			addExclusion(excluded, 'after_end_date');
			continue;
		}
		let index = indexOfCustomer.get(customer);
		if (index === undefined) {
			index = customers.length;
			indexOfCustomer.set(customer, index);
			customers.push(customer);
		}
		customerOf[kept] = index;
		dayOf[kept] = day;
		amountOf[kept] = amount;
		kept++;
		if (day < firstDay) firstDay = day;
		if (day > lastDay) lastDay = day;
	}

	if (kept === 0) {
		const field = excluded.unparseable_date
			? dateField
			: excluded.missing_customer
				? customerField
				: amountField;
		throw new EngineError(
			'no_valid_transactions',
			`None of the ${n} transactions could be used (${describeExclusions(excluded)}). Check the field names ` +
				`("${customerField}", "${dateField}", "${amountField}"); dates may be ISO 8601, YYYYMMDD, epoch milliseconds or Date, ` +
				`amounts must be numbers of zero or more` +
				(endDay === undefined ? '' : ` and dates on or before ${formatDay(endDay)}`),
			{ field, details: { excluded } },
		);
	}

	// Counting sort by customer keeps each customer's rows in input order.
	const offsets = new Int32Array(customers.length + 1);
	for (let i = 0; i < kept; i++) offsets[customerOf[i] + 1]++;
	for (let c = 0; c < customers.length; c++) offsets[c + 1] += offsets[c];
	const cursor = offsets.slice(0, customers.length);
	const days = new Int32Array(kept);
	const amounts = new Float64Array(kept);
	for (let i = 0; i < kept; i++) {
		const at = cursor[customerOf[i]]++;
		days[at] = dayOf[i];
		amounts[at] = amountOf[i];
	}
	for (let c = 0; c < customers.length; c++) sortByDay(days, amounts, offsets[c], offsets[c + 1]);

	return { customers, offsets, days, amounts, transactions: kept, firstDay, lastDay, excluded };
}

/** Stable sort of one customer's rows by day; they are usually sorted already. */
function sortByDay(days: Int32Array, amounts: Float64Array, start: number, end: number): void {
	let sorted = true;
	for (let i = start + 1; i < end && sorted; i++) sorted = days[i] >= days[i - 1];
	if (sorted) return;
	if (end - start <= 32) {
		for (let i = start + 1; i < end; i++) {
			const day = days[i];
			const amount = amounts[i];
			let j = i - 1;
			while (j >= start && days[j] > day) {
				days[j + 1] = days[j];
				amounts[j + 1] = amounts[j];
				j--;
			}
			days[j + 1] = day;
			amounts[j + 1] = amount;
		}
		return;
	}
	// Array.prototype.sort is stable, so same-day rows keep their input order.
	const order = Array.from({ length: end - start }, (_, k) => start + k).sort(
		(i, j) => days[i] - days[j],
	);
	const sortedDays = order.map((i) => days[i]);
	const sortedAmounts = order.map((i) => amounts[i]);
	days.set(sortedDays, start);
	amounts.set(sortedAmounts, start);
}

/** Parse an option that names a date (as-of date, observation end), throwing when it cannot be read. */
export function parseDateOption(value: unknown, option: string): number {
	const day = parseDay(value);
	if (Number.isNaN(day)) {
		throw new EngineError(
			'invalid_date',
			`The ${option} must be a date: ISO 8601 (e.g. 2024-03-31), YYYYMMDD, epoch milliseconds or a Date`,
			{ field: option },
		);
	}
	return day;
}
