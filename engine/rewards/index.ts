/**
 * engine/rewards: what nodes and other domains use. Inside the domain:
 * - `program.ts` the program's types; `validateProgram.ts` checks a configuration; `identity.ts`
 *   names rules and decides their identity; `plan.ts` decides, purely, which rewards an event earns
 *   (each kind of rule in `planRules.ts`, with the key, hold and cap helpers of `planner.ts`).
 * - `evaluate.ts` (`RewardService`) runs a program against the ledger, with `snapshot.ts` (the state
 *   it loads) and `award.ts` (the write of one award); `account.ts` (`RewardAccount`) approves,
 *   fulfils, reverses, redeems and reports, and needs no rules; `items.ts` shapes output.
 * - `refund.ts`, `reversal.ts`, `standing.ts`: what a refund takes back; `notices.ts`, `coupons.ts`:
 *   reward emails and coupon output; `lifecycle.ts`: the status transitions.
 */

export {
	CAP_PERIODS,
	REWARD_EVENTS,
	RULE_SIDES,
	RULE_TYPES,
	VALUE_KINDS,
	WHEN_BELOW_MINIMUM,
	type AwardKind,
	type CapPeriod,
	type Milestone,
	type MilestoneRule,
	type PerReferralRule,
	type RewardCap,
	type RewardEventType,
	type RewardProgram,
	type RewardProgramConfig,
	type UncheckedRewardProgram,
	type RewardRule,
	type RewardSpec,
	type RuleSide,
	type RuleType,
	type StatusLevel,
	type StatusRule,
	type ValueKind,
	type WhenBelowMinimum,
} from './program';
export { firstCollision, validateRewardProgram } from './validateProgram';
export { identifyRules, ruleNames, type RuleName } from './identity';
export {
	capWindow,
	planAwards,
	rewardIdempotencyKey,
	type AwardIntent,
	type AwardPlan,
	type CapUsage,
	type PaidAward,
	type ReferrerState,
	type RewardEvent,
	type SkipReason,
} from './plan';
export { RewardService, type EvaluationResult, type RewardServiceOptions } from './evaluate';
export {
	RewardAccount,
	type ParticipantStatus,
	type ReversalResult,
	type RewardAccountOptions,
} from './account';
export {
	findParticipant,
	findReferral,
	type ParticipantLookup,
	type ReferralLookup,
} from './lookup';
export type { RewardItem, RewardOutputStatus, SkippedReward } from './items';
export {
	describeReward,
	REWARD_NOTICE_TOPIC,
	rewardNoticeKey,
	rewardNoticeKeys,
	rewardNotices,
	type RewardNotice,
} from './notices';
export {
	couponForAward,
	couponOutput,
	poolLowStockCrossed,
	type CouponInput,
	type CouponOutput,
} from './coupons';
export { assertRewardTransition, parseRewardStatus, REWARD_TRANSITIONS } from './lifecycle';
export {
	NEGATIVE_BALANCE_POLICIES,
	planReversal,
	type Clawback,
	type EarnedReward,
	type NegativeBalancePolicy,
	type ReversalPlan,
} from './reversal';
export {
	earnedReward,
	planRefundRewards,
	standingAfterReversal,
	type AdjustedReward,
	type Demotion,
	type RefundRewardsInput,
	type RefundRewardsPlan,
} from './refund';
// For engine/pages: the tier ladder a tier award carries, for the participant page's next tier.
export type { StandingLevel, StandingSnapshot } from './standing';
