import type { ClickFunnelRow, LedgerStore } from '../ledger/store';

/**
 * Share-link performance (issue #17): the tracked referral link clicks of a period, and how they
 * turned into sign-ups and qualified referrals, in total, per referrer and per channel (utm_source,
 * else the referring site, else `direct`). The counts are the ledger's aggregate queries
 * (LedgerStore.clickStats); this file only adds the rates, so Get Stats and the leaderboard call
 * one function whatever else computes their other figures.
 */

export interface LinkFunnel extends ClickFunnelRow {
	/** signUps / clicks; null without clicks. */
	conversionRate: number | null;
	/** qualified / clicks; null without clicks. */
	qualifiedRate: number | null;
}

export interface ShareLinkStats extends LinkFunnel {
	/** Clicks of codes the program does not have, and of revoked (or expired, used up) codes. */
	unknownCodeClicks: number;
	revokedCodeClicks: number;
	/** Distinct visitors (cookies) among the clicks. */
	visitors: number;
	byReferrer: Array<LinkFunnel & { participantId: number }>;
	byChannel: Array<LinkFunnel & { channel: string }>;
}

const rate = (part: number, whole: number): number | null =>
	whole > 0 ? Math.round((part / whole) * 10_000) / 10_000 : null;

function withRates<T extends ClickFunnelRow>(row: T): T & LinkFunnel {
	return {
		...row,
		conversionRate: rate(row.signUps, row.clicks),
		qualifiedRate: rate(row.qualified, row.clicks),
	};
}

export async function shareLinkStats(
	ledger: LedgerStore,
	query: {
		programId: string;
		since?: number;
		until?: number;
		referrerIds?: number[];
		limit?: number;
		/** `rows`: over the period's clicks and referrals instead of the rollups (the baseline). */
		source?: 'rollups' | 'rows';
	},
): Promise<ShareLinkStats> {
	const totals = await ledger.clickStats(query);
	return {
		...withRates({
			clicks: totals.clicks,
			signUps: totals.signUps,
			qualified: totals.qualified,
		}),
		unknownCodeClicks: totals.byCodeStatus.unknown,
		revokedCodeClicks: totals.byCodeStatus.revoked,
		visitors: totals.visitors,
		byReferrer: totals.byReferrer.map(({ referrerId, ...row }) =>
			withRates({ participantId: referrerId, ...row }),
		),
		byChannel: totals.byChannel.map((row) => withRates(row)),
	};
}
