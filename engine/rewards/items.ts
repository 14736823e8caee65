import type {
	LedgerStore,
	ParticipantRecord,
	RewardRecord,
	RewardSide,
	RewardStatus,
} from '../ledger';
import { couponForAward, type CouponOutput } from './coupons';
import type { AwardIntent } from './plan';
import type { RuleSide } from './program';

/** Rewards as the nodes output them and the conversion webhook returns them, from ledger records. */

export type RewardOutputStatus = RewardStatus;

/** One reward as the node outputs it and the conversion webhook returns it. */
export interface RewardItem {
	id: number;
	recipient: RewardSide;
	recipientId: number;
	email: string | null;
	kind: string;
	points?: number;
	amount?: number;
	currency?: string;
	percentOff?: number;
	/** Coupon code; shown once the reward is approved (a pending coupon may still be reversed). */
	code?: string;
	/** What a Stripe, Shopify or WooCommerce node needs; approved coupons only. */
	coupon?: CouponOutput;
	badge?: string;
	tier?: string;
	customType?: string;
	customValue?: string;
	label?: string;
	rule: string;
	status: RewardStatus;
	holdUntil: string | null;
	earnedBy: AwardIntent['earnedBy'] | null;
	referralId: number | null;
	/** True when an earlier run (a replay, a retry, a concurrent execution) already wrote this reward. */
	replayed?: boolean;
}

export interface SkippedReward {
	rule: string;
	recipient: RuleSide;
	recipientId: number;
	kind: string;
	reason: string;
	capId?: string;
}

export function meta(record: RewardRecord): Record<string, unknown> {
	return record.metadata ?? {};
}

export function iso(time: number | null | undefined): string | null {
	return time === null || time === undefined ? null : new Date(time).toISOString();
}

/** Turns ledger rewards into reward items, reading each recipient's email once per instance. */
export class RewardItems {
	private readonly participants = new Map<number, Promise<ParticipantRecord | null>>();

	constructor(
		private readonly ledger: LedgerStore,
		private readonly programId: string,
	) {}

	participant(id: number): Promise<ParticipantRecord | null> {
		let found = this.participants.get(id);
		if (!found) {
			found = this.ledger.getParticipant({ programId: this.programId, id });
			this.participants.set(id, found);
			if (this.participants.size > 10_000) this.participants.clear();
		}
		return found;
	}

	/** A ledger reward as the webhooks and shop nodes want it. */
	async item(record: RewardRecord): Promise<RewardItem> {
		const m = meta(record);
		const participant = await this.participant(record.recipientId);
		const item: RewardItem = {
			id: record.id,
			recipient: record.side,
			recipientId: record.recipientId,
			email: participant?.email ?? null,
			kind: record.kind,
			rule: record.rule,
			status: record.status,
			holdUntil: iso(record.holdUntil),
			earnedBy: (m.earnedBy as AwardIntent['earnedBy']) ?? null,
			referralId: record.referralId,
		};
		if (record.kind === 'points') item.points = record.amount ?? (m.points as number);
		else if (record.amount !== null) {
			item.amount = record.amount;
			if (record.currency) item.currency = record.currency;
		}
		for (const key of [
			'percentOff',
			'badge',
			'tier',
			'customType',
			'customValue',
			'label',
		] as const) {
			if (m[key] !== undefined) (item as unknown as Record<string, unknown>)[key] = m[key];
		}
		const coupon = m.coupon as { code?: string; expiresAt?: number } | undefined;
		if (
			record.kind === 'coupon' &&
			coupon?.code &&
			(record.status === 'approved' || record.status === 'fulfilled')
		) {
			item.code = coupon.code;
			item.coupon = couponForAward(
				{
					kind: 'coupon',
					idempotencyKey: record.idempotencyKey,
					...(record.amount !== null
						? { amount: record.amount, currency: record.currency ?? undefined }
						: { percentOff: m.percentOff as number }),
					coupon: {
						source: 'generate',
						...(coupon.expiresAt !== undefined ? { expiresAt: coupon.expiresAt } : {}),
					},
				} as AwardIntent,
				coupon.code,
			);
		}
		return item;
	}
}
