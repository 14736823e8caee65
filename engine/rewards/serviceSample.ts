import type { RewardProgramConfig } from './program';

/**
 * The sample program of the README and the sample workflows: each qualified referral gives the
 * referrer 100 points and the referee 50; the referrer's 3rd qualified referral earns a 20 EUR
 * coupon; the 10th earns the Gold tier and the Gold badge.
 */
export function sampleRewardProgram(programId = 'default', holdingDays = 0): RewardProgramConfig {
	return {
		programId,
		currency: 'EUR',
		// 0 pays at once; e.g. 14 keeps rewards pending for a 14-day refund window (Approve Due Rewards releases them).
		holdingDays,
		rules: [
			{ id: 'referrer-points', type: 'per_referral', side: 'referrer', on: 'referral_qualified', reward: { kind: 'points', points: 100 } },
			{ id: 'referee-points', type: 'per_referral', side: 'referee', on: 'referral_qualified', reward: { kind: 'points', points: 50 } },
			{
				id: 'milestones',
				type: 'milestone',
				metric: 'qualified_referrals',
				milestones: [{ threshold: 3, reward: { kind: 'coupon', amount: 20, couponPrefix: 'THANKS', couponValidDays: 90 } }],
			},
			{ id: 'tiers-by-referrals', type: 'status', award: 'tier', metric: 'qualified_referrals', levels: [{ name: 'Gold', min: 10 }] },
			{ id: 'badges-by-referrals', type: 'status', award: 'badge', metric: 'qualified_referrals', levels: [{ name: 'Gold', min: 10 }] },
		],
	};
}
