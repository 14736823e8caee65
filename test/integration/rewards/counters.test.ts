/* Issue #18, reward evaluation independent of a referrer's history: the ledger's running counters
 * (migration 10: qualified referrals, referred revenue per currency, lifetime points) stay exact.
 * Random sequences from fixed seeds (a failure names its seed and steps) of sign-ups, conversions
 * (qualify, with or without an award), evaluations, partial/full/cancelled refunds, reviews, the
 * reward node's reverse, reassignments to another referrer, point redemptions, program edits and
 * replays of any of them, on SQLite and PostgreSQL. After every step:
 * - every participant's counters equal a recomputation from the history (referrals, the
 *   conversions that qualified them, the points journal), the reference;
 * - every participant's cap usage (migration 13) over the windows of a day, week, month (in a time
 *   zone half an hour off UTC, and rolling) and of all time equals a recomputation from their rewards;
 * - for every qualified referral, the state a reward evaluation reads from the counters equals the
 *   state the history-based computation (the reference, `evaluateFromHistory`) gives, cap usage
 *   included (four caps: per period, per rule, in points, in money; calendar or rolling windows). */
import { describe, expect, it } from 'vitest';
import { LATEST_VERSION } from '../../../engine/ledger/schema';
import { isEngineError } from '../../../engine/shared/errors';
import { type LedgerStore } from '../../../engine/ledger';
import { saveReferralProgram } from '../../../engine/referrals';
import { ReferralService } from '../../../engine/refunds';
import { RewardService } from '../../../engine/rewards/evaluate';
import type { ReferrerState } from '../../../engine/rewards/plan';
import type { RewardProgramConfig } from '../../../engine/rewards/program';
import { SnapshotLoader, type ReferrerSnapshot } from '../../../engine/rewards/snapshot';
import { validateRewardProgram } from '../../../engine/rewards/validateProgram';
import { periodWindow } from '../../../engine/shared/periods';
import { capUsageFromRewards, rounded } from '../../support/capUsage';
import { pgAvailability, reopenableLedgerBackends } from '../../support/databases';
import { createRandom as random } from '../../../engine/scoring/random';

const { available } = pgAvailability();

const SEQUENCES = 8;
const STEPS = 30;
const FRIENDS = 4;

/** The program versions a sequence switches between (an edit): amounts, thresholds, metrics, a cap. */
function programVersion(programId: string, version: number): RewardProgramConfig {
	const points = [100, 70, 120][version];
	const caps =
		version === 2 ? [{ id: 'monthly', period: 'month' as const, maxCount: 2 }] : undefined;
	return {
		programId,
		currency: 'EUR',
		holdingDays: 0,
		...(caps ? { caps } : {}),
		rules: [
			{
				id: 'referrer-points',
				type: 'per_referral',
				side: 'referrer',
				on: 'referral_qualified',
				reward: { kind: 'points', points },
			},
			{
				id: 'referee-points',
				type: 'per_referral',
				side: 'referee',
				on: 'referral_qualified',
				reward: { kind: 'points', points: 50 },
			},
			{
				id: 'cash-back',
				type: 'per_referral',
				side: 'referrer',
				on: 'referral_qualified',
				reward: { kind: 'cash', percentOfOrder: 10 },
			},
			{
				id: 'count',
				type: 'milestone',
				metric: 'qualified_referrals',
				milestones: [{ threshold: version === 1 ? 3 : 2, badge: 'Two' }],
			},
			{
				id: 'every-two',
				type: 'milestone',
				metric: 'qualified_referrals',
				milestones: [{ threshold: 1, repeatEvery: 2, reward: { kind: 'points', points: 5 } }],
			},
			{
				id: 'revenue',
				type: 'milestone',
				metric: 'referred_revenue',
				currency: 'EUR',
				milestones: [{ threshold: 250, reward: { kind: 'points', points: 25 } }],
			},
			{
				id: 'levels',
				type: 'status',
				metric: version === 1 ? 'qualified_referrals' : 'points',
				award: 'tier',
				levels:
					version === 1
						? [
								{ name: 'Silver', min: 1 },
								{ name: 'Gold', min: 3 },
							]
						: [
								{ name: 'Silver', min: 150 },
								{ name: 'Gold', min: 400 },
							],
			},
		],
	} as RewardProgramConfig;
}

type Step =
	| { op: 'signup'; friend: number; via: number }
	| { op: 'convert'; friend: number; amount: number; currency: string; award: boolean }
	| { op: 'evaluate'; friend: number }
	| { op: 'refund'; friend: number; refundedAmount?: number; cancelled?: boolean }
	| { op: 'flag' | 'approve' | 'rewardReverse' | 'reassign'; friend: number }
	| { op: 'redeem'; points: number; n: number }
	| { op: 'edit'; version: number };

const EXPECTED = new Set([
	'unknown_order',
	'unknown_referral',
	'illegal_transition',
	'referral_not_reversed',
	'insufficient_points',
	'invalid_amount',
	'status_changed',
	'order_conflict',
	'not_assessed',
]);

const backends = reopenableLedgerBackends('reward_counters');

for (const [name, open] of backends) {
	describe.skipIf(name === 'PostgreSQL' && !available)(`reward counters on ${name}`, () => {
		it(`${SEQUENCES} random sequences of ${STEPS} events: counters equal the history after every step, and evaluation reads the same state from them`, async () => {
			const { ledger, reopenAfter } = await open();
			const seen = new Set<string>();
			for (let seed = 1; seed <= SEQUENCES; seed++) {
				const rnd = random(seed * 104_729);
				const pick = <T>(list: readonly T[]): T => list[Math.floor(rnd() * list.length)];
				const programId = `c${seed}`;
				await saveReferralProgram(ledger, {
					programId,
					qualification: { minOrderAmount: 30 },
					refundPolicy: pick(['any_refund', 'full_refund_only'] as const),
				});
				const referrals = await ReferralService.open(ledger, programId);
				let version = 0;
				let rewards = new RewardService(ledger, programVersion(programId, version));
				const referrers = [
					await referrals.enrol({ email: 'ana@example.com' }),
					await referrals.enrol({ email: 'ben@example.com' }),
				];
				const emails = Array.from({ length: FRIENDS }, (_, i) => `friend${i}@example.org`);
				const refIds = new Map<number, number>();
				const orders = new Map<number, { amount: number; currency: string }>();
				const done: Step[] = [];
				const log: string[] = [];

				const run = async (step: Step): Promise<void> => {
					const f = 'friend' in step ? step.friend : 0;
					const id = refIds.get(f);
					switch (step.op) {
						case 'signup': {
							const out = await referrals.enrol({
								email: emails[f],
								referralCode: referrers[step.via].participant.code!,
								device: `device-${f}`,
							});
							if (out.referral) refIds.set(f, out.referral.id);
							return;
						}
						case 'convert':
							if (!orders.has(f)) orders.set(f, { amount: step.amount, currency: step.currency });
							await referrals.qualify({
								email: emails[f],
								orderId: `O-${f}`,
								...orders.get(f)!,
							});
							if (step.award && id !== undefined) await rewards.evaluateReferral(id);
							return;
						case 'evaluate':
							if (id !== undefined) await rewards.evaluateReferral(id);
							return;
						case 'refund':
							await referrals.reverse({
								orderId: `O-${f}`,
								refundedAmount: step.refundedAmount,
								cancelled: step.cancelled,
							});
							return;
						case 'flag':
							if (id !== undefined) await referrals.flag(id);
							return;
						case 'approve':
							if (id !== undefined) await referrals.approve(id);
							return;
						case 'rewardReverse':
							if (id !== undefined) await rewards.reverseReferral(id);
							return;
						case 'reassign': {
							if (id === undefined) return;
							const referral = (await ledger.getReferral({ programId, id }))!;
							const to = referrers.find((r) => r.participant.id !== referral.referrerId)!;
							await ledger.reassignReferral({
								programId,
								referralId: id,
								fromReferrerId: referral.referrerId,
								toReferrerId: to.participant.id,
								fromStatuses: ['pending', 'approved', 'qualified', 'flagged'],
								idempotencyKey: `reassign-${id}-${referral.referrerId}`,
							});
							return;
						}
						case 'redeem':
							await rewards.redeemPoints({
								participantId: referrers[step.n % 2].participant.id,
								points: step.points,
								reference: `r-${step.n}`,
							});
							return;
						case 'edit':
							version = step.version;
							rewards = new RewardService(ledger, programVersion(programId, version));
							return;
					}
				};

				const next = (i: number): Step => {
					const any = Math.floor(rnd() * FRIENDS);
					const among = (ids: number[]) => (ids.length > 0 && rnd() < 0.8 ? pick(ids) : any);
					const all = Array.from({ length: FRIENDS }, (_, f) => f);
					const ordered = [...orders.keys()];
					const r = rnd();
					if (done.length > 0 && r < 0.12) return pick(done);
					if (r < 0.22)
						return {
							op: 'signup',
							friend: among(all.filter((f) => !refIds.has(f))),
							via: rnd() < 0.7 ? 0 : 1,
						};
					if (r < 0.38)
						return {
							op: 'convert',
							friend: among(all.filter((f) => refIds.has(f) && !orders.has(f))),
							amount: pick([40, 100, 150, 200]),
							currency: rnd() < 0.8 ? 'EUR' : 'USD',
							award: rnd() < 0.8,
						};
					if (r < 0.5) return { op: 'evaluate', friend: among(ordered) };
					const friend = among(ordered);
					if (r < 0.66) {
						const kind = pick(['partial', 'full', 'cancelled'] as const);
						const order = orders.get(friend)?.amount ?? 100;
						if (kind === 'partial')
							return { op: 'refund', friend, refundedAmount: pick([0.2, 0.6]) * order };
						if (kind === 'cancelled') return { op: 'refund', friend, cancelled: true };
						return { op: 'refund', friend };
					}
					if (r < 0.71) return { op: 'flag', friend };
					if (r < 0.76) return { op: 'approve', friend };
					if (r < 0.8) return { op: 'rewardReverse', friend };
					if (r < 0.86) return { op: 'reassign', friend };
					if (r < 0.93) return { op: 'redeem', points: pick([10, 60]), n: i };
					return { op: 'edit', version: pick([0, 1, 2]) };
				};

				for (let i = 0; i < STEPS; i++) {
					const step = next(i);
					log.push(JSON.stringify(step));
					try {
						await run(step);
						seen.add(step.op);
					} catch (error) {
						if (!(isEngineError(error) && EXPECTED.has(error.code)))
							throw new Error(`seed ${seed}, steps ${log.join(' ; ')}: ${String(error)}`);
					}
					done.push(step);
					const where = `seed ${seed}, steps ${log.join(' ; ')}`;
					await checkCounters(ledger, programId, where);
					await checkStates(
						ledger,
						programVersion(programId, version),
						seed % 2 === 0 ? 'rolling' : 'calendar',
						where,
					);
				}
			}
			// The sequences ran every kind of event (else they would prove little).
			expect([...seen].sort()).toEqual(
				[
					'approve',
					'convert',
					'edit',
					'evaluate',
					'flag',
					'reassign',
					'redeem',
					'refund',
					'rewardReverse',
					'signup',
				].sort(),
			);
			// Migrations 10 and 13 (applied in order) on a ledger that has these histories but no
			// counters yet fill them exactly.
			const migrated = await reopenAfter([
				'DROP INDEX referrals_referrer_rank',
				'DROP INDEX rewards_recipient_kind',
				'DROP INDEX points_journal_reward',
				'DROP TABLE reward_counters',
				'DROP TABLE reward_cap_usage',
				'DELETE FROM ledger_migrations WHERE version IN (10, 13)',
			]);
			expect(await migrated.schemaVersion()).toBe(LATEST_VERSION);
			for (let seed = 1; seed <= SEQUENCES; seed++)
				await checkCounters(migrated, `c${seed}`, `after migrations 10 and 13, program c${seed}`);
		}, 600_000);
	});
}

/** Every participant's counters against a recomputation from the history (the reference). */
async function checkCounters(ledger: LedgerStore, programId: string, where: string) {
	const participants = await ledger.listParticipants({ programId, limit: 100 });
	for (const p of participants) {
		const qualified = await ledger.listReferrals({
			programId,
			referrerId: p.id,
			status: 'qualified',
			limit: 1000,
		});
		const revenue: Record<string, number> = {};
		const conversions = qualified.length
			? await ledger.listConversions({
					programId,
					referralIds: qualified.map((r) => r.id),
					qualifiedOnly: true,
				})
			: [];
		const order = new Map<number, { amount: number; currency: string }>();
		for (const c of conversions)
			if (c.amount !== null && c.currency)
				order.set(c.referralId, { amount: c.amount, currency: c.currency });
		for (const o of order.values())
			revenue[o.currency] = Number(((revenue[o.currency] ?? 0) + o.amount).toFixed(6));
		const journal = await ledger.pointsJournal({ programId, participantId: p.id, limit: 1000 });
		const lifetimePoints = journal
			.filter((e) => e.delta > 0 || e.reason === 'clawback')
			.reduce((sum, e) => sum + e.delta, 0);
		const counters = await ledger.rewardCounters({ programId, participantId: p.id });
		expect(counters, `${where}: counters of participant ${p.id}`).toEqual({
			qualified: qualified.length,
			revenue,
			lifetimePoints,
		});
		const rewards = await ledger.listRewards({ programId, recipientId: p.id, limit: 1000 });
		const now = Date.now();
		for (const w of [
			{ start: null, end: null },
			...(['day', 'week', 'month'] as const).flatMap((period) => [
				periodWindow(period, now, { timeZone: 'Asia/Kolkata' }),
				periodWindow(period, now, { mode: 'rolling' }),
			]),
		])
			expect(
				rounded(await ledger.capUsage({ programId, participantId: p.id, ...w })),
				`${where}: cap usage of participant ${p.id} in ${w.start}..${w.end}`,
			).toEqual(capUsageFromRewards(rewards, w.start, w.end));
	}
}

/** The caps the states are compared under: per period, per rule, in points, in money, for all time. */
const STATE_CAPS = [
	{ id: 'month', period: 'month', maxCount: 3 },
	{
		id: 'day-points',
		period: 'day',
		unit: 'points',
		maxValue: 300,
		ruleIds: ['referrer-points', 'every-two'],
	},
	{ id: 'week-eur', period: 'week', unit: 'EUR', maxValue: 25 },
	{ id: 'all-time', period: 'lifetime', maxCount: 6 },
] as const;

/** For every qualified referral: the state from the counters equals the state from the history. */
async function checkStates(
	ledger: LedgerStore,
	config: RewardProgramConfig,
	capWindowMode: 'calendar' | 'rolling',
	where: string,
) {
	const program = validateRewardProgram({
		...config,
		caps: STATE_CAPS.map((c) => ({ ...c, ...('ruleIds' in c ? { ruleIds: [...c.ruleIds] } : {}) })),
		timeZone: 'Asia/Kolkata',
		capWindowMode,
	});
	const needs = {
		qualified: true,
		revenue: true,
		order: true,
		lifetimePoints: true,
		rewards: true,
	};
	const loader = new SnapshotLoader(ledger, program.programId, program, needs);
	const referralsQualified = await ledger.listReferrals({
		programId: program.programId,
		status: 'qualified',
		limit: 1000,
	});
	for (const referral of referralsQualified) {
		const ofReferral = await loader.rewardsOfReferral(referral.id);
		const history: ReferrerSnapshot = {
			qualified: await loader.qualifiedOf(referral.referrerId),
			rewards: await ledger.listRewards({
				programId: program.programId,
				recipientId: referral.referrerId,
				limit: 10_000,
			}),
			ofReferral,
			referralId: referral.id,
		};
		const counted = await loader.fromCounters(referral, true, ofReferral);
		expect(counted, `${where}: referral ${referral.id} has a counters snapshot`).toBeDefined();
		const at = referral.qualifiedAt ?? referral.updatedAt;
		const { qualifiedReferralIds: _ids, ...expected } = (await loader.stateFor(
			referral,
			'referral_qualified',
			at,
			history,
		)) as ReferrerState;
		const actual = await loader.stateFor(referral, 'referral_qualified', at, counted!);
		expect(actual, `${where}: state of referral ${referral.id}`).toEqual(expected);
	}
}
