/* Issue #13 defect 4: which badges and tiers a participant still holds after a refund (engine/rewards/standing.ts). */
import { describe, expect, it } from 'vitest';
import type { PointsEntry, RewardRecord } from '../../../engine/ledger';
import { planAwards } from '../../../engine/rewards/plan';
import { validateRewardProgram } from '../../../engine/rewards/validateProgram';
import {
	heldRecognitions,
	lifetimePointsOf,
	lostCounts,
	planStanding,
	snapshotFor,
	type HeldRecognition,
} from '../../../engine/rewards/standing';

const program = validateRewardProgram({
	programId: 'p',
	rules: [
		{
			id: 'tiers',
			type: 'status',
			award: 'tier',
			metric: 'points',
			levels: [
				{ name: 'Bronze', min: 60 },
				{ name: 'Silver', min: 120 },
				{ name: 'Gold', min: 180, whenBelowMinimum: 'keep' },
			],
		},
		{
			id: 'badges',
			type: 'status',
			award: 'badge',
			metric: 'points',
			levels: [
				{ name: 'Bronze', min: 60 },
				{ name: 'Silver', min: 120 },
			],
		},
		{
			id: 'm',
			type: 'milestone',
			metric: 'qualified_referrals',
			milestones: [
				{ threshold: 3, badge: 'Three' },
				{ threshold: 5, tier: 'Five', whenBelowMinimum: 'keep' },
			],
		},
	],
});

const held = (
	rewardId: number,
	ruleId: string,
	kind: 'badge' | 'tier',
	name: string,
): HeldRecognition => ({
	rewardId,
	ruleId,
	kind,
	name,
	status: 'approved',
	standing: snapshotFor(program, ruleId, kind, name),
});

describe('standing', () => {
	it('validates whenBelowMinimum and names the rule and field', () => {
		expect(() =>
			validateRewardProgram({
				programId: 'p',
				rules: [
					{
						id: 't',
						type: 'status',
						award: 'tier',
						metric: 'points',
						levels: [{ name: 'A', min: 1, whenBelowMinimum: 'drop' }],
					},
				],
			}),
		).toThrow(/Rule "t": whenBelowMinimum must be one of "demote", "keep" \(got "drop"\)/);
		expect(() =>
			validateRewardProgram({
				programId: 'p',
				rules: [
					{
						id: 'm',
						type: 'milestone',
						metric: 'qualified_referrals',
						milestones: [
							{ threshold: 1, reward: { kind: 'points', points: 5 }, whenBelowMinimum: 'keep' },
						],
					},
				],
			}),
		).toThrow(/whenBelowMinimum applies to badges and tiers only/);
	});

	it('at each threshold: just below loses (demote), exactly at and above hold; keep never loses', () => {
		const all = [
			held(1, 'tiers', 'tier', 'Bronze'),
			held(2, 'badges', 'badge', 'Bronze'),
			held(3, 'tiers', 'tier', 'Silver'),
			held(4, 'badges', 'badge', 'Silver'),
		];
		expect(planStanding(all, { points: 121, qualified_referrals: 0 })).toMatchObject({
			lost: [],
			granted: [],
			tier: 'Silver',
			badges: ['Bronze', 'Silver'],
		});
		expect(planStanding(all, { points: 120, qualified_referrals: 0 })).toMatchObject({
			lost: [],
			tier: 'Silver',
		});
		const below = planStanding(all, { points: 119, qualified_referrals: 0 });
		expect(below.lost.map((l) => [l.kind, l.name, l.value, l.min])).toEqual([
			['tier', 'Silver', 119, 120],
			['badge', 'Silver', 119, 120],
		]);
		expect(below).toMatchObject({ granted: [], tier: 'Bronze', badges: ['Bronze'] });
		expect(planStanding(all, { points: 59, qualified_referrals: 0 }).lost).toHaveLength(4);
		// Gold is Keep: it stays at any value.
		expect(
			planStanding([held(9, 'tiers', 'tier', 'Gold')], { points: 0, qualified_referrals: 0 }),
		).toMatchObject({ lost: [], tier: 'Gold' });
	});

	it('a lost tier leaves the highest tier of its rule still reached, granted when not held', () => {
		const plan = planStanding(
			[held(1, 'tiers', 'tier', 'Bronze'), held(5, 'tiers', 'tier', 'Silver')],
			{ points: 100, qualified_referrals: 0 },
		);
		expect(plan).toMatchObject({ granted: [], tier: 'Bronze' });
		// Jumped straight to Silver (no Bronze award), then fell to 70: Bronze is granted.
		const jumped = planStanding([held(5, 'tiers', 'tier', 'Silver')], {
			points: 70,
			qualified_referrals: 0,
		});
		expect(jumped.granted).toEqual([
			expect.objectContaining({
				ruleId: 'tiers',
				name: 'Bronze',
				min: 60,
				standing: expect.objectContaining({ min: 60, whenBelowMinimum: 'demote' }),
			}),
		]);
		expect(jumped.tier).toBe('Bronze');
		expect(
			planStanding([held(5, 'tiers', 'tier', 'Silver')], { points: 10, qualified_referrals: 0 }),
		).toMatchObject({ granted: [], tier: null });
	});

	it('milestone badges and tiers follow qualified referrals; awards without a snapshot (older releases) are kept', () => {
		expect(
			planStanding([held(1, 'm', 'badge', 'Three')], { points: 0, qualified_referrals: 2 }).lost,
		).toHaveLength(1);
		expect(
			planStanding([held(1, 'm', 'badge', 'Three')], { points: 0, qualified_referrals: 3 }).lost,
		).toHaveLength(0);
		expect(
			planStanding([held(2, 'm', 'tier', 'Five')], { points: 0, qualified_referrals: 0 }).lost,
		).toHaveLength(0);
		expect(
			planStanding(
				[{ rewardId: 1, ruleId: 'old', kind: 'tier', name: 'Gold', status: 'approved' }],
				{ points: 0, qualified_referrals: 0 },
			),
		).toMatchObject({ lost: [], tier: 'Gold' });
	});

	it('lifetime points count credits and claw-backs, not redemptions; lost counts and held recognitions come from the records', () => {
		const entry = (delta: number, reason: string) => ({ delta, reason }) as PointsEntry;
		expect(
			lifetimePointsOf([entry(100, 'reward'), entry(-30, 'redeemed'), entry(-60, 'clawback')]),
		).toBe(40);
		const record = (
			id: number,
			kind: string,
			status: string,
			metadata: Record<string, unknown>,
			rule = 'tiers',
		) => ({ id, kind, status, metadata, rule }) as unknown as RewardRecord;
		const records = [
			record(1, 'tier', 'reversed', { tier: 'Silver' }),
			record(2, 'tier', 'approved', { tier: 'Bronze' }),
			record(3, 'points', 'approved', {}),
		];
		expect(lostCounts(records)).toEqual({ 'tiers|Silver': 1 });
		expect(heldRecognitions(records).map((h) => h.name)).toEqual(['Bronze']);
	});

	it('planAwards stores the snapshot with a badge or tier and gives it a new key when it is reached again after a loss', () => {
		const event = {
			type: 'referral_qualified' as const,
			referralId: '9',
			referrerId: '1',
			refereeId: '2',
			occurredAt: 0,
		};
		const first = planAwards(program, event, { qualifiedCount: 1, lifetimePoints: 130 });
		const silver = first.awards.find((a) => a.kind === 'tier')!;
		expect(silver).toMatchObject({
			tier: 'Silver',
			standing: {
				metric: 'points',
				min: 120,
				whenBelowMinimum: 'demote',
				ladder: [
					{ name: 'Bronze' },
					{ name: 'Silver' },
					{ name: 'Gold', whenBelowMinimum: 'keep' },
				],
			},
		});
		const again = planAwards(program, event, {
			qualifiedCount: 1,
			lifetimePoints: 130,
			lost: { 'tiers|Silver': 1 },
		}).awards.find((a) => a.kind === 'tier')!;
		expect(again.idempotencyKey).not.toBe(silver.idempotencyKey);
	});
});
