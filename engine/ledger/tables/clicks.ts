/* Tracked referral link clicks (issue #17): one row per counted click, the per-IP rate limit in
 * the same write, the visitor's first or last click for sign-up attribution, and the share-link
 * figures of a period (clickStats: one aggregate function, kept apart from Get Stats' other
 * figures so each can change on its own). */
import type { LedgerCore } from '../core';
import { inputObject, programIdOf } from '../inputs';
import { n, nOrNull, s, sOrNull } from '../rows';
import { aggregateInWindow, Params, timeWindow as window, type Row, type Tx } from '../sql';
import { rollupClick } from './clickRollups';
import { ceilDay, floorDay, rollupSpan } from './rollups';
import type {
	ClickFunnelRow,
	ClickRecord,
	ClickStatsQuery,
	ClickStatsTotals,
	LedgerStore,
	RecordClickInput,
	RecordClickResult,
	VisitorClickQuery,
} from '../store';
import * as v from '../validate';
import { fail, LIMITS } from '../validate';

type Methods = 'recordClick' | 'visitorClick' | 'clickStats';

const CODE_STATUSES = ['known', 'unknown', 'revoked'] as const;
/** Visitor ids are the engine's: 16 to 64 URL-safe characters. */
const VISITOR_ID = /^[A-Za-z0-9_-]{16,64}$/;

export function toClick(r: Row): ClickRecord {
	return {
		id: n(r.id),
		programId: s(r.program_id),
		code: sOrNull(r.code),
		referrerId: nOrNull(r.referrer_id),
		codeStatus: s(r.code_status) as ClickRecord['codeStatus'],
		createdAt: n(r.created_at),
		ipHash: sOrNull(r.ip_hash),
		uaHash: sOrNull(r.ua_hash),
		referringSite: sOrNull(r.referring_site),
		utmSource: sOrNull(r.utm_source),
		utmMedium: sOrNull(r.utm_medium),
		utmCampaign: sOrNull(r.utm_campaign),
		utmContent: sOrNull(r.utm_content),
		utmTerm: sOrNull(r.utm_term),
		channel: s(r.channel),
		visitorId: s(r.visitor_id),
	};
}

function visitorId(value: unknown, field = 'visitorId'): string {
	const id = v.text(value, field, 64);
	if (!VISITOR_ID.test(id))
		fail('invalid_value', field, `${field} must be 16 to 64 letters, digits, "_" or "-"`);
	return id;
}

const funnel = (): ClickFunnelRow => ({ clicks: 0, signUps: 0, qualified: 0 });

export class ClicksTable implements Pick<LedgerStore, Methods> {
	constructor(private readonly core: LedgerCore) {}

	/**
	 * Records one click. A click is an event, not a state: every call that passes the rate limit is
	 * a new row (a repeated request is a repeated click), so there is no idempotency key.
	 */
	async recordClick(input: RecordClickInput): Promise<RecordClickResult> {
		inputObject(input, 'recordClick');
		const programId = programIdOf(input);
		const codeStatus = v.oneOf(input.codeStatus, 'codeStatus', CODE_STATUSES);
		const code = v.optText(input.code, 'code', LIMITS.code) ?? null;
		const referrerId = v.optRowId(input.referrerId, 'referrerId') ?? null;
		const at = v.optTime(input.at, 'at');
		const opt = (value: unknown, field: string, max = 256) => v.optText(value, field, max) ?? null;
		const row = {
			ipHash: opt(input.ipHash, 'ipHash', LIMITS.id),
			uaHash: opt(input.uaHash, 'uaHash', LIMITS.id),
			referringSite: opt(input.referringSite, 'referringSite', 253),
			utmSource: opt(input.utmSource, 'utmSource'),
			utmMedium: opt(input.utmMedium, 'utmMedium'),
			utmCampaign: opt(input.utmCampaign, 'utmCampaign'),
			utmContent: opt(input.utmContent, 'utmContent'),
			utmTerm: opt(input.utmTerm, 'utmTerm'),
		};
		const channel = v.text(input.channel, 'channel', 256);
		const visitor = visitorId(input.visitorId);
		let limit: { max: number; since: number } | undefined;
		if (input.rateLimit !== undefined && input.rateLimit !== null) {
			inputObject(input.rateLimit, 'rateLimit');
			limit = {
				max: v.int(input.rateLimit.max, 'rateLimit.max', 1, 1_000_000),
				since: v.time(input.rateLimit.since, 'rateLimit.since'),
			};
		}
		return this.core.write(async (w) => {
			await this.core.requireProgram(w.tx, programId);
			if (referrerId !== null)
				await this.core.requireParticipant(w.tx, programId, referrerId, 'referrerId');
			if (limit && row.ipHash !== null) {
				// One counter per ip at a time (PostgreSQL; SQLite writers are serialised anyway).
				await this.core.driver.lock(w.tx, `clicks-ip:${programId}:${row.ipHash}`);
				// A bounded range of the (program, ip_hash, created_at) index: at most `max` entries read.
				const seen = await w.tx.get(
					`SELECT COUNT(*) AS n FROM (SELECT 1 FROM clicks WHERE program_id = $1 AND ip_hash = $2 AND created_at >= $3 LIMIT $4) recent`,
					[programId, row.ipHash, limit.since, limit.max],
				);
				if (n(seen!.n) >= limit.max) return { click: null, limited: true };
			}
			const inserted = await w.tx.get(
				`INSERT INTO clicks (program_id, code, referrer_id, code_status, created_at, ip_hash, ua_hash, referring_site,
					utm_source, utm_medium, utm_campaign, utm_content, utm_term, channel, visitor_id)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING *`,
				[
					programId,
					code,
					referrerId,
					codeStatus,
					at ?? w.now,
					row.ipHash,
					row.uaHash,
					row.referringSite,
					row.utmSource,
					row.utmMedium,
					row.utmCampaign,
					row.utmContent,
					row.utmTerm,
					channel,
					visitor,
				],
			);
			const click = toClick(inserted!);
			await rollupClick(w.tx, this.core.backend, click);
			return { click, limited: false };
		});
	}

	/** The visitor's first or last click in the window: one row of the (program, visitor_id, created_at) index. */
	async visitorClick(query: VisitorClickQuery): Promise<ClickRecord | null> {
		inputObject(query, 'visitorClick');
		const programId = programIdOf(query);
		const visitor = visitorId(query.visitorId);
		const since = v.time(query.since, 'since');
		const until = v.time(query.until, 'until');
		const pick = v.oneOf(query.pick, 'pick', ['first', 'last'] as const);
		const order = pick === 'first' ? 'ASC' : 'DESC';
		const only =
			query.attributableOnly === false
				? ''
				: ` AND code_status = 'known' AND referrer_id IS NOT NULL`;
		const row = await this.core.read((tx) =>
			tx.get(
				`SELECT * FROM clicks WHERE program_id = $1 AND visitor_id = $2 AND created_at >= $3 AND created_at <= $4${only}
				ORDER BY created_at ${order}, id ${order} LIMIT 1`,
				[programId, visitor, since, until],
			),
		);
		return row ? toClick(row) : null;
	}

	/**
	 * The share-link figures of a period by aggregate queries (nothing per click reaches JavaScript).
	 * Since schema version 14 from the click rollups (tables/clickRollups.ts): the whole UTC days of
	 * the period from stats_days (clicks by code status and by channel, sign-ups by status and by
	 * channel), the partial days at its edges (under a day each) from the rows; distinct visitors and
	 * the per-referrer figures from the rollups of a lifetime, UTC year or UTC month, and from the
	 * period's rows for any other window (a day, a week, a rolling or zoned window). `source:
	 * 'rows'` counts the period's clicks and referrals instead (the baseline).
	 */
	async clickStats(query: ClickStatsQuery): Promise<ClickStatsTotals> {
		inputObject(query, 'clickStats');
		const a: StatsArgs = {
			programId: programIdOf(query),
			since: v.optTime(query.since, 'since'),
			until: v.optTime(query.until, 'until'),
			limit: v.limit(query.limit, 'limit', 100),
			referrerIds:
				query.referrerIds === undefined || query.referrerIds === null
					? undefined
					: v.idList(query.referrerIds, 'referrerIds'),
		};
		const source = v.oneOf(query.source ?? 'rollups', 'source', ['rollups', 'rows'] as const);
		return this.core.readRollups((tx) =>
			source === 'rows' ? rowStats(tx, a) : rollupStats(tx, a),
		);
	}
}

interface StatsArgs {
	programId: string;
	since?: number;
	until?: number;
	limit: number;
	referrerIds?: number[];
}

const qualifiedSum = (alias: string) =>
	`SUM(CASE WHEN ${alias}.status = 'qualified' THEN 1 ELSE 0 END)`;
const emptyTotals = (): ClickStatsTotals => ({
	...funnel(),
	byCodeStatus: { known: 0, unknown: 0, revoked: 0 },
	visitors: 0,
	byReferrer: [],
	byChannel: [],
});
const byClicks = (
	a: ClickFunnelRow & { referrerId: number },
	b: ClickFunnelRow & { referrerId: number },
) => b.clicks - a.clicks || b.signUps - a.signUps || a.referrerId - b.referrerId;

/** The period's figures counted over its clicks and referrals (schema version 9's queries). */
async function rowStats(tx: Tx, a: StatsArgs): Promise<ClickStatsTotals> {
	const { programId, since, until, limit, referrerIds } = a;
	const totals = emptyTotals();
	let q = new Params();
	for (const r of await tx.all(
		`SELECT c.code_status, COUNT(*) AS n FROM clicks c WHERE c.program_id = ${q.p(programId)}${window(q, 'c.created_at', since, until)} GROUP BY c.code_status`,
		q.values,
	)) {
		totals.byCodeStatus[s(r.code_status) as ClickRecord['codeStatus']] = n(r.n);
		totals.clicks += n(r.n);
	}
	// No link clicks in the period: no share-link funnel to report, and nothing else is read
	// (the sign-up counts below walk the period's referrals; a ledger without tracked links
	// must not pay for them in every Get Stats).
	if (totals.clicks === 0) return totals;
	totals.visitors = await rowVisitors(tx, a);
	q = new Params();
	const signUps = (await tx.get(
		`SELECT COUNT(*) AS n, COALESCE(${qualifiedSum('r')}, 0) AS qualified FROM referrals r WHERE r.program_id = ${q.p(programId)}${window(q, 'r.touched_at', since, until)}`,
		q.values,
	))!;
	totals.signUps = n(signUps.n);
	totals.qualified = n(signUps.qualified);
	if (referrerIds !== undefined && referrerIds.length === 0) return totals;
	totals.byReferrer = await rowReferrers(tx, a);

	// Per channel: clicks, and the referrals attributed by a click of the channel.
	q = new Params();
	const byChannel = new Map<string, ClickFunnelRow & { channel: string }>();
	for (const r of await tx.all(
		`SELECT c.channel, COUNT(*) AS n FROM clicks c WHERE c.program_id = ${q.p(programId)}${window(q, 'c.created_at', since, until)}
		GROUP BY c.channel ORDER BY COUNT(*) DESC, c.channel LIMIT ${q.p(limit)}`,
		q.values,
	))
		byChannel.set(s(r.channel), { channel: s(r.channel), ...funnel(), clicks: n(r.n) });
	q = new Params();
	for (const r of await tx.all(
		`SELECT c.channel, COUNT(*) AS n, ${qualifiedSum('r')} AS qualified FROM referrals r JOIN clicks c ON c.id = r.click_id
		WHERE r.program_id = ${q.p(programId)} AND r.click_id IS NOT NULL${window(q, 'r.touched_at', since, until)} GROUP BY c.channel`,
		q.values,
	)) {
		const row = byChannel.get(s(r.channel));
		// A channel outside the top `limit` by clicks stays out, like its clicks.
		if (!row) continue;
		row.signUps = n(r.n);
		row.qualified = n(r.qualified);
	}
	totals.byChannel = [...byChannel.values()];
	return totals;
}

function rowVisitors(tx: Tx, { programId, since, until }: StatsArgs): Promise<number> {
	return aggregateInWindow(tx, {
		aggregate: 'COUNT(DISTINCT c.visitor_id)',
		from: 'clicks c',
		alias: 'c.',
		time: 'c.created_at',
		programId,
		since,
		until,
	});
}

/** Per referrer: the top referrers by clicks (or the given ones), then their referrals. */
async function rowReferrers(
	tx: Tx,
	{ programId, since, until, limit, referrerIds }: StatsArgs,
): Promise<Array<ClickFunnelRow & { referrerId: number }>> {
	let q = new Params();
	const byReferrer = new Map<number, ClickFunnelRow & { referrerId: number }>();
	const referrerFilter = (q: Params, column: string) =>
		referrerIds === undefined ? '' : ` AND ${column} IN ${q.list(referrerIds)}`;
	for (const r of await tx.all(
		`SELECT c.referrer_id, COUNT(*) AS n FROM clicks c WHERE c.program_id = ${q.p(programId)}${window(q, 'c.created_at', since, until)} AND c.referrer_id IS NOT NULL${referrerFilter(q, 'c.referrer_id')}
		GROUP BY c.referrer_id ORDER BY COUNT(*) DESC, c.referrer_id LIMIT ${q.p(limit)}`,
		q.values,
	))
		byReferrer.set(n(r.referrer_id), {
			referrerId: n(r.referrer_id),
			...funnel(),
			clicks: n(r.n),
		});
	const ids = referrerIds ?? [...byReferrer.keys()];
	if (ids.length > 0) {
		q = new Params();
		for (const r of await tx.all(
			`SELECT r.referrer_id, COUNT(*) AS n, ${qualifiedSum('r')} AS qualified FROM referrals r
			WHERE r.program_id = ${q.p(programId)} AND r.referrer_id IN ${q.list(ids)}${window(q, 'r.touched_at', since, until)} GROUP BY r.referrer_id`,
			q.values,
		)) {
			const id = n(r.referrer_id);
			const row = byReferrer.get(id) ?? { referrerId: id, ...funnel() };
			row.signUps = n(r.n);
			row.qualified = n(r.qualified);
			byReferrer.set(id, row);
		}
	}
	return [...byReferrer.values()].sort(byClicks);
}

/** The same figures from the click rollups (schema version 14) and the rows of the period's partial days. */
async function rollupStats(tx: Tx, a: StatsArgs): Promise<ClickStatsTotals> {
	const { programId, since, until, limit, referrerIds } = a;
	const dayStart = since === undefined ? undefined : ceilDay(since);
	const dayEnd = until === undefined ? undefined : floorDay(until);
	// Not one whole UTC day: the period is short, its rows are few.
	if (dayStart !== undefined && dayEnd !== undefined && dayStart >= dayEnd) return rowStats(tx, a);
	const edges: Array<[number | undefined, number | undefined]> = [];
	if (since !== undefined && since < dayStart!) edges.push([since, dayStart]);
	if (until !== undefined && dayEnd! < until) edges.push([dayEnd, until]);
	/** Counts by (k1, k2): the rollup rows of the whole days plus the same count over each edge's rows. */
	const counts = async (
		metric: string,
		edgeSql: (q: Params, from?: number, to?: number) => string,
	) => {
		const out = new Map<string, number>();
		const add = (rows: Row[]) => {
			for (const r of rows) {
				const key = `${s(r.k1)}\u0000${s(r.k2)}`;
				out.set(key, (out.get(key) ?? 0) + n(r.n));
			}
		};
		let q = new Params();
		add(
			await tx.all(
				`SELECT k1, k2, SUM(n) AS n FROM stats_days WHERE program_id = ${q.p(programId)} AND metric = ${q.p(metric)}${window(q, 'day', dayStart, dayEnd)}
				GROUP BY k1, k2`,
				q.values,
			),
		);
		for (const [from, to] of edges) {
			q = new Params();
			add(await tx.all(edgeSql(q, from, to), q.values));
		}
		return [...out]
			.map(([key, count]) => {
				const [k1, k2] = key.split('\u0000');
				return { k1, k2, n: count };
			})
			.filter((c) => c.n !== 0);
	};
	const clicksBy = (column: string) => (q: Params, from?: number, to?: number) =>
		`SELECT c.${column} AS k1, '' AS k2, COUNT(*) AS n FROM clicks c WHERE c.program_id = ${q.p(programId)}${window(q, 'c.created_at', from, to)} GROUP BY c.${column}`;

	const totals = emptyTotals();
	for (const c of await counts('clicks', clicksBy('code_status'))) {
		totals.byCodeStatus[c.k1 as ClickRecord['codeStatus']] = c.n;
		totals.clicks += c.n;
	}
	if (totals.clicks === 0) return totals;
	const span = rollupSpan(since, until);
	if (span) {
		const q = new Params();
		const row = await tx.get(
			`SELECT visitors FROM click_spans WHERE program_id = ${q.p(programId)} AND span = ${q.p(span.span)} AND start = ${q.p(span.start)}`,
			q.values,
		);
		totals.visitors = row ? n(row.visitors) : 0;
	} else totals.visitors = await rowVisitors(tx, a);
	for (const c of await counts(
		'status',
		(q, from, to) =>
			`SELECT r.status AS k1, '' AS k2, COUNT(*) AS n FROM referrals r WHERE r.program_id = ${q.p(programId)}${window(q, 'r.touched_at', from, to)} GROUP BY r.status`,
	)) {
		totals.signUps += c.n;
		if (c.k1 === 'qualified') totals.qualified += c.n;
	}
	if (referrerIds !== undefined && referrerIds.length === 0) return totals;

	if (span) {
		// The top referrers by clicks in index order (click_referrers_clicks), or the given ones.
		const q = new Params();
		const which =
			referrerIds === undefined
				? ` AND clicks > 0 ORDER BY clicks DESC, referrer_id LIMIT ${q.p(limit)}`
				: ` AND referrer_id IN ${q.list(referrerIds)} AND (clicks > 0 OR sign_ups > 0)`;
		const rows = await tx.all(
			`SELECT referrer_id, clicks, sign_ups, qualified FROM click_referrers
			WHERE program_id = ${q.p(programId)} AND span = ${q.p(span.span)} AND start = ${q.p(span.start)}${which}`,
			q.values,
		);
		const lines = rows.map((r) => ({
			referrerId: n(r.referrer_id),
			clicks: n(r.clicks),
			signUps: n(r.sign_ups),
			qualified: n(r.qualified),
		}));
		if (referrerIds !== undefined) {
			// Like the rows' queries: clicks for the top `limit` of the given referrers by clicks only.
			const top = new Set(
				lines
					.filter((l) => l.clicks > 0)
					.sort((x, y) => y.clicks - x.clicks || x.referrerId - y.referrerId)
					.slice(0, limit)
					.map((l) => l.referrerId),
			);
			for (const l of lines) if (!top.has(l.referrerId)) l.clicks = 0;
		}
		totals.byReferrer = lines.filter((l) => l.clicks > 0 || l.signUps > 0).sort(byClicks);
	} else totals.byReferrer = await rowReferrers(tx, a);

	// Per channel: the top `limit` by clicks (ties in byte order of the name, like the rows' ORDER BY).
	const channels = (await counts('chclicks', clicksBy('channel')))
		.filter((c) => c.n > 0)
		.sort((x, y) => y.n - x.n || Buffer.compare(Buffer.from(x.k1), Buffer.from(y.k1)))
		.slice(0, limit);
	const byChannel = new Map<string, ClickFunnelRow & { channel: string }>(
		channels.map((c) => [c.k1, { channel: c.k1, ...funnel(), clicks: c.n }]),
	);
	for (const c of await counts(
		'chrefs',
		(q, from, to) =>
			`SELECT c.channel AS k1, r.status AS k2, COUNT(*) AS n FROM referrals r JOIN clicks c ON c.id = r.click_id
			WHERE r.program_id = ${q.p(programId)} AND r.click_id IS NOT NULL${window(q, 'r.touched_at', from, to)} GROUP BY c.channel, r.status`,
	)) {
		const row = byChannel.get(c.k1);
		if (!row) continue;
		row.signUps += c.n;
		if (c.k2 === 'qualified') row.qualified += c.n;
	}
	totals.byChannel = [...byChannel.values()];
	return totals;
}
