/* The queries over referrals: lists, counts, shared signals, edges, conversions and the
 * leaderboard (read-only; the writes are in referrals.ts). */
import type { LedgerCore } from '../core';
import { inputObject, programIdOf } from '../inputs';
import { n, s, sOrNull, toConversion, toReferral } from '../rows';
import { Params } from '../sql';
import type {
	ConversionRecord,
	ConversionsQuery,
	CountReferralsQuery,
	EdgesQuery,
	LeaderboardQuery,
	LeaderboardRow,
	LedgerStore,
	ListReferralsQuery,
	ReferralCounts,
	ReferralEdge,
	ReferralRecord,
	SignalQuery,
} from '../store';
import * as v from '../validate';
import { fail, LIMITS } from '../validate';

type Methods =
	| 'listReferrals'
	| 'countReferrals'
	| 'referralsBySignal'
	| 'referralEdges'
	| 'listConversions'
	| 'leaderboard';

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
		// RANK() runs before LIMIT, over every scored participant, so ties share a rank.
		const sql = `SELECT s.participant_id, s.score, RANK() OVER (ORDER BY s.score DESC) AS rank_no, p.external_id, p.name
			FROM (${scores}) s JOIN participants p ON p.id = s.participant_id
			ORDER BY s.score DESC, s.participant_id LIMIT ${q.p(limit)}`;
		const rows = await this.core.read((tx) => tx.all(sql, q.values));
		return rows.map((r) => ({
			rank: n(r.rank_no),
			participantId: n(r.participant_id),
			externalId: sOrNull(r.external_id),
			name: sOrNull(r.name),
			score: n(r.score),
		}));
	}
}
