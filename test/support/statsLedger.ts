/* A program's ledger of n referrals seeded by bulk SQL (one INSERT ... SELECT per table over a
 * recursive CTE / generate_series, not through the engine), then the rollups filled as schema
 * version 11's migration fills them: for the stats benchmark (bench/stats.bench.ts) and the test
 * that n8n stays responsive while Get Stats runs over 1,000,000 referrals (test/e2e/stats.e2e.test.ts).
 *
 * A program over three years ending at the report instant; 1 referrer per 10 referees; of the
 * referrals 40 % qualified, 10 % reversed, the rest spread over the other statuses; one
 * qualifying order each (EUR, every 7th USD), its `referral.qualified` event, a 5 EUR cash reward
 * and 100 points to the referrer. */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { openSqliteLedger } from '../../engine/ledger';
import { MIGRATIONS } from '../../engine/ledger/schema';
import { clickRollupBackfill } from '../../engine/ledger/tables/clickRollups';
import { rollupBackfill } from '../../engine/ledger/tables/rollups';

export const PROGRAM = 'bench';
/** The report instant: mid-December, so "this month" holds half a month and "this year" eleven. */
export const AT = Date.UTC(2026, 11, 15, 12);
const SPAN = 3 * 365 * 86_400_000;
const DAY = 86_400_000;

export function series(backend: 'sqlite' | 'postgres', n: number): string {
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

/**
 * `clicks` tracked link clicks over the same three years (schema version 9's table): 1 in 20 of an
 * unknown code, 1 in 20 of a revoked one, the rest of a referrer's code; five channels; about 7
 * clicks per 10 from a distinct visitor; every third referral attributed to the click of its time.
 */
export function clickSeedStatements(
	backend: 'sqlite' | 'postgres',
	n: number,
	clicks: number,
): string[] {
	if (clicks === 0) return [];
	const referrers = Math.max(1, Math.floor(n / 10));
	const step = Math.floor(SPAN / clicks);
	const visitors = Math.max(1, Math.floor((clicks * 7) / 10));
	return [
		`INSERT INTO clicks (id, program_id, code, referrer_id, code_status, created_at, channel, visitor_id)
			SELECT s.i, '${PROGRAM}', 'c' || s.i,
				CASE WHEN s.i % 20 < 2 THEN NULL ELSE ${n} + 1 + s.i % ${referrers} END,
				CASE s.i % 20 WHEN 0 THEN 'unknown' WHEN 1 THEN 'revoked' ELSE 'known' END,
				${AT - SPAN} + s.i * ${step},
				CASE s.i % 5 WHEN 0 THEN 'direct' WHEN 1 THEN 'newsletter' WHEN 2 THEN 'x.com' WHEN 3 THEN 'facebook.com' ELSE 'whatsapp' END,
				'visitor-' || ((s.i * 7919) % ${visitors})
			FROM ${series(backend, clicks)}`,
		`UPDATE referrals SET click_id = id * ${clicks} / ${n} WHERE id % 3 = 0 AND id * ${clicks} / ${n} >= 1`,
	];
}

/** Builds the SQLite ledger at `path` (migrated by the ledger, seeded, rollups filled, analysed). */
export async function buildStatsLedger(path: string, n: number, clicks = 0): Promise<void> {
	const building = `${path}.${process.pid}.tmp`;
	await (await openSqliteLedger({ backend: 'sqlite', path: building })).close();
	const db = new DatabaseSync(building);
	db.exec('BEGIN');
	for (const sql of seedStatements('sqlite', n)) db.exec(sql);
	for (const sql of clickSeedStatements('sqlite', n, clicks)) db.exec(sql);
	// The bulk seed bypasses the ledger's write paths: fill the rollups as migrations 11 and 14 do.
	for (const sql of rollupBackfill('sqlite')) db.exec(sql);
	for (const sql of clickRollupBackfill('sqlite')) db.exec(sql);
	db.exec('COMMIT');
	db.exec('ANALYZE');
	db.close();
	renameSync(building, path);
}

/** The ledger of n referrals in .cache/bench, built once (keyed by its seed and schema) and reused. */
export async function cachedStatsLedger(n: number, clicks = 0): Promise<string> {
	const key = createHash('sha256')
		.update(
			JSON.stringify([
				seedStatements('sqlite', n),
				clickSeedStatements('sqlite', n, clicks),
				MIGRATIONS.map((m) =>
					m.statements({ backend: 'sqlite', text: 'TEXT', pk: '', serialPk: '', float: 'REAL' }),
				),
			]),
		)
		.digest('hex')
		.slice(0, 16);
	const dir = join(__dirname, '..', '..', '.cache', 'bench');
	const path = join(dir, `stats-${n}${clicks > 0 ? `-${clicks}clicks` : ''}-${key}.sqlite`);
	if (!existsSync(path)) {
		mkdirSync(dir, { recursive: true });
		await buildStatsLedger(path, n, clicks);
	}
	return path;
}
