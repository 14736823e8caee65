/* The queries over referrals: lists, counts, shared signals, edges, conversions and the
 * leaderboard (read-only; the writes are in referrals.ts). */
import { currencyExponent } from '../../shared/money';
import type { LedgerCore } from '../core';
import { inputObject, programIdOf } from '../inputs';
import { n, s, sOrNull, toConversion, toReferral } from '../rows';
import { Params } from '../sql';
import type {
	ConversionRecord,
	ConversionsQuery,
	CountReferralsQuery,
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

/**
 * isValidOrderAmount (money.ts) with the default maximum, as SQL over r.order_amount, for one
 * currency exponent, and the amount in minor units. Get Stats computes both for every exponent
 * (0, 2, 3) and picks by currency afterwards: looking the currency up per row costs more than the
 * arithmetic. (x >= 0 here, so |x| = x.)
 */
const EXPONENTS = [0, 2, 3] as const;
function orderSql(exponent: number): { valid: string; minor: string } {
	const x = `(r.order_amount * ${10 ** exponent})`;
	const top = 10 ** (9 - exponent);
	return {
		valid: `r.order_amount >= 0 AND r.order_amount <= ${top} AND ABS(${x} - ROUND(${x})) <= 0.000001 * (CASE WHEN ${x} > 1 THEN ${x} ELSE 1 END)`,
		minor: `CAST(ROUND(${x}) AS BIGINT)`,
	};
}

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
	 * Get Stats' figures by aggregate queries: nothing per referral reaches JavaScript, so memory
	 * stays flat at any size. The period is a range on indexed columns (referrals_stats,
	 * participants_created, rewards_stats: schema version 8). The qualifying order of a referral
	 * is its latest qualifying conversion (the one its `referral.qualified` event carries), kept on
	 * the referral as order_amount / order_currency.
	 */
	async referralStatsTotals(query: ReferralStatsQuery): Promise<ReferralStatsTotals> {
		inputObject(query, 'referralStatsTotals');
		const programId = programIdOf(query);
		const since = v.optTime(query.since, 'since');
		const until = v.optTime(query.until, 'until');
		const window = (q: Params, column: string) =>
			(since !== undefined ? ` AND ${column} >= ${q.p(since)}` : '') +
			(until !== undefined ? ` AND ${column} < ${q.p(until)}` : '');
		const inPeriod = (q: Params) => `r.program_id = ${q.p(programId)}${window(q, 'r.touched_at')}`;
		const referrals = (q: Params) => `FROM referrals r WHERE ${inPeriod(q)}`;
		const convertedWhere = `r.status IN ('qualified', 'reversed') AND r.qualified_at IS NOT NULL`;
		const duration = `CASE WHEN r.qualified_at > r.touched_at THEN r.qualified_at - r.touched_at ELSE 0 END`;
		const nearWhole = (x: string) =>
			`ABS(${x} - ROUND(${x})) <= 0.000001 * (CASE WHEN ABS(${x}) > 1 THEN ABS(${x}) ELSE 1 END)`;
		const hundredths = `(CASE WHEN ABS(amount) < 10000000000000 AND ${nearWhole('amount * 100')} THEN 1 ELSE 0 END)`;
		return this.core.read(async (tx) => {
			const byStatus: Record<string, number> = {};
			let q = new Params();
			for (const r of await tx.all(
				`SELECT r.status, COUNT(*) AS n ${referrals(q)} GROUP BY r.status`,
				q.values,
			))
				byStatus[s(r.status)] = n(r.n);
			q = new Params();
			const referrers = n(
				(await tx.get(`SELECT COUNT(DISTINCT r.referrer_id) AS n ${referrals(q)}`, q.values))!.n,
			);
			q = new Params();
			const participants = n(
				(await tx.get(
					`SELECT COUNT(*) AS n FROM participants WHERE program_id = ${q.p(programId)}${until !== undefined ? ` AND created_at < ${q.p(until)}` : ''}`,
					q.values,
				))!.n,
			);
			q = new Params();
			const totals = (await tx.get(
				`SELECT COUNT(*) AS n, COALESCE(SUM(${duration}), 0) AS total ${referrals(q)} AND ${convertedWhere}`,
				q.values,
			))!;
			const converted = n(totals.n);
			let convertMsMedian: number | null = null;
			if (converted > 0) {
				q = new Params();
				const mid = Math.floor(converted / 2);
				const even = converted % 2 === 0;
				const middle = await tx.all(
					`SELECT ${duration} AS d ${referrals(q)} AND ${convertedWhere} ORDER BY d LIMIT ${q.p(even ? 2 : 1)} OFFSET ${q.p(even ? mid - 1 : mid)}`,
					q.values,
				);
				convertMsMedian = even ? (n(middle[0].d) + n(middle[1].d)) / 2 : n(middle[0].d);
			}
			q = new Params();
			// Per currency and status (qualified or reversed): orders, valid ones, their minor units.
			const orders = new Map<string, StatsOrderTotals>();
			for (const r of await tx.all(
				`SELECT r.order_currency AS currency, r.status, COUNT(*) AS orders,
					${EXPONENTS.map((e) => {
						const { valid, minor } = orderSql(e);
						return `SUM(CASE WHEN ${valid} THEN 1 ELSE 0 END) AS valid${e}, SUM(CASE WHEN ${valid} THEN ${minor} ELSE 0 END) AS minor${e}`;
					}).join(',\n\t\t\t\t\t')}
				FROM referrals r
				WHERE ${inPeriod(q)} AND ${convertedWhere}
					AND r.order_amount IS NOT NULL AND r.order_currency IS NOT NULL AND r.order_currency <> ''
				GROUP BY r.order_currency, r.status`,
				q.values,
			)) {
				const currency = s(r.currency);
				const e = currencyExponent(currency);
				const valid = n(r[`valid${e}`]);
				const totals = orders.get(currency) ?? {
					currency,
					orders: 0,
					invalid: 0,
					netOrders: 0,
					netMinor: 0,
				};
				totals.orders += n(r.orders);
				totals.invalid += n(r.orders) - valid;
				if (s(r.status) === 'qualified') {
					totals.netOrders += valid;
					totals.netMinor += n(r[`minor${e}`]);
				}
				orders.set(currency, totals);
			}
			q = new Params();
			const rewards = (
				await tx.all(
					`SELECT currency, MIN(id) AS first_id, SUM(amount) AS amount,
						SUM(CASE WHEN ${hundredths} = 1 THEN CAST(ROUND(amount * 100) AS BIGINT) ELSE 0 END) AS hundredths,
						SUM(1 - ${hundredths}) AS fractional
					FROM rewards WHERE program_id = ${q.p(programId)}${window(q, 'created_at')}
						AND status <> 'reversed' AND amount IS NOT NULL AND currency IS NOT NULL
					GROUP BY currency ORDER BY first_id`,
					q.values,
				)
			).map((r) => ({
				currency: s(r.currency),
				hundredths: n(r.fractional) === 0 ? n(r.hundredths) : null,
				amount: n(r.amount),
			}));
			return {
				byStatus,
				referrers,
				participants,
				converted,
				convertMsTotal: n(totals.total),
				convertMsMedian,
				orders: [...orders.values()].sort((a, b) => (a.currency < b.currency ? -1 : 1)),
				rewards,
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
