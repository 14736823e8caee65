/* Click rollups (schema version 14, issue #18): the share-link figures of Get Stats, the
 * leaderboard and K-factor (a period's clicks, their visitors, sign-ups and qualified referrals in
 * total, per channel and per referrer) read counters instead of the period's clicks and
 * referrals. Like tables/rollups.ts, the counters move in the SAME transaction as the event: a
 * click when it is recorded (clicks are never changed), a referral's contribution taken out
 * before and put back after each change (rollupReferral calls rollupReferralClicks). The
 * contribution of a row is one SQL SELECT, shared by the migration's backfill (every row) and the
 * per-row updates (one row), so both count exactly alike.
 *
 *   stats_days  metric 'clicks'   k1 = code status   n clicks that UTC day
 *               metric 'chclicks' k1 = channel       n clicks that UTC day
 *               metric 'chrefs'   k1 = channel, k2 = status
 *                                 n referrals touched that day, attributed by a click of the channel
 *   click_referrers (program, span, start, referrer): clicks of the referrer's codes in the span
 *               (lifetime, UTC year, UTC month) and the referrer's referrals touched in it (sign_ups)
 *               of which now qualified (Get Stats' per-referrer figures and the leaderboard's)
 *   click_visitors (program, span, start, visitor) one row per visitor seen in the span, and
 *   click_spans (program, span, start) visitors: their number (distinct visitors of the span)
 */
import type { Tx } from '../sql';
import { dayUpsert, daySql, idIn, spanStart, spanStartSql, type Backend } from './rollups';

const SPANS = ['all', 'y', 'm'] as const;
const spanSql = (backend: Backend, span: (typeof SPANS)[number], x: string) =>
	span === 'all' ? 'CAST(0 AS BIGINT)' : spanStartSql(backend, span, x);

const ROW = (metric: string, k1: string, k2: string, day: string, from: string, where: string) =>
	`SELECT ${day} AS day, '${metric}' AS metric, ${k1} AS k1, ${k2} AS k2, 1 AS n, 0 AS total, 0 AS amount, program_id FROM ${from} WHERE ${where}`;

function clickDaySelects(filter: string): string[] {
	const day = daySql('c.created_at');
	return [
		ROW('clicks', 'c.code_status', "''", day, 'clicks c', filter),
		ROW('chclicks', 'c.channel', "''", day, 'clicks c', filter),
	];
}

function referralClickDaySelects(filter: string): string[] {
	// The referral's program_id (the join has two): a sub-select names it once.
	return [
		`SELECT ${daySql('r.touched_at')} AS day, 'chrefs' AS metric, c.channel AS k1, r.status AS k2, 1 AS n, 0 AS total, 0 AS amount, r.program_id AS program_id
		FROM referrals r JOIN clicks c ON c.id = r.click_id WHERE ${filter} AND r.click_id IS NOT NULL`,
	];
}

const REFERRER_COLUMNS = 'program_id, span, start, referrer_id, clicks, sign_ups, qualified';

function referrerUpsert(selects: string[], sign: string): string {
	return `INSERT INTO click_referrers (${REFERRER_COLUMNS})
		SELECT program_id, span, start, referrer_id, CAST(${sign} AS INTEGER) * SUM(clicks), CAST(${sign} AS INTEGER) * SUM(sign_ups), CAST(${sign} AS INTEGER) * SUM(qualified)
		FROM (${selects.join('\nUNION ALL ')}) c WHERE 1 = 1 GROUP BY program_id, span, start, referrer_id
		ORDER BY program_id, span, start, referrer_id
		ON CONFLICT (program_id, span, start, referrer_id) DO UPDATE SET clicks = click_referrers.clicks + excluded.clicks,
			sign_ups = click_referrers.sign_ups + excluded.sign_ups, qualified = click_referrers.qualified + excluded.qualified`;
}

function clickReferrerSelects(backend: Backend, filter: string): string[] {
	return SPANS.map(
		(span) =>
			`SELECT c.program_id, '${span}' AS span, ${spanSql(backend, span, 'c.created_at')} AS start, c.referrer_id, 1 AS clicks, 0 AS sign_ups, 0 AS qualified FROM clicks c WHERE ${filter} AND c.referrer_id IS NOT NULL`,
	);
}

function referralReferrerSelects(backend: Backend, filter: string): string[] {
	return SPANS.map(
		(span) =>
			`SELECT r.program_id, '${span}' AS span, ${spanSql(backend, span, 'r.touched_at')} AS start, r.referrer_id, 0 AS clicks, 1 AS sign_ups, CASE WHEN r.status = 'qualified' THEN 1 ELSE 0 END AS qualified FROM referrals r WHERE ${filter}`,
	);
}

function visitorSelects(backend: Backend, filter: string): string[] {
	return SPANS.map(
		(span) =>
			`SELECT c.program_id, '${span}' AS span, ${spanSql(backend, span, 'c.created_at')} AS start, c.visitor_id FROM clicks c WHERE ${filter}`,
	);
}

/** Migration 14: the tables, their index and the backfill from the clicks and referrals already in the ledger. */
export function clickRollupMigration(t: { backend: Backend; text: string }): string[] {
	return [
		`CREATE TABLE click_referrers (
			program_id ${t.text} NOT NULL,
			span ${t.text} NOT NULL,
			start BIGINT NOT NULL,
			referrer_id BIGINT NOT NULL,
			clicks BIGINT NOT NULL,
			sign_ups BIGINT NOT NULL,
			qualified BIGINT NOT NULL,
			PRIMARY KEY (program_id, span, start, referrer_id)
		)`,
		// The top referrers of a month, year or lifetime by clicks in index order.
		`CREATE INDEX click_referrers_clicks ON click_referrers (program_id, span, start, clicks DESC, referrer_id)`,
		`CREATE TABLE click_visitors (
			program_id ${t.text} NOT NULL,
			span ${t.text} NOT NULL,
			start BIGINT NOT NULL,
			visitor_id ${t.text} NOT NULL,
			PRIMARY KEY (program_id, span, start, visitor_id)
		)`,
		`CREATE TABLE click_spans (
			program_id ${t.text} NOT NULL,
			span ${t.text} NOT NULL,
			start BIGINT NOT NULL,
			visitors BIGINT NOT NULL,
			PRIMARY KEY (program_id, span, start)
		)`,
		...clickRollupBackfill(t.backend),
		// One metric's days (the clicks by status or channel, the sign-ups by status or channel) without
		// reading the other metrics' rows of the same days: 60 ms -> 2 ms over three years of days.
		`CREATE INDEX stats_days_metric ON stats_days (program_id, metric, day, k1, k2, n)`,
	];
}

/** The backfill of every program from its clicks and referrals (also used by tests and the benchmark). */
export function clickRollupBackfill(backend: Backend): string[] {
	return [
		dayUpsert([...clickDaySelects('1 = 1'), ...referralClickDaySelects('1 = 1')], '1'),
		referrerUpsert(
			[...clickReferrerSelects(backend, '1 = 1'), ...referralReferrerSelects(backend, '1 = 1')],
			'1',
		),
		`INSERT INTO click_visitors (program_id, span, start, visitor_id)
			SELECT DISTINCT program_id, span, start, visitor_id FROM (${visitorSelects(backend, '1 = 1').join('\nUNION ALL ')}) v`,
		`INSERT INTO click_spans (program_id, span, start, visitors)
			SELECT program_id, span, start, COUNT(*) FROM click_visitors GROUP BY program_id, span, start`,
	];
}

const cache = new Map<string, string>();
function cached(key: string, build: () => string): string {
	let sql = cache.get(key);
	if (sql === undefined) cache.set(key, (sql = build()));
	return sql;
}

/** A click recorded (clicks are never changed or deleted): its day, channel, referrer and visitor counters. */
export async function rollupClick(
	tx: Tx,
	backend: Backend,
	click: { id: number; programId: string; visitorId: string; createdAt: number },
) {
	await tx.run(
		cached('click-days', () => dayUpsert(clickDaySelects('c.id = $1'), '1')),
		[click.id],
	);
	await tx.run(
		cached(`click-referrers-${backend}`, () =>
			referrerUpsert(clickReferrerSelects(backend, 'c.id = $1'), '1'),
		),
		[click.id],
	);
	// The visitor's first click of each span counts it once: the membership row is inserted first
	// (a racing click of the same visitor waits on its key, then inserts nothing), and only the
	// spans it was new to are counted.
	const spans = [
		['all', 0],
		['y', spanStart('y', click.createdAt)],
		['m', spanStart('m', click.createdAt)],
	] as const;
	const fresh = await tx.all(
		`INSERT INTO click_visitors (program_id, span, start, visitor_id) VALUES
			($1, 'all', $2, $5), ($1, 'y', $3, $5), ($1, 'm', $4, $5)
		ON CONFLICT (program_id, span, start, visitor_id) DO NOTHING RETURNING span`,
		[click.programId, spans[0][1], spans[1][1], spans[2][1], click.visitorId],
	);
	for (const row of fresh) {
		const span = String(row.span);
		await tx.run(
			`INSERT INTO click_spans (program_id, span, start, visitors) VALUES ($1, $2, $3, 1)
			ON CONFLICT (program_id, span, start) DO UPDATE SET visitors = click_spans.visitors + 1`,
			[click.programId, span, spans.find(([s]) => s === span)![1]],
		);
	}
}

/** A referral's share-link contribution (its channel's sign-ups, its referrer's): around every change, with rollupReferral. */
export async function rollupReferralClicks(
	tx: Tx,
	backend: Backend,
	referralId: number,
	sign: 1 | -1,
) {
	await tx.run(
		cached('referral-click-days', () => dayUpsert(referralClickDaySelects('r.id = $1'), '$2')),
		[referralId, sign],
	);
	await tx.run(
		cached(`referral-click-referrers-${backend}`, () =>
			referrerUpsert(referralReferrerSelects(backend, 'r.id = $1'), '$2'),
		),
		[referralId, sign],
	);
}

/** The share-link contributions of referrals put in at once (a batch's end; `ids`: their JSON array). */
export async function rollupReferralsClicks(tx: Tx, backend: Backend, ids: [string]) {
	const filter = idIn(backend, 'r.id', '$1');
	await tx.run(
		cached(`referrals-click-days-${backend}`, () =>
			dayUpsert(referralClickDaySelects(filter), '1'),
		),
		ids,
	);
	await tx.run(
		cached(`referrals-click-referrers-${backend}`, () =>
			referrerUpsert(referralReferrerSelects(backend, filter), '1'),
		),
		ids,
	);
}
