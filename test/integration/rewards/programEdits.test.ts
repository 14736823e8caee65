/* Program edits between evaluations (#13.3), against a real ledger on SQLite and PostgreSQL: a
 * per-referral rule's identity is decided by the engine (its key, from what it gives), so
 * reordering, renaming, adding and changing rules never pays a referral twice for one rule slot
 * and never skips a new rule; awards written before rule keys existed are recognised. */
import { describe, expect, it } from 'vitest';
import { RewardService } from '../../../engine/rewards/evaluate';
import { rewardIdempotencyKey } from '../../../engine/rewards/plan';
import { type RewardProgramConfig } from '../../../engine/rewards/program';
import { IN_CI, ledgerBackends, pgAvailability } from '../../support/databases';
import { createRandom as prng } from '../../../engine/scoring/random';

const { available } = pgAvailability();
const backends = ledgerBackends('edits_test');

type Rule = { id?: string; side: 'referrer' | 'referee'; kind: 'points' | 'cash'; value: number };

function program(rules: Rule[]): RewardProgramConfig {
	return {
		programId: 'default',
		currency: 'EUR',
		rules: rules.map((r) => ({
			...(r.id ? { id: r.id } : {}),
			type: 'per_referral',
			side: r.side,
			on: 'referral_qualified',
			reward:
				r.kind === 'points'
					? { kind: 'points', points: r.value }
					: { kind: 'cash', amount: r.value },
		})) as RewardProgramConfig['rules'],
	};
}

/** A small deterministic PRNG (mulberry32), so a failing case can be rerun from its seed. */
for (const [name, open] of backends) {
	describe.skipIf(name === 'PostgreSQL' && !available && !IN_CI)(`program edits on ${name}`, () => {
		const world = async () => {
			const ledger = await open();
			await ledger.ensureProgram({ id: 'default' });
			let n = 0;
			const person = async (email: string) =>
				(await ledger.enrolParticipant({ programId: 'default', email })).participant.id;
			const qualified = async (referrerId: number) => {
				n += 1;
				const referee = await person(`friend${n}@example.com`);
				const { referral } = await ledger.recordReferral({
					programId: 'default',
					referrerId,
					refereeId: referee,
					status: 'pending',
				});
				await ledger.qualifyReferral({
					programId: 'default',
					referralId: referral.id,
					orderId: `order-${n}`,
					amount: 80,
					currency: 'EUR',
					fromStatuses: ['pending'],
				});
				return { referralId: referral.id, refereeId: referee };
			};
			const points = (id: number) =>
				ledger.pointsBalance({ programId: 'default', participantId: id });
			const rewardsOf = (referralId: number) =>
				ledger.listRewards({ programId: 'default', referralId, limit: 1000 });
			return { ledger, person, qualified, points, rewardsOf };
		};

		it('an unnamed 5-point rule added above the 100-point rule pays 5, not 100 again (the reported case)', async () => {
			const { ledger, person, qualified, points, rewardsOf } = await world();
			const ann = await person('ann@example.com');
			const { referralId } = await qualified(ann);
			await new RewardService(
				ledger,
				program([{ side: 'referrer', kind: 'points', value: 100 }]),
			).evaluateReferral(referralId);
			expect(await points(ann)).toBe(100);
			const edited = new RewardService(
				ledger,
				program([
					{ side: 'referrer', kind: 'points', value: 5 },
					{ side: 'referrer', kind: 'points', value: 100 },
				]),
			);
			const result = await edited.evaluateReferral(referralId);
			expect(await points(ann)).toBe(105);
			expect(result.rewards.map((r) => [r.points, r.replayed])).toEqual([
				[5, false],
				[100, true],
			]);
			expect((await rewardsOf(referralId)).map((r) => r.amount).sort((a, b) => a! - b!)).toEqual([
				5, 100,
			]);
			// Replaying the edited program answers the same and writes nothing.
			const again = await edited.evaluateReferral(referralId);
			expect(again.rewards.map((r) => [r.id, r.points, r.replayed])).toEqual(
				result.rewards.map((r) => [r.id, r.points, true]),
			);
			expect(await points(ann)).toBe(105);
		});

		it('reordering, renaming and changing the amount pay nothing again; the changed amount applies to new referrals', async () => {
			const { ledger, person, qualified, points } = await world();
			const ann = await person('ann@example.com');
			const first = await qualified(ann);
			const v1 = program([
				{ id: 'welcome', side: 'referrer', kind: 'points', value: 100 },
				{ side: 'referee', kind: 'points', value: 50 },
			]);
			await new RewardService(ledger, v1).evaluateReferral(first.referralId);
			const v2 = program([
				{ side: 'referee', kind: 'points', value: 50 },
				{ id: 'thanks', side: 'referrer', kind: 'points', value: 100 },
			]);
			await new RewardService(ledger, v2).evaluateReferral(first.referralId);
			expect([await points(ann), await points(first.refereeId)]).toEqual([100, 50]);
			const v3 = program([
				{ side: 'referee', kind: 'points', value: 50 },
				{ id: 'thanks', side: 'referrer', kind: 'points', value: 150 },
			]);
			const edited = await new RewardService(ledger, v3).evaluateReferral(first.referralId);
			expect(edited.rewards.map((r) => [r.points, r.rule, r.replayed])).toEqual([
				[50, 'referee-points', true],
				[100, 'welcome', true],
			]);
			expect(await points(ann)).toBe(100);
			const second = await qualified(ann);
			await new RewardService(ledger, v3).evaluateReferral(second.referralId);
			expect(await points(ann)).toBe(250);
		});

		it('awards written before rule keys (positional names) are recognised after the upgrade: nothing is paid again', async () => {
			const { ledger, person, qualified, points, rewardsOf } = await world();
			const ann = await person('ann@example.com');
			const { referralId, refereeId } = await qualified(ann);
			// What the previous version wrote for the form [referrer 100, referee 50, referrer 100 (unnamed: "referrer-points-2")].
			const legacy = async (
				recipientId: number,
				side: 'referrer' | 'referee',
				rule: string,
				value: number,
			) =>
				await ledger.awardReward({
					programId: 'default',
					recipientId,
					referralId,
					side,
					rule,
					kind: 'points',
					amount: value,
					status: 'approved',
					metadata: {
						ruleType: 'per_referral',
						earnedBy: { rule, event: 'referral_qualified', referralIds: [String(referralId)] },
						evaluation: `referral_qualified:${referralId}`,
						earnedAt: Date.now(),
						points: value,
					},
					points: { delta: value, reason: 'reward' },
					idempotencyKey: rewardIdempotencyKey(
						'default',
						String(recipientId),
						rule,
						`referral_qualified:${referralId}`,
					),
				});
			await legacy(ann, 'referrer', 'referrer-points', 100);
			await legacy(refereeId, 'referee', 'referee-points', 50);
			await legacy(ann, 'referrer', 'referrer-points-2', 100);
			const same = program([
				{ side: 'referrer', kind: 'points', value: 100 },
				{ side: 'referee', kind: 'points', value: 50 },
				{ side: 'referrer', kind: 'points', value: 100 },
			]);
			const result = await new RewardService(ledger, same).evaluateReferral(referralId);
			expect(result.rewards.every((r) => r.replayed)).toBe(true);
			expect(result.rewards.map((r) => r.rule)).toEqual([
				'referrer-points',
				'referee-points',
				'referrer-points-2',
			]);
			expect([await points(ann), await points(refereeId)]).toEqual([200, 50]);
			// The reported edit on an upgraded ledger: a 5-point rule added above pays 5 once.
			const edited = program([
				{ side: 'referrer', kind: 'points', value: 5 },
				...same.rules.map((r) => ({
					side: (r as { side: 'referrer' }).side,
					kind: 'points' as const,
					value: (r as { reward: { points: number } }).reward.points,
				})),
			]);
			await new RewardService(ledger, edited).evaluateReferral(referralId);
			await new RewardService(ledger, edited).evaluateReferral(referralId);
			expect([await points(ann), await points(refereeId)]).toEqual([205, 50]);
			expect(await rewardsOf(referralId)).toHaveLength(4);
		});

		it('property: random edits of the program between evaluations of the same referrals never double-pay and never skip a new rule', async () => {
			const { ledger, person, qualified, rewardsOf } = await world();
			const runs = name === 'SQLite' ? 12 : 6;
			for (let seed = 1; seed <= runs; seed++) {
				const random = prng(seed * 7919);
				const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)];
				const newRule = (): Rule => ({
					side: pick(['referrer', 'referrer', 'referee'] as const),
					kind: pick(['points', 'points', 'cash'] as const),
					value: pick([5, 10, 100]),
				});
				const referrerId = await person(`referrer${seed}@example.com`);
				const referrals = [await qualified(referrerId), await qualified(referrerId)];
				let rules: Rule[] = [newRule()];
				/** Per referral, recipient side and kind: the most rules that group had in one version. */
				const most = new Map<string, number>();
				const context = () => `seed ${seed}, rules ${JSON.stringify(rules)}`;
				for (let step = 0; step < 8; step++) {
					const groups = new Map<string, number>();
					for (const r of rules)
						groups.set(`${r.side}:${r.kind}`, (groups.get(`${r.side}:${r.kind}`) ?? 0) + 1);
					for (const [group, count] of groups)
						most.set(group, Math.max(most.get(group) ?? 0, count));
					const service = new RewardService(ledger, program(rules));
					for (const { referralId } of referrals) {
						const result = await service.evaluateReferral(referralId);
						// Every rule is answered by its own award, new or already paid.
						expect(result.rewards, context()).toHaveLength(rules.length);
						expect(new Set(result.rewards.map((r) => r.id)).size, context()).toBe(rules.length);
						const stored = await rewardsOf(referralId);
						for (const [group, count] of groups) {
							const [side, kind] = group.split(':');
							const held = stored.filter((r) => r.side === side && r.kind === kind).length;
							expect(held, `${context()}: ${group}`).toBeGreaterThanOrEqual(count);
							expect(held, `${context()}: ${group}`).toBeLessThanOrEqual(most.get(group)!);
						}
						for (const r of stored)
							expect(most.get(`${r.side}:${r.kind}`), context()).toBeDefined();
					}
					// The edit: add (anywhere), remove, change an amount, rename, or reorder.
					const edit = pick(['add', 'add', 'remove', 'amount', 'rename', 'reorder'] as const);
					const at = Math.floor(random() * rules.length);
					if (edit === 'add') rules.splice(Math.floor(random() * (rules.length + 1)), 0, newRule());
					else if (edit === 'remove' && rules.length > 1) rules.splice(at, 1);
					else if (edit === 'amount') rules[at] = { ...rules[at], value: pick([5, 10, 100, 250]) };
					else if (edit === 'rename')
						rules[at] = {
							...rules[at],
							id: rules.some((r) => r.id === `rule-${step}`) ? undefined : `rule-${step}`,
						};
					else if (edit === 'reorder')
						rules = rules
							.map((r) => [random(), r] as const)
							.sort((a, b) => a[0] - b[0])
							.map(([, r]) => r);
				}
			}
		}, 240_000);
	});
}
