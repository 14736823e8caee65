import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openPostgresLedger, openSqliteLedger, type LedgerStore } from '../../../engine/ledger';
import { ReferralService } from '../../../engine/refunds';
import { saveReferralProgram } from '../../../engine/referrals/programs';
import { referralLeaderboard, referralStats } from '../../../engine/referrals/stats';
import { dropSchema, PG_URL, pgAvailability, randomSchema } from '../../support/databases';

const pg = pgAvailability();
const opened: Array<() => Promise<void>> = [];
afterAll(async () => {
	for (const close of opened) await close();
});

async function sqlite(): Promise<LedgerStore> {
	const ledger = await openSqliteLedger({
		backend: 'sqlite',
		path: path.join(mkdtempSync(path.join(os.tmpdir(), 'rm-svc-')), 'l.sqlite'),
	});
	opened.push(() => ledger.close());
	return ledger;
}

async function postgres(): Promise<LedgerStore> {
	const schema = randomSchema('rm_svc');
	const ledger = await openPostgresLedger({
		backend: 'postgres',
		connectionString: PG_URL,
		schema,
	});
	opened.push(async () => {
		await ledger.close();
		await dropSchema(schema);
	});
	return ledger;
}

const backends: Array<[string, () => Promise<LedgerStore>, boolean]> = [
	['SQLite', sqlite, true],
	['PostgreSQL', postgres, pg.available],
];

for (const [name, open, available] of backends) {
	describe.skipIf(!available)(`ReferralService on ${name}`, () => {
		async function service(settings: Record<string, unknown> = {}): Promise<ReferralService> {
			const ledger = await open();
			await saveReferralProgram(ledger, {
				programId: 'p',
				share: { baseUrl: 'https://shop.example/join', utmSource: 'referral', utmMedium: 'link' },
				...settings,
			});
			return await ReferralService.open(ledger, 'p');
		}

		it('enrols idempotently with a code and a share URL carrying UTM parameters, never showing the salt', async () => {
			const svc = await service();
			const first = await svc.enrol({ email: 'Ana@Example.com', name: 'Ana' });
			const again = await svc.enrol({ email: 'ana@example.com' });
			expect(first.enrolled).toBe(true);
			// The same sign-up again answers like the first; another one (here with a code) did not enrol anyone.
			expect(again.enrolled).toBe(true);
			expect((await svc.enrol({ email: 'ana@example.com', referralCode: 'NOPE' })).enrolled).toBe(
				false,
			);
			expect(again.participant).toEqual(first.participant);
			expect(first.participant.shareUrl).toBe(
				`https://shop.example/join?ref=${first.participant.code}&utm_source=referral&utm_medium=link`,
			);
			expect(JSON.stringify(svc.program.config)).not.toContain(svc.program.salt);
			expect(svc.program.salt).toMatch(/^[0-9a-f]{64}$/);
		});

		it('records a referral by code, qualifies it once per order, ignores later orders, reverses on refund', async () => {
			const svc = await service();
			const ana = await svc.enrol({ email: 'ana@example.com' });
			const bob = await svc.enrol({
				email: 'bob@example.org',
				referralCode: ana.participant.code!.toLowerCase(),
				ip: '10.0.0.1',
				userAgent: 'UA',
			});
			expect(bob.referral).toMatchObject({
				status: 'pending',
				referrerCode: ana.participant.code,
				reasons: [],
			});
			expect(bob.assessment).toMatchObject({ decision: 'allow', riskScore: 0 });
			const q1 = await svc.qualify({
				email: 'bob@example.org',
				orderId: 'o1',
				amount: 40,
				currency: 'eur',
			});
			const replay = await svc.qualify({
				email: 'bob@example.org',
				orderId: 'o1',
				amount: 40,
				currency: 'EUR',
			});
			const later = await svc.qualify({
				email: 'bob@example.org',
				orderId: 'o2',
				amount: 10,
				currency: 'EUR',
			});
			expect(q1).toMatchObject({
				qualified: true,
				outcome: 'qualified',
				referral: { id: bob.referral!.id, status: 'qualified' },
			});
			expect(replay).toEqual({ ...q1, replayed: true });
			expect(later).toMatchObject({ qualified: false, outcome: 'ignored' });
			const refund = await svc.reverse({ orderId: 'o1' });
			expect(refund).toMatchObject({
				outcome: 'reversed',
				changed: true,
				replayed: false,
				referral: { status: 'reversed' },
			});
			// A replay answers like the first call.
			expect(await svc.reverse({ orderId: 'o1' })).toEqual({ ...refund, replayed: true });
			// A later order of the same referee did not qualify anything: its refund changes nothing.
			expect(await svc.reverse({ orderId: 'o2' })).toMatchObject({
				outcome: 'unchanged',
				changed: false,
			});
			const detail = await svc.getReferral(bob.referral!.id);
			expect(detail.history!.map((h) => h.to)).toEqual(['pending', 'qualified', 'reversed']);
		});

		it('agrees on one hash salt when several executions create the program at once', async () => {
			const ledger = await open();
			await Promise.all(
				Array.from({ length: 6 }, () => saveReferralProgram(ledger, { programId: 'race' })),
			);
			const salts = await Promise.all(
				Array.from(
					{ length: 3 },
					async () => (await ReferralService.open(ledger, 'race')).program.salt,
				),
			);
			expect(new Set(salts).size).toBe(1);
			expect(
				await ledger.claimProgramSecret({
					programId: 'race',
					name: 'hashSalt',
					candidate: 'other-candidate-value',
				}),
			).toBe(salts[0]);
		});

		it('stores the hash salt once: as the program secret, not also in the program settings (issue #14)', async () => {
			const ledger = await open();
			await saveReferralProgram(ledger, {
				programId: 'once',
				share: { baseUrl: 'https://shop.example/join' },
			});
			await saveReferralProgram(ledger, { programId: 'once', attribution: { windowDays: 10 } });
			const svc = await ReferralService.open(ledger, 'once');
			const row = await ledger.getProgram('once');
			expect(JSON.stringify(row)).not.toContain(svc.program.salt);
			expect(await ledger.getProgramSecret({ programId: 'once', name: 'hashSalt' })).toBe(
				svc.program.salt,
			);
			// A program row written by an older version, with the salt in its settings: the same salt, kept once from then on.
			await ledger.ensureProgram({
				id: 'legacy',
				settings: { referral: { input: {}, hashSalt: 'legacy-salt-0123456789abcdef' } },
			});
			const old = await ReferralService.open(ledger, 'legacy');
			expect(old.program.salt).toBe('legacy-salt-0123456789abcdef');
			expect(JSON.stringify(await ledger.getProgram('legacy'))).not.toContain('legacy-salt');
			expect((await ReferralService.open(ledger, 'legacy')).program.salt).toBe(
				'legacy-salt-0123456789abcdef',
			);
		});

		it('attributes a referee who arrives twice by first touch or last touch', async () => {
			for (const model of ['first_touch', 'last_touch'] as const) {
				const svc = await service({ attribution: { model, windowDays: 30 } });
				const ana = await svc.enrol({ email: 'ana@example.com' });
				const cem = await svc.enrol({ email: 'cem@example.net' });
				const t0 = Date.parse('2026-05-01T10:00:00Z');
				const first = await svc.enrol({
					email: 'bob@example.org',
					referralCode: ana.participant.code!,
					at: t0,
				});
				const second = await svc.enrol({
					email: 'bob@example.org',
					referralCode: cem.participant.code!,
					at: t0 + 3_600_000,
				});
				expect(second.referral!.id).toBe(first.referral!.id);
				if (model === 'first_touch') {
					expect(second.referral!.referrerCode).toBe(ana.participant.code);
					expect(second.warnings.map((w) => w.code)).toEqual(['duplicate_referee']);
				} else {
					expect(second.referral!.referrerCode).toBe(cem.participant.code);
					expect(second.warnings.map((w) => w.code)).toEqual(['attribution_switched']);
					const detail = await svc.getReferral(first.referral!.id);
					expect(detail.history!.at(-1)!.reason).toContain('reassigned from participant');
					// Once it converted, a later touch no longer moves it.
					await svc.qualify({
						email: 'bob@example.org',
						orderId: 'o-1',
						amount: 10,
						currency: 'EUR',
					});
					const third = await svc.enrol({
						email: 'bob@example.org',
						referralCode: ana.participant.code!,
						at: t0 + 7_200_000,
					});
					expect(third.referral!.referrerCode).toBe(cem.participant.code);
					expect(third.warnings.map((w) => w.code)).toEqual(['duplicate_referee']);
				}
			}
		});

		it('gives referral null with a warning for unknown, revoked and expired codes', async () => {
			const svc = await service();
			const ana = await svc.enrol({ email: 'ana@example.com' });
			const unknown = await svc.enrol({ email: 'c@example.org', referralCode: 'NOPE2345' });
			expect(unknown.referral).toBeNull();
			expect(unknown.warnings).toEqual([expect.objectContaining({ code: 'unknown_code' })]);
			await svc.ledger.revokeCode({ programId: 'p', code: ana.participant.code! });
			const revoked = await svc.enrol({
				email: 'd@example.org',
				referralCode: ana.participant.code!,
			});
			expect(revoked.warnings[0].code).toBe('code_revoked');
			const vanity = await svc.ledger.issueCode({
				programId: 'p',
				ownerId: ana.participant.id,
				code: 'OLD-CODE',
				expiresAt: Date.now() - 1000,
				idempotencyKey: 'v',
			});
			const expired = await svc.enrol({ email: 'e@example.org', referralCode: vanity.code.code });
			expect(expired.warnings[0].code).toBe('code_expired');
			await expect(svc.enrol({ email: 'not-an-email' })).rejects.toMatchObject({
				code: 'invalid_email',
				field: 'email',
			});
		});

		it('blocks self-referral (gmail dots and +tags), flags disposable email, same ip and velocity, finds rings', async () => {
			const svc = await service({ fraudPolicy: { velocityPerHour: 3, velocityPerDay: 10 } });
			const ana = await svc.enrol({ email: 'ana.b@gmail.com', ip: '1.2.3.4' });
			const self = await svc.enrol({
				email: 'anab+promo@googlemail.com',
				referralCode: ana.participant.code!,
			});
			expect(self.referral).toMatchObject({ status: 'rejected', reasons: ['self_referral'] });
			const same = await svc.enrol({
				email: 'x@example.org',
				referralCode: ana.participant.code!,
				ip: '1.2.3.4',
			});
			expect(same.referral).toMatchObject({ status: 'flagged', reasons: ['same_ip'] });
			const disposable = await svc.enrol({
				email: 'y@mailinator.com',
				referralCode: ana.participant.code!,
			});
			expect(disposable.referral).toMatchObject({
				status: 'flagged',
				reasons: ['disposable_email'],
			});
			const fast = await svc.enrol({ email: 'z@example.org', referralCode: ana.participant.code! });
			expect(fast.referral!.reasons).toEqual(['velocity']);
			expect(fast.assessment!.checks[0].detail).toContain('4 referrals within an hour');
			// Ring: B refers C, C refers D, D's code brings in B's referrer chain back to B.
			const b = await svc.enrol({ email: 'b@ring.org' });
			const c = await svc.enrol({ email: 'c@ring.org', referralCode: b.participant.code! });
			const d = await svc.enrol({ email: 'd@ring.org', referralCode: c.participant.code! });
			const ring = await svc.recordReferral({
				email: 'b@ring.org',
				referralCode: d.participant.code!,
			});
			expect(ring.referral!.reasons).toContain('ring');
			expect(ring.assessment!.checks.find((x) => x.check === 'ring')!.detail).toContain(
				`${d.participant.id} → ${b.participant.id}`,
			);
		});

		it('walks the review path: flag, approve with a held order, illegal moves are errors', async () => {
			const svc = await service();
			const ana = await svc.enrol({ email: 'ana@example.com' });
			const bob = await svc.enrol({
				email: 'bob@mailinator.com',
				referralCode: ana.participant.code!,
			});
			expect(bob.referral!.status).toBe('flagged');
			const held = await svc.qualify({
				email: 'bob@mailinator.com',
				orderId: 'o9',
				amount: 5,
				currency: 'USD',
			});
			expect(held).toMatchObject({ outcome: 'held', qualified: false });
			const approved = await svc.approve(bob.referral!.id);
			expect(approved.referral).toMatchObject({ status: 'qualified', internalStatus: 'qualified' });
			// Approving again is a replay: it answers like the approval, from the history.
			expect(await svc.approve(bob.referral!.id)).toEqual({ ...approved, replayed: true });
			await expect(svc.reject(bob.referral!.id)).rejects.toMatchObject({
				code: 'illegal_transition',
			});
			const carl = await svc.enrol({
				email: 'carl@example.org',
				referralCode: ana.participant.code!,
			});
			await svc.flag(carl.referral!.id, 'looks odd');
			const rejected = await svc.reject(carl.referral!.id);
			expect(rejected.referral.status).toBe('rejected');
			await expect(svc.approve(carl.referral!.id)).rejects.toMatchObject({
				code: 'illegal_transition',
			});
			// A refund never reverses a referral that is not qualified: nothing changes.
			expect(await svc.reverse({ referralId: carl.referral!.id })).toMatchObject({
				outcome: 'unchanged',
				changed: false,
				referral: { status: 'rejected' },
			});
		});

		it('reports stats, the leaderboard and a participant status with rank; erases personal data', async () => {
			const svc = await service();
			const ana = await svc.enrol({ email: 'ana@example.com' });
			for (let i = 0; i < 3; i++) {
				await svc.enrol({ email: `f${i}@example.org`, referralCode: ana.participant.code! });
				if (i < 2)
					await svc.qualify({
						email: `f${i}@example.org`,
						orderId: `o${i}`,
						amount: 50,
						currency: 'EUR',
					});
			}
			const stats = await referralStats(svc.ledger, {
				programId: 'p',
				period: 'lifetime',
				at: Date.now(),
			});
			expect(stats.funnel).toMatchObject({
				recorded: 3,
				pending: 1,
				qualified: 2,
				netQualified: 2,
			});
			expect(stats.referredRevenue).toEqual({ EUR: 100 });
			expect(stats.customers).toBe(4);
			expect(stats.kFactor!.value).toBeCloseTo(0.5);
			const board = await referralLeaderboard(svc.ledger, {
				programId: 'p',
				by: 'qualifiedReferrals',
				period: 'lifetime',
				at: Date.now(),
				limit: 5,
			});
			expect(board).toEqual([
				expect.objectContaining({ rank: 1, participantId: ana.participant.id, score: 2 }),
			]);
			const status = await svc.getParticipant({ email: 'ana@example.com' });
			expect(status.stats).toMatchObject({
				referrals: 3,
				qualified: 2,
				points: 0,
				rank: 1,
				tier: null,
				badges: [],
			});
			await svc.eraseParticipant({ email: 'f0@example.org' });
			expect(
				await svc.ledger.getParticipant({ programId: 'p', email: 'f0@example.org' }),
			).toBeNull();
			const after = await referralStats(svc.ledger, {
				programId: 'p',
				period: 'lifetime',
				at: Date.now(),
			});
			expect(after.funnel.recorded).toBe(3);
		});
	});
}
