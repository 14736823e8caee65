import { EngineError } from '../shared/errors';
import { REWARD_STATUSES, type RewardStatus } from '../ledger';
import { describe } from '../shared/guards';

/**
 * Reward status transitions. The statuses are the ledger's (`REWARD_STATUSES`): pending (earned,
 * held for the refund window or for a reviewer), approved (due to the participant), fulfilled (handed out: coupon sent, cash paid),
 * reversed (taken back because its referral was reversed).
 */

export const REWARD_TRANSITIONS: ReadonlyArray<{
	from: RewardStatus;
	event: 'approve' | 'fulfil' | 'reverse';
	to: RewardStatus;
}> = Object.freeze([
	{ from: 'pending', event: 'approve', to: 'approved' },
	{ from: 'pending', event: 'reverse', to: 'reversed' },
	{ from: 'approved', event: 'fulfil', to: 'fulfilled' },
	{ from: 'approved', event: 'reverse', to: 'reversed' },
	{ from: 'fulfilled', event: 'reverse', to: 'reversed' },
]);

export function parseRewardStatus(value: unknown, field = 'status'): RewardStatus {
	if (typeof value === 'string' && (REWARD_STATUSES as readonly string[]).includes(value))
		return value as RewardStatus;
	throw new EngineError(
		'unknown_status',
		`${field} must be one of ${REWARD_STATUSES.join(', ')} (got ${describe(value)}).`,
		{ field },
	);
}

export function assertRewardTransition(
	from: RewardStatus,
	to: RewardStatus,
): 'approve' | 'fulfil' | 'reverse' {
	const source = parseRewardStatus(from, 'from');
	const target = parseRewardStatus(to, 'to');
	const move = REWARD_TRANSITIONS.find((t) => t.from === source && t.to === target);
	if (!move) {
		const targets = REWARD_TRANSITIONS.filter((t) => t.from === source).map((t) => `"${t.to}"`);
		const legal = targets.length
			? `from "${source}" a reward can only go to ${targets.join(', ')}`
			: `"${source}" is final`;
		throw new EngineError(
			'illegal_transition',
			`A reward cannot go from "${source}" to "${target}": ${legal}.`,
			{
				field: 'status',
				details: {
					from: source,
					attempted: target,
					legalTargets: targets.map((t) => t.slice(1, -1)),
				},
			},
		);
	}
	return move.event;
}
