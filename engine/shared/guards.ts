import { EngineError } from './errors';
import { describe } from './describe';

export { describe };

/**
 * Small input guards shared by the referral and reward rules. Each throws an EngineError that
 * names the field and says what would be valid, so a node can show the message as it is.
 */

export function requireText(value: unknown, field: string, maxLength = 256): string {
	if (typeof value !== 'string' || value.trim() === '') {
		throw new EngineError(
			'invalid_text',
			`${field} must be a non-empty text (got ${describe(value)}).`,
			{
				field,
			},
		);
	}
	const text = value.trim();
	if (text.length > maxLength) {
		throw new EngineError(
			'invalid_text',
			`${field} must be at most ${maxLength} characters (got ${text.length}).`,
			{
				field,
			},
		);
	}
	return text;
}

/**
 * A number as a parameter may hold it: a JSON number, or a non-blank string read as one; NaN for
 * anything else. The caller checks `Number.isFinite` and words its own error.
 */
export function numberOrNaN(value: unknown): number {
	if (typeof value === 'number') return value;
	return typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
}

export function requireNumber(value: unknown, field: string): number {
	if (typeof value !== 'number' || !Number.isFinite(value)) {
		throw new EngineError(
			'invalid_number',
			`${field} must be a finite number (got ${describe(value)}).`,
			{ field },
		);
	}
	return value;
}

/** A point in time as epoch milliseconds; ISO strings and Dates are accepted because n8n passes all three. */
export function requireTime(value: unknown, field: string): number {
	if (value instanceof Date) value = value.getTime();
	if (typeof value === 'string' && value.trim() !== '') {
		const parsed = Date.parse(value);
		if (!Number.isNaN(parsed)) return parsed;
	}
	if (typeof value === 'number' && Number.isFinite(value)) return value;
	throw new EngineError(
		'invalid_time',
		`${field} must be a time (epoch milliseconds or an ISO 8601 date, got ${describe(value)}).`,
		{ field },
	);
}

export function requireInteger(
	value: unknown,
	field: string,
	min: number,
	max = Number.MAX_SAFE_INTEGER,
): number {
	if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
		const range = max === Number.MAX_SAFE_INTEGER ? `at least ${min}` : `between ${min} and ${max}`;
		throw new EngineError(
			'invalid_number',
			`${field} must be a whole number ${range} (got ${describe(value)}).`,
			{
				field,
			},
		);
	}
	return value;
}

export function requireRange(value: unknown, field: string, min: number, max: number): number {
	const n = requireNumber(value, field);
	if (n < min || n > max) {
		throw new EngineError(
			'invalid_number',
			`${field} must be between ${min} and ${max} (got ${n}).`,
			{ field },
		);
	}
	return n;
}

export function requireOneOf<T extends string>(
	value: unknown,
	field: string,
	allowed: readonly T[],
): T {
	if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
		throw new EngineError(
			'invalid_option',
			`${field} must be one of ${allowed.map((a) => `"${a}"`).join(', ')} (got ${describe(value)}).`,
			{ field, details: { allowed: [...allowed] } },
		);
	}
	return value as T;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function requireRecord(value: unknown, field: string): Record<string, unknown> {
	if (!isRecord(value)) {
		throw new EngineError(
			'invalid_object',
			`${field} must be an object (got ${describe(value)}).`,
			{ field },
		);
	}
	return value;
}

/** Keys that reach Object.prototype or constructors instead of the data's own fields: never read through them. */
export const PROTOTYPE_KEYS: ReadonlySet<string> = new Set([
	'__proto__',
	'constructor',
	'prototype',
]);

const YES_WORDS = new Set(['true', 'yes']);

/**
 * The one yes/no rule for flags read from input items (spreadsheets, forms, shop webhooks): a JSON
 * true, or the words "true" or "yes" in any letter case; anything else, absent included, is no.
 */
export function isYes(value: unknown): boolean {
	if (value === true) return true;
	return typeof value === 'string' && YES_WORDS.has(value.trim().toLowerCase());
}
