/* PostgreSQL backend through `pg`, for n8n queue mode (several workers, several machines).
 * A pool per process, READ COMMITTED transactions, unique constraints with ON CONFLICT, row and
 * advisory locks where a read decides a write, and the ledger's tables in their own schema. */
import type { Pool, PoolClient, PoolConfig } from 'pg';
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
import type { OpenOptions, PostgresLedgerConfig } from './store';

const DIALECT: Dialect = { name: 'postgres', forUpdate: ' FOR UPDATE', maxParams: 60_000 };
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
/** serialization_failure, deadlock_detected: the whole transaction is safe to run again. */
const RETRYABLE = new Set(['40001', '40P01']);
const MAX_ATTEMPTS = 8;
const INT8 = 20;
const NUMERIC = 1700;

type PgModule = typeof import('pg');

function loadPg(): PgModule {
	// eslint-disable-next-line @typescript-eslint/no-require-imports
	return require('pg') as PgModule;
}

export function schemaOf(config: PostgresLedgerConfig): string {
	const schema =
		config.schema === undefined || config.schema === '' ? 'referral_ledger' : config.schema;
	if (typeof schema !== 'string' || !SCHEMA_NAME.test(schema)) {
		throw new EngineError(
			'invalid_schema',
			'schema must be a lower-case PostgreSQL name of letters, digits and _ (at most 63, not starting with a digit), e.g. referral_ledger',
			{
				field: 'schema',
			},
		);
	}
	return schema;
}

/** Connection settings for pg; int8 and numeric parse as numbers (times and counts fit in 2^53). */
export function pgConfig(config: PostgresLedgerConfig, schema: string): PoolConfig {
	const pg = loadPg();
	const defaultParser = pg.types.getTypeParser as (oid: number, format?: string) => unknown;
	const getTypeParser = (oid: number, format?: string) =>
		oid === INT8 || oid === NUMERIC ? (value: string) => Number(value) : defaultParser(oid, format);
	return {
		connectionString: config.connectionString || undefined,
		host: config.host || undefined,
		port: config.port || undefined,
		database: config.database || undefined,
		user: config.user || undefined,
		password: config.password || undefined,
		ssl: config.ssl || undefined,
		max: config.poolSize ?? 10,
		idleTimeoutMillis: 30_000,
		connectionTimeoutMillis: 10_000,
		options: `-c search_path=${schema}`,
		application_name: 'n8n-referral-ledger',
		types: { getTypeParser },
	};
}

export function describeTarget(config: PostgresLedgerConfig): string {
	if (config.connectionString) {
		try {
			const url = new URL(config.connectionString);
			return `${url.hostname}:${url.port || 5432}${url.pathname}`;
		} catch {
			return 'the configured connection string';
		}
	}
	return `${config.host ?? 'localhost'}:${config.port ?? 5432}/${config.database ?? ''}`;
}

function unreachable(config: PostgresLedgerConfig, error: unknown): EngineError {
	return new EngineError(
		'ledger_unavailable',
		`could not reach the PostgreSQL ledger at ${describeTarget(config)}: ${(error as Error).message}`,
		{ cause: error },
	);
}

function txOf(client: PoolClient | Pool): Tx {
	// Savepoints ended well but not yet released: their RELEASE goes out in one round trip with the
	// next savepoint command (a batch's next item or write), else just before the next statement
	// (issue #18: each command is a round trip). Nothing runs on the connection in between, so the
	// transaction sees the same; COMMIT and ROLLBACK end them anyway.
	let releases = 0;
	const released = (): string => {
		const sql = 'RELEASE SAVEPOINT ledger_step; '.repeat(releases);
		releases = 0;
		return sql;
	};
	const query = async (sql: string, params: readonly SqlValue[]) => {
		if (releases > 0) await client.query(released());
		return await client.query(sql, params as unknown[]);
	};
	return {
		all: async <T = Row>(sql: string, params: readonly SqlValue[] = []) =>
			(await query(sql, params)).rows as T[],
		get: async <T = Row>(sql: string, params: readonly SqlValue[] = []) =>
			(await query(sql, params)).rows[0] as T | undefined,
		run: async (sql: string, params: readonly SqlValue[] = []) =>
			(await query(sql, params)).rowCount ?? 0,
		savepoint: async <T>(fn: () => Promise<T>) => {
			// A failed statement aborts a PostgreSQL transaction; rolling back to the savepoint revives it.
			await client.query(released() + 'SAVEPOINT ledger_step');
			try {
				const result = await fn();
				releases++;
				return result;
			} catch (error) {
				// Inner savepoints still open are released first, so that ROLLBACK TO reaches this one;
				// this one is released too, so that an enclosing savepoint of the same name is the one a
				// later ROLLBACK TO reaches (a batch item around its writes).
				await client.query(
					released() + 'ROLLBACK TO SAVEPOINT ledger_step; RELEASE SAVEPOINT ledger_step',
				);
				throw error;
			}
		},
	};
}

class PgDriver implements Driver {
	readonly dialect = DIALECT;
	private readonly reader: Tx;

	constructor(
		private readonly pool: Pool,
		private readonly config: PostgresLedgerConfig,
		private readonly schema: string,
	) {
		this.reader = txOf(pool);
	}

	private async connect(): Promise<PoolClient> {
		try {
			return await this.pool.connect();
		} catch (error) {
			throw unreachable(this.config, error);
		}
	}

	async write<T>(fn: (tx: Tx) => Promise<T>, options: WriteOptions<T> = {}): Promise<T> {
		for (let attempt = 0; ; attempt++) {
			const client = await this.connect();
			let broken: Error | undefined;
			let committing = false;
			try {
				await client.query('BEGIN');
				const result = await fn(txOf(client));
				// pg writes the COMMIT to the socket inside query() (the connection is idle here), so
				// onCommit runs with the commit already on its way and nothing else in between.
				const committed = client.query('COMMIT');
				committing = true;
				options.onCommit?.(result);
				await committed;
				return result;
			} catch (error) {
				await client.query('ROLLBACK').catch((e: Error) => (broken = e));
				// A failed COMMIT is never run again: onCommit has already acted on it.
				if (
					committing ||
					!RETRYABLE.has((error as { code?: string }).code ?? '') ||
					attempt + 1 >= MAX_ATTEMPTS
				)
					throw error;
				await sleep(backoffMs(attempt, 5, 200));
			} finally {
				// A connection that could not even roll back is discarded, not reused.
				client.release(broken);
			}
		}
	}

	async read<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
		try {
			return await fn(this.reader);
		} catch (error) {
			const code = (error as { code?: string }).code ?? '';
			if (/^(ECONNREFUSED|ENOTFOUND|ETIMEDOUT|ECONNRESET|EHOSTUNREACH)$/.test(code))
				throw unreachable(this.config, error);
			throw error;
		}
	}

	async lock(tx: Tx, name: string): Promise<void> {
		// Held until COMMIT/ROLLBACK. For the outbox this serialises appends from the moment an
		// event id is drawn until it is visible, so ids appear in commit order and a poller that
		// reads up to MAX(id) can never skip an event that commits later with a lower id.
		await tx.get('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [
			`referral-ledger:${this.schema}:${name}`,
		]);
	}

	isUniqueViolation(error: unknown): boolean {
		return (error as { code?: string } | null)?.code === '23505';
	}

	isRetryable(error: unknown): boolean {
		return RETRYABLE.has((error as { code?: string } | null)?.code ?? '');
	}

	/** Pending migrations under a session advisory lock: one migrator at a time, the rest wait, then find nothing to do. */
	async migrate(now: number): Promise<void> {
		const client = await this.connect();
		try {
			const ready = await client.query(`SELECT to_regclass($1) AS t`, [
				`${this.schema}.ledger_migrations`,
			]);
			if (ready.rows[0].t !== null) {
				const { rows } = await client.query(`SELECT version FROM ledger_migrations`);
				const done = new Set(rows.map((row) => Number(row.version)));
				if (MIGRATIONS.every((m) => done.has(m.version))) return;
			}
			const lockKey = `referral-ledger-migrate:${this.schema}`;
			await client.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [lockKey]);
			try {
				const exists = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [
					this.schema,
				]);
				if (exists.rowCount === 0) await client.query(`CREATE SCHEMA IF NOT EXISTS ${this.schema}`);
				await client.query('BEGIN');
				try {
					await client.query(MIGRATIONS_TABLE);
					// Every migration not yet recorded, in order: also one numbered below the latest
					// applied (two lines of development that each added a migration, merged in either order).
					const { rows } = await client.query(`SELECT version FROM ledger_migrations`);
					const done = new Set(rows.map((row) => Number(row.version)));
					for (const migration of MIGRATIONS) {
						if (done.has(migration.version)) continue;
						for (const statement of migration.statements(DDL_TYPES.postgres))
							await client.query(statement);
						await client.query(
							'INSERT INTO ledger_migrations (version, name, applied_at) VALUES ($1, $2, $3)',
							[migration.version, migration.name, now],
						);
					}
					await client.query('COMMIT');
				} catch (error) {
					await client.query('ROLLBACK').catch(() => undefined);
					throw error;
				}
			} finally {
				await client
					.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [lockKey])
					.catch(() => undefined);
			}
		} finally {
			client.release();
		}
	}

	async close(): Promise<void> {
		await this.pool.end();
	}
}

/** Opens (creating the schema and migrating if needed) a PostgreSQL ledger. Prefer the cached `openLedger`. */
export async function openPostgresLedger(
	config: PostgresLedgerConfig,
	options: OpenOptions = {},
): Promise<SqlLedger> {
	const pg = loadPg();
	const schema = schemaOf(config);
	const pool = new pg.Pool(pgConfig(config, schema));
	// An idle connection dropped by the server must not crash n8n; the pool replaces it.
	pool.on('error', () => undefined);
	const driver = new PgDriver(pool, config, schema);
	try {
		await driver.migrate((options.now ?? Date.now)());
	} catch (error) {
		await pool.end().catch(() => undefined);
		throw error;
	}
	return new SqlLedger(driver, options.now);
}

/** Connects once and runs a trivial query: for the credential test. */
export async function testPostgres(config: PostgresLedgerConfig): Promise<string> {
	const pg = loadPg();
	const client = new pg.Client({
		...pgConfig(config, schemaOf(config)),
		connectionTimeoutMillis: 10_000,
	});
	try {
		await client.connect();
		const { rows } = await client.query('SELECT current_setting($1) AS v', ['server_version']);
		return `PostgreSQL ${rows[0].v}`;
	} catch (error) {
		throw unreachable(config, error);
	} finally {
		await client.end().catch(() => undefined);
	}
}
