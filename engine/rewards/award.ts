import { CodeGenerator } from '../codes';
import { EngineError } from '../shared/errors';
import {
	type LedgerStore,
	type OweMessageInput,
	type ReferralRecord,
	type RewardRecord,
} from '../ledger';
import { meta, type RewardItem, type RewardItems, type SkippedReward } from './items';
import { describeReward, REWARD_NOTICE_TOPIC, rewardNoticeKey } from './notices';
import type { AwardIntent } from './plan';
import type { RewardEventType, RewardProgram } from './program';

/**
 * The write of one award: its coupon (claimed from a pool or issued), its metadata, events and
 * owed email, in one ledger call under the intent's idempotency key. Used by `RewardService`
 * (evaluate.ts), which plans the awards.
 */

/** A milestone or level another referral's evaluation already holds: not this evaluation's, not a skip. */
export const HELD_ELSEWHERE = 'held_by_another_referral';

export function skippedItem(intent: AwardIntent, reason: string): SkippedReward {
	const item: SkippedReward = {
		rule: intent.ruleId,
		recipient: intent.side,
		recipientId: Number(intent.recipientId),
		kind: intent.kind,
		reason,
	};
	if (intent.capId) item.capId = intent.capId;
	return item;
}

export interface AwardWriterOptions {
	ledger: LedgerStore;
	programId: string;
	program: RewardProgram;
	/** Emit `coupon.pool_low` when a pool claim leaves fewer than this many coupons (0 = never). */
	lowStock: number;
	oweNotices: boolean;
	items: RewardItems;
	/** The program's rules as evaluated, hashed (see `RewardService`). */
	programKey: () => string;
	rewardsOf: (recipientId: number) => Promise<RewardRecord[]>;
	rewardItem: (record: RewardRecord) => Promise<RewardItem>;
}

export class AwardWriter {
	private readonly ledger: LedgerStore;
	private readonly programId: string;
	private readonly program: RewardProgram;
	private readonly lowStock: number;
	private readonly oweNotices: boolean;
	private readonly items: RewardItems;
	private readonly programKey: () => string;
	private readonly rewardsOf: (recipientId: number) => Promise<RewardRecord[]>;
	private readonly rewardItem: (record: RewardRecord) => Promise<RewardItem>;
	private readonly generators = new Map<string, CodeGenerator>();

	constructor(options: AwardWriterOptions) {
		this.ledger = options.ledger;
		this.programId = options.programId;
		this.program = options.program;
		this.lowStock = options.lowStock;
		this.oweNotices = options.oweNotices;
		this.items = options.items;
		this.programKey = options.programKey;
		this.rewardsOf = options.rewardsOf;
		this.rewardItem = options.rewardItem;
	}

	private generatorFor(prefix: string | undefined): CodeGenerator {
		const key = prefix ?? '';
		let generator = this.generators.get(key);
		if (!generator) {
			generator = new CodeGenerator({
				length: 10,
				...(prefix ? { prefix: prefix.endsWith('-') ? prefix : `${prefix}-` } : {}),
			});
			this.generators.set(key, generator);
		}
		return generator;
	}

	/** The coupon code for an award: the same one for every replay, because the ledger remembers it by key. */
	private async couponCode(intent: AwardIntent, referral: ReferralRecord): Promise<string | null> {
		const coupon = intent.coupon!;
		const key = `${intent.idempotencyKey}:coupon`;
		if (coupon.source === 'pool') {
			const claim = await this.ledger.claimCoupon({
				programId: this.programId,
				pool: coupon.poolId!,
				participantId: intent.recipientId,
				idempotencyKey: key,
				...(this.lowStock > 0 ? { lowStockThreshold: this.lowStock } : {}),
			});
			if (claim.coupon) return claim.coupon.code;
			await this.ledger.appendEvent({
				programId: this.programId,
				type: 'coupon.pool_empty',
				payload: {
					pool: coupon.poolId,
					rule: intent.ruleId,
					referralId: referral.id,
					recipientId: Number(intent.recipientId),
				},
			});
			return null;
		}
		const generator = this.generatorFor(coupon.prefix);
		// Issued in the ledger's code table so it is unique in the program and can be revoked on reversal.
		const issued = await this.ledger.issueCode({
			programId: this.programId,
			ownerId: intent.recipientId,
			generate: () => generator.next(),
			maxUses: 1,
			...(coupon.expiresAt !== undefined ? { expiresAt: coupon.expiresAt } : {}),
			idempotencyKey: key,
		});
		return issued.code.code;
	}

	async write(
		referral: ReferralRecord,
		type: RewardEventType,
		occurredAt: number,
		intent: AwardIntent,
	): Promise<{ item: RewardItem; record: RewardRecord } | SkippedReward> {
		let code: string | null = null;
		if (intent.kind === 'coupon') {
			code = await this.couponCode(intent, referral);
			if (code === null) return skippedItem(intent, 'coupon_pool_empty');
		}
		const metadata: Record<string, unknown> = {
			ruleType: intent.ruleType,
			earnedBy: intent.earnedBy,
			evaluation: `${type}:${referral.id}`,
			// The program (rules) it was written under: a replay of that evaluation notifies again.
			programKey: this.programKey(),
			earnedAt: occurredAt,
			...(intent.ruleKey !== undefined ? { ruleKey: intent.ruleKey } : {}),
			...(intent.slot !== undefined ? { slot: intent.slot } : {}),
		};
		for (const key of [
			'points',
			'percentOff',
			'badge',
			'tier',
			'customType',
			'customValue',
			'label',
			'standing',
		] as const) {
			if (intent[key] !== undefined) metadata[key] = intent[key];
		}
		// A percent-of-order reward remembers its percentage: a partial refund scales it to what is left.
		const rule = this.program.rules.find((r) => r.id === intent.ruleId);
		if (
			rule?.type === 'per_referral' &&
			rule.reward.percentOfOrder !== undefined &&
			intent.kind === 'cash'
		)
			metadata.percentOfOrder = rule.reward.percentOfOrder;
		if (intent.kind === 'coupon') {
			const c = intent.coupon!;
			metadata.coupon = {
				code,
				source: c.source,
				...(c.poolId ? { pool: c.poolId } : {}),
				...(c.expiresAt !== undefined ? { expiresAt: c.expiresAt } : {}),
			};
		}
		const events = [];
		if (intent.kind === 'tier')
			events.push({
				type: 'tier.reached',
				payload: {
					participantId: Number(intent.recipientId),
					tier: intent.tier,
					rule: intent.ruleId,
				},
			});
		if (intent.kind === 'badge')
			events.push({
				type: 'badge.earned',
				payload: {
					participantId: Number(intent.recipientId),
					badge: intent.badge,
					rule: intent.ruleId,
				},
			});
		const input = {
			programId: this.programId,
			recipientId: intent.recipientId,
			referralId: referral.id,
			side: intent.side,
			rule: intent.ruleId,
			kind: intent.kind,
			...(intent.kind === 'points'
				? { amount: intent.points }
				: intent.amount !== undefined
					? { amount: intent.amount, currency: intent.currency }
					: {}),
			status: intent.status === 'pending' ? ('pending' as const) : ('approved' as const),
			...(intent.holdUntil !== undefined ? { holdUntil: intent.holdUntil } : {}),
			metadata,
			// Points enter the balance when the reward is approved: now, or when its hold ends.
			...(intent.kind === 'points' && intent.status === 'approved'
				? { points: { delta: intent.points as number, reason: 'reward' } }
				: {}),
			...(events.length ? { events } : {}),
			...(this.oweNotices ? { messages: await this.notice(referral, intent, code) } : {}),
			idempotencyKey: intent.idempotencyKey,
		};
		let record: RewardRecord;
		let replayed: boolean;
		try {
			const awarded = await this.ledger.awardReward(input);
			record = awarded.reward;
			replayed = awarded.replayed;
		} catch (error) {
			// Refunded while this evaluation ran: the reversed referral earns nothing (the ledger refused it).
			if (error instanceof EngineError && error.code === 'referral_reversed')
				return skippedItem(intent, 'referral_reversed');
			// The rule changed since this reward was written: the reward stands as it was first written.
			if (!(error instanceof EngineError && error.code === 'idempotency_key_reused')) throw error;
			const existing = (await this.rewardsOf(Number(intent.recipientId))).find(
				(r) => r.idempotencyKey === intent.idempotencyKey,
			);
			if (!existing) throw error;
			record = existing;
			replayed = true;
		}
		// A concurrent evaluation of another referral reached this milestone or level first: it is theirs.
		if (
			replayed &&
			intent.ruleType !== 'per_referral' &&
			meta(record).evaluation !== `${type}:${referral.id}`
		)
			return skippedItem(intent, HELD_ELSEWHERE);
		const item = await this.rewardItem(record);
		item.replayed = replayed;
		return { item, record };
	}

	/** The email this award owes its recipient (none without an address), written with the award. */
	private async notice(
		referral: ReferralRecord,
		intent: AwardIntent,
		code: string | null,
	): Promise<OweMessageInput[]> {
		const recipientId = Number(intent.recipientId);
		const person = await this.items.participant(recipientId);
		if (!person?.email) return [];
		const reward: Partial<RewardItem> = {
			recipient: intent.side,
			recipientId,
			kind: intent.kind,
			rule: intent.ruleId,
			status: intent.status === 'pending' ? 'pending' : 'approved',
		};
		for (const key of [
			'points',
			'amount',
			'currency',
			'percentOff',
			'badge',
			'tier',
			'customType',
			'customValue',
			'label',
		] as const) {
			if (intent[key] !== undefined) (reward as Record<string, unknown>)[key] = intent[key];
		}
		// A pending coupon may still be reversed: its code follows once it is approved.
		if (code !== null && reward.status === 'approved') reward.code = code;
		return [
			{
				key: rewardNoticeKey(referral.id, recipientId),
				channel: 'email',
				recipient: person.email,
				topic: REWARD_NOTICE_TOPIC,
				participantId: recipientId,
				data: {
					recipient: intent.side,
					recipientId,
					email: person.email,
					name: person.name ?? null,
					referralId: referral.id,
					lines: [describeReward(reward as RewardItem)],
					rewards: [reward],
				},
				collect: ['lines', 'rewards'],
			},
		];
	}
}
