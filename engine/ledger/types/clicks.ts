/* Tracked referral link clicks (tables/clicks.ts, issue #17). */
import type { Id, Time } from './common';

export type ClickCodeStatus = 'known' | 'unknown' | 'revoked';

/** One counted click of a referral link. Never a raw IP or user agent: keyed hashes only. */
export interface ClickRecord {
	id: number;
	programId: string;
	/** The code as stored (known and revoked codes), or null for a code the program does not have. */
	code: string | null;
	/** The code's owner when the click was recorded (known codes with an owner), else null. */
	referrerId: number | null;
	codeStatus: ClickCodeStatus;
	createdAt: number;
	ipHash: string | null;
	uaHash: string | null;
	/** The referring site's host name (never its path or query), or null. */
	referringSite: string | null;
	utmSource: string | null;
	utmMedium: string | null;
	utmCampaign: string | null;
	utmContent: string | null;
	utmTerm: string | null;
	/** utm_source, else the referring site, else `direct`. */
	channel: string;
	/** The first-party visitor id the click's cookie carries. */
	visitorId: string;
}

export interface RecordClickInput {
	programId: string;
	code?: string | null;
	referrerId?: Id | null;
	codeStatus: ClickCodeStatus;
	/** Default now. */
	at?: Time;
	ipHash?: string | null;
	uaHash?: string | null;
	referringSite?: string | null;
	utmSource?: string | null;
	utmMedium?: string | null;
	utmCampaign?: string | null;
	utmContent?: string | null;
	utmTerm?: string | null;
	channel: string;
	visitorId: string;
	/**
	 * Per-IP rate limit, checked in the same write: when the ip hash already has `max` clicks in
	 * the program since `since`, nothing is written and `limited` is true.
	 */
	rateLimit?: { max: number; since: Time };
}

export interface RecordClickResult {
	/** Null when the rate limit refused the click. */
	click: ClickRecord | null;
	limited: boolean;
}

export interface VisitorClickQuery {
	programId: string;
	visitorId: string;
	/** The window [since, until] on the click time. */
	since: Time;
	until: Time;
	/** `first`: the earliest click in the window, `last`: the latest. */
	pick: 'first' | 'last';
	/** Only clicks of a known code with an owner (that can credit a referrer); default true. */
	attributableOnly?: boolean;
}

export interface ClickStatsQuery {
	programId: string;
	/** The period [since, until) on click time (clicks) and on the referrals' touched_at (sign-ups); open when absent. */
	since?: Time;
	until?: Time;
	/** Per-referrer rows only for these referrers (the leaderboard's); default: the top `limit` by clicks. */
	referrerIds?: Id[];
	/** Rows per breakdown (default 100). */
	limit?: number;
	/** `rows`: count over the period's clicks and referrals instead of the rollups (the baseline for tests and benchmarks). */
	source?: 'rollups' | 'rows';
}

export interface ClickFunnelRow {
	clicks: number;
	/** Referrals of the period (sign-ups); per channel: those attributed by a click of that channel. */
	signUps: number;
	/** Of those, qualified now. */
	qualified: number;
}

/** The share-link figures of a period, by aggregate queries. */
export interface ClickStatsTotals extends ClickFunnelRow {
	byCodeStatus: Record<ClickCodeStatus, number>;
	/** Distinct visitors among the period's clicks. */
	visitors: number;
	byReferrer: Array<ClickFunnelRow & { referrerId: number }>;
	byChannel: Array<ClickFunnelRow & { channel: string }>;
}
