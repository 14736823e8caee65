/* The ledger's operations, written once against the Driver/Tx interface (sql.ts). Both backends
 * run exactly this code; only transactions, locks and DDL types differ (sqlite.ts, postgres.ts). */
import { createHash, randomBytes } from 'node:crypto';
import { EngineError } from '../shared/errors';
import { emailSpellings, storedForm } from '../shared/email';
import { backoffMs, Params, sleep, type Driver, type Row, type SqlValue, type Tx } from './sql';
import * as v from './validate';
import { fail, LIMITS } from './validate';
import {
	REWARD_KINDS,
	REWARD_SIDES,
	REWARD_STATUSES,
	type AppendEventInput,
	type AppendEventResult,
	type AppendPointsInput,
	type AppendPointsResult,
	type AwardRewardInput,
	type AwardRewardResult,
	type ClaimCouponInput,
	type ClaimCouponResult,
	type ClaimMessagesInput,
	type ClaimMessagesResult,
	type CodeQuery,
	type CodeRecord,
	type CodeState,
	type CompleteMessageInput,
	type ConversionRecord,
	type KeepAnswerInput,
	type CountReferralsQuery,
	type CouponCounts,
	type CouponPoolSummary,
	type CouponRecord,
	type DueRewardsQuery,
	type EdgesQuery,
	type EnrolParticipantInput,
	type EnrolParticipantResult,
	type EnsureProgramInput,
	type EraseParticipantInput,
	type Id,
	type IssueCodeInput,
	type IssueCodeResult,
	type IssueCodesInput,
	type IssueCodesResult,
	type JournalQuery,
	type LeaderboardQuery,
	type LeaderboardRow,
	type LedgerEvent,
	type ConversionsQuery,
	type LeaseInput,
	type ClaimNonceInput,
	type LedgerStore,
	type ListCodesQuery,
	type ListParticipantsQuery,
	type ListReferralsQuery,
	type ListMessagesQuery,
	type ListRewardsQuery,
	type LoadCouponsInput,
	type LoadCouponsResult,
	type MessageRecord,
	type ParticipantQuery,
	type ParticipantRecord,
	type PointsChange,
	type PointsEntry,
	type PointsQuery,
	type ProgramRecord,
	type QualifyReferralInput,
	type QualifyReferralResult,
	type ReadEventsQuery,
	type ReadEventsResult,
	type RecordReferralInput,
	type RecordReferralResult,
	type RedeemCodeInput,
	type RedeemCodeResult,
	type RedeemRefusal,
	type ReferralCounts,
	type ReferralEdge,
	type ReferralRecord,
	type RemoveSuppressionInput,
	type ReserveMessageInput,
	type ReserveMessageResult,
	type RevokeCodeInput,
	type RevokeCodeResult,
	type RewardKind,
	type RewardRecord,
	type RewardSide,
	type RewardStatus,
	type SaveScoringModelInput,
	type SaveScoringModelResult,
	type ScoringModelRecord,
	type SignalQuery,
	type StatusChange,
	type SuppressionInput,
	type SuppressionKey,
	type SuppressionRecord,
	type Time,
	type TransitionReferralInput,
	type ReassignReferralInput,
	type TransitionResult,
	type TransitionRewardInput,
	type TransitionRewardResult,
	type RefundReferralInput,
	type RefundStanding,
	type RefundReferralResult,
	type UpdateParticipantInput,
} from './store';

// ---------- row mapping ----------

const n = (value: unknown): number => Number(value);
const nOrNull = (value: unknown): number | null => (value === null || value === undefined ? null : Number(value));
const s = (value: unknown): string => String(value);
const sOrNull = (value: unknown): string | null => (value === null || value === undefined ? null : String(value));
const obj = (value: unknown): Record<string, unknown> => (value ? (JSON.parse(String(value)) as Record<string, unknown>) : {});

function toParticipantOrUndefined(r: Row | undefined): ParticipantRecord | undefined {
	return r ? toParticipant(r) : undefined;
}

function toParticipant(r: Row): ParticipantRecord {
	return {
		id: n(r.id),
		programId: s(r.program_id),
		externalId: sOrNull(r.external_id),
		email: sOrNull(r.email),
		phone: sOrNull(r.phone),
		name: sOrNull(r.name),
		metadata: obj(r.metadata),
		erasedAt: nOrNull(r.erased_at),
		createdAt: n(r.created_at),
		updatedAt: n(r.updated_at),
	};
}

function codeState(r: Row, now: number): CodeState {
	if (r.status === 'revoked') return 'revoked';
	if (r.expires_at !== null && n(r.expires_at) <= now) return 'expired';
	if (r.max_uses !== null && n(r.uses) >= n(r.max_uses)) return 'exhausted';
	return 'active';
}

function toCode(r: Row, now: number): CodeRecord {
	return {
		id: n(r.id),
		programId: s(r.program_id),
		code: s(r.code),
		ownerId: nOrNull(r.owner_id),
		status: r.status === 'revoked' ? 'revoked' : 'active',
		state: codeState(r, now),
		expiresAt: nOrNull(r.expires_at),
		maxUses: nOrNull(r.max_uses),
		uses: n(r.uses),
		revokedReason: sOrNull(r.revoked_reason),
		createdAt: n(r.created_at),
		updatedAt: n(r.updated_at),
	};
}

function toReferral(r: Row): ReferralRecord {
	return {
		id: n(r.id),
		programId: s(r.program_id),
		referrerId: n(r.referrer_id),
		refereeId: nOrNull(r.referee_id),
		codeId: nOrNull(r.code_id),
		source: sOrNull(r.source),
		touchedAt: n(r.touched_at),
		ipHash: sOrNull(r.ip_hash),
		deviceHash: sOrNull(r.device_hash),
		status: s(r.status),
		reasons: JSON.parse(s(r.reasons)) as string[],
		riskScore: nOrNull(r.risk_score),
		metadata: obj(r.metadata),
		qualifiedAt: nOrNull(r.qualified_at),
		createdAt: n(r.created_at),
		updatedAt: n(r.updated_at),
	};
}

function toChange(r: Row): StatusChange {
	return { id: n(r.id), from: sOrNull(r.from_status), to: s(r.to_status), reason: sOrNull(r.reason), at: n(r.at) };
}

function toConversion(r: Row): ConversionRecord {
	return {
		id: n(r.id),
		programId: s(r.program_id),
		referralId: n(r.referral_id),
		orderId: s(r.order_id),
		amount: nOrNull(r.amount),
		currency: sOrNull(r.currency),
		occurredAt: n(r.occurred_at),
		createdAt: n(r.created_at),
		referralStatus: sOrNull(r.referral_status),
	};
}

function toReward(r: Row): RewardRecord {
	return {
		id: n(r.id),
		programId: s(r.program_id),
		recipientId: n(r.recipient_id),
		referralId: nOrNull(r.referral_id),
		side: s(r.side) as RewardSide,
		rule: s(r.rule),
		kind: s(r.kind) as RewardKind,
		amount: nOrNull(r.amount),
		currency: sOrNull(r.currency),
		status: s(r.status) as RewardStatus,
		holdUntil: nOrNull(r.hold_until),
		idempotencyKey: s(r.idempotency_key),
		metadata: obj(r.metadata),
		createdAt: n(r.created_at),
		updatedAt: n(r.updated_at),
	};
}

function toEntry(r: Row): PointsEntry {
	return {
		id: n(r.id),
		programId: s(r.program_id),
		participantId: n(r.participant_id),
		delta: n(r.delta),
		balanceAfter: n(r.balance_after),
		reason: sOrNull(r.reason),
		rewardId: nOrNull(r.reward_id),
		idempotencyKey: s(r.idempotency_key),
		createdAt: n(r.created_at),
	};
}

function toCoupon(r: Row): CouponRecord {
	return {
		id: n(r.id),
		programId: s(r.program_id),
		pool: s(r.pool),
		code: s(r.code),
		status: r.status === 'claimed' ? 'claimed' : 'available',
		claimedBy: nOrNull(r.claimed_by),
		rewardId: nOrNull(r.reward_id),
		claimedAt: nOrNull(r.claimed_at),
		createdAt: n(r.created_at),
	};
}

function toEvent(r: Row): LedgerEvent {
	return { id: n(r.id), programId: sOrNull(r.program_id), type: s(r.type), payload: obj(r.payload), createdAt: n(r.created_at) };
}

function toSuppression(r: Row): SuppressionRecord {
	return { channel: s(r.channel), address: s(r.address), reason: sOrNull(r.reason), createdAt: n(r.created_at) };
}

function toMessage(r: Row): MessageRecord {
	return {
		id: n(r.id),
		idempotencyKey: s(r.idempotency_key),
		programId: sOrNull(r.program_id),
		participantId: nOrNull(r.participant_id),
		channel: s(r.channel),
		recipient: s(r.recipient),
		status: s(r.status) as MessageRecord['status'],
		providerId: sOrNull(r.provider_id),
		error: sOrNull(r.error),
		attempts: n(r.attempts),
		createdAt: n(r.created_at),
		updatedAt: n(r.updated_at),
		topic: sOrNull(r.topic),
		group: sOrNull(r.msg_group),
		data: r.payload === null || r.payload === undefined ? null : obj(r.payload),
		dueAt: nOrNull(r.due_at),
		claimedUntil: nOrNull(r.claimed_until),
		handedOverAt: nOrNull(r.handed_over_at),
	};
}

function toModel(r: Row): ScoringModelRecord {
	return { name: s(r.name), model: JSON.parse(s(r.model)), version: n(r.version), updatedAt: n(r.updated_at) };
}

function toProgram(r: Row): ProgramRecord {
	return { id: s(r.id), name: s(r.name), settings: obj(r.settings), createdAt: n(r.created_at), updatedAt: n(r.updated_at) };
}

// ---------- idempotency ----------

/** JSON with sorted keys, so the same input always hashes the same. */
function stableJson(value: unknown): string {
	return JSON.stringify(value, (_key, val: unknown) => {
		if (val && typeof val === 'object' && !Array.isArray(val) && !(val instanceof Date)) {
			return Object.fromEntries(Object.entries(val as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
		}
		return val;
	});
}

function digest(value: unknown): string {
	return createHash('sha256').update(stableJson(value)).digest('base64url');
}

/**
 * Fingerprint of what the caller asked for: each operation names the fields of its request
 * (`Once.request`), already validated. Never in a fingerprint: times (a server may default them to
 * its clock), ids the ledger assigns, the status the caller read before asking (`from`), notes and
 * reasons, metadata, risk scores and events (context the caller computed). So a replay is
 * recognised however late it comes, and a key reused for another request is still refused.
 */
function fingerprint(request: Record<string, unknown>): string {
	return digest(request);
}

interface Once<Receipt, R> {
	programId: string;
	operation: string;
	/** The caller's key, if any. */
	key: string | undefined;
	/** Derives the default key; omit for operations idempotent by their natural key. */
	derive?: () => string;
	/** The request as the caller meant it, for the fingerprint of an explicit key (see `fingerprint`). */
	request: Record<string, unknown>;
	/** Does the work; a null receipt means "nothing happened, do not remember the key". */
	run: () => Promise<{ receipt: Receipt | null; result: R }>;
	/** Rebuilds the result of an earlier call from its receipt. */
	replay: (receipt: Receipt) => Promise<R>;
}

/** A write in progress: its transaction, its clock reading and the events it will append. */
class Work {
	readonly events: Array<{ programId: string | null; type: string; payload: string; participantId: number | null }> = [];
	readonly owed: Array<{ programId: string; message: v.CheckedOwedMessage }> = [];

	constructor(
		readonly tx: Tx,
		readonly now: number,
	) {}

	emit(programId: string | null, type: string, payload: Record<string, unknown> | string, participantId: number | null = null): void {
		this.events.push({ programId, type, payload: typeof payload === 'string' ? payload : JSON.stringify(payload), participantId });
	}

	emitAll(programId: string | null, events: v.CheckedEvent[], participantId: number | null = null): void {
		for (const e of events) this.emit(programId, e.type, e.payload, participantId);
	}

	/** Messages owed to people, written into the message log before the commit. */
	oweAll(programId: string, messages: v.CheckedOwedMessage[], participantId: number | null = null): void {
		for (const message of messages) this.owed.push({ programId, message: { ...message, participantId: message.participantId ?? participantId } });
	}
}

/** A lapsed claim whose holder never handed the message over: nothing reached the provider. */
const DEAD_CLAIM = `(status = 'reserved' AND claimed_until IS NOT NULL AND claimed_until < $NOW AND handed_over_at IS NULL)`;
/** Owed and due. */
const DUE = `(status = 'owed' AND due_at <= $NOW)`;
const CLAIM_TTL = { min: 1_000, max: 600_000, default: 30_000 };
const MAX_CLAIM_KEYS = 1000;

const OUTBOX_LOCK = 'outbox';
const BULK_CHUNK = 1000;
const CODE_ATTEMPTS = 10;

function inputObject<T>(input: T, what: string): T {
	if (input === null || typeof input !== 'object' || Array.isArray(input)) fail('invalid_type', 'input', `the input of ${what} must be an object of named fields`);
	return input;
}

function programIdOf(input: { programId?: unknown }): string {
	return v.text(input.programId, 'programId', 128);
}

function keyOf(input: { idempotencyKey?: unknown }): string | undefined {
	return v.optText(input.idempotencyKey, 'idempotencyKey', LIMITS.key);
}

/** A code in canonical form: 1..64 characters, no spaces. */
function codeText(value: unknown, field: string): string {
	const code = v.text(value, field, LIMITS.code);
	if (/\s/.test(code)) fail('invalid_code', field, `${field} must be a code without spaces (at most ${LIMITS.code} characters)`);
	return code;
}

// eslint-disable-next-line no-control-regex
const PLAIN_CODE = /^[^\s\u0000-\u001f\u007f-\u009f]{1,64}$/;

function generated(generate: () => string): string {
	const code = generate();
	if (typeof code !== 'string') fail('invalid_type', 'generate', `generate must return the code as text (got ${typeof code})`);
	// One regex for the common case; the full check only to explain a bad code.
	return PLAIN_CODE.test(code) ? code : codeText(code, 'generate');
}

function channelOf(value: unknown): string {
	return v.status(value, 'channel');
}

/** Addresses are compared in their stored form: email addresses by the one email rule, others trimmed. */
function addressOf(channel: string, value: unknown, field: string): string {
	return channel === 'email' ? v.email(value, field) : v.text(value, field, LIMITS.email);
}

/**
 * Every spelling under which rows may hold a stored-form address: ledgers written before the one
 * email rule kept internationalised domains as typed (`ann@bücher.de`), so lookups also try that
 * spelling; new rows always hold the stored form (`ann@xn--bcher-kva.de`).
 */
function spellingsOf(channel: string, address: string): string[] {
	return channel === 'email' ? emailSpellings(address) : [address];
}

interface CheckedPoints {
	delta: number;
	reason: string | undefined;
	allowNegative: boolean;
	/** Field name of the delta, for the insufficient-points message. */
	field: string;
}

/** `prefix` is `points.` for a nested change, empty for appendPoints' own fields. */
function pointsChangeOf(value: PointsChange | undefined, prefix: string): CheckedPoints | undefined {
	if (value === undefined || value === null) return undefined;
	if (typeof value !== 'object') fail('invalid_type', prefix.slice(0, -1), `${prefix.slice(0, -1)} must be an object {delta, reason, allowNegative}`);
	const field = `${prefix}delta`;
	const delta = v.int(value.delta, field, -1e12, 1e12);
	if (delta === 0) fail('invalid_number', field, `${field} must not be 0`);
	if (value.allowNegative !== undefined && value.allowNegative !== null && typeof value.allowNegative !== 'boolean') {
		fail('invalid_type', `${prefix}allowNegative`, `${prefix}allowNegative must be true or false`);
	}
	return { delta, reason: v.optNote(value.reason, `${prefix}reason`, LIMITS.name), allowNegative: value.allowNegative === true, field };
}

/** JSON with object keys sorted: equal values compare equal whatever order a backend returned them in. */
function canonicalJson(value: unknown): string {
	return JSON.stringify(value, (_k, x: unknown) =>
		x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : x,
	);
}

/** A refund's `standing`, checked: the participant's badges and tiers it takes away or gives. */
function standingOf(value: RefundStanding | undefined) {
	if (value === undefined || value === null) return undefined;
	if (typeof value !== 'object') fail('invalid_type', 'standing', 'standing must be an object {participantId, heldIds, lose, grant}');
	const participantId = v.rowId(value.participantId, 'standing.participantId');
	const heldIds = new Set(v.idList(value.heldIds, 'standing.heldIds'));
	if (!Array.isArray(value.lose) || value.lose.length > LIMITS.pageSize) fail('invalid_type', 'standing.lose', `standing.lose must be a list of at most ${LIMITS.pageSize} steps`);
	if (!Array.isArray(value.grant) || value.grant.length > LIMITS.listItems) fail('invalid_type', 'standing.grant', `standing.grant must be a list of at most ${LIMITS.listItems} awards`);
	const lose = value.lose.map((step, i) => {
		const field = `standing.lose[${i}]`;
		if (step === null || typeof step !== 'object') fail('invalid_type', field, `${field} must be an object {rewardId, from}`);
		const rewardId = v.rowId(step.rewardId, `${field}.rewardId`);
		if (!heldIds.has(rewardId)) fail('invalid_value', `${field}.rewardId`, `${field}.rewardId must be one of standing.heldIds (the badges and tiers the refund was planned from)`);
		return { rewardId, from: v.oneOf(step.from, `${field}.from`, REWARD_STATUSES) };
	});
	const grant = value.grant.map((g, i) => {
		const field = `standing.grant[${i}]`;
		if (g === null || typeof g !== 'object') fail('invalid_type', field, `${field} must be an object {rule, kind, metadata, idempotencyKey}`);
		return {
			rule: v.text(g.rule, `${field}.rule`, LIMITS.name),
			kind: v.oneOf(g.kind, `${field}.kind`, ['badge', 'tier'] as const),
			metadata: v.jsonObject(g.metadata, `${field}.metadata`),
			idempotencyKey: v.text(g.idempotencyKey, `${field}.idempotencyKey`, LIMITS.key),
		};
	});
	return { participantId, heldIds, lose, grant, events: v.events(value.events, 'standing.events') };
}

export class SqlLedger implements LedgerStore {
	readonly backend: 'sqlite' | 'postgres';
	/** Programs are never deleted, so one that was seen once need not be checked again. */
	private readonly knownPrograms = new Set<string>();
	private isClosed = false;

	constructor(
		private readonly driver: Driver,
		private readonly now: () => number = Date.now,
	) {
		this.backend = driver.dialect.name;
	}

	// ---------- plumbing ----------

	private write<T>(fn: (w: Work) => Promise<T>, onCommit?: (result: T) => void): Promise<T> {
		return this.driver.write(
			async (tx) => {
				const w = new Work(tx, this.now());
				const result = await fn(w);
				await this.flushOwed(w);
				await this.flushEvents(w);
				return result;
			},
			onCommit ? { onCommit } : undefined,
		);
	}

	/**
	 * Owed messages go into the message log with their cause. A key already owed and not yet claimed
	 * takes the new list items (`collect`); one already claimed or sent gets a new part (`key~n`).
	 */
	private async flushOwed(w: Work): Promise<void> {
		for (const { programId, message: m } of w.owed) {
			const due = m.dueAt ?? w.now;
			const insert = (key: string) =>
				w.tx.get(
					`INSERT INTO messages (idempotency_key, program_id, participant_id, channel, recipient, status, attempts, created_at, updated_at, topic, msg_group, payload, due_at)
					VALUES ($1, $2, $3, $4, $5, 'owed', 0, $6, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING RETURNING id`,
					[key, programId, m.participantId, m.channel, m.recipient, w.now, m.topic, m.key, m.data, due],
				);
			if (await insert(m.key)) continue;
			const parts = await w.tx.all(`SELECT * FROM messages WHERE msg_group = $1 OR idempotency_key = $1 ORDER BY id DESC${this.driver.dialect.forUpdate}`, [m.key]);
			const latest = parts[0];
			if (latest && latest.msg_group === m.key && s(latest.status) === 'owed' && latest.channel === m.channel) {
				if (m.collect.length === 0) continue;
				const data = obj(latest.payload);
				const added = JSON.parse(m.data) as Record<string, unknown>;
				for (const field of m.collect) {
					const before = Array.isArray(data[field]) ? (data[field] as unknown[]) : [];
					const more = Array.isArray(added[field]) ? (added[field] as unknown[]) : [];
					data[field] = [...before, ...more];
				}
				await w.tx.run(`UPDATE messages SET payload = $2, updated_at = $3 WHERE id = $1`, [n(latest.id), v.jsonObject(data, 'messages.data'), w.now]);
				continue;
			}
			// The message went (or is going) out already: what this write adds is a new part.
			for (let part = parts.length; ; part++) {
				if (await insert(`${m.key}~${part}`)) break;
				if (part > parts.length + 100) throw new EngineError('ledger_internal', `could not add a part to the owed message ${m.key}; retry`);
			}
		}
	}

	private read<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
		return this.driver.read(fn);
	}

	/** Events go in last, under the outbox lock, so the lock is held only until the commit right after. */
	private async flushEvents(w: Work): Promise<void> {
		if (w.events.length === 0) return;
		await this.driver.lock(w.tx, OUTBOX_LOCK);
		for (let i = 0; i < w.events.length; i += 200) {
			const q = new Params();
			const rows = w.events.slice(i, i + 200).map((e) => `(${q.p(e.programId)}, ${q.p(e.type)}, ${q.p(e.payload)}, ${q.p(e.participantId)}, ${q.p(w.now)})`);
			await w.tx.run(`INSERT INTO outbox (program_id, type, payload, participant_id, created_at) VALUES ${rows.join(', ')}`, q.values);
		}
	}

	/**
	 * The one idempotency mechanism: claim (program, operation, key) first, do the work, store a
	 * receipt, all in one transaction. A racing duplicate blocks on the claim (PostgreSQL waits for
	 * the unique index; SQLite writers are serialised) and then replays the winner's receipt.
	 */
	private async once<Receipt, R>(w: Work, o: Once<Receipt, R>): Promise<R> {
		if (o.key === undefined && o.derive === undefined) return (await o.run()).result;
		const key = o.key ?? 'auto:' + o.derive!();
		const print = o.key === undefined ? null : fingerprint(o.request);
		const where = [o.programId, o.operation, key];
		const claimed = await w.tx.get(
			`INSERT INTO idempotency_keys (program_id, operation, idem_key, fingerprint, created_at) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT DO NOTHING RETURNING created_at`,
			[...where, print, w.now],
		);
		if (!claimed) {
			const row = await w.tx.get(`SELECT fingerprint, receipt FROM idempotency_keys WHERE program_id = $1 AND operation = $2 AND idem_key = $3`, where);
			if (!row || row.receipt === null) throw new EngineError('ledger_internal', `idempotency record for ${o.operation} vanished during a replay; retry`);
			if (print !== null && row.fingerprint !== print) {
				fail('idempotency_key_reused', 'idempotencyKey', `idempotencyKey was already used for a different ${o.operation} request; repeat the same input or use a new key`);
			}
			return o.replay(JSON.parse(s(row.receipt)) as Receipt);
		}
		const { receipt, result } = await o.run();
		if (receipt === null) await w.tx.run(`DELETE FROM idempotency_keys WHERE program_id = $1 AND operation = $2 AND idem_key = $3`, where);
		else await w.tx.run(`UPDATE idempotency_keys SET receipt = $4 WHERE program_id = $1 AND operation = $2 AND idem_key = $3`, [...where, JSON.stringify(receipt)]);
		return result;
	}

	private async requireProgram(tx: Tx, programId: string): Promise<void> {
		if (this.knownPrograms.has(programId)) return;
		const row = await tx.get(`SELECT id FROM programs WHERE id = $1`, [programId]);
		if (!row) fail('unknown_program', 'programId', `programId "${programId}" is not a program of this ledger; create it first (ensureProgram)`);
		this.knownPrograms.add(programId);
	}

	private async requireParticipant(tx: Tx, programId: string, id: number, field: string, lock = false): Promise<ParticipantRecord> {
		const row = await tx.get(`SELECT * FROM participants WHERE id = $1 AND program_id = $2${lock ? this.driver.dialect.forUpdate : ''}`, [id, programId]);
		if (!row) fail('unknown_participant', field, `${field} ${id} is not a participant of program "${programId}"`);
		return toParticipant(row);
	}

	private async requireReferral(tx: Tx, programId: string, id: number, field: string, lock = false): Promise<Row> {
		const row = await tx.get(`SELECT * FROM referrals WHERE id = $1 AND program_id = $2${lock ? this.driver.dialect.forUpdate : ''}`, [id, programId]);
		if (!row) fail('unknown_referral', field, `${field} ${id} is not a referral of program "${programId}"`);
		return row;
	}

	private async requireReward(tx: Tx, programId: string, id: number, field: string): Promise<Row> {
		const row = await tx.get(`SELECT * FROM rewards WHERE id = $1 AND program_id = $2`, [id, programId]);
		if (!row) fail('unknown_reward', field, `${field} ${id} is not a reward of program "${programId}"`);
		return row;
	}

	private async loadRow(tx: Tx, table: string, id: number): Promise<Row> {
		const row = await tx.get(`SELECT * FROM ${table} WHERE id = $1`, [id]);
		if (!row) throw new EngineError('ledger_internal', `${table} row ${id} named by an idempotency receipt is missing`);
		return row;
	}

	// ---------- programs ----------

	async ensureProgram(input: EnsureProgramInput): Promise<ProgramRecord> {
		inputObject(input, 'ensureProgram');
		const id = v.text(input.id, 'programId', 128);
		const name = v.optText(input.name, 'name', LIMITS.name);
		const settings = input.settings === undefined ? undefined : v.jsonObject(input.settings, 'settings');
		const program = await this.write(async (w) => {
			await w.tx.run(`INSERT INTO programs (id, name, settings, created_at, updated_at) VALUES ($1, $2, $3, $4, $4) ON CONFLICT (id) DO NOTHING`, [
				id,
				name ?? id,
				settings ?? '{}',
				w.now,
			]);
			if (name !== undefined || settings !== undefined) {
				const q = new Params();
				const sets = [name !== undefined ? `name = ${q.p(name)}` : '', settings !== undefined ? `settings = ${q.p(settings)}` : ''].filter(Boolean);
				await w.tx.run(`UPDATE programs SET ${sets.join(', ')}, updated_at = ${q.p(w.now)} WHERE id = ${q.p(id)}`, q.values);
			}
			return toProgram((await w.tx.get(`SELECT * FROM programs WHERE id = $1`, [id]))!);
		});
		this.knownPrograms.add(id);
		return program;
	}

	async claimProgramSecret(input: { programId: string; name: string; candidate: string }): Promise<string> {
		inputObject(input, 'claimProgramSecret');
		const programId = programIdOf(input);
		const name = v.text(input.name, 'name', LIMITS.name);
		const candidate = v.text(input.candidate, 'candidate', LIMITS.key);
		return this.write(async (w) => {
			await this.requireProgram(w.tx, programId);
			await w.tx.run(`INSERT INTO program_secrets (program_id, name, secret, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (program_id, name) DO NOTHING`, [programId, name, candidate, w.now]);
			const row = await w.tx.get(`SELECT secret FROM program_secrets WHERE program_id = $1 AND name = $2`, [programId, name]);
			return String(row!.secret);
		});
	}

	async getProgramSecret(query: { programId: string; name: string }): Promise<string | null> {
		inputObject(query, 'getProgramSecret');
		const programId = programIdOf(query);
		const name = v.text(query.name, 'name', LIMITS.name);
		const row = await this.read((tx) => tx.get(`SELECT secret FROM program_secrets WHERE program_id = $1 AND name = $2`, [programId, name]));
		return row ? String(row.secret) : null;
	}

	async withLease<T>(input: LeaseInput, fn: () => Promise<T>): Promise<T> {
		inputObject(input, 'withLease');
		const programId = programIdOf(input);
		const name = v.text(input.name, 'name', LIMITS.key);
		const ttlMs = v.optInt(input.ttlMs, 'ttlMs', 1_000, 600_000) ?? 30_000;
		const waitMs = v.optInt(input.waitMs, 'waitMs', 0, 600_000) ?? 30_000;
		if (typeof fn !== 'function') fail('invalid_input', 'fn', 'withLease needs a function to run under the lease.');
		const holder = randomBytes(12).toString('hex');
		// Wall-clock time on purpose: every process must agree on when a lease has expired.
		const take = () =>
			this.write(async (w) => {
				await this.requireProgram(w.tx, programId);
				const now = Date.now();
				await w.tx.run(`DELETE FROM ledger_leases WHERE program_id = $1 AND name = $2 AND expires_at <= $3`, [programId, name, now]);
				const taken = await w.tx.run(`INSERT INTO ledger_leases (program_id, name, holder, expires_at) VALUES ($1, $2, $3, $4) ON CONFLICT (program_id, name) DO NOTHING`, [
					programId,
					name,
					holder,
					now + ttlMs,
				]);
				return taken === 1;
			});
		const deadline = Date.now() + waitMs;
		for (let attempt = 0; !(await take()); attempt++) {
			if (Date.now() >= deadline) {
				throw new EngineError('lease_timeout', `The lease "${name}" of program "${programId}" stayed taken for ${waitMs} ms; another execution holds it.`, { field: 'name' });
			}
			await sleep(2 + backoffMs(attempt, 4, 100));
		}
		const renew = setInterval(() => {
			void this.driver
				.write((tx) => tx.run(`UPDATE ledger_leases SET expires_at = $1 WHERE program_id = $2 AND name = $3 AND holder = $4`, [Date.now() + ttlMs, programId, name, holder]))
				.catch(() => undefined);
		}, Math.max(250, Math.floor(ttlMs / 3)));
		renew.unref?.();
		try {
			return await fn();
		} finally {
			clearInterval(renew);
			await this.driver.write((tx) => tx.run(`DELETE FROM ledger_leases WHERE program_id = $1 AND name = $2 AND holder = $3`, [programId, name, holder])).catch(() => undefined);
		}
	}

	async claimNonce(input: ClaimNonceInput): Promise<boolean> {
		inputObject(input, 'claimNonce');
		const scope = v.text(input.scope, 'scope', LIMITS.name);
		const nonce = v.text(input.nonce, 'nonce', LIMITS.key);
		const expiresAt = v.time(input.expiresAt, 'expiresAt');
		return this.write(async (w) => {
			// Expired keys of the scope go first (the sweep keeps the table to the live window), so an
			// expired key can be claimed again; a live one makes the insert a no-op.
			await w.tx.run(`DELETE FROM ledger_nonces WHERE scope = $1 AND expires_at <= $2`, [scope, w.now]);
			if (expiresAt <= w.now) return true;
			const inserted = await w.tx.run(`INSERT INTO ledger_nonces (scope, nonce, expires_at, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (scope, nonce) DO NOTHING`, [
				scope,
				nonce,
				expiresAt,
				w.now,
			]);
			return inserted === 1;
		});
	}

	async getProgram(id: string): Promise<ProgramRecord | null> {
		const programId = v.text(id, 'programId', 128);
		const row = await this.read((tx) => tx.get(`SELECT * FROM programs WHERE id = $1`, [programId]));
		return row ? toProgram(row) : null;
	}

	async listPrograms(query: { search?: string; limit?: number } = {}): Promise<Array<{ id: string; name: string }>> {
		const rows = await this.read((tx) => tx.all(`SELECT id, name FROM programs ORDER BY id`, []));
		return pickerPage(
			rows.map((row) => ({ id: s(row.id), name: s(row.name) })),
			(program) => `${program.id} ${program.name}`,
			query,
		);
	}

	// ---------- participants ----------

	/**
	 * The participant holding this email (in any spelling an older ledger may hold, the stored form
	 * first, then the oldest); participants written before the one email rule may hold two
	 * spellings of one mailbox, and this picks one of them.
	 */
	private async participantByEmail(tx: Tx, programId: string, email: string): Promise<ParticipantRecord | undefined> {
		const spellings = emailSpellings(email);
		const q = new Params();
		const rows = (await tx.all(`SELECT * FROM participants WHERE program_id = ${q.p(programId)} AND email IN ${q.list(spellings)} ORDER BY id`, q.values)).map(toParticipant);
		return rows.find((r) => r.email === email) ?? rows[0];
	}

	/** The participant holding this external id or email; refuses when they name two different ones. */
	private async findParticipant(tx: Tx, programId: string, externalId: string | undefined, email: string | undefined): Promise<ParticipantRecord | undefined> {
		const byExternalId = externalId === undefined ? undefined : toParticipantOrUndefined(await tx.get(`SELECT * FROM participants WHERE program_id = $1 AND external_id = $2`, [programId, externalId]));
		const byEmail = email === undefined ? undefined : await this.participantByEmail(tx, programId, email);
		const found = byExternalId ?? byEmail;
		if (!found) return undefined;
		const sameMailbox = (stored: string | null) => stored === null || email === undefined || emailSpellings(email).includes(stored);
		if ((byExternalId && byEmail && byExternalId.id !== byEmail.id) || (externalId !== undefined && found.externalId !== null && found.externalId !== externalId) || !sameMailbox(found.email)) {
			fail('participant_conflict', 'email', 'this externalId and this email belong to different participants; update one of them first');
		}
		return found;
	}

	async enrolParticipant(input: EnrolParticipantInput): Promise<EnrolParticipantResult> {
		inputObject(input, 'enrolParticipant');
		const programId = programIdOf(input);
		const externalId = v.optText(input.externalId, 'externalId', LIMITS.id);
		const email = v.optEmail(input.email);
		const phone = v.optPhone(input.phone);
		const name = v.optText(input.name, 'name', LIMITS.name);
		const metadata = v.jsonObject(input.metadata, 'metadata');
		const events = v.events(input.events);
		const messages = v.owedMessages(input.messages);
		const key = keyOf(input);
		if (externalId === undefined && email === undefined) fail('required', 'email', 'give an email or an externalId to enrol a participant (they identify the participant)');
		const generate = input.issueCode?.generate;
		if (input.issueCode !== undefined && typeof generate !== 'function') fail('required', 'issueCode', 'give issueCode.generate (a function returning a candidate code)');
		const welcome = input.welcomeMessages;
		if (welcome !== undefined && typeof welcome !== 'function') fail('invalid_messages', 'welcomeMessages', 'give welcomeMessages as a function of the new participant and code');
		return this.write(async (w) => {
			await this.requireProgram(w.tx, programId);
			// Idempotent by its natural keys (external id, email); an explicit key is remembered too.
			return this.once<{ participantId: number; created: boolean }, EnrolParticipantResult>(w, {
				programId,
				operation: 'enrolParticipant',
				key,
				request: { externalId, email, phone, name },
				run: async () => {
					const existing = await this.findParticipant(w.tx, programId, externalId, email);
					if (existing) return { receipt: { participantId: existing.id, created: false }, result: { participant: existing, created: false, replayed: false } };
					const row = await w.tx.get(
						`INSERT INTO participants (program_id, external_id, email, phone, name, metadata, created_at, updated_at)
						VALUES ($1, $2, $3, $4, $5, $6, $7, $7) ON CONFLICT DO NOTHING RETURNING *`,
						[programId, externalId ?? null, email ?? null, phone ?? null, name ?? null, metadata, w.now],
					);
					if (!row) {
						// Lost a race on a natural key: the winner has committed, so it is visible now.
						const winner = await this.findParticipant(w.tx, programId, externalId, email);
						if (!winner) throw new EngineError('ledger_internal', 'participant insert conflicted but no participant matches; retry');
						return { receipt: { participantId: winner.id, created: false }, result: { participant: winner, created: false, replayed: false } };
					}
					const participant = toParticipant(row);
					w.emit(programId, 'participant.enrolled', { participant }, participant.id);
					w.emitAll(programId, events, participant.id);
					w.oweAll(programId, messages, participant.id);
					const code = generate ? await this.issueOwnerCode(w, programId, participant.id, generate) : undefined;
					if (welcome) w.oweAll(programId, v.owedMessages(welcome({ participant, code: code ?? null }), 'welcomeMessages'), participant.id);
					return { receipt: { participantId: participant.id, created: true }, result: { participant, created: true, replayed: false, ...(code ? { code } : {}) } };
				},
				replay: async (r) => ({ participant: toParticipant(await this.loadRow(w.tx, 'participants', r.participantId)), created: r.created, replayed: true }),
			});
		});
	}

	async getParticipant(query: ParticipantQuery): Promise<ParticipantRecord | null> {
		inputObject(query, 'getParticipant');
		const programId = programIdOf(query);
		const q = new Params();
		let where: string;
		if (query.id !== undefined && query.id !== null) where = `id = ${q.p(v.rowId(query.id, 'id'))}`;
		else if (query.externalId !== undefined && query.externalId !== null) where = `external_id = ${q.p(v.text(query.externalId, 'externalId', LIMITS.id))}`;
		else if (query.email !== undefined && query.email !== null) {
			const email = v.email(query.email);
			return (await this.read((tx) => this.participantByEmail(tx, programId, email))) ?? null;
		} else fail('required', 'id', 'give id, externalId or email to find a participant');
		const row = await this.read((tx) => tx.get(`SELECT * FROM participants WHERE ${where} AND program_id = ${q.p(programId)}`, q.values));
		return row ? toParticipant(row) : null;
	}

	async updateParticipant(input: UpdateParticipantInput): Promise<{ participant: ParticipantRecord; replayed: boolean }> {
		inputObject(input, 'updateParticipant');
		const programId = programIdOf(input);
		const id = v.rowId(input.participantId, 'participantId');
		const changes: Record<string, SqlValue> = {};
		if (input.externalId !== undefined) changes.external_id = input.externalId === null ? null : v.text(input.externalId, 'externalId', LIMITS.id);
		if (input.email !== undefined) changes.email = input.email === null ? null : v.email(input.email);
		if (input.phone !== undefined) changes.phone = input.phone === null ? null : (v.optPhone(input.phone) ?? null);
		if (input.name !== undefined) changes.name = input.name === null ? null : v.text(input.name, 'name', LIMITS.name);
		if (input.metadata !== undefined) changes.metadata = v.jsonObject(input.metadata, 'metadata');
		const events = v.events(input.events);
		const key = keyOf(input);
		try {
			return await this.write(async (w) => {
				await this.requireProgram(w.tx, programId);
				return this.once<{ participantId: number }, { participant: ParticipantRecord; replayed: boolean }>(w, {
					programId,
					operation: 'updateParticipant',
					key,
					request: { participantId: id, ...changes },
					run: async () => {
						await this.requireParticipant(w.tx, programId, id, 'participantId');
						for (const [column, field] of [['external_id', 'externalId'], ['email', 'email']] as const) {
							if (changes[column] === undefined || changes[column] === null) continue;
							const params = new Params();
							const values = column === 'email' ? emailSpellings(changes[column] as string) : [changes[column]];
							const other = await w.tx.get(`SELECT id FROM participants WHERE program_id = ${params.p(programId)} AND ${column} IN ${params.list(values)} AND id <> ${params.p(id)}`, params.values);
							if (other) fail('participant_conflict', field, `another participant of this program already has this ${field}`);
						}
						const q = new Params();
						const sets = Object.entries(changes).map(([column, value]) => `${column} = ${q.p(value)}`);
						const row = await w.tx.get(`UPDATE participants SET ${[...sets, `updated_at = ${q.p(w.now)}`].join(', ')} WHERE id = ${q.p(id)} RETURNING *`, q.values);
						w.emitAll(programId, events, id);
						return { receipt: { participantId: id }, result: { participant: toParticipant(row!), replayed: false } };
					},
					replay: async (r) => ({ participant: toParticipant(await this.loadRow(w.tx, 'participants', r.participantId)), replayed: true }),
				});
			});
		} catch (error) {
			if (this.driver.isUniqueViolation(error)) fail('participant_conflict', 'email', 'another participant of this program took this email or externalId at the same moment');
			throw error;
		}
	}

	async listParticipants(query: ListParticipantsQuery): Promise<ParticipantRecord[]> {
		inputObject(query, 'listParticipants');
		const q = new Params();
		const where = [`program_id = ${q.p(programIdOf(query))}`];
		const afterId = v.optRowId(query.afterId, 'afterId');
		const since = v.optTime(query.createdSince, 'createdSince');
		const until = v.optTime(query.createdUntil, 'createdUntil');
		if (afterId !== undefined) where.push(`id > ${q.p(afterId)}`);
		if (since !== undefined) where.push(`created_at >= ${q.p(since)}`);
		if (until !== undefined) where.push(`created_at < ${q.p(until)}`);
		const sql = `SELECT * FROM participants WHERE ${where.join(' AND ')} ORDER BY id LIMIT ${q.p(v.limit(query.limit))}`;
		return (await this.read((tx) => tx.all(sql, q.values))).map(toParticipant);
	}

	async eraseParticipant(input: EraseParticipantInput): Promise<{ participant: ParticipantRecord; replayed: boolean }> {
		inputObject(input, 'eraseParticipant');
		const programId = programIdOf(input);
		const id = v.rowId(input.participantId, 'participantId');
		const events = v.events(input.events);
		const key = keyOf(input);
		return this.write(async (w) => {
			await this.requireProgram(w.tx, programId);
			return this.once<{ participantId: number }, { participant: ParticipantRecord; replayed: boolean }>(w, {
				programId,
				operation: 'eraseParticipant',
				key,
				request: { participantId: id },
				run: async () => {
					const before = await this.requireParticipant(w.tx, programId, id, 'participantId', true);
					const row = await w.tx.get(
						`UPDATE participants SET external_id = NULL, email = NULL, phone = NULL, name = NULL, metadata = '{}',
						erased_at = COALESCE(erased_at, $2), updated_at = $2 WHERE id = $1 RETURNING *`,
						[id, w.now],
					);
					// Rows and aggregates stay; what could identify the person goes.
					await w.tx.run(`UPDATE referrals SET ip_hash = NULL, device_hash = NULL, metadata = '{}' WHERE referee_id = $1`, [id]);
					const q = new Params();
					// Messages to any spelling of their address (older ledgers kept internationalised domains as typed).
					const emails = before.email === null ? [] : [...new Set([before.email, ...emailSpellings(storedForm(before.email))])];
					const addresses = [...emails, ...(before.phone === null ? [] : [before.phone])];
					const byAddress = addresses.length ? ` OR recipient IN ${q.list(addresses)}` : '';
					// Owed messages to them are never sent now; every message loses its address and data.
					const scope = `participant_id = ${q.p(id)}${byAddress}`;
					await w.tx.run(
						`UPDATE messages SET status = CASE WHEN status = 'owed' THEN 'skipped' ELSE status END,
						error = CASE WHEN status = 'owed' THEN 'participant erased' ELSE error END,
						recipient = '[erased]', payload = CASE WHEN payload IS NULL THEN NULL ELSE '{}' END, updated_at = ${q.p(w.now)} WHERE ${scope}`,
						q.values,
					);
					await w.tx.run(`UPDATE outbox SET payload = $2 WHERE participant_id = $1`, [id, JSON.stringify({ participantId: id, erased: true })]);
					w.emit(programId, 'participant.erased', { participantId: id });
					w.emitAll(programId, events);
					return { receipt: { participantId: id }, result: { participant: toParticipant(row!), replayed: false } };
				},
				replay: async (r) => ({ participant: toParticipant(await this.loadRow(w.tx, 'participants', r.participantId)), replayed: true }),
			});
		});
	}

	// ---------- codes ----------

	async issueCode(input: IssueCodeInput): Promise<IssueCodeResult> {
		inputObject(input, 'issueCode');
		const programId = programIdOf(input);
		const ownerId = v.optRowId(input.ownerId, 'ownerId');
		const vanity = input.code === undefined || input.code === null ? undefined : codeText(input.code, 'code');
		const generate = input.generate;
		if (vanity === undefined && typeof generate !== 'function') fail('required', 'generate', 'give generate (a function returning a candidate code) or code (a chosen code)');
		const expiresAt = v.optTime(input.expiresAt, 'expiresAt');
		const maxUses = v.optInt(input.maxUses, 'maxUses', 1, 2_000_000_000);
		const events = v.events(input.events);
		const messages = v.owedMessages(input.messages);
		const key = keyOf(input);
		return this.write(async (w) => {
			await this.requireProgram(w.tx, programId);
			if (ownerId !== undefined) await this.requireParticipant(w.tx, programId, ownerId, 'ownerId');
			const insert = (code: string) =>
				w.tx.get(
					`INSERT INTO codes (program_id, code, owner_id, status, expires_at, max_uses, uses, created_at, updated_at)
					VALUES ($1, $2, $3, 'active', $4, $5, 0, $6, $6) ON CONFLICT DO NOTHING RETURNING *`,
					[programId, code, ownerId ?? null, expiresAt ?? null, maxUses ?? null, w.now],
				);
			return this.once<{ codeId: number }, IssueCodeResult>(w, {
				programId,
				operation: 'issueCode',
				key,
				request: { ownerId, code: vanity, maxUses },
				derive: () => (ownerId !== undefined ? `owner:${ownerId}` : vanity !== undefined ? `code:${vanity}` : `terms:${expiresAt ?? ''}:${maxUses ?? ''}`),
				run: async () => {
					let row: Row | undefined;
					if (vanity !== undefined) {
						row = await insert(vanity);
						if (!row) fail('code_taken', 'code', 'this code is already taken in this program; choose another');
					}
					for (let attempt = 0; !row; attempt++) {
						if (attempt === CODE_ATTEMPTS) fail('code_space_exhausted', 'generate', `generate produced ${CODE_ATTEMPTS} taken codes in a row; use longer codes`);
						row = await insert(generated(generate!));
					}
					const code = toCode(row, w.now);
					w.emitAll(programId, events, ownerId ?? null);
					w.oweAll(programId, messages, ownerId ?? null);
					return { receipt: { codeId: code.id }, result: { code, replayed: false } };
				},
				replay: async (r) => ({ code: toCode(await this.loadRow(w.tx, 'codes', r.codeId), w.now), replayed: true }),
			});
		});
	}

	/** The owner's own code in this transaction, under issueCode's default key for the owner (so a later issueCode replays it). */
	private async issueOwnerCode(w: Work, programId: string, ownerId: number, generate: () => string): Promise<CodeRecord> {
		const { code } = await this.once<{ codeId: number }, IssueCodeResult>(w, {
			programId,
			operation: 'issueCode',
			key: undefined,
			request: { ownerId, code: undefined, maxUses: undefined },
			derive: () => `owner:${ownerId}`,
			run: async () => {
				let row: Row | undefined;
				for (let attempt = 0; !row; attempt++) {
					if (attempt === CODE_ATTEMPTS) fail('code_space_exhausted', 'generate', `generate produced ${CODE_ATTEMPTS} taken codes in a row; use longer codes`);
					row = await w.tx.get(
						`INSERT INTO codes (program_id, code, owner_id, status, expires_at, max_uses, uses, created_at, updated_at)
						VALUES ($1, $2, $3, 'active', NULL, NULL, 0, $4, $4) ON CONFLICT DO NOTHING RETURNING *`,
						[programId, generated(generate), ownerId, w.now],
					);
				}
				return { receipt: { codeId: n(row.id) }, result: { code: toCode(row, w.now), replayed: false } };
			},
			replay: async (r) => ({ code: toCode(await this.loadRow(w.tx, 'codes', r.codeId), w.now), replayed: true }),
		});
		return code;
	}

	async issueCodes(count: number, input: IssueCodesInput): Promise<IssueCodesResult> {
		v.int(count, 'count', 1, LIMITS.batch);
		inputObject(input, 'issueCodes');
		const programId = programIdOf(input);
		const ownerId = v.optRowId(input.ownerId, 'ownerId');
		const generate = input.generate;
		if (typeof generate !== 'function') fail('required', 'generate', 'give generate (a function returning a candidate code)');
		const expiresAt = v.optTime(input.expiresAt, 'expiresAt');
		const maxUses = v.optInt(input.maxUses, 'maxUses', 1, 2_000_000_000);
		const key = keyOf(input);
		return this.write(async (w) => {
			await this.requireProgram(w.tx, programId);
			if (ownerId !== undefined) await this.requireParticipant(w.tx, programId, ownerId, 'ownerId');
			return this.once<{ codes: string[] }, IssueCodesResult>(w, {
				programId,
				operation: 'issueCodes',
				key,
				request: { count, ownerId, maxUses },
				derive: () => `batch:${count}:${ownerId ?? ''}:${expiresAt ?? ''}:${maxUses ?? ''}`,
				run: async () => {
					const codes = await this.insertCodes(w, programId, count, generate, [ownerId ?? null, expiresAt ?? null, maxUses ?? null]);
					return { receipt: { codes }, result: { programId, codes, replayed: false } };
				},
				replay: async (r) => ({ programId, codes: r.codes, replayed: true }),
			});
		});
	}

	/**
	 * Multi-row inserts; collisions are replaced with fresh candidates. Fast path: a plain INSERT in a
	 * savepoint (the unique index still refuses any duplicate); only a chunk that meets a collision is
	 * redone with ON CONFLICT DO NOTHING RETURNING, whose per-row speculative insertion costs far more.
	 */
	private async insertCodes(w: Work, programId: string, count: number, generate: () => string, terms: [number | null, number | null, number | null]): Promise<string[]> {
		const issued: string[] = [];
		const tried = new Set<string>();
		const statements = new Map<string, string>();
		const statement = (rows: number, safe: boolean) => {
			const key = `${rows}:${safe}`;
			let sql = statements.get(key);
			if (!sql) {
				// Shared values are bound once ($1..$5); each row adds only its code.
				const values = Array.from({ length: rows }, (_, i) => `($1, $${i + 6}, $2, 'active', $3, $4, 0, $5, $5)`);
				sql = `INSERT INTO codes (program_id, code, owner_id, status, expires_at, max_uses, uses, created_at, updated_at) VALUES ${values.join(', ')}`;
				if (safe) sql += ' ON CONFLICT DO NOTHING RETURNING code';
				statements.set(key, sql);
			}
			return sql;
		};
		for (let round = 0; issued.length < count; round++) {
			if (round === CODE_ATTEMPTS) fail('code_space_exhausted', 'generate', `generate kept producing taken codes after ${CODE_ATTEMPTS} rounds; use longer codes`);
			const need = count - issued.length;
			const candidates: string[] = [];
			for (let draws = 0; candidates.length < need; draws++) {
				if (draws > need * CODE_ATTEMPTS + 100) fail('code_space_exhausted', 'generate', 'generate keeps repeating itself; use longer codes');
				const code = generated(generate);
				if (!tried.has(code)) {
					tried.add(code);
					candidates.push(code);
				}
			}
			for (let i = 0; i < candidates.length; i += BULK_CHUNK) {
				// Sorted, so the inserts walk the unique index in order instead of jumping about.
				const chunk = candidates.slice(i, i + BULK_CHUNK).sort();
				const params = [programId, ...terms, w.now, ...chunk];
				const clean = await w.tx
					.savepoint(() => w.tx.run(statement(chunk.length, false), params))
					.then(
						() => true,
						(error: unknown) => {
							if (!this.driver.isUniqueViolation(error)) throw error;
							return false;
						},
					);
				if (clean) issued.push(...chunk);
				else for (const r of await w.tx.all(statement(chunk.length, true), params)) issued.push(s(r.code));
			}
		}
		return issued;
	}

	async redeemCode(input: RedeemCodeInput): Promise<RedeemCodeResult> {
		inputObject(input, 'redeemCode');
		const programId = programIdOf(input);
		const codeValue = codeText(input.code, 'code');
		const participantId = v.optRowId(input.participantId, 'participantId');
		const reference = v.optText(input.reference, 'reference', LIMITS.id);
		const events = v.events(input.events);
		const key = keyOf(input);
		return this.write(async (w) => {
			await this.requireProgram(w.tx, programId);
			if (participantId !== undefined) await this.requireParticipant(w.tx, programId, participantId, 'participantId');
			return this.once<{ codeId: number; redeemed: boolean; reason: RedeemRefusal | null }, RedeemCodeResult>(w, {
				programId,
				operation: 'redeemCode',
				key,
				request: { code: codeValue, participantId, reference },
				derive: () => `${codeValue}|${participantId ?? ''}|${reference ?? ''}`,
				run: async () => {
					const found = await w.tx.get(`SELECT id FROM codes WHERE program_id = $1 AND code = $2`, [programId, codeValue]);
					if (!found) fail('unknown_code', 'code', `this code does not exist in program "${programId}"`);
					// One statement checks and counts, so racing redemptions never exceed maxUses.
					const row = await w.tx.get(
						`UPDATE codes SET uses = uses + 1, updated_at = $2
						WHERE id = $1 AND status = 'active' AND (expires_at IS NULL OR expires_at > $2) AND (max_uses IS NULL OR uses < max_uses)
						RETURNING *`,
						[n(found.id), w.now],
					);
					if (!row) {
						const current = toCode(await this.loadRow(w.tx, 'codes', n(found.id)), w.now);
						const reason: RedeemRefusal = current.state === 'active' ? 'exhausted' : current.state;
						return { receipt: { codeId: current.id, redeemed: false, reason }, result: { redeemed: false, reason, code: current, replayed: false } };
					}
					await w.tx.run(`INSERT INTO code_redemptions (program_id, code_id, participant_id, reference, created_at) VALUES ($1, $2, $3, $4, $5)`, [
						programId,
						n(row.id),
						participantId ?? null,
						reference ?? null,
						w.now,
					]);
					const code = toCode(row, w.now);
					w.emitAll(programId, events, participantId ?? null);
					return { receipt: { codeId: code.id, redeemed: true, reason: null }, result: { redeemed: true, reason: null, code, replayed: false } };
				},
				replay: async (r) => ({ redeemed: r.redeemed, reason: r.reason, code: toCode(await this.loadRow(w.tx, 'codes', r.codeId), w.now), replayed: true }),
			});
		});
	}

	async revokeCode(input: RevokeCodeInput): Promise<RevokeCodeResult> {
		inputObject(input, 'revokeCode');
		const programId = programIdOf(input);
		const codeValue = codeText(input.code, 'code');
		const reason = v.optNote(input.reason, 'reason');
		const events = v.events(input.events);
		const key = keyOf(input);
		return this.write(async (w) => {
			await this.requireProgram(w.tx, programId);
			return this.once<{ codeId: number; revoked: boolean }, RevokeCodeResult>(w, {
				programId,
				operation: 'revokeCode',
				key,
				request: { code: codeValue },
				run: async () => {
					const row = await w.tx.get(
						`UPDATE codes SET status = 'revoked', revoked_reason = $3, updated_at = $4 WHERE program_id = $1 AND code = $2 AND status = 'active' RETURNING *`,
						[programId, codeValue, reason ?? null, w.now],
					);
					if (row) {
						w.emitAll(programId, events);
						return { receipt: { codeId: n(row.id), revoked: true }, result: { revoked: true, code: toCode(row, w.now), replayed: false } };
					}
					const current = await w.tx.get(`SELECT * FROM codes WHERE program_id = $1 AND code = $2`, [programId, codeValue]);
					if (!current) fail('unknown_code', 'code', `this code does not exist in program "${programId}"`);
					return { receipt: { codeId: n(current.id), revoked: false }, result: { revoked: false, code: toCode(current, w.now), replayed: false } };
				},
				replay: async (r) => ({ revoked: r.revoked, code: toCode(await this.loadRow(w.tx, 'codes', r.codeId), w.now), replayed: true }),
			});
		});
	}

	async lookupCode(query: CodeQuery): Promise<CodeRecord | null> {
		inputObject(query, 'lookupCode');
		const programId = programIdOf(query);
		const code = codeText(query.code, 'code');
		const row = await this.read((tx) => tx.get(`SELECT * FROM codes WHERE program_id = $1 AND code = $2`, [programId, code]));
		return row ? toCode(row, this.now()) : null;
	}

	async listCodes(query: ListCodesQuery): Promise<CodeRecord[]> {
		inputObject(query, 'listCodes');
		const q = new Params();
		const where = [`program_id = ${q.p(programIdOf(query))}`];
		const ownerId = v.optRowId(query.ownerId, 'ownerId');
		const afterId = v.optRowId(query.afterId, 'afterId');
		if (ownerId !== undefined) where.push(`owner_id = ${q.p(ownerId)}`);
		if (afterId !== undefined) where.push(`id > ${q.p(afterId)}`);
		const sql = `SELECT * FROM codes WHERE ${where.join(' AND ')} ORDER BY id LIMIT ${q.p(v.limit(query.limit))}`;
		const now = this.now();
		return (await this.read((tx) => tx.all(sql, q.values))).map((r) => toCode(r, now));
	}

	// ---------- referrals ----------

	async recordReferral(input: RecordReferralInput): Promise<RecordReferralResult> {
		inputObject(input, 'recordReferral');
		const programId = programIdOf(input);
		const givenReferrer = v.optRowId(input.referrerId, 'referrerId');
		const refereeId = v.optRowId(input.refereeId, 'refereeId');
		const codeValue = input.code === undefined || input.code === null ? undefined : codeText(input.code, 'code');
		const source = v.optText(input.source, 'source', LIMITS.name);
		const touchedAt = v.optTime(input.touchedAt, 'touchedAt');
		const ipHash = v.optText(input.ipHash, 'ipHash', LIMITS.id);
		const deviceHash = v.optText(input.deviceHash, 'deviceHash', LIMITS.id);
		const initial = input.status === undefined || input.status === null ? 'pending' : v.status(input.status, 'status');
		const reasons = v.textList(input.reasons, 'reasons', 50, LIMITS.name);
		const riskScore = v.optNumber(input.riskScore, 'riskScore');
		const metadata = v.jsonObject(input.metadata, 'metadata');
		const events = v.events(input.events);
		const key = keyOf(input);
		if (givenReferrer === undefined && codeValue === undefined) fail('required', 'referrerId', 'give referrerId, or a code whose owner is the referrer');
		return this.write(async (w) => {
			await this.requireProgram(w.tx, programId);
			const byReferee = async () => {
				const row = await w.tx.get(`SELECT * FROM referrals WHERE program_id = $1 AND referee_id = $2`, [programId, refereeId!]);
				return row ? toReferral(row) : undefined;
			};
			return this.once<{ referralId: number; created: boolean }, RecordReferralResult>(w, {
				programId,
				operation: 'recordReferral',
				key,
				request: { referrerId: givenReferrer, refereeId, code: codeValue, source },
				// With a referee the unique (program, referee) is the natural key; without one, the inputs are.
				derive: refereeId === undefined ? () => digest({ givenReferrer, codeValue, source, touchedAt, ipHash, deviceHash }) : undefined,
				run: async () => {
					let referrerId = givenReferrer;
					let codeId: number | null = null;
					if (codeValue !== undefined) {
						const code = await w.tx.get(`SELECT id, owner_id FROM codes WHERE program_id = $1 AND code = $2`, [programId, codeValue]);
						if (!code) fail('unknown_code', 'code', `this code does not exist in program "${programId}"`);
						codeId = n(code.id);
						if (referrerId === undefined) {
							if (code.owner_id === null) fail('required', 'referrerId', 'this code has no owner; give referrerId');
							referrerId = n(code.owner_id);
						}
					}
					await this.requireParticipant(w.tx, programId, referrerId!, 'referrerId');
					if (refereeId !== undefined) {
						await this.requireParticipant(w.tx, programId, refereeId, 'refereeId');
						const existing = await byReferee();
						if (existing) return { receipt: { referralId: existing.id, created: false }, result: { referral: existing, created: false, replayed: false } };
					}
					const row = await w.tx.get(
						`INSERT INTO referrals (program_id, referrer_id, referee_id, code_id, source, touched_at, ip_hash, device_hash, status, reasons, risk_score, metadata, created_at, updated_at)
						VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13) ON CONFLICT DO NOTHING RETURNING *`,
						[programId, referrerId!, refereeId ?? null, codeId, source ?? null, touchedAt ?? w.now, ipHash ?? null, deviceHash ?? null, initial, JSON.stringify(reasons), riskScore ?? null, metadata, w.now],
					);
					if (!row) {
						// A racing call recorded this referee first; theirs stands.
						const winner = await byReferee();
						if (!winner) throw new EngineError('ledger_internal', 'referral insert conflicted but no referral matches; retry');
						return { receipt: { referralId: winner.id, created: false }, result: { referral: winner, created: false, replayed: false } };
					}
					const referral = toReferral(row);
					await w.tx.run(`INSERT INTO referral_history (referral_id, from_status, to_status, reason, at) VALUES ($1, NULL, $2, 'recorded', $3)`, [referral.id, initial, w.now]);
					w.emit(programId, 'referral.recorded', { referral }, refereeId ?? null);
					w.emitAll(programId, events, refereeId ?? null);
					return { receipt: { referralId: referral.id, created: true }, result: { referral, created: true, replayed: false } };
				},
				replay: async (r) => ({ referral: toReferral(await this.loadRow(w.tx, 'referrals', r.referralId)), created: r.created, replayed: true }),
			});
		});
	}

	async getReferral(query: { programId: string; id: Id }): Promise<ReferralRecord | null> {
		inputObject(query, 'getReferral');
		const programId = programIdOf(query);
		const id = v.rowId(query.id, 'id');
		const row = await this.read((tx) => tx.get(`SELECT * FROM referrals WHERE id = $1 AND program_id = $2`, [id, programId]));
		return row ? toReferral(row) : null;
	}

	async findReferralByReferee(query: { programId: string; refereeId: Id }): Promise<ReferralRecord | null> {
		inputObject(query, 'findReferralByReferee');
		const programId = programIdOf(query);
		const refereeId = v.rowId(query.refereeId, 'refereeId');
		const row = await this.read((tx) => tx.get(`SELECT * FROM referrals WHERE program_id = $1 AND referee_id = $2`, [programId, refereeId]));
		return row ? toReferral(row) : null;
	}

	async findReferralByOrderId(query: { programId: string; orderId: string }): Promise<ReferralRecord | null> {
		inputObject(query, 'findReferralByOrderId');
		const programId = programIdOf(query);
		const orderId = v.text(query.orderId, 'orderId', LIMITS.id);
		const row = await this.read((tx) =>
			tx.get(`SELECT r.* FROM conversions c JOIN referrals r ON r.id = c.referral_id WHERE c.program_id = $1 AND c.order_id = $2`, [programId, orderId]),
		);
		return row ? toReferral(row) : null;
	}

	async transitionReferral(input: TransitionReferralInput): Promise<TransitionResult<ReferralRecord>> {
		inputObject(input, 'transitionReferral');
		const programId = programIdOf(input);
		const id = v.rowId(input.referralId, 'referralId');
		const from = v.status(input.from, 'from');
		const to = v.status(input.to, 'to');
		const reason = v.optNote(input.reason, 'reason');
		const reasons = input.reasons === undefined ? undefined : v.textList(input.reasons, 'reasons', 50, LIMITS.name);
		const riskScore = v.optNumber(input.riskScore, 'riskScore');
		const events = v.events(input.events);
		const key = keyOf(input);
		return this.write(async (w) => {
			await this.requireProgram(w.tx, programId);
			// Without a key the compare-and-set is the idempotency: from → to wins once per time the referral is in `from`.
			return this.once<{ referralId: number; transitioned: boolean }, TransitionResult<ReferralRecord>>(w, {
				programId,
				operation: 'transitionReferral',
				key,
				request: { referralId: id, to },
				run: async () => {
					const q = new Params();
					const sets = [`status = ${q.p(to)}`, `updated_at = ${q.p(w.now)}`];
					if (reasons !== undefined) sets.push(`reasons = ${q.p(JSON.stringify(reasons))}`);
					if (riskScore !== undefined) sets.push(`risk_score = ${q.p(riskScore)}`);
					const row = await w.tx.get(`UPDATE referrals SET ${sets.join(', ')} WHERE id = ${q.p(id)} AND program_id = ${q.p(programId)} AND status = ${q.p(from)} RETURNING *`, q.values);
					if (!row) {
						const current = toReferral(await this.requireReferral(w.tx, programId, id, 'referralId'));
						return { receipt: { referralId: id, transitioned: false }, result: { transitioned: false, status: current.status, record: current, replayed: false } };
					}
					const referral = toReferral(row);
					await w.tx.run(`INSERT INTO referral_history (referral_id, from_status, to_status, reason, at) VALUES ($1, $2, $3, $4, $5)`, [id, from, to, reason ?? null, w.now]);
					w.emit(programId, `referral.${to}`, { referral, from, to, reason: reason ?? null }, referral.refereeId);
					w.emitAll(programId, events, referral.refereeId);
					return { receipt: { referralId: id, transitioned: true }, result: { transitioned: true, status: to, record: referral, replayed: false } };
				},
				replay: async (r) => {
					const record = toReferral(await this.loadRow(w.tx, 'referrals', r.referralId));
					return { transitioned: r.transitioned, status: record.status, record, replayed: true };
				},
			});
		});
	}

	async reassignReferral(input: ReassignReferralInput): Promise<TransitionResult<ReferralRecord>> {
		inputObject(input, 'reassignReferral');
		const programId = programIdOf(input);
		const id = v.rowId(input.referralId, 'referralId');
		const fromReferrer = v.rowId(input.fromReferrerId, 'fromReferrerId');
		const toReferrer = v.rowId(input.toReferrerId, 'toReferrerId');
		const code = v.optText(input.code, 'code', LIMITS.code);
		const touchedAt = v.optTime(input.touchedAt, 'touchedAt');
		const source = v.optText(input.source, 'source', LIMITS.name);
		const ipHash = v.optText(input.ipHash, 'ipHash', LIMITS.id);
		const deviceHash = v.optText(input.deviceHash, 'deviceHash', LIMITS.id);
		const fromStatuses = v.statusList(input.fromStatuses, 'fromStatuses');
		const reason = v.optNote(input.reason, 'reason');
		const events = v.events(input.events);
		const key = keyOf(input);
		return this.write(async (w) => {
			await this.requireProgram(w.tx, programId);
			return this.once<{ referralId: number; transitioned: boolean }, TransitionResult<ReferralRecord>>(w, {
				programId,
				operation: 'reassignReferral',
				key,
				request: { referralId: id, fromReferrerId: fromReferrer, toReferrerId: toReferrer, code, source },
				run: async () => {
					const current = toReferral(await this.requireReferral(w.tx, programId, id, 'referralId'));
					const target = await w.tx.get(`SELECT id FROM participants WHERE id = $1 AND program_id = $2`, [toReferrer, programId]);
					if (!target) fail('unknown_participant', 'toReferrerId', `participant ${toReferrer} does not exist in program "${programId}"`);
					let codeId: number | null = null;
					if (code !== undefined) {
						const found = await w.tx.get(`SELECT id FROM codes WHERE program_id = $1 AND code = $2`, [programId, code]);
						if (!found) fail('unknown_code', 'code', `this code does not exist in program "${programId}"`);
						codeId = n(found!.id);
					}
					const q = new Params();
					const sets = [
						`referrer_id = ${q.p(toReferrer)}`,
						`code_id = ${q.p(codeId)}`,
						`touched_at = ${q.p(touchedAt ?? w.now)}`,
						`source = ${q.p(source ?? null)}`,
						`ip_hash = ${q.p(ipHash ?? null)}`,
						`device_hash = ${q.p(deviceHash ?? null)}`,
						`updated_at = ${q.p(w.now)}`,
					];
					const statuses = fromStatuses.map((s) => q.p(s)).join(', ');
					const row = await w.tx.get(
						`UPDATE referrals SET ${sets.join(', ')} WHERE id = ${q.p(id)} AND program_id = ${q.p(programId)} AND referrer_id = ${q.p(fromReferrer)} AND status IN (${statuses}) RETURNING *`,
						q.values,
					);
					if (!row) return { receipt: { referralId: id, transitioned: false }, result: { transitioned: false, status: current.status, record: current, replayed: false } };
					const referral = toReferral(row);
					const note = `reassigned from participant ${fromReferrer} to ${toReferrer}${reason ? `: ${reason}` : ''}`;
					await w.tx.run(`INSERT INTO referral_history (referral_id, from_status, to_status, reason, at) VALUES ($1, $2, $3, $4, $5)`, [id, current.status, current.status, note.slice(0, LIMITS.text), w.now]);
					w.emit(programId, 'referral.reassigned', { referral, fromReferrerId: fromReferrer, toReferrerId: toReferrer, reason: reason ?? null }, referral.refereeId);
					w.emitAll(programId, events, referral.refereeId);
					return { receipt: { referralId: id, transitioned: true }, result: { transitioned: true, status: referral.status, record: referral, replayed: false } };
				},
				replay: async (r) => {
					const record = toReferral(await this.loadRow(w.tx, 'referrals', r.referralId));
					return { transitioned: r.transitioned, status: record.status, record, replayed: true };
				},
			});
		});
	}

	async referralHistory(query: { programId: string; referralId: Id }): Promise<StatusChange[]> {
		inputObject(query, 'referralHistory');
		const programId = programIdOf(query);
		const id = v.rowId(query.referralId, 'referralId');
		return this.read(async (tx) => {
			await this.requireReferral(tx, programId, id, 'referralId');
			return (await tx.all(`SELECT * FROM referral_history WHERE referral_id = $1 ORDER BY id`, [id])).map(toChange);
		});
	}

	async qualifyReferral(input: QualifyReferralInput): Promise<QualifyReferralResult> {
		inputObject(input, 'qualifyReferral');
		const programId = programIdOf(input);
		const id = v.rowId(input.referralId, 'referralId');
		const orderId = v.text(input.orderId, 'orderId', LIMITS.id);
		const { amount, currency } = v.orderMoney(input.amount, input.currency);
		const occurredAt = v.optTime(input.occurredAt, 'occurredAt');
		const fromStatuses = v.statusList(input.fromStatuses, 'fromStatuses');
		const to = input.toStatus === undefined || input.toStatus === null ? 'qualified' : v.status(input.toStatus, 'toStatus');
		const reason = v.optNote(input.reason, 'reason');
		const events = v.events(input.events);
		const key = keyOf(input);
		return this.write(async (w) => {
			await this.requireProgram(w.tx, programId);
			const replay = async (conversionId: number): Promise<QualifyReferralResult> => {
				const conversion = await this.loadRow(w.tx, 'conversions', conversionId);
				const referral = toReferral(await this.loadRow(w.tx, 'referrals', n(conversion.referral_id)));
				return { qualified: n(conversion.qualified) === 1, referral, conversion: toConversion(conversion), replayed: true };
			};
			// The unique (program, order id) on conversions is the natural key: an order qualifies once.
			return this.once<{ conversionId: number }, QualifyReferralResult>(w, {
				programId,
				operation: 'qualifyReferral',
				key,
				request: { referralId: id, orderId, amount, currency, toStatus: to },
				run: async () => {
					// Locked so the status we check is the status we change.
					const locked = await this.requireReferral(w.tx, programId, id, 'referralId', true);
					const from = s(locked.status);
					const qualifies = fromStatuses.includes(from);
					const occurred = occurredAt ?? w.now;
					const inserted = await w.tx.get(
						`INSERT INTO conversions (program_id, referral_id, order_id, amount, currency, occurred_at, qualified, created_at, referral_status)
						VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING RETURNING *`,
						[programId, id, orderId, amount ?? null, currency ?? null, occurred, qualifies ? 1 : 0, w.now, from],
					);
					if (!inserted) {
						const existing = (await w.tx.get(`SELECT * FROM conversions WHERE program_id = $1 AND order_id = $2`, [programId, orderId]))!;
						if (n(existing.referral_id) !== id) fail('order_already_used', 'orderId', `this orderId already belongs to referral ${n(existing.referral_id)}`);
						v.orderConflict(orderId, toConversion(existing), amount, currency);
						return { receipt: { conversionId: n(existing.id) }, result: await replay(n(existing.id)) };
					}
					const conversion = toConversion(inserted);
					if (!qualifies) return { receipt: { conversionId: conversion.id }, result: { qualified: false, referral: toReferral(locked), conversion, replayed: false } };
					const row = await w.tx.get(`UPDATE referrals SET status = $2, qualified_at = $3, updated_at = $4 WHERE id = $1 RETURNING *`, [id, to, occurred, w.now]);
					const referral = toReferral(row!);
					await w.tx.run(`INSERT INTO referral_history (referral_id, from_status, to_status, reason, at) VALUES ($1, $2, $3, $4, $5)`, [id, from, to, reason ?? `order ${orderId}`, w.now]);
					w.emit(programId, `referral.${to}`, { referral, conversion, from, to, reason: reason ?? null }, referral.refereeId);
					w.emitAll(programId, events, referral.refereeId);
					return { receipt: { conversionId: conversion.id }, result: { qualified: true, referral, conversion, replayed: false } };
				},
				replay: (r) => replay(r.conversionId),
			});
		});
	}

	async listReferrals(query: ListReferralsQuery): Promise<ReferralRecord[]> {
		inputObject(query, 'listReferrals');
		const q = new Params();
		const where = [`program_id = ${q.p(programIdOf(query))}`];
		const referrerId = v.optRowId(query.referrerId, 'referrerId');
		const refereeId = v.optRowId(query.refereeId, 'refereeId');
		const state = query.status === undefined || query.status === null ? undefined : v.status(query.status, 'status');
		const since = v.optTime(query.since, 'since');
		const until = v.optTime(query.until, 'until');
		const afterId = v.optRowId(query.afterId, 'afterId');
		if (referrerId !== undefined) where.push(`referrer_id = ${q.p(referrerId)}`);
		if (refereeId !== undefined) where.push(`referee_id = ${q.p(refereeId)}`);
		if (state !== undefined) where.push(`status = ${q.p(state)}`);
		if (since !== undefined) where.push(`touched_at >= ${q.p(since)}`);
		if (until !== undefined) where.push(`touched_at < ${q.p(until)}`);
		if (afterId !== undefined) where.push(`id > ${q.p(afterId)}`);
		const sql = `SELECT * FROM referrals WHERE ${where.join(' AND ')} ORDER BY id LIMIT ${q.p(v.limit(query.limit))}`;
		return (await this.read((tx) => tx.all(sql, q.values))).map(toReferral);
	}

	async countReferrals(query: CountReferralsQuery): Promise<ReferralCounts> {
		inputObject(query, 'countReferrals');
		const q = new Params();
		const where = [`program_id = ${q.p(programIdOf(query))}`];
		const referrerId = v.optRowId(query.referrerId, 'referrerId');
		const since = v.optTime(query.since, 'since');
		const until = v.optTime(query.until, 'until');
		if (referrerId !== undefined) where.push(`referrer_id = ${q.p(referrerId)}`);
		if (since !== undefined) where.push(`touched_at >= ${q.p(since)}`);
		if (until !== undefined) where.push(`touched_at < ${q.p(until)}`);
		const rows = await this.read((tx) => tx.all(`SELECT status, COUNT(*) AS n FROM referrals WHERE ${where.join(' AND ')} GROUP BY status`, q.values));
		const byStatus: Record<string, number> = {};
		let total = 0;
		for (const r of rows) {
			byStatus[s(r.status)] = n(r.n);
			total += n(r.n);
		}
		return { total, byStatus };
	}

	async referralsBySignal(query: SignalQuery): Promise<ReferralRecord[]> {
		inputObject(query, 'referralsBySignal');
		const q = new Params();
		const where = [`program_id = ${q.p(programIdOf(query))}`, `touched_at >= ${q.p(v.time(query.since, 'since'))}`];
		const ipHash = v.optText(query.ipHash, 'ipHash', LIMITS.id);
		const deviceHash = v.optText(query.deviceHash, 'deviceHash', LIMITS.id);
		if (ipHash === undefined && deviceHash === undefined) fail('required', 'ipHash', 'give ipHash or deviceHash to look for referrals sharing it');
		const until = v.optTime(query.until, 'until');
		const exclude = v.optRowId(query.excludeReferralId, 'excludeReferralId');
		const signals = [ipHash !== undefined ? `ip_hash = ${q.p(ipHash)}` : '', deviceHash !== undefined ? `device_hash = ${q.p(deviceHash)}` : ''].filter(Boolean);
		where.push(`(${signals.join(' OR ')})`);
		if (until !== undefined) where.push(`touched_at < ${q.p(until)}`);
		if (exclude !== undefined) where.push(`id <> ${q.p(exclude)}`);
		const sql = `SELECT * FROM referrals WHERE ${where.join(' AND ')} ORDER BY touched_at DESC, id DESC LIMIT ${q.p(v.limit(query.limit))}`;
		return (await this.read((tx) => tx.all(sql, q.values))).map(toReferral);
	}

	async referralEdges(query: EdgesQuery): Promise<ReferralEdge[]> {
		inputObject(query, 'referralEdges');
		const q = new Params();
		const where = [`program_id = ${q.p(programIdOf(query))}`, 'referee_id IS NOT NULL'];
		if (query.participantIds !== undefined && query.participantIds !== null) {
			const ids = v.idList(query.participantIds, 'participantIds');
			if (ids.length === 0) return [];
			where.push(`(referrer_id IN ${q.list(ids)} OR referee_id IN ${q.list(ids)})`);
		}
		const sql = `SELECT id, referrer_id, referee_id, status FROM referrals WHERE ${where.join(' AND ')} ORDER BY id LIMIT ${q.p(v.limit(query.limit, 'limit', LIMITS.pageSize))}`;
		return (await this.read((tx) => tx.all(sql, q.values))).map((r) => ({ referralId: n(r.id), referrerId: n(r.referrer_id), refereeId: n(r.referee_id), status: s(r.status) }));
	}

	async listConversions(query: ConversionsQuery): Promise<ConversionRecord[]> {
		inputObject(query, 'listConversions');
		const q = new Params();
		const where = [`program_id = ${q.p(programIdOf(query))}`];
		const ids = v.idList(query.referralIds, 'referralIds');
		if (ids.length === 0) return [];
		where.push(`referral_id IN ${q.list(ids)}`);
		if (query.qualifiedOnly === true) where.push('qualified = 1');
		const rows = await this.read((tx) => tx.all(`SELECT * FROM conversions WHERE ${where.join(' AND ')} ORDER BY id`, q.values));
		return rows.map(toConversion);
	}

	async leaderboard(query: LeaderboardQuery): Promise<LeaderboardRow[]> {
		inputObject(query, 'leaderboard');
		const q = new Params();
		const programId = programIdOf(query);
		const by = v.oneOf(query.by, 'by', ['qualifiedReferrals', 'points'] as const);
		const since = v.optTime(query.since, 'since');
		const until = v.optTime(query.until, 'until');
		const limit = v.limit(query.limit, 'limit', 10);
		let scores: string;
		if (by === 'qualifiedReferrals') {
			const where = [`program_id = ${q.p(programId)}`, 'qualified_at IS NOT NULL'];
			if (since !== undefined) where.push(`qualified_at >= ${q.p(since)}`);
			if (until !== undefined) where.push(`qualified_at < ${q.p(until)}`);
			if (query.excludeStatuses !== undefined && query.excludeStatuses !== null && query.excludeStatuses.length > 0) {
				where.push(`status NOT IN ${q.list(v.statusList(query.excludeStatuses, 'excludeStatuses'))}`);
			}
			scores = `SELECT referrer_id AS participant_id, COUNT(*) AS score FROM referrals WHERE ${where.join(' AND ')} GROUP BY referrer_id`;
		} else if (since === undefined && until === undefined) {
			scores = `SELECT participant_id, balance AS score FROM points_balances WHERE program_id = ${q.p(programId)} AND balance <> 0`;
		} else {
			const where = [`program_id = ${q.p(programId)}`];
			if (since !== undefined) where.push(`created_at >= ${q.p(since)}`);
			if (until !== undefined) where.push(`created_at < ${q.p(until)}`);
			scores = `SELECT participant_id, SUM(delta) AS score FROM points_journal WHERE ${where.join(' AND ')} GROUP BY participant_id HAVING SUM(delta) <> 0`;
		}
		// RANK() runs before LIMIT, over every scored participant, so ties share a rank.
		const sql = `SELECT s.participant_id, s.score, RANK() OVER (ORDER BY s.score DESC) AS rank_no, p.external_id, p.name
			FROM (${scores}) s JOIN participants p ON p.id = s.participant_id
			ORDER BY s.score DESC, s.participant_id LIMIT ${q.p(limit)}`;
		const rows = await this.read((tx) => tx.all(sql, q.values));
		return rows.map((r) => ({ rank: n(r.rank_no), participantId: n(r.participant_id), externalId: sOrNull(r.external_id), name: sOrNull(r.name), score: n(r.score) }));
	}

	// ---------- rewards ----------

	/** Journal entry and balance in one step; the balance row is locked by the upsert, so no update is lost. */
	private async addPoints(w: Work, programId: string, participantId: number, change: CheckedPoints, rewardId: number | null, key: string): Promise<{ entry: PointsEntry; balance: number }> {
		// The unique journal key still holds when the idempotency record was pruned.
		const existing = await w.tx.get(`SELECT * FROM points_journal WHERE program_id = $1 AND idempotency_key = $2`, [programId, key]);
		if (existing) {
			const current = await w.tx.get(`SELECT balance FROM points_balances WHERE participant_id = $1`, [participantId]);
			return { entry: toEntry(existing), balance: current ? n(current.balance) : 0 };
		}
		const updated = await w.tx.get(
			`INSERT INTO points_balances (participant_id, program_id, balance, updated_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (participant_id) DO UPDATE SET balance = points_balances.balance + excluded.balance, updated_at = excluded.updated_at
			RETURNING balance`,
			[participantId, programId, change.delta, w.now],
		);
		const balance = n(updated!.balance);
		if (change.delta < 0 && balance < 0 && !change.allowNegative) {
			fail('insufficient_points', change.field, `the points balance would go below zero (balance ${balance - change.delta}, change ${change.delta}); allow a negative balance or debit less`, {
				balance: balance - change.delta,
				delta: change.delta,
			});
		}
		const row = await w.tx.get(
			`INSERT INTO points_journal (program_id, participant_id, delta, balance_after, reason, reward_id, idempotency_key, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *`,
			[programId, participantId, change.delta, balance, change.reason ?? null, rewardId, key, w.now],
		);
		return { entry: toEntry(row!), balance };
	}

	async awardReward(input: AwardRewardInput): Promise<AwardRewardResult> {
		inputObject(input, 'awardReward');
		const programId = programIdOf(input);
		const recipientId = v.rowId(input.recipientId, 'recipientId');
		const referralId = v.optRowId(input.referralId, 'referralId');
		const side = v.oneOf(input.side, 'side', REWARD_SIDES);
		const rule = v.text(input.rule, 'rule', LIMITS.name);
		const kind = v.oneOf(input.kind, 'kind', REWARD_KINDS);
		const amount = v.optNumber(input.amount, 'amount');
		const currency = v.optText(input.currency, 'currency', 8)?.toUpperCase();
		const initial = v.optOneOf(input.status, 'status', REWARD_STATUSES) ?? 'pending';
		const holdUntil = v.optTime(input.holdUntil, 'holdUntil');
		const metadata = v.jsonObject(input.metadata, 'metadata');
		const points = pointsChangeOf(input.points, 'points.');
		const events = v.events(input.events);
		const messages = v.owedMessages(input.messages);
		const key = keyOf(input);
		// Per-side default, so one side's retry never blocks the other side's reward.
		const rewardKey = key ?? `auto:${referralId ?? '-'}:${recipientId}:${side}:${rule}`;
		return this.write(async (w) => {
			await this.requireProgram(w.tx, programId);
			const load = async (rewardId: number, entryId: number | null): Promise<AwardRewardResult> => ({
				reward: toReward(await this.loadRow(w.tx, 'rewards', rewardId)),
				pointsEntry: entryId === null ? null : toEntry(await this.loadRow(w.tx, 'points_journal', entryId)),
				replayed: true,
			});
			return this.once<{ rewardId: number; pointsEntryId: number | null }, AwardRewardResult>(w, {
				programId,
				operation: 'awardReward',
				key,
				request: { recipientId, referralId, side, rule, kind, amount, currency, points: points?.delta },
				derive: () => rewardKey.slice('auto:'.length),
				run: async () => {
					await this.requireParticipant(w.tx, programId, recipientId, 'recipientId');
					// Locked, so a refund reversing the referral and this award cannot pass each other.
					const referralRow = referralId === undefined ? undefined : await this.requireReferral(w.tx, programId, referralId, 'referralId', true);
					const existing = await w.tx.get(`SELECT id FROM rewards WHERE program_id = $1 AND idempotency_key = $2`, [programId, rewardKey]);
					if (!existing && referralRow && s(referralRow.status) === 'reversed') {
						fail('referral_reversed', 'referralId', `referral ${referralId} is reversed; a reversed referral earns no new reward (its rewards were taken back with it)`);
					}
					if (existing) {
						const entry = await w.tx.get(`SELECT id FROM points_journal WHERE program_id = $1 AND idempotency_key = $2`, [programId, `auto:reward:${n(existing.id)}:awarded`]);
						const receipt = { rewardId: n(existing.id), pointsEntryId: entry ? n(entry.id) : null };
						return { receipt, result: await load(receipt.rewardId, receipt.pointsEntryId) };
					}
					const row = await w.tx.get(
						`INSERT INTO rewards (program_id, recipient_id, referral_id, side, rule, kind, amount, currency, status, hold_until, idempotency_key, metadata, created_at, updated_at)
						VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13) RETURNING *`,
						[programId, recipientId, referralId ?? null, side, rule, kind, amount ?? null, currency ?? null, initial, holdUntil ?? null, rewardKey, metadata, w.now],
					);
					const reward = toReward(row!);
					await w.tx.run(`INSERT INTO reward_history (reward_id, from_status, to_status, reason, at) VALUES ($1, NULL, $2, 'awarded', $3)`, [reward.id, initial, w.now]);
					const pointsEntry = points ? (await this.addPoints(w, programId, recipientId, points, reward.id, `auto:reward:${reward.id}:awarded`)).entry : null;
					w.emit(programId, 'reward.awarded', { reward, pointsEntry }, recipientId);
					w.emitAll(programId, events, recipientId);
					w.oweAll(programId, messages, recipientId);
					return { receipt: { rewardId: reward.id, pointsEntryId: pointsEntry?.id ?? null }, result: { reward, pointsEntry, replayed: false } };
				},
				replay: (r) => load(r.rewardId, r.pointsEntryId),
			});
		});
	}

	async getReward(query: { programId: string; id: Id }): Promise<RewardRecord | null> {
		inputObject(query, 'getReward');
		const programId = programIdOf(query);
		const id = v.rowId(query.id, 'id');
		const row = await this.read((tx) => tx.get(`SELECT * FROM rewards WHERE id = $1 AND program_id = $2`, [id, programId]));
		return row ? toReward(row) : null;
	}

	async listRewards(query: ListRewardsQuery): Promise<RewardRecord[]> {
		inputObject(query, 'listRewards');
		const q = new Params();
		const where = [`program_id = ${q.p(programIdOf(query))}`];
		const recipientId = v.optRowId(query.recipientId, 'recipientId');
		const referralId = v.optRowId(query.referralId, 'referralId');
		const state = v.optOneOf(query.status, 'status', REWARD_STATUSES);
		const kind = v.optOneOf(query.kind, 'kind', REWARD_KINDS);
		const side = v.optOneOf(query.side, 'side', REWARD_SIDES);
		const afterId = v.optRowId(query.afterId, 'afterId');
		if (recipientId !== undefined) where.push(`recipient_id = ${q.p(recipientId)}`);
		if (referralId !== undefined) where.push(`referral_id = ${q.p(referralId)}`);
		if (state !== undefined) where.push(`status = ${q.p(state)}`);
		if (kind !== undefined) where.push(`kind = ${q.p(kind)}`);
		if (side !== undefined) where.push(`side = ${q.p(side)}`);
		if (afterId !== undefined) where.push(`id > ${q.p(afterId)}`);
		const sql = `SELECT * FROM rewards WHERE ${where.join(' AND ')} ORDER BY id LIMIT ${q.p(v.limit(query.limit))}`;
		return (await this.read((tx) => tx.all(sql, q.values))).map(toReward);
	}

	async transitionReward(input: TransitionRewardInput): Promise<TransitionRewardResult> {
		inputObject(input, 'transitionReward');
		const programId = programIdOf(input);
		const id = v.rowId(input.rewardId, 'rewardId');
		const from = v.oneOf(input.from, 'from', REWARD_STATUSES);
		const to = v.oneOf(input.to, 'to', REWARD_STATUSES);
		const reason = v.optNote(input.reason, 'reason');
		const points = pointsChangeOf(input.points, 'points.');
		const events = v.events(input.events);
		const messages = v.owedMessages(input.messages);
		const key = keyOf(input);
		return this.write(async (w) => {
			await this.requireProgram(w.tx, programId);
			return this.once<{ rewardId: number; transitioned: boolean; pointsEntryId: number | null }, TransitionRewardResult>(w, {
				programId,
				operation: 'transitionReward',
				key,
				request: { rewardId: id, to, points: points?.delta },
				run: async () => {
					const row = await w.tx.get(`UPDATE rewards SET status = $4, updated_at = $5 WHERE id = $1 AND program_id = $2 AND status = $3 RETURNING *`, [id, programId, from, to, w.now]);
					if (!row) {
						const current = toReward(await this.requireReward(w.tx, programId, id, 'rewardId'));
						return {
							receipt: { rewardId: id, transitioned: false, pointsEntryId: null },
							result: { transitioned: false, status: current.status, record: current, pointsEntry: null, replayed: false },
						};
					}
					const reward = toReward(row);
					const change = await w.tx.get(`INSERT INTO reward_history (reward_id, from_status, to_status, reason, at) VALUES ($1, $2, $3, $4, $5) RETURNING id`, [id, from, to, reason ?? null, w.now]);
					const pointsEntry = points ? (await this.addPoints(w, programId, reward.recipientId, points, id, `auto:reward:${id}:${n(change!.id)}`)).entry : null;
					w.emit(programId, `reward.${to}`, { reward, from, to, reason: reason ?? null, pointsEntry }, reward.recipientId);
					w.emitAll(programId, events, reward.recipientId);
					w.oweAll(programId, messages, reward.recipientId);
					return {
						receipt: { rewardId: id, transitioned: true, pointsEntryId: pointsEntry?.id ?? null },
						result: { transitioned: true, status: to, record: reward, pointsEntry, replayed: false },
					};
				},
				replay: async (r) => {
					const record = toReward(await this.loadRow(w.tx, 'rewards', r.rewardId));
					const pointsEntry = r.pointsEntryId === null ? null : toEntry(await this.loadRow(w.tx, 'points_journal', r.pointsEntryId));
					return { transitioned: r.transitioned, status: record.status, record, pointsEntry, replayed: true };
				},
			});
		});
	}

	async refundReferral(input: RefundReferralInput): Promise<RefundReferralResult> {
		inputObject(input, 'refundReferral');
		const programId = programIdOf(input);
		const referralId = v.rowId(input.referralId, 'referralId');
		const key = v.text(input.idempotencyKey, 'idempotencyKey', LIMITS.key);
		const referralFrom = v.status(input.referralFrom, 'referralFrom');
		const referralTo = input.referralTo === undefined || input.referralTo === null ? undefined : v.status(input.referralTo, 'referralTo');
		const reason = v.optNote(input.reason, 'reason');
		const seen = new Set(v.idList(input.rewardIds, 'rewardIds'));
		if (!Array.isArray(input.rewards) || input.rewards.length > LIMITS.pageSize) fail('invalid_type', 'rewards', `rewards must be a list of at most ${LIMITS.pageSize} steps`);
		const steps = input.rewards.map((step, i) => {
			const field = `rewards[${i}]`;
			if (step === null || typeof step !== 'object') fail('invalid_type', field, `${field} must be an object {rewardId, from, fromAmount, to or amount}`);
			const rewardId = v.rowId(step.rewardId, `${field}.rewardId`);
			if (!seen.has(rewardId)) fail('invalid_value', `${field}.rewardId`, `${field}.rewardId must be one of rewardIds (the referral's rewards the refund was planned from)`);
			const to = step.to === undefined ? undefined : v.oneOf(step.to, `${field}.to`, ['reversed'] as const);
			const amount = v.optNumber(step.amount, `${field}.amount`);
			if (to === undefined && amount === undefined) fail('required', `${field}.to`, `${field} must reverse the reward (to: "reversed") or give its new amount`);
			return {
				rewardId,
				from: v.oneOf(step.from, `${field}.from`, REWARD_STATUSES),
				fromAmount: step.fromAmount === null ? null : v.optNumber(step.fromAmount, `${field}.fromAmount`) ?? null,
				to,
				amount,
				points: pointsChangeOf(step.points, `${field}.points.`),
				metadata: step.metadata === undefined ? undefined : (JSON.parse(v.jsonObject(step.metadata, `${field}.metadata`)) as Record<string, unknown>),
				revokeCode: step.revokeCode === undefined ? undefined : codeText(step.revokeCode, `${field}.revokeCode`),
			};
		});
		const answer = v.jsonObject(input.answer, 'answer');
		const referralMetadata = input.referralMetadata === undefined ? undefined : (JSON.parse(v.jsonObject(input.referralMetadata, 'referralMetadata')) as Record<string, unknown>);
		const events = v.events(input.events);
		const standing = standingOf(input.standing);
		const expectedMetadata = input.referralMetadataExpected === undefined ? undefined : (JSON.parse(v.jsonObject(input.referralMetadataExpected, 'referralMetadataExpected')) as Record<string, unknown>);
		const changed = (field: string, what: string, details: Record<string, unknown>): never =>
			fail('status_changed', field, `${what} changed since the refund was planned; nothing was written (plan the refund again)`, details);
		return this.write(async (w) => {
			await this.requireProgram(w.tx, programId);
			return this.once<{ answer: string }, RefundReferralResult>(w, {
				programId,
				operation: 'refundReferral',
				key: undefined,
				derive: () => key,
				request: {},
				run: async () => {
					const current = toReferral(await this.requireReferral(w.tx, programId, referralId, 'referralId', true));
					if (current.status !== referralFrom) changed('referralId', `Referral ${referralId}'s status`, { from: referralFrom, now: current.status });
					for (const [metaKey, value] of Object.entries(expectedMetadata ?? {})) {
						if (canonicalJson(current.metadata[metaKey] ?? null) !== canonicalJson(value ?? null)) changed('referralMetadataExpected', `Referral ${referralId}'s ${metaKey}`, { key: metaKey });
					}
					const rows = await w.tx.all(`SELECT id, status FROM rewards WHERE program_id = $1 AND referral_id = $2`, [programId, referralId]);
					for (const row of rows) {
						// A reward the plan did not see (awarded meanwhile) would escape the refund.
						if (!seen.has(n(row.id))) changed('rewardIds', `The rewards of referral ${referralId}`, { rewardId: n(row.id) });
					}
					let referral = current;
					if (referralMetadata !== undefined) {
						const merged = v.jsonObject({ ...current.metadata, ...referralMetadata }, 'referralMetadata');
						referral = toReferral((await w.tx.get(`UPDATE referrals SET metadata = $3, updated_at = $4 WHERE id = $1 AND program_id = $2 RETURNING *`, [referralId, programId, merged, w.now]))!);
					}
					if (referralTo !== undefined && referralTo !== current.status) {
						const row = await w.tx.get(`UPDATE referrals SET status = $3, updated_at = $4 WHERE id = $1 AND program_id = $2 RETURNING *`, [referralId, programId, referralTo, w.now]);
						referral = toReferral(row!);
						await w.tx.run(`INSERT INTO referral_history (referral_id, from_status, to_status, reason, at) VALUES ($1, $2, $3, $4, $5)`, [referralId, current.status, referralTo, reason ?? null, w.now]);
						w.emit(programId, `referral.${referralTo}`, { referral, from: current.status, to: referralTo, reason: reason ?? null }, referral.refereeId);
					}
					for (const step of steps) {
						const row = await w.tx.get(`SELECT * FROM rewards WHERE id = $1 AND program_id = $2 AND referral_id = $3${this.driver.dialect.forUpdate}`, [step.rewardId, programId, referralId]);
						if (!row) fail('unknown_reward', 'rewardId', `reward ${step.rewardId} is not a reward of referral ${referralId} in program "${programId}"`);
						const before = toReward(row);
						if (before.status !== step.from || before.amount !== step.fromAmount) {
							changed('rewardId', `Reward ${step.rewardId}`, { from: step.from, now: before.status, fromAmount: step.fromAmount, nowAmount: before.amount });
						}
						const to = step.to ?? before.status;
						const metadata = step.metadata ? v.jsonObject({ ...before.metadata, ...step.metadata }, 'metadata') : v.jsonObject(before.metadata, 'metadata');
						const updated = toReward(
							(await w.tx.get(`UPDATE rewards SET status = $3, amount = $4, metadata = $5, updated_at = $6 WHERE id = $1 AND program_id = $2 RETURNING *`, [
								step.rewardId,
								programId,
								to,
								step.amount ?? before.amount,
								metadata,
								w.now,
							]))!,
						);
						const note = step.to ? (reason ?? null) : `refund: amount ${before.amount} → ${updated.amount}${reason ? ` (${reason})` : ''}`;
						const change = await w.tx.get(`INSERT INTO reward_history (reward_id, from_status, to_status, reason, at) VALUES ($1, $2, $3, $4, $5) RETURNING id`, [step.rewardId, before.status, to, note, w.now]);
						const pointsEntry = step.points ? (await this.addPoints(w, programId, updated.recipientId, step.points, step.rewardId, `auto:reward:${step.rewardId}:${n(change!.id)}`)).entry : null;
						if (step.revokeCode !== undefined) {
							await w.tx.run(`UPDATE codes SET status = 'revoked', revoked_reason = $3, updated_at = $4 WHERE program_id = $1 AND code = $2 AND status = 'active'`, [programId, step.revokeCode, `referral ${referralId} reversed`, w.now]);
						}
						if (step.to) w.emit(programId, 'reward.reversed', { reward: updated, from: before.status, to, reason: reason ?? null, pointsEntry }, updated.recipientId);
						else w.emit(programId, 'reward.adjusted', { reward: updated, fromAmount: before.amount, amount: updated.amount, reason: note, pointsEntry }, updated.recipientId);
					}
					w.emitAll(programId, events, referral.refereeId);
					if (standing) await this.refundStanding(w, programId, standing, reason, changed);
					return { receipt: { answer }, result: { answer: JSON.parse(answer) as Record<string, unknown>, replayed: false } };
				},
				replay: async (r) => ({ answer: JSON.parse(r.answer) as Record<string, unknown>, replayed: true }),
			});
		});
	}

	/** The badges and tiers a refund takes from (or gives to) a participant, inside the refund's transaction. */
	private async refundStanding(
		w: Work,
		programId: string,
		standing: NonNullable<ReturnType<typeof standingOf>>,
		reason: string | undefined,
		changed: (field: string, what: string, details: Record<string, unknown>) => never,
	): Promise<void> {
		const participantId = standing.participantId;
		const held = await w.tx.all(`SELECT id FROM rewards WHERE program_id = $1 AND recipient_id = $2 AND kind IN ('badge', 'tier') AND status <> 'reversed'`, [programId, participantId]);
		for (const row of held) {
			if (!standing.heldIds.has(n(row.id))) changed('standing.heldIds', `The badges and tiers of participant ${participantId}`, { rewardId: n(row.id) });
		}
		for (const [i, step] of standing.lose.entries()) {
			const row = await w.tx.get(`SELECT * FROM rewards WHERE id = $1 AND program_id = $2 AND recipient_id = $3 AND kind IN ('badge', 'tier')${this.driver.dialect.forUpdate}`, [
				step.rewardId,
				programId,
				participantId,
			]);
			if (!row) fail('unknown_reward', `standing.lose[${i}].rewardId`, `reward ${step.rewardId} is not a badge or tier of participant ${participantId} in program "${programId}"`);
			const before = toReward(row);
			if (before.status !== step.from) changed(`standing.lose[${i}].rewardId`, `Reward ${step.rewardId}`, { from: step.from, now: before.status });
			const updated = toReward((await w.tx.get(`UPDATE rewards SET status = 'reversed', updated_at = $3 WHERE id = $1 AND program_id = $2 RETURNING *`, [step.rewardId, programId, w.now]))!);
			const note = `below minimum after refund${reason ? ` (${reason})` : ''}`;
			await w.tx.run(`INSERT INTO reward_history (reward_id, from_status, to_status, reason, at) VALUES ($1, $2, 'reversed', $3, $4)`, [step.rewardId, before.status, note, w.now]);
			w.emit(programId, 'reward.reversed', { reward: updated, from: before.status, to: 'reversed', reason: note, pointsEntry: null }, participantId);
		}
		for (const grant of standing.grant) {
			const existing = await w.tx.get(`SELECT id FROM rewards WHERE program_id = $1 AND idempotency_key = $2`, [programId, grant.idempotencyKey]);
			if (existing) continue;
			const row = await w.tx.get(
				`INSERT INTO rewards (program_id, recipient_id, referral_id, side, rule, kind, amount, currency, status, hold_until, idempotency_key, metadata, created_at, updated_at)
				VALUES ($1, $2, NULL, 'referrer', $3, $4, NULL, NULL, 'approved', NULL, $5, $6, $7, $7) RETURNING *`,
				[programId, participantId, grant.rule, grant.kind, grant.idempotencyKey, grant.metadata, w.now],
			);
			const reward = toReward(row!);
			await w.tx.run(`INSERT INTO reward_history (reward_id, from_status, to_status, reason, at) VALUES ($1, NULL, 'approved', 'held after refund', $2)`, [reward.id, w.now]);
			w.emit(programId, 'reward.awarded', { reward, pointsEntry: null }, participantId);
		}
		w.emitAll(programId, standing.events, participantId);
	}

	async rewardHistory(query: { programId: string; rewardId: Id }): Promise<StatusChange[]> {
		inputObject(query, 'rewardHistory');
		const programId = programIdOf(query);
		const id = v.rowId(query.rewardId, 'rewardId');
		return this.read(async (tx) => {
			await this.requireReward(tx, programId, id, 'rewardId');
			return (await tx.all(`SELECT * FROM reward_history WHERE reward_id = $1 ORDER BY id`, [id])).map(toChange);
		});
	}

	async rewardsDueForApproval(query: DueRewardsQuery): Promise<RewardRecord[]> {
		inputObject(query, 'rewardsDueForApproval');
		const programId = programIdOf(query);
		const now = query.now === undefined || query.now === null ? this.now() : v.time(query.now, 'now');
		const limit = v.limit(query.limit);
		const rows = await this.read((tx) =>
			tx.all(
				`SELECT * FROM rewards WHERE program_id = $1 AND status = 'pending' AND (hold_until IS NULL OR hold_until <= $2)
				ORDER BY COALESCE(hold_until, created_at), id LIMIT $3`,
				[programId, now, limit],
			),
		);
		return rows.map(toReward);
	}

	// ---------- points ----------

	async appendPoints(input: AppendPointsInput): Promise<AppendPointsResult> {
		inputObject(input, 'appendPoints');
		const programId = programIdOf(input);
		const participantId = v.rowId(input.participantId, 'participantId');
		const change = pointsChangeOf(input, '')!;
		const rewardId = v.optRowId(input.rewardId, 'rewardId');
		const events = v.events(input.events);
		const key = keyOf(input);
		const derived = digest({ participantId, delta: change.delta, reason: change.reason ?? null, rewardId: rewardId ?? null });
		return this.write(async (w) => {
			await this.requireProgram(w.tx, programId);
			return this.once<{ entryId: number; balance?: number }, AppendPointsResult>(w, {
				programId,
				operation: 'appendPoints',
				key,
				request: { participantId, delta: change.delta, rewardId },
				derive: () => derived,
				run: async () => {
					await this.requireParticipant(w.tx, programId, participantId, 'participantId');
					if (rewardId !== undefined) await this.requireReward(w.tx, programId, rewardId, 'rewardId');
					const { entry, balance } = await this.addPoints(w, programId, participantId, change, rewardId ?? null, key ?? `auto:${derived}`);
					w.emitAll(programId, events, participantId);
					return { receipt: { entryId: entry.id, balance }, result: { entry, balance, replayed: false } };
				},
				// A replay answers like the first call: the balance right after it (receipts of earlier versions: the balance now).
				replay: async (r) => {
					const entry = toEntry(await this.loadRow(w.tx, 'points_journal', r.entryId));
					if (r.balance !== undefined) return { entry, balance: r.balance, replayed: true };
					const current = await w.tx.get(`SELECT balance FROM points_balances WHERE participant_id = $1`, [entry.participantId]);
					return { entry, balance: current ? n(current.balance) : 0, replayed: true };
				},
			});
		});
	}

	async pointsBalance(query: PointsQuery): Promise<number> {
		inputObject(query, 'pointsBalance');
		const programId = programIdOf(query);
		const participantId = v.rowId(query.participantId, 'participantId');
		return this.read(async (tx) => {
			await this.requireParticipant(tx, programId, participantId, 'participantId');
			const row = await tx.get(`SELECT balance FROM points_balances WHERE participant_id = $1`, [participantId]);
			return row ? n(row.balance) : 0;
		});
	}

	async pointsJournal(query: JournalQuery): Promise<PointsEntry[]> {
		inputObject(query, 'pointsJournal');
		const programId = programIdOf(query);
		const participantId = v.rowId(query.participantId, 'participantId');
		const afterId = v.optRowId(query.afterId, 'afterId') ?? 0;
		const limit = v.limit(query.limit);
		return this.read(async (tx) => {
			await this.requireParticipant(tx, programId, participantId, 'participantId');
			return (await tx.all(`SELECT * FROM points_journal WHERE participant_id = $1 AND id > $2 ORDER BY id LIMIT $3`, [participantId, afterId, limit])).map(toEntry);
		});
	}

	// ---------- coupon pools ----------

	private async countPool(tx: Tx, programId: string, pool: string): Promise<CouponCounts> {
		const rows = await tx.all(`SELECT status, COUNT(*) AS n FROM coupons WHERE program_id = $1 AND pool = $2 GROUP BY status`, [programId, pool]);
		const counts: CouponCounts = { available: 0, claimed: 0 };
		for (const r of rows) counts[s(r.status) as keyof CouponCounts] = n(r.n);
		return counts;
	}

	async loadCoupons(input: LoadCouponsInput): Promise<LoadCouponsResult> {
		inputObject(input, 'loadCoupons');
		const programId = programIdOf(input);
		const pool = v.text(input.pool, 'pool', 128);
		if (!Array.isArray(input.codes) || input.codes.length === 0 || input.codes.length > LIMITS.batch) fail('invalid_type', 'codes', `codes must be a list of 1 to ${LIMITS.batch} coupon codes`);
		const codes = input.codes.map((c, i) => v.text(c, `codes[${i}]`, LIMITS.id));
		const events = v.events(input.events);
		const key = keyOf(input);
		return this.write(async (w) => {
			await this.requireProgram(w.tx, programId);
			// Idempotent by (program, pool, code): loading the same file twice adds nothing. The same
			// load again (same pool, same codes) is a replay: it answers from the first load's receipt.
			return this.once<{ added: number; duplicates: number; available?: number }, LoadCouponsResult>(w, {
				programId,
				operation: 'loadCoupons',
				key,
				derive: () => digest({ pool, codes }),
				request: { pool, codes },
				run: async () => {
					let added = 0;
					for (let i = 0; i < codes.length; i += BULK_CHUNK) {
						const chunk = codes.slice(i, i + BULK_CHUNK);
						const values = chunk.map((_, j) => `($1, $2, $${j + 4}, 'available', $3)`);
						const rows = await w.tx.all(`INSERT INTO coupons (program_id, pool, code, status, created_at) VALUES ${values.join(', ')} ON CONFLICT DO NOTHING RETURNING id`, [programId, pool, w.now, ...chunk]);
						added += rows.length;
					}
					const { available } = await this.countPool(w.tx, programId, pool);
					w.emitAll(programId, events);
					return { receipt: { added, duplicates: codes.length - added, available }, result: { added, duplicates: codes.length - added, available, replayed: false } };
				},
				// Receipts written by earlier versions kept no count: those replays read the pool's count now.
				replay: async (r) => ({ added: r.added, duplicates: r.duplicates, available: r.available ?? (await this.countPool(w.tx, programId, pool)).available, replayed: true }),
			});
		});
	}

	async claimCoupon(input: ClaimCouponInput): Promise<ClaimCouponResult> {
		inputObject(input, 'claimCoupon');
		const programId = programIdOf(input);
		const pool = v.text(input.pool, 'pool', 128);
		const participantId = v.optRowId(input.participantId, 'participantId');
		const rewardId = v.optRowId(input.rewardId, 'rewardId');
		const threshold = v.optInt(input.lowStockThreshold, 'lowStockThreshold', 1);
		const events = v.events(input.events);
		const key = keyOf(input);
		if (key === undefined && rewardId === undefined && participantId === undefined) {
			fail('required', 'rewardId', 'give rewardId, participantId or an idempotencyKey, so that a repeated claim does not take a second coupon');
		}
		return this.write(async (w) => {
			await this.requireProgram(w.tx, programId);
			return this.once<{ couponId: number }, ClaimCouponResult>(w, {
				programId,
				operation: 'claimCoupon',
				key,
				request: { pool, participantId, rewardId },
				derive: () => (rewardId !== undefined ? `reward:${rewardId}` : `participant:${participantId}:${pool}`),
				run: async () => {
					if (participantId !== undefined) await this.requireParticipant(w.tx, programId, participantId, 'participantId');
					if (rewardId !== undefined) await this.requireReward(w.tx, programId, rewardId, 'rewardId');
					// One claimer per pool at a time: two claims never take the same coupon, and the count we see is exact.
					await this.driver.lock(w.tx, `coupon-pool:${programId}:${pool}`);
					const row = await w.tx.get(
						`UPDATE coupons SET status = 'claimed', claimed_by = $3, reward_id = $4, claimed_at = $5
						WHERE id = (SELECT id FROM coupons WHERE program_id = $1 AND pool = $2 AND status = 'available' ORDER BY id LIMIT 1) AND status = 'available'
						RETURNING *`,
						[programId, pool, participantId ?? null, rewardId ?? null, w.now],
					);
					const { available } = await this.countPool(w.tx, programId, pool);
					// An empty pool is not remembered: a retry after a refill should get a coupon.
					if (!row) return { receipt: null, result: { coupon: null, available, replayed: false } };
					if (threshold !== undefined && available < threshold && available + 1 >= threshold) {
						w.emit(programId, 'coupon.pool_low', { pool, available, threshold });
					}
					w.emitAll(programId, events, participantId ?? null);
					return { receipt: { couponId: n(row.id) }, result: { coupon: toCoupon(row), available, replayed: false } };
				},
				replay: async (r) => ({ coupon: toCoupon(await this.loadRow(w.tx, 'coupons', r.couponId)), available: (await this.countPool(w.tx, programId, pool)).available, replayed: true }),
			});
		});
	}

	async countCoupons(query: { programId: string; pool: string }): Promise<CouponCounts> {
		inputObject(query, 'countCoupons');
		const programId = programIdOf(query);
		const pool = v.text(query.pool, 'pool', 128);
		return this.read((tx) => this.countPool(tx, programId, pool));
	}

	async listCouponPools(query: { programId: string; search?: string; limit?: number }): Promise<CouponPoolSummary[]> {
		inputObject(query, 'listCouponPools');
		const programId = programIdOf(query);
		const rows = await this.read((tx) =>
			tx.all(`SELECT pool, COUNT(*) AS total, SUM(CASE WHEN status = 'available' THEN 1 ELSE 0 END) AS available FROM coupons WHERE program_id = $1 GROUP BY pool ORDER BY pool`, [programId]),
		);
		return pickerPage(
			rows.map((row) => ({ pool: s(row.pool), available: Number(row.available ?? 0), total: Number(row.total) })),
			(pool) => pool.pool,
			query,
		);
	}

	// ---------- outbox ----------

	async appendEvent(input: AppendEventInput): Promise<AppendEventResult> {
		inputObject(input, 'appendEvent');
		const programId = v.optText(input.programId, 'programId', 128);
		const type = v.eventType(input.type, 'type');
		const payload = v.jsonObject(input.payload, 'payload');
		const key = keyOf(input);
		return this.write(async (w) => {
			if (programId !== undefined) await this.requireProgram(w.tx, programId);
			return this.once<LedgerEvent, AppendEventResult>(w, {
				programId: programId ?? '',
				operation: 'appendEvent',
				key,
				request: { type, payload: input.payload ?? {} },
				// Hash the object (sorted keys), not its serialisation: key order must not make a new event.
				derive: () => digest({ type, payload: input.payload ?? {} }),
				run: async () => {
					await this.driver.lock(w.tx, OUTBOX_LOCK);
					const row = await w.tx.get(`INSERT INTO outbox (program_id, type, payload, participant_id, created_at) VALUES ($1, $2, $3, NULL, $4) RETURNING *`, [
						programId ?? null,
						type,
						payload,
						w.now,
					]);
					const event = toEvent(row!);
					return { receipt: event, result: { event, replayed: false } };
				},
				replay: async (event) => ({ event, replayed: true }),
			});
		});
	}

	async readEvents(query: ReadEventsQuery): Promise<ReadEventsResult> {
		inputObject(query, 'readEvents');
		const afterId = v.int(query.afterId, 'afterId', 0);
		const programId = v.optText(query.programId, 'programId', 128);
		const types = query.types === undefined || query.types === null ? [] : v.textList(query.types, 'types', LIMITS.listItems, LIMITS.eventType).map((t, i) => v.eventType(t, `types[${i}]`));
		const limit = v.limit(query.limit);
		return this.read(async (tx) => {
			// Read the high-water mark first: every event up to it has committed (appends are
			// serialised in id order), so the cursor never passes an event that is still to come.
			const top = n((await tx.get(`SELECT COALESCE(MAX(id), 0) AS top FROM outbox`))!.top);
			const q = new Params();
			const where = [`id > ${q.p(afterId)}`, `id <= ${q.p(top)}`];
			if (types.length) where.push(`type IN ${q.list(types)}`);
			if (programId !== undefined) where.push(`program_id = ${q.p(programId)}`);
			const events = (await tx.all(`SELECT * FROM outbox WHERE ${where.join(' AND ')} ORDER BY id LIMIT ${q.p(limit)}`, q.values)).map(toEvent);
			const cursor = events.length === limit ? events[events.length - 1].id : Math.max(afterId, top);
			return { events, cursor };
		});
	}

	async latestEventId(): Promise<number> {
		return this.read(async (tx) => n((await tx.get(`SELECT COALESCE(MAX(id), 0) AS top FROM outbox`))!.top));
	}

	async pruneEvents(query: { before: Time }): Promise<number> {
		inputObject(query, 'pruneEvents');
		const before = v.time(query.before, 'before');
		return this.write((w) => w.tx.run(`DELETE FROM outbox WHERE created_at < $1`, [before]));
	}

	// ---------- suppression list ----------

	async addSuppression(input: SuppressionInput): Promise<{ suppression: SuppressionRecord; created: boolean; replayed: boolean }> {
		inputObject(input, 'addSuppression');
		const channel = channelOf(input.channel);
		const address = addressOf(channel, input.address, 'address');
		const reason = v.optNote(input.reason, 'reason', LIMITS.name);
		const events = v.events(input.events);
		const key = keyOf(input);
		return this.write(async (w) =>
			this.once<{ created: boolean }, { suppression: SuppressionRecord; created: boolean; replayed: boolean }>(w, {
				programId: '',
				operation: 'addSuppression',
				key,
				request: { channel, address },
				run: async () => {
					const before = await this.suppressionOf(w.tx, channel, address);
					if (before) return { receipt: { created: false }, result: { suppression: before, created: false, replayed: false } };
					const row = await w.tx.get(`INSERT INTO suppressions (channel, address, reason, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING *`, [
						channel,
						address,
						reason ?? null,
						w.now,
					]);
					const suppression = toSuppression(row ?? (await w.tx.get(`SELECT * FROM suppressions WHERE channel = $1 AND address = $2`, [channel, address]))!);
					if (row) w.emitAll(null, events);
					return { receipt: { created: !!row }, result: { suppression, created: !!row, replayed: false } };
				},
				replay: async (r) => {
					const suppression = (await this.suppressionOf(w.tx, channel, address)) ?? { channel, address, reason: reason ?? null, createdAt: w.now };
					return { suppression, created: r.created, replayed: true };
				},
			}),
		);
	}

	async removeSuppression(input: RemoveSuppressionInput): Promise<{ removed: boolean; replayed: boolean }> {
		inputObject(input, 'removeSuppression');
		const channel = channelOf(input.channel);
		const address = addressOf(channel, input.address, 'address');
		const events = v.events(input.events);
		const key = keyOf(input);
		return this.write(async (w) =>
			this.once<{ removed: boolean }, { removed: boolean; replayed: boolean }>(w, {
				programId: '',
				operation: 'removeSuppression',
				key,
				request: { channel, address },
				run: async () => {
					const q = new Params();
					const removed = (await w.tx.run(`DELETE FROM suppressions WHERE channel = ${q.p(channel)} AND address IN ${q.list(spellingsOf(channel, address))}`, q.values)) > 0;
					if (removed) w.emitAll(null, events);
					return { receipt: { removed }, result: { removed, replayed: false } };
				},
				replay: async (r) => ({ removed: r.removed, replayed: true }),
			}),
		);
	}

	async getSuppression(query: SuppressionKey): Promise<SuppressionRecord | null> {
		inputObject(query, 'getSuppression');
		const channel = channelOf(query.channel);
		const address = addressOf(channel, query.address, 'address');
		return (await this.read((tx) => this.suppressionOf(tx, channel, address))) ?? null;
	}

	/** The suppression of an address in any spelling (the stored form first). */
	private async suppressionOf(tx: Tx, channel: string, address: string): Promise<SuppressionRecord | undefined> {
		const q = new Params();
		const rows = await tx.all(`SELECT * FROM suppressions WHERE channel = ${q.p(channel)} AND address IN ${q.list(spellingsOf(channel, address))}`, q.values);
		const row = rows.find((r) => s(r.address) === address) ?? rows[0];
		return row ? toSuppression(row) : undefined;
	}

	async suppressedAddresses(query: { channel: string; addresses: string[] }): Promise<string[]> {
		inputObject(query, 'suppressedAddresses');
		const channel = channelOf(query.channel);
		if (!Array.isArray(query.addresses) || query.addresses.length > LIMITS.pageSize) fail('invalid_type', 'addresses', `addresses must be a list of at most ${LIMITS.pageSize} addresses`);
		const addresses = [...new Set(query.addresses.map((a, i) => addressOf(channel, a, `addresses[${i}]`)))];
		// Each address is looked up in every spelling and answered in its stored form.
		const bySpelling = new Map<string, string>();
		for (const a of addresses) for (const spelling of spellingsOf(channel, a)) bySpelling.set(spelling, a);
		const spellings = [...bySpelling.keys()];
		return this.read(async (tx) => {
			const found = new Set<string>();
			for (let i = 0; i < spellings.length; i += BULK_CHUNK) {
				const q = new Params();
				const sql = `SELECT address FROM suppressions WHERE channel = ${q.p(channel)} AND address IN ${q.list(spellings.slice(i, i + BULK_CHUNK))}`;
				for (const r of await tx.all(sql, q.values)) found.add(bySpelling.get(s(r.address)) ?? s(r.address));
			}
			return [...found];
		});
	}

	// ---------- message log ----------

	async reserveMessage(input: ReserveMessageInput): Promise<ReserveMessageResult> {
		inputObject(input, 'reserveMessage');
		const channel = channelOf(input.channel);
		const recipient = addressOf(channel, input.recipient, 'recipient');
		const programId = v.optText(input.programId, 'programId', 128);
		const participantId = v.optRowId(input.participantId, 'participantId');
		const templateId = v.optText(input.templateId, 'templateId', LIMITS.id);
		const reference = v.optText(input.reference, 'reference', LIMITS.id);
		const staleAfterMs = v.optInt(input.staleAfterMs, 'staleAfterMs', 1);
		if (input.retryFailed !== undefined && input.retryFailed !== null && typeof input.retryFailed !== 'boolean') fail('invalid_type', 'retryFailed', 'retryFailed must be true or false');
		const key = keyOf(input) ?? 'auto:' + digest({ channel, recipient, templateId, reference, programId });
		return this.write(async (w) => {
			if (programId !== undefined) await this.requireProgram(w.tx, programId);
			if (participantId !== undefined) {
				if (programId === undefined) fail('required', 'programId', 'give programId together with participantId');
				await this.requireParticipant(w.tx, programId, participantId, 'participantId');
			}
			// The message row is its own idempotency record: its key is unique.
			const row = await w.tx.get(
				`INSERT INTO messages (idempotency_key, program_id, participant_id, channel, recipient, status, attempts, created_at, updated_at)
				VALUES ($1, $2, $3, $4, $5, 'reserved', 1, $6, $6) ON CONFLICT DO NOTHING RETURNING *`,
				[key, programId ?? null, participantId ?? null, channel, recipient, w.now],
			);
			if (row) return { reserved: true, message: toMessage(row) };
			const existing = toMessage((await w.tx.get(`SELECT * FROM messages WHERE idempotency_key = $1`, [key]))!);
			const deadClaim = existing.status === 'reserved' && existing.claimedUntil !== null && existing.claimedUntil < w.now && existing.handedOverAt === null;
			const takeOver =
				// An owed message sent the plain way (Send with its key) is delivered all the same.
				existing.status === 'owed' ||
				deadClaim ||
				(existing.status === 'failed' && input.retryFailed === true) ||
				(existing.status === 'reserved' && existing.claimedUntil === null && staleAfterMs !== undefined && existing.updatedAt <= w.now - staleAfterMs);
			if (!takeOver) return { reserved: false, message: existing };
			// Compare-and-set on what we saw, so two retries cannot both take the key over.
			const taken = await w.tx.get(
				`UPDATE messages SET status = 'reserved', attempts = attempts + 1, error = NULL, claim_token = NULL, claimed_until = NULL, handed_over_at = NULL, updated_at = $4
				WHERE idempotency_key = $1 AND status = $2 AND updated_at = $3 RETURNING *`,
				[key, existing.status, existing.updatedAt, w.now],
			);
			return taken ? { reserved: true, message: toMessage(taken) } : { reserved: false, message: toMessage((await w.tx.get(`SELECT * FROM messages WHERE idempotency_key = $1`, [key]))!) };
		});
	}

	async completeMessage(input: CompleteMessageInput): Promise<MessageRecord> {
		inputObject(input, 'completeMessage');
		const key = v.text(input.idempotencyKey, 'idempotencyKey', LIMITS.key);
		const token = v.optText(input.token, 'token', 64);
		const state = v.oneOf(input.status, 'status', token === undefined ? (['sent', 'failed'] as const) : (['sent', 'failed', 'skipped', 'unconfirmed', 'owed'] as const));
		const providerId = v.optText(input.providerId, 'providerId', LIMITS.id);
		const error = v.optNote(input.error, 'error');
		const dueAt = v.optTime(input.dueAt, 'dueAt');
		return this.write(async (w) => {
			const row =
				token === undefined
					? await w.tx.get(
							`UPDATE messages SET status = $2, provider_id = COALESCE($3, provider_id), error = $4, updated_at = $5 WHERE idempotency_key = $1 AND status = 'reserved' RETURNING *`,
							[key, state, providerId ?? null, error ?? null, w.now],
						)
					: state === 'owed'
						? // Given back: due again later, nothing of this attempt reached the provider.
							await w.tx.get(
								`UPDATE messages SET status = 'owed', error = $3, due_at = $4, claim_token = NULL, claimed_until = NULL, handed_over_at = NULL, updated_at = $5
								WHERE idempotency_key = $1 AND claim_token = $2 AND status = 'reserved' RETURNING *`,
								[key, token, error ?? null, dueAt ?? w.now, w.now],
							)
						: await w.tx.get(
								`UPDATE messages SET status = $3, provider_id = COALESCE($4, provider_id), error = $5, claimed_until = NULL, updated_at = $6
								WHERE idempotency_key = $1 AND claim_token = $2 AND status = 'reserved' RETURNING *`,
								[key, token, state, providerId ?? null, error ?? null, w.now],
							);
			if (row) return toMessage(row);
			// Already completed (a replay), claimed by someone else since, or never reserved.
			const current = await w.tx.get(`SELECT * FROM messages WHERE idempotency_key = $1`, [key]);
			if (!current) fail('unknown_message', 'idempotencyKey', 'no message was reserved with this idempotencyKey; reserve it before sending');
			return toMessage(current);
		});
	}

	async getMessage(idempotencyKey: string): Promise<MessageRecord | null> {
		const key = v.text(idempotencyKey, 'idempotencyKey', LIMITS.key);
		const row = await this.read((tx) => tx.get(`SELECT * FROM messages WHERE idempotency_key = $1`, [key]));
		return row ? toMessage(row) : null;
	}

	async listMessages(query: ListMessagesQuery): Promise<MessageRecord[]> {
		inputObject(query, 'listMessages');
		const q = new Params();
		const where: string[] = [];
		if (query.programId !== undefined) where.push(`program_id = ${q.p(programIdOf(query))}`);
		if (query.status !== undefined) where.push(`status = ${q.p(v.oneOf(query.status, 'status', ['owed', 'reserved', 'sent', 'failed', 'skipped', 'unconfirmed'] as const))}`);
		if (query.topic !== undefined) where.push(`topic = ${q.p(v.eventType(query.topic, 'topic'))}`);
		if (query.channel !== undefined) where.push(`channel = ${q.p(channelOf(query.channel))}`);
		if (query.participantId !== undefined) where.push(`participant_id = ${q.p(v.rowId(query.participantId, 'participantId'))}`);
		const afterId = v.optRowId(query.afterId, 'afterId');
		if (afterId !== undefined) where.push(`id > ${q.p(afterId)}`);
		const sql = `SELECT * FROM messages${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY id LIMIT ${q.p(v.limit(query.limit))}`;
		return (await this.read((tx) => tx.all(sql, q.values))).map(toMessage);
	}

	async claimMessages(input: ClaimMessagesInput): Promise<ClaimMessagesResult> {
		inputObject(input, 'claimMessages');
		const channel = v.oneOf(input.channel, 'channel', ['email', 'sms'] as const);
		const topic = input.topic === undefined || input.topic === null ? undefined : v.eventType(input.topic, 'topic');
		const programId = input.programId === undefined || input.programId === null ? undefined : programIdOf(input);
		const keys = [...new Set(v.textList(input.keys, 'keys', MAX_CLAIM_KEYS, LIMITS.key))];
		const overdueAfterMs = v.optInt(input.overdueAfterMs, 'overdueAfterMs', 0, 30 * 24 * 3_600_000);
		if (overdueAfterMs !== undefined && topic === undefined) fail('required', 'topic', 'give the topic of the overdue messages to claim (e.g. reward.earned)');
		const limit = v.optInt(input.limit, 'limit', 1, MAX_CLAIM_KEYS) ?? 100;
		const ttlMs = v.optInt(input.ttlMs, 'ttlMs', CLAIM_TTL.min, CLAIM_TTL.max) ?? CLAIM_TTL.default;
		const token = randomBytes(12).toString('base64url');
		if (keys.length === 0 && overdueAfterMs === undefined) return { token, claimed: [], others: [] };
		return this.write(async (w) => {
			const scope = (q: Params) => {
				const parts = [`channel = ${q.p(channel)}`];
				if (topic !== undefined) parts.push(`topic = ${q.p(topic)}`);
				if (programId !== undefined) parts.push(`program_id = ${q.p(programId)}`);
				return parts.join(' AND ');
			};
			const now = (q: Params, sql: string) => sql.replaceAll('$NOW', q.p(w.now));
			const byKeys = (q: Params) => `msg_group IN ${q.list(keys)}`;
			const claimed: Row[] = [];
			const claim = async (pick: (q: Params) => string) => {
				const q = new Params();
				const sql = `UPDATE messages SET status = 'reserved', claim_token = ${q.p(token)}, claimed_until = ${q.p(w.now + ttlMs)}, handed_over_at = NULL,
					attempts = attempts + 1, updated_at = ${q.p(w.now)}
					WHERE ${pick(q)} AND ${scope(q)} AND (${now(q, DUE)} OR ${now(q, DEAD_CLAIM)}) RETURNING *`;
				claimed.push(...(await w.tx.all(sql, q.values)));
			};
			// Lapsed claims that had handed their message over: the provider may have it; never again.
			const settle = async (pick: (q: Params) => string) => {
				const q = new Params();
				await w.tx.run(
					`UPDATE messages SET status = 'unconfirmed', claimed_until = NULL, updated_at = ${q.p(w.now)},
					error = 'the sender stopped after handing the message to the provider and before its answer was recorded; not sent again'
					WHERE ${pick(q)} AND ${scope(q)} AND status = 'reserved' AND claimed_until IS NOT NULL AND claimed_until < ${q.p(w.now)} AND handed_over_at IS NOT NULL`,
					q.values,
				);
			};
			if (keys.length > 0) {
				await settle(byKeys);
				await claim(byKeys);
			}
			if (overdueAfterMs !== undefined) {
				await settle(() => 'TRUE');
				// Picked first, then claimed: as a subquery of the UPDATE, PostgreSQL may rescan it per row.
				const skipLocked = this.driver.dialect.name === 'postgres' ? ' FOR UPDATE SKIP LOCKED' : '';
				const q = new Params();
				const picked = await w.tx.all(
					`SELECT id FROM messages WHERE ${scope(q)} AND ((status = 'owed' AND due_at <= ${q.p(w.now)} AND created_at <= ${q.p(w.now - overdueAfterMs)}) OR ${now(q, DEAD_CLAIM)})
					ORDER BY id LIMIT ${q.p(limit)}${skipLocked}`,
					q.values,
				);
				if (picked.length > 0) await claim((p) => `id IN ${p.list(picked.map((r) => n(r.id)))}`);
			}
			const ids = new Set(claimed.map((r) => n(r.id)));
			let others: MessageRecord[] = [];
			if (keys.length > 0) {
				const q = new Params();
				others = (await w.tx.all(`SELECT * FROM messages WHERE ${byKeys(q)} AND channel = ${q.p(channel)} ORDER BY id`, q.values)).map(toMessage).filter((m) => !ids.has(m.id));
			}
			return { token, claimed: claimed.map(toMessage).sort((a, b) => a.id - b.id), others };
		});
	}

	async renewMessageClaims(input: { token: string; ttlMs?: number }): Promise<number> {
		inputObject(input, 'renewMessageClaims');
		const token = v.text(input.token, 'token', 64);
		const ttlMs = v.optInt(input.ttlMs, 'ttlMs', CLAIM_TTL.min, CLAIM_TTL.max) ?? CLAIM_TTL.default;
		return this.write((w) => w.tx.run(`UPDATE messages SET claimed_until = $2 WHERE claim_token = $1 AND status = 'reserved'`, [token, w.now + ttlMs]));
	}

	async handOverMessage(input: { idempotencyKey: string; token: string }, onCommitted?: () => void): Promise<boolean> {
		inputObject(input, 'handOverMessage');
		const key = v.text(input.idempotencyKey, 'idempotencyKey', LIMITS.key);
		const token = v.text(input.token, 'token', 64);
		return this.write(
			async (w) => (await w.tx.run(`UPDATE messages SET handed_over_at = $3, updated_at = $3 WHERE idempotency_key = $1 AND claim_token = $2 AND status = 'reserved'`, [key, token, w.now])) === 1,
			onCommitted
				? (held) => {
						if (!held) return;
						try {
							onCommitted();
						} catch {
							// The sender's own affair: the record stands either way.
						}
					}
				: undefined,
		);
	}

	// ---------- lead scoring models ----------

	async saveScoringModel(input: SaveScoringModelInput): Promise<SaveScoringModelResult> {
		inputObject(input, 'saveScoringModel');
		const name = v.text(input.name, 'name', LIMITS.name);
		if (input.model === undefined) fail('required', 'model', 'model is required: any JSON value');
		const model = v.jsonValue(input.model, 'model', 1024 * 1024);
		const events = v.events(input.events);
		const key = keyOf(input);
		return this.write(async (w) =>
			this.once<{ changed: boolean }, SaveScoringModelResult>(w, {
				programId: '',
				operation: 'saveScoringModel',
				key,
				request: { name, model },
				run: async () => {
					// The version moves only when the content does, so saving the same model twice is a no-op.
					const row = await w.tx.get(
						`INSERT INTO scoring_models (name, model, version, updated_at) VALUES ($1, $2, 1, $3)
						ON CONFLICT (name) DO UPDATE SET model = excluded.model, version = scoring_models.version + 1, updated_at = excluded.updated_at
						WHERE scoring_models.model <> excluded.model RETURNING *`,
						[name, model, w.now],
					);
					const current = row ?? (await w.tx.get(`SELECT * FROM scoring_models WHERE name = $1`, [name]))!;
					if (row) w.emitAll(null, events);
					return { receipt: { changed: !!row }, result: { model: toModel(current), changed: !!row, replayed: false } };
				},
				replay: async (r) => ({ model: toModel((await w.tx.get(`SELECT * FROM scoring_models WHERE name = $1`, [name]))!), changed: r.changed, replayed: true }),
			}),
		);
	}

	async loadScoringModel(name: string): Promise<ScoringModelRecord | null> {
		const modelName = v.text(name, 'name', LIMITS.name);
		const row = await this.read((tx) => tx.get(`SELECT * FROM scoring_models WHERE name = $1`, [modelName]));
		return row ? toModel(row) : null;
	}

	// ---------- maintenance ----------

	async keepAnswer(input: KeepAnswerInput): Promise<{ answer: Record<string, unknown>; replayed: boolean }> {
		inputObject(input, 'keepAnswer');
		const programId = programIdOf(input);
		const operation = v.text(input.operation, 'operation', 64);
		const key = v.text(input.key, 'key', LIMITS.key);
		const answer = v.jsonObject(input.answer, 'answer');
		const where = [programId, `answer:${operation}`, key];
		return this.write(async (w) => {
			// The first answer stays: a racing or later copy of the request gets it back.
			const inserted = await w.tx.get(
				`INSERT INTO idempotency_keys (program_id, operation, idem_key, fingerprint, receipt, created_at) VALUES ($1, $2, $3, NULL, $4, $5) ON CONFLICT DO NOTHING RETURNING receipt`,
				[...where, answer, w.now],
			);
			if (inserted) return { answer: JSON.parse(answer) as Record<string, unknown>, replayed: false };
			const row = await w.tx.get(`SELECT receipt FROM idempotency_keys WHERE program_id = $1 AND operation = $2 AND idem_key = $3`, where);
			return { answer: JSON.parse(s(row!.receipt)) as Record<string, unknown>, replayed: true };
		});
	}

	async keptAnswer(query: { programId: string; operation: string; key: string }): Promise<Record<string, unknown> | null> {
		inputObject(query, 'keptAnswer');
		const programId = programIdOf(query);
		const where = [programId, `answer:${v.text(query.operation, 'operation', 64)}`, v.text(query.key, 'key', LIMITS.key)];
		return this.read(async (tx) => {
			const row = await tx.get(`SELECT receipt FROM idempotency_keys WHERE program_id = $1 AND operation = $2 AND idem_key = $3`, where);
			return row && row.receipt !== null ? (JSON.parse(s(row.receipt)) as Record<string, unknown>) : null;
		});
	}

	async pruneIdempotencyKeys(query: { before: Time }): Promise<number> {
		inputObject(query, 'pruneIdempotencyKeys');
		const before = v.time(query.before, 'before');
		return this.write((w) => w.tx.run(`DELETE FROM idempotency_keys WHERE created_at < $1`, [before]));
	}

	async schemaVersion(): Promise<number> {
		return this.read(async (tx) => n((await tx.get(`SELECT COALESCE(MAX(version), 0) AS v FROM ledger_migrations`))!.v));
	}

	/** True once close() was called; the cache in index.ts then opens a fresh one. */
	get closed(): boolean {
		return this.isClosed;
	}

	close(): Promise<void> {
		this.isClosed = true;
		return this.driver.close();
	}
}

/** The entries a picker shows: those whose text contains `search` in any letter case, at most `limit`. */
function pickerPage<T>(entries: T[], text: (entry: T) => string, query: { search?: string; limit?: number }): T[] {
	const search = typeof query.search === 'string' ? query.search.trim().toLowerCase() : '';
	const limit = typeof query.limit === 'number' && query.limit > 0 ? Math.floor(query.limit) : 100;
	return entries.filter((entry) => search === '' || text(entry).toLowerCase().includes(search)).slice(0, limit);
}
