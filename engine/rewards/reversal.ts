import { EngineError } from '../shared/errors';
import { requireInteger, requireOneOf, requireRecord, requireText } from '../shared/guards';
import type { RewardStatus } from '../ledger';
import { assertRewardTransition, parseRewardStatus } from './lifecycle';
import { rewardIdempotencyKey } from './plan';
import type { AwardKind, RuleType } from './program';

/**
 * What reversing a referral (refund, cancellation, fraud found late) does to the rewards it
 * earned:
 * - pending rewards → reversed (they were never given);
 * - approved or fulfilled points → reversed, plus a claw-back entry in the points journal;
 * - approved coupons, cash and custom rewards → reversed (not handed out yet, so nothing to undo);
 * - fulfilled coupons, cash and custom rewards → reversed and listed for manual action (void the
 *   coupon in the shop, recover the payout): the engine cannot take back what left the system;
 * - milestone and status awards (badges, tiers, milestone rewards) are kept: they were earned by
 *   many referrals, and their idempotency key stops the same milestone from paying twice if the
 *   count later climbs back.
 *
 * Points enter the spendable balance when a points reward is approved; the claw-back policy says
 * what happens when the balance is smaller than the points to take back: allow a negative
 * balance, clamp at zero (the rest is reported as a shortfall), or refuse (an error; nothing changes).
 */

export const NEGATIVE_BALANCE_POLICIES = ['allow_negative', 'clamp_at_zero', 'refuse'] as const;
export type NegativeBalancePolicy = (typeof NEGATIVE_BALANCE_POLICIES)[number];

export interface EarnedReward {
	id: string;
	recipientId: string;
	ruleId: string;
	ruleType: RuleType;
	kind: AwardKind;
	status: RewardStatus;
	points?: number;
	amount?: number;
	currency?: string;
	/** earnedBy.referralIds of the reward. */
	referralIds: string[];
}

export interface ReversalInput {
	programId: string;
	referralId: string;
	/** The rewards linked to the referral (others are ignored). */
	rewards: EarnedReward[];
	/** Current points balance per recipient id. */
	balances: Record<string, number>;
	policy: NegativeBalancePolicy;
}

export interface Clawback {
	recipientId: string;
	rewardId: string;
	/** Negative: the journal delta. */
	points: number;
	idempotencyKey: string;
	reason: 'referral_reversed';
	referralId: string;
}

export interface ReversalPlan {
	reverse: Array<{ rewardId: string; from: RewardStatus; to: 'reversed' }>;
	clawbacks: Clawback[];
	manual: Array<{
		rewardId: string;
		kind: AwardKind;
		recipientId: string;
		amount?: number;
		currency?: string;
		reason: string;
	}>;
	kept: Array<{ rewardId: string; reason: string }>;
	balancesAfter: Record<string, number>;
	/** clamp_at_zero: points that could not be clawed back, per recipient. */
	shortfall: Record<string, number>;
}

export function planReversal(input: ReversalInput): ReversalPlan {
	const raw = requireRecord(input, 'reversal');
	const programId = requireText(raw.programId, 'programId');
	const referralId = requireText(raw.referralId, 'referralId');
	const policy = requireOneOf(raw.policy, 'negativeBalancePolicy', NEGATIVE_BALANCE_POLICIES);
	if (!Array.isArray(raw.rewards))
		throw new EngineError('invalid_input', 'rewards must be a list.', { field: 'rewards' });
	const balances = new Map<string, number>();
	for (const [id, value] of Object.entries(requireRecord(raw.balances ?? {}, 'balances'))) {
		balances.set(id, requireInteger(value, `balances.${id}`, Number.MIN_SAFE_INTEGER));
	}

	const plan: ReversalPlan = {
		reverse: [],
		clawbacks: [],
		manual: [],
		kept: [],
		balancesAfter: {},
		shortfall: {},
	};
	// Sorted so the same input always gives the same plan, whatever order the ledger returned.
	const rewards = [...(raw.rewards as EarnedReward[])].sort((a, b) =>
		a.id < b.id ? -1 : a.id > b.id ? 1 : 0,
	);
	for (const [i, r] of rewards.entries()) {
		requireText(r.id, `rewards[${i}].id`);
		requireText(r.recipientId, `rewards[${i}].recipientId`);
		const status = parseRewardStatus(r.status, `rewards[${i}].status`);
		if (!Array.isArray(r.referralIds) || !r.referralIds.includes(referralId)) continue;
		if (status === 'reversed') {
			plan.kept.push({ rewardId: r.id, reason: 'Already reversed.' });
			continue;
		}
		if (r.ruleType !== 'per_referral') {
			plan.kept.push({
				rewardId: r.id,
				reason: `A ${r.ruleType} award is kept; it was earned by the referrer's total, not this referral alone.`,
			});
			continue;
		}
		assertRewardTransition(status, 'reversed');
		plan.reverse.push({ rewardId: r.id, from: status, to: 'reversed' });
		if (status === 'pending') continue;
		if (r.kind === 'points') {
			const points = requireInteger(r.points, `rewards[${i}].points`, 1);
			const balance = balances.get(r.recipientId) ?? 0;
			let take = points;
			if (balance - points < 0) {
				if (policy === 'refuse') {
					throw new EngineError(
						'negative_balance',
						`Reversing referral ${referralId} would take ${points} points from participant ${r.recipientId}, who has ${balance}; the policy refuses negative balances (use clamp_at_zero or allow_negative to reverse anyway).`,
						{
							field: 'negativeBalancePolicy',
							details: { recipientId: r.recipientId, balance, points },
						},
					);
				}
				if (policy === 'clamp_at_zero') {
					take = Math.max(0, balance);
					plan.shortfall[r.recipientId] = (plan.shortfall[r.recipientId] ?? 0) + (points - take);
				}
			}
			balances.set(r.recipientId, balance - take);
			if (take > 0) {
				plan.clawbacks.push({
					recipientId: r.recipientId,
					rewardId: r.id,
					points: -take,
					idempotencyKey: rewardIdempotencyKey(
						programId,
						r.recipientId,
						'clawback',
						`reward:${r.id}`,
					),
					reason: 'referral_reversed',
					referralId,
				});
			}
		} else if (status === 'fulfilled' && r.kind !== 'badge' && r.kind !== 'tier') {
			const item: ReversalPlan['manual'][number] = {
				rewardId: r.id,
				kind: r.kind,
				recipientId: r.recipientId,
				reason:
					r.kind === 'coupon'
						? 'The coupon was already sent; deactivate it in the shop if it is unused.'
						: r.kind === 'cash'
							? 'The cash was already paid out; recover it or offset it against the next payout.'
							: 'The custom reward was already handed out; undo it by hand if possible.',
			};
			if (r.amount !== undefined) item.amount = r.amount;
			if (r.currency !== undefined) item.currency = r.currency;
			plan.manual.push(item);
		}
	}
	for (const [id, value] of balances) plan.balancesAfter[id] = value;
	return plan;
}
