import { describe, expect, it } from 'vitest';

import { assertRewardTransition, dueForApproval, REWARD_STATUSES, type RewardStatus } from '../../../engine/rewards/lifecycle';

const LEGAL: Array<[RewardStatus, RewardStatus, string]> = [
	['pending', 'approved', 'approve'],
	['pending', 'reversed', 'reverse'],
	['approved', 'fulfilled', 'fulfil'],
	['approved', 'reversed', 'reverse'],
	['fulfilled', 'reversed', 'reverse'],
];

describe('reward statuses', () => {
	it.each(LEGAL)('%s → %s is legal (%s)', (from, to, event) => {
		expect(assertRewardTransition(from, to)).toBe(event);
	});

	const illegal = REWARD_STATUSES.flatMap((from) => REWARD_STATUSES.map((to) => [from, to] as const)).filter(
		([from, to]) => !LEGAL.some(([f, t]) => f === from && t === to),
	);

	it.each(illegal)('%s → %s is illegal', (from, to) => {
		expect(() => assertRewardTransition(from, to)).toThrow(expect.objectContaining({ code: 'illegal_transition' }));
	});

	it('names the legal targets', () => {
		expect(() => assertRewardTransition('pending', 'fulfilled')).toThrow(/can only go to "approved", "reversed"/);
		expect(() => assertRewardTransition('reversed', 'approved')).toThrow(/"reversed" is final/);
	});
});

describe('rewards due for approval', () => {
	const now = Date.UTC(2026, 4, 1);
	const rewards = [
		{ id: 'a', status: 'pending' as const, holdUntil: now },
		{ id: 'b', status: 'pending' as const, holdUntil: now + 1 },
		{ id: 'c', status: 'pending' as const, holdUntil: now - 5000 },
		{ id: 'd', status: 'approved' as const, holdUntil: now - 5000 },
		{ id: 'e', status: 'pending' as const },
		{ id: 'f', status: 'pending' as const, holdUntil: null },
	];

	it('returns pending rewards whose hold ended (inclusive), oldest first; manual ones are never due', () => {
		expect(dueForApproval(rewards, now).map((r) => r.id)).toEqual(['c', 'a']);
		expect(dueForApproval(rewards, new Date(now + 1).toISOString()).map((r) => r.id)).toEqual(['c', 'a', 'b']);
	});
});
