/* Rewards and refunds (tables/rewards.ts, tables/refunds.ts). */
import type {
	EventInput,
	Id,
	Mutation,
	OwesMessages,
	Replayable,
	Time,
	TransitionResult,
} from './common';
import type { PointsChange, PointsEntry } from './points';

/*
 * The one definition of what a stored reward may be: the ledger checks every write against these.
 * Import them from engine/ledger/store (or engine/ledger); a domain that allows fewer (the sides a
 * reward rule may name) derives its subset from these instead of writing its own list.
 */
export const REWARD_KINDS = ['points', 'coupon', 'cash', 'badge', 'tier', 'custom'] as const;
export type RewardKind = (typeof REWARD_KINDS)[number];
export const REWARD_STATUSES = ['pending', 'approved', 'fulfilled', 'reversed'] as const;
export type RewardStatus = (typeof REWARD_STATUSES)[number];
export const REWARD_SIDES = ['referrer', 'referee', 'participant'] as const;
export type RewardSide = (typeof REWARD_SIDES)[number];

export interface RewardRecord {
	id: number;
	programId: string;
	recipientId: number;
	referralId: number | null;
	side: RewardSide;
	rule: string;
	kind: RewardKind;
	/** Points for `points`, major currency units for `cash` (e.g. 10.5), else as the rule says. */
	amount: number | null;
	currency: string | null;
	status: RewardStatus;
	holdUntil: number | null;
	idempotencyKey: string;
	metadata: Record<string, unknown>;
	createdAt: number;
	updatedAt: number;
}

export interface AwardRewardInput extends Mutation, OwesMessages {
	programId: string;
	recipientId: Id;
	referralId?: Id;
	side: RewardSide;
	/** The rule that granted it, e.g. `signup-bonus`. */
	rule: string;
	kind: RewardKind;
	amount?: number;
	currency?: string;
	status?: RewardStatus;
	holdUntil?: Time;
	metadata?: Record<string, unknown>;
	/** Credit (or debit) the recipient's points in the same transaction. */
	points?: PointsChange;
}

/* Default key of awardReward: referral + recipient + side + rule. */
export interface AwardRewardResult extends Replayable {
	reward: RewardRecord;
	/** The points entry written with the reward, if `points` was given. */
	pointsEntry: PointsEntry | null;
}

export interface TransitionRewardInput extends Mutation, OwesMessages {
	programId: string;
	rewardId: Id;
	from: RewardStatus;
	to: RewardStatus;
	reason?: string;
	/** Points to credit/debit the recipient if (and only if) this transition wins. */
	points?: PointsChange;
}

export interface TransitionRewardResult extends TransitionResult<RewardRecord> {
	pointsEntry: PointsEntry | null;
}

/** One reward's part in a refund: reversed (points taken back with it), or its amount lowered. */
export interface RefundRewardStep {
	rewardId: Id;
	/** Compare-and-set: the status and amount the refund was planned from. */
	from: RewardStatus;
	fromAmount: number | null;
	/** `reversed`; absent: the reward keeps its status and takes `amount`. */
	to?: 'reversed';
	/** The reward's new amount (a percent-of-order reward scaled to what is left of the order). */
	amount?: number;
	/** Points taken back from the recipient with this step (a negative delta). */
	points?: PointsChange;
	/** Merged into the reward's metadata (e.g. the refunded amount it was scaled by). */
	metadata?: Record<string, unknown>;
	/** A generated coupon code revoked with the reversal, so it cannot be used after the refund. */
	revokeCode?: string;
}

/**
 * A refund, written in one transaction: the referral's move (or none) and every reward step, or
 * nothing. Compare-and-set on the referral's status, on each step's reward status and amount, and
 * on the referral's set of rewards (`rewardIds`: all its rewards the plan saw): when any of them
 * changed meanwhile, nothing is written and `status_changed` is thrown (plan again). The key is
 * required: a second call with it returns the first call's `answer` and writes nothing.
 */
export interface RefundReferralInput {
	programId: string;
	referralId: Id;
	idempotencyKey: string;
	/** The referral's status the refund was planned from. */
	referralFrom: string;
	/** `reversed`; absent: the referral keeps its status. */
	referralTo?: string;
	reason?: string;
	/** Merged into the referral's metadata (e.g. the amount refunded so far, for later reward evaluations). */
	referralMetadata?: Record<string, unknown>;
	/** Compare-and-set on the referral's metadata: each key must still hold this value (null: absent), or `status_changed`. */
	referralMetadataExpected?: Record<string, unknown>;
	/** Every reward of the referral the plan saw (reversed ones included). */
	rewardIds: Id[];
	rewards: RefundRewardStep[];
	/** The caller's answer to this refund (at most 64 KiB as JSON), stored with it and returned to replays. */
	answer: Record<string, unknown>;
	events?: EventInput[];
	/** The referrer's badges and tiers the refund takes away (below their minimum) or gives (a lower tier still reached). */
	standing?: RefundStanding;
}

/**
 * A participant's badges and tiers changed by a refund, in its transaction. Compare-and-set: every
 * badge or tier the participant holds (not reversed) must be one of `heldIds`, and each lost one
 * still in its `from` status, or `status_changed` is thrown and nothing is written.
 */
export interface RefundStanding {
	participantId: Id;
	heldIds: Id[];
	/** Reversed (lost). */
	lose: Array<{ rewardId: Id; from: RewardStatus }>;
	/** New approved badge or tier awards (side referrer, no referral), by their idempotency key. */
	grant: Array<{
		rule: string;
		kind: 'badge' | 'tier';
		metadata: Record<string, unknown>;
		idempotencyKey: string;
	}>;
	/** Emitted for the participant (e.g. `tier.lost`, `badge.lost`). */
	events?: EventInput[];
}

export interface RefundReferralResult extends Replayable {
	answer: Record<string, unknown>;
}

export interface ListRewardsQuery {
	programId: string;
	recipientId?: Id;
	referralId?: Id;
	status?: RewardStatus;
	kind?: RewardKind;
	side?: RewardSide;
	afterId?: Id;
	limit?: number;
}

export interface DueRewardsQuery {
	programId: string;
	/** Default: now. */
	now?: Time;
	limit?: number;
}
