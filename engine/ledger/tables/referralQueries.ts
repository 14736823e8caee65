/* The queries over referrals: lists, counts, shared signals, edges, conversions and the
 * leaderboard (read-only; the writes are in referrals.ts). */
import { EngineError } from '../../shared/errors';
import { currencyExponent } from '../../shared/money';
import type { LedgerCore } from '../core';
import { inputObject, programIdOf } from '../inputs';
import { n, s, sOrNull, toConversion, toReferral } from '../rows';
import { aggregateInWindow, Params, timeWindow as window, type Tx } from '../sql';
import {
	BUCKET_SQL,
	bucketBounds,
	CONVERTED_SQL,
	DURATION_SQL,
	EXPONENTS,
	HUNDREDTHS_SQL,
	ceilDay,
	floorDay,
	nextMonth,
	nextYear,
	orderSql,
	rollupSpan,
	spanStart,
} from './rollups';
import type {
	ConversionRecord,
	ConversionsQuery,
	CountReferralsQuery,
	ReferrerWindowsQuery,
	DashboardQuery,
	DashboardTotals,
	EdgesQuery,
	LeaderboardQuery,
	LeaderboardRow,
	LedgerStore,
	ListReferralsQuery,
	ReferralCounts,
	ReferralEdge,
	ReferralRecord,
	ReferralStatsQuery,
	ReferralStatsTotals,
	SignalQuery,
	StatsOrderTotals,
	StatsRewardTotals,
} from '../store';
import * as v from '../validate';
import { fail, LIMITS } from '../validate';

type Methods =
	| 'listReferrals'
	| 'countReferrals'
	| 'referralsBySignal'
	| 'referralEdges'
	| 'listConversions'
	| 'leaderboard'
	| 'referralStatsTotals'
	| 'dashboardTotals';

export class ReferralQueriesTable implements Pick<LedgerStore, Methods> {
	constructor(private readonly core: LedgerCore) {}

	async listReferrals(query: ListReferralsQuery): Promise<ReferralRecord[]> {
		inputObject(query, 'listReferrals');
		const q = new Params();
		const where = [`program_id = ${q.p(programIdOf(query))}`];
		const referrerId = v.optRowId(query.referrerId, 'referrerId');
		const refereeId = v.optRowId(query.refereeId, 'refereeId');
		const state =
			query.status === undefined || query.status === null
				? undefined
				: v.status(query.status, 'status');
		const since = v.optTime(query.since, 'since');
		const until = v.optTime(query.until, 'until');
		const afterId = v.optRowId(query.afterId, 'afterId');
		if (referrerId !== undefined) where.push(`referrer_id = ${q.p(referrerId)}`);
		if (refereeId !== undefined) where.push(`referee_id = ${q.p(refereeId)}`);
		if (state !== undefined) where.push(`status = ${q.p(state)}`);
		if (since !== undefined) where.push(`touched_at >= ${q.p(since)}`);
		if (until !== undefined) where.push(`touched_at < ${q.p(until)}`);
		if (afterId !== undefined) where.push(`id > ${q.p(afterId)}`);
		const sql = `SELECT * FROM referrals WHERE ${where.join(' AND ')} ORDER BY id LIMIT ${q.p(v.limit(query.limit))}`;
		return (await this.core.read((tx) => tx.all(sql, q.values))).map(toReferral);
	}

	async countReferrals(query: CountReferralsQuery): Promise<ReferralCounts> {
		inputObject(query, 'countReferrals');
		const q = new Params();
		const where = [`program_id = ${q.p(programIdOf(query))}`];
		const referrerId = v.optRowId(query.referrerId, 'referrerId');
		const since = v.optTime(query.since, 'since');
		const until = v.optTime(query.until, 'until');
		if (referrerId !== undefined) where.push(`referrer_id = ${q.p(referrerId)}`);
		if (since !== undefined) where.push(`touched_at >= ${q.p(since)}`);
		if (until !== undefined) where.push(`touched_at < ${q.p(until)}`);
		const rows = await this.core.read((tx) =>
			tx.all(
				`SELECT status, COUNT(*) AS n FROM referrals WHERE ${where.join(' AND ')} GROUP BY status`,
				q.values,
			),
		);
		const byStatus: Record<string, number> = {};
		let total = 0;
		for (const r of rows) {
			byStatus[s(r.status)] = n(r.n);
			total += n(r.n);
		}
		return { total, byStatus };
	}

	async countReferralsInWindows(query: ReferrerWindowsQuery): Promise<number[]> {
		inputObject(query, 'countReferralsInWindows');
		const q = new Params();
		const programId = q.p(programIdOf(query));
		const referrerId = q.p(v.rowId(query.referrerId, 'referrerId'));
		if (!Array.isArray(query.since) || query.since.length === 0 || query.since.length > 8)
			fail('invalid_value', 'since', 'since must list 1 to 8 window starts');
		const starts = query.since.map((t, i) => v.time(t, `since[${i}]`));
		const until = q.p(v.time(query.until, 'until'));
		// Every window is a part of the widest one: one range on (program, referrer, touched_at),
		// counted from the index alone.
		const counts = starts.map(
			(start, i) => `COUNT(CASE WHEN touched_at >= ${q.p(start)} THEN 1 END) AS c${i}`,
		);
		const row = await this.core.read((tx) =>
			tx.get(
				`SELECT ${counts.join(', ')} FROM referrals WHERE program_id = ${programId} AND referrer_id = ${referrerId} AND touched_at >= ${q.p(Math.min(...starts))} AND touched_at < ${until}`,
				q.values,
			),
		);
		return starts.map((_, i) => n(row?.[`c${i}`] ?? 0));
	}

	async referralsBySignal(query: SignalQuery): Promise<ReferralRecord[]> {
		inputObject(query, 'referralsBySignal');
		const q = new Params();
		const programId = programIdOf(query);
		const since = v.time(query.since, 'since');
		const ipHash = v.optText(query.ipHash, 'ipHash', LIMITS.id);
		const deviceHash = v.optText(query.deviceHash, 'deviceHash', LIMITS.id);
		if (ipHash === undefined && deviceHash === undefined)
			fail('required', 'ipHash', 'give ipHash or deviceHash to look for referrals sharing it');
		const until = v.optTime(query.until, 'until');
		const exclude = v.optRowId(query.excludeReferralId, 'excludeReferralId');
		// One branch per signal, each a range on its own (program, signal, touched_at) index, the rows
		// fetched by id: an OR across the two signals, or an ORDER BY the branches could deliver, lets a
		// planner without statistics walk every sign-up of the window on (program, touched_at) instead.
		const branch = (column: string, value: string) => {
			const where = [
				`program_id = ${q.p(programId)}`,
				`${column} = ${q.p(value)}`,
				`touched_at >= ${q.p(since)}`,
			];
			if (until !== undefined) where.push(`touched_at < ${q.p(until)}`);
			if (exclude !== undefined) where.push(`id <> ${q.p(exclude)}`);
			return `SELECT id FROM referrals WHERE ${where.join(' AND ')}`;
		};
		const branches = [
			ipHash !== undefined ? branch('ip_hash', ipHash) : '',
			deviceHash !== undefined ? branch('device_hash', deviceHash) : '',
		].filter(Boolean);
		const sql = `SELECT * FROM referrals WHERE id IN (${branches.join(' UNION ')}) ORDER BY touched_at DESC, id DESC LIMIT ${q.p(v.limit(query.limit))}`;
		return (await this.core.read((tx) => tx.all(sql, q.values))).map(toReferral);
	}

	async referralEdges(query: EdgesQuery): Promise<ReferralEdge[]> {
		inputObject(query, 'referralEdges');
		const q = new Params();
		const programId = programIdOf(query);
		const columns = 'SELECT id, referrer_id, referee_id, status FROM referrals';
		let sql: string;
		if (query.participantIds !== undefined && query.participantIds !== null) {
			const ids = v.idList(query.participantIds, 'participantIds');
			if (ids.length === 0) return [];
			// Outgoing and incoming edges as two index lookups: (program, referrer) and (program, referee).
			sql = `${columns} WHERE program_id = ${q.p(programId)} AND referrer_id IN ${q.list(ids)} AND referee_id IS NOT NULL
				UNION ${columns} WHERE program_id = ${q.p(programId)} AND referee_id IN ${q.list(ids)}`;
		} else {
			sql = `${columns} WHERE program_id = ${q.p(programId)} AND referee_id IS NOT NULL`;
		}
		sql += ` ORDER BY id LIMIT ${q.p(v.limit(query.limit, 'limit', LIMITS.pageSize))}`;
		return (await this.core.read((tx) => tx.all(sql, q.values))).map((r) => ({
			referralId: n(r.id),
			referrerId: n(r.referrer_id),
			refereeId: n(r.referee_id),
			status: s(r.status),
		}));
	}

	async listConversions(query: ConversionsQuery): Promise<ConversionRecord[]> {
		inputObject(query, 'listConversions');
		const q = new Params();
		const where = [`program_id = ${q.p(programIdOf(query))}`];
		const ids = v.idList(query.referralIds, 'referralIds');
		if (ids.length === 0) return [];
		where.push(`referral_id IN ${q.list(ids)}`);
		if (query.qualifiedOnly === true) where.push('qualified = 1');
		const rows = await this.core.read((tx) =>
			tx.all(`SELECT * FROM conversions WHERE ${where.join(' AND ')} ORDER BY id`, q.values),
		);
		return rows.map(toConversion);
	}

	async leaderboard(query: LeaderboardQuery): Promise<LeaderboardRow[]> {
		inputObject(query, 'leaderboard');
		const q = new Params();
		const programId = programIdOf(query);
		const by = v.oneOf(query.by, 'by', ['qualifiedReferrals', 'points'] as const);
		const since = v.optTime(query.since, 'since');
		const until = v.optTime(query.until, 'until');
		const limit = v.limit(query.limit, 'limit', 10);
		const source = v.oneOf(query.source ?? 'rollups', 'source', ['rollups', 'rows'] as const);
		const span = source === 'rows' ? undefined : rollupSpan(since, until);
		const excluded =
			query.excludeStatuses === undefined || query.excludeStatuses === null
				? []
				: v.statusList(query.excludeStatuses, 'excludeStatuses');
		if (
			span !== undefined &&
			(by === 'points' || (excluded.length === 1 && excluded[0] === 'reversed'))
		) {
			// The top N of one UTC month / year / lifetime in index order (stats_periods_qualified /
			// _points): ties share a rank, which the top rows themselves give (1 + rows scored higher).
			const column = by === 'points' ? 'points' : 'qualified';
			const rows = await this.core.readRollups((tx) =>
				tx.all(
					`SELECT t.participant_id, t.${column} AS score, p.external_id, p.name FROM stats_periods t
					JOIN participants p ON p.id = t.participant_id
					WHERE t.program_id = ${q.p(programId)} AND t.span = ${q.p(span.span)} AND t.start = ${q.p(span.start)}
						AND t.${column} ${by === 'points' ? '<> 0' : '> 0'}
					ORDER BY t.${column} DESC, t.participant_id LIMIT ${q.p(limit)}`,
					q.values,
				),
			);
			let rank = 0;
			return rows.map((r, i) => {
				if (i === 0 || n(r.score) !== n(rows[i - 1].score)) rank = i + 1;
				return {
					rank,
					participantId: n(r.participant_id),
					externalId: sOrNull(r.external_id),
					name: sOrNull(r.name),
					score: n(r.score),
				};
			});
		}
		let scores: string;
		if (by === 'qualifiedReferrals') {
			const where = [`program_id = ${q.p(programId)}`, 'qualified_at IS NOT NULL'];
			if (since !== undefined) where.push(`qualified_at >= ${q.p(since)}`);
			if (until !== undefined) where.push(`qualified_at < ${q.p(until)}`);
			if (
				query.excludeStatuses !== undefined &&
				query.excludeStatuses !== null &&
				query.excludeStatuses.length > 0
			) {
				where.push(
					`status NOT IN ${q.list(v.statusList(query.excludeStatuses, 'excludeStatuses'))}`,
				);
			}
			scores = `SELECT referrer_id AS participant_id, COUNT(*) AS score FROM referrals WHERE ${where.join(' AND ')} GROUP BY referrer_id`;
		} else if (since === undefined && until === undefined) {
			scores = `SELECT participant_id, balance AS score FROM points_balances WHERE program_id = ${q.p(programId)} AND balance <> 0`;
		} else {
			const where = [`program_id = ${q.p(programId)}`];
			if (since !== undefined) where.push(`created_at >= ${q.p(since)}`);
			if (until !== undefined) where.push(`created_at < ${q.p(until)}`);
			scores = `SELECT participant_id, SUM(delta) AS score FROM points_journal WHERE ${where.join(' AND ')} GROUP BY participant_id HAVING SUM(delta) <> 0`;
		}
		// RANK() runs before LIMIT, over every scored participant, so ties share a rank; only the
		// top rows are joined to their participants (every score has one: participant_id is a foreign key).
		const sql = `SELECT t.participant_id, t.score, t.rank_no, p.external_id, p.name FROM (
				SELECT s.participant_id, s.score, RANK() OVER (ORDER BY s.score DESC) AS rank_no
				FROM (${scores}) s ORDER BY s.score DESC, s.participant_id LIMIT ${q.p(limit)}
			) t JOIN participants p ON p.id = t.participant_id
			ORDER BY t.score DESC, t.participant_id`;
		const rows = await this.core.read((tx) => tx.all(sql, q.values));
		return rows.map((r) => ({
			rank: n(r.rank_no),
			participantId: n(r.participant_id),
			externalId: sOrNull(r.external_id),
			name: sOrNull(r.name),
			score: n(r.score),
		}));
	}

	/*
	 * Get Stats' figures. Since schema version 11 the counts and sums come from the rollups
	 * (tables/rollups.ts): one row per day and metric for the whole UTC days of the period, plus the
	 * partial days at its edges (< 1 day each) from the index ranges of version 8. Distinct
	 * referrers come from the per-participant month / year / lifetime rollups plus the referrals of
	 * the partial months. The median time to convert is an ordered read of the period's converted
	 * referrals (schema version 11's referrals_convert index for lifetime). `source: 'rows'` runs
	 * version 8's aggregate over every referral of the period instead (the baseline).
	 */
	async referralStatsTotals(query: ReferralStatsQuery): Promise<ReferralStatsTotals> {
		inputObject(query, 'referralStatsTotals');
		const programId = programIdOf(query);
		const since = v.optTime(query.since, 'since');
		const until = v.optTime(query.until, 'until');
		const source = v.oneOf(query.source ?? 'rollups', 'source', ['rollups', 'rows'] as const);
		return this.core.readRollups(async (tx) => {
			const acc = new StatsAccumulator();
			const dayStart = since === undefined ? undefined : ceilDay(since);
			const dayEnd = until === undefined ? undefined : floorDay(until);
			let referrers: number;
			let participants: number;
			const raw =
				source === 'rows' || (dayStart !== undefined && dayEnd !== undefined && dayStart >= dayEnd);
			if (raw) {
				await rawAdditive(tx, programId, since, until, acc);
				referrers = await rawReferrers(tx, programId, since, until);
				participants = await rawParticipants(tx, programId, undefined, until);
			} else {
				await rollupAdditive(tx, programId, dayStart, dayEnd, acc);
				if (since !== undefined && since < dayStart!)
					await rawAdditive(tx, programId, since, dayStart, acc, true);
				if (until !== undefined && dayEnd! < until)
					await rawAdditive(tx, programId, dayEnd, until, acc, true);
				participants =
					(await rollupParticipants(tx, programId, dayEnd)) +
					(until !== undefined && dayEnd! < until
						? await rawParticipants(tx, programId, dayEnd, until)
						: 0);
				referrers = await rollupReferrers(tx, programId, since, until);
			}
			let convertMsMedian: number | null = null;
			if (acc.converted > 0 && !raw) {
				// The k-th duration: its histogram bucket from the rollups, then its place inside the
				// bucket from the referrals_convert_ms index (one bucket's entries, not the period's).
				const kth = async (k: number): Promise<number> => {
					let below = 0;
					for (const [bucket, count] of [...acc.histogram].sort(([a], [b]) => a - b)) {
						if (below + count > k) {
							const { lo, hi } = bucketBounds(bucket);
							const q = new Params();
							const row = await tx.get(
								`SELECT ${DURATION_SQL} AS d FROM referrals r WHERE r.program_id = ${q.p(programId)}
									AND ${DURATION_SQL} >= ${q.p(lo)} AND ${DURATION_SQL} < ${q.p(hi)}${window(q, '+r.touched_at', since, until)} AND ${CONVERTED_SQL}
								ORDER BY ${DURATION_SQL} LIMIT 1 OFFSET ${q.p(k - below)}`,
								q.values,
							);
							if (row) return n(row.d);
							break;
						}
						below += count;
					}
					throw new EngineError(
						'ledger_internal',
						'the time-to-convert rollups do not match the referrals; rebuild the rollups (docs/ledger.md)',
					);
				};
				const mid = Math.floor(acc.converted / 2);
				convertMsMedian =
					acc.converted % 2 === 0 ? ((await kth(mid - 1)) + (await kth(mid))) / 2 : await kth(mid);
			} else if (acc.converted > 0) {
				const q = new Params();
				const mid = Math.floor(acc.converted / 2);
				const even = acc.converted % 2 === 0;
				const middle = await tx.all(
					`SELECT ${DURATION_SQL} AS d FROM referrals r WHERE r.program_id = ${q.p(programId)}${window(q, 'r.touched_at', since, until)} AND ${CONVERTED_SQL}
					ORDER BY ${DURATION_SQL} LIMIT ${q.p(even ? 2 : 1)} OFFSET ${q.p(even ? mid - 1 : mid)}`,
					q.values,
				);
				convertMsMedian = even ? (n(middle[0].d) + n(middle[1].d)) / 2 : n(middle[0].d);
			}
			return {
				byStatus: acc.byStatus,
				referrers,
				participants,
				converted: acc.converted,
				convertMsTotal: acc.convertMsTotal,
				convertMsMedian,
				orders: acc.orderTotals(),
				rewards: acc.rewardTotals(),
			};
		});
	}

	/*
	 * The dashboard's series, reward liability, points and coupon pools, by aggregate queries (a row
	 * per bucket, kind or pool reaches JavaScript, never a row per referral). Buckets are integer
	 * division of the time since `since` by `bucketMs`, the same expression on both backends.
	 */
	async dashboardTotals(query: DashboardQuery): Promise<DashboardTotals> {
		inputObject(query, 'dashboardTotals');
		const programId = programIdOf(query);
		const since = v.time(query.since, 'since');
		const until = v.time(query.until, 'until');
		const bucketMs = v.int(query.bucketMs, 'bucketMs', 60_000);
		const rateSince = v.time(query.rateSince, 'rateSince');
		if (until <= since) fail('invalid_time', 'until', 'until must be after since');
		const buckets = Math.ceil((until - since) / bucketMs);
		if (buckets > 400)
			fail(
				'invalid_number',
				'bucketMs',
				'at most 400 buckets: choose a longer bucket or a shorter period',
			);
		const bucketOf = (q: Params, column: string) =>
			`CAST((${column} - CAST(${q.p(since)} AS BIGINT)) / CAST(${q.p(bucketMs)} AS BIGINT) AS BIGINT)`;
		const fill = (rows: Array<Record<string, unknown>>) => {
			const out = new Array<number>(buckets).fill(0);
			for (const row of rows) {
				const b = n(row.b);
				if (b >= 0 && b < buckets) out[b] += n(row.n);
			}
			return out;
		};
		return this.core.read(async (tx) => {
			// The bucket is computed in a subquery and grouped by its alias: PostgreSQL would not match
			// two copies of the expression (their parameters have different numbers).
			const perBucket = async (column: string, from: (q: Params) => string) => {
				const q = new Params();
				const rows = await tx.all(
					`SELECT t.b, COUNT(*) AS n FROM (SELECT ${bucketOf(q, column)} AS b ${from(q)}) t GROUP BY t.b`,
					q.values,
				);
				return fill(rows);
			};
			const signUps = await perBucket(
				'r.touched_at',
				(q) =>
					`FROM referrals r WHERE r.program_id = ${q.p(programId)} AND r.touched_at >= ${q.p(since)} AND r.touched_at < ${q.p(until)}`,
			);
			const qualified = await perBucket(
				'r.qualified_at',
				(q) =>
					`FROM referrals r WHERE r.program_id = ${q.p(programId)} AND r.qualified_at >= ${q.p(since)} AND r.qualified_at < ${q.p(until)} AND r.status IN ('qualified', 'reversed')`,
			);
			// Counted clicks of tracked links per bucket (a range on clicks_created).
			const clicks = await perBucket(
				'c.created_at',
				(q) =>
					`FROM clicks c WHERE c.program_id = ${q.p(programId)} AND c.created_at >= ${q.p(since)} AND c.created_at < ${q.p(until)}`,
			);
			// Referrals rewarded per bucket: distinct referrals among the rewards created in it (a range on
			// rewards_stats; a referral rewarded in two buckets counts in both).
			const rewardedQ = new Params();
			const rewarded = fill(
				await tx.all(
					`SELECT t.b, COUNT(*) AS n FROM (
						SELECT DISTINCT ${bucketOf(rewardedQ, 'created_at')} AS b, referral_id FROM rewards
						WHERE program_id = ${rewardedQ.p(programId)} AND created_at >= ${rewardedQ.p(since)} AND created_at < ${rewardedQ.p(until)}
							AND referral_id IS NOT NULL AND status <> 'reversed'
					) t GROUP BY t.b`,
					rewardedQ.values,
				),
			);
			let q = new Params();
			const rewards = (
				await tx.all(
					`SELECT kind, status, currency, COUNT(*) AS n, COALESCE(SUM(amount), 0) AS amount FROM rewards
					WHERE program_id = ${q.p(programId)} AND status <> 'reversed'
					GROUP BY kind, status, currency ORDER BY kind, status, currency`,
					q.values,
				)
			).map((r) => ({
				kind: s(r.kind),
				status: s(r.status),
				currency: sOrNull(r.currency),
				count: n(r.n),
				amount: n(r.amount),
			}));
			q = new Params();
			const points = (await tx.get(
				`SELECT COALESCE(SUM(balance), 0) AS total, COUNT(*) AS holders FROM points_balances
				WHERE program_id = ${q.p(programId)} AND balance <> 0`,
				q.values,
			))!;
			q = new Params();
			const coupons = (
				await tx.all(
					`SELECT pool,
						SUM(CASE WHEN status = 'available' THEN 1 ELSE 0 END) AS available,
						SUM(CASE WHEN status = 'claimed' THEN 1 ELSE 0 END) AS claimed,
						SUM(CASE WHEN status = 'claimed' AND claimed_at >= ${q.p(rateSince)} THEN 1 ELSE 0 END) AS recent
					FROM coupons WHERE program_id = ${q.p(programId)} GROUP BY pool ORDER BY pool`,
					q.values,
				)
			).map((r) => ({
				pool: s(r.pool),
				available: n(r.available),
				claimed: n(r.claimed),
				claimedSinceRate: n(r.recent),
			}));
			return {
				series: { clicks, signUps, qualified, rewarded },
				rewards,
				points: { outstanding: n(points.total), holders: n(points.holders) },
				coupons,
			};
		});
	}
}

interface OrderCell {
	orders: number;
	valid: Record<number, number>;
	minor: Record<number, number>;
}

/** The additive figures of a period, summed from rollup rows and raw edge ranges alike. */
class StatsAccumulator {
	byStatus: Record<string, number> = {};
	converted = 0;
	convertMsTotal = 0;
	/** time-to-convert histogram: bucket → count */
	histogram = new Map<number, number>();
	/** currency → status → cell */
	orders = new Map<string, Map<string, OrderCell>>();
	/** currency → n, hundredths, amount, fractional, first day seen */
	rewards = new Map<
		string,
		{ n: number; hundredths: number; amount: number; fractional: number; firstId: number }
	>();

	status(status: string, count: number) {
		if (count !== 0) this.byStatus[status] = (this.byStatus[status] ?? 0) + count;
	}

	order(currency: string, status: string, f: (cell: OrderCell) => void) {
		let byStatus = this.orders.get(currency);
		if (!byStatus) this.orders.set(currency, (byStatus = new Map()));
		let cell = byStatus.get(status);
		if (!cell) byStatus.set(status, (cell = { orders: 0, valid: {}, minor: {} }));
		f(cell);
	}

	reward(
		currency: string,
		add: { n: number; hundredths: number; amount: number; fractional: number; firstId: number },
	) {
		const r = this.rewards.get(currency) ?? {
			n: 0,
			hundredths: 0,
			amount: 0,
			fractional: 0,
			firstId: Infinity,
		};
		r.n += add.n;
		r.hundredths += add.hundredths;
		r.amount += add.amount;
		r.fractional += add.fractional;
		if (add.firstId > 0) r.firstId = Math.min(r.firstId, add.firstId);
		this.rewards.set(currency, r);
	}

	orderTotals(): StatsOrderTotals[] {
		const out: StatsOrderTotals[] = [];
		for (const [currency, byStatus] of this.orders) {
			const e = currencyExponent(currency);
			const totals = { currency, orders: 0, invalid: 0, netOrders: 0, netMinor: 0 };
			for (const [status, cell] of byStatus) {
				const valid = cell.valid[e] ?? 0;
				totals.orders += cell.orders;
				totals.invalid += cell.orders - valid;
				if (status === 'qualified') {
					totals.netOrders += valid;
					totals.netMinor += cell.minor[e] ?? 0;
				}
			}
			if (totals.orders !== 0) out.push(totals);
		}
		return out.sort((a, b) => (a.currency < b.currency ? -1 : 1));
	}

	/** Currencies in the order of their first reward of the period (lowest id). */
	rewardTotals(): StatsRewardTotals[] {
		return [...this.rewards]
			.filter(([, r]) => r.n > 0)
			.sort(([, a], [, b]) => a.firstId - b.firstId)
			.map(([currency, r]) => ({
				currency,
				hundredths: r.fractional === 0 ? r.hundredths : null,
				amount: r.amount,
			}));
	}
}

async function rollupAdditive(
	tx: Tx,
	programId: string,
	dayStart: number | undefined,
	dayEnd: number | undefined,
	acc: StatsAccumulator,
): Promise<void> {
	const q = new Params();
	const rows = await tx.all(
		`SELECT metric, k1, k2, SUM(n) AS n, SUM(total) AS total, SUM(amount) AS amount,
			MIN(CASE WHEN metric = 'rewardfirst' AND n > 0 THEN n END) AS first_id
		FROM stats_days WHERE program_id = ${q.p(programId)}${window(q, 'day', dayStart, dayEnd)}
			AND metric <> 'participants' AND (n <> 0 OR total <> 0 OR amount <> 0)
		GROUP BY metric, k1, k2`,
		q.values,
	);
	const rewardfrac = new Map<string, number>();
	const firstIds = new Map<string, number>();
	for (const r of rows) {
		const metric = s(r.metric);
		const k1 = s(r.k1);
		const k2 = s(r.k2);
		const count = n(r.n);
		if (metric === 'status') acc.status(k1, count);
		else if (metric === 'converted') {
			acc.converted += count;
			acc.convertMsTotal += n(r.total);
		} else if (metric === 'orders') acc.order(k1, k2, (c) => (c.orders += count));
		else if (metric.startsWith('valid')) {
			const e = Number(metric.slice(5));
			acc.order(k1, k2, (c) => {
				c.valid[e] = (c.valid[e] ?? 0) + count;
				c.minor[e] = (c.minor[e] ?? 0) + n(r.total);
			});
		} else if (metric === 'rewardfrac') rewardfrac.set(k1, count);
		else if (metric === 'rewardfirst' && r.first_id !== null) firstIds.set(k1, n(r.first_id));
		else if (metric === 'convertms' && count !== 0)
			acc.histogram.set(Number(k1), (acc.histogram.get(Number(k1)) ?? 0) + count);
	}
	for (const r of rows) {
		if (s(r.metric) !== 'reward') continue;
		const currency = s(r.k1);
		acc.reward(currency, {
			n: n(r.n),
			hundredths: n(r.total),
			amount: n(r.amount),
			fractional: rewardfrac.get(currency) ?? 0,
			firstId: firstIds.get(currency) ?? 0,
		});
	}
}

async function rawAdditive(
	tx: Tx,
	programId: string,
	since: number | undefined,
	until: number | undefined,
	acc: StatsAccumulator,
	histogram = false,
): Promise<void> {
	const inPeriod = (q: Params) =>
		`FROM referrals r WHERE r.program_id = ${q.p(programId)}${window(q, 'r.touched_at', since, until)}`;
	let q = new Params();
	for (const r of await tx.all(
		`SELECT r.status, COUNT(*) AS n ${inPeriod(q)} GROUP BY r.status`,
		q.values,
	))
		acc.status(s(r.status), n(r.n));
	q = new Params();
	const totals = (await tx.get(
		`SELECT COUNT(*) AS n, COALESCE(SUM(${DURATION_SQL}), 0) AS total ${inPeriod(q)} AND ${CONVERTED_SQL}`,
		q.values,
	))!;
	acc.converted += n(totals.n);
	acc.convertMsTotal += n(totals.total);
	if (histogram && n(totals.n) > 0) {
		q = new Params();
		for (const r of await tx.all(
			`SELECT ${BUCKET_SQL} AS b, COUNT(*) AS n ${inPeriod(q)} AND ${CONVERTED_SQL} GROUP BY ${BUCKET_SQL}`,
			q.values,
		))
			acc.histogram.set(n(r.b), (acc.histogram.get(n(r.b)) ?? 0) + n(r.n));
	}
	q = new Params();
	for (const r of await tx.all(
		`SELECT r.order_currency AS currency, r.status, COUNT(*) AS orders,
			${EXPONENTS.map((e) => {
				const { valid, minor } = orderSql(e);
				return `SUM(CASE WHEN ${valid} THEN 1 ELSE 0 END) AS valid${e}, SUM(CASE WHEN ${valid} THEN ${minor} ELSE 0 END) AS minor${e}`;
			}).join(',\n\t\t\t')}
		${inPeriod(q)} AND ${CONVERTED_SQL}
			AND r.order_amount IS NOT NULL AND r.order_currency IS NOT NULL AND r.order_currency <> ''
		GROUP BY r.order_currency, r.status`,
		q.values,
	)) {
		acc.order(s(r.currency), s(r.status), (c) => {
			c.orders += n(r.orders);
			for (const e of EXPONENTS) {
				c.valid[e] = (c.valid[e] ?? 0) + n(r[`valid${e}`]);
				c.minor[e] = (c.minor[e] ?? 0) + n(r[`minor${e}`]);
			}
		});
	}
	q = new Params();
	for (const r of await tx.all(
		`SELECT w.currency, MIN(w.id) AS first_id, COUNT(*) AS n, SUM(w.amount) AS amount,
			SUM(CASE WHEN ${HUNDREDTHS_SQL} = 1 THEN CAST(ROUND(w.amount * 100) AS BIGINT) ELSE 0 END) AS hundredths,
			SUM(1 - ${HUNDREDTHS_SQL}) AS fractional
		FROM rewards w WHERE w.program_id = ${q.p(programId)}${window(q, 'w.created_at', since, until)}
			AND w.status <> 'reversed' AND w.amount IS NOT NULL AND w.currency IS NOT NULL
		GROUP BY w.currency`,
		q.values,
	)) {
		acc.reward(s(r.currency), {
			n: n(r.n),
			hundredths: n(r.hundredths),
			amount: n(r.amount),
			fractional: n(r.fractional),
			firstId: n(r.first_id),
		});
	}
}

function rawReferrers(
	tx: Tx,
	programId: string,
	since: number | undefined,
	until: number | undefined,
): Promise<number> {
	return aggregateInWindow(tx, {
		aggregate: 'COUNT(DISTINCT r.referrer_id)',
		from: 'referrals r',
		alias: 'r.',
		time: 'r.touched_at',
		programId,
		since,
		until,
	});
}

function rawParticipants(
	tx: Tx,
	programId: string,
	since: number | undefined,
	until: number | undefined,
): Promise<number> {
	return aggregateInWindow(tx, {
		aggregate: 'COUNT(*)',
		from: 'participants',
		time: 'created_at',
		programId,
		since,
		until,
	});
}

function rollupParticipants(
	tx: Tx,
	programId: string,
	dayEnd: number | undefined,
): Promise<number> {
	return aggregateInWindow(tx, {
		aggregate: 'COALESCE(SUM(n), 0)',
		from: 'stats_days',
		time: 'day',
		programId,
		until: dayEnd,
		and: "metric = 'participants'",
	});
}

/**
 * Distinct referrers of [since, until): the lifetime row count, or the union of the whole UTC years
 * and months inside the period (per-participant rollups) and the referrers of the partial months
 * at its edges (under a month each, from the referrals index).
 */
async function rollupReferrers(
	tx: Tx,
	programId: string,
	since: number | undefined,
	until: number | undefined,
): Promise<number> {
	const q = new Params();
	if (since === undefined && until === undefined) {
		return n(
			(await tx.get(
				`SELECT COUNT(*) AS n FROM stats_periods WHERE program_id = ${q.p(programId)} AND span = 'all' AND start = 0 AND referrals > 0`,
				q.values,
			))!.n,
		);
	}
	if (since === undefined || until === undefined) return rawReferrers(tx, programId, since, until);
	const parts: string[] = [];
	const spans: Array<{ span: 'y' | 'm'; start: number }> = [];
	let cursor = spanStart('m', since) === since ? since : nextMonth(spanStart('m', since));
	const edgeStart = cursor;
	while (cursor < until) {
		if (spanStart('y', cursor) === cursor && nextYear(cursor) <= until) {
			spans.push({ span: 'y', start: cursor });
			cursor = nextYear(cursor);
		} else if (nextMonth(cursor) <= until) {
			spans.push({ span: 'm', start: cursor });
			cursor = nextMonth(cursor);
		} else break;
	}
	if (spans.length === 0) return rawReferrers(tx, programId, since, until);
	for (const { span, start } of spans)
		parts.push(
			`SELECT participant_id FROM stats_periods WHERE program_id = ${q.p(programId)} AND span = ${q.p(span)} AND start = ${q.p(start)} AND referrals > 0`,
		);
	if (since < edgeStart)
		parts.push(
			`SELECT referrer_id FROM referrals WHERE program_id = ${q.p(programId)} AND touched_at >= ${q.p(since)} AND touched_at < ${q.p(edgeStart)}`,
		);
	if (cursor < until)
		parts.push(
			`SELECT referrer_id FROM referrals WHERE program_id = ${q.p(programId)} AND touched_at >= ${q.p(cursor)} AND touched_at < ${q.p(until)}`,
		);
	return n((await tx.get(`SELECT COUNT(*) AS n FROM (${parts.join(' UNION ')}) x`, q.values))!.n);
}
