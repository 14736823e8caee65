/* Who to tell what after an evaluation: the rewards this run wrote, one notice per person, so a
 * workflow can email each person once without a Code node. */
import type { RewardItem } from './items';

export interface RewardNotice {
	recipient: RewardItem['recipient'];
	recipientId: number;
	email: string;
	referralId: number;
	/** This person's new rewards from this evaluation (also when an earlier run of it wrote them), in award order. */
	rewards: RewardItem[];
	/** Each of those rewards in words: "100 points", "a 20.00 EUR coupon: THANKS-…". */
	lines: string[];
	/** The same for every retry or replay of this referral's evaluation: the email's idempotency key. */
	messageKey: string;
}

/** The topic of the reward emails the ledger owes (Award Rewards with Owe Reward Emails on). */
export const REWARD_NOTICE_TOPIC = 'reward.earned';

/** The key of the email one evaluation of a referral owes one person: the same for every retry and replay. */
export function rewardNoticeKey(referralId: number, recipientId: number): string {
	return `referral-${referralId}-rewarded-${recipientId}`;
}

/**
 * The keys of the emails an evaluation's rewards owe, replayed rewards included: a replay hands
 * them to the message step, which sends those still owed (the first run died before sending).
 */
export function rewardNoticeKeys(referralId: number, rewards: RewardItem[]): string[] {
	return [
		...new Set(
			rewards.filter((r) => r.email).map((r) => rewardNoticeKey(referralId, r.recipientId)),
		),
	];
}

const money = (amount: number | undefined, currency: string | undefined) =>
	`${Number(amount ?? 0).toFixed(2)}${currency ? ` ${currency}` : ''}`;

/** A reward in words, for notices (English; templates may build their own from `rewards`). */
export function describeReward(r: RewardItem): string {
	switch (r.kind) {
		case 'points':
			return `${r.points} points`;
		case 'coupon': {
			const value = r.percentOff ? `${r.percentOff}%` : money(r.amount, r.currency);
			return `a ${value} coupon${r.code ? `: ${r.code}` : ' (its code follows once the refund window has passed)'}`;
		}
		case 'cash':
			return money(r.amount, r.currency);
		case 'badge':
			return `the ${r.badge} badge`;
		case 'tier':
			return `the ${r.tier} tier`;
		default:
			return r.label || r.customType || r.kind;
	}
}

/**
 * One notice per person with a new reward from this evaluation: by default the rewards not replayed;
 * with `noticeRewardIds` (the evaluation's), the ones this evaluation or an earlier run of the same
 * evaluation wrote, so a replay (an n8n retry, a re-run after a crash) answers with the same notices
 * as the first run: it may have died before its email went. Send them through the message log (Owe
 * Reward Emails, or a Templated Message keyed by `messageKey`) so each person gets the email once.
 * Recipients without an email get none.
 */
export function rewardNotices(
	referralId: number,
	rewards: RewardItem[],
	noticeRewardIds?: number[],
): RewardNotice[] {
	const byRecipient = new Map<number, RewardNotice>();
	for (const reward of rewards) {
		if (!reward.email || (noticeRewardIds ? !noticeRewardIds.includes(reward.id) : reward.replayed))
			continue;
		let notice = byRecipient.get(reward.recipientId);
		if (!notice) {
			notice = {
				recipient: reward.recipient,
				recipientId: reward.recipientId,
				email: reward.email,
				referralId,
				rewards: [],
				lines: [],
				messageKey: rewardNoticeKey(referralId, reward.recipientId),
			};
			byRecipient.set(reward.recipientId, notice);
		}
		notice.rewards.push(reward);
		notice.lines.push(describeReward(reward));
	}
	return [...byRecipient.values()];
}
