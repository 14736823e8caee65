import type { CapUsageRow, RewardRecord } from '../../engine/ledger';

/**
 * The reference for the ledger's cap usage counters (migration 13): what caps count of these
 * rewards earned in [start, end), recomputed from the rewards themselves, per (rule, unit), in the
 * ledger's order; amounts rounded to the micro-unit on both sides (sums of floats).
 */
export function capUsageFromRewards(
	rewards: RewardRecord[],
	start: number | null,
	end: number | null,
): CapUsageRow[] {
	const rows = new Map<string, CapUsageRow>();
	for (const r of rewards) {
		if (r.status === 'reversed' || r.side !== 'referrer' || r.kind === 'badge' || r.kind === 'tier')
			continue;
		const earned = r.metadata?.earnedAt;
		const at = typeof earned === 'number' ? Math.floor(earned) : r.createdAt;
		if ((start !== null && at < start) || (end !== null && at >= end)) continue;
		const money = r.kind !== 'points' && r.currency !== null && r.amount !== null;
		const unit = r.kind === 'points' ? 'points' : money ? (r.currency as string) : '';
		const value = r.kind === 'points' ? (r.amount ?? 0) : money ? (r.amount as number) : 0;
		const key = `${r.rule}\u0000${unit}`;
		const row = rows.get(key) ?? { rule: r.rule, unit, count: 0, amount: 0 };
		row.count += 1;
		row.amount += value;
		rows.set(key, row);
	}
	return rounded(
		[...rows.values()].sort((a, b) =>
			a.rule < b.rule ? -1 : a.rule > b.rule ? 1 : a.unit < b.unit ? -1 : a.unit > b.unit ? 1 : 0,
		),
	);
}

/** Amounts rounded to the micro-unit (the ledger's sums and the reference's add floats in other orders). */
export function rounded(rows: CapUsageRow[]): CapUsageRow[] {
	return rows.map((r) => ({ ...r, amount: Number(r.amount.toFixed(6)) }));
}
