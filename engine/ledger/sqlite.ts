/* SQLite backend through Node's built-in node:sqlite (no native dependency).
 * One DatabaseSync per file per process. WAL lets readers run beside the single writer; writes use
 * BEGIN IMMEDIATE (the write lock up front, so no transaction fails half-way on an upgrade) and a
 * retry loop with backoff around SQLITE_BUSY, so concurrent executions or processes on one file
 * wait their turn instead of surfacing "database is locked". */
import { closeSync, mkdirSync, openSync, readSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { EngineError } from '../shared/errors';
import { SqlLedger } from './sqlLedger';
import { DDL_TYPES, MIGRATIONS, MIGRATIONS_TABLE } from './schema';
import {
	backoffMs,
	sleep,
	type Dialect,
	type Driver,
	type Row,
	type SqlValue,
	type Tx,
	type WriteOptions,
} from './sql';
import type { OpenOptions, SqliteLedgerConfig } from './store';

const DIALECT: Dialect = { name: 'sqlite', forUpdate: '', maxParams: 30_000 };
const STATEMENT_CACHE = 500;
const CACHE_KIB = 32 * 1024;

function loadSqlite(): typeof import('node:sqlite') {
	try {
		// Loaded on first use so the PostgreSQL backend also works where node:sqlite is missing.
		// eslint-disable-next-line @typescript-eslint/no-require-imports
		return require('node:sqlite') as typeof import('node:sqlite');
	} catch (error) {
		throw new EngineError(
			'sqlite_unavailable',
			`the built-in SQLite ledger needs Node.js 22.13 or later (node:sqlite; this is ${process.version}); choose a PostgreSQL credential instead`,
			{
				cause: error,
			},
		);
	}
}

/** SQLITE_BUSY (5) or SQLITE_LOCKED (6), including their extended codes. */
export function isBusy(error: unknown): boolean {
	const e = error as { errcode?: unknown; message?: unknown } | null;
	if (typeof e?.errcode === 'number') return (e.errcode & 0xff) === 5 || (e.errcode & 0xff) === 6;
	return /database (table )?is locked|SQLITE_BUSY/i.test(String(e?.message ?? ''));
}

/** In-process queue: one transaction at a time per database file. */
class Mutex {
	private tail: Promise<unknown> = Promise.resolve();

	run<T>(fn: () => Promise<T>): Promise<T> {
		const result = this.tail.then(fn);
		this.tail = result.catch(() => undefined);
		return result;
	}
}

/* Shared by every connection to one file in this process: transactions of two connections
 * interleaving at their awaits would make one block synchronously on the other's lock. */
const fileMutexes = new Map<string, Mutex>();

function mutexFor(path: string): Mutex {
	const key = path === ':memory:' ? `:memory:${fileMutexes.size}` : resolve(path);
	let mutex = fileMutexes.get(key);
	if (!mutex) {
		mutex = new Mutex();
		fileMutexes.set(key, mutex);
	}
	return mutex;
}

class SqliteDriver implements Driver {
	readonly dialect = DIALECT;
	private readonly statements = new Map<string, StatementSync>();
	private readonly tx: Tx;
	private closed = false;

	constructor(
		private readonly db: DatabaseSync,
		private readonly lockWaitMs: number,
		private readonly mutex: Mutex,
	) {
		const run = (sql: string, params: readonly SqlValue[]) => this.prepare(sql).run(...params);
		this.tx = {
			all: async <T = Row>(sql: string, params: readonly SqlValue[] = []) =>
				this.prepare(sql).all(...params) as T[],
			get: async <T = Row>(sql: string, params: readonly SqlValue[] = []) =>
				this.prepare(sql).get(...params) as T | undefined,
			run: async (sql: string, params: readonly SqlValue[] = []) =>
				Number(run(sql, params).changes),
			savepoint: async <T>(fn: () => Promise<T>) => {
				this.db.exec('SAVEPOINT ledger_step');
				try {
					const result = await fn();
					this.db.exec('RELEASE ledger_step');
					return result;
				} catch (error) {
					this.db.exec('ROLLBACK TO ledger_step; RELEASE ledger_step');
					throw error;
				}
			},
		};
	}

	private prepare(sql: string): StatementSync {
		let statement = this.statements.get(sql);
		if (!statement) {
			statement = this.db.prepare(sql.replace(/\$(\d+)/g, '?$1'));
			if (this.statements.size >= STATEMENT_CACHE)
				this.statements.delete(this.statements.keys().next().value!);
			this.statements.set(sql, statement);
		}
		return statement;
	}

	private rollback(): void {
		try {
			this.db.exec('ROLLBACK');
		} catch {
			// No transaction was open (BEGIN failed or SQLite already rolled back).
		}
	}

	private busyError(cause: unknown): EngineError {
		return new EngineError(
			'ledger_busy',
			`the SQLite ledger stayed locked by other writers for ${Math.round(this.lockWaitMs / 1000)} s; try again or move to PostgreSQL for heavy concurrency`,
			{
				cause,
			},
		);
	}

	write<T>(fn: (tx: Tx) => Promise<T>, options: WriteOptions<T> = {}): Promise<T> {
		return this.mutex.run(async () => {
			const deadline = Date.now() + this.lockWaitMs;
			for (let attempt = 0; ; attempt++) {
				try {
					this.db.exec('BEGIN IMMEDIATE');
				} catch (error) {
					if (!isBusy(error)) throw error;
					if (Date.now() >= deadline) throw this.busyError(error);
					await sleep(backoffMs(attempt, 1, 50));
					continue;
				}
				try {
					// fn awaits only this connection's already-settled promises, so nothing else runs on it meanwhile.
					const result = await fn(this.tx);
					this.db.exec('COMMIT');
					options.onCommit?.(result);
					return result;
				} catch (error) {
					this.rollback();
					if (!isBusy(error)) throw error;
					if (Date.now() >= deadline) throw this.busyError(error);
					await sleep(backoffMs(attempt, 1, 50));
				}
			}
		});
	}

	read<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
		return this.mutex.run(async () => {
			const deadline = Date.now() + this.lockWaitMs;
			for (let attempt = 0; ; attempt++) {
				try {
					return await fn(this.tx);
				} catch (error) {
					// WAL readers are only blocked while a crashed writer's WAL is being recovered.
					if (!isBusy(error)) throw error;
					if (Date.now() >= deadline) throw this.busyError(error);
					await sleep(backoffMs(attempt, 1, 50));
				}
			}
		});
	}

	async lock(): Promise<void> {
		// BEGIN IMMEDIATE already made this the only writer on the file.
	}

	isUniqueViolation(error: unknown): boolean {
		return /UNIQUE constraint failed/.test(String((error as Error | null)?.message ?? ''));
	}

	isRetryable(error: unknown): boolean {
		return isBusy(error);
	}

	/** Applies pending migrations inside one write transaction: the write lock is the migration lock. */
	async migrate(now: number): Promise<void> {
		// Every migration not yet recorded, in order: also one numbered below the ledger's latest
		// (two lines of development that each added a migration, merged in either order).
		const applied = () =>
			new Set(
				(
					this.db.prepare('SELECT version FROM ledger_migrations').all() as Array<{
						version: number;
					}>
				).map((row) => Number(row.version)),
			);
		const pending = await this.read(async () => {
			this.db.exec(MIGRATIONS_TABLE);
			const done = applied();
			return MIGRATIONS.some((m) => !done.has(m.version));
		}).catch(() => true);
		if (!pending) return;
		await this.write(async () => {
			this.db.exec(MIGRATIONS_TABLE);
			const done = applied();
			for (const migration of MIGRATIONS) {
				if (done.has(migration.version)) continue;
				for (const statement of migration.statements(DDL_TYPES.sqlite)) this.db.exec(statement);
				this.db
					.prepare('INSERT INTO ledger_migrations (version, name, applied_at) VALUES (?, ?, ?)')
					.run(migration.version, migration.name, now);
			}
		});
	}

	async close(): Promise<void> {
		await this.mutex.run(async () => {
			if (this.closed) return;
			this.closed = true;
			this.statements.clear();
			this.db.close();
		});
	}
}

async function retryBusy(fn: () => void, lockWaitMs: number): Promise<void> {
	const deadline = Date.now() + lockWaitMs;
	for (let attempt = 0; ; attempt++) {
		try {
			return fn();
		} catch (error) {
			if (!isBusy(error) || Date.now() >= deadline) throw error;
			await sleep(backoffMs(attempt, 1, 50));
		}
	}
}

const SQLITE_HEADER = 'SQLite format 3\u0000';

/** The first bytes of an existing, non-empty file; undefined when there is none (a new ledger). */
function fileStart(path: string): Buffer | undefined {
	if (path === ':memory:') return undefined;
	let size: number;
	try {
		size = statSync(path).size;
	} catch {
		return undefined;
	}
	if (size === 0) return undefined;
	const fd = openSync(path, 'r');
	try {
		const head = Buffer.alloc(16);
		readSync(fd, head, 0, 16, 0);
		return head;
	} finally {
		closeSync(fd);
	}
}

function notALedger(path: string, why: string): EngineError {
	return new EngineError(
		'not_a_ledger',
		`${path} is not a referral ledger (${why}); it was left untouched. Choose a new file name for the ledger, or the file this ledger created.`,
		{ field: 'path' },
	);
}

/**
 * Refuses an existing file that is not a ledger, before anything writes to it: no WAL switch, no
 * tables added. A ledger is a SQLite database with the migrations table, or an empty one.
 */
function assertLedgerFile(path: string, db: DatabaseSync | undefined): void {
	if (db === undefined) {
		const head = fileStart(path);
		if (head !== undefined && head.toString('latin1') !== SQLITE_HEADER)
			throw notALedger(path, 'it is not a SQLite database');
		return;
	}
	const tables = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).all() as Array<{
		name: string;
	}>;
	if (tables.length > 0 && !tables.some((t) => t.name === 'ledger_migrations')) {
		throw notALedger(
			path,
			`it holds other tables: ${tables
				.slice(0, 5)
				.map((t) => t.name)
				.join(', ')}${tables.length > 5 ? ', …' : ''}`,
		);
	}
}

/** Opens (creating and migrating if needed) a SQLite ledger. Prefer the cached `openLedger`. */
export async function openSqliteLedger(
	config: SqliteLedgerConfig,
	options: OpenOptions = {},
): Promise<SqlLedger> {
	const { DatabaseSync } = loadSqlite();
	const path = config.path;
	if (typeof path !== 'string' || path.trim() === '')
		throw new EngineError('required', 'path is required: the SQLite ledger file', {
			field: 'path',
		});
	const lockWaitMs = config.lockWaitMs ?? 30_000;
	let db: DatabaseSync;
	try {
		if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
		assertLedgerFile(path, undefined);
		db = new DatabaseSync(path, {
			timeout: config.busyTimeoutMs ?? 50,
			enableForeignKeyConstraints: true,
		});
	} catch (error) {
		if (error instanceof EngineError) throw error;
		throw new EngineError(
			'ledger_unavailable',
			`could not open the SQLite ledger at ${path}: ${(error as Error).message}`,
			{ field: 'path', cause: error },
		);
	}
	try {
		await retryBusy(() => assertLedgerFile(path, db), lockWaitMs);
		await retryBusy(() => db.exec('PRAGMA journal_mode = WAL'), lockWaitMs);
		db.exec(`PRAGMA synchronous = ${config.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
		// Unique indexes on random codes touch pages all over the tree: keep more of them in memory
		// (the cache grows only as used), and keep savepoint journals off the disk.
		db.exec(`PRAGMA cache_size = -${CACHE_KIB}; PRAGMA temp_store = MEMORY`);
		const driver = new SqliteDriver(db, lockWaitMs, mutexFor(path));
		await driver.migrate((options.now ?? Date.now)());
		return new SqlLedger(driver, options.now);
	} catch (error) {
		db.close();
		throw error;
	}
}
