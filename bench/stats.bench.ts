/* Get Stats and the leaderboard at 10k, 100k (and, with STATS_BENCH_SIZES=10000,100000,1000000,
 * 1 M) referrals, on SQLite and PostgreSQL: time and peak extra memory of the rollups (schema
 * version 11, engine/ledger/tables/rollups.ts) against the aggregate SQL over the period's rows
 * they replace (schema version 8, `source: 'rows'`) and the row-by-row version before that
 * (statsReference.ts, where it runs in reasonable time), in the same run. Target: under 1 s and
 * under 100 MB of extra memory at 1 M referrals. A SQLite ledger of 1 M referrals or more is built
 * once into .cache/bench (keyed by the seed and the schema) and reused by later runs. Each measurement runs in a fresh child process, so its peak resident memory
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
import { rollupBackfill } from '../engine/ledger/tables/rollups';
import {
	AT,
	buildStatsLedger,
	cachedStatsLedger,
	PROGRAM,
	seedStatements,
} from '../test/support/statsLedger';
import type { Period } from '../engine/shared/periods';
import { report } from './lib';

const PG_URL = process.env.LEDGER_TEST_PG_URL || 'postgres://postgres@127.0.0.1:5432/test';
const SIZES = (process.env.STATS_BENCH_SIZES ?? '10000,100000').split(',').map(Number);
const REFERENCE_MAX = Number(process.env.STATS_BENCH_REFERENCE_MAX ?? 100_000);
const BACKENDS = (process.env.STATS_BENCH_BACKENDS ?? 'sqlite,postgres').split(',');

type Case =
	| { kind: 'stats'; impl: 'rollups' | 'rows' | 'reference'; period: Period }
	| {
			kind: 'leaderboard';
			impl: 'rollups' | 'rows' | 'former';
			by: 'points' | 'qualifiedReferrals';
			period: Period;
	  }
	| { kind: 'count' };

interface ChildResult {
	seconds: number;
	extraMb: number;
	check: string;
}

// ----------------------------------------------------------------------------------------------
// Seeding (test/support/statsLedger.ts)

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
		// Large ledgers are built once into .cache/bench and kept (the machine is shared).
		const keep = n >= 1_000_000;
		const dir = keep ? undefined : mkdtempSync(join(tmpdir(), 'stats-bench-'));
		const path = keep ? await cachedStatsLedger(n) : join(dir!, 'ledger.db');
		if (!keep) await buildStatsLedger(path, n);
		return {
			config: { backend: 'sqlite', path },
			cleanup: () =>
				Promise.resolve(dir ? rmSync(dir, { recursive: true, force: true }) : undefined),
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
	for (const sql of rollupBackfill('postgres')) await admin.query(sql);
	await admin.query('COMMIT');
	// A long-lived ledger is vacuumed and analysed by autovacuum; do it now rather than wait (only
	// these tables: a database-wide VACUUM waits for other sessions' open transactions).
	await admin.query(
		'VACUUM ANALYZE referrals, participants, conversions, rewards, points_journal, points_balances, outbox, stats_days, stats_periods',
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
			const input = { programId: PROGRAM, period: c.period, at: AT };
			return c.impl === 'reference'
				? referralStatsReference(ledger, input)
				: referralStats(ledger, { ...input, source: c.impl });
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
				by: c.by,
				period: c.period,
				at: AT,
				limit: 10,
				source: c.impl,
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
				const once = n >= 1_000_000 ? 1 : 3;
				const count = measure(seeded.config, { kind: 'count' }, 3);
				const mb = (r: ChildResult) => `${r.extraMb.toFixed(0)} MB`;
				for (const period of ['lifetime', 'year', 'month'] as const) {
					const ours = measure(seeded.config, { kind: 'stats', impl: 'rollups', period }, 3);
					const rows = measure(seeded.config, { kind: 'stats', impl: 'rows', period }, once);
					if (rows.check !== ours.check)
						throw new Error(`answers differ (${period}):\n${rows.check}\n${ours.check}`);
					const withReference = n <= REFERENCE_MAX;
					const reference = withReference
						? measure(seeded.config, { kind: 'stats', impl: 'reference', period }, small ? 3 : 1)
						: undefined;
					if (reference && reference.check !== ours.check)
						throw new Error(`answers differ (${period}):\n${reference.check}\n${ours.check}`);
					report({
						name: `Get Stats ${period}, ${label(n)} referrals (${backend})`,
						baseline: 'aggregate SQL over the rows (schema 8)',
						baselineSeconds: rows.seconds,
						subject: 'rollups (schema 11)',
						subjectSeconds: ours.seconds,
						figure: { value: Number(ours.seconds.toFixed(3)), unit: 's', max: 1 },
						note: `${ours.seconds.toFixed(3)} s (target < 1 s), peak extra memory ${mb(ours)} (target < 100 MB; baseline ${mb(rows)})${reference ? `; row-by-row reference ${reference.seconds.toFixed(2)} s, ${mb(reference)}, ${(reference.seconds / ours.seconds).toFixed(0)}x` : ''}; plain COUNT(*) ${count.seconds.toFixed(3)} s; same answers checked`,
					});
					// The issue's second bound, its own row: the figure above is the time.
					report({
						name: `Get Stats ${period} peak extra memory, ${label(n)} referrals (${backend})`,
						baseline: 'aggregate SQL over the rows (schema 8)',
						baselineSeconds: rows.seconds,
						subject: 'rollups (schema 11), peak resident memory above the open ledger',
						subjectSeconds: ours.seconds,
						figure: { value: Math.round(ours.extraMb), unit: 'MB', max: 100 },
						note: `${mb(ours)} (target < 100 MB) vs ${mb(rows)} for the baseline; times as in the row above`,
					});
				}
				for (const by of ['points', 'qualifiedReferrals'] as const) {
					const ours = measure(
						seeded.config,
						{ kind: 'leaderboard', impl: 'rollups', by, period: 'month' },
						3,
					);
					const rows = measure(
						seeded.config,
						{ kind: 'leaderboard', impl: 'rows', by, period: 'month' },
						3,
					);
					if (rows.check !== ours.check)
						throw new Error(`leaderboards differ:\n${rows.check}\n${ours.check}`);
					let note = '';
					if (by === 'points') {
						const former = measure(
							seeded.config,
							{ kind: 'leaderboard', impl: 'former', by, period: 'month' },
							3,
						);
						if (former.check !== ours.check)
							throw new Error(`leaderboards differ:\n${former.check}\n${ours.check}`);
						note = `; former query (rank and join all) ${former.seconds.toFixed(3)} s`;
					}
					report({
						name: `leaderboard by ${by} this month, ${label(n)} referrals (${backend})`,
						baseline: 'aggregate over the period (schema 8)',
						baselineSeconds: rows.seconds,
						subject: 'top N of the month rollups (schema 11)',
						subjectSeconds: ours.seconds,
						figure: { value: Number(ours.seconds.toFixed(4)), unit: 's', max: 1 },
						note: `${ours.seconds.toFixed(4)} s (target < 1 s), peak extra memory ${mb(ours)}${note}`,
					});
				}
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
