/* Reading lead fields: dot/index paths split once, values coerced to numbers, text and dates. */
import { EngineError } from '../errors';

export type PathSegment = string | number;

export const DAY_MS = 86_400_000;

/** Segment names that would walk into the prototype chain instead of the lead's own data. */
const FORBIDDEN_SEGMENTS = new Set(['__proto__', 'prototype', 'constructor']);

/**
 * Splits `company.size`, `tags[0]` or `orders[2].total` into segments, once, at compile time.
 * `where` names the parameter in error messages (e.g. `rule 2 "Pricing page": field`).
 */
export function parseFieldPath(path: unknown, field: string, where: string): PathSegment[] {
	if (typeof path !== 'string' || path.trim() === '') {
		throw new EngineError('invalid_field_path', `${where} needs a field path such as "company.size" or "tags[0]".`, {
			field,
		});
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
		if (FORBIDDEN_SEGMENTS.has(name)) fail(`"${name}" cannot be read`);
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

const ISO_DATE =
	/^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;

/**
 * Epoch milliseconds from an ISO 8601 string, epoch milliseconds or a Date; NaN when unreadable.
 * Strict on purpose: V8's Date.parse turns 2024-02-31 into 2 March and reads zone-less times as
 * server-local, so a date-time without an offset is read as UTC here.
 */
export function parseDate(value: unknown): number {
	if (typeof value === 'number') return Number.isFinite(value) ? value : NaN;
	if (value instanceof Date) return value.getTime();
	if (typeof value !== 'string') return NaN;
	const m = ISO_DATE.exec(value.trim());
	if (m === null) return NaN;
	const year = +m[1];
	const month = +m[2];
	const day = +m[3];
	const hour = m[4] === undefined ? 0 : +m[4];
	const minute = m[5] === undefined ? 0 : +m[5];
	const second = m[6] === undefined ? 0 : +m[6];
	const ms = m[7] === undefined ? 0 : Math.floor(+(m[7] + '000').slice(0, 3));
	if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return NaN;
	const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
	if (day > daysInMonth) return NaN;
	let offsetMinutes = 0;
	const zone = m[8];
	if (zone !== undefined && zone !== 'Z' && zone !== 'z') {
		const sign = zone[0] === '-' ? -1 : 1;
		const digits = zone.slice(1).replace(':', '');
		const zh = +digits.slice(0, 2);
		const zm = digits.length > 2 ? +digits.slice(2, 4) : 0;
		if (zh > 23 || zm > 59) return NaN;
		offsetMinutes = sign * (zh * 60 + zm);
	}
	// Date.UTC maps years 0-99 to 1900+; setUTCFullYear keeps them literal.
	const d = new Date(0);
	d.setUTCFullYear(year, month - 1, day);
	d.setUTCHours(hour, minute, second, ms);
	return d.getTime() - offsetMinutes * 60_000;
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
