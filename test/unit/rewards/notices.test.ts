import { describe, expect, it } from 'vitest';
import { describeReward, rewardNotices } from '../../../engine/rewards/notices';
import type { RewardItem } from '../../../engine/rewards/items';

const reward = (over: Partial<RewardItem>): RewardItem => ({
	id: 1,
	recipient: 'referrer',
	recipientId: 7,
	email: 'ann@example.com',
	kind: 'points',
	points: 100,
	rule: 'r',
	status: 'approved',
	holdUntil: null,
	earnedBy: null,
	referralId: 3,
	...over,
});

describe('reward notices', () => {
	it('describes every kind of reward in words', () => {
		expect(describeReward(reward({ kind: 'points', points: 100 }))).toBe('100 points');
		expect(
			describeReward(reward({ kind: 'coupon', amount: 20, currency: 'EUR', code: 'THANKS-1' })),
		).toBe('a 20.00 EUR coupon: THANKS-1');
		expect(describeReward(reward({ kind: 'coupon', percentOff: 15 }))).toBe(
			'a 15% coupon (its code follows once the refund window has passed)',
		);
		expect(describeReward(reward({ kind: 'cash', amount: 5.5, currency: 'USD' }))).toBe('5.50 USD');
		expect(describeReward(reward({ kind: 'badge', badge: 'Gold' }))).toBe('the Gold badge');
		expect(describeReward(reward({ kind: 'tier', tier: 'Gold' }))).toBe('the Gold tier');
		expect(describeReward(reward({ kind: 'custom', label: 'Free T-shirt' }))).toBe('Free T-shirt');
		expect(describeReward(reward({ kind: 'custom', customType: 'swag' }))).toBe('swag');
	});

	it('groups the new rewards per person in award order, leaving out replays and people without email', () => {
		const rewards = [
			reward({ id: 1, recipientId: 7, points: 100 }),
			reward({ id: 2, recipient: 'referee', recipientId: 8, email: 'bob@example.org', points: 50 }),
			reward({ id: 3, recipientId: 7, kind: 'badge', badge: 'Gold' }),
			reward({ id: 4, recipientId: 7, points: 5, replayed: true }),
			reward({ id: 5, recipient: 'referee', recipientId: 9, email: null }),
		];
		const notices = rewardNotices(3, rewards);
		expect(
			notices.map((n) => [n.email, n.recipient, n.lines, n.rewards.map((r) => r.id), n.messageKey]),
		).toEqual([
			[
				'ann@example.com',
				'referrer',
				['100 points', 'the Gold badge'],
				[1, 3],
				'referral-3-rewarded-7',
			],
			['bob@example.org', 'referee', ['50 points'], [2], 'referral-3-rewarded-8'],
		]);
		expect(
			rewardNotices(
				3,
				rewards.map((r) => ({ ...r, replayed: true })),
			),
		).toEqual([]);
	});

	it("with the evaluation's notice ids, a replay notifies like the first run: rewards an earlier run of it wrote count, others do not", () => {
		const rewards = [
			reward({ id: 1, recipientId: 7, points: 100, replayed: true }),
			reward({
				id: 2,
				recipient: 'referee',
				recipientId: 8,
				email: 'bob@example.org',
				points: 50,
				replayed: true,
			}),
			reward({ id: 4, recipientId: 7, points: 5 }),
		];
		expect(rewardNotices(3, rewards, [1, 2, 4]).map((n) => [n.email, n.lines])).toEqual([
			['ann@example.com', ['100 points', '5 points']],
			['bob@example.org', ['50 points']],
		]);
		// Written under another program (an edit added the 5 points): only the 5 points are news.
		expect(rewardNotices(3, rewards, [4]).map((n) => [n.email, n.lines])).toEqual([
			['ann@example.com', ['5 points']],
		]);
		expect(rewardNotices(3, rewards, [])).toEqual([]);
	});
});
