/* Throughput (issue #18): referrals per second recorded, qualified and awarded through the nodes,
 * as n8n hands them over (one execution per node with every item at once): Referral › Record,
 * Referral › Qualify, Referral Reward › Evaluate (points to both sides), in an in-process n8n
 * execution (harness). Baselines through the same driver, in the same run, on the same rows:
 *  - a plain batched INSERT of one row per referral (its sign-up and order fields), one
 *    transaction, multi-row statements: what the driver itself can write;
 *  - one INSERT per item, each its own transaction: what n8n's Postgres node does with Query
 *    Batching "Independently" (n8n's SQLite-less nodes have no equivalent; on SQLite the same loop
 *    through node:sqlite).
 * THROUGHPUT_COUNT=4000 the referrals per run; THROUGHPUT_BACKENDS=sqlite,postgres the backends
 * (PostgreSQL at LEDGER_TEST_PG_URL or 127.0.0.1:5432/test, skipped when unreachable). */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { DatabaseSync } from 'node:sqlite';
import type { IDataObject } from 'n8n-workflow';
import { Client } from 'pg';
import { closeAllLedgers, type LedgerConfig, openLedger } from '../engine/ledger';
import { ReferralService, saveReferralProgram } from '../engine/referrals';
import { runWorkflow, singleNodeWorkflow } from '../test/harness';
import { report } from './lib';

const COUNT = Number(process.env.THROUGHPUT_COUNT ?? 4_000);
const BACKENDS = (process.env.THROUGHPUT_BACKENDS ?? 'sqlite,postgres').split(',');
const PG_URL = process.env.LEDGER_TEST_PG_URL || 'postgres://postgres@127.0.0.1:5432/test';
const REFERRERS = 100;
const TARGET_PER_SECOND = 2_000;

/** Points to both sides per qualified referral, as the Referral Reward node's form holds them. */
const POINTS_FORM = {
	perReferral: {
		rewards: [
			{ side: 'referrer', on: 'referral_qualified', kind: 'points', points: 100, id: '' },
			{ side: 'referee', on: 'referral_qualified', kind: 'points', points: 50, id: '' },
		],
	},
	programOptions: { currency: 'EUR', holdingDays: 0 },
};

interface SignUp {
	email: string;
	referralCode: string;
	ip: string;
	userAgent: string;
}

function rowsOf(count: number, codes: string[]): { signUps: SignUp[]; orders: IDataObject[] } {
	const signUps = Array.from({ length: count }, (_, i) => ({
		email: `friend${i}@example.org`,
		referralCode: codes[i % codes.length],
		ip: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
		userAgent: `Browser/${i % 50}`,
	}));
	const orders = signUps.map((s, i) => ({
		email: s.email,
		orderId: `order-${i}`,
		amount: 25 + (i % 10),
		currency: 'EUR',
	}));
	return { signUps, orders };
}

async function freshConfig(backend: string): Promise<LedgerConfig> {
	if (backend === 'sqlite')
		return {
			backend: 'sqlite',
			path: path.join(mkdtempSync(path.join(os.tmpdir(), 'rm-bench-tp-')), 'ledger.sqlite'),
		};
	return {
		backend: 'postgres',
		connectionString: PG_URL,
		schema: `bench_tp_${randomBytes(5).toString('hex')}`,
	};
}

/** The Referral Ledger credential's form for a configuration. */
function credentialOf(config: LedgerConfig): Record<string, unknown> {
	if (config.backend === 'sqlite') return config as unknown as Record<string, unknown>;
	return {
		backend: 'postgres',
		connection: 'url',
		connectionStringSecret: config.connectionString,
		schema: config.schema,
	};
}

async function dropSchema(config: LedgerConfig): Promise<void> {
	if (config.backend !== 'postgres') return;
	const client = new Client({ connectionString: PG_URL });
	await client.connect();
	await client.query(`DROP SCHEMA IF EXISTS ${config.schema} CASCADE`);
	await client.end();
}

/** SQL statements sent to the database (SQLite: statements run; PostgreSQL: queries, each a round trip), while counting. */
let statements = 0;

/**
 * Runs `fn` with every statement of the driver counted (node:sqlite's run/get/all/exec, pg's
 * Client.query). Wrapping costs time: counted runs are never the timed ones.
 */
async function counting<T>(fn: () => Promise<T>): Promise<T> {
	const { DatabaseSync: Db } = require('node:sqlite') as { DatabaseSync: typeof DatabaseSync };
	const db = Db.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
	const client = Client.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
	const saved = { prepare: db.prepare, exec: db.exec, query: client.query };
	db.exec = function (this: unknown, ...a: unknown[]) {
		statements++;
		return saved.exec.apply(this, a);
	};
	db.prepare = function (this: unknown, ...a: unknown[]) {
		const statement = saved.prepare.apply(this, a) as Record<string, (...b: unknown[]) => unknown>;
		for (const method of ['run', 'get', 'all']) {
			const original = statement[method];
			statement[method] = (...b: unknown[]) => {
				statements++;
				return original.apply(statement, b);
			};
		}
		return statement;
	};
	client.query = function (this: unknown, ...a: unknown[]) {
		statements++;
		return saved.query.apply(this, a);
	};
	try {
		return await fn();
	} finally {
		db.prepare = saved.prepare;
		db.exec = saved.exec;
		client.query = saved.query;
	}
}

/** Record, qualify and award `count` referrals through the nodes; seconds per step (statements per step with `counted`). */
async function viaNodes(
	backend: string,
	count: number,
	counted?: Record<string, number>,
): Promise<Record<string, number>> {
	const config = await freshConfig(backend);
	const ledger = await openLedger(config);
	await saveReferralProgram(ledger, {
		programId: 'bench',
		fraudPolicy: {
			velocityPerHour: 1_000_000,
			velocityPerDay: 1_000_000,
			sameIpAllowed: 1000,
			sameDeviceAllowed: 1000,
		},
	});
	const service = await ReferralService.open(ledger, 'bench');
	const codes: string[] = [];
	for (let r = 0; r < REFERRERS; r++)
		codes.push((await service.enrol({ email: `referrer${r}@example.com` })).participant.code!);
	const { signUps, orders } = rowsOf(count, codes);
	const node = async (type: string, parameters: Record<string, unknown>, items: IDataObject[]) => {
		statements = 0;
		const start = performance.now();
		const run = await runWorkflow(
			singleNodeWorkflow(
				{
					type,
					parameters: { program: 'bench', ...parameters },
					credentials: { referralLedgerApi: { id: '1', name: 'Ledger' } },
				} as never,
				items,
			),
			{ credentials: { referralLedgerApi: credentialOf(config) as never } },
		);
		const error = run.error('Node');
		if (error) throw error;
		const seconds = (performance.now() - start) / 1000;
		if (counted) counted[type === 'referral' ? String(parameters.operation) : 'award'] = statements;
		return { out: run.json('Node'), seconds };
	};
	const recorded = await node(
		'referral',
		{ resource: 'referral', operation: 'record' },
		signUps as unknown as IDataObject[],
	);
	if (recorded.out.length !== count || recorded.out.some((o) => o.recorded === false))
		throw new Error('not every sign-up was recorded');
	const qualified = await node('referral', { resource: 'referral', operation: 'qualify' }, orders);
	{
		const bad = qualified.out.find((o) => o.qualified !== true);
		if (bad) throw new Error(`not every order qualified: ${JSON.stringify(bad).slice(0, 400)}`);
	}
	const ids = qualified.out.map((o) => ({ referralId: (o.referral as IDataObject).id }));
	const awarded = await node(
		'referralReward',
		{
			operation: 'evaluate',
			referralBy: 'id',
			referralField: 'referralId',
			outputMode: 'perReferral',
			...POINTS_FORM,
		},
		ids,
	);
	const rewards = awarded.out.reduce((sum, o) => sum + (o.rewards as unknown[]).length, 0);
	if (rewards !== 2 * count) throw new Error(`expected ${2 * count} rewards, got ${rewards}`);
	await closeAllLedgers();
	await dropSchema(config);
	return {
		record: recorded.seconds,
		qualify: qualified.seconds,
		award: awarded.seconds,
		total: recorded.seconds + qualified.seconds + awarded.seconds,
	};
}

/** The referral rows as a plain table: the sign-up and the order of each, nothing else. */
const PLAIN_TABLE = `CREATE TABLE plain_referrals (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE,
	referral_code TEXT NOT NULL, ip TEXT, user_agent TEXT, order_id TEXT NOT NULL, amount NUMERIC NOT NULL,
	currency TEXT NOT NULL, created_at BIGINT NOT NULL)`;
const PLAIN_COLUMNS =
	'(email, referral_code, ip, user_agent, order_id, amount, currency, created_at)';

function plainValues(s: SignUp, o: IDataObject): Array<string | number> {
	return [
		s.email,
		s.referralCode,
		s.ip,
		s.userAgent,
		String(o.orderId),
		Number(o.amount),
		String(o.currency),
		Date.now(),
	];
}

const placeholders = (row: number, width: number, mark: (n: number) => string) =>
	'(' + Array.from({ length: width }, (_, c) => mark(row * width + c + 1)).join(', ') + ')';

/** Plain INSERTs of the same rows: one batched transaction, or one autocommitted INSERT per item. */
async function viaDriver(backend: string, count: number, batched: boolean): Promise<number> {
	const { signUps, orders } = rowsOf(
		count,
		Array.from({ length: REFERRERS }, (_, i) => `CODE${i}`),
	);
	const rows = signUps.map((s, i) => plainValues(s, orders[i]));
	const CHUNK = 100;
	if (backend === 'sqlite') {
		const { DatabaseSync: Db } = require('node:sqlite') as { DatabaseSync: typeof DatabaseSync };
		const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'rm-bench-tp-plain-')), 'p.sqlite');
		const db = new Db(file);
		db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL');
		db.exec(PLAIN_TABLE);
		const start = performance.now();
		if (batched) {
			const many = db.prepare(
				`INSERT INTO plain_referrals ${PLAIN_COLUMNS} VALUES ${Array.from({ length: CHUNK }, (_, r) => placeholders(r, 8, (n) => `?${n}`)).join(', ')}`,
			);
			const one = db.prepare(
				`INSERT INTO plain_referrals ${PLAIN_COLUMNS} VALUES ${placeholders(0, 8, (n) => `?${n}`)}`,
			);
			db.exec('BEGIN IMMEDIATE');
			let i = 0;
			for (; i + CHUNK <= rows.length; i += CHUNK) many.run(...rows.slice(i, i + CHUNK).flat());
			for (; i < rows.length; i++) one.run(...rows[i]);
			db.exec('COMMIT');
		} else {
			const one = db.prepare(
				`INSERT INTO plain_referrals ${PLAIN_COLUMNS} VALUES ${placeholders(0, 8, (n) => `?${n}`)}`,
			);
			for (const row of rows) one.run(...row);
		}
		const seconds = (performance.now() - start) / 1000;
		db.close();
		return seconds;
	}
	const schema = `bench_tp_plain_${randomBytes(5).toString('hex')}`;
	const client = new Client({ connectionString: PG_URL });
	await client.connect();
	await client.query(`CREATE SCHEMA ${schema}; SET search_path = ${schema}`);
	await client.query(PLAIN_TABLE.replace('INTEGER PRIMARY KEY', 'BIGSERIAL PRIMARY KEY'));
	const start = performance.now();
	if (batched) {
		await client.query('BEGIN');
		for (let i = 0; i < rows.length; i += CHUNK) {
			const chunk = rows.slice(i, i + CHUNK);
			await client.query(
				`INSERT INTO plain_referrals ${PLAIN_COLUMNS} VALUES ${chunk.map((_, r) => placeholders(r, 8, (n) => `$${n}`)).join(', ')}`,
				chunk.flat(),
			);
		}
		await client.query('COMMIT');
	} else {
		const sql = `INSERT INTO plain_referrals ${PLAIN_COLUMNS} VALUES ${placeholders(0, 8, (n) => `$${n}`)}`;
		for (const row of rows) await client.query(sql, row);
	}
	const seconds = (performance.now() - start) / 1000;
	await client.query(`DROP SCHEMA ${schema} CASCADE`);
	await client.end();
	return seconds;
}

async function pgReachable(): Promise<boolean> {
	const client = new Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 });
	try {
		await client.connect();
		await client.end();
		return true;
	} catch {
		return false;
	}
}

async function bench(backend: string): Promise<void> {
	await viaNodes(backend, 200);
	await viaDriver(backend, 200, true);
	await viaDriver(backend, 200, false);
	let nodes: Record<string, number> | undefined;
	let batched = Infinity;
	let perItem = Infinity;
	for (let round = 0; round < 2; round++) {
		const run = await viaNodes(backend, COUNT);
		if (!nodes || run.total < nodes.total) nodes = run;
		batched = Math.min(batched, await viaDriver(backend, COUNT, true));
		perItem = Math.min(perItem, await viaDriver(backend, COUNT, false));
	}
	// Statements per referral and step, from a separate counted run (the wrapping costs time).
	const COUNTED = Math.min(COUNT, 1_000);
	const counted: Record<string, number> = {};
	await counting(() => viaNodes(backend, COUNTED, counted));
	const per = (n: number) => (n / COUNTED).toFixed(1);
	const total = (counted.record ?? 0) + (counted.qualify ?? 0) + (counted.award ?? 0);
	const statementNote = `; ${per(total)} ${backend === 'sqlite' ? 'SQL statements' : 'queries (round trips)'} per referral (record ${per(counted.record ?? 0)}, qualify ${per(counted.qualify ?? 0)}, award ${per(counted.award ?? 0)}; ${COUNTED.toLocaleString('en-US')} counted apart)`;
	const perSecond = COUNT / nodes!.total;
	const steps = `record ${(nodes!.record * 1000).toFixed(0)} ms, qualify ${(nodes!.qualify * 1000).toFixed(0)} ms, award ${(nodes!.award * 1000).toFixed(0)} ms`;
	const label = backend === 'sqlite' ? 'SQLite' : 'PostgreSQL';
	const name = `record + qualify + award ${COUNT.toLocaleString('en-US')} referrals through the nodes (${label}, one process)`;
	const subject = 'Referral Record, Referral Qualify, Referral Reward Evaluate (points both sides)';
	report({
		name,
		baseline: `${TARGET_PER_SECOND.toLocaleString('en-US')} referrals/s (the issue's target)`,
		baselineSeconds: COUNT / TARGET_PER_SECOND,
		subject,
		subjectSeconds: nodes!.total,
		...(backend === 'sqlite' ? { target: 1 } : {}),
		// The issue's figure (SQLite, one process); PostgreSQL here is one process, not the issue's
		// two queue-mode workers, so its row is reported under a figure of its own.
		row: backend === 'sqlite' ? 'throughput-sqlite' : 'throughput-postgres',
		figure: {
			value: Math.round(perSecond),
			unit: 'referrals/s',
			...(backend === 'sqlite' ? { min: TARGET_PER_SECOND } : {}),
		},
		note: `${Math.round(perSecond).toLocaleString('en-US')} referrals/s (${steps})${statementNote}`,
	});
	report({
		name,
		baseline: `plain batched INSERT of the same rows (${label} driver, one transaction)`,
		baselineSeconds: batched,
		subject,
		subjectSeconds: nodes!.total,
		note: `plain INSERT ${Math.round(COUNT / batched).toLocaleString('en-US')} rows/s`,
	});
	report({
		name,
		baseline: `one INSERT per item, each its own transaction (as n8n's Postgres node, Independently; ${label} driver)`,
		baselineSeconds: perItem,
		subject,
		subjectSeconds: nodes!.total,
		note: `${(perItem / COUNT / (nodes!.total / COUNT)).toFixed(2)} n8n-style inserts per referral in the same time; ${Math.round(COUNT / perItem).toLocaleString('en-US')} inserts/s`,
	});
}

async function main(): Promise<void> {
	for (const backend of BACKENDS) {
		if (backend === 'postgres' && !(await pgReachable())) {
			console.warn(`PostgreSQL at ${PG_URL} unreachable: its rows are skipped`);
			continue;
		}
		await bench(backend);
	}
}

void main().catch((error) => {
	console.error(error);
	process.exitCode = 1;
});
