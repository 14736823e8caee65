import { EngineError } from '../shared/errors';
import { fromMinorUnits, parseCurrency, requireAmount, toMinorUnits } from '../shared/money';
import { REFERRAL_STATUSES, type ReferralStatus } from './lifecycle';
import { requireInteger, requireRecord, requireText, requireTime } from '../shared/guards';

/**
 * Program statistics computed from counts and rows the service reads from the ledger for one
 * period. Rates are fractions (0.25 = 25 %); a rate whose denominator is zero is null, never NaN.
 *
 * Definitions:
 * - funnel: referrals recorded in the period by current status. `qualified` counts every referral
 *   that ever qualified (qualified + reversed); `netQualified` leaves out reversed ones.
 * - referral rate: referrers / customers (share of customers who referred at least once).
 * - conversion rate: netQualified / (recorded − rejected): of the referrals that were valid,
 *   how many became customers who stayed.
 * - K-factor (viral coefficient) = invites per participant × invite conversion rate, where
 *   invites per participant = invites / customers and invite conversion = netQualified / invites.
 *   When invites are not given, invites = the tracked referral link clicks of the period (when the
 *   ledger has any, `invitesFrom: link_clicks`), else recorded referrals. Either way the product equals
 *   netQualified / customers; both factors are reported because they tell different stories
 *   (people share too little vs. shares convert too little). K > 1 means self-sustaining growth.
 * - referred revenue: the qualifying orders of net-qualified referrals, per currency.
 * - time to convert: sign-up → qualification, over every referral that qualified in the period.
 * - referral CAC: reward cost / netQualified (cost per referred customer kept).
 * - referred vs non-referred: revenue per customer and retention rate per group, with ratios.
 */

export type StatusCounts = Partial<Record<ReferralStatus, number>>;

export interface ConversionRow {
	referralId?: string;
	signedUpAt: number | string;
	qualifiedAt: number | string;
	amount?: number;
	currency?: string;
	reversed?: boolean;
}

export interface CustomerRow {
	referred: boolean;
	revenue?: number;
	/** Still active at the end of the period, by the caller's own definition. */
	retained?: boolean;
}

export interface ProgramStatsInput {
	/** Customers (participants) in the program for the period. */
	customers: number;
	/** Customers who recorded at least one referral in the period. */
	referrers: number;
	statusCounts: StatusCounts;
	/** Invitations sent (shares, emails), when tracked. */
	invitesSent?: number;
	/** Where `invitesSent` comes from: the caller (default) or the tracked referral link clicks of the ledger. */
	invitesFrom?: 'invites_sent' | 'link_clicks';
	conversions?: ConversionRow[];
	/** Reward cost for the period, in one currency, from the rewards ledger. */
	rewardCost?: { amount: number; currency: string };
	customerRows?: CustomerRow[];
}

export interface Funnel {
	recorded: number;
	pending: number;
	flagged: number;
	rejected: number;
	qualified: number;
	reversed: number;
	netQualified: number;
}

export interface GroupStats {
	customers: number;
	revenue: number;
	revenuePerCustomer: number | null;
	/** retained / customers whose retention is known. */
	retentionRate: number | null;
}

export interface ProgramStats {
	funnel: Funnel;
	referralRate: number | null;
	conversionRate: number | null;
	kFactor: {
		value: number;
		invitesPerParticipant: number;
		inviteConversionRate: number | null;
		invitesFrom: 'invites_sent' | 'link_clicks' | 'recorded_referrals';
	} | null;
	referredRevenue: Record<string, number>;
	timeToConvert: { count: number; meanMs: number; medianMs: number } | null;
	referralCac: { amount: number; currency: string; perQualifiedReferral: number } | null;
	referredVsNonReferred: {
		referred: GroupStats;
		nonReferred: GroupStats;
		/** referred revenue per customer / non-referred revenue per customer. */
		revenuePerCustomerRatio: number | null;
		/** referred retention rate − non-referred retention rate. */
		retentionDifference: number | null;
	} | null;
}

function ratio(numerator: number, denominator: number): number | null {
	return denominator > 0 ? numerator / denominator : null;
}

export function funnelFrom(statusCounts: StatusCounts): Funnel {
	const counts = requireRecord(statusCounts, 'statusCounts');
	const n: Record<ReferralStatus, number> = {} as Record<ReferralStatus, number>;
	for (const key of Object.keys(counts)) {
		if (!(REFERRAL_STATUSES as readonly string[]).includes(key)) {
			throw new EngineError('unknown_status', `statusCounts has an unknown status "${key}".`, {
				field: 'statusCounts',
			});
		}
	}
	for (const s of REFERRAL_STATUSES) n[s] = requireInteger(counts[s] ?? 0, `statusCounts.${s}`, 0);
	const recorded = REFERRAL_STATUSES.reduce((sum, s) => sum + n[s], 0);
	const everQualified = n.qualified + n.reversed;
	return {
		recorded,
		pending: n.recorded + n.pending + n.approved,
		flagged: n.flagged,
		rejected: n.rejected,
		qualified: everQualified,
		reversed: n.reversed,
		netQualified: everQualified - n.reversed,
	};
}

export function median(values: readonly number[]): number {
	if (values.length === 0) throw new EngineError('empty_input', 'median needs at least one value.');
	const sorted = [...values].sort((a, b) => a - b);
	const mid = Math.floor(sorted.length / 2);
	return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function groupStats(rows: CustomerRow[]): GroupStats {
	let revenue = 0;
	let known = 0;
	let retained = 0;
	for (const r of rows) {
		revenue += r.revenue ?? 0;
		if (r.retained !== undefined) {
			known++;
			if (r.retained) retained++;
		}
	}
	return {
		customers: rows.length,
		revenue,
		revenuePerCustomer: ratio(revenue, rows.length),
		retentionRate: ratio(retained, known),
	};
}

export function programStats(input: ProgramStatsInput): ProgramStats {
	const raw = requireRecord(input, 'stats');
	const customers = requireInteger(raw.customers, 'customers', 0);
	const referrers = requireInteger(raw.referrers, 'referrers', 0);
	if (referrers > customers) {
		throw new EngineError(
			'invalid_number',
			`referrers (${referrers}) cannot exceed customers (${customers}).`,
			{ field: 'referrers' },
		);
	}
	const funnel = funnelFrom(input.statusCounts);
	const valid = funnel.recorded - funnel.rejected;

	const invitesTracked = input.invitesSent !== undefined;
	const invites = invitesTracked
		? requireInteger(input.invitesSent, 'invitesSent', 0)
		: funnel.recorded;
	const kFactor =
		customers > 0
			? {
					value: funnel.netQualified / customers,
					invitesPerParticipant: invites / customers,
					inviteConversionRate: ratio(funnel.netQualified, invites),
					invitesFrom: invitesTracked
						? (input.invitesFrom ?? ('invites_sent' as const))
						: ('recorded_referrals' as const),
				}
			: null;

	const revenueMinor = new Map<string, number>();
	const durations: number[] = [];
	(input.conversions ?? []).forEach((row, i) => {
		const signedUp = requireTime(row.signedUpAt, `conversions[${i}].signedUpAt`);
		const qualified = requireTime(row.qualifiedAt, `conversions[${i}].qualifiedAt`);
		if (qualified < signedUp) {
			throw new EngineError('invalid_time', `conversions[${i}] qualified before it signed up.`, {
				field: 'qualifiedAt',
			});
		}
		durations.push(qualified - signedUp);
		if (row.amount !== undefined && row.reversed !== true) {
			const currency = parseCurrency(row.currency, `conversions[${i}].currency`);
			const amount = requireAmount(row.amount, `conversions[${i}].amount`, { allowZero: true });
			revenueMinor.set(
				currency,
				(revenueMinor.get(currency) ?? 0) +
					toMinorUnits(amount, currency, `conversions[${i}].amount`),
			);
		}
	});
	const referredRevenue: Record<string, number> = {};
	for (const [currency, minor] of [...revenueMinor].sort(([a], [b]) => (a < b ? -1 : 1))) {
		referredRevenue[currency] = fromMinorUnits(minor, currency);
	}

	let referralCac: ProgramStats['referralCac'] = null;
	if (input.rewardCost !== undefined) {
		const cost = requireRecord(input.rewardCost, 'rewardCost');
		const amount = requireAmount(cost.amount, 'rewardCost.amount', { allowZero: true });
		const currency = parseCurrency(cost.currency, 'rewardCost.currency');
		if (funnel.netQualified > 0) {
			referralCac = { amount, currency, perQualifiedReferral: amount / funnel.netQualified };
		}
	}

	let comparison: ProgramStats['referredVsNonReferred'] = null;
	if (input.customerRows?.length) {
		input.customerRows.forEach((r, i) => {
			if (typeof r.referred !== 'boolean') {
				throw new EngineError(
					'invalid_input',
					`customerRows[${i}].referred must be true or false.`,
					{ field: 'referred' },
				);
			}
			if (r.revenue !== undefined)
				requireAmount(r.revenue, `customerRows[${i}].revenue`, { allowZero: true });
		});
		const referred = groupStats(input.customerRows.filter((r) => r.referred));
		const nonReferred = groupStats(input.customerRows.filter((r) => !r.referred));
		comparison = {
			referred,
			nonReferred,
			revenuePerCustomerRatio:
				referred.revenuePerCustomer !== null && nonReferred.revenuePerCustomer
					? referred.revenuePerCustomer / nonReferred.revenuePerCustomer
					: null,
			retentionDifference:
				referred.retentionRate !== null && nonReferred.retentionRate !== null
					? referred.retentionRate - nonReferred.retentionRate
					: null,
		};
	}

	return {
		funnel,
		referralRate: ratio(referrers, customers),
		conversionRate: ratio(funnel.netQualified, valid),
		kFactor,
		referredRevenue,
		timeToConvert:
			durations.length > 0
				? {
						count: durations.length,
						meanMs: durations.reduce((a, b) => a + b, 0) / durations.length,
						medianMs: median(durations),
					}
				: null,
		referralCac,
		referredVsNonReferred: comparison,
	};
}

// ---------------------------------------------------------------------------------------------
// Leaderboard

export interface LeaderboardEntry {
	participantId: string;
	/** Qualified referrals or points in the period. */
	value: number;
}

export type Ranked<T> = T & { rank: number };

/**
 * Standard competition ranking ("1224"): equal values share a rank and the next rank skips.
 * Rows are ordered by value (highest first), then participant id for a stable display order.
 * With `limit`, everyone ranked within the top `limit` is kept, so a tie at the cut-off is
 * not broken arbitrarily (top 3 may list four participants).
 */
export function rankLeaderboard<T extends LeaderboardEntry>(
	rows: readonly T[],
	limit?: number,
): Array<Ranked<T>> {
	if (limit !== undefined) requireInteger(limit, 'limit', 1, 10_000);
	rows.forEach((r, i) => {
		requireText(r.participantId, `rows[${i}].participantId`);
		if (typeof r.value !== 'number' || !Number.isFinite(r.value)) {
			throw new EngineError('invalid_number', `rows[${i}].value must be a finite number.`, {
				field: 'value',
			});
		}
	});
	const sorted = [...rows].sort(
		(a, b) =>
			b.value - a.value ||
			(a.participantId < b.participantId ? -1 : a.participantId > b.participantId ? 1 : 0),
	);
	const ranked: Array<Ranked<T>> = [];
	sorted.forEach((row, i) => {
		const rank = i > 0 && row.value === sorted[i - 1].value ? ranked[i - 1].rank : i + 1;
		ranked.push({ ...row, rank });
	});
	return limit === undefined ? ranked : ranked.filter((r) => r.rank <= limit);
}

/** One participant's rank among all rows, or null when absent. */
export function rankOf(rows: readonly LeaderboardEntry[], participantId: string): number | null {
	return rankLeaderboard(rows).find((r) => r.participantId === participantId)?.rank ?? null;
}
