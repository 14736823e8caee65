/* Shared by the tests that open real databases (ledger, engine, node tests): where PostgreSQL is,
 * fresh schemas and files, and both ledger backends for one test file. */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { afterAll } from 'vitest';
import {
	type LedgerStore,
	openPostgresLedger,
	openSqliteLedger,
	type PostgresLedgerConfig,
} from '../../engine/ledger';

export const PG_URL = process.env.LEDGER_TEST_PG_URL || 'postgres://postgres@127.0.0.1:5432/test';
export const IN_CI = process.env.CI === 'true';

const PROBE = `
const { Client } = require('pg');
const client = new Client({ connectionString: process.argv[1], connectionTimeoutMillis: 3000 });
client.connect().then(() => client.query('SELECT 1')).then(
	() => { process.stdout.write('ok'); return client.end(); },
	(error) => { process.stdout.write(String((error && error.message) || error)); },
);`;

/** Null when reachable, else why not. Synchronous (a short child process), so test files can decide at collection time. */
export function pgProblem(): string | null {
	const probe = spawnSync(process.execPath, ['-e', PROBE, PG_URL], {
		cwd: join(__dirname, '..', '..'),
		encoding: 'utf8',
		timeout: 10_000,
	});
	const out = (probe.stdout ?? '').trim();
	return out === 'ok' ? null : out || probe.stderr?.trim() || `probe exited with ${probe.status}`;
}

/** Locally an unreachable server skips loudly; under CI=true it fails the run. */
export function pgAvailability(): { available: boolean; problem: string | null } {
	const problem = pgProblem();
	if (problem && !IN_CI) {
		console.warn(
			`\n!!!!!!!!!!\n!!! PostgreSQL ledger tests SKIPPED: no server at ${PG_URL} (${problem}).\n!!! Set LEDGER_TEST_PG_URL or start PostgreSQL; under CI=true this fails.\n!!!!!!!!!!\n`,
		);
	}
	return { available: problem === null, problem };
}

export function randomSchema(prefix = 'ledger_test'): string {
	return `${prefix}_${randomBytes(6).toString('hex')}`;
}

export async function dropSchema(schema: string): Promise<void> {
	const client = new Client({ connectionString: PG_URL });
	await client.connect();
	try {
		await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
	} finally {
		await client.end();
	}
}

export async function pgQuery<T = Record<string, unknown>>(
	schema: string,
	sql: string,
	params: unknown[] = [],
): Promise<T[]> {
	const client = new Client({ connectionString: PG_URL, options: `-c search_path=${schema}` });
	await client.connect();
	try {
		return (await client.query(sql, params)).rows as T[];
	} finally {
		await client.end();
	}
}

export function tempDir(): { dir: string; remove: () => void } {
	const dir = mkdtempSync(join(tmpdir(), 'ledger-test-'));
	return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export function pgConfig(schema: string): PostgresLedgerConfig {
	return { backend: 'postgres', connectionString: PG_URL, schema, poolSize: 8 };
}

/**
 * The two backends a reward or referral test runs against, as `[name, open]` pairs: each `open()`
 * gives a fresh ledger (a temporary SQLite file, or a random PostgreSQL schema named after
 * `schemaPrefix`), and everything opened is closed, dropped and removed after the file's tests.
 */
export function ledgerBackends(schemaPrefix: string): Array<[string, () => Promise<LedgerStore>]> {
	return reopenableLedgerBackends(schemaPrefix).map(([name, open]) => [
		name,
		async () => (await open()).ledger,
	]);
}

/** A fresh ledger and a way to change its database behind its back, then open it again (migrating it). */
export interface ReopenableLedger {
	ledger: LedgerStore;
	/** Closes the ledger, runs SQL on its database directly, then opens it again (migrating it). */
	reopenAfter: (statements: string[]) => Promise<LedgerStore>;
}

/**
 * Like ledgerBackends, for migration tests: each `open()` also gives `reopenAfter`, which runs SQL
 * on the database directly (drop a table, roll the recorded version back) and opens it again.
 */
export function reopenableLedgerBackends(
	schemaPrefix: string,
): Array<[string, () => Promise<ReopenableLedger>]> {
	const opened: LedgerStore[] = [];
	const schemas: string[] = [];
	const dirs: Array<() => void> = [];
	afterAll(async () => {
		// A ledger reopened after a change was closed once already.
		await Promise.all(opened.map((l) => l.close().catch(() => undefined)));
		// A schema is only made once PostgreSQL answered, so the ones listed can be dropped.
		await Promise.all(schemas.map(dropSchema));
		for (const remove of dirs) remove();
	});
	const keep = (ledger: LedgerStore) => (opened.push(ledger), ledger);
	return [
		[
			'SQLite',
			async () => {
				const { dir, remove } = tempDir();
				dirs.push(remove);
				const path = `${dir}/ledger.sqlite`;
				const ledger = keep(await openSqliteLedger({ backend: 'sqlite', path }));
				return {
					ledger,
					reopenAfter: async (statements) => {
						await ledger.close();
						const db = new DatabaseSync(path);
						for (const sql of statements) db.exec(sql);
						db.close();
						return keep(await openSqliteLedger({ backend: 'sqlite', path }));
					},
				};
			},
		],
		[
			'PostgreSQL',
			async () => {
				const schema = randomSchema(schemaPrefix);
				schemas.push(schema);
				const ledger = keep(await openPostgresLedger(pgConfig(schema)));
				return {
					ledger,
					reopenAfter: async (statements) => {
						await ledger.close();
						for (const sql of statements) await pgQuery(schema, sql);
						return keep(await openPostgresLedger(pgConfig(schema)));
					},
				};
			},
		],
	];
}
