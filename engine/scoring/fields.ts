/* Reading lead fields: dot/index paths split once, values coerced to numbers, text and dates. */
import { EngineError } from '../shared/errors';
import { PROTOTYPE_KEYS } from '../shared/guards';
import { DAY_MS } from '../shared/time';

export type PathSegment = string | number;

export { DAY_MS };

/**
 * Splits `company.size`, `tags[0]` or `orders[2].total` into segments, once, at compile time.
 * `where` names the parameter in error messages (e.g. `rule 2 "Pricing page": field`).
 */
export function parseFieldPath(path: unknown, field: string, where: string): PathSegment[] {
	if (typeof path !== 'string' || path.trim() === '') {
		throw new EngineError(
			'invalid_field_path',
			`${where} needs a field path such as "company.size" or "tags[0]".`,
			{
				field,
			},
		);
	}
	const text = path.trim();
	const segments: PathSegment[] = [];
	let i = 0;
	const fail = (why: string): never => {
		throw new EngineError(
			'invalid_field_path',
			`${where}: the field path "${text}" is not valid (${why}); use dots between names and [n] for list positions, e.g. "orders[0].total".`,
			{ field, details: { path: text } },
		);
	};
	let expectName = true;
	while (i < text.length) {
		const ch = text[i];
		if (ch === '[') {
			const close = text.indexOf(']', i);
			if (close < 0) fail('a "[" is not closed');
			const inner = text.slice(i + 1, close).trim();
			if (!/^\d+$/.test(inner)) fail(`"[${inner}]" is not a list position`);
			segments.push(Number(inner));
			i = close + 1;
			expectName = false;
			if (text[i] === '.') {
				i++;
				expectName = true;
				if (i >= text.length) fail('it ends with a dot');
			}
			continue;
		}
		if (ch === ']') fail('a "]" has no matching "["');
		if (ch === '.') fail('it has an empty name between dots');
		if (!expectName) fail('a name must follow a dot');
		let end = i;
		while (end < text.length && text[end] !== '.' && text[end] !== '[' && text[end] !== ']') end++;
		const name = text.slice(i, end);
		if (PROTOTYPE_KEYS.has(name)) fail(`"${name}" cannot be read`);
		segments.push(name);
		i = end;
		expectName = false;
		if (text[i] === '.') {
			i++;
			expectName = true;
			if (i >= text.length) fail('it ends with a dot');
		}
	}
	return segments;
}

/** Follows pre-split segments; `undefined` when any step is missing or not an object. */
export function readPath(source: unknown, segments: readonly PathSegment[]): unknown {
	let current = source;
	for (let i = 0; i < segments.length; i++) {
		if (current === null || typeof current !== 'object') return undefined;
		current = (current as Record<PathSegment, unknown>)[segments[i]];
	}
	return current;
}

/** A finite number from a number or numeric text; NaN otherwise (booleans and blanks are not numbers). */
export function toNumber(value: unknown): number {
	if (typeof value === 'number') return Number.isFinite(value) ? value : NaN;
	if (typeof value === 'string') {
		if (value.trim() === '') return NaN;
		const n = Number(value);
		return Number.isFinite(n) ? n : NaN;
	}
	if (typeof value === 'bigint') return Number(value);
	return NaN;
}

/** Text for text operators; `null` when the value is not a scalar. */
export function toText(value: unknown): string | null {
	if (typeof value === 'string') return value;
	if (typeof value === 'number') return Number.isFinite(value) ? String(value) : null;
	if (typeof value === 'boolean' || typeof value === 'bigint') return String(value);
	return null;
}

/** Missing for every operator that needs a value: absent or null. */
export function isMissing(value: unknown): boolean {
	return value === undefined || value === null;
}

/** Blank: missing, whitespace-only text, an empty list or an empty object. */
export function isBlank(value: unknown): boolean {
	if (value === undefined || value === null) return true;
	if (typeof value === 'string') return value.trim() === '';
	if (Array.isArray(value)) return value.length === 0;
	if (typeof value === 'object' && !(value instanceof Date)) {
		for (const key in value) if (Object.prototype.hasOwnProperty.call(value, key)) return false;
		return true;
	}
	return false;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's days_from_civil). */
function daysFromCivil(year: number, month: number, day: number): number {
	const y = month <= 2 ? year - 1 : year;
	const era = Math.floor(y / 400);
	const yearOfEra = y - era * 400;
	const shiftedMonth = month > 2 ? month - 3 : month + 9;
	const dayOfYear = Math.floor((153 * shiftedMonth + 2) / 5) + day - 1;
	const dayOfEra =
		yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
	return era * 146097 + dayOfEra - 719468;
}

/** `count` digits at `at` as a number; -1 if any is not a digit. */
function digits(text: string, at: number, count: number): number {
	let value = 0;
	for (let k = 0; k < count; k++) {
		const c = text.charCodeAt(at + k) - 48;
		if (!(c >= 0 && c <= 9)) return -1;
		value = value * 10 + c;
	}
	return value;
}

/**
 * Reads `YYYY-MM-DD[(T| )hh:mm[:ss[.fff]]][Z|±hh[:]mm]` by character codes: no regex, no
 * allocation, because the scorer parses every date field of every lead.
 */
function parseIsoText(text: string): number {
	let i = 0;
	let end = text.length;
	while (i < end && text.charCodeAt(i) <= 32) i++;
	while (end > i && text.charCodeAt(end - 1) <= 32) end--;
	if (end - i < 10 || text.charCodeAt(i + 4) !== 45 || text.charCodeAt(i + 7) !== 45) return NaN;
	const year = digits(text, i, 4);
	const month = digits(text, i + 5, 2);
	const day = digits(text, i + 8, 2);
	if (year < 0 || month < 1 || month > 12 || day < 1) return NaN;
	const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
	if (day > (month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1])) return NaN;
	i += 10;
	let ms = 0;
	if (i < end && (text.charCodeAt(i) === 84 || text.charCodeAt(i) === 32)) {
		// T or space, then hh:mm
		if (end - i < 6 || text.charCodeAt(i + 3) !== 58) return NaN;
		const hour = digits(text, i + 1, 2);
		const minute = digits(text, i + 4, 2);
		if (hour < 0 || hour > 23 || minute < 0 || minute > 59) return NaN;
		ms = hour * 3_600_000 + minute * 60_000;
		i += 6;
		if (i < end && text.charCodeAt(i) === 58) {
			const second = digits(text, i + 1, 2);
			if (second < 0 || second > 59 || i + 3 > end) return NaN;
			ms += second * 1000;
			i += 3;
			const mark = i < end ? text.charCodeAt(i) : 0;
			if (mark === 46 || mark === 44) {
				// Fraction: keep milliseconds, ignore finer digits (up to 9 in all).
				let count = 0;
				let fraction = 0;
				i++;
				while (i < end) {
					const c = text.charCodeAt(i) - 48;
					if (!(c >= 0 && c <= 9)) break;
					if (count < 3) fraction = fraction * 10 + c;
					count++;
					i++;
				}
				if (count === 0 || count > 9) return NaN;
				for (let k = count; k < 3; k++) fraction *= 10;
				ms += fraction;
			}
		}
	}
	while (i < end && text.charCodeAt(i) <= 32) i++;
	let offsetMs = 0;
	if (i < end) {
		const z = text.charCodeAt(i);
		if (z === 90 || z === 122) {
			i++;
		} else if (z === 43 || z === 45) {
			const zoneHours = digits(text, i + 1, 2);
			if (zoneHours < 0 || zoneHours > 23 || i + 3 > end) return NaN;
			i += 3;
			let zoneMinutes = 0;
			if (i < end) {
				if (text.charCodeAt(i) === 58) i++;
				zoneMinutes = digits(text, i, 2);
				if (zoneMinutes < 0 || zoneMinutes > 59 || i + 2 > end) return NaN;
				i += 2;
			}
			offsetMs = (z === 45 ? -1 : 1) * (zoneHours * 3_600_000 + zoneMinutes * 60_000);
		} else {
			return NaN;
		}
	}
	if (i !== end) return NaN;
	return daysFromCivil(year, month, day) * DAY_MS + ms - offsetMs;
}

/**
 * Epoch milliseconds from an ISO 8601 string, epoch milliseconds or a Date; NaN when unreadable.
 * Strict on purpose: V8's Date.parse turns 2024-02-31 into 2 March and reads zone-less times as
 * server-local, so a date-time without an offset is read as UTC here.
 */
export function parseDate(value: unknown): number {
	if (typeof value === 'string') return parseIsoText(value);
	if (typeof value === 'number') return Number.isFinite(value) ? value : NaN;
	if (value instanceof Date) return value.getTime();
	return NaN;
}

/** A short, safe rendering of a value the caller passed, for error messages. */
export function describeValue(value: unknown): string {
	if (value === undefined) return 'nothing';
	if (value === null) return 'null';
	if (typeof value === 'string') {
		const shown = value.length > 40 ? value.slice(0, 37) + '...' : value;
		return `text "${shown}"`;
	}
	if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
		return `${typeof value} ${String(value)}`;
	}
	if (value instanceof Date) return 'an invalid Date';
	if (Array.isArray(value)) return `a list of ${value.length}`;
	return 'an object';
}

/** How a lead is named in messages: the node passes the item index or its own label. */
export function describeLead(label: string | number | undefined): string {
	if (label === undefined) return 'Lead';
	if (typeof label === 'number') return `Item ${label}`;
	return label;
}
