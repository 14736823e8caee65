import { describe, expect, it } from 'vitest';

import { REWARD_STATUSES, type RewardStatus } from '../../../engine/ledger';
import { assertRewardTransition } from '../../../engine/rewards/lifecycle';

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

	const illegal = REWARD_STATUSES.flatMap((from) =>
		REWARD_STATUSES.map((to) => [from, to] as const),
	).filter(([from, to]) => !LEGAL.some(([f, t]) => f === from && t === to));

	it.each(illegal)('%s → %s is illegal', (from, to) => {
		expect(() => assertRewardTransition(from, to)).toThrow(
			expect.objectContaining({ code: 'illegal_transition' }),
		);
	});

	it('names the legal targets', () => {
		expect(() => assertRewardTransition('pending', 'fulfilled')).toThrow(
			/can only go to "approved", "reversed"/,
		);
		expect(() => assertRewardTransition('reversed', 'approved')).toThrow(/"reversed" is final/);
	});
});
