/* Retention: what the ledger may forget once it is old, and nothing else. Each table is pruned in
 * short batches (one write transaction each), so a large prune never holds the ledger's lock for
 * long and another writer (a sign-up, an n8n worker) gets its turn between batches. */
import type { LedgerCore } from '../core';
import { inputObject } from '../inputs';
import type { LedgerStore, PruneLedgerInput, PruneLedgerResult, Time } from '../store';
import * as v from '../validate';

type Methods = 'pruneLedger' | 'pruneEvents' | 'pruneIdempotencyKeys';

/** Rows deleted per transaction: small enough that a batch takes milliseconds. */
export const PRUNE_BATCH = 2_000;

/**
 * Message statuses that are final: the message was sent, failed for good, or was skipped on
 * purpose. Owed, reserved and unconfirmed messages (the last wait for a person to check the
 * provider) are never pruned, whatever their age.
 */
export const PRUNABLE_MESSAGE_STATUSES = ['sent', 'failed', 'skipped'] as const;

/** One table's batched delete: the rows a subquery selects, `limit` at a time. */
interface Target {
	table: string;
	/** The key columns that name one row. */
	key: string;
	/** The WHERE clause ($1 = the cutoff) that an index answers. */
	where: string;
}

export const PRUNE_TARGETS = {
	events: { table: 'outbox', key: 'id', where: 'created_at < $1' },
	messages: {
		table: 'messages',
		key: 'id',
		where: `status IN (${PRUNABLE_MESSAGE_STATUSES.map((s) => `'${s}'`).join(', ')}) AND updated_at < $1`,
	},
	idempotencyKeys: {
		table: 'idempotency_keys',
		key: 'program_id, operation, idem_key',
		where: 'created_at < $1',
	},
} satisfies Record<string, Target>;

export class RetentionTable implements Pick<LedgerStore, Methods> {
	constructor(private readonly core: LedgerCore) {}

	async pruneLedger(input: PruneLedgerInput): Promise<PruneLedgerResult> {
		inputObject(input, 'pruneLedger');
		const before = v.time(input.before, 'before');
		const batch = v.int(input.batchSize ?? PRUNE_BATCH, 'batchSize', 1, 100_000);
		return {
			before,
			events: await this.prune(PRUNE_TARGETS.events, before, batch),
			messages: await this.prune(PRUNE_TARGETS.messages, before, batch),
			idempotencyKeys: await this.prune(PRUNE_TARGETS.idempotencyKeys, before, batch),
		};
	}

	async pruneEvents(query: { before: Time }): Promise<number> {
		inputObject(query, 'pruneEvents');
		return this.prune(PRUNE_TARGETS.events, v.time(query.before, 'before'), PRUNE_BATCH);
	}

	async pruneIdempotencyKeys(query: { before: Time }): Promise<number> {
		inputObject(query, 'pruneIdempotencyKeys');
		return this.prune(PRUNE_TARGETS.idempotencyKeys, v.time(query.before, 'before'), PRUNE_BATCH);
	}

	/** Deletes the target's rows older than `before`, `limit` per transaction; returns how many. */
	private async prune(target: Target, before: number, limit: number): Promise<number> {
		const { table, key, where } = target;
		const sql = `DELETE FROM ${table} WHERE (${key}) IN (SELECT ${key} FROM ${table} WHERE ${where} LIMIT ${limit})`;
		let total = 0;
		for (;;) {
			const deleted = await this.core.write((w) => w.tx.run(sql, [before]));
			total += deleted;
			if (deleted < limit) return total;
		}
	}
}
