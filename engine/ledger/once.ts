/* Idempotency: the fingerprint of a request, the write in progress (`Work`) and the one mechanism
 * that claims a key, runs the work once and replays its receipt (`once`). */
import { createHash } from 'node:crypto';
import { EngineError } from '../shared/errors';
import { Params, type Driver, type Tx } from './sql';
import type { CheckedEvent, CheckedOwedMessage } from './validate';
import { fail } from './validate';

/** The lock appends to the outbox take, so events commit in id order. */
export const OUTBOX_LOCK = 'outbox';

/** JSON with sorted keys, so the same input always hashes the same. */
export function stableJson(value: unknown): string {
	return JSON.stringify(value, (_key, val: unknown) => {
		if (val && typeof val === 'object' && !Array.isArray(val) && !(val instanceof Date)) {
			return Object.fromEntries(
				Object.entries(val as Record<string, unknown>).sort(([a], [b]) =>
					a < b ? -1 : a > b ? 1 : 0,
				),
			);
		}
		return val;
	});
}

export function digest(value: unknown): string {
	return createHash('sha256').update(stableJson(value)).digest('base64url');
}

/**
 * Fingerprint of what the caller asked for: each operation names the fields of its request
 * (`Once.request`), already validated. Never in a fingerprint: times (a server may default them to
 * its clock), ids the ledger assigns, the status the caller read before asking (`from`), notes and
 * reasons, metadata, risk scores and events (context the caller computed). So a replay is
 * recognised however late it comes, and a key reused for another request is still refused.
 */
export function fingerprint(request: Record<string, unknown>): string {
	return digest(request);
}

export interface Once<Receipt, R> {
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
export class Work {
	readonly events: Array<{
		programId: string | null;
		type: string;
		payload: string;
		participantId: number | null;
	}> = [];
	readonly owed: Array<{ programId: string; message: CheckedOwedMessage }> = [];

	constructor(
		readonly tx: Tx,
		readonly now: number,
	) {}

	emit(
		programId: string | null,
		type: string,
		payload: Record<string, unknown> | string,
		participantId: number | null = null,
	): void {
		this.events.push({
			programId,
			type,
			payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
			participantId,
		});
	}

	emitAll(
		programId: string | null,
		events: CheckedEvent[],
		participantId: number | null = null,
	): void {
		for (const e of events) this.emit(programId, e.type, e.payload, participantId);
	}

	/** Messages owed to people, written into the message log before the commit. */
	oweAll(
		programId: string,
		messages: CheckedOwedMessage[],
		participantId: number | null = null,
	): void {
		for (const message of messages)
			this.owed.push({
				programId,
				message: { ...message, participantId: message.participantId ?? participantId },
			});
	}
}

/** An event on its way into the outbox, with the time of the write that emitted it. */
export type PendingEvent = Work['events'][number] & { createdAt: number };

/** Events go in last, under the outbox lock, so the lock is held only until the commit right after. */
export async function flushEvents(driver: Driver, w: Work): Promise<void> {
	await appendEvents(
		driver,
		w.tx,
		w.events.map((e) => ({ ...e, createdAt: w.now })),
	);
}

/** Appends events to the outbox under its lock (flushEvents; a batch appends its items' at its end). */
export async function appendEvents(driver: Driver, tx: Tx, events: PendingEvent[]): Promise<void> {
	if (events.length === 0) return;
	await driver.lock(tx, OUTBOX_LOCK);
	for (let i = 0; i < events.length; i += 200) {
		const q = new Params();
		const rows = events
			.slice(i, i + 200)
			.map(
				(e) =>
					`(${q.p(e.programId)}, ${q.p(e.type)}, ${q.p(e.payload)}, ${q.p(e.participantId)}, ${q.p(e.createdAt)})`,
			);
		await tx.run(
			`INSERT INTO outbox (program_id, type, payload, participant_id, created_at) VALUES ${rows.join(', ')}`,
			q.values,
		);
	}
}

/**
 * The one idempotency mechanism: claim (program, operation, key) first, do the work, store a
 * receipt, all in one transaction. A racing duplicate blocks on the claim (PostgreSQL waits for
 * the unique index; SQLite writers are serialised) and then replays the winner's receipt.
 */
export async function once<Receipt, R>(w: Work, o: Once<Receipt, R>): Promise<R> {
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
		const row = await w.tx.get(
			`SELECT fingerprint, receipt FROM idempotency_keys WHERE program_id = $1 AND operation = $2 AND idem_key = $3`,
			where,
		);
		if (!row || row.receipt === null)
			throw new EngineError(
				'ledger_internal',
				`idempotency record for ${o.operation} vanished during a replay; retry`,
			);
		if (print !== null && row.fingerprint !== print) {
			fail(
				'idempotency_key_reused',
				'idempotencyKey',
				`idempotencyKey was already used for a different ${o.operation} request; repeat the same input or use a new key`,
			);
		}
		return o.replay(JSON.parse(String(row.receipt)) as Receipt);
	}
	const { receipt, result } = await o.run();
	if (receipt === null)
		await w.tx.run(
			`DELETE FROM idempotency_keys WHERE program_id = $1 AND operation = $2 AND idem_key = $3`,
			where,
		);
	else
		await w.tx.run(
			`UPDATE idempotency_keys SET receipt = $4 WHERE program_id = $1 AND operation = $2 AND idem_key = $3`,
			[...where, JSON.stringify(receipt)],
		);
	return result;
}
