import { EngineError } from '../shared/errors';
import type { LedgerStore } from '../ledger/store';
import { fromMinorUnits, isCurrency } from '../shared/money';
import { isReferralStatus } from './lifecycle';
import { programStats, type CustomerRow, type ProgramStats, type StatusCounts } from './metrics';
import { periodWindow, type Period, type WindowOptions } from '../shared/periods';
import { requireInteger } from '../shared/guards';
import { shareLinkStats, type LinkFunnel, type ShareLinkStats } from './linkStats';

/**
 * Program statistics and the leaderboard for one period: the ledger computes the counts and sums
 * by aggregate queries (LedgerStore.referralStatsTotals, leaderboard), metrics.ts the rates.
 * Nothing per referral is read into memory, so a program of any size costs the same memory; since
 * schema version 11 the counts come from rollups kept per UTC day (and per participant and UTC
 * month / year), so the time no longer grows with the program either (see docs/ledger.md).
 * (statsReference.ts keeps the former row-by-row version for the tests and the benchmark.)
 */

export interface StatsInput {
	programId: string;
	period: Period;
	/** Any instant inside the wanted period; default now. */
	at: number;
	window?: WindowOptions;
	/** Customers with revenue and retention, when the caller has them (e.g. from the shop). */
	customerRows?: CustomerRow[];
	invitesSent?: number;
	/** `rows`: count over the period's rows instead of the rollups (the baseline for tests and benchmarks). */
	source?: 'rollups' | 'rows';
}

export interface StatsOutcome extends ProgramStats {
	program: string;
	period: Period;
	from: string | null;
	until: string | null;
	customers: number;
	referrers: number;
	/** Tracked referral link performance of the period (clicks → sign-ups → qualified), see linkStats.ts. */
	shareLinks: ShareLinkStats;
	warnings: string[];
}

export async function referralStats(ledger: LedgerStore, input: StatsInput): Promise<StatsOutcome> {
	const { programId } = input;
	const window = periodWindow(input.period, input.at, input.window);
	const totals = await ledger.referralStatsTotals({
		programId,
		since: window.start ?? undefined,
		until: window.end ?? undefined,
		source: input.source,
	});
	const statusCounts: StatusCounts = {};
	for (const [status, count] of Object.entries(totals.byStatus))
		if (isReferralStatus(status)) statusCounts[status] = count;
	const warnings: string[] = [];

	// Orders qualified before amounts and currencies were checked (e.g. 1e308 or "XYZ") stay out of the revenue sum.
	let invalidOrders = 0;
	const referredRevenue: Record<string, number> = {};
	for (const o of totals.orders) {
		if (!isCurrency(o.currency)) invalidOrders += o.orders;
		else {
			invalidOrders += o.invalid;
			if (o.netOrders > 0) referredRevenue[o.currency] = fromMinorUnits(o.netMinor, o.currency);
		}
	}
	if (invalidOrders > 0) {
		warnings.push(
			`${invalidOrders} qualifying order(s) have an amount or currency that is not valid (recorded before amounts and currencies were checked); they are left out of referredRevenue.`,
		);
	}

	// Reward cost from the rewards ledger: cash and other priced rewards created in the period, not reversed.
	let rewardCost: { amount: number; currency: string } | undefined;
	if (totals.rewards.length === 1) {
		const [{ currency, hundredths, amount }] = totals.rewards;
		const sum = hundredths === null ? amount : hundredths / 100;
		rewardCost = { amount: Math.round(sum * 100) / 100, currency };
	} else if (totals.rewards.length > 1) {
		warnings.push(
			`Rewards were paid in ${totals.rewards.map((r) => r.currency).join(', ')}; referral CAC needs one currency, so it is left out.`,
		);
	}

	const shareLinks = await shareLinkStats(ledger, {
		programId,
		since: window.start ?? undefined,
		until: window.end ?? undefined,
		source: input.source,
	});
	const customers = Math.max(totals.participants, totals.referrers);
	// Invites: the caller's count, else the period's tracked link clicks when the ledger has any.
	const clicksAsInvites = input.invitesSent === undefined && shareLinks.clicks > 0;
	const stats = programStats({
		customers,
		referrers: totals.referrers,
		statusCounts,
		rewardCost,
		customerRows: input.customerRows,
		invitesSent: clicksAsInvites ? shareLinks.clicks : input.invitesSent,
		invitesFrom: clicksAsInvites ? 'link_clicks' : undefined,
	});
	return {
		program: programId,
		period: input.period,
		from: window.start === null ? null : new Date(window.start).toISOString(),
		until: window.end === null ? null : new Date(window.end).toISOString(),
		customers,
		referrers: totals.referrers,
		...stats,
		referredRevenue,
		timeToConvert:
			totals.converted > 0
				? {
						count: totals.converted,
						meanMs: totals.convertMsTotal / totals.converted,
						medianMs: totals.convertMsMedian!,
					}
				: null,
		shareLinks,
		warnings,
	};
}

export interface LeaderboardInput {
	programId: string;
	by: 'qualifiedReferrals' | 'points';
	period: Period;
	at: number;
	window?: WindowOptions;
	limit: number;
	/** `rows`: rank over the period's rows instead of the rollups (the baseline). */
	source?: 'rollups' | 'rows';
}

export interface LeaderboardLine {
	rank: number;
	participantId: number;
	externalId: string | null;
	name: string | null;
	score: number;
	by: 'qualifiedReferrals' | 'points';
	period: Period;
	/** The participant's share-link performance in the period (clicks, sign-ups, qualified, rates). */
	shareLinks: LinkFunnel;
}

/** Top N by qualified referrals (reversed ones left out) or points in the period; ties share a rank. */
export async function referralLeaderboard(
	ledger: LedgerStore,
	input: LeaderboardInput,
): Promise<LeaderboardLine[]> {
	if (input.by !== 'qualifiedReferrals' && input.by !== 'points') {
		throw new EngineError(
			'invalid_option',
			`by must be "qualifiedReferrals" or "points" (got "${String(input.by)}").`,
			{ field: 'by' },
		);
	}
	const limit = requireInteger(input.limit, 'limit', 1, 10_000);
	const window = periodWindow(input.period, input.at, input.window);
	const rows = await ledger.leaderboard({
		programId: input.programId,
		by: input.by,
		since: window.start ?? undefined,
		until: window.end ?? undefined,
		limit,
		excludeStatuses: input.by === 'qualifiedReferrals' ? ['reversed'] : undefined,
		source: input.source,
	});
	const links =
		rows.length === 0
			? undefined
			: await shareLinkStats(ledger, {
					programId: input.programId,
					since: window.start ?? undefined,
					until: window.end ?? undefined,
					referrerIds: rows.map((r) => r.participantId),
					limit: rows.length,
					source: input.source,
				});
	const none: LinkFunnel = {
		clicks: 0,
		signUps: 0,
		qualified: 0,
		conversionRate: null,
		qualifiedRate: null,
	};
	return rows.map((r) => {
		const found = links?.byReferrer.find((l) => l.participantId === r.participantId);
		const shareLinks: LinkFunnel = found
			? {
					clicks: found.clicks,
					signUps: found.signUps,
					qualified: found.qualified,
					conversionRate: found.conversionRate,
					qualifiedRate: found.qualifiedRate,
				}
			: none;
		return { ...r, by: input.by, period: input.period, shareLinks };
	});
}
