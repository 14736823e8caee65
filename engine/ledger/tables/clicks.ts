/* Tracked referral link clicks (issue #17): one row per counted click, the per-IP rate limit in
 * the same write, the visitor's first or last click for sign-up attribution, and the share-link
 * figures of a period (clickStats: one aggregate function, kept apart from Get Stats' other
 * figures so each can change on its own). */
import type { LedgerCore } from '../core';
import { inputObject, programIdOf } from '../inputs';
import { n, nOrNull, s, sOrNull } from '../rows';
import { Params, type Row, type Tx } from '../sql';
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
			return { click: toClick(inserted!), limited: false };
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
	 * The share-link figures of a period by aggregate queries (nothing per click reaches JavaScript):
	 * clicks by code status and visitors on (program, created_at); per referrer and per channel the
	 * clicks, and the sign-ups (referrals touched in the period) and qualified referrals; per channel
	 * only referrals a click attributed (referrals.click_id).
	 */
	async clickStats(query: ClickStatsQuery): Promise<ClickStatsTotals> {
		inputObject(query, 'clickStats');
		const programId = programIdOf(query);
		const since = v.optTime(query.since, 'since');
		const until = v.optTime(query.until, 'until');
		const limit = v.limit(query.limit, 'limit', 100);
		const referrerIds =
			query.referrerIds === undefined || query.referrerIds === null
				? undefined
				: v.idList(query.referrerIds, 'referrerIds');
		const window = (q: Params, column: string) =>
			(since !== undefined ? ` AND ${column} >= ${q.p(since)}` : '') +
			(until !== undefined ? ` AND ${column} < ${q.p(until)}` : '');
		const qualifiedSum = (alias: string) =>
			`SUM(CASE WHEN ${alias}.status = 'qualified' THEN 1 ELSE 0 END)`;
		return this.core.read(async (tx: Tx) => {
			const totals: ClickStatsTotals = {
				...funnel(),
				byCodeStatus: { known: 0, unknown: 0, revoked: 0 },
				visitors: 0,
				byReferrer: [],
				byChannel: [],
			};
			let q = new Params();
			for (const r of await tx.all(
				`SELECT c.code_status, COUNT(*) AS n FROM clicks c WHERE c.program_id = ${q.p(programId)}${window(q, 'c.created_at')} GROUP BY c.code_status`,
				q.values,
			)) {
				totals.byCodeStatus[s(r.code_status) as ClickRecord['codeStatus']] = n(r.n);
				totals.clicks += n(r.n);
			}
			if (totals.clicks > 0) {
				q = new Params();
				totals.visitors = n(
					(await tx.get(
						`SELECT COUNT(DISTINCT c.visitor_id) AS n FROM clicks c WHERE c.program_id = ${q.p(programId)}${window(q, 'c.created_at')}`,
						q.values,
					))!.n,
				);
			}
			q = new Params();
			const signUps = (await tx.get(
				`SELECT COUNT(*) AS n, COALESCE(${qualifiedSum('r')}, 0) AS qualified FROM referrals r WHERE r.program_id = ${q.p(programId)}${window(q, 'r.touched_at')}`,
				q.values,
			))!;
			totals.signUps = n(signUps.n);
			totals.qualified = n(signUps.qualified);
			if (referrerIds !== undefined && referrerIds.length === 0) return totals;

			// Per referrer: the top referrers by clicks (or the given ones), then their referrals.
			q = new Params();
			const byReferrer = new Map<number, ClickFunnelRow & { referrerId: number }>();
			const referrerFilter = (q: Params, column: string) =>
				referrerIds === undefined ? '' : ` AND ${column} IN ${q.list(referrerIds)}`;
			for (const r of await tx.all(
				`SELECT c.referrer_id, COUNT(*) AS n FROM clicks c WHERE c.program_id = ${q.p(programId)}${window(q, 'c.created_at')} AND c.referrer_id IS NOT NULL${referrerFilter(q, 'c.referrer_id')}
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
					WHERE r.program_id = ${q.p(programId)} AND r.referrer_id IN ${q.list(ids)}${window(q, 'r.touched_at')} GROUP BY r.referrer_id`,
					q.values,
				)) {
					const id = n(r.referrer_id);
					const row = byReferrer.get(id) ?? { referrerId: id, ...funnel() };
					row.signUps = n(r.n);
					row.qualified = n(r.qualified);
					byReferrer.set(id, row);
				}
			}
			totals.byReferrer = [...byReferrer.values()].sort(
				(a, b) => b.clicks - a.clicks || b.signUps - a.signUps || a.referrerId - b.referrerId,
			);

			// Per channel: clicks, and the referrals attributed by a click of the channel.
			q = new Params();
			const byChannel = new Map<string, ClickFunnelRow & { channel: string }>();
			for (const r of await tx.all(
				`SELECT c.channel, COUNT(*) AS n FROM clicks c WHERE c.program_id = ${q.p(programId)}${window(q, 'c.created_at')}
				GROUP BY c.channel ORDER BY COUNT(*) DESC, c.channel LIMIT ${q.p(limit)}`,
				q.values,
			))
				byChannel.set(s(r.channel), { channel: s(r.channel), ...funnel(), clicks: n(r.n) });
			q = new Params();
			for (const r of await tx.all(
				`SELECT c.channel, COUNT(*) AS n, ${qualifiedSum('r')} AS qualified FROM referrals r JOIN clicks c ON c.id = r.click_id
				WHERE r.program_id = ${q.p(programId)} AND r.click_id IS NOT NULL${window(q, 'r.touched_at')} GROUP BY c.channel`,
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
		});
	}
}
