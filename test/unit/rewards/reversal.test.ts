import { describe, expect, it } from 'vitest';

import { EngineError } from '../../../engine/shared/errors';
import { planReversal, type EarnedReward } from '../../../engine/rewards/reversal';
import { rewardIdempotencyKey } from '../../../engine/rewards/plan';

const reward = (id: string, extra: Partial<EarnedReward>): EarnedReward => ({
	id,
	recipientId: 'alice',
	ruleId: 'pts',
	ruleType: 'per_referral',
	kind: 'points',
	status: 'approved',
	points: 100,
	referralIds: ['ref-1'],
	...extra,
});

const base = {
	programId: 'p',
	referralId: 'ref-1',
	balances: { alice: 250, bob: 0 },
	policy: 'allow_negative' as const,
};

describe("reversing a referral's rewards", () => {
	it('reverses pending rewards without touching balances', () => {
		const plan = planReversal({ ...base, rewards: [reward('w1', { status: 'pending' })] });
		expect(plan.reverse).toEqual([{ rewardId: 'w1', from: 'pending', to: 'reversed' }]);
		expect(plan.clawbacks).toEqual([]);
		expect(plan.balancesAfter.alice).toBe(250);
	});

	it('claws back approved and fulfilled points with a stable idempotency key', () => {
		const plan = planReversal({
			...base,
			rewards: [reward('w1', {}), reward('w2', { status: 'fulfilled', points: 50 })],
		});
		expect(plan.reverse.map((r) => [r.rewardId, r.from])).toEqual([
			['w1', 'approved'],
			['w2', 'fulfilled'],
		]);
		expect(plan.clawbacks).toEqual([
			{
				recipientId: 'alice',
				rewardId: 'w1',
				points: -100,
				idempotencyKey: rewardIdempotencyKey('p', 'alice', 'clawback', 'reward:w1'),
				reason: 'referral_reversed',
				referralId: 'ref-1',
			},
			{
				recipientId: 'alice',
				rewardId: 'w2',
				points: -50,
				idempotencyKey: rewardIdempotencyKey('p', 'alice', 'clawback', 'reward:w2'),
				reason: 'referral_reversed',
				referralId: 'ref-1',
			},
		]);
		expect(plan.balancesAfter.alice).toBe(100);
	});

	it('lists handed-out coupons and cash for manual action, and simply reverses approved ones', () => {
		const plan = planReversal({
			...base,
			rewards: [
				reward('c1', {
					kind: 'coupon',
					status: 'fulfilled',
					points: undefined,
					amount: 20,
					currency: 'EUR',
				}),
				reward('c2', {
					kind: 'cash',
					status: 'approved',
					points: undefined,
					amount: 5,
					currency: 'EUR',
				}),
				reward('c3', {
					kind: 'cash',
					status: 'fulfilled',
					points: undefined,
					amount: 5,
					currency: 'EUR',
					recipientId: 'bob',
				}),
			],
		});
		expect(plan.reverse.map((r) => r.rewardId)).toEqual(['c1', 'c2', 'c3']);
		expect(plan.manual.map((m) => [m.rewardId, m.kind, m.amount])).toEqual([
			['c1', 'coupon', 20],
			['c3', 'cash', 5],
		]);
		expect(plan.manual[0].reason).toMatch(/deactivate/);
		expect(plan.clawbacks).toEqual([]);
	});

	it("keeps milestone and status awards, already reversed rewards, and ignores other referrals' rewards", () => {
		const plan = planReversal({
			...base,
			rewards: [
				reward('m1', {
					ruleType: 'milestone',
					ruleId: 'ladder',
					referralIds: ['ref-0', 'ref-1', 'ref-2'],
				}),
				reward('b1', { ruleType: 'status', kind: 'badge', points: undefined }),
				reward('r0', { status: 'reversed' }),
				reward('x1', { referralIds: ['ref-9'] }),
			],
		});
		expect(plan.reverse).toEqual([]);
		expect(plan.kept.map((k) => k.rewardId)).toEqual(['b1', 'm1', 'r0']);
		expect(plan.balancesAfter.alice).toBe(250);
	});

	describe('balance going below zero', () => {
		const rewards = [reward('w1', { points: 200 }), reward('w2', { points: 100 })];

		it('allow_negative takes everything', () => {
			const plan = planReversal({ ...base, rewards });
			expect(plan.balancesAfter.alice).toBe(-50);
			expect(plan.clawbacks.map((c) => c.points)).toEqual([-200, -100]);
			expect(plan.shortfall).toEqual({});
		});

		it('clamp_at_zero takes what is there and reports the shortfall', () => {
			const plan = planReversal({ ...base, rewards, policy: 'clamp_at_zero' });
			expect(plan.balancesAfter.alice).toBe(0);
			expect(plan.clawbacks.map((c) => c.points)).toEqual([-200, -50]);
			expect(plan.shortfall).toEqual({ alice: 50 });
			const empty = planReversal({
				...base,
				rewards: [reward('w1', { recipientId: 'bob' })],
				policy: 'clamp_at_zero',
			});
			expect(empty.clawbacks).toEqual([]);
			expect(empty.shortfall).toEqual({ bob: 100 });
			expect(empty.reverse).toHaveLength(1);
		});

		it('refuse throws and plans nothing', () => {
			try {
				planReversal({ ...base, rewards, policy: 'refuse' });
				expect.unreachable();
			} catch (error) {
				expect(error).toBeInstanceOf(EngineError);
				expect((error as EngineError).code).toBe('negative_balance');
				expect((error as EngineError).details).toEqual({
					recipientId: 'alice',
					balance: 50,
					points: 100,
				});
			}
		});

		it('refuse allows a reversal that lands exactly on zero', () => {
			const plan = planReversal({
				...base,
				rewards: [reward('w1', { points: 250 })],
				policy: 'refuse',
			});
			expect(plan.balancesAfter.alice).toBe(0);
		});
	});

	it('gives the same plan whatever order the rewards come in', () => {
		const rewards = [reward('w2', { points: 100 }), reward('w1', { points: 200 })];
		expect(planReversal({ ...base, rewards, policy: 'clamp_at_zero' })).toEqual(
			planReversal({ ...base, rewards: [...rewards].reverse(), policy: 'clamp_at_zero' }),
		);
	});

	it('refuses bad input', () => {
		expect(() => planReversal({ ...base, rewards: [], policy: 'maybe' as never })).toThrow(
			expect.objectContaining({ field: 'negativeBalancePolicy' }),
		);
		expect(() =>
			planReversal({ ...base, rewards: [reward('w1', { status: 'paid' as never })] }),
		).toThrow(expect.objectContaining({ code: 'unknown_status' }));
		expect(() => planReversal({ ...base, rewards: [reward('w1', { points: 0 })] })).toThrow(
			expect.objectContaining({ field: 'rewards[0].points' }),
		);
		expect(() => planReversal({ ...base, rewards: 'w1' as never })).toThrow(
			expect.objectContaining({ field: 'rewards' }),
		);
	});
});
