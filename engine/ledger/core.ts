/* The core every table shares: the driver and the clock, reads and writes (a write flushes the
 * messages and events it owes before its commit), the checks that rows exist, and `mutation()`,
 * the one shape of an idempotent write (input checks, program, key claim, work, receipt). */
import { EngineError } from '../shared/errors';
import { inputObject, keyOf, programIdOf } from './inputs';
import { flushEvents, once, Work } from './once';
import { n, obj, s, toParticipant } from './rows';
import type { Driver, Row, Tx } from './sql';
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
		return this.driver.read(fn);
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
		this.knownPrograms.add(programId);
	}

	/** For ensureProgram: the program exists from now on. */
	knowProgram(programId: string): void {
		this.knownPrograms.add(programId);
	}

	async requireParticipant(
		tx: Tx,
		programId: string,
		id: number,
		field: string,
		lock = false,
	): Promise<ParticipantRecord> {
		const row = await tx.get(
			`SELECT * FROM participants WHERE id = $1 AND program_id = $2${this.lockClause(lock)}`,
			[id, programId],
		);
		if (!row)
			fail(
				'unknown_participant',
				field,
				`${field} ${id} is not a participant of program "${programId}"`,
			);
		return toParticipant(row);
	}

	async requireReferral(
		tx: Tx,
		programId: string,
		id: number,
		field: string,
		lock = false,
	): Promise<Row> {
		const row = await tx.get(
			`SELECT * FROM referrals WHERE id = $1 AND program_id = $2${this.lockClause(lock)}`,
			[id, programId],
		);
		if (!row)
			fail('unknown_referral', field, `${field} ${id} is not a referral of program "${programId}"`);
		return row;
	}

	async requireReward(
		tx: Tx,
		programId: string,
		id: number,
		field: string,
		lock = false,
	): Promise<Row> {
		const row = await tx.get(
			`SELECT * FROM rewards WHERE id = $1 AND program_id = $2${this.lockClause(lock)}`,
			[id, programId],
		);
		if (!row)
			fail('unknown_reward', field, `${field} ${id} is not a reward of program "${programId}"`);
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
