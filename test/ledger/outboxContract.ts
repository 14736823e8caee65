/* The message outbox contract, run against every backend (sqlite.test.ts, postgres.test.ts):
 * messages owed to people are written in their cause's transaction, claimed once, handed over,
 * completed, given back, swept up when their execution died, and never sent twice. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { EngineError } from '../../engine/shared/errors';
import type { LedgerStore, OweMessageInput } from '../../engine/ledger';
import type { ContractTarget } from './contract';

const T0 = Date.UTC(2026, 2, 1, 12);
const SECOND = 1000;

export function outboxContract(target: ContractTarget): void {
	let ledger: LedgerStore;
	const clock = { now: T0 };
	let seq = 0;
	const uid = (prefix: string) => `${prefix}-${++seq}-${Math.random().toString(36).slice(2, 8)}`;

	beforeAll(async () => {
		ledger = await target.open(() => clock.now);
	});

	afterAll(async () => {
		await ledger?.close();
	});

	async function setup() {
		const programId = uid('outbox');
		await ledger.ensureProgram({ id: programId });
		const enrol = async () =>
			(await ledger.enrolParticipant({ programId, email: `${uid('p')}@example.com` })).participant;
		const referrer = await enrol();
		const referee = await enrol();
		const { referral } = await ledger.recordReferral({
			programId,
			referrerId: referrer.id,
			refereeId: referee.id,
		});
		return { programId, referrer, referee, referral };
	}

	const notice = (key: string, recipient: string, line: string): OweMessageInput => ({
		key,
		channel: 'email',
		recipient,
		topic: 'reward.earned',
		data: { lines: [line], rewards: [{ line }] },
		collect: ['lines', 'rewards'],
	});

	it('owes a message in the transaction of its cause, once: a replayed award owes nothing more, a refused one nothing at all', async () => {
		const { programId, referrer, referral } = await setup();
		const key = uid('referral-rewarded');
		const award = {
			programId,
			recipientId: referrer.id,
			referralId: referral.id,
			side: 'referrer' as const,
			rule: 'per-referral',
			kind: 'points' as const,
			amount: 100,
			points: { delta: 100 },
			idempotencyKey: uid('award'),
			messages: [notice(key, referrer.email!, '100 points')],
		};
		const first = await ledger.awardReward(award);
		expect(first.replayed).toBe(false);
		// A replay whose notice reads differently is still the same award: a replay, no error, no new message.
		const again = await ledger.awardReward({
			...award,
			messages: [notice(key, referrer.email!, '100 points, said differently')],
		});
		expect(again.replayed).toBe(true);
		const owed = await ledger.getMessage(key);
		expect(owed).toMatchObject({
			status: 'owed',
			topic: 'reward.earned',
			group: key,
			channel: 'email',
			recipient: referrer.email,
			participantId: referrer.id,
			attempts: 0,
		});
		expect(owed!.data).toEqual({ lines: ['100 points'], rewards: [{ line: '100 points' }] });
		expect(await ledger.listMessages({ programId, status: 'owed' })).toHaveLength(1);

		// A write that fails writes no message either.
		const refusedKey = uid('refused');
		await expect(
			ledger
				.appendPoints({ programId, participantId: referrer.id, delta: -1_000_000 })
				.catch((e: EngineError) => {
					throw e;
				}),
		).rejects.toMatchObject({ code: 'insufficient_points' });
		await expect(
			ledger.awardReward({
				...award,
				idempotencyKey: uid('award'),
				rule: 'other',
				points: { delta: -1_000_000 },
				messages: [notice(refusedKey, referrer.email!, 'never')],
			}),
		).rejects.toMatchObject({ code: 'insufficient_points' });
		expect(await ledger.getMessage(refusedKey)).toBeNull();
	});

	it('collects what later writes add while the message is owed, and owes a new part once it is claimed', async () => {
		const { programId, referrer, referral } = await setup();
		const key = uid('notice');
		const base = {
			programId,
			recipientId: referrer.id,
			referralId: referral.id,
			side: 'referrer' as const,
			kind: 'points' as const,
			amount: 10,
		};
		await ledger.awardReward({ ...base, rule: 'a', messages: [notice(key, referrer.email!, 'A')] });
		await ledger.awardReward({ ...base, rule: 'b', messages: [notice(key, referrer.email!, 'B')] });
		expect((await ledger.getMessage(key))!.data).toEqual({
			lines: ['A', 'B'],
			rewards: [{ line: 'A' }, { line: 'B' }],
		});

		const claim = await ledger.claimMessages({ channel: 'email', keys: [key] });
		expect(claim.claimed.map((m) => m.idempotencyKey)).toEqual([key]);
		await ledger.awardReward({ ...base, rule: 'c', messages: [notice(key, referrer.email!, 'C')] });
		await ledger.awardReward({ ...base, rule: 'd', messages: [notice(key, referrer.email!, 'D')] });
		const part = await ledger.getMessage(`${key}~1`);
		expect(part).toMatchObject({
			status: 'owed',
			group: key,
			data: { lines: ['C', 'D'], rewards: [{ line: 'C' }, { line: 'D' }] },
		});
		// The group's key claims the new part; the first part is still held by the first claim.
		const second = await ledger.claimMessages({ channel: 'email', keys: [key] });
		expect(second.claimed.map((m) => m.idempotencyKey)).toEqual([`${key}~1`]);
		expect(second.others.map((m) => [m.idempotencyKey, m.status])).toEqual([[key, 'reserved']]);
	});

	it('gives each owed message to exactly one of racing claimers, and tells the others where it is', async () => {
		const { programId, referee } = await setup();
		const keys = [uid('welcome'), uid('welcome'), uid('welcome')];
		for (const key of keys) {
			await ledger.issueCode({
				programId,
				code: uid('CODE').toUpperCase(),
				ownerId: referee.id,
				idempotencyKey: key,
				messages: [
					{
						key,
						channel: 'email',
						recipient: referee.email!,
						topic: 'welcome',
						data: { code: 'X' },
					},
				],
			});
		}
		const claims = await Promise.all(
			Array.from({ length: 8 }, () => ledger.claimMessages({ channel: 'email', keys })),
		);
		const won = claims.flatMap((c) => c.claimed.map((m) => m.idempotencyKey));
		expect(won.sort()).toEqual([...keys].sort());
		for (const claim of claims) expect(claim.claimed.length + claim.others.length).toBe(3);
		// The wrong channel claims nothing.
		expect((await ledger.claimMessages({ channel: 'sms', keys })).claimed).toEqual([]);
	});

	it('hands over only under its own claim, completes, and is never claimed again once sent', async () => {
		const { programId, referee } = await setup();
		const key = uid('welcome');
		await ledger.enrolParticipant({
			programId,
			email: `${uid('new')}@example.com`,
			messages: [{ key, channel: 'email', recipient: referee.email!, topic: 'welcome' }],
		});
		const { token, claimed } = await ledger.claimMessages({
			channel: 'email',
			keys: [key],
			ttlMs: 10 * SECOND,
		});
		expect(claimed).toHaveLength(1);
		expect(claimed[0]).toMatchObject({
			status: 'reserved',
			attempts: 1,
			claimedUntil: clock.now + 10 * SECOND,
			handedOverAt: null,
		});

		let called = 0;
		expect(
			await ledger.handOverMessage({ idempotencyKey: key, token: 'not-the-token' }, () => called++),
		).toBe(false);
		expect(called).toBe(0);
		expect(await ledger.handOverMessage({ idempotencyKey: key, token }, () => called++)).toBe(true);
		expect(called).toBe(1);
		expect((await ledger.getMessage(key))!.handedOverAt).toBe(clock.now);
		// Another token cannot complete it.
		expect(
			await ledger.completeMessage({
				idempotencyKey: key,
				token: 'not-the-token',
				status: 'failed',
			}),
		).toMatchObject({ status: 'reserved' });
		expect(
			await ledger.completeMessage({
				idempotencyKey: key,
				token,
				status: 'sent',
				providerId: '<id@x>',
			}),
		).toMatchObject({ status: 'sent', providerId: '<id@x>' });
		clock.now += 60 * SECOND;
		const later = await ledger.claimMessages({
			channel: 'email',
			topic: 'welcome',
			keys: [key],
			overdueAfterMs: 0,
		});
		expect(later.claimed.map((m) => m.idempotencyKey)).not.toContain(key);
		expect(later.others).toMatchObject([{ idempotencyKey: key, status: 'sent' }]);
		// The plain Send path sees it as sent too.
		expect(
			await ledger.reserveMessage({
				idempotencyKey: key,
				channel: 'email',
				recipient: referee.email!,
			}),
		).toMatchObject({ reserved: false, message: { status: 'sent' } });
	});

	it('claims a lapsed claim again when its holder died before the hand-over, and marks it unconfirmed when it died after', async () => {
		const { programId, referrer } = await setup();
		const [before, after] = [uid('notice'), uid('notice')];
		for (const key of [before, after]) {
			await ledger.awardReward({
				programId,
				recipientId: referrer.id,
				side: 'participant',
				rule: uid('rule'),
				kind: 'badge',
				messages: [notice(key, referrer.email!, 'a badge')],
			});
		}
		const dead = await ledger.claimMessages({
			channel: 'email',
			keys: [before, after],
			ttlMs: 5 * SECOND,
		});
		expect(dead.claimed).toHaveLength(2);
		expect(await ledger.handOverMessage({ idempotencyKey: after, token: dead.token })).toBe(true);
		// Still held: nobody else gets either.
		expect(
			(await ledger.claimMessages({ channel: 'email', keys: [before, after] })).claimed,
		).toEqual([]);
		// Renewal keeps them; then the holder dies and the claims lapse.
		clock.now += 4 * SECOND;
		expect(await ledger.renewMessageClaims({ token: dead.token, ttlMs: 5 * SECOND })).toBe(2);
		clock.now += 4 * SECOND;
		expect(
			(await ledger.claimMessages({ channel: 'email', keys: [before, after] })).claimed,
		).toEqual([]);
		clock.now += 2 * SECOND;
		const next = await ledger.claimMessages({ channel: 'email', keys: [before, after] });
		expect(next.claimed.map((m) => [m.idempotencyKey, m.attempts])).toEqual([[before, 2]]);
		expect(next.others).toMatchObject([
			{ idempotencyKey: after, status: 'unconfirmed', handedOverAt: expect.any(Number) },
		]);
		// The dead holder's late completion changes nothing now.
		expect(
			await ledger.completeMessage({ idempotencyKey: before, token: dead.token, status: 'sent' }),
		).toMatchObject({ status: 'reserved' });
		expect(await ledger.listMessages({ programId, status: 'unconfirmed' })).toHaveLength(1);
	});

	it('takes a message given back (quiet hours, a temporary failure) again only once it is due', async () => {
		const { programId, referrer } = await setup();
		const key = uid('notice');
		await ledger.awardReward({
			programId,
			recipientId: referrer.id,
			side: 'participant',
			rule: uid('rule'),
			kind: 'badge',
			messages: [notice(key, referrer.email!, 'x')],
		});
		const first = await ledger.claimMessages({ channel: 'email', keys: [key] });
		await ledger.handOverMessage({ idempotencyKey: key, token: first.token });
		const back = await ledger.completeMessage({
			idempotencyKey: key,
			token: first.token,
			status: 'owed',
			dueAt: clock.now + 60 * SECOND,
			error: 'SMTP 451: try later',
		});
		expect(back).toMatchObject({
			status: 'owed',
			dueAt: clock.now + 60 * SECOND,
			handedOverAt: null,
			claimedUntil: null,
			error: 'SMTP 451: try later',
		});
		expect((await ledger.claimMessages({ channel: 'email', keys: [key] })).claimed).toEqual([]);
		clock.now += 61 * SECOND;
		expect((await ledger.claimMessages({ channel: 'email', keys: [key] })).claimed).toMatchObject([
			{ idempotencyKey: key, attempts: 2 },
		]);
	});

	it('sweeps up overdue messages of one topic, oldest first, up to the limit, leaving fresh ones to their own execution', async () => {
		const { programId, referrer } = await setup();
		const topic = `sweep.${uid('t').replace(/[^a-z0-9]/g, '')}`;
		const keys: string[] = [];
		for (let i = 0; i < 4; i++) {
			const key = uid('sweep');
			keys.push(key);
			await ledger.awardReward({
				programId,
				recipientId: referrer.id,
				side: 'participant',
				rule: uid('rule'),
				kind: 'badge',
				messages: [{ key, channel: 'email', recipient: referrer.email!, topic }],
			});
			clock.now += 10 * SECOND;
		}
		await expect(
			ledger.claimMessages({ channel: 'email', overdueAfterMs: 0 }),
		).rejects.toMatchObject({ code: 'required', field: 'topic' });
		// Owed 40, 30, 20 and 10 s ago: older than 25 s are the first two; the limit takes one at a time.
		const one = await ledger.claimMessages({
			channel: 'email',
			topic,
			overdueAfterMs: 25 * SECOND,
			limit: 1,
		});
		expect(one.claimed.map((m) => m.idempotencyKey)).toEqual([keys[0]]);
		const rest = await ledger.claimMessages({
			channel: 'email',
			topic,
			programId,
			overdueAfterMs: 25 * SECOND,
		});
		expect(rest.claimed.map((m) => m.idempotencyKey)).toEqual([keys[1]]);
		expect(
			(
				await ledger.claimMessages({
					channel: 'email',
					topic,
					programId: 'another-program',
					overdueAfterMs: 0,
				})
			).claimed,
		).toEqual([]);
		const racing = await Promise.all(
			Array.from({ length: 4 }, () =>
				ledger.claimMessages({ channel: 'email', topic, overdueAfterMs: 0 }),
			),
		);
		expect(racing.flatMap((c) => c.claimed.map((m) => m.idempotencyKey)).sort()).toEqual(
			[keys[2], keys[3]].sort(),
		);
	});

	it('lets the plain Send path deliver an owed message by its key, once', async () => {
		const { programId, referrer } = await setup();
		const key = uid('notice');
		await ledger.awardReward({
			programId,
			recipientId: referrer.id,
			side: 'participant',
			rule: uid('rule'),
			kind: 'badge',
			messages: [notice(key, referrer.email!, 'x')],
		});
		const reserved = await Promise.all(
			[1, 2, 3].map(() =>
				ledger.reserveMessage({
					idempotencyKey: key,
					channel: 'email',
					recipient: referrer.email!,
				}),
			),
		);
		expect(reserved.filter((r) => r.reserved)).toHaveLength(1);
		await ledger.completeMessage({ idempotencyKey: key, status: 'sent' });
		expect((await ledger.claimMessages({ channel: 'email', keys: [key] })).others).toMatchObject([
			{ status: 'sent' },
		]);
	});

	it('never sends an owed message to an erased participant, and keeps none of its data', async () => {
		const { programId, referee } = await setup();
		const key = uid('welcome');
		await ledger.issueCode({
			programId,
			code: uid('E').toUpperCase(),
			ownerId: referee.id,
			messages: [
				{
					key,
					channel: 'email',
					recipient: referee.email!,
					topic: 'welcome',
					data: { name: 'Eve' },
				},
			],
		});
		await ledger.eraseParticipant({ programId, participantId: referee.id });
		expect(await ledger.getMessage(key)).toMatchObject({
			status: 'skipped',
			recipient: '[erased]',
			data: {},
			error: 'participant erased',
		});
		expect((await ledger.claimMessages({ channel: 'email', keys: [key] })).claimed).toEqual([]);
	});

	it('refuses bad owed messages, naming the field, and writes nothing', async () => {
		const { programId, referrer } = await setup();
		const good = {
			key: uid('k'),
			channel: 'email' as const,
			recipient: referrer.email!,
			topic: 'welcome',
		};
		const cases: Array<[Partial<OweMessageInput>, string]> = [
			[{ key: 'has space' }, 'messages[0].key'],
			[{ key: 'tilde~1' }, 'messages[0].key'],
			[{ channel: 'fax' as 'sms' }, 'messages[0].channel'],
			[{ recipient: 'not-an-address' }, 'messages[0].recipient'],
			[{ topic: 'Not A Topic' }, 'messages[0].topic'],
			[{ data: [] as unknown as Record<string, unknown> }, 'messages[0].data'],
		];
		for (const [change, field] of cases) {
			const error = await ledger
				.awardReward({
					programId,
					recipientId: referrer.id,
					side: 'participant',
					rule: uid('rule'),
					kind: 'badge',
					messages: [{ ...good, ...change }],
				})
				.then(
					() => undefined,
					(e: unknown) => e,
				);
			expect(error, field).toBeInstanceOf(EngineError);
			expect((error as EngineError).field).toBe(field);
		}
		expect(await ledger.listMessages({ programId })).toEqual([]);
		await expect(
			ledger.claimMessages({ channel: 'email', keys: ['x'], ttlMs: 10 }),
		).rejects.toMatchObject({ field: 'ttlMs' });
	});
}
