import {
	allPages,
	type CapUsageRow,
	type LedgerStore,
	type PointsEntry,
	type ReferralRecord,
	type RewardRecord,
} from '../ledger';
import { PAGE, QUALIFIED } from './account';
import { meta } from './items';
import { type AwardIntent, capWindow, type PaidAward } from './plan';
import type { RewardCap, RewardEventType, RewardProgram, RuleType } from './program';
import type { TimeWindow } from '../shared/periods';
import { lostCounts } from './standing';

/**
 * What an evaluation loads about a referrer before `planAwards` decides: the referrer's qualified
 * referrals in rank order, the rewards already written, the qualifying orders, and from them the
 * state `planAwards` reads. Used by `RewardService` (evaluate.ts).
 */

export interface ReferrerSnapshot {
	/**
	 * The referrer's qualified referrals in rank order: all of them (from the history), or, read from
	 * the ledger's running counters (`counted`), only the evaluated referral and those ranked after it.
	 */
	qualified: ReferralRecord[];
	/** True when the snapshot comes from the ledger's running counters (`fromCounters`), not the history. */
	counted?: boolean;
	/** The referrer's rewards: all of them (history), or (counters) their badges and tiers and the rewards of the referrals in `qualified`. */
	rewards: RewardRecord[];
	/** The referral's own rewards (both sides), for reconciling per-referral rules after program edits. */
	ofReferral: RewardRecord[];
	/** The evaluated referral. */
	referralId: number;
}

/** The state a program reads: a program of per-referral points needs none of it. */
export interface ProgramNeeds {
	qualified: boolean;
	revenue: boolean;
	order: boolean;
	lifetimePoints: boolean;
	rewards: boolean;
}

/** The kind of rule that wrote a reward (rewards written before `ruleType` was stored: from what earned them). */
export function ruleTypeOf(record: RewardRecord): RuleType {
	const m = meta(record);
	const by = m.earnedBy as AwardIntent['earnedBy'] | undefined;
	return (
		(m.ruleType as RuleType | undefined) ??
		(by?.milestone !== undefined
			? 'milestone'
			: by?.level !== undefined
				? 'status'
				: 'per_referral')
	);
}

/**
 * What one reward adds to a cap's usage (`sign` -1 takes it out): a referrer-side reward other than
 * a badge or tier, not reversed, of a rule the cap names, earned in the cap's window; its points
 * (cap in points) or its money in the cap's currency. The ledger's cap usage counters
 * (ledger/tables/counters.ts, migration 13) count the same rewards by (rule, unit, time).
 */
function addCapUsage(
	usage: { count: number; value: number },
	cap: RewardCap,
	window: TimeWindow,
	r: RewardRecord,
	sign: 1 | -1,
): void {
	if (r.status === 'reversed' || r.side !== 'referrer' || r.kind === 'badge' || r.kind === 'tier')
		return;
	if (cap.ruleIds && !cap.ruleIds.includes(r.rule)) return;
	const m = meta(r);
	const earnedAt = typeof m.earnedAt === 'number' ? m.earnedAt : r.createdAt;
	if (
		(window.start !== null && earnedAt < window.start) ||
		(window.end !== null && earnedAt >= window.end)
	)
		return;
	usage.count += sign;
	if (cap.unit === 'points' && r.kind === 'points') usage.value += sign * (r.amount ?? 0);
	else if (cap.unit && r.kind !== 'points' && r.currency === cap.unit && r.amount !== null)
		usage.value += sign * r.amount;
}

/** Money usage rounded to the micro-unit (sums of floats); points are whole. */
function roundCapUsage(cap: RewardCap, usage: { count: number; value: number }) {
	if (cap.unit && cap.unit !== 'points') usage.value = Number(usage.value.toFixed(6));
	return usage;
}

function sortQualified(list: ReferralRecord[]): ReferralRecord[] {
	return list.sort(
		(a, b) => (a.qualifiedAt ?? a.updatedAt) - (b.qualifiedAt ?? b.updatedAt) || a.id - b.id,
	);
}

export class SnapshotLoader {
	constructor(
		private readonly ledger: LedgerStore,
		private readonly programId: string,
		private readonly program: RewardProgram,
		private readonly needs: ProgramNeeds,
	) {}

	async qualifiedOf(referrerId: number): Promise<ReferralRecord[]> {
		const all: ReferralRecord[] = [];
		for (const status of QUALIFIED) {
			all.push(
				...(await allPages(
					(afterId, limit) =>
						this.ledger.listReferrals({
							programId: this.programId,
							referrerId,
							status,
							afterId,
							limit,
						}),
					PAGE,
				)),
			);
		}
		return sortQualified(all);
	}

	/**
	 * The snapshot from the ledger's running counters (migration 10): O(1) counter rows plus the
	 * referrals ranked after this one (none when it is evaluated as it qualifies) and their rewards,
	 * instead of the referrer's whole history; caps read their usage from the ledger's cap usage
	 * counters (migration 13). Undefined when the history is needed: the referral is not (any more)
	 * qualified.
	 */
	async fromCounters(
		referral: ReferralRecord,
		qualifiedNow: boolean,
		ofReferral: RewardRecord[],
	): Promise<ReferrerSnapshot | undefined> {
		const referrerId = referral.referrerId;
		// A program of per-referral rules alone reads nothing about the referrer.
		if (!this.readsCounters)
			return {
				qualified: qualifiedNow ? [referral] : [],
				counted: true,
				rewards: [],
				ofReferral,
				referralId: referral.id,
			};
		let qualified: ReferralRecord[] = [];
		if (qualifiedNow) {
			const after = await this.ledger.qualifiedReferralsAfter({
				programId: this.programId,
				referrerId,
				referralId: referral.id,
			});
			if (after === null) return undefined;
			qualified = [referral, ...after];
		}
		const rewards = new Map<number, RewardRecord>();
		if (this.needs.rewards) {
			for (const kind of ['badge', 'tier'] as const)
				for (const r of await allPages(
					(afterId, limit) =>
						this.ledger.listRewards({
							programId: this.programId,
							recipientId: referrerId,
							kind,
							afterId,
							limit,
						}),
					PAGE,
				))
					rewards.set(r.id, r);
			for (const r of ofReferral) if (r.recipientId === referrerId) rewards.set(r.id, r);
			for (const later of qualified.slice(1))
				for (const r of await this.rewardsOfReferral(later.id))
					if (r.recipientId === referrerId) rewards.set(r.id, r);
		}
		return {
			qualified,
			counted: true,
			rewards: [...rewards.values()].sort((a, b) => a.id - b.id),
			ofReferral,
			referralId: referral.id,
		};
	}

	/** Whether some rule reads the referrer's counts, revenue or points (else the counters are not read). */
	private get readsCounters(): boolean {
		return this.needs.qualified || this.needs.revenue || this.needs.lifetimePoints;
	}

	/** Counters path: the reward a milestone or level key names, when the snapshot does not hold it. */
	async heldByKey(snapshot: ReferrerSnapshot, key: string): Promise<RewardRecord | undefined> {
		const found = snapshot.rewards.find((r) => r.idempotencyKey === key);
		if (found || !snapshot.counted) return found;
		const [stored] = await this.ledger.rewardsByKeys({ programId: this.programId, keys: [key] });
		if (stored) snapshot.rewards.push(stored);
		return stored;
	}

	async rewardsOfReferral(referralId: number): Promise<RewardRecord[]> {
		return await allPages(
			(afterId, limit) =>
				this.ledger.listRewards({ programId: this.programId, referralId, afterId, limit }),
			PAGE,
		);
	}

	/** The referral's per-referral awards (every status) as `planAwards` reconciles them. */
	private paidOf(records: RewardRecord[]): PaidAward[] {
		const paid: PaidAward[] = [];
		for (const r of records) {
			const m = meta(r);
			if (
				ruleTypeOf(r) !== 'per_referral' ||
				r.side === 'participant' ||
				typeof m.evaluation !== 'string'
			)
				continue;
			const award: PaidAward = {
				rewardId: String(r.id),
				idempotencyKey: r.idempotencyKey,
				recipientId: String(r.recipientId),
				side: r.side,
				evaluation: m.evaluation,
				kind: r.kind,
				rule: r.rule,
			};
			if (typeof m.ruleKey === 'string') award.ruleKey = m.ruleKey;
			if (typeof m.slot === 'number') award.slot = m.slot;
			if (r.kind === 'points' && r.amount !== null) award.points = r.amount;
			else if (r.amount !== null) award.amount = r.amount;
			if (r.currency) award.currency = r.currency;
			if (typeof m.percentOff === 'number') award.percentOff = m.percentOff;
			if (typeof m.customType === 'string') award.customType = m.customType;
			paid.push(award);
		}
		return paid;
	}

	/** The qualifying order, less what a partial refund that left the referral standing took back. */
	async orderOf(
		referral: ReferralRecord,
	): Promise<{ id?: string; amount: number; currency: string } | undefined> {
		const order = await this.qualifyingOrderOf(referral);
		const refunded = (referral.metadata?.refund as { refundedAmount?: unknown } | undefined)
			?.refundedAmount;
		if (!order || typeof refunded !== 'number' || refunded <= 0) return order;
		return { ...order, amount: Math.max(0, Number((order.amount - refunded).toFixed(6))) };
	}

	/** The qualifying order: from the referral's metadata, else the ledger's conversions. */
	private async qualifyingOrderOf(
		referral: ReferralRecord,
	): Promise<{ id?: string; amount: number; currency: string } | undefined> {
		const fromMeta = referral.metadata?.order as
			{ id?: string; amount?: number; currency?: string } | undefined;
		if (fromMeta && typeof fromMeta.amount === 'number' && typeof fromMeta.currency === 'string') {
			return {
				amount: fromMeta.amount,
				currency: fromMeta.currency,
				...(fromMeta.id ? { id: String(fromMeta.id) } : {}),
			};
		}
		return (await this.ordersOf([referral.id])).get(referral.id);
	}

	/** When each referral's qualifying conversion arrived, as the ledger's conversion id (ids only grow). */
	async arrivalsOf(referralIds: number[]): Promise<Map<number, number>> {
		const arrivals = new Map<number, number>();
		for (let i = 0; i < referralIds.length; i += PAGE) {
			for (const c of await this.ledger.listConversions({
				programId: this.programId,
				referralIds: referralIds.slice(i, i + PAGE),
				qualifiedOnly: true,
			})) {
				arrivals.set(c.referralId, Math.min(arrivals.get(c.referralId) ?? Infinity, c.id));
			}
		}
		return arrivals;
	}

	/** Qualifying orders already found, by referral: a referral's qualifying order never changes. */
	private readonly orders = new Map<number, { id?: string; amount: number; currency: string }>();

	/** The order that qualified each of these referrals (with amount and currency), from the ledger's conversions. */
	private async ordersOf(
		referralIds: number[],
	): Promise<Map<number, { id?: string; amount: number; currency: string }>> {
		const missing = referralIds.filter((id) => !this.orders.has(id));
		for (let i = 0; i < missing.length; i += PAGE) {
			const chunk = missing.slice(i, i + PAGE);
			for (const c of await this.ledger.listConversions({
				programId: this.programId,
				referralIds: chunk,
				qualifiedOnly: true,
			})) {
				if (c.amount !== null && c.currency)
					this.orders.set(c.referralId, { id: c.orderId, amount: c.amount, currency: c.currency });
			}
		}
		return this.orders;
	}

	async stateFor(
		referral: ReferralRecord,
		type: RewardEventType,
		occurredAt: number,
		snapshot: ReferrerSnapshot,
	) {
		if (snapshot.counted) return await this.stateFromCounters(referral, type, occurredAt, snapshot);
		const ownEvaluation = `${type}:${referral.id}`;
		// Rank, not today's total: the Nth referral to qualify is the one that reaches milestone N, whenever it is evaluated.
		const rank = snapshot.qualified.findIndex((r) => r.id === referral.id);
		const upTo =
			type === 'referral_qualified'
				? rank === -1
					? [...snapshot.qualified, referral]
					: snapshot.qualified.slice(0, rank + 1)
				: snapshot.qualified;
		const referredRevenue: Record<string, number> = {};
		if (this.needs.revenue) {
			const orders = await this.ordersOf(upTo.map((r) => r.id));
			for (const r of upTo) {
				const order = orders.get(r.id);
				if (order)
					referredRevenue[order.currency] = (referredRevenue[order.currency] ?? 0) + order.amount;
			}
		}
		const { badges, tier } = this.standingOf(snapshot, ownEvaluation);
		const capUsage: Record<string, { count: number; value: number }> = {};
		for (const cap of this.program.caps) {
			const window = capWindow(this.program, cap, occurredAt);
			const usage = { count: 0, value: 0 };
			// This evaluation's own earlier awards are replays, not usage, or a retry would cap itself.
			for (const r of snapshot.rewards)
				if (meta(r).evaluation !== ownEvaluation) addCapUsage(usage, cap, window, r, 1);
			capUsage[cap.id] = roundCapUsage(cap, usage);
		}
		let lifetimePoints = 0;
		if (this.needs.lifetimePoints && type === 'referral_qualified') {
			for (const entry of await this.journalOf(referral.referrerId)) {
				// Credits, less what claw-backs took back (a refunded referral's points no longer count toward a level).
				if (
					(entry.delta > 0 || entry.reason === 'clawback') &&
					!(
						entry.rewardId !== null &&
						snapshot.rewards.some(
							(r) => r.id === entry.rewardId && meta(r).evaluation === ownEvaluation,
						)
					)
				) {
					lifetimePoints += entry.delta;
				}
			}
		}
		return {
			qualifiedCount: type === 'referral_qualified' ? upTo.length : snapshot.qualified.length,
			referredRevenue,
			lifetimePoints: Math.max(0, lifetimePoints),
			badges,
			tier,
			lost: lostCounts(snapshot.rewards),
			capUsage,
			qualifiedReferralIds: upTo.map((r) => String(r.id)),
			paid: this.paidOf(snapshot.ofReferral),
		};
	}

	/** The badges and tier held before this evaluation: its own are not "already held", or its replay would not list them. */
	private standingOf(snapshot: ReferrerSnapshot, ownEvaluation: string) {
		const before = snapshot.rewards.filter(
			(r) => r.status !== 'reversed' && meta(r).evaluation !== ownEvaluation,
		);
		const tierReward = before.filter((r) => r.kind === 'tier').at(-1);
		return {
			badges: before.filter((r) => r.kind === 'badge').map((r) => String(meta(r).badge)),
			tier: tierReward ? String(meta(tierReward).tier) : null,
		};
	}

	/**
	 * `stateFor` from the running counters: the count and revenue of the referrals ranked up to this
	 * one are the counters less the referrals ranked after it; lifetime points are the counter less
	 * what this evaluation's own rewards credited (read again, as the evaluation may have written
	 * points since). The ids of the referrals up to this one are left out: a milestone by count that
	 * fires asks for them (`qualifiedIdsUpTo`).
	 */
	private async stateFromCounters(
		referral: ReferralRecord,
		type: RewardEventType,
		occurredAt: number,
		snapshot: ReferrerSnapshot,
	) {
		const ownEvaluation = `${type}:${referral.id}`;
		// Ranked up to this referral on referral_qualified (a later one qualifying meanwhile does not
		// move its rank); all of the referrer's on a sign-up.
		const counters = this.readsCounters
			? await this.ledger.rewardCounters({
					programId: this.programId,
					participantId: referral.referrerId,
					...(type === 'referral_qualified' ? { upToReferralId: referral.id } : {}),
				})
			: { qualified: 0, revenue: {}, lifetimePoints: 0 };
		const referredRevenue: Record<string, number> = this.needs.revenue ? counters.revenue : {};
		let lifetimePoints = 0;
		if (this.needs.lifetimePoints && type === 'referral_qualified') {
			lifetimePoints = counters.lifetimePoints;
			const own = snapshot.rewards.filter(
				(r) => r.recipientId === referral.referrerId && meta(r).evaluation === ownEvaluation,
			);
			for (const entry of await this.ledger.pointsOfRewards({
				programId: this.programId,
				rewardIds: own.map((r) => r.id),
			}))
				if (
					entry.participantId === referral.referrerId &&
					(entry.delta > 0 || entry.reason === 'clawback')
				)
					lifetimePoints -= entry.delta;
		}
		const { badges, tier } = this.standingOf(snapshot, ownEvaluation);
		return {
			qualifiedCount: Math.max(type === 'referral_qualified' ? 1 : 0, counters.qualified),
			referredRevenue,
			lifetimePoints: Math.max(0, lifetimePoints),
			badges,
			tier,
			lost: lostCounts(snapshot.rewards),
			capUsage: await this.capUsageFromCounters(referral, ownEvaluation, occurredAt, snapshot),
			paid: this.paidOf(snapshot.ofReferral),
		};
	}

	/**
	 * Each cap's usage in its window from the ledger's cap usage counters (one read per distinct
	 * window), less this evaluation's own awards (replays, not usage: the snapshot holds them, as
	 * the referral's rewards or those of the referrals ranked after it).
	 */
	private async capUsageFromCounters(
		referral: ReferralRecord,
		ownEvaluation: string,
		occurredAt: number,
		snapshot: ReferrerSnapshot,
	): Promise<Record<string, { count: number; value: number }>> {
		const capUsage: Record<string, { count: number; value: number }> = {};
		if (this.program.caps.length === 0) return capUsage;
		const own = new Map<number, RewardRecord>();
		for (const r of [...snapshot.rewards, ...snapshot.ofReferral])
			if (r.recipientId === referral.referrerId && meta(r).evaluation === ownEvaluation)
				own.set(r.id, r);
		const read = new Map<string, Promise<CapUsageRow[]>>();
		for (const cap of this.program.caps) {
			const window = capWindow(this.program, cap, occurredAt);
			const key = `${window.start}:${window.end}`;
			if (!read.has(key))
				read.set(
					key,
					this.ledger.capUsage({
						programId: this.programId,
						participantId: referral.referrerId,
						start: window.start,
						end: window.end,
					}),
				);
			const usage = { count: 0, value: 0 };
			for (const row of await read.get(key)!) {
				if (cap.ruleIds && !cap.ruleIds.includes(row.rule)) continue;
				usage.count += row.count;
				if (cap.unit !== undefined && row.unit === cap.unit) usage.value += row.amount;
			}
			for (const r of own.values()) addCapUsage(usage, cap, window, r, -1);
			capUsage[cap.id] = roundCapUsage(cap, usage);
		}
		return capUsage;
	}

	/** The ids of the referrer's qualified referrals up to this one, in rank order (from the history). */
	async qualifiedIdsUpTo(referral: ReferralRecord): Promise<string[]> {
		const all = await this.qualifiedOf(referral.referrerId);
		const rank = all.findIndex((r) => r.id === referral.id);
		return (rank === -1 ? [...all, referral] : all.slice(0, rank + 1)).map((r) => String(r.id));
	}

	private async journalOf(participantId: number): Promise<PointsEntry[]> {
		return await allPages(
			(afterId, limit) =>
				this.ledger.pointsJournal({ programId: this.programId, participantId, afterId, limit }),
			PAGE,
		);
	}
}
