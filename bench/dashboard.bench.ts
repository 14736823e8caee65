/* The marketer dashboard at 100,000 referrals (DASHBOARD_BENCH_SIZE), on SQLite and PostgreSQL
 * (DASHBOARD_BENCH_BACKENDS): the whole page (loadDashboard: Get Stats, the leaderboard, the series,
 * reward liability, points and coupon pools, then the HTML with its SVG charts) against Get Stats
 * alone (referralStats, the baseline), for this month and for the lifetime, in the same run, best of 3 after a warm-up. The issue asks
 * for the page in under a second; the ratio says what the page costs on top of Get Stats.
 *
 * The ledger is seeded like bench/stats.bench.ts (its seedStatements: three years of referrals,
 * rewards and points) plus a coupon pool of 5,000 codes, half claimed over the last 60 days. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { Client } from 'pg';
import { openPostgresLedger, openSqliteLedger, type LedgerStore } from '../engine/ledger';
import { dashboardHtml, loadDashboard } from '../engine/pages/dashboard';
import { referralStats } from '../engine/referrals/stats';
import { rollupBackfill } from '../engine/ledger/tables/rollups';
import { seedStatements } from '../test/support/statsLedger';
import { bestOf, report } from './lib';

const PG_URL = process.env.LEDGER_TEST_PG_URL || 'postgres://postgres@127.0.0.1:5432/test';
const SIZE = Number(process.env.DASHBOARD_BENCH_SIZE ?? 100_000);
const BACKENDS = (process.env.DASHBOARD_BENCH_BACKENDS ?? 'sqlite,postgres').split(',');
const AT = Date.UTC(2026, 11, 15, 12);
const DAY = 86_400_000;

function couponStatements(backend: 'sqlite' | 'postgres'): string[] {
	const series =
		backend === 'postgres'
			? 'generate_series(CAST(1 AS BIGINT), 5000) AS s(i)'
			: '(WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 5000) SELECT i FROM s) s';
	return [
		`INSERT INTO coupons (program_id, pool, code, status, claimed_by, reward_id, claimed_at, created_at)
			SELECT 'bench', 'spring', 'C' || s.i, CASE WHEN s.i % 2 = 0 THEN 'claimed' ELSE 'available' END, NULL, NULL,
				CASE WHEN s.i % 2 = 0 THEN ${AT} - (s.i * 1000) % ${60 * DAY} ELSE NULL END, ${AT - 90 * DAY}
			FROM ${series}`,
	];
}

async function seeded(
	backend: 'sqlite' | 'postgres',
): Promise<{ ledger: LedgerStore; cleanup: () => Promise<void> }> {
	// The bulk seed bypasses the ledger's write paths: fill the rollups as migration 11 does.
	const statements = [
		...seedStatements(backend, SIZE),
		...couponStatements(backend),
		...rollupBackfill(backend),
	];
	if (backend === 'sqlite') {
		const dir = mkdtempSync(join(tmpdir(), 'dashboard-bench-'));
		const path = join(dir, 'ledger.db');
		await (await openSqliteLedger({ backend: 'sqlite', path })).close();
		const db = new DatabaseSync(path);
		db.exec('BEGIN');
		for (const sql of statements) db.exec(sql);
		db.exec('COMMIT');
		db.exec('ANALYZE');
		db.close();
		const ledger = await openSqliteLedger({ backend: 'sqlite', path });
		return {
			ledger,
			cleanup: async () => {
				await ledger.close();
				rmSync(dir, { recursive: true, force: true });
			},
		};
	}
	const schema = `dashboard_bench_${process.pid}`;
	const admin = new Client({ connectionString: PG_URL });
	await admin.connect();
	await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
	await (
		await openPostgresLedger({ backend: 'postgres', connectionString: PG_URL, schema })
	).close();
	await admin.query(`SET search_path = ${schema}`);
	await admin.query('BEGIN');
	for (const sql of statements) await admin.query(sql);
	await admin.query('COMMIT');
	await admin.query(
		'VACUUM ANALYZE referrals, participants, rewards, points_journal, points_balances, coupons',
	);
	const ledger = await openPostgresLedger({
		backend: 'postgres',
		connectionString: PG_URL,
		schema,
	});
	return {
		ledger,
		cleanup: async () => {
			await ledger.close();
			await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
			await admin.end();
		},
	};
}

async function main(): Promise<void> {
	for (const backend of BACKENDS as Array<'sqlite' | 'postgres'>) {
		const { ledger, cleanup } = await seeded(backend);
		try {
			for (const period of ['month', 'lifetime'] as const) {
				const stats = await bestOf(3, () =>
					referralStats(ledger, { programId: 'bench', period, at: AT }),
				);
				let bytes = 0;
				const page = await bestOf(3, async () => {
					const data = await loadDashboard(ledger, {
						programId: 'bench',
						period,
						at: AT,
						bucket: 'week',
						buckets: 12,
					});
					bytes = dashboardHtml(data).length;
				});
				console.log(
					`${backend}: Get Stats alone ${stats.toFixed(3)} s, dashboard page ${page.toFixed(3)} s (${(bytes / 1024).toFixed(0)} KiB of HTML)`,
				);
				report({
					name: `dashboard page, ${SIZE.toLocaleString('en')} referrals, ${period}, ${backend}`,
					baseline: `Get Stats alone (referralStats, ${period})`,
					baselineSeconds: stats,
					subject: `loadDashboard + dashboardHtml (${period}, 12 weeks)`,
					subjectSeconds: page,
					note: `page ${page.toFixed(3)} s: ${page < 1 ? 'under' : 'OVER'} the 1 s the issue asks for`,
				});
				if (page >= 1) process.exitCode = 1;
			}
		} finally {
			await cleanup();
		}
	}
}

main().catch((error: unknown) => {
	console.error(error);
	process.exitCode = 1;
});
