/* Coupon pools (tables/coupons.ts). */
import type { Id, Mutation, Replayable } from './common';

export interface CouponRecord {
	id: number;
	programId: string;
	pool: string;
	code: string;
	status: 'available' | 'claimed';
	claimedBy: number | null;
	rewardId: number | null;
	claimedAt: number | null;
	createdAt: number;
}

export interface LoadCouponsInput extends Mutation {
	programId: string;
	pool: string;
	codes: string[];
}

export interface LoadCouponsResult extends Replayable {
	added: number;
	/** Codes already in the pool (skipped). */
	duplicates: number;
	available: number;
}

export interface ClaimCouponInput extends Mutation {
	programId: string;
	pool: string;
	participantId?: Id;
	rewardId?: Id;
	/** Emit `coupon.pool_low` when a claim leaves fewer than this many available. */
	lowStockThreshold?: number;
}

/* Default key of claimCoupon: the reward, else participant + pool. */
export interface ClaimCouponResult extends Replayable {
	/** Null when the pool is empty. */
	coupon: CouponRecord | null;
	available: number;
}

export interface CouponCounts {
	available: number;
	claimed: number;
}

/** A coupon pool of a program, for a picker. */
export interface CouponPoolSummary {
	pool: string;
	available: number;
	total: number;
}
