/* Get Stats and the leaderboard at 10k, 100k (and, with STATS_BENCH_SIZES=10000,100000,1000000,
 * 1 M) referrals, on SQLite and PostgreSQL: time and peak extra memory of the aggregate queries
 * (engine/referrals/stats.ts) against the row-by-row version they replace (statsReference.ts),
 * in the same run. Each measurement runs in a fresh child process, so its peak resident memory
 * (resourceUsage().maxRSS minus the RSS once the ledger is open) is its own.
 *
 * The ledger is seeded by bulk SQL (one transaction per table): a program over three years ending
 * at the report instant; 1 referrer per 10 referees; of the referrals 40 % qualified, 10 % reversed,
 * the rest spread over the other statuses; one qualifying order each (EUR, every 7th USD), its
 * `referral.qualified` event, a 5 EUR cash reward and 100 points to the referrer.
 *
 * Baseline: the reference when it runs (STATS_BENCH_REFERENCE_MAX referrals, default 100,000:
 * at 1 M it takes minutes per call), else a plain `SELECT COUNT(*)` over the program's referrals,
 * and for the leaderboard the former query shape (rank and join every scored participant). */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DatabaseSync } from 'node:sqlite';
import { Client } from 'pg';
import { openPostgresLedger, openSqliteLedger, type LedgerConfig } from '../engine/ledger';
import { referralLeaderboard, referralStats } from '../engine/referrals/stats';
import { referralStatsReference } from '../engine/referrals/statsReference';
import type { Period } from '../engine/shared/periods';
import { report } from './lib';

const PG_URL = process.env.LEDGER_TEST_PG_URL || 'postgres://postgres@127.0.0.1:5432/test';
const SIZES = (process.env.STATS_BENCH_SIZES ?? '10000,100000').split(',').map(Number);
const REFERENCE_MAX = Number(process.env.STATS_BENCH_REFERENCE_MAX ?? 100_000);
const BACKENDS = (process.env.STATS_BENCH_BACKENDS ?? 'sqlite,postgres').split(',');
const PROGRAM = 'bench';
/** The report instant: mid-December, so "this month" holds half a month and "this year" eleven. */
const AT = Date.UTC(2026, 11, 15, 12);
const SPAN = 3 * 365 * 86_400_000;
const DAY = 86_400_000;

type Case =
	| { kind: 'stats'; impl: 'sql' | 'reference'; period: Period }
	| { kind: 'leaderboard'; impl: 'sql' | 'former'; period: Period }
	| { kind: 'count' };

interface ChildResult {
	seconds: number;
	extraMb: number;
	check: string;
}

// ----------------------------------------------------------------------------------------------
// Seeding

function series(backend: 'sqlite' | 'postgres', n: number): string {
	return backend === 'postgres'
		? `generate_series(CAST(1 AS BIGINT), ${n}) AS s(i)`
		: `(WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ${n}) SELECT i FROM s) s`;
}

export function seedStatements(backend: 'sqlite' | 'postgres', n: number): string[] {
	const referrers = Math.max(1, Math.floor(n / 10));
	const step = Math.floor(SPAN / n);
	const start = AT - SPAN;
	const touched = `(${start} + s.i * ${step})`;
	const status = `(CASE s.i % 10 WHEN 0 THEN 'qualified' WHEN 1 THEN 'qualified' WHEN 2 THEN 'qualified' WHEN 3 THEN 'qualified' WHEN 4 THEN 'reversed' WHEN 5 THEN 'pending' WHEN 6 THEN 'flagged' WHEN 7 THEN 'rejected' WHEN 8 THEN 'recorded' ELSE 'approved' END)`;
	const converted = `s.i % 10 < 5`;
	const qualifiedAt = `(${touched} + (s.i * 7919) % ${30 * DAY})`;
	const amount = `((s.i % 50) * 1.5 + 10)`;
	const currency = `(CASE WHEN s.i % 7 = 0 THEN 'USD' ELSE 'EUR' END)`;
	const referrer = `(${n} + 1 + s.i % ${referrers})`;
	return [
		`INSERT INTO programs (id, name, settings, created_at, updated_at) VALUES ('${PROGRAM}', 'bench', '{}', 0, 0)`,
		// Referees 1..n (created when referred), referrers n+1..n+referrers (created before).
		`INSERT INTO participants (id, program_id, external_id, email, name, metadata, created_at, updated_at)
			SELECT s.i, '${PROGRAM}', 'p' || s.i, NULL, NULL, '{}', CASE WHEN s.i > ${n} THEN ${start} ELSE ${touched} END, 0
			FROM ${series(backend, n + referrers)}`,
		`INSERT INTO referrals (id, program_id, referrer_id, referee_id, code_id, source, touched_at, ip_hash, device_hash, status, reasons, risk_score, metadata, qualified_at, created_at, updated_at, order_amount, order_currency)
			SELECT s.i, '${PROGRAM}', ${referrer}, s.i, NULL, NULL, ${touched}, NULL, NULL, ${status}, '[]', NULL, '{}',
				CASE WHEN ${converted} THEN ${qualifiedAt} ELSE NULL END, ${touched}, ${touched},
				CASE WHEN ${converted} THEN ${amount} ELSE NULL END, CASE WHEN ${converted} THEN ${currency} ELSE NULL END
			FROM ${series(backend, n)}`,
		`INSERT INTO conversions (id, program_id, referral_id, order_id, amount, currency, occurred_at, qualified, created_at, referral_status)
			SELECT s.i, '${PROGRAM}', s.i, 'o' || s.i, ${amount}, ${currency}, ${qualifiedAt}, 1, ${qualifiedAt}, 'approved'
			FROM ${series(backend, n)} WHERE ${converted}`,
		`INSERT INTO outbox (program_id, type, payload, participant_id, created_at)
			SELECT '${PROGRAM}', 'referral.qualified', '{"conversion":{"referralId":' || s.i || ',"amount":' || ${amount} || ',"currency":"' || ${currency} || '"}}', s.i, ${qualifiedAt}
			FROM ${series(backend, n)} WHERE ${converted}`,
		`INSERT INTO rewards (id, program_id, recipient_id, referral_id, side, rule, kind, amount, currency, status, hold_until, idempotency_key, metadata, created_at, updated_at)
			SELECT s.i, '${PROGRAM}', ${referrer}, s.i, 'referrer', 'cash', 'cash', 5, 'EUR',
				CASE WHEN s.i % 10 = 4 THEN 'reversed' ELSE 'fulfilled' END, NULL, 'r' || s.i, '{}', ${qualifiedAt}, ${qualifiedAt}
			FROM ${series(backend, n)} WHERE ${converted}`,
		`INSERT INTO points_journal (id, program_id, participant_id, delta, balance_after, reason, reward_id, idempotency_key, created_at)
			SELECT s.i, '${PROGRAM}', ${referrer}, 100, 0, NULL, NULL, 'pt' || s.i, ${qualifiedAt}
			FROM ${series(backend, n)} WHERE s.i % 10 < 4`,
		`INSERT INTO points_balances (participant_id, program_id, balance, updated_at)
			SELECT participant_id, '${PROGRAM}', SUM(delta), 0 FROM points_journal GROUP BY participant_id`,
	];
}

async function seed(
	backend: 'sqlite' | 'postgres',
	n: number,
): Promise<{
	config: LedgerConfig;
	cleanup: () => Promise<void>;
	seconds: number;
}> {
	const started = performance.now();
	if (backend === 'sqlite') {
		const dir = mkdtempSync(join(tmpdir(), 'stats-bench-'));
		const config: LedgerConfig = { backend: 'sqlite', path: join(dir, 'ledger.db') };
		await (await openSqliteLedger(config)).close();
		const db = new DatabaseSync(config.path);
		db.exec('BEGIN');
		for (const sql of seedStatements('sqlite', n)) db.exec(sql);
		db.exec('COMMIT');
		db.exec('ANALYZE');
		db.close();
		return {
			config,
			cleanup: () => Promise.resolve(rmSync(dir, { recursive: true, force: true })),
			seconds: (performance.now() - started) / 1000,
		};
	}
	const schema = `stats_bench_${process.pid}_${n}`;
	const config: LedgerConfig = { backend: 'postgres', connectionString: PG_URL, schema };
	const admin = new Client({ connectionString: PG_URL });
	await admin.connect();
	await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
	await (await openPostgresLedger(config)).close();
	await admin.query(`SET search_path = ${schema}`);
	await admin.query('BEGIN');
	for (const sql of seedStatements('postgres', n)) await admin.query(sql);
	await admin.query('COMMIT');
	// A long-lived ledger is vacuumed and analysed by autovacuum; do it now rather than wait (only
	// these tables: a database-wide VACUUM waits for other sessions' open transactions).
	await admin.query(
		'VACUUM ANALYZE referrals, participants, conversions, rewards, points_journal, points_balances, outbox',
	);
	return {
		config,
		cleanup: async () => {
			await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
			await admin.end();
		},
		seconds: (performance.now() - started) / 1000,
	};
}

// ----------------------------------------------------------------------------------------------
// One measurement, in a child process

/** The leaderboard query before schema version 8: every scored participant ranked and joined. */
const FORMER_LEADERBOARD = `SELECT s.participant_id, s.score, RANK() OVER (ORDER BY s.score DESC) AS rank_no, p.external_id, p.name
	FROM (SELECT participant_id, SUM(delta) AS score FROM points_journal WHERE program_id = $1 AND created_at >= $2 AND created_at < $3 GROUP BY participant_id HAVING SUM(delta) <> 0) s
	JOIN participants p ON p.id = s.participant_id ORDER BY s.score DESC, s.participant_id LIMIT 10`;

async function rawQuery(config: LedgerConfig, sql: string, params: unknown[]) {
	if (config.backend === 'sqlite') {
		const db = new DatabaseSync(config.path, { readOnly: true });
		try {
			return db.prepare(sql.replace(/\$(\d+)/g, '?$1')).all(...(params as never[]));
		} finally {
			db.close();
		}
	}
	const client = new Client({
		connectionString: PG_URL,
		options: `-c search_path=${config.schema}`,
	});
	await client.connect();
	try {
		return (await client.query(sql, params)).rows;
	} finally {
		await client.end();
	}
}

async function child(config: LedgerConfig, c: Case, repeats: number): Promise<ChildResult> {
	const ledger =
		config.backend === 'sqlite' ? await openSqliteLedger(config) : await openPostgresLedger(config);
	await ledger.countReferrals({ programId: PROGRAM, since: AT, until: AT + 1 });
	const rssBefore = process.memoryUsage().rss;
	const run = async (): Promise<unknown> => {
		if (c.kind === 'count') {
			return rawQuery(config, `SELECT COUNT(*) AS n FROM referrals WHERE program_id = $1`, [
				PROGRAM,
			]);
		}
		if (c.kind === 'stats') {
			const fn = c.impl === 'sql' ? referralStats : referralStatsReference;
			return fn(ledger, { programId: PROGRAM, period: c.period, at: AT });
		}
		if (c.impl === 'former') {
			const month = Date.UTC(2026, 11, 1);
			return rawQuery(config, FORMER_LEADERBOARD, [PROGRAM, month, Date.UTC(2027, 0, 1)]).then(
				(rows) => rows.map((r) => Number((r as { score: unknown }).score)),
			);
		}
		return (
			await referralLeaderboard(ledger, {
				programId: PROGRAM,
				by: 'points',
				period: c.period,
				at: AT,
				limit: 10,
			})
		).map((r) => r.score);
	};
	let best = Infinity;
	let result: unknown;
	for (let i = 0; i < repeats; i++) {
		const started = performance.now();
		result = await run();
		best = Math.min(best, (performance.now() - started) / 1000);
	}
	const extraMb = Math.max(0, process.resourceUsage().maxRSS * 1024 - rssBefore) / 1024 / 1024;
	await ledger.close();
	const check =
		c.kind === 'stats'
			? JSON.stringify({
					funnel: (result as { funnel: unknown }).funnel,
					revenue: (result as { referredRevenue: unknown }).referredRevenue,
					cac: (result as { referralCac: unknown }).referralCac,
					time: (result as { timeToConvert: unknown }).timeToConvert,
					customers: (result as { customers: unknown }).customers,
				})
			: JSON.stringify(result);
	return { seconds: best, extraMb, check };
}

function measure(config: LedgerConfig, c: Case, repeats: number): ChildResult {
	const out = spawnSync(
		process.execPath,
		['--import', 'tsx', __filename, '--child', JSON.stringify({ config, c, repeats })],
		{
			encoding: 'utf8',
			maxBuffer: 16 * 1024 * 1024,
			env: { ...process.env, NODE_NO_WARNINGS: '1' },
		},
	);
	const line = out.stdout.split('\n').find((l) => l.startsWith('CHILD '));
	if (!line) throw new Error(`child failed (${out.status}): ${out.stderr}`);
	return JSON.parse(line.slice(6)) as ChildResult;
}

// ----------------------------------------------------------------------------------------------

const label = (n: number) => (n >= 1_000_000 ? `${n / 1_000_000}M` : `${n / 1000}k`);

async function main(): Promise<void> {
	for (const n of SIZES) {
		for (const backend of BACKENDS as Array<'sqlite' | 'postgres'>) {
			const seeded = await seed(backend, n);
			process.stderr.write(
				`seeded ${label(n)} referrals on ${backend} in ${seeded.seconds.toFixed(1)} s\n`,
			);
			try {
				const small = n <= 10_000;
				const count = measure(seeded.config, { kind: 'count' }, 3);
				for (const period of ['lifetime', 'year', 'month'] as const) {
					const ours = measure(seeded.config, { kind: 'stats', impl: 'sql', period }, 3);
					const withReference = n <= REFERENCE_MAX;
					const base = withReference
						? measure(seeded.config, { kind: 'stats', impl: 'reference', period }, small ? 3 : 1)
						: count;
					if (withReference && base.check !== ours.check)
						throw new Error(`answers differ (${period}):\n${base.check}\n${ours.check}`);
					report({
						name: `Get Stats ${period}, ${label(n)} referrals (${backend})`,
						baseline: withReference
							? 'row-by-row JS (statsReference.ts)'
							: 'SELECT COUNT(*) referrals',
						baselineSeconds: base.seconds,
						subject: 'aggregate SQL (stats.ts)',
						subjectSeconds: ours.seconds,
						note: `peak extra memory ${ours.extraMb.toFixed(0)} MB${withReference ? ` (baseline ${base.extraMb.toFixed(0)} MB)` : ''}; same answers${withReference ? ' checked' : ' not checked'}`,
					});
				}
				const ours = measure(
					seeded.config,
					{ kind: 'leaderboard', impl: 'sql', period: 'month' },
					3,
				);
				const former = measure(
					seeded.config,
					{ kind: 'leaderboard', impl: 'former', period: 'month' },
					3,
				);
				if (former.check !== ours.check)
					throw new Error(`leaderboards differ:\n${former.check}\n${ours.check}`);
				report({
					name: `leaderboard by points this month, ${label(n)} referrals (${backend})`,
					baseline: 'former query (rank and join all)',
					baselineSeconds: former.seconds,
					subject: 'ledger.leaderboard',
					subjectSeconds: ours.seconds,
					note: `peak extra memory ${ours.extraMb.toFixed(0)} MB; plain COUNT(*) ${count.seconds.toFixed(3)} s`,
				});
			} finally {
				await seeded.cleanup();
			}
		}
	}
}

if (process.argv[2] === '--child') {
	const { config, c, repeats } = JSON.parse(process.argv[3]) as {
		config: LedgerConfig;
		c: Case;
		repeats: number;
	};
	child(config, c, repeats).then(
		(r) => console.log('CHILD ' + JSON.stringify(r)),
		(error: unknown) => {
			console.error(error);
			process.exitCode = 1;
		},
	);
} else if (!process.env.STATS_BENCH_NO_MAIN) {
	main().catch((error: unknown) => {
		console.error(error);
		process.exitCode = 1;
	});
}
