/* Today's (until schema version 8) Get Stats, kept only as the reference for the property test
 * (test/unit/referrals/statsSql.test.ts) and the benchmark (bench/stats.bench.ts): it pages every
 * referral of the period, every qualified event and every reward of all time into JavaScript.
 * The product uses stats.ts, which asks the ledger for the same figures as aggregate queries. */
import { pages } from '../ledger/pages';
import type { LedgerStore, ReferralRecord } from '../ledger/store';
import { isValidOrderAmount } from '../shared/money';
import { isReferralStatus } from './lifecycle';
import { programStats, type ConversionRow, type StatusCounts } from './metrics';
import { periodWindow, type TimeWindow } from '../shared/periods';
import type { StatsInput, StatsOutcome } from './stats';
import { shareLinkStats } from './linkStats';

const PAGE = 5000;

async function eachReferral(
	ledger: LedgerStore,
	programId: string,
	window: TimeWindow,
	visit: (r: ReferralRecord) => void,
): Promise<void> {
	for await (const rows of pages(
		(afterId, limit) =>
			ledger.listReferrals({
				programId,
				since: window.start ?? undefined,
				until: window.end ?? undefined,
				afterId,
				limit,
			}),
		PAGE,
	)) {
		rows.forEach(visit);
	}
}

async function countCustomers(
	ledger: LedgerStore,
	programId: string,
	until: number | null,
): Promise<number> {
	let count = 0;
	for await (const rows of pages(
		(afterId, limit) =>
			ledger.listParticipants({ programId, createdUntil: until ?? undefined, afterId, limit }),
		PAGE,
	))
		count += rows.length;
	return count;
}

/** Qualifying orders by referral id, from the outbox's `referral.qualified` events (amount and currency). */
async function qualifyingOrders(
	ledger: LedgerStore,
	programId: string,
	wanted: Set<number>,
): Promise<Map<number, { amount?: number; currency?: string }>> {
	const orders = new Map<number, { amount?: number; currency?: string }>();
	if (wanted.size === 0) return orders;
	let afterId = 0;
	for (;;) {
		const page = await ledger.readEvents({
			afterId,
			types: ['referral.qualified'],
			programId,
			limit: PAGE,
		});
		for (const e of page.events) {
			const conversion = e.payload.conversion as
				{ referralId?: number; amount?: number | null; currency?: string | null } | undefined;
			if (
				!conversion ||
				typeof conversion.referralId !== 'number' ||
				!wanted.has(conversion.referralId)
			)
				continue;
			orders.set(conversion.referralId, {
				amount: conversion.amount ?? undefined,
				currency: conversion.currency ?? undefined,
			});
		}
		if (page.events.length < PAGE) return orders;
		afterId = page.cursor;
	}
}

export async function referralStatsReference(
	ledger: LedgerStore,
	input: StatsInput,
): Promise<StatsOutcome> {
	const { programId } = input;
	const window = periodWindow(input.period, input.at, input.window);
	const statusCounts: StatusCounts = {};
	const referrers = new Set<number>();
	const converted: ReferralRecord[] = [];
	const warnings: string[] = [];
	await eachReferral(ledger, programId, window, (r) => {
		if (isReferralStatus(r.status)) statusCounts[r.status] = (statusCounts[r.status] ?? 0) + 1;
		referrers.add(r.referrerId);
		if (r.qualifiedAt !== null && ['qualified', 'reversed'].includes(r.status)) converted.push(r);
	});
	const customers = await countCustomers(ledger, programId, window.end);
	const orders = await qualifyingOrders(ledger, programId, new Set(converted.map((r) => r.id)));
	let invalidOrders = 0;
	const conversions: ConversionRow[] = converted.map((r) => {
		const order = orders.get(r.id);
		const row: ConversionRow = {
			referralId: String(r.id),
			signedUpAt: r.touchedAt,
			qualifiedAt: Math.max(r.qualifiedAt!, r.touchedAt),
			reversed: r.status === 'reversed',
		};
		if (order?.amount !== undefined && order.currency) {
			// Orders qualified before amounts and currencies were checked (e.g. 1e308 or "XYZ") stay out of the revenue sum.
			if (isValidOrderAmount(order.amount, order.currency, Number.MAX_SAFE_INTEGER)) {
				row.amount = order.amount;
				row.currency = order.currency;
			} else invalidOrders++;
		}
		return row;
	});
	if (invalidOrders > 0) {
		warnings.push(
			`${invalidOrders} qualifying order(s) have an amount or currency that is not valid (recorded before amounts and currencies were checked); they are left out of referredRevenue.`,
		);
	}

	// Reward cost from the rewards ledger: cash and other priced rewards created in the period, not reversed.
	const costByCurrency = new Map<string, number>();
	for await (const rows of pages(
		(afterId, limit) => ledger.listRewards({ programId, afterId, limit }),
		PAGE,
	)) {
		for (const r of rows) {
			if (r.status === 'reversed' || r.amount === null || r.currency === null) continue;
			if (
				(window.start !== null && r.createdAt < window.start) ||
				(window.end !== null && r.createdAt >= window.end)
			)
				continue;
			costByCurrency.set(r.currency, (costByCurrency.get(r.currency) ?? 0) + r.amount);
		}
	}
	let rewardCost: { amount: number; currency: string } | undefined;
	if (costByCurrency.size === 1) {
		const [[currency, amount]] = [...costByCurrency];
		rewardCost = { amount: Math.round(amount * 100) / 100, currency };
	} else if (costByCurrency.size > 1) {
		warnings.push(
			`Rewards were paid in ${[...costByCurrency.keys()].join(', ')}; referral CAC needs one currency, so it is left out.`,
		);
	}

	// Share-link figures: the ledger's clickStats over the period's clicks and referrals (its baseline).
	const shareLinks = await shareLinkStats(ledger, {
		programId,
		since: window.start ?? undefined,
		until: window.end ?? undefined,
		source: 'rows',
	});
	const clicksAsInvites = input.invitesSent === undefined && shareLinks.clicks > 0;
	const stats = programStats({
		customers: Math.max(customers, referrers.size),
		referrers: referrers.size,
		statusCounts,
		conversions,
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
		customers: Math.max(customers, referrers.size),
		referrers: referrers.size,
		...stats,
		shareLinks,
		warnings,
	};
}
