/* Issue #18, reward caps independent of a referrer's history: the ledger's cap usage counters
 * (migration 13) stay exact. Random sequences from fixed seeds (a failure names its seed and steps)
 * of awards (both sides, every kind, two rules, points, money in two currencies or none, earned at
 * random times over four days, some without an earned time or with one that is not a number),
 * transitions (approve, fulfil, reverse) and replays, on SQLite and PostgreSQL. After every step,
 * for each participant and random windows (whole days, in a time zone half an hour off UTC,
 * rolling windows ending at any millisecond, open-ended and all time), the usage the ledger reads
 * equals a recomputation from the rewards. Then the counters are dropped and migration 13 refills
 * them from the rewards. (The counters as reward evaluation reads them, through refunds and
 * reversals of referrals: test/integration/rewards/counters.test.ts.) */
import { describe, expect, it } from 'vitest';
import { type LedgerStore, type RewardRecord } from '../../engine/ledger';
import { LATEST_VERSION } from '../../engine/ledger/schema';
import { capRanges } from '../../engine/ledger/tables/counters';
import { periodWindow } from '../../engine/shared/periods';
import { capUsageFromRewards, rounded } from '../support/capUsage';
import { pgAvailability, reopenableLedgerBackends } from '../support/databases';
import { createRandom as random } from '../../engine/scoring/random';

const { available } = pgAvailability();

const SEQUENCES = 4;
const STEPS = 40;
const DAY = 86_400_000;
const T0 = Date.UTC(2026, 2, 28, 21, 7, 13, 411);

const backends = reopenableLedgerBackends('cap_usage');

describe('capRanges', () => {
	it('covers a window exactly, with whole days, then minutes, then milliseconds at its edges', () => {
		const rnd = random(7);
		for (let i = 0; i < 2000; i++) {
			const start = T0 + Math.floor(rnd() * 3 * DAY);
			const end = start + Math.floor(rnd() * (rnd() < 0.3 ? 120_000 : 3 * DAY));
			const ranges = capRanges(start, end);
			// Disjoint ranges of whole buckets that add up to [start, end).
			let covered = 0;
			for (const r of ranges) {
				expect(r.from! % r.span, `${start}..${end}`).toBe(0);
				expect(r.to! % r.span, `${start}..${end}`).toBe(0);
				expect(r.from! >= start && r.to! <= end && r.from! < r.to!).toBe(true);
				covered += r.to! - r.from!;
			}
			expect(covered).toBe(end - start);
			expect(ranges.length).toBeLessThanOrEqual(5);
		}
		expect(capRanges(null, null)).toEqual([{ span: 0, from: 0, to: 1 }]);
		expect(capRanges(5 * DAY, 7 * DAY)).toEqual([{ span: DAY, from: 5 * DAY, to: 7 * DAY }]);
	});
});

for (const [name, open] of backends) {
	describe.skipIf(name === 'PostgreSQL' && !available)(`reward cap usage on ${name}`, () => {
		it(`${SEQUENCES} random sequences of ${STEPS} awards and transitions: the cap usage equals the rewards after every step, and migration 13 refills it`, async () => {
			const { ledger, reopenAfter } = await open();
			const programs: Array<{ programId: string; participants: number[] }> = [];
			let windowsChecked = 0;
			for (let seed = 1; seed <= SEQUENCES; seed++) {
				const rnd = random(seed * 7919);
				const pick = <T>(list: readonly T[]): T => list[Math.floor(rnd() * list.length)];
				const programId = `cap${seed}`;
				await ledger.ensureProgram({ id: programId });
				const participants: number[] = [];
				for (const email of ['ana@example.com', 'ben@example.com'])
					participants.push((await ledger.enrolParticipant({ programId, email })).participant.id);
				programs.push({ programId, participants });
				const rewards: RewardRecord[] = [];
				const log: string[] = [];
				for (let i = 0; i < STEPS; i++) {
					const r = rnd();
					if (rewards.length > 0 && r < 0.1) {
						// A replay of an award: the same key writes nothing and moves nothing.
						const again = pick(rewards);
						log.push(`replay ${again.idempotencyKey}`);
						await ledger.awardReward({
							programId,
							recipientId: again.recipientId,
							side: again.side,
							rule: again.rule,
							kind: again.kind,
							...(again.amount === null ? {} : { amount: again.amount }),
							...(again.currency === null ? {} : { currency: again.currency }),
							status: 'pending',
							metadata: again.metadata,
							idempotencyKey: again.idempotencyKey,
						});
					} else if (rewards.length > 0 && r < 0.45) {
						const target = pick(rewards);
						const current = (await ledger.getReward({ programId, id: target.id }))!;
						const to =
							current.status === 'pending'
								? pick(['approved', 'reversed'] as const)
								: current.status === 'approved'
									? pick(['fulfilled', 'reversed'] as const)
									: current.status === 'fulfilled'
										? 'reversed'
										: null;
						if (to === null) continue;
						log.push(`${target.id} ${current.status}->${to}`);
						await ledger.transitionReward({
							programId,
							rewardId: target.id,
							from: current.status,
							to,
						});
					} else {
						const kind = pick([
							'points',
							'points',
							'cash',
							'coupon',
							'custom',
							'badge',
							'tier',
						] as const);
						const money =
							kind === 'cash' || kind === 'coupon' || (kind === 'custom' && rnd() < 0.5);
						const earned = rnd();
						const metadata: Record<string, unknown> =
							earned < 0.1
								? {}
								: earned < 0.15
									? { earnedAt: 'yesterday' }
									: { earnedAt: T0 + Math.floor(rnd() * 4 * DAY) + (rnd() < 0.2 ? 0.5 : 0) };
						const key = `k${seed}-${i}`;
						log.push(`award ${key} ${kind}`);
						const { reward } = await ledger.awardReward({
							programId,
							recipientId: pick(participants),
							side: rnd() < 0.85 ? 'referrer' : 'referee',
							rule: pick(['per-referral', 'milestone']),
							kind,
							...(kind === 'points'
								? { amount: pick([10, 25, 100]) }
								: money
									? { amount: pick([5, 12.5, 0.1, 0.2]), currency: pick(['EUR', 'EUR', 'USD']) }
									: {}),
							status: pick(['pending', 'approved'] as const),
							metadata,
							idempotencyKey: key,
						});
						rewards.push(reward);
					}
					const where = `seed ${seed}, steps ${log.join(' ; ')}`;
					windowsChecked += await checkUsage(ledger, programId, participants, rnd, where);
				}
			}
			expect(windowsChecked).toBeGreaterThan(1000);
			// Migration 13 on a ledger holding these rewards but no cap usage yet fills it exactly.
			const migrated = await reopenAfter([
				'DROP TABLE reward_cap_usage',
				'DELETE FROM ledger_migrations WHERE version = 13',
			]);
			expect(await migrated.schemaVersion()).toBe(LATEST_VERSION);
			const rnd = random(99);
			for (const { programId, participants } of programs)
				await checkUsage(
					migrated,
					programId,
					participants,
					rnd,
					`after migration 13, ${programId}`,
				);
		}, 600_000);
	});
}

/** The ledger's cap usage against the rewards, for each participant over random windows; how many were compared. */
async function checkUsage(
	ledger: LedgerStore,
	programId: string,
	participants: number[],
	rnd: () => number,
	where: string,
): Promise<number> {
	let checked = 0;
	for (const participantId of participants) {
		const rewards = await ledger.listRewards({
			programId,
			recipientId: participantId,
			limit: 1000,
		});
		const at = T0 + Math.floor(rnd() * 4 * DAY);
		const windows: Array<[number | null, number | null]> = [
			[null, null],
			[at, null],
			[null, at],
			...(['day', 'week', 'month'] as const).flatMap((period) =>
				[
					periodWindow(period, at, { timeZone: 'Asia/Kolkata' }),
					periodWindow(period, at, { timeZone: 'UTC' }),
					periodWindow(period, at, { mode: 'rolling' }),
				].map((w) => [w.start, w.end] as [number | null, number | null]),
			),
			[at, at + Math.floor(rnd() * 200_000)],
		];
		for (const [start, end] of windows) {
			const actual = rounded(await ledger.capUsage({ programId, participantId, start, end }));
			expect(actual, `${where}: participant ${participantId}, window ${start}..${end}`).toEqual(
				capUsageFromRewards(rewards, start, end),
			);
			checked++;
		}
	}
	return checked;
}
