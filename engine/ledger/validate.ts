/* Input checks for the ledger. Every check throws EngineError naming the field and saying what
 * would be valid; messages never echo the value (it may be personal data), only its type or size. */
import { EngineError } from '../shared/errors';
import { normalizeEmail } from '../shared/email';
import { parseCurrency, requireAmount, toMinorUnits } from '../shared/money';
import type { EventInput, Id } from './store';

export const LIMITS = {
	email: 320,
	id: 256,
	name: 256,
	phone: 32,
	text: 1024,
	code: 64,
	key: 256,
	status: 64,
	eventType: 128,
	jsonBytes: 64 * 1024,
	listItems: 100,
	batch: 100_000,
	pageSize: 10_000,
} as const;

// Control characters (C0, DEL, C1): never valid in identifiers or addresses.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const STATUS = /^[a-z][a-z0-9_-]*$/;
const EVENT_TYPE = /^[a-z][a-z0-9_-]*(\.[a-z0-9_-]+)*$/;
const PHONE = /^\+?[0-9][0-9 ().-]*$/;

export function fail(
	code: string,
	field: string,
	message: string,
	details?: Record<string, unknown>,
): never {
	throw new EngineError(code, message, { field, details });
}

function describe(value: unknown): string {
	if (value === null) return 'null';
	if (Array.isArray(value)) return 'a list';
	return typeof value === 'string' ? `${value.length} characters` : `a ${typeof value}`;
}

function absent(value: unknown): boolean {
	return (
		value === undefined || value === null || (typeof value === 'string' && value.trim() === '')
	);
}

/** Trimmed text of 1..max characters without control characters. Numbers are accepted as text. */
export function text(value: unknown, field: string, max: number = LIMITS.text): string {
	if (absent(value))
		fail('required', field, `${field} is required: text of 1 to ${max} characters`);
	if (typeof value === 'number' && Number.isFinite(value)) value = String(value);
	if (typeof value !== 'string')
		fail(
			'invalid_type',
			field,
			`${field} must be text of 1 to ${max} characters (got ${describe(value)})`,
		);
	const trimmed = value.trim();
	if (trimmed.length > max) {
		fail('too_long', field, `${field} must be at most ${max} characters (got ${trimmed.length})`, {
			max,
			length: trimmed.length,
		});
	}
	if (CONTROL.test(trimmed))
		fail(
			'invalid_value',
			field,
			`${field} must not contain control characters (line breaks, tabs, NUL)`,
		);
	return trimmed;
}

export function optText(
	value: unknown,
	field: string,
	max: number = LIMITS.text,
): string | undefined {
	return absent(value) ? undefined : text(value, field, max);
}

/** Free text (reasons, errors): may hold line breaks, still bounded. */
export function optNote(
	value: unknown,
	field: string,
	max: number = LIMITS.text,
): string | undefined {
	if (absent(value)) return undefined;
	if (typeof value !== 'string')
		fail(
			'invalid_type',
			field,
			`${field} must be text of at most ${max} characters (got ${describe(value)})`,
		);
	const trimmed = value.trim();
	if (trimmed.length > max)
		fail('too_long', field, `${field} must be at most ${max} characters (got ${trimmed.length})`, {
			max,
			length: trimmed.length,
		});
	return trimmed;
}

/** An email address in its stored form, by the engine's one email rule (engine/shared/email.ts). */
export function email(value: unknown, field = 'email'): string {
	// Type and size first, with the ledger's codes (invalid_type, too_long); then the rule itself.
	return normalizeEmail(text(value, field, LIMITS.email), field);
}

export function optEmail(value: unknown, field = 'email'): string | undefined {
	return absent(value) ? undefined : email(value, field);
}

export function optPhone(value: unknown, field = 'phone'): string | undefined {
	if (absent(value)) return undefined;
	const phone = text(value, field, LIMITS.phone);
	if (!PHONE.test(phone))
		fail(
			'invalid_phone',
			field,
			`${field} must be a phone number of digits, optionally starting with + (e.g. +4915112345678)`,
		);
	return phone;
}

/** A row id the ledger created: a positive integer, also given as a numeric string. */
export function rowId(value: unknown, field: string): number {
	if (absent(value))
		fail(
			'required',
			field,
			`${field} is required: a positive whole number (an id from the ledger)`,
		);
	const n = typeof value === 'string' && /^\s*\d{1,16}\s*$/.test(value) ? Number(value) : value;
	if (typeof n !== 'number' || !Number.isSafeInteger(n) || n <= 0) {
		fail(
			'invalid_id',
			field,
			`${field} must be a positive whole number (an id from the ledger; got ${describe(value)})`,
		);
	}
	return n;
}

export function optRowId(value: unknown, field: string): number | undefined {
	return absent(value) ? undefined : rowId(value, field);
}

/** Epoch milliseconds from a number, Date or ISO-8601 string. */
export function time(value: unknown, field: string): number {
	let ms: number | undefined;
	if (typeof value === 'number') ms = value;
	else if (value instanceof Date) ms = value.getTime();
	else if (typeof value === 'string' && value.trim() !== '')
		ms = /^\s*\d+\s*$/.test(value) ? Number(value) : Date.parse(value);
	if (ms === undefined || !Number.isFinite(ms) || ms < 0 || ms > 8.64e15) {
		fail(
			'invalid_time',
			field,
			`${field} must be a time: epoch milliseconds, a Date or an ISO-8601 string like 2026-03-01T12:00:00Z`,
		);
	}
	return Math.trunc(ms);
}

export function optTime(value: unknown, field: string): number | undefined {
	return absent(value) ? undefined : time(value, field);
}

export function int(
	value: unknown,
	field: string,
	min: number,
	max: number = Number.MAX_SAFE_INTEGER,
): number {
	if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
		fail(
			'invalid_number',
			field,
			`${field} must be a whole number from ${min} to ${max} (got ${typeof value === 'number' ? value : describe(value)})`,
			{ min, max },
		);
	}
	return value;
}

export function optInt(
	value: unknown,
	field: string,
	min: number,
	max?: number,
): number | undefined {
	return value === undefined || value === null ? undefined : int(value, field, min, max);
}

export function optNumber(value: unknown, field: string): number | undefined {
	if (value === undefined || value === null) return undefined;
	if (typeof value !== 'number' || !Number.isFinite(value))
		fail('invalid_number', field, `${field} must be a finite number (got ${describe(value)})`);
	return value;
}

export function oneOf<T extends string>(value: unknown, field: string, allowed: readonly T[]): T {
	if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
		fail('invalid_value', field, `${field} must be one of: ${allowed.join(', ')}`, { allowed });
	}
	return value as T;
}

export function optOneOf<T extends string>(
	value: unknown,
	field: string,
	allowed: readonly T[],
): T | undefined {
	return value === undefined || value === null ? undefined : oneOf(value, field, allowed);
}

/** A status word such as `pending` or `qualified`: lower-case letters, digits, `_` and `-`. */
export function status(value: unknown, field: string): string {
	const s = text(value, field, LIMITS.status);
	if (!STATUS.test(s))
		fail(
			'invalid_status',
			field,
			`${field} must be a lower-case word of letters, digits, _ or - (e.g. qualified)`,
		);
	return s;
}

export function statusList(value: unknown, field: string): string[] {
	if (!Array.isArray(value) || value.length === 0 || value.length > LIMITS.listItems) {
		fail('invalid_type', field, `${field} must be a list of 1 to ${LIMITS.listItems} statuses`);
	}
	return value.map((s, i) => status(s, `${field}[${i}]`));
}

export function textList(
	value: unknown,
	field: string,
	maxItems: number = LIMITS.listItems,
	maxLength: number = LIMITS.text,
): string[] {
	if (value === undefined || value === null) return [];
	if (!Array.isArray(value) || value.length > maxItems)
		fail('invalid_type', field, `${field} must be a list of at most ${maxItems} texts`);
	return value.map((s, i) => text(s, `${field}[${i}]`, maxLength));
}

/** A plain JSON object, serialised, at most 64 KiB. */
export function jsonObject(value: unknown, field: string): string {
	if (value === undefined || value === null) return '{}';
	if (typeof value !== 'object' || Array.isArray(value))
		fail(
			'invalid_type',
			field,
			`${field} must be an object of JSON values (got ${describe(value)})`,
		);
	return jsonValue(value, field);
}

export function jsonValue(
	value: unknown,
	field: string,
	maxBytes: number = LIMITS.jsonBytes,
): string {
	let json: string | undefined;
	try {
		json = JSON.stringify(value);
	} catch {
		fail('invalid_json', field, `${field} must hold only JSON values (no cycles, no BigInt)`);
	}
	if (json === undefined) fail('invalid_json', field, `${field} must be a JSON value`);
	const bytes = Buffer.byteLength(json);
	if (bytes > maxBytes)
		fail(
			'too_large',
			field,
			`${field} must be at most ${maxBytes / 1024} KiB as JSON (got ${Math.ceil(bytes / 1024)} KiB)`,
			{ maxBytes },
		);
	return json;
}

export function eventType(value: unknown, field: string): string {
	const t = text(value, field, LIMITS.eventType);
	if (!EVENT_TYPE.test(t))
		fail(
			'invalid_event_type',
			field,
			`${field} must be dotted lower-case words like referral.qualified`,
		);
	return t;
}

export interface CheckedEvent {
	type: string;
	payload: string;
}

export function events(value: unknown, field = 'events'): CheckedEvent[] {
	if (value === undefined || value === null) return [];
	if (!Array.isArray(value) || value.length > LIMITS.listItems)
		fail(
			'invalid_type',
			field,
			`${field} must be a list of at most ${LIMITS.listItems} events {type, payload}`,
		);
	return value.map((e: EventInput, i) => {
		if (typeof e !== 'object' || e === null)
			fail('invalid_type', `${field}[${i}]`, `${field}[${i}] must be an object {type, payload}`);
		return {
			type: eventType(e.type, `${field}[${i}].type`),
			payload: jsonObject(e.payload, `${field}[${i}].payload`),
		};
	});
}

export function limit(value: unknown, field = 'limit', fallback = 100): number {
	return value === undefined || value === null ? fallback : int(value, field, 1, LIMITS.pageSize);
}

export function idList(value: unknown, field: string): number[] {
	if (!Array.isArray(value) || value.length > LIMITS.pageSize)
		fail('invalid_type', field, `${field} must be a list of at most ${LIMITS.pageSize} ids`);
	return value.map((v: Id, i) => rowId(v, `${field}[${i}]`));
}

/**
 * An order's amount and currency as the ledger stores them (both optional): the amount finite and
 * zero or more, the currency an ISO 4217 code, and together an exact number of minor units. The
 * one money rule is engine/shared/money.ts; a program's maximum order amount is checked before the
 * ledger is called (the ledger does not read program settings).
 */
export function orderMoney(
	amount: unknown,
	currency: unknown,
): { amount: number | undefined; currency: string | undefined } {
	const checkedCurrency = absent(currency) ? undefined : parseCurrency(currency, 'currency');
	const checkedAmount =
		amount === undefined || amount === null
			? undefined
			: requireAmount(amount, 'amount', { allowZero: true });
	if (checkedAmount !== undefined && checkedCurrency !== undefined)
		toMinorUnits(checkedAmount, checkedCurrency, 'amount');
	return { amount: checkedAmount, currency: checkedCurrency };
}

/**
 * An order id names one order: sent again with another amount or currency it is a different
 * order, not a replay. Refused, naming orderId (an amount or currency left out is not compared).
 */
export function orderConflict(
	orderId: string,
	stored: { amount: number | null; currency: string | null },
	amount: number | undefined,
	currency: string | undefined,
): void {
	const amountDiffers = amount !== undefined && stored.amount !== null && stored.amount !== amount;
	const currencyDiffers =
		currency !== undefined && stored.currency !== null && stored.currency !== currency;
	if (!amountDiffers && !currencyDiffers) return;
	fail(
		'order_conflict',
		'orderId',
		`orderId "${orderId.slice(0, 64)}" was already recorded with amount ${stored.amount ?? '(none)'} ${stored.currency ?? ''}`.trimEnd() +
			`; the same orderId with another amount or currency is not a replay. Send the same amount and currency again, or give a new order its own orderId`,
		{ amount: stored.amount, currency: stored.currency },
	);
}

export interface CheckedOwedMessage {
	key: string;
	channel: 'email' | 'sms';
	recipient: string;
	topic: string;
	participantId: number | null;
	data: string;
	collect: string[];
	dueAt: number | null;
}

/** Message keys: visible ASCII without spaces, room left for a part suffix (`~12`). */
const MESSAGE_KEY = /^[\x21-\x7d]{1,190}$/;

export function messageKey(value: unknown, field: string): string {
	const key = text(value, field, 190);
	if (!MESSAGE_KEY.test(key))
		fail(
			'invalid_key',
			field,
			`${field} must be 1 to 190 visible ASCII characters without spaces or ~`,
		);
	return key;
}

export function owedMessages(value: unknown, field = 'messages'): CheckedOwedMessage[] {
	if (value === undefined || value === null) return [];
	if (!Array.isArray(value) || value.length > LIMITS.listItems)
		fail(
			'invalid_type',
			field,
			`${field} must be a list of at most ${LIMITS.listItems} messages {key, channel, recipient, topic, data}`,
		);
	return value.map((m: Record<string, unknown>, i) => {
		const at = `${field}[${i}]`;
		if (typeof m !== 'object' || m === null)
			fail('invalid_type', at, `${at} must be an object {key, channel, recipient, topic, data}`);
		const channel = oneOf(m.channel, `${at}.channel`, ['email', 'sms'] as const);
		const recipient =
			channel === 'email'
				? email(m.recipient, `${at}.recipient`)
				: text(m.recipient, `${at}.recipient`, LIMITS.phone);
		return {
			key: messageKey(m.key, `${at}.key`),
			channel,
			recipient,
			topic: eventType(m.topic, `${at}.topic`),
			participantId: optRowId(m.participantId, `${at}.participantId`) ?? null,
			data: jsonObject(m.data, `${at}.data`),
			collect: textList(m.collect, `${at}.collect`, 10, LIMITS.name),
			dueAt: optTime(m.dueAt, `${at}.dueAt`) ?? null,
		};
	});
}
