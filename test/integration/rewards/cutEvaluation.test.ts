/* A conversion whose reward evaluation was cut (n8n killed mid-evaluation, #13 queue crash), on
 * SQLite and PostgreSQL: the conversion is recorded, the evaluation stops at any of its writes
 * (before or after that write commits), the client retries the conversion; the replay answers
 * "qualified" and the evaluation that follows completes it: every reward, coupon and owed email
 * exactly once, and the answer lists the referral's rewards as an uncut run does. */
import { describe, expect, it } from 'vitest';
import type { LedgerStore } from '../../../engine/ledger';
import { ReferralService } from '../../../engine/referrals';
import { RewardService } from '../../../engine/rewards/evaluate';
import { sampleRewardProgram } from '../../fixtures/sampleRewardProgram';
import { IN_CI, ledgerBackends, PG_URL, pgAvailability } from '../../support/databases';

const { available, problem } = pgAvailability();
const backends = ledgerBackends('cut_eval');

const WRITES = new Set(['awardReward', 'issueCode', 'claimCoupon', 'appendEvent']);

class Killed extends Error {}

/** The ledger as a process that dies at its `at`-th reward write: before it (nothing committed) or right after it commits. */
function dyingAt(
	ledger: LedgerStore,
	at: number,
	when: 'before' | 'after',
): { ledger: LedgerStore; writes: () => number } {
	let writes = 0;
	const proxy = new Proxy(ledger, {
		get(target, prop, receiver) {
			const value = Reflect.get(target, prop, receiver) as unknown;
			if (typeof value !== 'function') return value;
			const fn = (value as (...args: unknown[]) => Promise<unknown>).bind(target);
			if (!WRITES.has(String(prop))) return fn;
			return async (...args: unknown[]) => {
				writes += 1;
				if (writes === at && when === 'before') throw new Killed(`killed before ${String(prop)}`);
				const result = await fn(...args);
				if (writes === at && when === 'after') throw new Killed(`killed after ${String(prop)}`);
				return result;
			};
		},
	}) as LedgerStore;
	return { ledger: proxy, writes: () => writes };
}

for (const [name, open] of backends) {
	describe.skipIf(name === 'PostgreSQL' && !available && !IN_CI)(
		`a cut reward evaluation on ${name}`,
		() => {
			if (name === 'PostgreSQL' && !available) {
				it('reaches PostgreSQL (required under CI=true)', () => {
					throw new Error(`PostgreSQL is unreachable at ${PG_URL}: ${problem}`);
				});
				return;
			}

			it('the retried conversion completes what the cut left, at every write of the evaluation, exactly once', async () => {
				const ledger = await open();
				let cases = 0;
				// How many reward writes the 3rd conversion's evaluation makes uncut (points ×2, coupon code, coupon).
				let total = Infinity;
				for (let at = 1; at <= total; at++) {
					for (const when of ['before', 'after'] as const) {
						const programId = `cut-${at}-${when}`;
						await ledger.ensureProgram({ id: programId });
						const referrals = await ReferralService.open(ledger, programId);
						const rewards = new RewardService(ledger, sampleRewardProgram(programId), {
							oweNotices: true,
						});
						const ann = await referrals.enrol({ email: 'ann@example.com' });
						const conversion = (i: number) => ({
							email: `friend${i}@example.org`,
							orderId: `O-${i}`,
							amount: 80,
							currency: 'EUR',
						});
						const ids: number[] = [];
						for (let i = 0; i < 3; i++) {
							const signUp = await referrals.enrol({
								email: `friend${i}@example.org`,
								referralCode: ann.participant.code!,
								device: `device-${i}`,
							});
							ids.push(signUp.referral!.id);
						}
						// Two conversions and their evaluations, as the conversion workflow runs them.
						for (let i = 0; i < 2; i++) {
							expect((await referrals.qualify(conversion(i))).outcome).toBe('qualified');
							await rewards.evaluateReferral(ids[i]);
						}
						// The 3rd: the conversion commits, then the process dies inside the evaluation.
						expect((await referrals.qualify(conversion(2))).outcome).toBe('qualified');
						const dying = dyingAt(ledger, at, when);
						const cut = new RewardService(dying.ledger, sampleRewardProgram(programId), {
							oweNotices: true,
						});
						const died = await cut.evaluateReferral(ids[2]).then(
							() => false,
							(error: unknown) => {
								if (!(error instanceof Killed)) throw error;
								return true;
							},
						);
						if (!died) {
							total = dying.writes();
							break;
						}
						cases += 1;
						// The client retries: the conversion answers as before, and the workflow evaluates again.
						const replay = await referrals.qualify(conversion(2));
						expect(replay).toMatchObject({
							outcome: 'qualified',
							replayed: true,
							qualified: true,
							referral: { id: ids[2], status: 'qualified' },
						});
						const after = new RewardService(ledger, sampleRewardProgram(programId), {
							oweNotices: true,
						});
						const answer = await after.evaluateReferral(ids[2]);
						const stored = await ledger.listRewards({ programId, referralId: ids[2], limit: 100 });
						expect(
							answer.rewards.map((r) => r.id).sort((a, b) => a - b),
							`${programId}: the answer lists the referral's rewards`,
						).toEqual(stored.map((r) => r.id));
						expect(stored.map((r) => [r.side, r.kind, r.amount]).sort(), programId).toEqual([
							['referee', 'points', 50],
							['referrer', 'coupon', 20],
							['referrer', 'points', 100],
						]);
						expect(
							await ledger.pointsBalance({ programId, participantId: ann.participant.id }),
							programId,
						).toBe(300);
						const codes = (
							await ledger.listCodes({ programId, ownerId: ann.participant.id, limit: 100 })
						).filter((c) => c.code.startsWith('THANKS-'));
						expect(
							codes.map((c) => c.code),
							programId,
						).toEqual([answer.rewards.find((r) => r.kind === 'coupon')!.code]);
						// Each rewarded person of the 3rd referral is owed one email listing all of it.
						const messages = await ledger.listMessages({
							programId,
							topic: 'reward.earned',
							limit: 100,
						});
						const third = messages.filter((m) =>
							(m.group ?? m.idempotencyKey).startsWith(`referral-${ids[2]}-`),
						);
						expect(
							third
								.map((m) => [
									m.group ?? m.idempotencyKey,
									(m.data as { lines: string[] }).lines.length,
								])
								.sort(),
							programId,
						).toEqual(
							[
								[`referral-${ids[2]}-rewarded-${ann.participant.id}`, 2],
								[
									`referral-${ids[2]}-rewarded-${answer.rewards.find((r) => r.recipient === 'referee')!.recipientId}`,
									1,
								],
							].sort(),
						);
						// And a further replay writes nothing.
						await after.evaluateReferral(ids[2]);
						expect(
							(await ledger.listRewards({ programId, referralId: ids[2], limit: 100 })).length,
						).toBe(3);
					}
				}
				expect(total).toBe(4);
				expect(cases).toBe(2 * total);
			}, 120_000);
		},
	);
}
