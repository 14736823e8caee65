/* Statistics rollups (schema version 11, issue #18): Get Stats and the leaderboards read counters
 * per program and UTC day (stats_days) and per participant and UTC month / year / lifetime
 * (stats_periods) instead of every referral of the period. The counters move in the SAME
 * transaction as the event that changes them: each write path calls one function per event
 * here, with the row's contribution taken out before the change (sign -1) and put back after it
 * (sign +1). The contribution of a row is one SQL SELECT, shared by the migration's backfill
 * (over every row) and these per-row updates (over one row), so both count exactly alike. */
import type { CountedTable } from '../pendingRollups';
import type { Tx } from '../sql';
import { rollupReferralClicks, rollupReferralsClicks } from './clickRollups';

export type Backend = 'sqlite' | 'postgres';

export const DAY_MS = 86_400_000;

/** The UTC day (start, epoch ms) of an epoch-ms column; a floor also before 1970. */
export const daySql = (x: string) => `(${x} - ((${x} % ${DAY_MS}) + ${DAY_MS}) % ${DAY_MS})`;

/** The UTC month / year start (epoch ms) of an epoch-ms column. */
export function spanStartSql(backend: Backend, span: 'm' | 'y', x: string): string {
	if (backend === 'sqlite') {
		const mod = span === 'm' ? 'start of month' : 'start of year';
		return `(CAST(strftime('%s', CAST(${daySql(x)} / 1000 AS INTEGER), 'unixepoch', '${mod}') AS INTEGER) * 1000)`;
	}
	const unit = span === 'm' ? 'month' : 'year';
	return `(CAST(EXTRACT(EPOCH FROM date_trunc('${unit}', to_timestamp(${daySql(x)} / 1000) AT TIME ZONE 'UTC')) AS BIGINT) * 1000)`;
}

/** The same in JavaScript, for the readers. */
export function spanStart(span: 'm' | 'y', at: number): number {
	const d = new Date(at);
	return span === 'm'
		? Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1)
		: Date.UTC(d.getUTCFullYear(), 0, 1);
}

export const floorDay = (t: number) => t - (((t % DAY_MS) + DAY_MS) % DAY_MS);
export const ceilDay = (t: number) => (floorDay(t) === t ? t : floorDay(t) + DAY_MS);

/** The rollup span a window is exactly: lifetime, one UTC year or one UTC month. */
export function rollupSpan(
	since: number | undefined,
	until: number | undefined,
): { span: 'all' | 'y' | 'm'; start: number } | undefined {
	if (since === undefined && until === undefined) return { span: 'all', start: 0 };
	if (since === undefined || until === undefined) return undefined;
	if (spanStart('m', since) === since && nextMonth(since) === until)
		return { span: 'm', start: since };
	if (spanStart('y', since) === since && nextYear(since) === until)
		return { span: 'y', start: since };
	return undefined;
}

export function nextMonth(start: number): number {
	const d = new Date(start);
	return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}
export function nextYear(start: number): number {
	return Date.UTC(new Date(start).getUTCFullYear() + 1, 0, 1);
}

/** isValidOrderAmount (money.ts) with the default maximum as SQL, and the amount in minor units. */
export function orderSql(
	exponent: number,
	column = 'r.order_amount',
): { valid: string; minor: string } {
	const x = `(${column} * ${10 ** exponent})`;
	const top = 10 ** (9 - exponent);
	return {
		valid: `${column} >= 0 AND ${column} <= ${top} AND ABS(${x} - ROUND(${x})) <= 0.000001 * (CASE WHEN ${x} > 1 THEN ${x} ELSE 1 END)`,
		minor: `CAST(ROUND(${x}) AS BIGINT)`,
	};
}
export const EXPONENTS = [0, 2, 3] as const;

export const CONVERTED_SQL = `r.status IN ('qualified', 'reversed') AND r.qualified_at IS NOT NULL`;
export const DURATION_SQL = `CASE WHEN r.qualified_at > r.touched_at THEN r.qualified_at - r.touched_at ELSE 0 END`;
/**
 * The time-to-convert histogram bucket of a duration d ≥ 0 (ms), exact below 16 and else its bit
 * length and the 3 bits after the leading one (buckets 7–12 % wide): integer arithmetic both
 * backends share. bucketBounds() gives a bucket's [lo, hi).
 */
const MAX_BITS = 53;
function bucketSql(d: string): string {
	const bits = `(CASE ${Array.from({ length: MAX_BITS - 4 }, (_, i) => `WHEN ${d} < ${2 ** (i + 5)} THEN ${i + 5}`).join(' ')} ELSE ${MAX_BITS} END)`;
	return `(CASE WHEN ${d} < 16 THEN ${d} ELSE ${bits} * 8 + ((${d} >> (${bits} - 4)) & 7) END)`;
}
export const BUCKET_SQL = bucketSql(`(${DURATION_SQL})`);
export function bucketBounds(bucket: number): { lo: number; hi: number } {
	if (bucket < 16) return { lo: bucket, hi: bucket + 1 };
	const bits = Math.floor(bucket / 8);
	const m = bucket % 8;
	return { lo: (8 + m) * 2 ** (bits - 4), hi: (9 + m) * 2 ** (bits - 4) };
}

const nearWhole = (x: string) =>
	`ABS(${x} - ROUND(${x})) <= 0.000001 * (CASE WHEN ABS(${x}) > 1 THEN ABS(${x}) ELSE 1 END)`;
export const HUNDREDTHS_SQL = `(CASE WHEN ABS(w.amount) < 10000000000000 AND ${nearWhole('w.amount * 100')} THEN 1 ELSE 0 END)`;

/*
 * stats_days rows (program_id, day, metric, k1, k2, n, total, amount):
 *   status     k1 = status                        n referrals touched that day now in that status
 *   converted                                     n of them converted, total = sum of time to convert (ms)
 *   convertms  k1 = histogram bucket              n of them converted in that time bucket (for the median)
 *   orders     k1 = currency, k2 = status         n qualifying orders with a currency
 *   valid<e>   k1 = currency, k2 = status         n of them valid for exponent e, total = minor units
 *   reward     k1 = currency                      n rewards created that day with an amount, not reversed; total = hundredths, amount = plain sum
 *   rewardfrac k1 = currency                      n of them not a whole number of hundredths
 *   rewardfirst k1 = currency                     n = the lowest id among them (0: none), so the
 *                                                 currencies list in order of their first reward
 *   participants                                  n participants created that day
 */
const ROW = (
	day: string,
	metric: string,
	k1: string,
	k2: string,
	count: string,
	total: string,
	amount: string,
	from: string,
	where: string,
) =>
	`SELECT ${day} AS day, '${metric}' AS metric, ${k1} AS k1, ${k2} AS k2, ${count} AS n, ${total} AS total, ${amount} AS amount, program_id FROM ${from} WHERE ${where}`;

function referralDaySelects(filter: string): string[] {
	const day = daySql('r.touched_at');
	const from = 'referrals r';
	const w = (extra?: string) => (extra ? `${filter} AND ${extra}` : filter);
	const orders = `${CONVERTED_SQL} AND r.order_amount IS NOT NULL AND r.order_currency IS NOT NULL AND r.order_currency <> ''`;
	return [
		ROW(day, 'status', 'r.status', "''", '1', '0', '0', from, w()),
		ROW(day, 'converted', "''", "''", '1', DURATION_SQL, '0', from, w(CONVERTED_SQL)),
		ROW(
			day,
			'convertms',
			`CAST(${BUCKET_SQL} AS TEXT)`,
			"''",
			'1',
			'0',
			'0',
			from,
			w(CONVERTED_SQL),
		),
		ROW(day, 'orders', 'r.order_currency', 'r.status', '1', '0', '0', from, w(orders)),
		...EXPONENTS.map((e) => {
			const { valid, minor } = orderSql(e);
			return ROW(
				day,
				`valid${e}`,
				'r.order_currency',
				'r.status',
				'1',
				minor,
				'0',
				from,
				w(`${orders} AND ${valid}`),
			);
		}),
	];
}

function rewardDaySelects(filter: string): string[] {
	const day = daySql('w.created_at');
	const from = 'rewards w';
	const where = `${filter} AND w.status <> 'reversed' AND w.amount IS NOT NULL AND w.currency IS NOT NULL`;
	return [
		ROW(
			day,
			'reward',
			'w.currency',
			"''",
			'1',
			`CASE WHEN ${HUNDREDTHS_SQL} = 1 THEN CAST(ROUND(w.amount * 100) AS BIGINT) ELSE 0 END`,
			'w.amount',
			from,
			where,
		),
		ROW(day, 'rewardfrac', 'w.currency', "''", `1 - ${HUNDREDTHS_SQL}`, '0', '0', from, where),
	];
}

function participantDaySelects(filter: string): string[] {
	return [
		ROW(
			daySql('p.created_at'),
			'participants',
			"''",
			"''",
			'1',
			'0',
			'0',
			'participants p',
			filter,
		),
	];
}

/*
 * stats_periods rows (program_id, span, start, participant_id, referrals, qualified, points), span
 * 'all' (start 0), 'y' or 'm' (UTC year / month start): referrals touched in the span as referrer,
 * referrals qualified in the span (by qualified_at) and not reversed, net points in the span.
 */
const SPANS = ['all', 'y', 'm'] as const;
function spanSql(backend: Backend, span: (typeof SPANS)[number], x: string): string {
	return span === 'all' ? '0' : spanStartSql(backend, span, x);
}

function referralPeriodSelects(backend: Backend, filter: string): string[] {
	return SPANS.flatMap((span) => [
		`SELECT r.program_id, '${span}' AS span, ${spanSql(backend, span, 'r.touched_at')} AS start, r.referrer_id AS participant_id, 1 AS referrals, 0 AS qualified, 0 AS points FROM referrals r WHERE ${filter}`,
		`SELECT r.program_id, '${span}' AS span, ${spanSql(backend, span, 'r.qualified_at')} AS start, r.referrer_id AS participant_id, 0 AS referrals, 1 AS qualified, 0 AS points FROM referrals r WHERE ${filter} AND r.qualified_at IS NOT NULL AND r.status <> 'reversed'`,
	]);
}

function pointsPeriodSelects(backend: Backend, filter: string): string[] {
	return SPANS.map(
		(span) =>
			`SELECT j.program_id, '${span}' AS span, ${spanSql(backend, span, 'j.created_at')} AS start, j.participant_id, 0 AS referrals, 0 AS qualified, j.delta AS points FROM points_journal j WHERE ${filter}`,
	);
}

const DAY_COLUMNS = 'program_id, day, metric, k1, k2, n, total, amount';
const PERIOD_COLUMNS = 'program_id, span, start, participant_id, referrals, qualified, points';

export function dayUpsert(selects: string[], sign: string): string {
	return `INSERT INTO stats_days (${DAY_COLUMNS})
		SELECT program_id, day, metric, k1, k2, CAST(${sign} AS INTEGER) * SUM(n), CAST(${sign} AS INTEGER) * SUM(total), CAST(${sign} AS INTEGER) * SUM(amount)
		FROM (${selects.join('\nUNION ALL ')}) c WHERE n <> 0 OR total <> 0 OR amount <> 0 GROUP BY program_id, day, metric, k1, k2
		ORDER BY program_id, day, metric, k1, k2
		ON CONFLICT (program_id, day, metric, k1, k2) DO UPDATE SET n = stats_days.n + excluded.n,
			total = stats_days.total + excluded.total, amount = stats_days.amount + excluded.amount`;
}

function periodUpsert(selects: string[], sign: string): string {
	return `INSERT INTO stats_periods (${PERIOD_COLUMNS})
		SELECT program_id, span, start, participant_id, CAST(${sign} AS INTEGER) * SUM(referrals), CAST(${sign} AS INTEGER) * SUM(qualified), CAST(${sign} AS INTEGER) * SUM(points)
		FROM (${selects.join('\nUNION ALL ')}) c WHERE 1 = 1 GROUP BY program_id, span, start, participant_id
		ORDER BY program_id, span, start, participant_id
		ON CONFLICT (program_id, span, start, participant_id) DO UPDATE SET referrals = stats_periods.referrals + excluded.referrals,
			qualified = stats_periods.qualified + excluded.qualified, points = stats_periods.points + excluded.points`;
}

/** Migration 11: the tables, their indexes and the backfill from every existing row. */
export function rollupMigration(t: { backend: Backend; text: string; float: string }): string[] {
	return [
		`CREATE TABLE stats_days (
			program_id ${t.text} NOT NULL,
			day BIGINT NOT NULL,
			metric ${t.text} NOT NULL,
			k1 ${t.text} NOT NULL,
			k2 ${t.text} NOT NULL,
			n BIGINT NOT NULL,
			total BIGINT NOT NULL,
			amount ${t.float} NOT NULL,
			PRIMARY KEY (program_id, day, metric, k1, k2)
		)`,
		`CREATE TABLE stats_periods (
			program_id ${t.text} NOT NULL,
			span ${t.text} NOT NULL,
			start BIGINT NOT NULL,
			participant_id BIGINT NOT NULL,
			referrals BIGINT NOT NULL,
			qualified BIGINT NOT NULL,
			points BIGINT NOT NULL,
			PRIMARY KEY (program_id, span, start, participant_id)
		)`,
		// Top N of a month, year or lifetime in index order: no scan of the span's participants.
		`CREATE INDEX stats_periods_qualified ON stats_periods (program_id, span, start, qualified DESC, participant_id)`,
		`CREATE INDEX stats_periods_points ON stats_periods (program_id, span, start, points DESC, participant_id)`,
		// The median time to convert: the k-th duration inside one histogram bucket, in index order.
		`CREATE INDEX referrals_convert_ms ON referrals (program_id, (${DURATION_SQL.replace(/r\./g, '')}), touched_at)
			WHERE status IN ('qualified', 'reversed') AND qualified_at IS NOT NULL`,
		...rollupBackfill(t.backend),
	];
}

const REWARD_COUNTS = `w.status <> 'reversed' AND w.amount IS NOT NULL AND w.currency IS NOT NULL`;

/** The backfill of every program from its rows (also used by the benchmark after a bulk seed). */
export function rollupBackfill(backend: Backend): string[] {
	return [
		`INSERT INTO stats_days (${DAY_COLUMNS})
			SELECT w.program_id, ${daySql('w.created_at')}, 'rewardfirst', w.currency, '', MIN(w.id), 0, 0
			FROM rewards w WHERE ${REWARD_COUNTS} GROUP BY w.program_id, ${daySql('w.created_at')}, w.currency`,
		dayUpsert(
			[
				...referralDaySelects('1 = 1'),
				...rewardDaySelects('1 = 1'),
				...participantDaySelects('1 = 1'),
			],
			'1',
		),
		periodUpsert(
			[...referralPeriodSelects(backend, '1 = 1'), ...pointsPeriodSelects(backend, '1 = 1')],
			'1',
		),
	];
}

const cache = new Map<string, string>();
function cached(key: string, build: () => string): string {
	let sql = cache.get(key);
	if (sql === undefined) cache.set(key, (sql = build()));
	return sql;
}

/** `column` is one of the ids in the JSON array parameter `param`: one statement for any number of rows. */
export function idIn(backend: Backend, column: string, param: string): string {
	return backend === 'sqlite'
		? `${column} IN (SELECT value FROM json_each(${param}))`
		: `${column} IN (SELECT CAST(value AS BIGINT) FROM json_array_elements_text(CAST(${param} AS JSON)))`;
}

/**
 * A referral's contribution, taken out (sign -1, before an UPDATE) or put in (sign +1, after an
 * INSERT or UPDATE). Every change of a referral's status, touched_at, referrer, qualified_at or
 * qualifying order calls this twice around the statement, in the same transaction (in a batch, the
 * batch puts it in at its end: pendingRollups.ts).
 */
export async function rollupReferral(tx: Tx, backend: Backend, referralId: number, sign: 1 | -1) {
	if (tx.pending?.defer('referral', referralId, sign)) return;
	await tx.run(
		cached(`referral-days`, () => dayUpsert(referralDaySelects('r.id = $1'), '$2')),
		[referralId, sign],
	);
	await tx.run(
		cached(`referral-periods-${backend}`, () =>
			periodUpsert(referralPeriodSelects(backend, 'r.id = $1'), '$2'),
		),
		[referralId, sign],
	);
	await rollupReferralClicks(tx, backend, referralId, sign);
}

/** The contributions of referrals put in at once (a batch's end). */
export async function rollupReferrals(tx: Tx, backend: Backend, referralIds: number[]) {
	const ids: [string] = [JSON.stringify(referralIds)];
	await tx.run(
		cached(`referrals-days-${backend}`, () =>
			dayUpsert(referralDaySelects(idIn(backend, 'r.id', '$1')), '1'),
		),
		ids,
	);
	await tx.run(
		cached(`referrals-periods-${backend}`, () =>
			periodUpsert(referralPeriodSelects(backend, idIn(backend, 'r.id', '$1')), '1'),
		),
		ids,
	);
	await rollupReferralsClicks(tx, backend, ids);
}

/** A reward's contribution (cost by currency): around every change of its status or amount. */
export async function rollupReward(tx: Tx, rewardId: number, sign: 1 | -1) {
	if (tx.pending?.defer('reward', rewardId, sign)) return;
	await tx.run(
		cached('reward-days', () => dayUpsert(rewardDaySelects('w.id = $1'), '$2')),
		[rewardId, sign],
	);
	if (sign === -1) return;
	await tx.run(
		cached('reward-first', () => rewardFirstUpsert('w.id = $1')),
		[rewardId],
	);
}

/** The contributions of rewards put in at once (a batch's end). */
export async function rollupRewards(tx: Tx, backend: Backend, rewardIds: number[]) {
	const ids = [JSON.stringify(rewardIds)];
	const filter = idIn(backend, 'w.id', '$1');
	await tx.run(
		cached(`rewards-days-${backend}`, () => dayUpsert(rewardDaySelects(filter), '1')),
		ids,
	);
	await tx.run(
		cached(`rewards-first-${backend}`, () => rewardFirstUpsert(filter)),
		ids,
	);
}

/** The lowest id counted on the day and currency of each reward `where` selects, again (one day's index range each). */
function rewardFirstUpsert(where: string): string {
	const day = daySql('w.created_at');
	return `INSERT INTO stats_days (${DAY_COLUMNS})
		SELECT d.program_id, d.day, 'rewardfirst', d.currency, '',
			COALESCE((SELECT MIN(x.id) FROM rewards x WHERE x.program_id = d.program_id AND x.created_at >= d.day
				AND x.created_at < d.day + ${DAY_MS} AND x.currency = d.currency AND x.status <> 'reversed' AND x.amount IS NOT NULL), 0), 0, 0
		FROM (SELECT DISTINCT w.program_id, ${day} AS day, w.currency FROM rewards w
			WHERE ${where} AND w.amount IS NOT NULL AND w.currency IS NOT NULL) d
		WHERE 1 = 1 ORDER BY d.program_id, d.day, d.currency
		ON CONFLICT (program_id, day, metric, k1, k2) DO UPDATE SET n = excluded.n`;
}

/** A participant enrolled (participants are never deleted). */
export async function rollupParticipant(tx: Tx, participantId: number) {
	if (tx.pending?.defer('participant', participantId, 1)) return;
	await tx.run(
		cached('participant-days', () => dayUpsert(participantDaySelects('p.id = $1'), '1')),
		[participantId],
	);
}

/** Participants enrolled, put in at once (a batch's end). */
export async function rollupNewParticipants(tx: Tx, backend: Backend, participantIds: number[]) {
	await tx.run(
		cached(`participants-days-${backend}`, () =>
			dayUpsert(participantDaySelects(idIn(backend, 'p.id', '$1')), '1'),
		),
		[JSON.stringify(participantIds)],
	);
}

/** stats_periods as counted rows (a batch sums points per row: pendingRollups.ts). */
const PERIODS: CountedTable = {
	name: 'stats_periods',
	keys: ['program_id', 'span', 'start', 'participant_id'],
	counts: ['referrals', 'qualified', 'points'],
};

/** A points journal entry (entries are never changed): net points per month, year and lifetime. */
export async function rollupPoints(
	tx: Tx,
	programId: string,
	participantId: number,
	delta: number,
	at: number,
) {
	if (delta === 0) return;
	if (tx.pending) {
		for (const [span, start] of [
			['all', 0],
			['m', spanStart('m', at)],
			['y', spanStart('y', at)],
		] as const)
			tx.pending.add(PERIODS, [programId, span, start, participantId], [0, 0, delta]);
		return;
	}
	await tx.run(
		`INSERT INTO stats_periods (${PERIOD_COLUMNS}) VALUES
			($1, 'all', 0, $2, 0, 0, $3), ($1, 'm', $5, $2, 0, 0, $3), ($1, 'y', $4, $2, 0, 0, $3)
		ON CONFLICT (program_id, span, start, participant_id) DO UPDATE SET points = stats_periods.points + excluded.points`,
		[programId, participantId, delta, spanStart('y', at), spanStart('m', at)],
	);
}
