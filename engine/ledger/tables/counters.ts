/* Running counters for reward evaluation (migration 10, issue #18): per (program, participant)
 * the qualified referrals they referred, the referred revenue per currency of those referrals,
 * and their lifetime points (credits and claw-backs; redemptions do not lower it). The spendable
 * points balance is the older running counter `points_balances` (points.ts).
 *
 * Each event that moves a counter calls ONE function of this file inside its own transaction, so
 * the counters commit or roll back with the rows they count and a replay (which writes nothing)
 * moves nothing:
 * - a referral row changed (recorded, qualified, transitioned, reassigned, refunded):
 *   `onReferralChanged(before, after)` takes out what the old row counted and adds what the new one
 *   counts, so every path that changes status, referrer or order keeps them exact;
 * - a points journal entry written (award, redeem, claw-back, manual change): `onPointsAdded`;
 * - a reward row inserted or changed (award, transition, reversal, refund): `capUsageOfReward`
 *   around the statement (-1 before, +1 after), as the rollups are (migration 13, cap usage).
 * Program edits move no counter: the counters hold facts of the ledger, not of the rules; what a
 * rule makes of them is decided at evaluation. */
import type { LedgerCore, Work } from '../core';
import { inputObject, programIdOf } from '../inputs';
import { n, s, toEntry, toReferral, toReward } from '../rows';
import type { CountedTable } from '../pendingRollups';
import { Params, type Row, type Tx } from '../sql';
import { idIn, type Backend } from './rollups';
import type { Id, PointsEntry, ReferralRecord, RewardRecord } from '../store';
import * as v from '../validate';
import { fail, LIMITS } from '../validate';

/** The referral status whose referrals count (rewards/account.ts QUALIFIED). */
const QUALIFIED = 'qualified';

export interface RewardCounters {
	/** Qualified referrals the participant referred. */
	qualified: number;
	/** Revenue of those referrals' qualifying orders, per currency (major units). */
	revenue: Record<string, number>;
	/** Every points credit, plus claw-backs (negative); not lowered by redemptions. May be below 0. */
	lifetimePoints: number;
}

/** reward_counters as counted rows (pendingRollups.ts). */
const COUNTERS: CountedTable = {
	name: 'reward_counters',
	keys: ['program_id', 'participant_id', 'name'],
	counts: ['count', 'amount'],
};

async function bump(
	tx: Tx,
	programId: string,
	participantId: number,
	name: string,
	count: number,
	amount: number,
): Promise<void> {
	if (count === 0 && amount === 0) return;
	// A count alone (no money) is a whole number: in a batch, summed and added at its end.
	if (tx.pending && amount === 0) {
		tx.pending.add(COUNTERS, [programId, participantId, name], [count, 0]);
		return;
	}
	await tx.run(
		`INSERT INTO reward_counters (program_id, participant_id, name, count, amount) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (program_id, participant_id, name) DO UPDATE SET count = reward_counters.count + excluded.count, amount = reward_counters.amount + excluded.amount`,
		[programId, participantId, name, count, amount],
	);
}

/** What one referral row adds to its referrer's counters. */
function contribution(row: Row | null | undefined) {
	if (!row || s(row.status) !== QUALIFIED) return null;
	const currency =
		row.order_currency === null || row.order_currency === undefined ? null : s(row.order_currency);
	const amount =
		row.order_amount === null || row.order_amount === undefined ? null : n(row.order_amount);
	return {
		programId: s(row.program_id),
		referrerId: n(row.referrer_id),
		revenue: currency !== null && amount !== null ? { currency, amount } : null,
	};
}

/** A referral row changed (inserted: before null): moves its referrer's counters by the difference. */
export async function onReferralChanged(
	w: Work,
	before: Row | null | undefined,
	after: Row | null | undefined,
): Promise<void> {
	const old = contribution(before);
	const now = contribution(after);
	if (
		old &&
		now &&
		old.referrerId === now.referrerId &&
		old.revenue?.currency === now.revenue?.currency &&
		old.revenue?.amount === now.revenue?.amount
	)
		return;
	for (const [c, sign] of [
		[old, -1],
		[now, 1],
	] as const) {
		if (!c) continue;
		await bump(w.tx, c.programId, c.referrerId, 'qualified', sign, 0);
		if (c.revenue)
			await bump(
				w.tx,
				c.programId,
				c.referrerId,
				`revenue:${c.revenue.currency}`,
				sign,
				sign * c.revenue.amount,
			);
	}
}

/** A points journal entry was written: credits and claw-backs move lifetime points. */
export async function onPointsAdded(
	w: Work,
	programId: string,
	participantId: number,
	delta: number,
	reason: string | null | undefined,
): Promise<void> {
	if (delta > 0 || reason === 'clawback')
		await bump(w.tx, programId, participantId, 'points_lifetime', delta, 0);
}

/*
 * Cap usage (migration 13): what a reward cap counts, kept per (program, recipient, rule, unit) and
 * time bucket of the reward's earned time (`metadata.earnedAt`, else its creation): rewards of the
 * referrer side that are not badges or tiers and not reversed; `count` of them, and `amount` the
 * sum of their points (unit `points`) or of their money (unit: the currency; '' for a reward
 * without either). Facts of the ledger, not of the rules: which rules and unit a cap counts, and
 * its window (period, time zone, calendar or rolling), are applied when it is read. Each reward is
 * counted at four spans: its UTC day, its minute, its millisecond, and in a total (span 0), so any
 * window [start, end) is read as whole days, then whole minutes, then single milliseconds at its
 * edges (`capRanges`): at most five index ranges, whatever the referrer's history.
 */

const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;
/** The spans a reward is counted at, coarsest first (0: the total of all time). */
export const CAP_SPANS = [0, DAY_MS, MINUTE_MS, 1] as const;

/** A reward's earned time in SQL (whole ms, rounded down): `metadata.earnedAt` when it is a number, else its creation. */
function earnedAtSql(backend: Backend, w: string): string {
	return backend === 'postgres'
		? `CASE WHEN jsonb_typeof(${w}.metadata::jsonb -> 'earnedAt') = 'number' THEN FLOOR((${w}.metadata::jsonb ->> 'earnedAt')::numeric)::bigint ELSE ${w}.created_at END`
		: `CASE WHEN json_type(${w}.metadata, '$.earnedAt') IN ('integer', 'real') THEN CAST(json_extract(${w}.metadata, '$.earnedAt') AS INTEGER) ELSE ${w}.created_at END`;
}

/** The cap usage rows of the rewards `where` selects (alias w), each with `sign` (SQL) as its count. */
export function capUsageSelect(backend: Backend, where: string, sign: string): string {
	const spans = CAP_SPANS.map((span) => `SELECT ${span} AS span`).join(' UNION ALL ');
	return `SELECT x.program_id, x.recipient_id, x.rule, x.unit, s.span,
			CASE WHEN s.span = 0 THEN 0 ELSE (x.earned_at / s.span) * s.span END AS bucket, ${sign} AS n, ${sign} * x.value AS v
		FROM (SELECT w.program_id, w.recipient_id, w.rule,
				CASE WHEN w.kind = 'points' THEN 'points' WHEN w.currency IS NOT NULL AND w.amount IS NOT NULL THEN w.currency ELSE '' END AS unit,
				CASE WHEN w.kind = 'points' THEN COALESCE(w.amount, 0) WHEN w.currency IS NOT NULL AND w.amount IS NOT NULL THEN w.amount ELSE 0 END AS value,
				${earnedAtSql(backend, 'w')} AS earned_at
			FROM rewards w WHERE ${where} AND w.side = 'referrer' AND w.kind NOT IN ('badge', 'tier') AND w.status <> 'reversed') x
		CROSS JOIN (${spans}) s WHERE 1 = 1`;
}

const CAP_USAGE_COLUMNS = 'program_id, participant_id, rule, unit, span, bucket, count, amount';
const capUsageSql = new Map<Backend, string>();

/**
 * A reward's cap usage, taken out (sign -1, before an UPDATE) or put in (sign +1, after an INSERT
 * or UPDATE); nothing for a reward no cap counts (another side, a badge or tier, reversed). In a
 * batch, the batch puts it in at its end (pendingRollups.ts).
 */
export async function capUsageOfReward(tx: Tx, backend: Backend, rewardId: number, sign: 1 | -1) {
	if (tx.pending?.defer('capUsage', rewardId, sign)) return;
	let sql = capUsageSql.get(backend);
	if (sql === undefined)
		capUsageSql.set(
			backend,
			(sql = `INSERT INTO reward_cap_usage (${CAP_USAGE_COLUMNS})
			${capUsageSelect(backend, 'w.id = $1', 'CAST($2 AS INTEGER)')}
			ON CONFLICT (program_id, participant_id, span, bucket, rule, unit) DO UPDATE SET
				count = reward_cap_usage.count + excluded.count, amount = reward_cap_usage.amount + excluded.amount`),
		);
	await tx.run(sql, [rewardId, sign]);
}

const capUsagesSql = new Map<Backend, string>();

/** The cap usage of rewards put in at once (a batch's end): summed per row of the usage first. */
export async function capUsageOfRewards(tx: Tx, backend: Backend, rewardIds: number[]) {
	let sql = capUsagesSql.get(backend);
	if (sql === undefined)
		capUsagesSql.set(
			backend,
			(sql = `INSERT INTO reward_cap_usage (${CAP_USAGE_COLUMNS})
			SELECT program_id, recipient_id, rule, unit, span, bucket, SUM(n), SUM(v)
			FROM (${capUsageSelect(backend, idIn(backend, 'w.id', '$1'), '1')}) u
			GROUP BY program_id, recipient_id, rule, unit, span, bucket
			ORDER BY program_id, recipient_id, span, bucket, rule, unit
			ON CONFLICT (program_id, participant_id, span, bucket, rule, unit) DO UPDATE SET
				count = reward_cap_usage.count + excluded.count, amount = reward_cap_usage.amount + excluded.amount`),
		);
	await tx.run(sql, [JSON.stringify(rewardIds)]);
}

/** Migration 13's fill of the cap usage from the rewards already in the ledger. */
export function capUsageBackfill(backend: Backend): string {
	return `INSERT INTO reward_cap_usage (${CAP_USAGE_COLUMNS})
		SELECT program_id, recipient_id, rule, unit, span, bucket, SUM(n), SUM(v) FROM (${capUsageSelect(backend, '1 = 1', '1')}) u
		GROUP BY program_id, recipient_id, rule, unit, span, bucket`;
}

/** What a cap counts, read from the cap usage: one row per (rule, unit) with a count and an amount. */
export interface CapUsageRow {
	rule: string;
	/** `points`, a currency, or '' (a reward with neither points nor an amount of money). */
	unit: string;
	count: number;
	amount: number;
}

/**
 * The window [start, end) (null: unbounded) as index ranges of whole buckets: whole days, the
 * minutes before and after them, the milliseconds before and after those; the total alone for
 * an unbounded window.
 */
export function capRanges(
	start: number | null,
	end: number | null,
): Array<{ span: number; from: number | null; to: number | null }> {
	if (start === null && end === null) return [{ span: 0, from: 0, to: 1 }];
	const out: Array<{ span: number; from: number | null; to: number | null }> = [];
	const below = (a: number | null, b: number | null) => a === null || b === null || a < b;
	const cover = (from: number | null, to: number | null, level: number) => {
		if (!below(from, to)) return;
		const span = CAP_SPANS[level];
		if (span === 1) {
			out.push({ span, from, to });
			return;
		}
		const inFrom = from === null ? null : Math.ceil(from / span) * span;
		const inTo = to === null ? null : Math.floor(to / span) * span;
		if (!below(inFrom, inTo)) {
			cover(from, to, level + 1);
			return;
		}
		out.push({ span, from: inFrom, to: inTo });
		if (from !== null && inFrom !== null && from < inFrom) cover(from, inFrom, level + 1);
		if (to !== null && inTo !== null && inTo < to) cover(inTo, to, level + 1);
	};
	cover(start, end, 1);
	return out;
}

/** The cap usage of a participant's rewards earned in [start, end), per (rule, unit). */
export async function readCapUsage(
	tx: Tx,
	programId: string,
	participantId: number,
	start: number | null,
	end: number | null,
): Promise<CapUsageRow[]> {
	const q = new Params();
	const program = q.p(programId);
	const participant = q.p(participantId);
	const parts = capRanges(start, end).map(
		(r) =>
			`SELECT rule, unit, count, amount FROM reward_cap_usage WHERE program_id = ${program} AND participant_id = ${participant} AND span = ${r.span}${
				r.from === null ? '' : ` AND bucket >= ${q.p(r.from)}`
			}${r.to === null ? '' : ` AND bucket < ${q.p(r.to)}`}`,
	);
	const rows = await tx.all(
		`SELECT rule, unit, SUM(count) AS count, SUM(amount) AS amount FROM (${parts.join(' UNION ALL ')}) u GROUP BY rule, unit ORDER BY rule, unit`,
		q.values,
	);
	return rows
		.map((row) => ({
			rule: s(row.rule),
			unit: s(row.unit),
			count: n(row.count),
			amount: n(row.amount),
		}))
		.filter((row) => row.count !== 0 || row.amount !== 0);
}

/**
 * The participant's counters (zeros when none moved yet); with `upTo` (a qualified referral of
 * theirs, by its rank key), the qualified count and revenue of the referrals ranked up to it: the
 * counters less the referrals ranked after it, read in ONE statement so both come from one snapshot
 * (a referral qualifying meanwhile is in both or in neither). The referrals after it are index
 * ranges on (program, referrer, status, qualified_at, id): none when it is the latest.
 */
export async function readCounters(
	tx: Tx,
	programId: string,
	participantId: number,
	upTo?: { at: number; id: number },
): Promise<RewardCounters> {
	const after = (condition: string) =>
		`SELECT 'after' AS kind, order_currency AS name, COUNT(*) AS count, SUM(order_amount) AS amount FROM referrals
		WHERE program_id = $1 AND referrer_id = $2 AND status = '${QUALIFIED}' AND ${condition} GROUP BY order_currency`;
	const sql = [
		`SELECT 'counter' AS kind, name, count, amount FROM reward_counters WHERE program_id = $1 AND participant_id = $2`,
		...(upTo
			? [
					after('qualified_at > $3'),
					after('qualified_at = $3 AND id > $4'),
					after('qualified_at IS NULL AND (updated_at > $3 OR (updated_at = $3 AND id > $4))'),
				]
			: []),
	].join(' UNION ALL ');
	const counts: Record<string, { count: number; amount: number }> = {};
	const add = (name: string, count: number, amount: number) => {
		const c = (counts[name] ??= { count: 0, amount: 0 });
		c.count += count;
		c.amount += amount;
	};
	for (const row of await tx.all(
		sql,
		upTo ? [programId, participantId, upTo.at, upTo.id] : [programId, participantId],
	)) {
		const count = n(row.count);
		const amount = row.amount === null ? 0 : n(row.amount);
		if (s(row.kind) === 'counter') add(s(row.name), count, amount);
		else {
			add('qualified', -count, 0);
			if (row.name !== null) add(`revenue:${s(row.name)}`, -count, -amount);
		}
	}
	const out: RewardCounters = {
		qualified: counts.qualified?.count ?? 0,
		revenue: {},
		lifetimePoints: counts.points_lifetime?.count ?? 0,
	};
	for (const [name, c] of Object.entries(counts))
		if (name.startsWith('revenue:') && c.count > 0)
			out.revenue[name.slice('revenue:'.length)] = Number(c.amount.toFixed(6));
	return out;
}

/**
 * The referrer's qualified referrals ranked after this one (rank: qualified time, else last update,
 * then id; as the reward service ranks them), oldest first. Three index ranges on
 * (program, referrer, status, qualified_at, id): a referral evaluated as it qualifies has none
 * after it, so this reads nothing however many came before.
 */
export async function qualifiedAfter(
	tx: Tx,
	programId: string,
	referrerId: number,
	at: number,
	id: number,
): Promise<ReferralRecord[]> {
	const base = `SELECT * FROM referrals WHERE program_id = $1 AND referrer_id = $2 AND status = '${QUALIFIED}'`;
	const rows = [
		...(await tx.all(`${base} AND qualified_at > $3`, [programId, referrerId, at])),
		...(await tx.all(`${base} AND qualified_at = $3 AND id > $4`, [programId, referrerId, at, id])),
		...(await tx.all(
			`${base} AND qualified_at IS NULL AND (updated_at > $3 OR (updated_at = $3 AND id > $4))`,
			[programId, referrerId, at, id],
		)),
	];
	return rows
		.map(toReferral)
		.sort((a, b) => (a.qualifiedAt ?? a.updatedAt) - (b.qualifiedAt ?? b.updatedAt) || a.id - b.id);
}

/** The ledger's read methods over the counters and the bounded look-ups an evaluation makes. */
export class CountersTable {
	constructor(private readonly core: LedgerCore) {}

	async rewardCounters(query: {
		programId: string;
		participantId: Id;
		upToReferralId?: Id;
	}): Promise<RewardCounters> {
		inputObject(query, 'rewardCounters');
		const programId = programIdOf(query);
		const participantId = v.rowId(query.participantId, 'participantId');
		const upToId = v.optRowId(query.upToReferralId, 'upToReferralId');
		return this.core.readRollups(async (tx) => {
			if (upToId === undefined) return readCounters(tx, programId, participantId);
			const row = await tx.get(`SELECT * FROM referrals WHERE id = $1 AND program_id = $2`, [
				upToId,
				programId,
			]);
			// Reversed or reassigned since the caller read it: it ranks nowhere, every referral counts.
			if (!row || s(row.status) !== QUALIFIED || n(row.referrer_id) !== participantId)
				return readCounters(tx, programId, participantId);
			const r = toReferral(row);
			return readCounters(tx, programId, participantId, {
				at: r.qualifiedAt ?? r.updatedAt,
				id: r.id,
			});
		});
	}

	async qualifiedReferralsAfter(query: {
		programId: string;
		referrerId: Id;
		referralId: Id;
	}): Promise<ReferralRecord[] | null> {
		inputObject(query, 'qualifiedReferralsAfter');
		const programId = programIdOf(query);
		const referrerId = v.rowId(query.referrerId, 'referrerId');
		const referralId = v.rowId(query.referralId, 'referralId');
		return this.core.read(async (tx) => {
			const row = await tx.get(`SELECT * FROM referrals WHERE id = $1 AND program_id = $2`, [
				referralId,
				programId,
			]);
			if (!row || s(row.status) !== QUALIFIED || n(row.referrer_id) !== referrerId) return null;
			const r = toReferral(row);
			return qualifiedAfter(tx, programId, referrerId, r.qualifiedAt ?? r.updatedAt, r.id);
		});
	}

	async capUsage(query: {
		programId: string;
		participantId: Id;
		start: number | null;
		end: number | null;
	}): Promise<CapUsageRow[]> {
		inputObject(query, 'capUsage');
		const programId = programIdOf(query);
		const participantId = v.rowId(query.participantId, 'participantId');
		const bound = (value: unknown, field: string) => {
			if (value === null) return null;
			if (typeof value !== 'number' || !Number.isSafeInteger(value))
				fail('invalid_value', field, 'give a time in ms since the epoch (a whole number), or null');
			return value;
		};
		const start = bound(query.start, 'start');
		const end = bound(query.end, 'end');
		return this.core.readRollups((tx) => readCapUsage(tx, programId, participantId, start, end));
	}

	async rewardsByKeys(query: { programId: string; keys: string[] }): Promise<RewardRecord[]> {
		inputObject(query, 'rewardsByKeys');
		const programId = programIdOf(query);
		const keys = [...new Set(query.keys.map((k) => v.text(k, 'keys', LIMITS.key)))];
		if (keys.length === 0) return [];
		const q = new Params();
		const sql = `SELECT * FROM rewards WHERE program_id = ${q.p(programId)} AND idempotency_key IN (${keys.map((k) => q.p(k)).join(', ')}) ORDER BY id`;
		return (await this.core.read((tx) => tx.all(sql, q.values))).map(toReward);
	}

	async pointsOfRewards(query: { programId: string; rewardIds: Id[] }): Promise<PointsEntry[]> {
		inputObject(query, 'pointsOfRewards');
		const programId = programIdOf(query);
		const ids = [...new Set(query.rewardIds.map((id) => v.rowId(id, 'rewardIds')))];
		if (ids.length === 0) return [];
		const q = new Params();
		const sql = `SELECT * FROM points_journal WHERE program_id = ${q.p(programId)} AND reward_id IN (${ids.map((id) => q.p(id)).join(', ')}) ORDER BY id`;
		return (await this.core.read((tx) => tx.all(sql, q.values))).map(toEntry);
	}
}
