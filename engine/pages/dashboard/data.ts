import type { DashboardTotals, LedgerStore, ReferralRecord } from '../../ledger/store';
import {
	referralLeaderboard,
	referralStats,
	type LeaderboardLine,
	type StatsOutcome,
} from '../../referrals/stats';
import type { CustomerRow } from '../../referrals/metrics';
import { storedChecks } from '../../referrals/views';
import type { Period } from '../../shared/periods';
import { EngineError } from '../../shared/errors';

/**
 * Everything the marketer dashboard shows, read from the ledger by aggregate queries: Get Stats
 * itself (referralStats, the same call as Referral › Program › Get Stats, so the headline figures
 * are Get Stats' figures), the leaderboard, and `dashboardTotals` (series, reward liability,
 * points, coupon pools). Loyalty Insights results are passed in by the workflow when it has them.
 */

export const DAY_MS = 86_400_000;

export interface LoyaltyMix {
	/** RFM segment → customers (from Loyalty Insights › RFM). */
	segments?: Record<string, number>;
	/** Loyalty index per customer, 0–100 (from Loyalty Insights › Loyalty Index). */
	loyaltyIndex?: number[];
}

export interface DashboardInput {
	programId: string;
	period: Period;
	at: number;
	/** Bucket of the over-time charts. */
	bucket: 'day' | 'week';
	/** How many buckets back from `at` (default 12). */
	buckets?: number;
	/** Coupon use rate is measured over these last days (default 30). */
	rateDays?: number;
	topReferrers?: number;
	customerRows?: CustomerRow[];
	loyalty?: LoyaltyMix;
}

export interface FunnelSeries {
	bucket: 'day' | 'week';
	/** Start of each bucket, ms. */
	starts: number[];
	/** Counted clicks of tracked links (Referral › Track Click); null when there were none in the window: the funnel then starts at sign-ups. */
	clicks: number[] | null;
	signUps: number[];
	qualified: number[];
	rewarded: number[];
}

export interface Liability {
	/** Cash and other priced rewards not reversed, per currency: owed (pending, approved) and paid (fulfilled). */
	money: Array<{
		currency: string;
		owed: number;
		paid: number;
		owedCount: number;
		paidCount: number;
	}>;
	points: { owed: number; paid: number; outstanding: number; holders: number };
	/** Rewards without an amount (coupons, badges, custom): counts. */
	other: Array<{ kind: string; owed: number; paid: number }>;
}

export interface CouponPoolView {
	pool: string;
	available: number;
	claimed: number;
	perDay: number;
	/** Days until empty at the current rate; null when nothing was claimed lately. */
	daysLeft: number | null;
}

export interface DashboardData {
	programId: string;
	generatedAt: number;
	stats: StatsOutcome;
	leaderboard: LeaderboardLine[];
	funnel: FunnelSeries;
	liability: Liability;
	coupons: CouponPoolView[];
	loyalty: LoyaltyMix | null;
}

/** The over-time funnel (clicks, sign-ups, qualified, rewarded): the one place its data is read. */
export async function loadFunnelSeries(
	ledger: LedgerStore,
	input: {
		programId: string;
		since: number;
		until: number;
		bucket: 'day' | 'week';
		bucketMs: number;
		rateSince: number;
	},
): Promise<{ series: FunnelSeries; totals: DashboardTotals }> {
	const { bucket, ...query } = input;
	const totals = await ledger.dashboardTotals(query);
	const starts = totals.series.signUps.map((_, i) => input.since + i * input.bucketMs);
	return {
		series: {
			bucket,
			starts,
			...totals.series,
			// A program that does not use tracked links has no clicks: its funnel starts at sign-ups.
			clicks: totals.series.clicks.some((n) => n > 0) ? totals.series.clicks : null,
		},
		totals,
	};
}

function bucketStart(at: number, bucket: 'day' | 'week'): number {
	const day = Math.floor(at / DAY_MS) * DAY_MS;
	if (bucket === 'day') return day;
	const weekday = (new Date(day).getUTCDay() + 6) % 7; // Monday = 0
	return day - weekday * DAY_MS;
}

export async function loadDashboard(
	ledger: LedgerStore,
	input: DashboardInput,
): Promise<DashboardData> {
	const buckets = input.buckets ?? 12;
	if (!Number.isInteger(buckets) || buckets < 1 || buckets > 366)
		throw new EngineError(
			'invalid_number',
			`buckets must be a whole number from 1 to 366 (got ${String(buckets)}).`,
			{ field: 'buckets' },
		);
	const rateDays = input.rateDays ?? 30;
	const bucketMs = input.bucket === 'week' ? 7 * DAY_MS : DAY_MS;
	const until = bucketStart(input.at, input.bucket) + bucketMs;
	const since = until - buckets * bucketMs;
	const [stats, leaderboard, { series, totals }] = await Promise.all([
		referralStats(ledger, {
			programId: input.programId,
			period: input.period,
			at: input.at,
			customerRows: input.customerRows,
		}),
		referralLeaderboard(ledger, {
			programId: input.programId,
			by: 'qualifiedReferrals',
			period: input.period,
			at: input.at,
			limit: input.topReferrers ?? 10,
		}),
		loadFunnelSeries(ledger, {
			programId: input.programId,
			since,
			until,
			bucket: input.bucket,
			bucketMs,
			rateSince: input.at - rateDays * DAY_MS,
		}),
	]);
	return {
		programId: input.programId,
		generatedAt: input.at,
		stats,
		leaderboard,
		funnel: series,
		liability: liabilityOf(totals),
		coupons: totals.coupons.map((c) => {
			const perDay = c.claimedSinceRate / rateDays;
			return {
				pool: c.pool,
				available: c.available,
				claimed: c.claimed,
				perDay,
				daysLeft: perDay > 0 ? c.available / perDay : null,
			};
		}),
		loyalty:
			input.loyalty && (input.loyalty.segments || input.loyalty.loyaltyIndex)
				? input.loyalty
				: null,
	};
}

const OWED = new Set(['pending', 'approved']);

export function liabilityOf(totals: DashboardTotals): Liability {
	const money = new Map<string, Liability['money'][number]>();
	const points = {
		owed: 0,
		paid: 0,
		outstanding: totals.points.outstanding,
		holders: totals.points.holders,
	};
	const other = new Map<string, Liability['other'][number]>();
	for (const r of totals.rewards) {
		const owed = OWED.has(r.status);
		if (r.kind === 'points') {
			if (owed) points.owed += r.amount;
			else points.paid += r.amount;
		} else if (r.currency) {
			const m = money.get(r.currency) ?? {
				currency: r.currency,
				owed: 0,
				paid: 0,
				owedCount: 0,
				paidCount: 0,
			};
			if (owed) {
				m.owed += r.amount;
				m.owedCount += r.count;
			} else {
				m.paid += r.amount;
				m.paidCount += r.count;
			}
			money.set(r.currency, m);
		} else {
			const o = other.get(r.kind) ?? { kind: r.kind, owed: 0, paid: 0 };
			if (owed) o.owed += r.count;
			else o.paid += r.count;
			other.set(r.kind, o);
		}
	}
	const round = (x: number) => Math.round(x * 100) / 100;
	return {
		money: [...money.values()].map((m) => ({ ...m, owed: round(m.owed), paid: round(m.paid) })),
		points,
		other: [...other.values()],
	};
}

// ---------------------------------------------------------------------------------------------
// Review queue

/** What a reviewer reads about one check, in words. */
export const REASON_WORDS: Record<string, string> = {
	self_referral: 'The referrer and the new customer look like the same person',
	duplicate_referee: 'The new customer was already referred or already a customer',
	disposable_email: 'The new customer signed up with a throwaway email address',
	same_ip: 'Several sign-ups came from the same network address (IP)',
	same_device: 'Several sign-ups came from the same device',
	velocity: 'The referrer brought in unusually many sign-ups in a short time',
	ring: 'The referral closes a ring: people referring each other in a circle',
	unknown_code: 'The referral code is not known',
	code_expired: 'The referral code had expired',
	code_revoked: 'The referral code was revoked',
};

/** Who a flagged referral joins, as the marketer needs to decide (the pages are behind the marketer's login). */
export interface ReviewPerson {
	id: number;
	name: string | null;
	email: string | null;
	/** The participant was erased (GDPR): no personal data is left to show. */
	erased: boolean;
}

export interface ReviewItem {
	referralId: number;
	referrerId: number;
	refereeId: number | null;
	/** Filled by loadReviewQueue from the participants (null when the row is not found). */
	referrer?: ReviewPerson | null;
	referee?: ReviewPerson | null;
	signedUpAt: number;
	riskScore: number | null;
	reasons: Array<{ code: string; words: string; detail: string | null; score: number | null }>;
}

export function reviewItemOf(referral: ReferralRecord): ReviewItem {
	const checks = storedChecks(referral) ?? [];
	const codes = referral.reasons.length > 0 ? referral.reasons : checks.map((c) => c.reason);
	return {
		referralId: referral.id,
		referrerId: referral.referrerId,
		refereeId: referral.refereeId,
		signedUpAt: referral.touchedAt,
		riskScore: referral.riskScore,
		reasons: [...new Set(codes)].map((code) => {
			const found = checks.filter((c) => c.reason === code);
			return {
				code,
				words: REASON_WORDS[code] ?? code.replace(/_/g, ' '),
				detail: found.length > 0 ? found.map((c) => c.detail).join(' ') : null,
				score: found.length > 0 ? found.reduce((sum, c) => sum + c.score, 0) : null,
			};
		}),
	};
}

/**
 * Flagged referrals, oldest first, with their reasons in words, the stored evidence, and the
 * referrer's and new customer's names and emails (each participant read once).
 */
export async function loadReviewQueue(
	ledger: LedgerStore,
	input: { programId: string; limit?: number },
): Promise<ReviewItem[]> {
	const rows = await ledger.listReferrals({
		programId: input.programId,
		status: 'flagged',
		limit: input.limit ?? 100,
	});
	const ids = new Set<number>();
	for (const row of rows) {
		ids.add(row.referrerId);
		if (row.refereeId !== null) ids.add(row.refereeId);
	}
	const people = new Map<number, ReviewPerson>();
	for (const id of ids) {
		const p = await ledger.getParticipant({ programId: input.programId, id });
		if (p) people.set(id, { id, name: p.name, email: p.email, erased: p.erasedAt !== null });
	}
	return rows.map((row) => ({
		...reviewItemOf(row),
		referrer: people.get(row.referrerId) ?? null,
		referee: row.refereeId === null ? null : (people.get(row.refereeId) ?? null),
	}));
}
