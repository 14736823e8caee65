/* Codes issued and persisted per second, in batches, through the ledger (unique per program,
 * collision retry, idempotency record per batch) against plain batched INSERTs of the same rows
 * through the same driver in the same run: node:sqlite with one writer, pg with 4 concurrent writers.
 *
 * Two baselines, both the ledger's own multi-row statement shape (1,000 rows per statement, one
 * transaction per batch), without ON CONFLICT, RETURNING, retry or idempotency record:
 * - into the ledger's own `codes` table (its unique index included): what the guarantees cost.
 *   This row carries the issue's target: at least half the baseline's throughput.
 * - into an index-free table: shown for reference, it also prices the unique index itself, which
 *   random codes make expensive on any B-tree (see engine/ledger/README.md, "Throughput").
 * Every timed run gets fresh, already-migrated databases (setup is not timed, table growth favours
 * no side); baselines and ledger alternate so they meet the same background load. */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { Client, Pool } from 'pg';
import { openPostgresLedger, openSqliteLedger, type LedgerStore } from '../engine/ledger';
import { bestOf, report } from './lib';

const BATCH = Number(process.env.LEDGER_BENCH_BATCH ?? 1000);
/** Rows per INSERT statement on every side (the ledger's own chunk size). */
const CHUNK = 1000;
const CODES = 100_000;
const PG_WRITERS = 4;
const REPEATS = 3;
const PG_URL = process.env.LEDGER_TEST_PG_URL || 'postgres://postgres@127.0.0.1:5432/test';
const ALPHABET = '23456789ABCDEFGHJKLMNPQRSTUVWXYZ';
const SUBJECT =
	'engine/ledger issueCodes (unique per program, collision retry, idempotency key per batch)';

/** 10 characters over 32 symbols (50 bits) from the CSPRNG, buffered: the same generator for every side. */
function codeGenerator(): () => string {
	let buffer = Buffer.alloc(0);
	let at = 0;
	return () => {
		if (at + 10 > buffer.length) {
			buffer = randomBytes(64 * 1024);
			at = 0;
		}
		let code = '';
		for (let i = 0; i < 10; i++) code += ALPHABET[buffer[at++] & 31];
		return code;
	};
}

const generate = codeGenerator();
const chunkCodes = () => Array.from({ length: CHUNK }, generate);
const COLUMNS =
	'program_id, code, owner_id, status, expires_at, max_uses, uses, created_at, updated_at';
const INDEX_FREE_TABLE = `(id INTEGER PRIMARY KEY, program_id TEXT NOT NULL, code TEXT NOT NULL, owner_id BIGINT, status TEXT NOT NULL, expires_at BIGINT, max_uses INTEGER, uses INTEGER NOT NULL, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL)`;

function plainInsert(table: string, placeholder: (n: number) => string): string {
	const values = Array.from(
		{ length: CHUNK },
		(_, i) =>
			`(${placeholder(1)}, ${placeholder(i + 6)}, ${placeholder(2)}, 'active', ${placeholder(3)}, ${placeholder(4)}, 0, ${placeholder(5)}, ${placeholder(5)})`,
	);
	return `INSERT INTO ${table} (${COLUMNS}) VALUES ${values.join(', ')}`;
}

type Side = (run: number) => unknown;

/** Runs 0..REPEATS of every side in turn; run 0 warms up; each side's best run counts. */
async function alternate(sides: Side[]): Promise<number[]> {
	const best = sides.map(() => Infinity);
	for (let run = 0; run <= REPEATS; run++) {
		for (const [i, side] of sides.entries()) {
			const seconds = await bestOf(1, () => side(run), 0);
			if (run > 0) best[i] = Math.min(best[i], seconds);
		}
	}
	return best;
}

function rows(
	backend: string,
	writers: string,
	sameTable: number,
	indexFree: number,
	ledger: number,
	driver: string,
): void {
	const rate = (s: number) => `${Math.round(CODES / s).toLocaleString('en-US')} codes/s`;
	const name = `issue ${CODES.toLocaleString('en-US')} codes in batches of ${BATCH.toLocaleString('en-US')} (${backend}, ${writers})`;
	report({
		name,
		baseline: `${driver} plain batched INSERT into the ledger's codes table (unique index, no retry, no idempotency)`,
		baselineSeconds: sameTable,
		subject: SUBJECT,
		subjectSeconds: ledger,
		target: 0.5,
		note: `${rate(ledger)} vs ${rate(sameTable)}`,
	});
	report({
		name: `${name}, reference`,
		baseline: `${driver} plain batched INSERT into an index-free table (no uniqueness at all)`,
		baselineSeconds: indexFree,
		subject: SUBJECT,
		subjectSeconds: ledger,
		note: `${rate(ledger)} vs ${rate(indexFree)}; prices the unique index too`,
	});
}

// ---------- SQLite ----------

async function sqliteBench(dir: string): Promise<void> {
	const ledgers: LedgerStore[] = [];
	const sameTables: DatabaseSync[] = [];
	const indexFree: DatabaseSync[] = [];
	const open = (path: string) => {
		const db = new DatabaseSync(path);
		db.exec(
			'PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -32768; PRAGMA temp_store = MEMORY;',
		);
		return db;
	};
	for (let run = 0; run <= REPEATS; run++) {
		const ledger = await openSqliteLedger({
			backend: 'sqlite',
			path: join(dir, `ledger-${run}.sqlite`),
		});
		await ledger.ensureProgram({ id: 'bench' });
		ledgers.push(ledger);
		const same = await openSqliteLedger({
			backend: 'sqlite',
			path: join(dir, `same-${run}.sqlite`),
		});
		await same.ensureProgram({ id: 'bench' });
		await same.close();
		sameTables.push(open(join(dir, `same-${run}.sqlite`)));
		const free = open(join(dir, `free-${run}.sqlite`));
		free.exec(`CREATE TABLE plain_codes ${INDEX_FREE_TABLE}`);
		indexFree.push(free);
	}
	const plain = (dbs: DatabaseSync[], table: string) => (run: number) => {
		const db = dbs[run];
		const insert = db.prepare(plainInsert(table, (n) => `?${n}`));
		for (let b = 0; b < CODES / BATCH; b++) {
			db.exec('BEGIN IMMEDIATE');
			for (let c = 0; c < BATCH / CHUNK; c++)
				insert.run('bench', null, null, null, Date.now(), ...chunkCodes());
			db.exec('COMMIT');
		}
	};
	const [same, free, ledger] = await alternate([
		plain(sameTables, 'codes'),
		plain(indexFree, 'plain_codes'),
		async (run) => {
			for (let b = 0; b < CODES / BATCH; b++)
				await ledgers[run].issueCodes(BATCH, {
					programId: 'bench',
					generate,
					idempotencyKey: `batch-${b}`,
				});
		},
	]);
	if ((await ledgers[1].listCodes({ programId: 'bench', limit: 1 })).length !== 1)
		throw new Error('the ledger stored no codes');
	for (const l of ledgers) await l.close();
	for (const db of [...sameTables, ...indexFree]) db.close();
	rows('SQLite', '1 writer', same, free, ledger, 'node:sqlite');
}

// ---------- PostgreSQL ----------

async function pgProblem(): Promise<string | null> {
	const client = new Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 });
	try {
		await client.connect();
		return null;
	} catch (error) {
		return (error as Error).message;
	} finally {
		await client.end().catch(() => undefined);
	}
}

/** `batches` batches spread over PG_WRITERS concurrent loops. */
async function concurrently(batches: number, batch: (n: number) => Promise<void>): Promise<void> {
	let next = 0;
	await Promise.all(
		Array.from({ length: PG_WRITERS }, async () => {
			for (let n = next++; n < batches; n = next++) await batch(n);
		}),
	);
}

async function pgBench(): Promise<void> {
	const tag = randomBytes(4).toString('hex');
	const schema = (kind: string, run: number) => `bench_${kind}_${tag}_${run}`;
	const schemas: string[] = [];
	const ledgers: LedgerStore[] = [];
	const admin = new Client({ connectionString: PG_URL });
	await admin.connect();
	const pool = new Pool({ connectionString: PG_URL, max: PG_WRITERS });
	try {
		for (let run = 0; run <= REPEATS; run++) {
			schemas.push(schema('ledger', run), schema('same', run), schema('free', run));
			const ledger = await openPostgresLedger({
				backend: 'postgres',
				connectionString: PG_URL,
				schema: schema('ledger', run),
				poolSize: PG_WRITERS,
			});
			await ledger.ensureProgram({ id: 'bench' });
			ledgers.push(ledger);
			const same = await openPostgresLedger({
				backend: 'postgres',
				connectionString: PG_URL,
				schema: schema('same', run),
			});
			await same.ensureProgram({ id: 'bench' });
			await same.close();
			await admin.query(`CREATE SCHEMA ${schema('free', run)}`);
			await admin.query(
				`CREATE TABLE ${schema('free', run)}.plain_codes ${INDEX_FREE_TABLE.replace('INTEGER PRIMARY KEY', 'BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY')}`,
			);
		}
		const batches = CODES / BATCH;
		const plain = (table: (run: number) => string) => (run: number) => {
			const sql = plainInsert(table(run), (n) => `$${n}`);
			return concurrently(batches, async () => {
				const client = await pool.connect();
				try {
					await client.query('BEGIN');
					for (let c = 0; c < BATCH / CHUNK; c++)
						await client.query(sql, ['bench', null, null, null, Date.now(), ...chunkCodes()]);
					await client.query('COMMIT');
				} finally {
					client.release();
				}
			});
		};
		const [same, free, ledger] = await alternate([
			plain((run) => `${schema('same', run)}.codes`),
			plain((run) => `${schema('free', run)}.plain_codes`),
			(run) =>
				concurrently(batches, async (n) => {
					await ledgers[run].issueCodes(BATCH, {
						programId: 'bench',
						generate,
						idempotencyKey: `batch-${n}`,
					});
				}),
		]);
		rows('PostgreSQL', `${PG_WRITERS} concurrent writers`, same, free, ledger, 'pg');
	} finally {
		for (const l of ledgers) await l.close();
		await pool.end();
		for (const s of schemas) await admin.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
		await admin.end();
	}
}

async function main(): Promise<void> {
	const dir = mkdtempSync(join(tmpdir(), 'ledger-bench-'));
	try {
		await sqliteBench(dir);
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
	const problem = await pgProblem();
	if (problem) {
		process.stderr.write(`PostgreSQL ledger bench skipped: no server at ${PG_URL} (${problem})\n`);
		if (process.env.CI === 'true') process.exitCode = 1;
		return;
	}
	await pgBench();
}

main().catch((error) => {
	process.stderr.write(`${(error as Error).stack}\n`);
	process.exit(1);
});
