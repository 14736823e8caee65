import { REWARD_SIDES, type RewardSide } from '../ledger';
import type { WindowMode } from '../shared/periods';

/**
 * Reward program configuration (what the Referral Reward node's form produces), its validation,
 * and `planAwards`: the pure decision of which rewards an event earns.
 *
 * Three rule types:
 * - `per_referral`: a reward for one side (referrer or referee) on one event (the referee's
 *   sign-up, or the referral qualifying): points, a coupon, a cash amount or a custom reward.
 * - `milestone`: rewards, badges or tiers when the referrer's lifetime qualified referrals (or
 *   referred revenue) reach a threshold, once, or again every N after it.
 * - `status`: badge or VIP tier levels (Bronze, Silver, Gold, …) from lifetime qualified
 *   referrals or lifetime points, as non-overlapping ranges.
 * Caps limit the referrer's value rewards per day, week, month or lifetime, in count and value.
 * A holding period keeps value rewards `pending` for N days after they are earned (the refund
 * window); badges and tiers are recognition, not value, and are granted at once.
 */

export const VALUE_KINDS = ['points', 'coupon', 'cash', 'custom'] as const;
export type ValueKind = (typeof VALUE_KINDS)[number];
export type AwardKind = ValueKind | 'badge' | 'tier';
/** The sides a rule rewards: the ledger's reward sides but `participant` (a reward no referral earned). */
export type RuleSide = Exclude<RewardSide, 'participant'>;
export const RULE_SIDES: readonly RuleSide[] = REWARD_SIDES.filter(
	(side): side is RuleSide => side !== 'participant',
);
export const REWARD_EVENTS = ['referee_signup', 'referral_qualified'] as const;
export type RewardEventType = (typeof REWARD_EVENTS)[number];
export const RULE_TYPES = ['per_referral', 'milestone', 'status'] as const;
export type RuleType = (typeof RULE_TYPES)[number];
export const CAP_PERIODS = ['day', 'week', 'month', 'lifetime'] as const;
export type CapPeriod = (typeof CAP_PERIODS)[number];
/** What a badge or tier does when the value that earned it falls below its minimum (a refund). */
export const WHEN_BELOW_MINIMUM = ['demote', 'keep'] as const;
export type WhenBelowMinimum = (typeof WHEN_BELOW_MINIMUM)[number];

export interface RewardSpec {
	kind: ValueKind;
	/** points: a whole number of points. */
	points?: number;
	/** cash, or a fixed-amount coupon, in major units of `currency` (20 = 20.00 EUR). */
	amount?: number;
	/** cash only, per-referral rules only: this share of the qualifying order instead of a fixed amount. */
	percentOfOrder?: number;
	/** coupon only: percent off instead of an amount. */
	percentOff?: number;
	/** Defaults to the program currency. */
	currency?: string;
	/** coupon: a new unique code from the code engine, or one taken from a pre-loaded pool. */
	couponSource?: 'generate' | 'pool';
	couponPrefix?: string;
	couponPoolId?: string;
	/** coupon: days the code stays valid after it is issued (earned, or released after the holding period). */
	couponValidDays?: number;
	/** custom: what the workflow should hand out (e.g. "free_month", "tshirt"). */
	customType?: string;
	customValue?: string;
	/** Shown to the participant. */
	label?: string;
}

export interface PerReferralRule {
	/**
	 * A name for the output and for caps' ruleIds; optional in a configuration (the engine names an
	 * unnamed rule after its recipient and reward, e.g. "referrer-points"). Not its identity: see `key`.
	 */
	id: string;
	/**
	 * The rule's identity, decided by the engine (`identity.ts`): a hash of what it gives
	 * (side, event, reward, minimum order; not its name, label or position), with `#2`, `#3` for
	 * identical rules. Stored with each award so a re-evaluation after an edit of the program
	 * recognises what the referral was already paid (see `planAwards`).
	 */
	key?: string;
	/** True when the configuration named the rule (a name the engine made up says nothing about identity). */
	named?: boolean;
	type: 'per_referral';
	side: RuleSide;
	on: RewardEventType;
	reward: RewardSpec;
	/** referral_qualified only: orders below this amount (order currency) earn nothing. */
	minOrderAmount?: number;
	holdingDays?: number;
}

export interface Milestone {
	threshold: number;
	/** Fire again every N after the threshold (threshold, threshold + N, threshold + 2N, …). */
	repeatEvery?: number;
	/** Exactly one of reward, badge, tier. */
	reward?: RewardSpec;
	badge?: string;
	tier?: string;
	/** Badges and tiers: lose it when the value falls below the threshold (`demote`, the default) or keep it. */
	whenBelowMinimum?: WhenBelowMinimum;
}

export interface MilestoneRule {
	id: string;
	type: 'milestone';
	metric: 'qualified_referrals' | 'referred_revenue';
	/** referred_revenue: the currency thresholds are written in (defaults to the program's). */
	currency?: string;
	milestones: Milestone[];
	holdingDays?: number;
}

export interface StatusLevel {
	name: string;
	min: number;
	/** Inclusive; defaults to just below the next level's min. */
	max?: number;
	/** Lose the level when the value falls below min (`demote`, the default) or keep it once reached. */
	whenBelowMinimum?: WhenBelowMinimum;
}

export interface StatusRule {
	id: string;
	type: 'status';
	/** badge: every level reached is kept; tier: the participant holds the highest level reached (VIP). */
	award: 'badge' | 'tier';
	metric: 'qualified_referrals' | 'points';
	levels: StatusLevel[];
}

export type RewardRule = PerReferralRule | MilestoneRule | StatusRule;

export interface RewardCap {
	id: string;
	period: CapPeriod;
	maxCount?: number;
	maxValue?: number;
	/** The unit maxValue is counted in: 'points' or a currency code. */
	unit?: string;
	/** Only these rules count against the cap (default: every referrer-side value reward). */
	ruleIds?: string[];
}

export interface RewardProgramConfig {
	programId: string;
	currency?: string;
	holdingDays?: number;
	/** Calendar cap windows start at midnight in this zone (default UTC). */
	timeZone?: string;
	capWindowMode?: WindowMode;
	rules: RewardRule[];
	caps?: RewardCap[];
}

/**
 * A program as a form or JSON writes it, before validateRewardProgram checks every field, fills
 * defaults and names the rules and caps that have no ID. RewardService accepts it as it is.
 */
export interface UncheckedRewardProgram {
	programId: string;
	rules: Record<string, unknown>[];
	caps?: Record<string, unknown>[];
	[setting: string]: unknown;
}

/** A validated program: defaults filled, currencies upper-cased, levels sorted. */
export type RewardProgram = Required<
	Pick<RewardProgramConfig, 'programId' | 'holdingDays' | 'timeZone' | 'capWindowMode'>
> & {
	currency?: string;
	rules: RewardRule[];
	caps: RewardCap[];
};
