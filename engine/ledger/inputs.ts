/* Input checks shared by the tables: the input object itself, program ids, keys, codes, addresses,
 * points changes and a refund's standing. Each throws EngineError naming the field (validate.ts). */
import { emailSpellings } from '../shared/email';
import * as v from './validate';
import { fail, LIMITS } from './validate';
import { REWARD_STATUSES, type PointsChange, type RefundStanding } from './store';

/** Rows per multi-row statement (codes, coupons, suppression lookups). */
export const BULK_CHUNK = 1000;
/** Taken codes in a row before generate is judged too short. */
export const CODE_ATTEMPTS = 10;

export function inputObject<T>(input: T, what: string): T {
	if (input === null || typeof input !== 'object' || Array.isArray(input))
		fail('invalid_type', 'input', `the input of ${what} must be an object of named fields`);
	return input;
}

export function programIdOf(input: { programId?: unknown }): string {
	return v.text(input.programId, 'programId', 128);
}

export function keyOf(input: { idempotencyKey?: unknown }): string | undefined {
	return v.optText(input.idempotencyKey, 'idempotencyKey', LIMITS.key);
}

/** A code in canonical form: 1..64 characters, no spaces. */
export function codeText(value: unknown, field: string): string {
	const code = v.text(value, field, LIMITS.code);
	if (/\s/.test(code))
		fail(
			'invalid_code',
			field,
			`${field} must be a code without spaces (at most ${LIMITS.code} characters)`,
		);
	return code;
}

// eslint-disable-next-line no-control-regex
export const PLAIN_CODE = /^[^\s\u0000-\u001f\u007f-\u009f]{1,64}$/;

export function generated(generate: () => string): string {
	const code = generate();
	if (typeof code !== 'string')
		fail('invalid_type', 'generate', `generate must return the code as text (got ${typeof code})`);
	// One regex for the common case; the full check only to explain a bad code.
	return PLAIN_CODE.test(code) ? code : codeText(code, 'generate');
}

export function channelOf(value: unknown): string {
	return v.status(value, 'channel');
}

/** Addresses are compared in their stored form: email addresses by the one email rule, others trimmed. */
export function addressOf(channel: string, value: unknown, field: string): string {
	return channel === 'email' ? v.email(value, field) : v.text(value, field, LIMITS.email);
}

/**
 * Every spelling under which rows may hold a stored-form address: ledgers written before the one
 * email rule kept internationalised domains as typed (`ann@bücher.de`), so lookups also try that
 * spelling; new rows always hold the stored form (`ann@xn--bcher-kva.de`).
 */
export function spellingsOf(channel: string, address: string): string[] {
	return channel === 'email' ? emailSpellings(address) : [address];
}

export interface CheckedPoints {
	delta: number;
	reason: string | undefined;
	allowNegative: boolean;
	/** Field name of the delta, for the insufficient-points message. */
	field: string;
}

/** `prefix` is `points.` for a nested change, empty for appendPoints' own fields. */
export function pointsChangeOf(
	value: PointsChange | undefined,
	prefix: string,
): CheckedPoints | undefined {
	if (value === undefined || value === null) return undefined;
	if (typeof value !== 'object')
		fail(
			'invalid_type',
			prefix.slice(0, -1),
			`${prefix.slice(0, -1)} must be an object {delta, reason, allowNegative}`,
		);
	const field = `${prefix}delta`;
	const delta = v.int(value.delta, field, -1e12, 1e12);
	if (delta === 0) fail('invalid_number', field, `${field} must not be 0`);
	if (
		value.allowNegative !== undefined &&
		value.allowNegative !== null &&
		typeof value.allowNegative !== 'boolean'
	) {
		fail('invalid_type', `${prefix}allowNegative`, `${prefix}allowNegative must be true or false`);
	}
	return {
		delta,
		reason: v.optNote(value.reason, `${prefix}reason`, LIMITS.name),
		allowNegative: value.allowNegative === true,
		field,
	};
}

/** A refund's `standing`, checked: the participant's badges and tiers it takes away or gives. */
export function standingOf(value: RefundStanding | undefined) {
	if (value === undefined || value === null) return undefined;
	if (typeof value !== 'object')
		fail(
			'invalid_type',
			'standing',
			'standing must be an object {participantId, heldIds, lose, grant}',
		);
	const participantId = v.rowId(value.participantId, 'standing.participantId');
	const heldIds = new Set(v.idList(value.heldIds, 'standing.heldIds'));
	if (!Array.isArray(value.lose) || value.lose.length > LIMITS.pageSize)
		fail(
			'invalid_type',
			'standing.lose',
			`standing.lose must be a list of at most ${LIMITS.pageSize} steps`,
		);
	if (!Array.isArray(value.grant) || value.grant.length > LIMITS.listItems)
		fail(
			'invalid_type',
			'standing.grant',
			`standing.grant must be a list of at most ${LIMITS.listItems} awards`,
		);
	const lose = value.lose.map((step, i) => {
		const field = `standing.lose[${i}]`;
		if (step === null || typeof step !== 'object')
			fail('invalid_type', field, `${field} must be an object {rewardId, from}`);
		const rewardId = v.rowId(step.rewardId, `${field}.rewardId`);
		if (!heldIds.has(rewardId))
			fail(
				'invalid_value',
				`${field}.rewardId`,
				`${field}.rewardId must be one of standing.heldIds (the badges and tiers the refund was planned from)`,
			);
		return { rewardId, from: v.oneOf(step.from, `${field}.from`, REWARD_STATUSES) };
	});
	const grant = value.grant.map((g, i) => {
		const field = `standing.grant[${i}]`;
		if (g === null || typeof g !== 'object')
			fail(
				'invalid_type',
				field,
				`${field} must be an object {rule, kind, metadata, idempotencyKey}`,
			);
		return {
			rule: v.text(g.rule, `${field}.rule`, LIMITS.name),
			kind: v.oneOf(g.kind, `${field}.kind`, ['badge', 'tier'] as const),
			metadata: v.jsonObject(g.metadata, `${field}.metadata`),
			idempotencyKey: v.text(g.idempotencyKey, `${field}.idempotencyKey`, LIMITS.key),
		};
	});
	return { participantId, heldIds, lose, grant, events: v.events(value.events, 'standing.events') };
}

export type CheckedStanding = NonNullable<ReturnType<typeof standingOf>>;

/** The entries a picker shows: those whose text contains `search` in any letter case, at most `limit` (default 100). */
export function pickerPage<T>(
	entries: T[],
	text: (entry: T) => string,
	query: { search?: string; limit?: number },
): T[] {
	const search = typeof query.search === 'string' ? query.search.trim().toLowerCase() : '';
	const limit = typeof query.limit === 'number' && query.limit > 0 ? Math.floor(query.limit) : 100;
	return entries
		.filter((entry) => search === '' || text(entry).toLowerCase().includes(search))
		.slice(0, limit);
}
