/* The core every table shares: the driver and the clock, reads and writes (a write flushes the
 * messages and events it owes before its commit), the checks that rows exist, and `mutation()`,
 * the one shape of an idempotent write (input checks, program, key claim, work, receipt). */
import { AsyncLocalStorage } from 'node:async_hooks';
import { EngineError } from '../shared/errors';
import { inputObject, keyOf, programIdOf } from './inputs';
import { appendEvents, flushEvents, once, type PendingEvent, Work } from './once';
import { PendingRollups } from './pendingRollups';
import { n, obj, s, toParticipant } from './rows';
import { backoffMs, type Driver, type Row, sleep, type Tx } from './sql';
import type { ParticipantRecord } from './store';
import * as v from './validate';
import { fail } from './validate';

export { Work } from './once';

/** What a mutation does, once its input is checked; `mutation()` runs it idempotently in one write. */
export interface Plan<Receipt, R> {
	/**
	 * The caller's key. Omitted: the input's `idempotencyKey`, checked after the plan's own fields.
	 * Given (also as undefined): a plan that checked the key itself, or wants none.
	 */
	key?: string | undefined;
	/** The request as the caller meant it, for the fingerprint of an explicit key (once.ts). */
	request: Record<string, unknown>;
	/** Derives the default key; omit for operations idempotent by their natural key. */
	derive?: () => string;
	/** Checks inside the transaction before the key is claimed (rows the input names). */
	enter?: (w: Work) => Promise<void>;
	/** Does the work; a null receipt means "nothing happened, do not remember the key". */
	run: (w: Work) => Promise<{ receipt: Receipt | null; result: R }>;
	/** Rebuilds the result of an earlier call from its receipt. */
	replay: (receipt: Receipt, w: Work) => Promise<R>;
}

/** A mutation not tied to a program (suppressions, scoring models), or optionally tied (events). */
export interface GlobalPlan<Receipt, R> extends Plan<Receipt, R> {
	/** A program the mutation belongs to, checked to exist; its key is claimed under it. */
	programId?: string;
}

type MutationInput = { programId?: unknown; idempotencyKey?: unknown };

/** Runs one item's work inside a batch: its writes are undone alone if it throws. */
export type BatchItem = <T>(work: () => Promise<T>) => Promise<T>;

/**
 * An open batch (`LedgerCore.batch`): the one transaction the writes and reads of its items join,
 * and what the items done so far owe at its commit.
 */
interface Batch {
	readonly driver: Driver;
	/** The batch's transaction: its savepoints also undo the rollup marks of what they roll back. */
	readonly tx: Tx;
	/** The rollups its items owe, put back at its end (or before a read of them). */
	readonly pending: PendingRollups;
	/** False once the batch ended: a late callback (a timer started inside) takes the ordinary path. */
	open: boolean;
	/**
	 * The items' events, appended at the batch's end: the outbox lock is taken last, as in a single
	 * write (taken at the first item, later items would lock rows after it: deadlocks).
	 */
	readonly events: PendingEvent[];
	/** The items' onCommit callbacks, run once the batch committed. */
	readonly commits: Array<() => void>;
	/** A conflict that makes the whole batch run again; later items then fail with it at once. */
	conflict?: unknown;
}

const batches = new AsyncLocalStorage<Batch>();

/**
 * Thrown inside a batch instead of waiting for something another execution holds (an in-process
 * lock, a lease): waiting while the batch holds the ledger's write lock could wait forever. The
 * batch rolls back, lets the holder finish and runs again.
 */
export class BatchConflict extends EngineError {
	constructor(what: string) {
		super('ledger_busy', `${what} is held by another execution; the batch runs again`);
	}
}

/**
 * Thrown inside a batch by a write that cannot join one (an event that must go into the outbox at
 * once, in its place among the others): the batch rolls back and its items run again one
 * transaction each, as without a batch.
 */
export class BatchFallback extends EngineError {
	constructor(what: string) {
		super('ledger_busy', `${what} cannot join a batch; the items run one transaction each`);
	}
}

const BATCH_CONFLICT_WAIT_MS = 30_000;

export class LedgerCore {
	readonly backend: 'sqlite' | 'postgres';
	/** Programs are never deleted, so one that was seen once need not be checked again. */
	private readonly knownPrograms = new Set<string>();

	constructor(
		readonly driver: Driver,
		readonly now: () => number = Date.now,
	) {
		this.backend = driver.dialect.name;
	}

	/** `FOR UPDATE` where rows must be locked for a read-then-write, empty where writers are serialised. */
	lockClause(lock: boolean): string {
		return lock ? this.driver.dialect.forUpdate : '';
	}

	write<T>(fn: (w: Work) => Promise<T>, onCommit?: (result: T) => void): Promise<T> {
		const batch = this.openBatch();
		if (batch) return this.writeInBatch(batch, fn, onCommit);
		return this.driver.write(
			async (tx) => {
				const w = new Work(tx, this.now());
				const result = await fn(w);
				await this.flushOwed(w);
				await flushEvents(this.driver, w);
				return result;
			},
			onCommit ? { onCommit } : undefined,
		);
	}

	read<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
		// Inside a batch, reads see its writes so far (and on SQLite the batch holds the connection).
		const batch = this.openBatch();
		if (batch) return fn(batch.tx);
		return this.driver.read(fn);
	}

	/** A read of the rollups (statistics, cap usage): inside a batch, what its items changed is counted first. */
	async readRollups<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
		const batch = this.openBatch();
		if (!batch) return this.driver.read(fn);
		await batch.pending.settle(batch.tx);
		return fn(batch.tx);
	}

	/** The batch the caller runs in, if it is open and on this ledger's driver. */
	private openBatch(): Batch | undefined {
		const batch = batches.getStore();
		return batch?.open && batch.driver === this.driver ? batch : undefined;
	}

	/** True while the caller runs inside a batch of this ledger (it must not wait on other executions). */
	inBatch(): boolean {
		return this.openBatch() !== undefined;
	}

	/** For a write that cannot join a batch: inside one, ends it (its items run unbatched). */
	leaveBatch(what: string): void {
		const batch = this.openBatch();
		if (!batch) return;
		const error = new BatchFallback(what);
		batch.conflict ??= error;
		throw error;
	}

	/**
	 * Runs `fn` in one write transaction that every write and read of this ledger made inside it
	 * joins: N items' writes commit together instead of one transaction each. `item(work)` runs one
	 * item in a savepoint: when it throws, only that item's writes are undone and the batch goes on;
	 * each write inside it keeps its own savepoint, messages owed and receipts, as outside a batch.
	 * Events go into the outbox at the batch's end, in their order; onCommit callbacks run once it
	 * committed. A lock or
	 * serialisation conflict runs the whole batch again (so `fn` must only collect its results), as
	 * does a BatchConflict, after the transaction has been let go.
	 */
	async batch<T>(fn: (item: BatchItem) => Promise<T>): Promise<T> {
		const outer = this.openBatch();
		if (outer) return fn(this.itemRunner(outer));
		const deadline = Date.now() + BATCH_CONFLICT_WAIT_MS;
		for (let attempt = 0; ; attempt++) {
			let batch: Batch | undefined;
			try {
				return await this.driver.write(
					async (tx) => {
						const pending = new PendingRollups(this.backend);
						const current: Batch = {
							driver: this.driver,
							tx: pending.wrap(tx),
							pending,
							open: true,
							events: [],
							commits: [],
						};
						batch = current;
						try {
							const result = await batches.run(current, () => fn(this.itemRunner(current)));
							// A deadlock or serialisation failure of an item: rather than running the whole
							// batch again into the same conflict, its items run one transaction each.
							const conflict = current.conflict;
							if (conflict !== undefined)
								throw conflict instanceof BatchConflict || conflict instanceof BatchFallback
									? conflict
									: new BatchFallback('an item in conflict with another writer');
							await pending.settle(tx);
							await appendEvents(this.driver, tx, current.events);
							return result;
						} finally {
							current.open = false;
						}
					},
					{
						onCommit: () => {
							for (const commit of batch!.commits) commit();
						},
					},
				);
			} catch (error) {
				if (error instanceof BatchConflict && Date.now() < deadline) {
					await sleep(backoffMs(attempt, 2, 100));
					continue;
				}
				// Nothing of the batch was written: its items run as without one, each write its own
				// transaction (retried alone), also when conflicts kept the whole batch from committing.
				if (error instanceof BatchFallback || this.driver.isRetryable(error))
					return fn((work) => work());
				throw error;
			}
		}
	}

	private itemRunner(batch: Batch): BatchItem {
		return async (work) => {
			if (batch.conflict !== undefined) throw batch.conflict;
			const events = batch.events.length;
			const commits = batch.commits.length;
			try {
				return await batch.tx.savepoint(work);
			} catch (error) {
				batch.events.length = events;
				batch.commits.length = commits;
				if (
					error instanceof BatchConflict ||
					error instanceof BatchFallback ||
					this.driver.isRetryable(error)
				)
					batch.conflict ??= error;
				throw error;
			}
		};
	}

	private async writeInBatch<T>(
		batch: Batch,
		fn: (w: Work) => Promise<T>,
		onCommit?: (result: T) => void,
	): Promise<T> {
		const w = new Work(batch.tx, this.now());
		const result = await batch.tx.savepoint(async () => {
			const value = await fn(w);
			await this.flushOwed(w);
			return value;
		});
		for (const e of w.events) batch.events.push({ ...e, createdAt: w.now });
		if (onCommit) batch.commits.push(() => onCommit(result));
		return result;
	}

	/**
	 * A program's idempotent write: the input must be an object, its programId is checked first,
	 * then `plan` checks its own fields, then the key; in the write the program must exist, `enter`
	 * runs, and the work runs once per key (`once`).
	 */
	async mutation<Receipt, R>(
		operation: string,
		input: MutationInput,
		plan: (programId: string) => Plan<Receipt, R>,
	): Promise<R> {
		inputObject(input, operation);
		const programId = programIdOf(input);
		return this.commit(operation, programId, input, plan(programId));
	}

	/** Like `mutation`, for writes whose program is optional (`plan` returns it) or absent. */
	async globalMutation<Receipt, R>(
		operation: string,
		input: MutationInput,
		plan: () => GlobalPlan<Receipt, R>,
	): Promise<R> {
		inputObject(input, operation);
		const p = plan();
		return this.commit(operation, p.programId, input, p);
	}

	private commit<Receipt, R>(
		operation: string,
		programId: string | undefined,
		input: MutationInput,
		p: Plan<Receipt, R>,
	): Promise<R> {
		const key = 'key' in p ? p.key : keyOf(input);
		return this.write(async (w) => {
			if (programId !== undefined) await this.requireProgram(w.tx, programId);
			if (p.enter) await p.enter(w);
			return once<Receipt, R>(w, {
				programId: programId ?? '',
				operation,
				key,
				request: p.request,
				derive: p.derive,
				run: () => p.run(w),
				replay: (receipt) => p.replay(receipt, w),
			});
		});
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
					[
						key,
						programId,
						m.participantId,
						m.channel,
						m.recipient,
						w.now,
						m.topic,
						m.key,
						m.data,
						due,
					],
				);
			if (await insert(m.key)) continue;
			const parts = await w.tx.all(
				`SELECT * FROM messages WHERE msg_group = $1 OR idempotency_key = $1 ORDER BY id DESC${this.driver.dialect.forUpdate}`,
				[m.key],
			);
			const latest = parts[0];
			if (
				latest &&
				latest.msg_group === m.key &&
				s(latest.status) === 'owed' &&
				latest.channel === m.channel
			) {
				if (m.collect.length === 0) continue;
				const data = obj(latest.payload);
				const added = JSON.parse(m.data) as Record<string, unknown>;
				for (const field of m.collect) {
					const before = Array.isArray(data[field]) ? (data[field] as unknown[]) : [];
					const more = Array.isArray(added[field]) ? (added[field] as unknown[]) : [];
					data[field] = [...before, ...more];
				}
				await w.tx.run(`UPDATE messages SET payload = $2, updated_at = $3 WHERE id = $1`, [
					n(latest.id),
					v.jsonObject(data, 'messages.data'),
					w.now,
				]);
				continue;
			}
			// The message went (or is going) out already: what this write adds is a new part.
			for (let part = parts.length; ; part++) {
				if (await insert(`${m.key}~${part}`)) break;
				if (part > parts.length + 100)
					throw new EngineError(
						'ledger_internal',
						`could not add a part to the owed message ${m.key}; retry`,
					);
			}
		}
	}

	async requireProgram(tx: Tx, programId: string): Promise<void> {
		if (this.knownPrograms.has(programId)) return;
		const row = await tx.get(`SELECT id FROM programs WHERE id = $1`, [programId]);
		if (!row)
			fail(
				'unknown_program',
				'programId',
				`programId "${programId}" is not a program of this ledger; create it first (ensureProgram)`,
			);
		this.knowProgram(programId);
	}

	/** For ensureProgram: the program exists from now on (inside a batch: once it committed). */
	knowProgram(programId: string): void {
		const batch = this.openBatch();
		if (batch) batch.commits.push(() => this.knownPrograms.add(programId));
		else this.knownPrograms.add(programId);
	}

	async requireParticipant(
		tx: Tx,
		programId: string,
		id: number,
		field: string,
		lock = false,
	): Promise<ParticipantRecord> {
		return toParticipant(
			await this.requireRow(tx, 'participants', 'participant', programId, id, field, lock),
		);
	}

	async requireReferral(
		tx: Tx,
		programId: string,
		id: number,
		field: string,
		lock = false,
	): Promise<Row> {
		return await this.requireRow(tx, 'referrals', 'referral', programId, id, field, lock);
	}

	async requireReward(
		tx: Tx,
		programId: string,
		id: number,
		field: string,
		lock = false,
	): Promise<Row> {
		return await this.requireRow(tx, 'rewards', 'reward', programId, id, field, lock);
	}

	/** The program's row of `table` by id (locked for update when asked), else `unknown_<what>` naming the field. */
	private async requireRow(
		tx: Tx,
		table: 'participants' | 'referrals' | 'rewards',
		what: 'participant' | 'referral' | 'reward',
		programId: string,
		id: number,
		field: string,
		lock: boolean,
	): Promise<Row> {
		const row = await tx.get(
			`SELECT * FROM ${table} WHERE id = $1 AND program_id = $2${this.lockClause(lock)}`,
			[id, programId],
		);
		if (!row)
			fail(`unknown_${what}`, field, `${field} ${id} is not a ${what} of program "${programId}"`);
		return row;
	}

	/** A row named by an idempotency receipt (it must exist). */
	async loadRow(tx: Tx, table: string, id: number): Promise<Row> {
		const row = await tx.get(`SELECT * FROM ${table} WHERE id = $1`, [id]);
		if (!row)
			throw new EngineError(
				'ledger_internal',
				`${table} row ${id} named by an idempotency receipt is missing`,
			);
		return row;
	}
}
