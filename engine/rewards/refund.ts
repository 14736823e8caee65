import { allPages } from '../ledger/pages';
import type {
	EventInput,
	LedgerStore,
	PointsEntry,
	ReferralRecord,
	RefundRewardStep,
	RefundStanding,
	RewardRecord,
} from '../ledger/store';
import { roundToCurrency } from '../shared/money';
import {
	type EarnedReward,
	type NegativeBalancePolicy,
	planReversal,
	type ReversalPlan,
} from './reversal';
import { type AwardIntent, rewardIdempotencyKey } from './plan';
import type { RuleType } from './program';
import {
	heldRecognitions,
	lifetimePointsOf,
	lostCounts,
	planStanding,
	recognitionKey,
} from './standing';

/**
 * What a refund does to the rewards of one referral, decided together with the referral
 * (engine/refunds/refund.ts) and written in one ledger transaction:
 * - the referral is reversed → every per-referral reward is reversed as planReversal says
 *   (pending cancelled, approved points clawed back, paid coupons and cash listed for manual action);
 * - the referral stays qualified → only percent-of-order cash rewards change: they shrink to their
 *   percentage of what is left of the order (never grow back: an earlier, larger refund stands);
 *   a reward already paid out keeps its new amount and the difference is listed for manual recovery;
 * - nothing else: a reward is never reversed while its referral stands.
 */

export interface RefundRewardsInput {
	programId: string;
	referralId: number;
	/** True when the referral is (or is being) reversed. */
	reverse: boolean;
	/** Every reward linked to the referral. */
	rewards: RewardRecord[];
	/** The qualifying order: its amount and currency, and the total refunded so far. */
	order?: { amount: number; currency: string | null; refunded: number };
	balances: Record<string, number>;
	policy: NegativeBalancePolicy;
}

export interface AdjustedReward {
	rewardId: number;
	recipientId: number;
	kind: string;
	from: number;
	to: number;
	currency?: string;
}

export interface RefundRewardsPlan {
	steps: RefundRewardStep[];
	/** Ids of the rewards the refund reverses, or an earlier run reversed. */
	reversed: number[];
	adjusted: AdjustedReward[];
	clawedBack: Array<{ rewardId: number; recipientId: number; points: number }>;
	manual: ReversalPlan['manual'];
	kept: ReversalPlan['kept'];
	shortfall: Record<string, number>;
}

function meta(record: RewardRecord): Record<string, unknown> {
	return record.metadata ?? {};
}

export function earnedReward(r: RewardRecord, referralId: number): EarnedReward {
	const m = meta(r);
	const by = m.earnedBy as AwardIntent['earnedBy'] | undefined;
	return {
		id: String(r.id),
		recipientId: String(r.recipientId),
		ruleId: r.rule,
		ruleType: (m.ruleType as RuleType) ?? 'per_referral',
		kind: r.kind,
		status: r.status,
		...(r.kind === 'points' && r.amount !== null
			? { points: r.amount }
			: r.amount !== null
				? { amount: r.amount }
				: {}),
		...(r.currency ? { currency: r.currency } : {}),
		referralIds: by?.referralIds ?? [String(referralId)],
	};
}

/** The refund's steps for the rewards: reversals with claw-backs, or pro-rata amounts. */
export function planRefundRewards(input: RefundRewardsInput): RefundRewardsPlan {
	const byId = new Map(input.rewards.map((r) => [r.id, r]));
	const out: RefundRewardsPlan = {
		steps: [],
		reversed: [],
		adjusted: [],
		clawedBack: [],
		manual: [],
		kept: [],
		shortfall: {},
	};
	if (input.reverse) {
		const plan = planReversal({
			programId: input.programId,
			referralId: String(input.referralId),
			rewards: input.rewards.map((r) => earnedReward(r, input.referralId)),
			balances: input.balances,
			policy: input.policy,
		});
		const clawFor = new Map(plan.clawbacks.map((c) => [c.rewardId, c]));
		for (const step of plan.reverse) {
			const record = byId.get(Number(step.rewardId))!;
			const claw = clawFor.get(step.rewardId);
			const coupon = meta(record).coupon as { code?: string; source?: string } | undefined;
			out.steps.push({
				rewardId: record.id,
				from: record.status,
				fromAmount: record.amount,
				to: 'reversed',
				...(claw
					? {
							points: {
								delta: claw.points,
								reason: 'clawback',
								allowNegative: input.policy === 'allow_negative',
							},
						}
					: {}),
				// An unsent generated coupon is revoked so it cannot be used after the refund.
				...(coupon?.code && coupon.source === 'generate' && record.status !== 'fulfilled'
					? { revokeCode: coupon.code }
					: {}),
			});
			out.reversed.push(record.id);
			if (claw)
				out.clawedBack.push({
					rewardId: record.id,
					recipientId: record.recipientId,
					points: claw.points,
				});
		}
		for (const kept of plan.kept) {
			if (kept.reason === 'Already reversed.') out.reversed.push(Number(kept.rewardId));
			else out.kept.push(kept);
		}
		out.manual = plan.manual;
		out.shortfall = plan.shortfall;
		out.reversed.sort((a, b) => a - b);
		return out;
	}
	const order = input.order;
	for (const record of [...input.rewards].sort((a, b) => a.id - b.id)) {
		const m = meta(record);
		if (record.status === 'reversed') {
			out.reversed.push(record.id);
			continue;
		}
		const percent = typeof m.percentOfOrder === 'number' ? m.percentOfOrder : undefined;
		if (percent === undefined || !order || record.amount === null || record.kind !== 'cash')
			continue;
		const currency = record.currency ?? order.currency ?? 'EUR';
		const left = Math.max(0, order.amount - order.refunded);
		const to = roundToCurrency((left * percent) / 100, currency);
		// Only down: a refund that arrives after a larger one changes nothing.
		if (to >= record.amount) continue;
		out.steps.push({
			rewardId: record.id,
			from: record.status,
			fromAmount: record.amount,
			amount: to,
			metadata: { refundedAmount: order.refunded },
		});
		out.adjusted.push({
			rewardId: record.id,
			recipientId: record.recipientId,
			kind: record.kind,
			from: record.amount,
			to,
			currency,
		});
		if (record.status === 'fulfilled') {
			out.manual.push({
				rewardId: String(record.id),
				kind: record.kind,
				recipientId: String(record.recipientId),
				amount: roundToCurrency(record.amount - to, currency),
				currency,
				reason: `The cash was already paid out; ${roundToCurrency(record.amount - to, currency)} ${currency} of it is owed back after the partial refund.`,
			});
		}
	}
	return out;
}

/** A badge or tier a reversal took away (the refund's and the Referral Reward node's `demoted`). */
export interface Demotion {
	participantId: number;
	kind: 'badge' | 'tier';
	name: string;
	rule: string;
	rewardId: number;
	metric: 'qualified_referrals' | 'points';
	/** The value after the refund, and the minimum it fell below. */
	value: number;
	min: number;
	heldInstead?: string;
}

const PAGE = 10_000;

async function paged<T extends { id: number }>(
	read: (afterId: number | undefined) => Promise<T[]>,
): Promise<T[]> {
	return await allPages((afterId) => read(afterId), PAGE);
}

/**
 * The referrer's badges and tiers after a reversal (the Referral node's Reverse (Refund), or the
 * Referral Reward node's Reverse finishing one): the value that earned each (lifetime points less
 * claw-backs, this reversal's included; qualified referrals, without the referral when it `leaving`s
 * the count now) against the minimum stored with it (planStanding). What is lost, and the lower tier
 * held instead, goes to the ledger as the refund transaction's `standing`, written with the reversal.
 */
export async function standingAfterReversal(
	ledger: LedgerStore,
	programId: string,
	input: { referral: ReferralRecord; leaving: boolean; plan: RefundRewardsPlan },
): Promise<{ demoted: Demotion[]; input?: RefundStanding }> {
	const { referral, plan } = input;
	const referrerId = referral.referrerId;
	const rewards = await paged<RewardRecord>((afterId) =>
		ledger.listRewards({ programId, recipientId: referrerId, afterId, limit: PAGE }),
	);
	const held = heldRecognitions(rewards);
	if (!held.some((h) => h.standing)) return { demoted: [] };
	const counts = await ledger.countReferrals({ programId, referrerId });
	const qualifiedNow = counts.byStatus.qualified ?? 0;
	const leaving = input.leaving ? 1 : 0;
	const journal = await paged<PointsEntry>((afterId) =>
		ledger.pointsJournal({ programId, participantId: referrerId, afterId, limit: PAGE }),
	);
	const clawed = plan.clawedBack
		.filter((c) => c.recipientId === referrerId)
		.reduce((sum, c) => sum + c.points, 0);
	const values = {
		qualified_referrals: Math.max(0, qualifiedNow - leaving),
		points: Math.max(0, lifetimePointsOf(journal) + clawed),
	};
	const result = planStanding(held, values);
	if (result.lost.length === 0 && result.granted.length === 0) return { demoted: [] };
	const lost = lostCounts(rewards);
	const events: EventInput[] = [];
	const demoted: Demotion[] = result.lost.map((l) => {
		const d: Demotion = {
			participantId: referrerId,
			kind: l.kind,
			name: l.name,
			rule: l.ruleId,
			rewardId: l.rewardId,
			metric: l.metric,
			value: l.value,
			min: l.min,
		};
		const instead =
			l.kind === 'tier'
				? (result.granted.find((g) => g.ruleId === l.ruleId)?.name ?? result.tier ?? undefined)
				: undefined;
		if (instead !== undefined) d.heldInstead = instead;
		events.push({
			type: `${l.kind}.lost`,
			payload: {
				participantId: referrerId,
				[l.kind]: l.name,
				rule: l.ruleId,
				metric: l.metric,
				value: l.value,
				min: l.min,
				referralId: referral.id,
				...(l.kind === 'tier' ? { now: result.tier } : {}),
			},
		});
		return d;
	});
	const grant = result.granted.map((g) => {
		const times = (lost[recognitionKey(g.ruleId, g.name)] ?? 0) + 1;
		return {
			rule: g.ruleId,
			kind: 'tier' as const,
			metadata: {
				ruleType: g.standing.ruleType ?? 'status',
				tier: g.name,
				standing: g.standing,
				heldAfterRefundOf: referral.id,
			},
			idempotencyKey: rewardIdempotencyKey(
				programId,
				String(referrerId),
				g.ruleId,
				`held:${g.name}#${times}`,
			),
		};
	});
	return {
		demoted,
		input: {
			participantId: referrerId,
			heldIds: held.map((h) => h.rewardId),
			lose: result.lost.map((l) => ({
				rewardId: l.rewardId,
				from: l.from as RewardRecord['status'],
			})),
			grant,
			events,
		},
	};
}
