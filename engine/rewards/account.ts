import { EngineError } from '../shared/errors';
import {
	allPages,
	type Id,
	type LedgerStore,
	type PointsEntry,
	type RewardRecord,
	type RewardStatus,
} from '../ledger';
import { type RewardItem, RewardItems, meta } from './items';
import { rewardIdempotencyKey } from './plan';
import { type Demotion, planRefundRewards, standingAfterReversal } from './refund';
import {
	NEGATIVE_BALANCE_POLICIES,
	type NegativeBalancePolicy,
	type ReversalPlan,
} from './reversal';

/**
 * A participant's reward account in one program: approve, fulfil and reverse rewards, status,
 * points history, redemption and the reward list. Needs no reward rules (those are `evaluate.ts`'s).
 */

/** Referral statuses that count as qualified. */
export const QUALIFIED: readonly string[] = ['qualified'];
/** Rows per page when a whole list is read from the ledger. */
export const PAGE = 10_000;

export interface ParticipantStatus {
	participantId: number;
	email: string | null;
	points: number;
	tier: string | null;
	badges: string[];
	qualifiedReferrals: number;
}

export interface ReversalResult {
	referralId: number;
	/** Ids of the rewards reversed now or by an earlier run. */
	reversed: number[];
	clawedBack: Array<{ rewardId: number; recipientId: number; points: number }>;
	manual: ReversalPlan['manual'];
	kept: ReversalPlan['kept'];
	shortfall: Record<string, number>;
	/** The referrer's badges and tiers the claw-back took away (below their minimum, program says demote), as a refund's `demoted`. */
	demoted: Demotion[];
	/** True when an earlier call for the referral wrote this answer. */
	replayed: boolean;
}

export interface RewardAccountOptions {
	/** What a claw-back does when the balance is smaller than the points to take back (default allow_negative). */
	negativeBalancePolicy?: NegativeBalancePolicy;
	/** Clock for approvals and the redemption default time (default Date.now). */
	now?: () => number;
}

export class RewardAccount {
	protected readonly policy: NegativeBalancePolicy;
	protected readonly now: () => number;
	protected readonly items: RewardItems;

	constructor(
		protected readonly ledger: LedgerStore,
		readonly programId: string,
		options: RewardAccountOptions = {},
	) {
		this.policy = options.negativeBalancePolicy ?? 'allow_negative';
		if (!(NEGATIVE_BALANCE_POLICIES as readonly string[]).includes(this.policy)) {
			throw new EngineError(
				'invalid_value',
				`negativeBalancePolicy must be one of ${NEGATIVE_BALANCE_POLICIES.join(', ')}.`,
				{ field: 'negativeBalancePolicy' },
			);
		}
		this.now = options.now ?? Date.now;
		this.items = new RewardItems(ledger, programId);
	}

	/** A ledger reward as the webhooks and shop nodes want it. */
	async rewardItem(record: RewardRecord): Promise<RewardItem> {
		return await this.items.item(record);
	}

	/** Every reward of a recipient in the program, oldest first. */
	protected async rewardsOf(recipientId: number): Promise<RewardRecord[]> {
		return await allPages(
			(afterId, limit) =>
				this.ledger.listRewards({ programId: this.programId, recipientId, afterId, limit }),
			PAGE,
		);
	}

	// ------------------------------------------------------------------ approve, fulfil

	/** Approves the pending rewards whose holding period has ended (run from a Schedule Trigger). */
	async approveDue(options: { now?: number; limit?: number } = {}): Promise<RewardItem[]> {
		const due = await this.ledger.rewardsDueForApproval({
			programId: this.programId,
			now: options.now ?? this.now(),
			limit: options.limit ?? 1000,
		});
		const out: RewardItem[] = [];
		for (const reward of due) {
			// A reward waiting for a person (no hold end) is not approved by the schedule.
			if (reward.holdUntil === null) continue;
			const moved = await this.transition(reward, 'approved', 'holding period ended');
			if (moved) out.push(moved);
		}
		return out;
	}

	/** Approves one pending reward now (a reviewer's decision). */
	async approve(rewardId: Id): Promise<RewardItem> {
		const reward = await this.requireReward(rewardId);
		return (
			(await this.transition(reward, 'approved', 'approved')) ??
			(await this.rewardItem(await this.requireReward(rewardId)))
		);
	}

	/** Marks an approved reward as handed out (coupon sent, cash paid). Repeating it changes nothing. */
	async markFulfilled(rewardId: Id, reference?: string): Promise<RewardItem> {
		const reward = await this.requireReward(rewardId);
		if (reward.status === 'fulfilled')
			return { ...(await this.rewardItem(reward)), replayed: true };
		if (reward.status !== 'approved') {
			throw new EngineError(
				'illegal_transition',
				`Reward ${reward.id} is ${reward.status}; only an approved reward can be marked fulfilled.`,
				{ field: 'rewardId' },
			);
		}
		return (
			(await this.transition(
				reward,
				'fulfilled',
				reference ? `fulfilled: ${reference}` : 'fulfilled',
			)) ?? (await this.rewardItem(await this.requireReward(rewardId)))
		);
	}

	private async requireReward(rewardId: Id): Promise<RewardRecord> {
		const reward = await this.ledger.getReward({ programId: this.programId, id: rewardId });
		if (!reward)
			throw new EngineError(
				'unknown_reward',
				`No reward ${String(rewardId)} in program "${this.programId}".`,
				{ field: 'rewardId' },
			);
		return reward;
	}

	private async transition(
		reward: RewardRecord,
		to: 'approved' | 'fulfilled',
		reason: string,
	): Promise<RewardItem | null> {
		const credit =
			to === 'approved' && reward.kind === 'points' && reward.amount !== null && reward.amount > 0;
		const result = await this.ledger.transitionReward({
			programId: this.programId,
			rewardId: reward.id,
			from: reward.status,
			to,
			reason,
			...(credit ? { points: { delta: reward.amount as number, reason: 'reward' } } : {}),
			idempotencyKey: `${reward.idempotencyKey}:${to}`,
		});
		if (!result.transitioned) return null;
		return { ...(await this.rewardItem(result.record)), replayed: result.replayed };
	}

	// ------------------------------------------------------------------ reverse

	/**
	 * Reverses the rewards of a reversed referral: pending and unspent ones, with points clawed back
	 * by the policy, and the referrer's badges and tiers the claw-back leaves below their minimum
	 * (the refund's rule, standingAfterReversal), in one ledger transaction. Rewards never go without
	 * their referral: for a referral that is not reversed this refuses (a refund goes through the
	 * Referral node's Reverse operation, which decides for the referral and its rewards together).
	 * The answer is stored under the referral alone: a repeat answers like the first call and writes nothing.
	 */
	async reverseReferral(
		referralId: Id,
		policy: NegativeBalancePolicy = this.policy,
	): Promise<ReversalResult> {
		for (let attempt = 1; ; attempt++) {
			const referral = await this.ledger.getReferral({ programId: this.programId, id: referralId });
			if (!referral)
				throw new EngineError(
					'unknown_referral',
					`No referral ${String(referralId)} in program "${this.programId}".`,
					{ field: 'referralId' },
				);
			if (referral.status !== 'reversed') {
				throw new EngineError(
					'referral_not_reversed',
					`Referral ${referral.id} is ${referral.status}, not reversed; its rewards are reversed only with it. Use the Referral node's Reverse (Refund) operation, which decides for the referral and its rewards together.`,
					{ field: 'referralId', details: { status: referral.status } },
				);
			}
			const records = await allPages(
				(afterId, limit) =>
					this.ledger.listRewards({
						programId: this.programId,
						referralId: referral.id,
						afterId,
						limit,
					}),
				PAGE,
			);
			const balances: Record<string, number> = {};
			for (const id of new Set(records.map((r) => r.recipientId))) {
				balances[String(id)] = await this.ledger.pointsBalance({
					programId: this.programId,
					participantId: id,
				});
			}
			try {
				const plan = planRefundRewards({
					programId: this.programId,
					referralId: referral.id,
					reverse: true,
					rewards: records,
					balances,
					policy,
				});
				// The referral is reversed already: it left the qualified count then; only the claw-back is new.
				const standing = await standingAfterReversal(this.ledger, this.programId, {
					referral,
					leaving: false,
					plan,
				});
				const answer: Omit<ReversalResult, 'replayed'> = {
					referralId: referral.id,
					reversed: plan.reversed,
					clawedBack: plan.clawedBack,
					manual: plan.manual,
					kept: plan.kept,
					shortfall: plan.shortfall,
					demoted: standing.demoted,
				};
				const stored = await this.ledger.refundReferral({
					programId: this.programId,
					referralId: referral.id,
					// The request alone (the referral): a replay gets the first answer, whatever the rewards are now.
					idempotencyKey: `reverse-rewards:${referral.id}`,
					referralFrom: 'reversed',
					reason: `referral ${referral.id} reversed`,
					rewardIds: records.map((r) => r.id),
					rewards: plan.steps,
					answer: answer,
					...(standing.input ? { standing: standing.input } : {}),
				});
				return {
					...(stored.answer as unknown as Omit<ReversalResult, 'replayed'>),
					replayed: stored.replayed,
				};
			} catch (error) {
				if (!(error instanceof EngineError && error.code === 'status_changed') || attempt >= 8)
					throw error;
			}
		}
	}

	// ------------------------------------------------------------------ points and status

	/** Points balance, current tier, badges and lifetime qualified referrals of a participant. */
	async status(participantId: Id): Promise<ParticipantStatus> {
		const participant = await this.ledger.getParticipant({
			programId: this.programId,
			id: participantId,
		});
		if (!participant)
			throw new EngineError(
				'unknown_participant',
				`No participant ${String(participantId)} in program "${this.programId}".`,
				{ field: 'participant' },
			);
		const [points, rewards, counts] = await Promise.all([
			this.ledger.pointsBalance({ programId: this.programId, participantId: participant.id }),
			this.rewardsOf(participant.id),
			this.ledger.countReferrals({ programId: this.programId, referrerId: participant.id }),
		]);
		const held = rewards.filter((r) => r.status !== 'reversed');
		const tier = held.filter((r) => r.kind === 'tier').at(-1);
		return {
			participantId: participant.id,
			email: participant.email,
			points,
			tier: tier ? String(meta(tier).tier) : null,
			badges: [
				...new Set(held.filter((r) => r.kind === 'badge').map((r) => String(meta(r).badge))),
			],
			qualifiedReferrals: QUALIFIED.reduce((sum, s) => sum + (counts.byStatus[s] ?? 0), 0),
		};
	}

	async pointsHistory(
		participantId: Id,
		options: { afterId?: number; limit?: number } = {},
	): Promise<PointsEntry[]> {
		return await this.ledger.pointsJournal({
			programId: this.programId,
			participantId,
			afterId: options.afterId,
			limit: options.limit ?? 100,
		});
	}

	async listRewards(
		query: {
			recipientId?: Id;
			referralId?: Id;
			status?: RewardStatus;
			afterId?: number;
			limit?: number;
		} = {},
	): Promise<RewardItem[]> {
		const records = await this.ledger.listRewards({
			programId: this.programId,
			...query,
			limit: query.limit ?? 100,
		});
		return await Promise.all(records.map((r) => this.rewardItem(r)));
	}

	/**
	 * Spends points: a journal debit keyed by the reference (an order id), so a retry debits once;
	 * a balance too small is refused, never overdrawn.
	 */
	async redeemPoints(input: {
		participantId: Id;
		points: number;
		reference: string;
		reason?: string;
	}): Promise<{ balance: number; entry: PointsEntry; replayed: boolean }> {
		if (typeof input.points !== 'number' || !Number.isInteger(input.points) || input.points <= 0) {
			throw new EngineError(
				'invalid_amount',
				`Points to redeem must be a whole number greater than zero (got ${String(input.points)}).`,
				{ field: 'points' },
			);
		}
		if (typeof input.reference !== 'string' || input.reference.trim() === '') {
			throw new EngineError(
				'required',
				'A redemption needs a reference (such as the order id) so that a retry does not spend the points twice.',
				{ field: 'reference' },
			);
		}
		const participantId = String(input.participantId);
		try {
			const result = await this.ledger.appendPoints({
				programId: this.programId,
				participantId: input.participantId,
				delta: -input.points,
				reason: input.reason ?? 'redeemed',
				idempotencyKey: rewardIdempotencyKey(
					this.programId,
					participantId,
					'redeem',
					input.reference.trim(),
				),
			});
			return { balance: result.balance, entry: result.entry, replayed: result.replayed };
		} catch (error) {
			if (error instanceof EngineError && error.code === 'insufficient_points') {
				const balance = (error.details?.balance as number | undefined) ?? 0;
				throw new EngineError(
					'insufficient_points',
					`Participant ${participantId} has ${balance} points, fewer than the ${input.points} to redeem; nothing was spent.`,
					{
						field: 'points',
						details: { balance, points: input.points },
					},
				);
			}
			throw error;
		}
	}
}
