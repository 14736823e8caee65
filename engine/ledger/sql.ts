/* The tiny SQL-dialect layer: queries are written once with PostgreSQL-style `$1` parameters;
 * the SQLite driver rewrites them to `?1`. Everything backend-specific (DDL types, locks,
 * transactions, retries) sits behind `Driver`, implemented in sqlite.ts and postgres.ts. */

import type { PendingRollups } from './pendingRollups';

export type SqlValue = string | number | null;
export type Row = Record<string, unknown>;

/** One open transaction (or, for reads, one connection). All SQL is parameterised. */
export interface Tx {
	all<T = Row>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
	get<T = Row>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined>;
	/** Returns the number of rows changed. */
	run(sql: string, params?: readonly SqlValue[]): Promise<number>;
	/** Runs `fn` so that if it throws, only its own statements are undone and the transaction goes on. */
	savepoint<T>(fn: () => Promise<T>): Promise<T>;
	/** Inside a batch: the rollups its items owe, put back at its end (pendingRollups.ts). */
	readonly pending?: PendingRollups;
}

export interface WriteOptions<T> {
	onCommit?: (result: T) => void;
}

export interface Dialect {
	readonly name: 'sqlite' | 'postgres';
	/** Row-lock clause for a read-then-write (`FOR UPDATE`); empty where writers are serialised anyway. */
	readonly forUpdate: string;
	/** Most parameters one statement may carry (with margin). */
	readonly maxParams: number;
}

export interface Driver {
	readonly dialect: Dialect;
	/**
	 * Runs `fn` in a write transaction, retried as a whole on lock/serialisation conflicts.
	 * `onCommit` runs synchronously once the commit is done (SQLite) or has been written to the
	 * server's socket (PostgreSQL: before its answer, so that nothing else runs in between).
	 */
	write<T>(fn: (tx: Tx) => Promise<T>, options?: WriteOptions<T>): Promise<T>;
	/** Runs read-only queries (no transaction needed: each query sees committed data). */
	read<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
	/** Holds a named lock until the transaction ends (no-op where writers are serialised anyway). */
	lock(tx: Tx, name: string): Promise<void>;
	/** True for a unique-constraint violation (a race the caller can resolve by reading the winner). */
	isUniqueViolation(error: unknown): boolean;
	/** True for a lock or serialisation conflict after which the whole transaction may run again. */
	isRetryable(error: unknown): boolean;
	close(): Promise<void>;
}

/** Collects parameters while a query is assembled: `q.p(value)` returns its `$n` placeholder. */
export class Params {
	readonly values: SqlValue[] = [];

	p(value: SqlValue | undefined): string {
		this.values.push(value === undefined ? null : value);
		return '$' + this.values.length;
	}

	list(values: readonly SqlValue[]): string {
		return '(' + values.map((v) => this.p(v)).join(', ') + ')';
	}
}

/** ` AND column >= since AND column < until`, each bound when given: a period [since, until). */
export function timeWindow(q: Params, column: string, since?: number, until?: number): string {
	return (
		(since !== undefined ? ` AND ${column} >= ${q.p(since)}` : '') +
		(until !== undefined ? ` AND ${column} < ${q.p(until)}` : '')
	);
}

/**
 * One number over a program's rows in a time window: `aggregate` (e.g. `COUNT(DISTINCT r.referrer_id)`)
 * over `from` (e.g. `referrals r`) where `<alias>program_id` is the program and `time` falls in
 * [since, until); `and` adds a condition of its own.
 */
export async function aggregateInWindow(
	tx: Tx,
	a: {
		aggregate: string;
		from: string;
		alias?: string;
		time: string;
		programId: string;
		since?: number;
		until?: number;
		and?: string;
	},
): Promise<number> {
	const q = new Params();
	const row = await tx.get(
		`SELECT ${a.aggregate} AS n FROM ${a.from} WHERE ${a.alias ?? ''}program_id = ${q.p(a.programId)}${timeWindow(q, a.time, a.since, a.until)}${a.and ? ` AND ${a.and}` : ''}`,
		q.values,
	);
	return Number(row!.n);
}

export function sleep(ms: number): Promise<void> {
	return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Exponential backoff with full jitter, capped. */
export function backoffMs(attempt: number, baseMs = 2, capMs = 200): number {
	return Math.random() * Math.min(capMs, baseMs * 2 ** attempt);
}
