/* Referrals, their conversions and the queries over them (tables/referrals.ts,
 * tables/referralQueries.ts). */
import type { Id, Mutation, Replayable, Time } from './common';

export interface ReferralRecord {
	id: number;
	programId: string;
	referrerId: number;
	refereeId: number | null;
	codeId: number | null;
	source: string | null;
	touchedAt: number;
	ipHash: string | null;
	deviceHash: string | null;
	status: string;
	reasons: string[];
	riskScore: number | null;
	metadata: Record<string, unknown>;
	qualifiedAt: number | null;
	/** The tracked link click that attributed this referral (issue #17), else null. */
	clickId: number | null;
	createdAt: number;
	updatedAt: number;
}

export interface ConversionRecord {
	id: number;
	programId: string;
	referralId: number;
	orderId: string;
	amount: number | null;
	currency: string | null;
	occurredAt: number;
	createdAt: number;
	/** The referral's status when the order arrived (null for orders recorded by versions before 6 of the schema). */
	referralStatus: string | null;
}

export interface LeaderboardRow {
	/** Ties share a rank (1, 1, 3). */
	rank: number;
	participantId: number;
	externalId: string | null;
	name: string | null;
	score: number;
}

export interface ReferralEdge {
	referralId: number;
	referrerId: number;
	refereeId: number;
	status: string;
}

export interface RecordReferralInput extends Mutation {
	programId: string;
	/** Optional when `code` has an owner: the owner is the referrer. */
	referrerId?: Id;
	refereeId?: Id;
	code?: string;
	source?: string;
	touchedAt?: Time;
	ipHash?: string;
	deviceHash?: string;
	/** The recorded click (recordClick) that attributed the referee, when a click did. */
	clickId?: Id;
	/** Initial status (default `pending`); the lifecycle rules live in engine/referrals. */
	status?: string;
	reasons?: string[];
	riskScore?: number;
	metadata?: Record<string, unknown>;
}

/* A referee is referred at most once per program. Default key: the referee, else all inputs. */
export interface RecordReferralResult extends Replayable {
	referral: ReferralRecord;
	/** False when the referee already had a referral in this program (that one is returned). */
	created: boolean;
}

export interface TransitionReferralInput extends Mutation {
	programId: string;
	referralId: Id;
	from: string;
	to: string;
	reason?: string;
	/** Replace the referral's reasons / risk score in the same step (e.g. when flagging). */
	reasons?: string[];
	riskScore?: number;
}

/**
 * Hands a not-yet-converted referral to another referrer (last-touch attribution, or a first touch
 * that arrives late). Compare-and-set on the current referrer and on the statuses it may move from.
 */
export interface ReassignReferralInput extends Mutation {
	programId: string;
	referralId: Id;
	fromReferrerId: Id;
	toReferrerId: Id;
	/** The code the new touch came through, in canonical form (must exist in the program). */
	code?: string;
	touchedAt?: Time;
	source?: string;
	ipHash?: string;
	deviceHash?: string;
	/** Statuses the referral may be reassigned in. */
	fromStatuses: string[];
	reason?: string;
}

export interface QualifyReferralInput extends Mutation {
	programId: string;
	referralId: Id;
	/** Unique per program: the same order never qualifies twice. It is also the default key. */
	orderId: string;
	amount?: number;
	currency?: string;
	occurredAt?: Time;
	/** Statuses the referral may be qualified from (the lifecycle lives in engine/referrals). */
	fromStatuses: string[];
	/** Default `qualified`. */
	toStatus?: string;
	reason?: string;
}

export interface QualifyReferralResult extends Replayable {
	/** False when the referral's status was not in `fromStatuses` (the order is still recorded). */
	qualified: boolean;
	referral: ReferralRecord;
	conversion: ConversionRecord;
}

export interface ListReferralsQuery {
	programId: string;
	referrerId?: Id;
	refereeId?: Id;
	status?: string;
	since?: Time;
	until?: Time;
	afterId?: Id;
	limit?: number;
}

export interface CountReferralsQuery {
	programId: string;
	referrerId?: Id;
	/** Period on touch time, `since` inclusive, `until` exclusive. */
	since?: Time;
	until?: Time;
}

/** A referrer's referrals in windows that end together (velocity checks): one count per `since`. */
export interface ReferrerWindowsQuery {
	programId: string;
	referrerId: Id;
	/** Each window's start on touch time, inclusive. */
	since: Time[];
	/** The windows' common end, exclusive. */
	until: Time;
}

export interface ReferralCounts {
	total: number;
	byStatus: Record<string, number>;
}

export interface SignalQuery {
	programId: string;
	ipHash?: string;
	deviceHash?: string;
	since: Time;
	until?: Time;
	excludeReferralId?: Id;
	limit?: number;
}

export interface EdgesQuery {
	programId: string;
	/** Edges touching these participants; all edges of the program when omitted. */
	participantIds?: Id[];
	limit?: number;
}

export interface ConversionsQuery {
	programId: string;
	/** The conversions (orders) of these referrals (at most 10,000 ids). */
	referralIds: Id[];
	/** Only the order that qualified each referral, not its later orders (default false). */
	qualifiedOnly?: boolean;
}

export interface LeaderboardQuery {
	programId: string;
	/** `qualifiedReferrals`: referrals qualified in the period, per referrer; `points`: net points in the period. */
	by: 'qualifiedReferrals' | 'points';
	since?: Time;
	until?: Time;
	limit?: number;
	/** For `qualifiedReferrals`: statuses not to count (e.g. `reversed`). */
	excludeStatuses?: string[];
	/**
	 * `rollups` (default): the top N of the per-participant rollups when the window is one UTC month,
	 * year or lifetime (schema version 11); `rows`: the aggregate over the period's rows (the baseline).
	 */
	source?: 'rollups' | 'rows';
}

export interface ReferralStatsQuery {
	programId: string;
	/** The period [since, until) on the referrals' touched_at (rewards: created_at); open when absent. */
	since?: Time;
	until?: Time;
	/**
	 * `rollups` (default): the day rollups of schema version 11 plus the partial days at the edges;
	 * `rows`: version 8's aggregate over every referral of the period (the baseline, for tests and benchmarks).
	 */
	source?: 'rollups' | 'rows';
}

/** One currency's qualifying orders of the referrals that qualified (qualified or reversed now). */
export interface StatsOrderTotals {
	currency: string;
	/** Orders with an amount in this currency (the latest qualifying order per referral). */
	orders: number;
	/** Of those, orders whose amount is not a valid order amount for the currency (negative, above the default maximum, too many decimals). */
	invalid: number;
	/** Valid orders of referrals still qualified (not reversed). */
	netOrders: number;
	/** Their amounts of referrals still qualified (not reversed), summed in the currency's minor units. */
	netMinor: number;
}

/** One currency's reward cost: rewards with an amount, not reversed, created in the period (listed in order of their first reward). */
export interface StatsRewardTotals {
	currency: string;
	/** Sum in hundredths when every amount is a whole number of hundredths, else null (see `amount`). */
	hundredths: number | null;
	/** Plain floating-point sum, for amounts with more than two decimals. */
	amount: number;
}

/** The figures Get Stats needs, computed by aggregate queries (bounded memory at any size). */
export interface ReferralStatsTotals {
	/** Referrals touched in the period, by status. */
	byStatus: Record<string, number>;
	/** Distinct referrers among them. */
	referrers: number;
	/** Participants created before `until` (all of the program's when open). */
	participants: number;
	/** Referrals of the period that qualified (status qualified or reversed, qualified_at set). */
	converted: number;
	/** Sum and median of max(qualified_at, touched_at) − touched_at over them; median null when none. */
	convertMsTotal: number;
	convertMsMedian: number | null;
	orders: StatsOrderTotals[];
	rewards: StatsRewardTotals[];
}

/** The marketer dashboard's aggregates beyond Get Stats (tables/referralQueries.ts). */
export interface DashboardQuery {
	programId: string;
	/** Start of the first bucket and end of the last: [since, until). */
	since: Time;
	until: Time;
	/** Bucket length in ms (e.g. a day or a week); at most 400 buckets. */
	bucketMs: number;
	/** Coupons claimed since this time give each pool's current rate of use. */
	rateSince: Time;
}

export interface DashboardTotals {
	/** Per bucket (index 0 = [since, since + bucketMs)): counted clicks of tracked links, referrals signed up (touched_at), qualified (qualified_at, reversed included), referrals rewarded (distinct referrals among the rewards created in the bucket, not reversed). */
	series: { clicks: number[]; signUps: number[]; qualified: number[]; rewarded: number[] };
	/** Every reward not reversed, by kind, status and currency (null for points and badges): count and summed amount. */
	rewards: Array<{
		kind: string;
		status: string;
		currency: string | null;
		count: number;
		amount: number;
	}>;
	/** Points held by participants now (sum of balances) and how many hold any. */
	points: { outstanding: number; holders: number };
	coupons: Array<{ pool: string; available: number; claimed: number; claimedSinceRate: number }>;
}
