/* The ledger contract: one suite, run against every backend (sqlite.test.ts, postgres.test.ts).
 * Each `it` proves one promise of the LedgerStore interface. Races use Promise.all on one store:
 * real races on PostgreSQL (a pool of connections), serialised on SQLite (one connection); the
 * cross-process races are in concurrency.test.ts. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EngineError } from '../../engine/shared/errors';
import type { LedgerStore } from '../../engine/ledger';
import { LATEST_VERSION } from '../../engine/ledger/schema';

export interface ContractTarget {
	/** Opens a ledger on this suite's own fresh database, with the given clock. */
	open(now: () => number): Promise<LedgerStore>;
	/** Opens a second, independent ledger on the same database (another worker). */
	openAgain(now: () => number): Promise<LedgerStore>;
}

const T0 = Date.UTC(2026, 2, 1, 12);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export function ledgerContract(target: ContractTarget): void {
	let ledger: LedgerStore;
	const clock = { now: T0 };
	let seq = 0;
	const uid = (prefix: string) => `${prefix}-${++seq}`;

	async function program(): Promise<string> {
		const id = uid('prog');
		await ledger.ensureProgram({ id });
		return id;
	}

	async function person(programId: string, fields: Record<string, unknown> = {}) {
		return (
			await ledger.enrolParticipant({ programId, email: `${uid('p')}@example.com`, ...fields })
		).participant;
	}

	async function rejects(
		promise: Promise<unknown>,
		code: string,
		field?: string,
	): Promise<EngineError> {
		const error = await promise.then(
			() => undefined,
			(e: unknown) => e,
		);
		expect(error, `expected EngineError ${code}`).toBeInstanceOf(EngineError);
		expect((error as EngineError).code).toBe(code);
		if (field !== undefined) expect((error as EngineError).field).toBe(field);
		return error as EngineError;
	}

	/** Everything a failed call might have written, to prove it wrote nothing. */
	async function snapshot(programId: string) {
		const [participants, referrals, rewards, codes, lastEvent] = await Promise.all([
			ledger.listParticipants({ programId, limit: 10_000 }),
			ledger.listReferrals({ programId, limit: 10_000 }),
			ledger.listRewards({ programId, limit: 10_000 }),
			ledger.listCodes({ programId, limit: 10_000 }),
			ledger.latestEventId(),
		]);
		return { participants, referrals, rewards, codes, lastEvent };
	}

	beforeAll(async () => {
		ledger = await target.open(() => clock.now);
	});

	afterAll(async () => {
		await ledger?.close();
	});

	describe('schema', () => {
		it('is migrated to the latest version on first use, and a second opener finds nothing to do', async () => {
			expect(await ledger.schemaVersion()).toBe(LATEST_VERSION);
			const programId = await program();
			const ann = await person(programId);
			const again = await target.openAgain(() => clock.now);
			try {
				expect(await again.schemaVersion()).toBe(LATEST_VERSION);
				expect((await again.getParticipant({ programId, id: ann.id }))?.email).toBe(ann.email);
			} finally {
				await again.close();
			}
		});
	});

	describe('programs', () => {
		it('ensureProgram creates once and updates only what is given', async () => {
			const id = uid('prog');
			const first = await ledger.ensureProgram({
				id,
				name: 'Spring',
				settings: { tiers: [5, 10] },
			});
			clock.now += 1000;
			const second = await ledger.ensureProgram({ id });
			expect(second).toEqual(first);
			const renamed = await ledger.ensureProgram({ id, name: 'Spring 2026' });
			expect(renamed.name).toBe('Spring 2026');
			expect(renamed.settings).toEqual({ tiers: [5, 10] });
			expect(renamed.createdAt).toBe(first.createdAt);
			expect(await ledger.getProgram(uid('missing'))).toBeNull();
		});

		it('refuses work in an unknown program and writes nothing', async () => {
			const before = await ledger.latestEventId();
			await rejects(
				ledger.enrolParticipant({ programId: 'no-such-program', email: 'a@example.com' }),
				'unknown_program',
				'programId',
			);
			expect(await ledger.latestEventId()).toBe(before);
		});
	});

	describe('leases', () => {
		it('lets one holder at a time run, across two openers of the ledger, and frees the lease after an error', async () => {
			const programId = await program();
			const other = await target.openAgain(() => clock.now);
			try {
				let active = 0;
				let maxActive = 0;
				const order: number[] = [];
				const hold = (store: LedgerStore, n: number) =>
					store.withLease({ programId, name: 'referrer:1' }, async () => {
						active += 1;
						maxActive = Math.max(maxActive, active);
						await new Promise((r) => setTimeout(r, 15));
						order.push(n);
						active -= 1;
						return n;
					});
				const results = await Promise.all(
					[0, 1, 2, 3, 4, 5].map((n) => hold(n % 2 === 0 ? ledger : other, n)),
				);
				expect(results).toEqual([0, 1, 2, 3, 4, 5]);
				expect(maxActive).toBe(1);
				expect(order.sort()).toEqual([0, 1, 2, 3, 4, 5]);
				// Another name is not held up by this one.
				expect(await ledger.withLease({ programId, name: 'referrer:2' }, async () => 'free')).toBe(
					'free',
				);
				await expect(
					ledger.withLease({ programId, name: 'referrer:1' }, async () =>
						Promise.reject(new Error('boom')),
					),
				).rejects.toThrow('boom');
				expect(
					await other.withLease(
						{ programId, name: 'referrer:1', waitMs: 0 },
						async () => 'taken after the error',
					),
				).toBe('taken after the error');
			} finally {
				await other.close();
			}
		});

		it('times out naming the lease while another holds it, and takes over a lease whose holder died', async () => {
			const programId = await program();
			let release!: () => void;
			const held = ledger.withLease(
				{ programId, name: 'busy', ttlMs: 1_000 },
				() => new Promise<void>((r) => (release = r)),
			);
			await new Promise((r) => setTimeout(r, 50));
			const error = await rejects(
				ledger.withLease({ programId, name: 'busy', waitMs: 100 }, async () => 'never'),
				'lease_timeout',
				'name',
			);
			expect(error.message).toContain('"busy"');
			release();
			await held;
			// A holder that died without releasing: its row stays until it expires.
			const dead = await target.openAgain(() => clock.now);
			let died!: () => void;
			const abandoned = dead.withLease(
				{ programId, name: 'orphan', ttlMs: 1_000 },
				() => new Promise<void>((r) => (died = r)),
			);
			await new Promise((r) => setTimeout(r, 50));
			await dead.close(); // no renewals, no release: as if the worker was killed
			const started = Date.now();
			expect(
				await ledger.withLease({ programId, name: 'orphan', waitMs: 5_000 }, async () => 'mine'),
			).toBe('mine');
			expect(Date.now() - started).toBeGreaterThanOrEqual(500);
			died();
			await abandoned.catch(() => undefined);
			await rejects(
				ledger.withLease({ programId: 'no-such-program', name: 'x' }, async () => 1),
				'unknown_program',
				'programId',
			);
			await rejects(
				ledger.withLease({ programId, name: 'x', ttlMs: 5 }, async () => 1),
				'invalid_number',
				'ttlMs',
			);
		});
	});

	describe('nonces', () => {
		it('grants a key to exactly one of many racing claimers across two openers, until it expires', async () => {
			const other = await target.openAgain(() => clock.now);
			try {
				const scope = uid('webhook');
				const expiresAt = clock.now + 5 * 60_000;
				const claims = await Promise.all(
					Array.from({ length: 12 }, (_, i) =>
						(i % 2 ? other : ledger).claimNonce({ scope, nonce: 'delivery-1', expiresAt }),
					),
				);
				expect(claims.filter(Boolean)).toHaveLength(1);
				// Another key, or the same key in another scope, is free.
				expect(await ledger.claimNonce({ scope, nonce: 'delivery-2', expiresAt })).toBe(true);
				expect(
					await ledger.claimNonce({ scope: uid('webhook'), nonce: 'delivery-1', expiresAt }),
				).toBe(true);
				clock.now += 4 * 60_000;
				expect(await other.claimNonce({ scope, nonce: 'delivery-1', expiresAt })).toBe(false);
				// Once expired the key is swept and may be claimed again.
				clock.now += 2 * 60_000;
				expect(
					await other.claimNonce({ scope, nonce: 'delivery-1', expiresAt: clock.now + 60_000 }),
				).toBe(true);
				expect(
					await ledger.claimNonce({ scope, nonce: 'delivery-1', expiresAt: clock.now + 60_000 }),
				).toBe(false);
			} finally {
				await other.close();
			}
		});

		it('refuses bad input naming the field', async () => {
			await rejects(
				ledger.claimNonce({ scope: 'webhook:x', nonce: '', expiresAt: clock.now + 1000 }),
				'required',
				'nonce',
			);
			await rejects(
				ledger.claimNonce({
					scope: 'webhook:x',
					nonce: 'k'.repeat(300),
					expiresAt: clock.now + 1000,
				}),
				'too_long',
				'nonce',
			);
			await rejects(
				ledger.claimNonce({ scope: 'webhook:x', nonce: 'k', expiresAt: 'soon' }),
				'invalid_time',
				'expiresAt',
			);
		});
	});

	describe('participants', () => {
		it('enrols idempotently by normalized email or external id', async () => {
			const programId = await program();
			const first = await ledger.enrolParticipant({
				programId,
				email: '  Ann.Lee@Example.COM ',
				name: 'Ann',
				metadata: { plan: 'pro' },
			});
			expect(first).toMatchObject({ created: true, replayed: false });
			expect(first.participant.email).toBe('ann.lee@example.com');
			const again = await ledger.enrolParticipant({
				programId,
				email: 'ann.lee@example.com',
				name: 'Other',
			});
			expect(again.created).toBe(false);
			expect(again.participant.id).toBe(first.participant.id);
			expect(again.participant.name).toBe('Ann');
			const byExternal = await ledger.enrolParticipant({
				programId,
				externalId: 'crm-1',
				email: 'bob@example.com',
			});
			const byExternalAgain = await ledger.enrolParticipant({ programId, externalId: 'crm-1' });
			expect(byExternalAgain.participant.id).toBe(byExternal.participant.id);
			expect(await ledger.listParticipants({ programId })).toHaveLength(2);
			const enrolled = (
				await ledger.readEvents({ afterId: 0, programId, types: ['participant.enrolled'] })
			).events;
			expect(enrolled).toHaveLength(2);
		});

		it('gives one participant to racing enrolments of the same email', async () => {
			const programId = await program();
			const results = await Promise.all(
				Array.from({ length: 8 }, () =>
					ledger.enrolParticipant({ programId, email: 'race@example.com' }),
				),
			);
			expect(new Set(results.map((r) => r.participant.id)).size).toBe(1);
			expect(results.filter((r) => r.created)).toHaveLength(1);
			expect(await ledger.listParticipants({ programId })).toHaveLength(1);
		});

		it('replays an explicit key and refuses the same key with different input', async () => {
			const programId = await program();
			const first = await ledger.enrolParticipant({
				programId,
				email: 'key@example.com',
				idempotencyKey: 'signup-77',
			});
			const replay = await ledger.enrolParticipant({
				programId,
				email: 'key@example.com',
				idempotencyKey: 'signup-77',
			});
			expect(replay).toEqual({ ...first, replayed: true });
			await rejects(
				ledger.enrolParticipant({
					programId,
					email: 'other@example.com',
					idempotencyKey: 'signup-77',
				}),
				'idempotency_key_reused',
				'idempotencyKey',
			);
			expect(await ledger.getParticipant({ programId, email: 'other@example.com' })).toBeNull();
		});

		it('refuses an external id and an email that belong to two different participants', async () => {
			const programId = await program();
			await ledger.enrolParticipant({ programId, externalId: 'a', email: 'a@example.com' });
			await ledger.enrolParticipant({ programId, externalId: 'b', email: 'b@example.com' });
			await rejects(
				ledger.enrolParticipant({ programId, externalId: 'a', email: 'b@example.com' }),
				'participant_conflict',
			);
		});

		it('finds, updates and pages participants', async () => {
			const programId = await program();
			const ann = await person(programId, { externalId: 'ext-ann', phone: '+49 151 1234567' });
			const bob = await person(programId);
			expect((await ledger.getParticipant({ programId, externalId: 'ext-ann' }))?.id).toBe(ann.id);
			expect(
				(await ledger.getParticipant({ programId, email: ann.email!.toUpperCase() }))?.id,
			).toBe(ann.id);
			expect(await ledger.getParticipant({ programId: await program(), id: ann.id })).toBeNull();
			clock.now += 1000;
			const updated = await ledger.updateParticipant({
				programId,
				participantId: String(ann.id),
				name: 'Ann Lee',
				phone: null,
				metadata: { vip: true },
			});
			expect(updated.participant).toMatchObject({
				name: 'Ann Lee',
				phone: null,
				metadata: { vip: true },
				externalId: 'ext-ann',
				updatedAt: clock.now,
			});
			await rejects(
				ledger.updateParticipant({ programId, participantId: bob.id, email: ann.email }),
				'participant_conflict',
				'email',
			);
			const page1 = await ledger.listParticipants({ programId, limit: 1 });
			const page2 = await ledger.listParticipants({ programId, limit: 1, afterId: page1[0].id });
			expect([...page1, ...page2].map((p) => p.id)).toEqual([ann.id, bob.id]);
		});

		it('erases personal data but keeps rows, aggregates and the referral', async () => {
			const programId = await program();
			const referrer = await person(programId);
			const referee = await person(programId, {
				externalId: 'erase-me',
				name: 'Eve',
				phone: '+15551234567',
				metadata: { city: 'Berlin' },
			});
			const referral = await ledger.recordReferral({
				programId,
				referrerId: referrer.id,
				refereeId: referee.id,
				ipHash: 'ip-x',
				deviceHash: 'dev-x',
				metadata: { ua: 'x' },
			});
			await ledger.appendPoints({ programId, participantId: referee.id, delta: 40 });
			const message = await ledger.reserveMessage({
				channel: 'email',
				recipient: referee.email!,
				programId,
				participantId: referee.id,
				templateId: 'welcome',
			});
			const erased = await ledger.eraseParticipant({ programId, participantId: referee.id });
			expect(erased.participant).toMatchObject({
				id: referee.id,
				email: null,
				phone: null,
				name: null,
				externalId: null,
				metadata: {},
				erasedAt: clock.now,
			});
			const kept = await ledger.getReferral({ programId, id: referral.referral.id });
			expect(kept).toMatchObject({
				refereeId: referee.id,
				ipHash: null,
				deviceHash: null,
				metadata: {},
			});
			expect(await ledger.pointsBalance({ programId, participantId: referee.id })).toBe(40);
			expect((await ledger.getMessage(message.message.idempotencyKey))?.recipient).toBe('[erased]');
			const events = (await ledger.readEvents({ afterId: 0, programId, limit: 1000 })).events;
			const text = JSON.stringify(events);
			expect(text).not.toContain(referee.email!);
			expect(text).not.toContain('erase-me');
			expect(text).not.toContain('ip-x');
			expect(events.some((e) => e.type === 'participant.erased')).toBe(true);
			expect(await ledger.getParticipant({ programId, externalId: 'erase-me' })).toBeNull();
		});
	});

	describe('codes', () => {
		/** A generator that plays back `codes`, then random ones. */
		const scripted = (codes: string[]) => {
			let i = 0;
			return () =>
				i < codes.length ? codes[i++] : `R${Math.random().toString(36).slice(2, 10).toUpperCase()}`;
		};

		it('issues one code per owner by default and retries a collision with a new candidate', async () => {
			const programId = await program();
			const ann = await person(programId);
			const bob = await person(programId);
			const first = await ledger.issueCode({
				programId,
				ownerId: ann.id,
				generate: scripted(['AAAA']),
			});
			expect(first.code).toMatchObject({
				code: 'AAAA',
				ownerId: ann.id,
				status: 'active',
				state: 'active',
				uses: 0,
			});
			const again = await ledger.issueCode({
				programId,
				ownerId: ann.id,
				generate: scripted(['ZZZZ']),
			});
			expect(again).toEqual({ code: first.code, replayed: true });
			const calls: string[] = [];
			const collidingFirst = () => {
				const code = calls.length === 0 ? 'AAAA' : 'BBBB';
				calls.push(code);
				return code;
			};
			const second = await ledger.issueCode({
				programId,
				ownerId: bob.id,
				generate: collidingFirst,
			});
			expect(calls).toEqual(['AAAA', 'BBBB']);
			expect(second.code.code).toBe('BBBB');
			expect(await ledger.listCodes({ programId })).toHaveLength(2);
		});

		it('keeps codes unique per program, not across programs', async () => {
			const a = await program();
			const b = await program();
			await ledger.issueCode({ programId: a, code: 'SAME' });
			expect((await ledger.issueCode({ programId: b, code: 'SAME' })).code.programId).toBe(b);
			await rejects(
				ledger.issueCode({ programId: a, code: 'SAME', idempotencyKey: uid('k') }),
				'code_taken',
				'code',
			);
			await rejects(
				ledger.issueCode({ programId: a, generate: () => 'SAME', idempotencyKey: uid('k') }),
				'code_space_exhausted',
				'generate',
			);
			expect(await ledger.listCodes({ programId: a })).toHaveLength(1);
		});

		it('issues a batch in one transaction, every code unique, and replays it', async () => {
			const programId = await program();
			const existing = await ledger.issueCode({ programId, code: 'B0001' });
			let n = 0;
			// Re-emits the existing code and its own earlier outputs, so the batch must skip them.
			const generate = () => (n++ % 7 === 0 ? 'B0001' : `B${String(n % 1500).padStart(4, '0')}`);
			const batch = await ledger.issueCodes(1200, {
				programId,
				generate,
				idempotencyKey: 'batch-1',
				maxUses: 1,
			});
			expect(batch.codes).toHaveLength(1200);
			expect(new Set(batch.codes).size).toBe(1200);
			expect(batch.codes).not.toContain(existing.code.code);
			const replay = await ledger.issueCodes(1200, {
				programId,
				generate,
				idempotencyKey: 'batch-1',
				maxUses: 1,
			});
			expect(replay).toEqual({ ...batch, replayed: true });
			expect(await ledger.listCodes({ programId, limit: 5000 })).toHaveLength(1201);
			expect((await ledger.lookupCode({ programId, code: batch.codes[0] }))?.maxUses).toBe(1);
		});

		it('redeems atomically up to maxUses, with the reason for a refusal', async () => {
			const programId = await program();
			const buyer = await person(programId);
			await ledger.issueCode({ programId, code: 'TWICE', maxUses: 2 });
			const results = await Promise.all(
				Array.from({ length: 5 }, (_, i) =>
					ledger.redeemCode({ programId, code: 'TWICE', reference: `order-${i}` }),
				),
			);
			expect(results.filter((r) => r.redeemed)).toHaveLength(2);
			expect(results.filter((r) => !r.redeemed).every((r) => r.reason === 'exhausted')).toBe(true);
			expect(await ledger.lookupCode({ programId, code: 'TWICE' })).toMatchObject({
				uses: 2,
				state: 'exhausted',
			});
			// A replay of a successful redemption does not count again.
			const winner = results.findIndex((r) => r.redeemed);
			const replay = await ledger.redeemCode({
				programId,
				code: 'TWICE',
				reference: `order-${winner}`,
			});
			expect(replay).toMatchObject({ redeemed: true, replayed: true });
			expect((await ledger.lookupCode({ programId, code: 'TWICE' }))?.uses).toBe(2);

			await ledger.issueCode({ programId, code: 'SOON', expiresAt: new Date(clock.now + HOUR) });
			expect(
				(await ledger.redeemCode({ programId, code: 'SOON', participantId: buyer.id })).redeemed,
			).toBe(true);
			clock.now += 2 * HOUR;
			expect(await ledger.redeemCode({ programId, code: 'SOON', reference: 'late' })).toMatchObject(
				{ redeemed: false, reason: 'expired' },
			);

			await ledger.issueCode({ programId, code: 'GONE' });
			expect(await ledger.revokeCode({ programId, code: 'GONE', reason: 'leaked' })).toMatchObject({
				revoked: true,
				code: { status: 'revoked', revokedReason: 'leaked' },
			});
			expect((await ledger.revokeCode({ programId, code: 'GONE' })).revoked).toBe(false);
			expect(await ledger.redeemCode({ programId, code: 'GONE' })).toMatchObject({
				redeemed: false,
				reason: 'revoked',
			});
			await rejects(ledger.redeemCode({ programId, code: 'NOPE' }), 'unknown_code', 'code');
			expect(await ledger.lookupCode({ programId, code: 'NOPE' })).toBeNull();
		});

		it("lists an owner's codes", async () => {
			const programId = await program();
			const ann = await person(programId);
			await ledger.issueCode({ programId, ownerId: ann.id, code: 'ANN1' });
			await ledger.issueCode({
				programId,
				ownerId: ann.id,
				code: 'ANN2',
				idempotencyKey: 'second-code',
			});
			await ledger.issueCode({ programId, code: 'NOBODY' });
			expect((await ledger.listCodes({ programId, ownerId: ann.id })).map((c) => c.code)).toEqual([
				'ANN1',
				'ANN2',
			]);
		});
	});

	describe('referrals', () => {
		it('records a referral by code (the owner refers), once per referee, with its first history entry', async () => {
			const programId = await program();
			const ann = await person(programId);
			const bob = await person(programId);
			await ledger.issueCode({ programId, ownerId: ann.id, code: 'ANNCODE' });
			const first = await ledger.recordReferral({
				programId,
				code: 'ANNCODE',
				refereeId: bob.id,
				source: 'email',
				ipHash: 'ip1',
				reasons: ['new-device'],
				riskScore: 0.2,
			});
			expect(first.created).toBe(true);
			expect(first.referral).toMatchObject({
				referrerId: ann.id,
				refereeId: bob.id,
				status: 'pending',
				source: 'email',
				reasons: ['new-device'],
				riskScore: 0.2,
				touchedAt: clock.now,
			});
			const second = await ledger.recordReferral({
				programId,
				referrerId: ann.id,
				refereeId: bob.id,
				source: 'other',
			});
			expect(second).toMatchObject({
				created: false,
				referral: { id: first.referral.id, source: 'email' },
			});
			expect(await ledger.referralHistory({ programId, referralId: first.referral.id })).toEqual([
				expect.objectContaining({ from: null, to: 'pending', reason: 'recorded' }),
			]);
			expect((await ledger.findReferralByReferee({ programId, refereeId: bob.id }))?.id).toBe(
				first.referral.id,
			);
			expect(
				(await ledger.readEvents({ afterId: 0, programId, types: ['referral.recorded'] })).events,
			).toHaveLength(1);
		});

		it('records one referral for racing calls with the same referee', async () => {
			const programId = await program();
			const ann = await person(programId);
			const bob = await person(programId);
			const results = await Promise.all(
				Array.from({ length: 6 }, () =>
					ledger.recordReferral({ programId, referrerId: ann.id, refereeId: bob.id }),
				),
			);
			expect(new Set(results.map((r) => r.referral.id)).size).toBe(1);
			expect(results.filter((r) => r.created)).toHaveLength(1);
			expect(await ledger.listReferrals({ programId })).toHaveLength(1);
			expect(
				await ledger.referralHistory({ programId, referralId: results[0].referral.id }),
			).toHaveLength(1);
		});

		it('dedupes an anonymous click by its inputs, and keeps distinct clicks apart', async () => {
			const programId = await program();
			const ann = await person(programId);
			const click = {
				programId,
				referrerId: ann.id,
				source: 'twitter',
				ipHash: 'ip-a',
				deviceHash: 'dev-a',
				touchedAt: T0,
			};
			const a = await ledger.recordReferral(click);
			const b = await ledger.recordReferral(click);
			const c = await ledger.recordReferral({ ...click, ipHash: 'ip-b' });
			expect(b).toMatchObject({ replayed: true, referral: { id: a.referral.id } });
			expect(c.referral.id).not.toBe(a.referral.id);
		});

		it('refuses unknown referrer, referee or code and writes nothing', async () => {
			const programId = await program();
			const ann = await person(programId);
			const stranger = await person(await program());
			const before = await snapshot(programId);
			await rejects(
				ledger.recordReferral({ programId, referrerId: 999_999, refereeId: ann.id }),
				'unknown_participant',
				'referrerId',
			);
			await rejects(
				ledger.recordReferral({ programId, referrerId: ann.id, refereeId: 999_999 }),
				'unknown_participant',
				'refereeId',
			);
			await rejects(ledger.recordReferral({ programId, code: 'NOSUCH' }), 'unknown_code', 'code');
			await rejects(
				ledger.recordReferral({ programId, referrerId: ann.id, refereeId: stranger.id }),
				'unknown_participant',
				'refereeId',
			);
			expect(await snapshot(programId)).toEqual(before);
		});

		it('lets exactly one of two racing transitions win, and appends it to the history', async () => {
			const programId = await program();
			const ann = await person(programId);
			const bob = await person(programId);
			const { referral } = await ledger.recordReferral({
				programId,
				referrerId: ann.id,
				refereeId: bob.id,
			});
			clock.now += 1000;
			const [approve, flag] = await Promise.all([
				ledger.transitionReferral({
					programId,
					referralId: referral.id,
					from: 'pending',
					to: 'approved',
					reason: 'looks fine',
				}),
				ledger.transitionReferral({
					programId,
					referralId: referral.id,
					from: 'pending',
					to: 'flagged',
					reason: 'same ip',
					reasons: ['same-ip'],
					riskScore: 0.9,
				}),
			]);
			expect([approve.transitioned, flag.transitioned].filter(Boolean)).toHaveLength(1);
			const winner = approve.transitioned ? approve : flag;
			const loser = approve.transitioned ? flag : approve;
			expect(loser.status).toBe(winner.status);
			expect(loser.record.status).toBe(winner.status);
			const history = await ledger.referralHistory({ programId, referralId: referral.id });
			expect(history.map((h) => [h.from, h.to])).toEqual([
				[null, 'pending'],
				['pending', winner.status],
			]);
			expect(
				(await ledger.readEvents({ afterId: 0, programId, types: [`referral.${winner.status}`] }))
					.events,
			).toHaveLength(1);
			await rejects(
				ledger.transitionReferral({
					programId,
					referralId: 999_999,
					from: 'pending',
					to: 'approved',
				}),
				'unknown_referral',
				'referralId',
			);
		});

		it('replays a keyed transition instead of reporting a lost race', async () => {
			const programId = await program();
			const ann = await person(programId);
			const bob = await person(programId);
			const { referral } = await ledger.recordReferral({
				programId,
				referrerId: ann.id,
				refereeId: bob.id,
			});
			const input = {
				programId,
				referralId: referral.id,
				from: 'pending',
				to: 'flagged',
				reason: 'velocity',
				idempotencyKey: `flag-${referral.id}`,
			};
			const results = await Promise.all([
				ledger.transitionReferral(input),
				ledger.transitionReferral(input),
				ledger.transitionReferral(input),
			]);
			expect(results.every((r) => r.transitioned && r.status === 'flagged')).toBe(true);
			expect(results.filter((r) => !r.replayed)).toHaveLength(1);
			expect(await ledger.referralHistory({ programId, referralId: referral.id })).toHaveLength(2);
		});

		it('qualifies by order id exactly once, and finds the referral by order id', async () => {
			const programId = await program();
			const ann = await person(programId);
			const bob = await person(programId);
			const carl = await person(programId);
			const { referral } = await ledger.recordReferral({
				programId,
				referrerId: ann.id,
				refereeId: bob.id,
			});
			const other = (
				await ledger.recordReferral({ programId, referrerId: ann.id, refereeId: carl.id })
			).referral;
			const input = {
				programId,
				referralId: referral.id,
				orderId: 'order-1',
				amount: 49.9,
				currency: 'eur',
				fromStatuses: ['pending', 'approved'],
			};
			const results = await Promise.all([
				ledger.qualifyReferral(input),
				ledger.qualifyReferral(input),
				ledger.qualifyReferral(input),
			]);
			expect(
				results.every(
					(r) =>
						r.qualified && r.referral.status === 'qualified' && r.conversion.orderId === 'order-1',
				),
			).toBe(true);
			expect(results.filter((r) => !r.replayed)).toHaveLength(1);
			expect(results[0].conversion).toMatchObject({ amount: 49.9, currency: 'EUR' });
			expect(results[0].referral.qualifiedAt).toBe(clock.now);
			expect((await ledger.findReferralByOrderId({ programId, orderId: 'order-1' }))?.id).toBe(
				referral.id,
			);
			expect(await ledger.findReferralByOrderId({ programId, orderId: 'order-2' })).toBeNull();
			expect(
				(await ledger.readEvents({ afterId: 0, programId, types: ['referral.qualified'] })).events,
			).toHaveLength(1);
			await rejects(
				ledger.qualifyReferral({ ...input, referralId: other.id }),
				'order_already_used',
				'orderId',
			);
			// Not in an allowed status: the order is recorded, the referral is not qualified.
			const late = await ledger.qualifyReferral({
				programId,
				referralId: other.id,
				orderId: 'order-3',
				fromStatuses: ['approved'],
			});
			expect(late).toMatchObject({
				qualified: false,
				referral: { status: 'pending', qualifiedAt: null },
			});
			expect((await ledger.findReferralByOrderId({ programId, orderId: 'order-3' }))?.id).toBe(
				other.id,
			);
			// The orders by referral, straight from the conversions (the outbox may be pruned).
			const orders = await ledger.listConversions({
				programId,
				referralIds: [referral.id, other.id],
			});
			expect(orders.map((c) => [c.referralId, c.orderId, c.amount, c.currency])).toEqual([
				[referral.id, 'order-1', 49.9, 'EUR'],
				[other.id, 'order-3', null, null],
			]);
			expect(
				(
					await ledger.listConversions({
						programId,
						referralIds: [referral.id, other.id],
						qualifiedOnly: true,
					})
				).map((c) => c.orderId),
			).toEqual(['order-1']);
			expect(await ledger.listConversions({ programId, referralIds: [] })).toEqual([]);
			await rejects(
				ledger.listConversions({ programId, referralIds: 'x' as never }),
				'invalid_type',
				'referralIds',
			);
		});

		it('counts per referrer and period by status, and finds velocity and shared signals', async () => {
			const programId = await program();
			const ann = await person(programId);
			const bob = await person(programId);
			const referees = await Promise.all(Array.from({ length: 5 }, () => person(programId)));
			const at = [T0 - 2 * DAY, T0 - 3 * HOUR, T0 - 30 * 60_000, T0 - 10 * 60_000, T0 - 60_000];
			const made = [];
			for (let i = 0; i < 5; i++) {
				made.push(
					(
						await ledger.recordReferral({
							programId,
							referrerId: i < 4 ? ann.id : bob.id,
							refereeId: referees[i].id,
							touchedAt: at[i],
							ipHash: i % 2 ? 'ip-shared' : `ip-${i}`,
							deviceHash: i === 4 ? 'dev-4' : undefined,
						})
					).referral,
				);
			}
			await ledger.transitionReferral({
				programId,
				referralId: made[1].id,
				from: 'pending',
				to: 'flagged',
			});
			expect(await ledger.countReferrals({ programId, referrerId: ann.id })).toEqual({
				total: 4,
				byStatus: { pending: 3, flagged: 1 },
			});
			expect(
				await ledger.countReferrals({ programId, referrerId: ann.id, since: T0 - HOUR }),
			).toEqual({ total: 2, byStatus: { pending: 2 } });
			expect(
				(
					await ledger.countReferrals({
						programId,
						since: T0 - DAY,
						until: new Date(T0 - 20 * 60_000),
					})
				).total,
			).toBe(2);
			// Velocity windows in one query: each count as countReferrals over [since, until) would give.
			expect(
				await ledger.countReferralsInWindows({
					programId,
					referrerId: ann.id,
					since: [T0 - HOUR, T0 - DAY, T0 - 3 * DAY, T0 - 20 * 60_000],
					until: T0,
				}),
			).toEqual([2, 3, 4, 1]);
			expect(
				await ledger.countReferralsInWindows({
					programId,
					referrerId: ann.id,
					since: [T0 - HOUR],
					until: T0 - 20 * 60_000,
				}),
			).toEqual([1]);
			expect(
				await ledger.countReferralsInWindows({
					programId,
					referrerId: bob.id,
					since: [T0 - HOUR, T0 - DAY],
					until: T0 + 1,
				}),
			).toEqual([1, 1]);
			const shared = await ledger.referralsBySignal({
				programId,
				ipHash: 'ip-shared',
				deviceHash: 'dev-4',
				since: T0 - DAY,
				excludeReferralId: made[3].id,
			});
			expect(shared.map((r) => r.id)).toEqual([made[4].id, made[1].id]);
		});

		it('gives the referral graph for ring detection', async () => {
			const programId = await program();
			const [a, b, c, d] = await Promise.all(Array.from({ length: 4 }, () => person(programId)));
			await ledger.recordReferral({ programId, referrerId: a.id, refereeId: b.id });
			await ledger.recordReferral({ programId, referrerId: b.id, refereeId: c.id });
			await ledger.recordReferral({ programId, referrerId: c.id, refereeId: a.id });
			await ledger.recordReferral({ programId, referrerId: d.id, source: 'click only' });
			const all = await ledger.referralEdges({ programId });
			expect(all.map((e) => [e.referrerId, e.refereeId])).toEqual([
				[a.id, b.id],
				[b.id, c.id],
				[c.id, a.id],
			]);
			expect((await ledger.referralEdges({ programId, participantIds: [b.id] })).length).toBe(2);
		});

		it('ranks a leaderboard by qualified referrals in a period, ties sharing a rank', async () => {
			const programId = await program();
			// Enrolled one by one: ties are listed in participant id order.
			const ann = await person(programId, { name: 'Ann' });
			const bob = await person(programId, { name: 'Bob' });
			const cy = await person(programId, { name: 'Cy' });
			const dee = await person(programId, { name: 'Dee' });
			const qualify = async (referrerId: number, occurredAt: number) => {
				const referee = await person(programId);
				const { referral } = await ledger.recordReferral({
					programId,
					referrerId,
					refereeId: referee.id,
				});
				await ledger.qualifyReferral({
					programId,
					referralId: referral.id,
					orderId: uid('order'),
					fromStatuses: ['pending'],
					occurredAt,
				});
				return referral;
			};
			for (const [who, n] of [
				[ann, 3],
				[bob, 2],
				[cy, 2],
				[dee, 1],
			] as const) {
				for (let i = 0; i < n; i++) await qualify(who.id, T0 + i);
			}
			const old = await qualify(dee.id, T0 - 40 * DAY);
			await qualify(dee.id, T0 - 40 * DAY);
			const board = await ledger.leaderboard({
				programId,
				by: 'qualifiedReferrals',
				since: T0 - DAY,
			});
			expect(board.map((r) => [r.rank, r.name, r.score])).toEqual([
				[1, 'Ann', 3],
				[2, 'Bob', 2],
				[2, 'Cy', 2],
				[4, 'Dee', 1],
			]);
			const allTime = await ledger.leaderboard({ programId, by: 'qualifiedReferrals', limit: 1 });
			expect(allTime).toEqual([expect.objectContaining({ rank: 1, score: 3 })]);
			expect(allTime.length).toBe(1);
			await ledger.transitionReferral({
				programId,
				referralId: old.id,
				from: 'qualified',
				to: 'reversed',
			});
			const withoutReversed = await ledger.leaderboard({
				programId,
				by: 'qualifiedReferrals',
				excludeStatuses: ['reversed'],
			});
			expect(withoutReversed.find((r) => r.participantId === dee.id)?.score).toBe(2);
		});
	});

	describe('rewards and points', () => {
		async function referralPair(programId: string) {
			const referrer = await person(programId);
			const referee = await person(programId);
			const { referral } = await ledger.recordReferral({
				programId,
				referrerId: referrer.id,
				refereeId: referee.id,
			});
			return { referrer, referee, referral };
		}

		it('a refund takes badges and tiers of the referrer away and grants a lower tier in its transaction, compare-and-set on what it saw', async () => {
			const programId = await program();
			const { referrer, referral } = await referralPair(programId);
			const other = await referralPair(programId);
			// The referrer's Gold tier and badge were earned by another referral of theirs.
			const tier = (
				await ledger.awardReward({
					programId,
					recipientId: referrer.id,
					referralId: other.referral.id,
					side: 'referrer',
					rule: 'tiers',
					kind: 'tier',
					status: 'approved',
					metadata: { tier: 'Gold' },
					idempotencyKey: 't-gold',
				})
			).reward;
			const badge = (
				await ledger.awardReward({
					programId,
					recipientId: referrer.id,
					referralId: other.referral.id,
					side: 'referrer',
					rule: 'badges',
					kind: 'badge',
					status: 'approved',
					metadata: { badge: 'Gold' },
					idempotencyKey: 'b-gold',
				})
			).reward;
			const base = {
				programId,
				referralId: referral.id,
				referralFrom: 'pending',
				referralTo: 'reversed',
				rewardIds: [],
				rewards: [],
				answer: { demoted: ['Gold'] },
			};
			const standing = {
				participantId: referrer.id,
				heldIds: [tier.id, badge.id],
				lose: [
					{ rewardId: tier.id, from: 'approved' as const },
					{ rewardId: badge.id, from: 'approved' as const },
				],
				grant: [
					{
						rule: 'tiers',
						kind: 'tier' as const,
						metadata: { tier: 'Silver' },
						idempotencyKey: 't-silver-held',
					},
				],
				events: [{ type: 'tier.lost', payload: { tier: 'Gold', now: 'Silver' } }],
			};
			// One more badge held meanwhile than the plan saw: nothing is written.
			const before = await snapshot(programId);
			await rejects(
				ledger.refundReferral({
					...base,
					idempotencyKey: 'refund-x',
					standing: { ...standing, heldIds: [tier.id], lose: [standing.lose[0]] },
				}),
				'status_changed',
				'standing.heldIds',
			);
			expect(await snapshot(programId)).toEqual(before);
			await rejects(
				ledger.refundReferral({
					...base,
					idempotencyKey: 'refund-y',
					standing: { ...standing, lose: [{ rewardId: tier.id, from: 'pending' as const }] },
				}),
				'status_changed',
			);
			expect(await snapshot(programId)).toEqual(before);
			await rejects(
				ledger.refundReferral({
					...base,
					idempotencyKey: 'refund-z',
					standing: { ...standing, lose: [{ rewardId: 999_999, from: 'approved' as const }] },
				}),
				'invalid_value',
				'standing.lose[0].rewardId',
			);

			const start = await ledger.latestEventId();
			const done = await ledger.refundReferral({ ...base, idempotencyKey: 'refund-1', standing });
			expect(done).toEqual({ answer: { demoted: ['Gold'] }, replayed: false });
			const rewards = await ledger.listRewards({ programId, recipientId: referrer.id });
			expect(
				rewards.map((r) => [r.kind, r.metadata.tier ?? r.metadata.badge, r.status, r.referralId]),
			).toEqual([
				['tier', 'Gold', 'reversed', other.referral.id],
				['badge', 'Gold', 'reversed', other.referral.id],
				['tier', 'Silver', 'approved', null],
			]);
			const events = (await ledger.readEvents({ afterId: start, programId })).events;
			expect(events.map((e) => e.type)).toEqual([
				'referral.reversed',
				'reward.reversed',
				'reward.reversed',
				'reward.awarded',
				'tier.lost',
			]);
			expect(events[4].payload).toEqual({ tier: 'Gold', now: 'Silver' });
			// A replay returns the first answer and writes nothing.
			const end = await ledger.latestEventId();
			expect(
				await ledger.refundReferral({ ...base, idempotencyKey: 'refund-1', standing }),
			).toEqual({ answer: { demoted: ['Gold'] }, replayed: true });
			expect(await ledger.latestEventId()).toBe(end);
			expect(await ledger.listRewards({ programId, recipientId: referrer.id })).toEqual(rewards);
		});

		it('awards each side once by default, and the points with it in the same step', async () => {
			const programId = await program();
			const { referrer, referee, referral } = await referralPair(programId);
			const reward = (recipientId: number, side: 'referrer' | 'referee') =>
				ledger.awardReward({
					programId,
					recipientId,
					referralId: referral.id,
					side,
					rule: 'signup',
					kind: 'points',
					amount: 100,
					points: { delta: 100, reason: 'signup' },
				});
			const [a, b, c] = await Promise.all([
				reward(referrer.id, 'referrer'),
				reward(referrer.id, 'referrer'),
				reward(referee.id, 'referee'),
			]);
			expect(a.reward.id).toBe(b.reward.id);
			expect([a.replayed, b.replayed].filter(Boolean)).toHaveLength(1);
			expect(c.reward.id).not.toBe(a.reward.id);
			expect(a.pointsEntry).toEqual(b.pointsEntry);
			expect(a.pointsEntry).toMatchObject({ delta: 100, balanceAfter: 100, rewardId: a.reward.id });
			expect(await ledger.listRewards({ programId })).toHaveLength(2);
			expect(await ledger.pointsBalance({ programId, participantId: referrer.id })).toBe(100);
			expect(await ledger.pointsJournal({ programId, participantId: referrer.id })).toHaveLength(1);
			expect(
				(await ledger.readEvents({ afterId: 0, programId, types: ['reward.awarded'] })).events,
			).toHaveLength(2);
		});

		it('returns the existing reward for a replayed key, also for racing calls', async () => {
			const programId = await program();
			const { referrer } = await referralPair(programId);
			const input = {
				programId,
				recipientId: referrer.id,
				side: 'participant' as const,
				rule: 'birthday',
				kind: 'coupon' as const,
				idempotencyKey: 'bday-2026',
			};
			const results = await Promise.all(Array.from({ length: 6 }, () => ledger.awardReward(input)));
			expect(new Set(results.map((r) => r.reward.id)).size).toBe(1);
			expect(results.filter((r) => !r.replayed)).toHaveLength(1);
			expect(results[0].reward.idempotencyKey).toBe('bday-2026');
			await rejects(
				ledger.awardReward({ ...input, kind: 'cash', amount: 5 }),
				'idempotency_key_reused',
				'idempotencyKey',
			);
			expect(await ledger.listRewards({ programId })).toHaveLength(1);
		});

		it('keeps what the server generates (times, the status it read, notes, metadata, events) out of every fingerprint', async () => {
			const programId = await program();
			const { referrer, referral } = await referralPair(programId);
			const later = () => (clock.now += 1_000);
			// Award: hold end, metadata and events are derived by the server; the reward itself is the request.
			const award = (holdUntil: number, note: string) =>
				ledger.awardReward({
					programId,
					recipientId: referrer.id,
					referralId: referral.id,
					side: 'referrer',
					rule: 'r1',
					kind: 'points',
					amount: 10,
					status: 'pending',
					holdUntil,
					metadata: { earnedAt: holdUntil, note },
					events: [{ type: 'x.y', payload: { at: holdUntil } }],
					idempotencyKey: 'award-1',
				});
			const first = await award(clock.now, 'a');
			later();
			const again = await award(clock.now + DAY, 'b');
			expect(again).toEqual({ ...first, replayed: true });
			await rejects(
				ledger.awardReward({
					programId,
					recipientId: referrer.id,
					referralId: referral.id,
					side: 'referrer',
					rule: 'r1',
					kind: 'points',
					amount: 11,
					idempotencyKey: 'award-1',
				}),
				'idempotency_key_reused',
				'idempotencyKey',
			);
			// Transition: the `from` the caller read and its reason change between a call and its replay.
			const move = (from: 'pending' | 'approved', reason: string) =>
				ledger.transitionReward({
					programId,
					rewardId: first.reward.id,
					from,
					to: 'approved',
					reason,
					points: { delta: 10 },
					idempotencyKey: 'approve-1',
				});
			const moved = await move('pending', 'holding period ended');
			later();
			const replayed = await move('approved', 'approved');
			expect(replayed).toMatchObject({
				transitioned: true,
				status: 'approved',
				replayed: true,
				pointsEntry: moved.pointsEntry,
			});
			expect(await ledger.pointsBalance({ programId, participantId: referrer.id })).toBe(10);
			await rejects(
				ledger.transitionReward({
					programId,
					rewardId: first.reward.id,
					from: 'approved',
					to: 'reversed',
					idempotencyKey: 'approve-1',
				}),
				'idempotency_key_reused',
				'idempotencyKey',
			);
			// Codes: an expiry computed from "now" differs on every run.
			const code = await ledger.issueCode({
				programId,
				ownerId: referrer.id,
				code: 'EXP-1',
				expiresAt: clock.now + DAY,
				maxUses: 1,
				idempotencyKey: 'coupon-1',
			});
			later();
			expect(
				await ledger.issueCode({
					programId,
					ownerId: referrer.id,
					code: 'EXP-1',
					expiresAt: clock.now + DAY,
					maxUses: 1,
					idempotencyKey: 'coupon-1',
				}),
			).toEqual({ ...code, replayed: true });
			// An order: its time may be the server's clock; the referral's status the caller read decides fromStatuses.
			const order = (occurredAt: number, fromStatuses: string[]) =>
				ledger.qualifyReferral({
					programId,
					referralId: referral.id,
					orderId: 'o-1',
					amount: 20,
					currency: 'EUR',
					occurredAt,
					fromStatuses,
					idempotencyKey: 'order-o-1',
				});
			const qualified = await order(clock.now, ['pending']);
			later();
			expect(await order(clock.now, ['never'])).toEqual({ ...qualified, replayed: true });
			// Points with a reason written by the server.
			const spend = (reason: string) =>
				ledger.appendPoints({
					programId,
					participantId: referrer.id,
					delta: -5,
					reason,
					idempotencyKey: 'spend-1',
				});
			const spent = await spend('redeemed at 12:00');
			expect(await spend('redeemed at 12:01')).toEqual({ ...spent, replayed: true });
			await rejects(
				ledger.appendPoints({
					programId,
					participantId: referrer.id,
					delta: -6,
					idempotencyKey: 'spend-1',
				}),
				'idempotency_key_reused',
				'idempotencyKey',
			);
		});

		it('refuses an order id sent again with another amount or currency, naming orderId', async () => {
			const programId = await program();
			const { referral } = await referralPair(programId);
			const base = {
				programId,
				referralId: referral.id,
				orderId: 'o-9',
				fromStatuses: ['pending'],
			};
			const first = await ledger.qualifyReferral({ ...base, amount: 20, currency: 'EUR' });
			expect(await ledger.qualifyReferral({ ...base, amount: 20, currency: 'eur' })).toMatchObject({
				qualified: true,
				replayed: true,
				conversion: first.conversion,
			});
			// Asking for the stored order without an amount is a lookup, not a conflict.
			expect(
				(await ledger.qualifyReferral({ ...base, fromStatuses: ['never'] })).conversion,
			).toEqual(first.conversion);
			const error = await rejects(
				ledger.qualifyReferral({ ...base, amount: 21, currency: 'EUR' }),
				'order_conflict',
				'orderId',
			);
			expect(error.message).toContain('o-9');
			await rejects(
				ledger.qualifyReferral({ ...base, amount: 20, currency: 'USD' }),
				'order_conflict',
				'orderId',
			);
		});

		it('moves a reward by compare-and-set, with points only for the winner', async () => {
			const programId = await program();
			const { referrer, referral } = await referralPair(programId);
			const { reward } = await ledger.awardReward({
				programId,
				recipientId: referrer.id,
				referralId: referral.id,
				side: 'referrer',
				rule: 'sale',
				kind: 'points',
				amount: 50,
			});
			const fulfil = () =>
				ledger.transitionReward({
					programId,
					rewardId: reward.id,
					from: 'pending',
					to: 'fulfilled',
					points: { delta: 50 },
				});
			const results = await Promise.all([fulfil(), fulfil(), fulfil()]);
			expect(results.filter((r) => r.transitioned)).toHaveLength(1);
			expect(results.every((r) => r.status === 'fulfilled')).toBe(true);
			expect(await ledger.pointsBalance({ programId, participantId: referrer.id })).toBe(50);
			// A reversal may take the balance below zero only when allowed.
			await ledger.appendPoints({
				programId,
				participantId: referrer.id,
				delta: -30,
				reason: 'spent',
			});
			const before = await snapshot(programId);
			await rejects(
				ledger.transitionReward({
					programId,
					rewardId: reward.id,
					from: 'fulfilled',
					to: 'reversed',
					points: { delta: -50 },
				}),
				'insufficient_points',
				'points.delta',
			);
			expect(await snapshot(programId)).toEqual(before);
			expect((await ledger.getReward({ programId, id: reward.id }))?.status).toBe('fulfilled');
			expect(await ledger.pointsBalance({ programId, participantId: referrer.id })).toBe(20);
			const reversed = await ledger.transitionReward({
				programId,
				rewardId: reward.id,
				from: 'fulfilled',
				to: 'reversed',
				reason: 'refund',
				points: { delta: -50, allowNegative: true },
			});
			expect(reversed).toMatchObject({
				transitioned: true,
				status: 'reversed',
				pointsEntry: { delta: -50, balanceAfter: -30 },
			});
			expect(
				(await ledger.rewardHistory({ programId, rewardId: reward.id })).map((h) => h.to),
			).toEqual(['pending', 'fulfilled', 'reversed']);
			expect(
				(await ledger.readEvents({ afterId: 0, programId, types: ['reward.reversed'] })).events,
			).toHaveLength(1);
		});

		it('lists rewards due for approval once their hold has ended', async () => {
			const programId = await program();
			const { referrer, referee, referral } = await referralPair(programId);
			const base = {
				programId,
				referralId: referral.id,
				rule: 'hold',
				kind: 'cash' as const,
				amount: 10,
				currency: 'usd',
			};
			const held = await ledger.awardReward({
				...base,
				recipientId: referrer.id,
				side: 'referrer',
				holdUntil: clock.now + 7 * DAY,
			});
			const free = await ledger.awardReward({ ...base, recipientId: referee.id, side: 'referee' });
			await ledger.awardReward({
				...base,
				recipientId: referee.id,
				side: 'referee',
				rule: 'approved-already',
				status: 'approved',
			});
			expect((await ledger.rewardsDueForApproval({ programId })).map((r) => r.id)).toEqual([
				free.reward.id,
			]);
			expect(
				(await ledger.rewardsDueForApproval({ programId, now: clock.now + 8 * DAY }))
					.map((r) => r.id)
					.sort(),
			).toEqual([held.reward.id, free.reward.id].sort());
			expect(
				await ledger.listRewards({ programId, recipientId: referee.id, status: 'approved' }),
			).toHaveLength(1);
			expect(free.reward.currency).toBe('USD');
		});

		it('keeps the balance equal to the journal under racing appends, and appends a key once', async () => {
			const programId = await program();
			const ann = await person(programId);
			const deltas = Array.from({ length: 30 }, (_, i) => (i % 3 === 0 ? 5 : 2));
			await Promise.all(
				deltas.map((delta, i) =>
					ledger.appendPoints({
						programId,
						participantId: ann.id,
						delta,
						idempotencyKey: `p-${i}`,
					}),
				),
			);
			const same = await Promise.all(
				Array.from({ length: 5 }, () =>
					ledger.appendPoints({
						programId,
						participantId: ann.id,
						delta: 7,
						idempotencyKey: 'bonus',
					}),
				),
			);
			expect(new Set(same.map((r) => r.entry.id)).size).toBe(1);
			const journal = await ledger.pointsJournal({ programId, participantId: ann.id, limit: 1000 });
			const sum = journal.reduce((total, e) => total + e.delta, 0);
			expect(sum).toBe(deltas.reduce((a, b) => a + b, 0) + 7);
			expect(await ledger.pointsBalance({ programId, participantId: ann.id })).toBe(sum);
			// Every entry's balanceAfter continues the previous one: no update was lost.
			const ordered = [...journal].sort((a, b) => a.balanceAfter - b.balanceAfter);
			expect(new Set(ordered.map((e) => e.balanceAfter)).size).toBe(journal.length);
			expect(ordered[ordered.length - 1].balanceAfter).toBe(sum);
		});

		it('derives a default key for appendPoints from its inputs', async () => {
			const programId = await program();
			const ann = await person(programId);
			await ledger.appendPoints({ programId, participantId: ann.id, delta: 10, reason: 'review' });
			const again = await ledger.appendPoints({
				programId,
				participantId: ann.id,
				delta: 10,
				reason: 'review',
			});
			expect(again.replayed).toBe(true);
			await ledger.appendPoints({
				programId,
				participantId: ann.id,
				delta: 10,
				reason: 'second review',
			});
			expect(await ledger.pointsBalance({ programId, participantId: ann.id })).toBe(20);
			await rejects(
				ledger.appendPoints({ programId, participantId: ann.id, delta: -21 }),
				'insufficient_points',
				'delta',
			);
			expect(
				(
					await ledger.appendPoints({
						programId,
						participantId: ann.id,
						delta: -21,
						allowNegative: true,
					})
				).balance,
			).toBe(-1);
		});

		it('ranks a points leaderboard all-time from balances and in a period from the journal', async () => {
			const programId = await program();
			const ann = await person(programId, { name: 'Ann' });
			const bob = await person(programId, { name: 'Bob' });
			await ledger.appendPoints({ programId, participantId: ann.id, delta: 100, reason: 'old' });
			clock.now += DAY;
			const since = clock.now;
			await ledger.appendPoints({ programId, participantId: bob.id, delta: 30, reason: 'new' });
			await ledger.appendPoints({ programId, participantId: ann.id, delta: 10, reason: 'new' });
			expect(
				(await ledger.leaderboard({ programId, by: 'points' })).map((r) => [
					r.rank,
					r.name,
					r.score,
				]),
			).toEqual([
				[1, 'Ann', 110],
				[2, 'Bob', 30],
			]);
			expect(
				(await ledger.leaderboard({ programId, by: 'points', since })).map((r) => [
					r.rank,
					r.name,
					r.score,
				]),
			).toEqual([
				[1, 'Bob', 30],
				[2, 'Ann', 10],
			]);
		});
	});

	describe('coupon pools', () => {
		it('loads codes once and never hands one coupon to two racing claims', async () => {
			const programId = await program();
			const people = await Promise.all(Array.from({ length: 10 }, () => person(programId)));
			const loaded = await ledger.loadCoupons({
				programId,
				pool: 'SAVE10',
				codes: ['C1', 'C2', 'C3', 'C4', 'C5', 'C5'],
			});
			expect(loaded).toMatchObject({ added: 5, duplicates: 1, available: 5 });
			expect(
				(await ledger.loadCoupons({ programId, pool: 'SAVE10', codes: ['C1', 'C6'] })).added,
			).toBe(1);
			const claims = await Promise.all(
				people.map((p) =>
					ledger.claimCoupon({
						programId,
						pool: 'SAVE10',
						participantId: p.id,
						lowStockThreshold: 3,
					}),
				),
			);
			const won = claims.filter((c) => c.coupon !== null).map((c) => c.coupon!.code);
			expect(won.sort()).toEqual(['C1', 'C2', 'C3', 'C4', 'C5', 'C6']);
			expect(claims.filter((c) => c.coupon === null)).toHaveLength(4);
			expect(await ledger.countCoupons({ programId, pool: 'SAVE10' })).toEqual({
				available: 0,
				claimed: 6,
			});
			const low = (await ledger.readEvents({ afterId: 0, programId, types: ['coupon.pool_low'] }))
				.events;
			expect(low.map((e) => e.payload)).toEqual([{ pool: 'SAVE10', available: 2, threshold: 3 }]);
		});

		it("lists programs and a program's coupon pools for the editor's pickers, filtered by search", async () => {
			const programId = await program();
			const ann = await person(programId);
			await ledger.loadCoupons({ programId, pool: 'SPRING', codes: ['S1', 'S2'] });
			await ledger.loadCoupons({ programId, pool: 'AUTUMN', codes: ['A1'] });
			await ledger.claimCoupon({ programId, pool: 'SPRING', participantId: ann.id });
			expect(await ledger.listCouponPools({ programId })).toEqual([
				{ pool: 'AUTUMN', available: 1, total: 1 },
				{ pool: 'SPRING', available: 1, total: 2 },
			]);
			expect(await ledger.listCouponPools({ programId, search: ' spr ' })).toEqual([
				{ pool: 'SPRING', available: 1, total: 2 },
			]);
			expect(await ledger.listCouponPools({ programId, limit: 1 })).toHaveLength(1);
			expect(
				(await ledger.listPrograms({ search: programId.toUpperCase() })).map((p) => p.id),
			).toEqual([programId]);
			expect(await ledger.listPrograms({ limit: 1 })).toHaveLength(1);
		});

		it('replays a claim for the same reward, and does not remember a claim on an empty pool', async () => {
			const programId = await program();
			const ann = await person(programId);
			const { reward } = await ledger.awardReward({
				programId,
				recipientId: ann.id,
				side: 'participant',
				rule: 'coupon',
				kind: 'coupon',
			});
			const empty = await ledger.claimCoupon({ programId, pool: 'P', rewardId: reward.id });
			expect(empty).toEqual({ coupon: null, available: 0, replayed: false });
			await ledger.loadCoupons({ programId, pool: 'P', codes: ['X1', 'X2'] });
			const first = await ledger.claimCoupon({
				programId,
				pool: 'P',
				rewardId: reward.id,
				participantId: ann.id,
			});
			const again = await ledger.claimCoupon({
				programId,
				pool: 'P',
				rewardId: reward.id,
				participantId: ann.id,
			});
			expect(first.coupon).toMatchObject({
				code: 'X1',
				status: 'claimed',
				claimedBy: ann.id,
				rewardId: reward.id,
			});
			expect(again).toMatchObject({ coupon: first.coupon, available: 1, replayed: true });
			await rejects(ledger.claimCoupon({ programId, pool: 'P' }), 'required', 'rewardId');
		});
	});

	describe('outbox', () => {
		it('reads events after a cursor, filtered by type and program, in id order with a limit', async () => {
			const a = await program();
			const b = await program();
			const start = await ledger.latestEventId();
			for (let i = 0; i < 5; i++) {
				await ledger.appendEvent({ programId: a, type: 'tier.reached', payload: { i } });
				await ledger.appendEvent({ programId: b, type: 'tier.reached', payload: { i } });
				await ledger.appendEvent({ programId: a, type: 'custom.other', payload: { i } });
			}
			const pages = [];
			let cursor = start;
			for (;;) {
				const page = await ledger.readEvents({
					afterId: cursor,
					programId: a,
					types: ['tier.reached'],
					limit: 2,
				});
				if (page.events.length === 0) break;
				pages.push(page.events.map((e) => e.payload.i));
				expect(page.cursor).toBeGreaterThan(cursor);
				cursor = page.cursor;
			}
			expect(pages).toEqual([[0, 1], [2, 3], [4]]);
			expect(cursor).toBe(await ledger.latestEventId());
			const both = (
				await ledger.readEvents({
					afterId: start,
					types: ['tier.reached', 'custom.other'],
					limit: 100,
				})
			).events;
			expect(both).toHaveLength(15);
			expect(both.map((e) => e.id)).toEqual([...both.map((e) => e.id)].sort((x, y) => x - y));
		});

		it('appends an event once per key (derived from its content by default)', async () => {
			const programId = await program();
			const first = await ledger.appendEvent({
				programId,
				type: 'tier.reached',
				payload: { participantId: 1, tier: 'gold' },
			});
			const again = await ledger.appendEvent({
				programId,
				type: 'tier.reached',
				payload: { tier: 'gold', participantId: 1 },
			});
			expect(again).toEqual({ event: first.event, replayed: true });
			expect((await ledger.readEvents({ afterId: 0, programId })).events).toHaveLength(1);
		});

		it('lets a poller see every event exactly once while writers append concurrently', async () => {
			const programId = await program();
			const start = await ledger.latestEventId();
			const seen: number[] = [];
			let done = false;
			const poller = (async () => {
				let cursor = start;
				for (;;) {
					const finished = done;
					const page = await ledger.readEvents({
						afterId: cursor,
						programId,
						types: ['test.tick'],
						limit: 7,
					});
					seen.push(...page.events.map((e) => e.id));
					cursor = page.cursor;
					if (finished && page.events.length === 0) return;
					// A real poller waits between polls; on SQLite every call completes without yielding.
					await new Promise((resolve) => setImmediate(resolve));
				}
			})();
			const writer = async (w: number) => {
				const other = await target.openAgain(() => clock.now);
				try {
					for (let i = 0; i < 30; i++)
						await other.appendEvent({ programId, type: 'test.tick', payload: { w, i } });
				} finally {
					await other.close();
				}
			};
			await Promise.all([0, 1, 2, 3].map(writer));
			done = true;
			await poller;
			const all = (await ledger.readEvents({ afterId: start, programId, limit: 1000 })).events.map(
				(e) => e.id,
			);
			expect(all).toHaveLength(120);
			expect(seen).toEqual(all);
		});

		it('prunes old events without ever reusing an id', async () => {
			const programId = await program();
			const old = await ledger.appendEvent({ programId, type: 'prune.me', payload: {} });
			clock.now += DAY;
			expect(await ledger.pruneEvents({ before: clock.now })).toBeGreaterThan(0);
			expect((await ledger.readEvents({ afterId: 0, programId })).events).toHaveLength(0);
			const fresh = await ledger.appendEvent({
				programId,
				type: 'prune.me',
				payload: { fresh: true },
			});
			expect(fresh.event.id).toBeGreaterThan(old.event.id);
			const page = await ledger.readEvents({ afterId: old.event.id, programId });
			expect(page.events.map((e) => e.id)).toEqual([fresh.event.id]);
		});
	});

	describe('suppression list and message log', () => {
		it('adds, checks and removes suppressions by channel and normalized address', async () => {
			const address = `${uid('opt-out')}@Example.com`;
			const added = await ledger.addSuppression({
				channel: 'email',
				address,
				reason: 'unsubscribed',
			});
			expect(added).toMatchObject({
				created: true,
				suppression: { address: address.toLowerCase(), reason: 'unsubscribed' },
			});
			expect(
				(
					await ledger.addSuppression({
						channel: 'email',
						address: address.toUpperCase(),
						reason: 'again',
					})
				).created,
			).toBe(false);
			expect((await ledger.getSuppression({ channel: 'email', address }))?.reason).toBe(
				'unsubscribed',
			);
			expect(await ledger.getSuppression({ channel: 'sms', address: '+15550000000' })).toBeNull();
			expect(
				await ledger.suppressedAddresses({
					channel: 'email',
					addresses: [address, 'someone-else@example.com'],
				}),
			).toEqual([address.toLowerCase()]);
			expect((await ledger.removeSuppression({ channel: 'email', address })).removed).toBe(true);
			expect((await ledger.removeSuppression({ channel: 'email', address })).removed).toBe(false);
			expect(await ledger.getSuppression({ channel: 'email', address })).toBeNull();
		});

		it('reserves a message key for exactly one of racing senders', async () => {
			const input = {
				channel: 'email',
				recipient: `${uid('r')}@example.com`,
				templateId: 'welcome',
				reference: 'referral-1',
			};
			const results = await Promise.all(
				Array.from({ length: 6 }, () => ledger.reserveMessage(input)),
			);
			expect(results.filter((r) => r.reserved)).toHaveLength(1);
			expect(new Set(results.map((r) => r.message.id)).size).toBe(1);
			const key = results[0].message.idempotencyKey;
			const sent = await ledger.completeMessage({
				idempotencyKey: key,
				status: 'sent',
				providerId: 'msg_123',
			});
			expect(sent).toMatchObject({ status: 'sent', providerId: 'msg_123', attempts: 1 });
			expect(await ledger.reserveMessage(input)).toMatchObject({
				reserved: false,
				message: { status: 'sent' },
			});
			expect(await ledger.completeMessage({ idempotencyKey: key, status: 'failed' })).toMatchObject(
				{ status: 'sent' },
			);
			await rejects(
				ledger.completeMessage({ idempotencyKey: uid('never'), status: 'sent' }),
				'unknown_message',
				'idempotencyKey',
			);
		});

		it('hands a failed or stale reservation over only when asked to', async () => {
			const key = uid('msg');
			const input = { idempotencyKey: key, channel: 'sms', recipient: '+15551230000' };
			expect((await ledger.reserveMessage(input)).reserved).toBe(true);
			await ledger.completeMessage({
				idempotencyKey: key,
				status: 'failed',
				error: 'provider 503',
			});
			expect((await ledger.reserveMessage(input)).reserved).toBe(false);
			const retry = await Promise.all([
				ledger.reserveMessage({ ...input, retryFailed: true }),
				ledger.reserveMessage({ ...input, retryFailed: true }),
			]);
			expect(retry.filter((r) => r.reserved)).toHaveLength(1);
			expect(retry.find((r) => r.reserved)?.message).toMatchObject({
				status: 'reserved',
				attempts: 2,
				error: null,
			});
			expect((await ledger.reserveMessage({ ...input, staleAfterMs: HOUR })).reserved).toBe(false);
			clock.now += 2 * HOUR;
			expect(await ledger.reserveMessage({ ...input, staleAfterMs: HOUR })).toMatchObject({
				reserved: true,
				message: { attempts: 3 },
			});
		});
	});

	describe('retention', () => {
		it('prunes final messages, events and kept answers older than the cutoff, in batches, and keeps exactly-once inside the window', async () => {
			const programId = await program();
			const message = (name: string) => ({
				idempotencyKey: uid(name),
				channel: 'email',
				recipient: `${uid(name)}@example.com`,
			});
			const oldSent = message('old-sent');
			const oldFailed = message('old-failed');
			const oldReserved = message('old-reserved');
			for (const m of [oldSent, oldFailed, oldReserved])
				expect((await ledger.reserveMessage(m)).reserved).toBe(true);
			await ledger.completeMessage({ idempotencyKey: oldSent.idempotencyKey, status: 'sent' });
			await ledger.completeMessage({
				idempotencyKey: oldFailed.idempotencyKey,
				status: 'failed',
				error: 'provider 550',
			});
			const oldKey = uid('answer');
			await ledger.keepAnswer({ programId, operation: 'signUp', key: oldKey, answer: { n: 1 } });
			const oldEvent = await ledger.appendEvent({ programId, type: 'retention.old', payload: {} });

			clock.now += 10 * DAY;
			const recent = message('recent-sent');
			expect((await ledger.reserveMessage(recent)).reserved).toBe(true);
			await ledger.completeMessage({ idempotencyKey: recent.idempotencyKey, status: 'sent' });
			const recentKey = uid('answer');
			await ledger.keepAnswer({ programId, operation: 'signUp', key: recentKey, answer: { n: 2 } });
			const recentEvent = await ledger.appendEvent({
				programId,
				type: 'retention.recent',
				payload: {},
			});

			const before = clock.now - 5 * DAY;
			const pruned = await ledger.pruneLedger({ before, batchSize: 1 });
			expect(pruned.before).toBe(before);
			expect(pruned.messages).toBeGreaterThanOrEqual(2);
			expect(pruned.events).toBeGreaterThanOrEqual(1);
			expect(pruned.idempotencyKeys).toBeGreaterThanOrEqual(1);

			// Inside the window: the sent message still answers a retry (no second send), the answer is kept.
			expect(await ledger.reserveMessage(recent)).toMatchObject({
				reserved: false,
				message: { status: 'sent' },
			});
			expect(await ledger.keptAnswer({ programId, operation: 'signUp', key: recentKey })).toEqual({
				n: 2,
			});
			const events = (await ledger.readEvents({ afterId: 0, programId })).events;
			expect(events.map((e) => e.id)).toEqual([recentEvent.event.id]);
			// A reservation without an outcome is never pruned, whatever its age.
			expect(await ledger.reserveMessage(oldReserved)).toMatchObject({
				reserved: false,
				message: { status: 'reserved' },
			});
			// Past the window the old rows are gone: the key is free again, the answer forgotten.
			expect((await ledger.reserveMessage(oldSent)).reserved).toBe(true);
			expect((await ledger.reserveMessage(oldFailed)).reserved).toBe(true);
			expect(await ledger.keptAnswer({ programId, operation: 'signUp', key: oldKey })).toBeNull();
			expect(oldEvent.event.id).toBeLessThan(recentEvent.event.id);
			// A second prune with the same cutoff finds nothing of these left.
			const again = await ledger.pruneLedger({ before });
			expect(again).toEqual({ before, events: 0, messages: 0, idempotencyKeys: 0 });
		});

		it('refuses a cutoff that is not a time', async () => {
			await rejects(ledger.pruneLedger({ before: 'soon' }), 'invalid_time', 'before');
		});
	});

	describe('lead scoring models', () => {
		it('saves a named model and bumps the version only when it changes', async () => {
			const name = uid('model');
			const model = {
				rules: [{ field: 'visits', op: 'gte', value: 3, points: 10 }],
				threshold: 50,
			};
			expect(await ledger.saveScoringModel({ name, model })).toMatchObject({
				changed: true,
				model: { version: 1, model },
			});
			expect(await ledger.saveScoringModel({ name, model })).toMatchObject({
				changed: false,
				model: { version: 1 },
			});
			const next = { ...model, threshold: 60 };
			expect(await ledger.saveScoringModel({ name, model: next })).toMatchObject({
				changed: true,
				model: { version: 2, model: next },
			});
			expect(await ledger.loadScoringModel(name)).toMatchObject({ name, version: 2, model: next });
			expect(await ledger.loadScoringModel(uid('none'))).toBeNull();
		});
	});

	describe('clicks (tracked referral links)', () => {
		const VISITOR_A = 'visitorAAAAAAAAAAAAAAA';
		const VISITOR_B = 'visitorBBBBBBBBBBBBBBB';
		const click = (programId: string, fields: Record<string, unknown> = {}) =>
			ledger.recordClick({
				programId,
				codeStatus: 'unknown',
				channel: 'direct',
				visitorId: VISITOR_A,
				...fields,
			} as never);

		it('records a click with hashes, host, utm and channel, and refuses bad input without writing', async () => {
			const programId = await program();
			const ann = await person(programId);
			const { click: row, limited } = await click(programId, {
				code: 'ANN1',
				referrerId: ann.id,
				codeStatus: 'known',
				ipHash: 'iphash-1',
				uaHash: 'uahash-1',
				referringSite: 'news.example',
				utmSource: 'newsletter',
				utmMedium: 'email',
				channel: 'newsletter',
			});
			expect(limited).toBe(false);
			expect(row).toMatchObject({
				programId,
				code: 'ANN1',
				referrerId: ann.id,
				codeStatus: 'known',
				createdAt: clock.now,
				ipHash: 'iphash-1',
				uaHash: 'uahash-1',
				referringSite: 'news.example',
				utmSource: 'newsletter',
				utmMedium: 'email',
				utmCampaign: null,
				channel: 'newsletter',
				visitorId: VISITOR_A,
			});
			await rejects(click(programId, { visitorId: 'short' }), 'invalid_value', 'visitorId');
			await rejects(click(programId, { codeStatus: 'maybe' }), 'invalid_value', 'codeStatus');
			await rejects(click(programId, { referrerId: 999_999 }), 'unknown_participant', 'referrerId');
			await rejects(click('no-such-program'), 'unknown_program', 'programId');
			expect((await ledger.clickStats({ programId })).clicks).toBe(1);
		});

		it('rate-limits per ip hash in a bounded window (also when the clicks race), other ips unaffected', async () => {
			const programId = await program();
			const since = clock.now - HOUR;
			const results = await Promise.all(
				Array.from({ length: 6 }, () =>
					click(programId, { ipHash: 'busy-ip', rateLimit: { max: 3, since } }),
				),
			);
			expect(results.filter((r) => !r.limited)).toHaveLength(3);
			expect(results.filter((r) => r.limited).every((r) => r.click === null)).toBe(true);
			expect(
				(await click(programId, { ipHash: 'other-ip', rateLimit: { max: 3, since } })).limited,
			).toBe(false);
			// Without an ip hash there is nothing to limit by.
			expect((await click(programId, { rateLimit: { max: 1, since } })).limited).toBe(false);
			expect((await ledger.clickStats({ programId })).clicks).toBe(5);
			// Once the window has moved past the earlier clicks, the ip counts again.
			expect(
				(await click(programId, { ipHash: 'busy-ip', rateLimit: { max: 3, since: clock.now + 1 } }))
					.limited,
			).toBe(false);
		});

		it("finds a visitor's first or last attributable click in a window", async () => {
			const programId = await program();
			const ann = await person(programId);
			const bob = await person(programId);
			const known = { codeStatus: 'known' };
			await click(programId, { ...known, code: 'ANN', referrerId: ann.id, at: T0 - 3 * DAY });
			await click(programId, { ...known, code: 'BOB', referrerId: bob.id, at: T0 - DAY });
			await click(programId, { code: 'NOPE', at: T0 - HOUR }); // unknown: never attributes
			await click(programId, {
				...known,
				code: 'ANN',
				referrerId: ann.id,
				visitorId: VISITOR_B,
				at: T0 - 2 * DAY,
			});
			const window = { programId, visitorId: VISITOR_A, since: T0 - 10 * DAY, until: T0 };
			expect(await ledger.visitorClick({ ...window, pick: 'first' })).toMatchObject({
				referrerId: ann.id,
				createdAt: T0 - 3 * DAY,
			});
			expect(await ledger.visitorClick({ ...window, pick: 'last' })).toMatchObject({
				referrerId: bob.id,
				createdAt: T0 - DAY,
			});
			expect(
				await ledger.visitorClick({ ...window, pick: 'last', attributableOnly: false }),
			).toMatchObject({ codeStatus: 'unknown', referrerId: null });
			expect(
				await ledger.visitorClick({ ...window, since: T0 - 2 * DAY, pick: 'first' }),
			).toMatchObject({ referrerId: bob.id });
			expect(
				await ledger.visitorClick({ ...window, since: T0 - 12 * HOUR, pick: 'first' }),
			).toBeNull();
			expect(
				await ledger.visitorClick({
					...window,
					visitorId: 'nobodyAAAAAAAAAAAAAAAA',
					pick: 'first',
				}),
			).toBeNull();
		});

		it('a referral remembers its click; an unknown click id is refused and writes nothing', async () => {
			const programId = await program();
			const ann = await person(programId);
			const bob = await person(programId);
			const { click: row } = await click(programId, { codeStatus: 'known', referrerId: ann.id });
			const { referral } = await ledger.recordReferral({
				programId,
				referrerId: ann.id,
				refereeId: bob.id,
				clickId: row!.id,
			});
			expect(referral.clickId).toBe(row!.id);
			const carl = await person(programId);
			const before = await snapshot(programId);
			await rejects(
				ledger.recordReferral({
					programId,
					referrerId: ann.id,
					refereeId: carl.id,
					clickId: 999_999,
				}),
				'unknown_click',
				'clickId',
			);
			expect(await snapshot(programId)).toEqual(before);
		});

		it('sums clicks, sign-ups and qualified referrals per referrer and per channel in a period', async () => {
			const programId = await program();
			const ann = await person(programId);
			const bob = await person(programId);
			const known = (referrerId: number, channel: string, at: number, visitorId = VISITOR_A) =>
				click(programId, { codeStatus: 'known', referrerId, channel, at, visitorId });
			const a1 = (await known(ann.id, 'newsletter', T0))!.click!;
			await known(ann.id, 'newsletter', T0 + 1, VISITOR_B);
			const a3 = (await known(ann.id, 'x.com', T0 + 2))!.click!;
			await known(bob.id, 'direct', T0 + 3);
			await click(programId, { codeStatus: 'revoked', code: 'OLD', at: T0 + 4 });
			await click(programId, { at: T0 + 5 });
			await known(bob.id, 'direct', T0 + 10 * DAY); // outside the period
			const referee = async (clickId: number | undefined, referrerId: number, qualify: boolean) => {
				const { referral } = await ledger.recordReferral({
					programId,
					referrerId,
					refereeId: (await person(programId)).id,
					clickId,
					touchedAt: T0 + 100,
				});
				if (qualify)
					await ledger.qualifyReferral({
						programId,
						referralId: referral.id,
						orderId: uid('order'),
						fromStatuses: ['pending'],
					});
			};
			await referee(a1.id, ann.id, true);
			await referee(a3.id, ann.id, false);
			await referee(undefined, bob.id, true); // a typed code: no click, no channel
			const stats = await ledger.clickStats({ programId, since: T0, until: T0 + DAY });
			expect(stats).toMatchObject({
				clicks: 6,
				signUps: 3,
				qualified: 2,
				visitors: 2,
				byCodeStatus: { known: 4, revoked: 1, unknown: 1 },
			});
			expect(stats.byReferrer).toEqual([
				{ referrerId: ann.id, clicks: 3, signUps: 2, qualified: 1 },
				{ referrerId: bob.id, clicks: 1, signUps: 1, qualified: 1 },
			]);
			expect(stats.byChannel).toEqual([
				{ channel: 'direct', clicks: 3, signUps: 0, qualified: 0 },
				{ channel: 'newsletter', clicks: 2, signUps: 1, qualified: 1 },
				{ channel: 'x.com', clicks: 1, signUps: 1, qualified: 0 },
			]);
			const only = await ledger.clickStats({
				programId,
				since: T0,
				until: T0 + DAY,
				referrerIds: [bob.id],
			});
			expect(only.byReferrer).toEqual([
				{ referrerId: bob.id, clicks: 1, signUps: 1, qualified: 1 },
			]);
			expect((await ledger.clickStats({ programId })).clicks).toBe(7);
		});
	});

	describe('bad input', () => {
		const ctx = { programId: '', participantId: 0, rewardId: 0, referralId: 0 };
		beforeAll(async () => {
			ctx.programId = await program();
			const ann = await person(ctx.programId);
			const bob = await person(ctx.programId);
			ctx.participantId = ann.id;
			ctx.referralId = (
				await ledger.recordReferral({
					programId: ctx.programId,
					referrerId: ann.id,
					refereeId: bob.id,
				})
			).referral.id;
			ctx.rewardId = (
				await ledger.awardReward({
					programId: ctx.programId,
					recipientId: ann.id,
					side: 'referrer',
					rule: 'x',
					kind: 'badge',
				})
			).reward.id;
		});

		const long = (n: number) => 'x'.repeat(n);
		const cases: Array<{
			name: string;
			call: () => Promise<unknown>;
			code: string;
			field: string;
		}> = [
			{
				name: 'input that is not an object',
				call: () => ledger.enrolParticipant(null as never),
				code: 'invalid_type',
				field: 'input',
			},
			{
				name: 'missing programId',
				call: () => ledger.enrolParticipant({ email: 'a@example.com' } as never),
				code: 'required',
				field: 'programId',
			},
			{
				name: 'email of the wrong type',
				call: () => ledger.enrolParticipant({ programId: ctx.programId, email: {} as never }),
				code: 'invalid_type',
				field: 'email',
			},
			{
				name: 'email that is no address',
				call: () => ledger.enrolParticipant({ programId: ctx.programId, email: 'not-an-email' }),
				code: 'invalid_email',
				field: 'email',
			},
			{
				name: 'oversize email (321 characters)',
				call: () =>
					ledger.enrolParticipant({ programId: ctx.programId, email: `${long(309)}@example.com` }),
				code: 'too_long',
				field: 'email',
			},
			{
				name: 'oversize externalId',
				call: () => ledger.enrolParticipant({ programId: ctx.programId, externalId: long(257) }),
				code: 'too_long',
				field: 'externalId',
			},
			{
				name: 'name with a line break',
				call: () =>
					ledger.enrolParticipant({
						programId: ctx.programId,
						email: 'n@example.com',
						name: 'a\nb',
					}),
				code: 'invalid_value',
				field: 'name',
			},
			{
				name: 'metadata over 64 KiB',
				call: () =>
					ledger.enrolParticipant({
						programId: ctx.programId,
						email: 'm@example.com',
						metadata: { blob: long(70_000) },
					}),
				code: 'too_large',
				field: 'metadata',
			},
			{
				name: 'metadata that is a list',
				call: () =>
					ledger.enrolParticipant({
						programId: ctx.programId,
						email: 'm@example.com',
						metadata: [] as never,
					}),
				code: 'invalid_type',
				field: 'metadata',
			},
			{
				name: 'metadata with a BigInt',
				call: () =>
					ledger.enrolParticipant({
						programId: ctx.programId,
						email: 'm@example.com',
						metadata: { n: 1n },
					}),
				code: 'invalid_json',
				field: 'metadata',
			},
			{
				name: 'neither email nor externalId',
				call: () => ledger.enrolParticipant({ programId: ctx.programId, name: 'Nobody' }),
				code: 'required',
				field: 'email',
			},
			{
				name: 'oversize idempotencyKey',
				call: () =>
					ledger.enrolParticipant({
						programId: ctx.programId,
						email: 'k@example.com',
						idempotencyKey: long(257),
					}),
				code: 'too_long',
				field: 'idempotencyKey',
			},
			{
				name: 'points delta as text',
				call: () =>
					ledger.appendPoints({
						programId: ctx.programId,
						participantId: ctx.participantId,
						delta: '5' as never,
					}),
				code: 'invalid_number',
				field: 'delta',
			},
			{
				name: 'fractional points',
				call: () =>
					ledger.appendPoints({
						programId: ctx.programId,
						participantId: ctx.participantId,
						delta: 1.5,
					}),
				code: 'invalid_number',
				field: 'delta',
			},
			{
				name: 'participant id that is not a number',
				call: () =>
					ledger.appendPoints({ programId: ctx.programId, participantId: 'abc', delta: 1 }),
				code: 'invalid_id',
				field: 'participantId',
			},
			{
				name: 'unknown participant',
				call: () =>
					ledger.appendPoints({ programId: ctx.programId, participantId: 999_999, delta: 1 }),
				code: 'unknown_participant',
				field: 'participantId',
			},
			{
				name: 'unknown reward kind',
				call: () =>
					ledger.awardReward({
						programId: ctx.programId,
						recipientId: ctx.participantId,
						side: 'referrer',
						rule: 'r',
						kind: 'voucher' as never,
					}),
				code: 'invalid_value',
				field: 'kind',
			},
			{
				name: 'unknown reward side',
				call: () =>
					ledger.awardReward({
						programId: ctx.programId,
						recipientId: ctx.participantId,
						side: 'both' as never,
						rule: 'r',
						kind: 'cash',
					}),
				code: 'invalid_value',
				field: 'side',
			},
			{
				name: 'unknown recipient',
				call: () =>
					ledger.awardReward({
						programId: ctx.programId,
						recipientId: 999_999,
						side: 'referrer',
						rule: 'r',
						kind: 'cash',
					}),
				code: 'unknown_participant',
				field: 'recipientId',
			},
			{
				name: 'unknown referral on a reward',
				call: () =>
					ledger.awardReward({
						programId: ctx.programId,
						recipientId: ctx.participantId,
						referralId: 999_999,
						side: 'referrer',
						rule: 'r',
						kind: 'cash',
					}),
				code: 'unknown_referral',
				field: 'referralId',
			},
			{
				name: 'touch time that is no time',
				call: () =>
					ledger.recordReferral({
						programId: ctx.programId,
						referrerId: ctx.participantId,
						touchedAt: 'yesterday',
					}),
				code: 'invalid_time',
				field: 'touchedAt',
			},
			{
				name: 'status that is no status word',
				call: () =>
					ledger.recordReferral({
						programId: ctx.programId,
						referrerId: ctx.participantId,
						status: 'Qualified!',
					}),
				code: 'invalid_status',
				field: 'status',
			},
			{
				name: 'reasons that are not a list',
				call: () =>
					ledger.recordReferral({
						programId: ctx.programId,
						referrerId: ctx.participantId,
						reasons: 'fraud' as never,
					}),
				code: 'invalid_type',
				field: 'reasons',
			},
			{
				name: 'risk score as text',
				call: () =>
					ledger.recordReferral({
						programId: ctx.programId,
						referrerId: ctx.participantId,
						riskScore: 'high' as never,
					}),
				code: 'invalid_number',
				field: 'riskScore',
			},
			{
				name: 'generator returning a number',
				call: () =>
					ledger.issueCode({
						programId: ctx.programId,
						generate: (() => 42) as never,
						idempotencyKey: 'gen-42',
					}),
				code: 'invalid_type',
				field: 'generate',
			},
			{
				name: 'code with a space',
				call: () => ledger.issueCode({ programId: ctx.programId, code: 'TWO WORDS' }),
				code: 'invalid_code',
				field: 'code',
			},
			{
				name: 'oversize code',
				call: () => ledger.issueCode({ programId: ctx.programId, code: long(65) }),
				code: 'too_long',
				field: 'code',
			},
			{
				name: 'maxUses of 0',
				call: () => ledger.issueCode({ programId: ctx.programId, code: 'ZERO', maxUses: 0 }),
				code: 'invalid_number',
				field: 'maxUses',
			},
			{
				name: 'batch of 0 codes',
				call: () => ledger.issueCodes(0, { programId: ctx.programId, generate: () => 'A' }),
				code: 'invalid_number',
				field: 'count',
			},
			{
				name: 'unknown reward status',
				call: () =>
					ledger.transitionReward({
						programId: ctx.programId,
						rewardId: ctx.rewardId,
						from: 'done' as never,
						to: 'approved',
					}),
				code: 'invalid_value',
				field: 'from',
			},
			{
				name: 'unknown reward',
				call: () =>
					ledger.transitionReward({
						programId: ctx.programId,
						rewardId: 999_999,
						from: 'pending',
						to: 'approved',
					}),
				code: 'unknown_reward',
				field: 'rewardId',
			},
			{
				name: 'event with a bad type',
				call: () =>
					ledger.recordReferral({
						programId: ctx.programId,
						referrerId: ctx.participantId,
						events: [{ type: 'Bad Type' }],
					}),
				code: 'invalid_event_type',
				field: 'events[0].type',
			},
			{
				name: 'no allowed statuses to qualify from',
				call: () =>
					ledger.qualifyReferral({
						programId: ctx.programId,
						referralId: ctx.referralId,
						orderId: 'o',
						fromStatuses: [],
					}),
				code: 'invalid_type',
				field: 'fromStatuses',
			},
			{
				name: 'empty coupon list',
				call: () => ledger.loadCoupons({ programId: ctx.programId, pool: 'p', codes: [] }),
				code: 'invalid_type',
				field: 'codes',
			},
			{
				name: 'bad email recipient',
				call: () => ledger.reserveMessage({ channel: 'email', recipient: 'nobody' }),
				code: 'invalid_email',
				field: 'recipient',
			},
			{
				name: 'negative event cursor',
				call: () => ledger.readEvents({ afterId: -1 }),
				code: 'invalid_number',
				field: 'afterId',
			},
			{
				name: 'leaderboard by an unknown measure',
				call: () => ledger.leaderboard({ programId: ctx.programId, by: 'revenue' as never }),
				code: 'invalid_value',
				field: 'by',
			},
		];

		it.each(cases)(
			'$name: a clear error naming the field, and nothing written',
			async ({ call, code, field }) => {
				const before = await snapshot(ctx.programId);
				const error = await rejects(call(), code, field);
				expect(error.message).toContain(field.replace(/\[\d+\].*/, ''));
				expect(error.message).not.toContain(long(100));
				expect(await snapshot(ctx.programId)).toEqual(before);
			},
		);
	});
}
