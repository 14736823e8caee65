/* Per-operation cost against the size of the ledger (issue #18, "per-operation cost independent of
 * ledger size"): enrol, record a referral with every fraud check on, qualify, evaluate and award,
 * reverse (refund), each timed per operation on ledgers already holding 0, 100,000 and 1,000,000
 * referrals, on SQLite and on PostgreSQL. The baseline of each row is the same operation on the
 * empty ledger, measured in the same run; the target is at most 1.5x its cost.
 *
 * The big ledgers are seeded with bulk SQL inserts in one transaction (not through the API):
 * referrers with 10 referrals each, a third of them qualified, touched over the past year, ip and
 * device hashes shared by a few sign-ups each. PostgreSQL is then ANALYZEd (autovacuum would);
 * SQLite is not (the ledger never runs ANALYZE there) unless GROWTH_ANALYZE=1.
 * Sizes and work per round are set by env: GROWTH_SIZES=0,100000,1000000 (default),
 * GROWTH_BACKENDS=sqlite,postgres, GROWTH_OPS=100 operations of each kind per round,
 * GROWTH_ROUNDS=3, GROWTH_CHUNK=10 operations per turn; GROWTH_DIR=<dir> keeps the SQLite files there.
 * Within a round the ledgers take turns every GROWTH_CHUNK operations (see `round`), so every size
 * meets the same background load; each size's figure is its best round. */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DatabaseSync } from 'node:sqlite';
import { Client } from 'pg';
import { openPostgresLedger, openSqliteLedger, type LedgerStore } from '../engine/ledger';
import { DDL_TYPES, MIGRATIONS } from '../engine/ledger/schema';
import { saveReferralProgram } from '../engine/referrals';
import { ReferralService } from '../engine/refunds';
import { RewardService } from '../engine/rewards';
import { sampleRewardProgram } from '../test/fixtures/sampleRewardProgram';
import { report } from './lib';

const SIZES = (process.env.GROWTH_SIZES ?? '0,100000,1000000')
	.split(',')
	.map((s) => Number(s.trim()))
	.filter((s) => Number.isInteger(s) && s >= 0);
const BACKENDS = (process.env.GROWTH_BACKENDS ?? 'sqlite,postgres').split(',').map((s) => s.trim());
const OPS = Number(process.env.GROWTH_OPS ?? 100);
const ROUNDS = Number(process.env.GROWTH_ROUNDS ?? 3);
const CHUNK = Number(process.env.GROWTH_CHUNK ?? 10);
const PG_URL = process.env.LEDGER_TEST_PG_URL || 'postgres://postgres@127.0.0.1:5432/test';
const PROGRAM = 'growth';
const PER_REFERRER = 10;
const DAY = 86_400_000;
const KINDS = ['enrol', 'record', 'qualify', 'evaluate', 'reverse'] as const;
type Kind = (typeof KINDS)[number];
const LABEL: Record<Kind, string> = {
	enrol: 'enrol a participant (code issued)',
	record: 'record a referral (every fraud check on)',
	qualify: 'qualify a referral by an order',
	evaluate: 'evaluate and award rewards (sample program)',
	reverse: 'reverse a referral and its rewards (full refund)',
};

/** The seed's rows as one INSERT … SELECT per table over a generated sequence `i` of 0..count-1. */
function seedStatements(size: number, now: number, series: (count: number) => string): string[] {
	if (size === 0) return [];
	const referrers = Math.max(1, Math.ceil(size / PER_REFERRER));
	const span = 365 * DAY;
	const shared = Math.max(1, Math.floor(size / 3));
	return [
		`INSERT INTO participants (id, program_id, email, metadata, created_at, updated_at)
			SELECT i + 1, '${PROGRAM}', 'seed-referrer-' || i || '@example.com', '{}', ${now - span}, ${now - span} FROM ${series(referrers)}`,
		`INSERT INTO participants (id, program_id, email, metadata, created_at, updated_at)
			SELECT ${referrers} + i + 1, '${PROGRAM}', 'seed-friend-' || i || '@example.org', '{}', ${now - span} + i, ${now - span} + i FROM ${series(size)}`,
		`INSERT INTO codes (program_id, code, owner_id, status, uses, created_at, updated_at)
			SELECT '${PROGRAM}', 'SEED' || i, i + 1, 'active', 0, ${now - span}, ${now - span} FROM ${series(referrers)}`,
		`INSERT INTO referrals (id, program_id, referrer_id, referee_id, source, touched_at, ip_hash, device_hash, status, reasons, metadata, qualified_at, created_at, updated_at)
			SELECT i + 1, '${PROGRAM}', (i % ${referrers}) + 1, ${referrers} + i + 1, 'seed',
				${now - span} + (i * ${Math.floor(span / size)}),
				'seed-ip-' || (i % ${shared}), 'seed-device-' || (i % ${shared}),
				CASE WHEN i % 3 = 0 THEN 'qualified' ELSE 'pending' END, '[]', '{}',
				CASE WHEN i % 3 = 0 THEN ${now - span} + (i * ${Math.floor(span / size)}) + 3600000 ELSE NULL END,
				${now - span} + i, ${now - span} + i
			FROM ${series(size)}`,
		// The reward counters of the seeded rows, filled as migration 10 fills them on an older ledger.
		...COUNTER_BACKFILL,
	];
}

/** Migration 10's statements that fill the reward counters from the rows already in the ledger. */
const COUNTER_BACKFILL = MIGRATIONS.find((m) => m.version === 10)!
	.statements(DDL_TYPES.sqlite)
	.filter((sql) => sql.trim().startsWith('INSERT INTO reward_counters'));

interface Subject {
	backend: string;
	size: number;
	ledger: LedgerStore;
	referrals: ReferralService;
	rewards: RewardService;
	close: () => Promise<void>;
}

async function programFor(ledger: LedgerStore): Promise<{
	referrals: ReferralService;
	rewards: RewardService;
}> {
	// Every check on (the defaults), with windows and limits the benchmark's distinct sign-ups stay within.
	await saveReferralProgram(ledger, { programId: PROGRAM });
	return {
		referrals: await ReferralService.open(ledger, PROGRAM),
		rewards: new RewardService(ledger, sampleRewardProgram(PROGRAM)),
	};
}

async function sqliteSubject(dir: string, size: number): Promise<Subject> {
	const path = join(dir, `growth-${size}.sqlite`);
	const ledger = await openSqliteLedger({ backend: 'sqlite', path });
	await ledger.ensureProgram({ id: PROGRAM });
	const start = performance.now();
	const db = new DatabaseSync(path);
	db.exec('PRAGMA busy_timeout = 60000');
	db.exec('BEGIN IMMEDIATE');
	for (const sql of seedStatements(
		size,
		Date.now(),
		(count) =>
			`(WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM seq WHERE i + 1 < ${count}) SELECT i FROM seq)`,
	))
		db.exec(sql);
	db.exec('COMMIT');
	// The seed leaves the WAL with every page it wrote: copy it into the database file now, or the
	// ledger's first checkpoint copies (and syncs) hundreds of MB inside a measured operation.
	db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
	// The ledger never runs ANALYZE on SQLite: without GROWTH_ANALYZE=1 the planner works without statistics, as it does in use.
	if (process.env.GROWTH_ANALYZE === '1') db.exec('ANALYZE');
	db.close();
	if (size > 0)
		process.stderr.write(
			`  seeded SQLite with ${size.toLocaleString('en-US')} referrals in ${((performance.now() - start) / 1000).toFixed(1)} s\n`,
		);
	return {
		backend: 'SQLite',
		size,
		ledger,
		...(await programFor(ledger)),
		close: () => ledger.close(),
	};
}

async function postgresSubject(tag: string, size: number): Promise<Subject> {
	const schema = `growth_${tag}_${size}`;
	const ledger = await openPostgresLedger({
		backend: 'postgres',
		connectionString: PG_URL,
		schema,
	});
	await ledger.ensureProgram({ id: PROGRAM });
	const start = performance.now();
	const client = new Client({ connectionString: PG_URL });
	await client.connect();
	try {
		await client.query(`SET search_path TO ${schema}`);
		await client.query('BEGIN');
		for (const sql of seedStatements(
			size,
			Date.now(),
			(count) => `generate_series(0::bigint, ${count - 1}) AS g(i)`,
		))
			await client.query(sql);
		for (const table of ['participants', 'referrals'])
			await client.query(
				`SELECT setval(pg_get_serial_sequence('${schema}.${table}', 'id'), (SELECT COALESCE(MAX(id), 0) + 1 FROM ${table}), false)`,
			);
		await client.query('COMMIT');
		await client.query('ANALYZE');
	} finally {
		await client.end();
	}
	if (size > 0)
		process.stderr.write(
			`  seeded PostgreSQL with ${size.toLocaleString('en-US')} referrals in ${((performance.now() - start) / 1000).toFixed(1)} s\n`,
		);
	return {
		backend: 'PostgreSQL',
		size,
		ledger,
		...(await programFor(ledger)),
		close: async () => {
			await ledger.close();
			const admin = new Client({ connectionString: PG_URL });
			await admin.connect();
			await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).finally(() => admin.end());
		},
	};
}

/** The operations of one kind on one ledger, the i-th at a time; each needs the earlier kinds' i-th. */
function operations(subject: Subject, run: string): Record<Kind, (i: number) => Promise<void>> {
	const codes: string[] = [];
	const referralIds: number[] = [];
	return {
		enrol: async (i) => {
			const { participant } = await subject.referrals.enrol({
				email: `referrer-${run}-${i}@example.com`,
			});
			codes.push(participant.code!);
		},
		record: async (i) => {
			const { referral } = await subject.referrals.recordReferral({
				email: `friend-${run}-${i}@example.org`,
				referralCode: codes[i],
				ip: `10.${run.length}.${(i >> 8) & 255}.${i & 255}-${run}`,
				userAgent: `Browser/${i % 50}`,
				device: `device-${run}-${i}`,
			});
			if (!referral) throw new Error('record: no referral');
			referralIds.push(referral.id);
		},
		qualify: async (i) => {
			const outcome = await subject.referrals.qualify({
				referralId: referralIds[i],
				orderId: `order-${run}-${i}`,
				amount: 40,
				currency: 'EUR',
			});
			if (!outcome.qualified)
				throw new Error(`qualify: referral ${referralIds[i]} did not qualify (${outcome.outcome})`);
		},
		evaluate: async (i) => {
			const result = await subject.rewards.evaluateReferral(referralIds[i]);
			if (result.rewards.length === 0)
				throw new Error(`evaluate: no rewards for ${referralIds[i]}`);
		},
		reverse: async (i) => {
			const outcome = await subject.referrals.reverse({ referralId: referralIds[i] });
			if (outcome.referral.status !== 'reversed')
				throw new Error(`reverse: referral ${referralIds[i]} is ${outcome.referral.status}`);
		},
	};
}

/**
 * One round on every ledger: OPS of each kind, kind after kind, in chunks of CHUNK operations that
 * take turns between the ledgers (each chunk starting at another), so a burst of background load
 * (other processes on the shared machine, the kernel writing back) falls on every size alike
 * instead of on whichever ledger ran its 100 operations then. Seconds per operation, per ledger and kind.
 */
async function round(subjects: Subject[], run: string): Promise<Record<Kind, number>[]> {
	const ops = subjects.map((subject) => operations(subject, run));
	const spent = subjects.map(
		() => Object.fromEntries(KINDS.map((k) => [k, 0])) as Record<Kind, number>,
	);
	let turn = 0;
	for (const kind of KINDS) {
		for (let from = 0; from < OPS; from += CHUNK) {
			turn++;
			for (let j = 0; j < subjects.length; j++) {
				const s = (turn + j) % subjects.length;
				const start = performance.now();
				for (let i = from; i < Math.min(OPS, from + CHUNK); i++) await ops[s][kind](i);
				spent[s][kind] += performance.now() - start;
			}
		}
	}
	return spent.map(
		(t) => Object.fromEntries(KINDS.map((k) => [k, t[k] / 1000 / OPS])) as Record<Kind, number>,
	);
}

async function pgReachable(): Promise<boolean> {
	const client = new Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 });
	try {
		await client.connect();
		return true;
	} catch {
		return false;
	} finally {
		await client.end().catch(() => undefined);
	}
}

async function bench(backend: string, open: (size: number) => Promise<Subject>): Promise<void> {
	const sizes = SIZES.includes(0) ? SIZES : [0, ...SIZES];
	const subjects: Subject[] = [];
	try {
		for (const size of sizes) subjects.push(await open(size));
		// A warm-up round on every ledger (JIT, statement caches, the page cache), not counted.
		await round(subjects, 'warm');
		const best = subjects.map(() => Object.fromEntries(KINDS.map((k) => [k, Infinity]))) as Record<
			Kind,
			number
		>[];
		for (let r = 0; r < ROUNDS; r++) {
			const t = await round(subjects, `r${r}`);
			for (const s of subjects.keys())
				for (const k of KINDS) best[s][k] = Math.min(best[s][k], t[s][k]);
		}
		const ms = (seconds: number) => `${(seconds * 1000).toFixed(2)} ms`;
		for (const k of KINDS) {
			for (const [s, subject] of subjects.entries()) {
				if (subject.size === 0) continue;
				report({
					name: `${LABEL[k]} at ${subject.size.toLocaleString('en-US')} referrals (${backend})`,
					baseline: `the same operation on an empty ledger (${backend})`,
					baselineSeconds: best[0][k],
					subject: `per operation with ${subject.size.toLocaleString('en-US')} referrals in the ledger`,
					subjectSeconds: best[s][k],
					target: 1 / 1.5,
					note: `${ms(best[s][k])} vs ${ms(best[0][k])} per operation: ${(best[s][k] / best[0][k]).toFixed(2)}x the empty ledger's cost`,
				});
			}
		}
	} finally {
		for (const s of subjects) await s.close();
	}
}

async function main(): Promise<void> {
	if (BACKENDS.includes('sqlite')) {
		const keep = process.env.GROWTH_DIR;
		const dir = keep || mkdtempSync(join(tmpdir(), 'rm-bench-growth-'));
		try {
			await bench('SQLite', (size) => sqliteSubject(dir, size));
		} finally {
			if (!keep) rmSync(dir, { recursive: true, force: true });
		}
	}
	if (BACKENDS.includes('postgres')) {
		if (!(await pgReachable())) {
			process.stderr.write(`  PostgreSQL at ${PG_URL} is not reachable: its rows are skipped\n`);
			return;
		}
		const tag = randomBytes(4).toString('hex');
		await bench('PostgreSQL', (size) => postgresSubject(tag, size));
	}
}

void main().catch((error) => {
	console.error(error);
	process.exitCode = 1;
});
