import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { closeAllLedgers, openLedger } from '../../engine/ledger';
import { ledgerConfigFromCredential } from '../../nodes/shared/ledger';
import { runWorkflow, singleNodeWorkflow } from '../harness';
import { pgTestUrl, withPgSchema } from './ledgerBackends';

/** DROP SCHEMA can hit a deadlock with another test file's migrations running at the same moment; it is only cleanup, so retry. */
function withRetriedCleanup(backend: {
	credential: Record<string, unknown>;
	cleanup: () => Promise<void>;
}) {
	return {
		credential: backend.credential,
		cleanup: async () => {
			for (let attempt = 1; ; attempt++) {
				try {
					return await backend.cleanup();
				} catch (error) {
					if (attempt >= 5 || !/deadlock/i.test(String((error as Error).message))) throw error;
					await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
				}
			}
		},
	};
}

afterAll(async () => {
	await closeAllLedgers();
});

type Credential = Record<string, unknown>;
type Json = Record<string, any>;

function backends(): Array<
	[string, () => Promise<{ credential: Credential; cleanup: () => Promise<void> }>]
> {
	return [
		[
			'SQLite',
			async () => ({
				credential: {
					backend: 'sqlite',
					path: path.join(mkdtempSync(path.join(os.tmpdir(), 'rm-referral-')), 'ledger.sqlite'),
				},
				cleanup: async () => {},
			}),
		],
		['PostgreSQL', async () => withRetriedCleanup(await withPgSchema())],
	];
}

for (const [name, open] of backends()) {
	describe.skipIf(name === 'PostgreSQL' && !pgTestUrl())(`Referral node on ${name}`, () => {
		const run = async (
			credential: Credential,
			parameters: Record<string, unknown>,
			items: Json[],
			continueOnFail = false,
		) =>
			await runWorkflow(
				singleNodeWorkflow(
					{
						type: 'referral',
						parameters: { program: 'spring', ...parameters },
						continueOnFail,
						credentials: { referralLedgerApi: { id: '1', name: 'Ledger' } },
					} as never,
					items,
				),
				{ credentials: { referralLedgerApi: credential as never } },
			);
		const json = async (
			credential: Credential,
			parameters: Record<string, unknown>,
			items: Json[],
			continueOnFail = false,
		) => (await run(credential, parameters, items, continueOnFail)).json('Node') as Json[];
		const setUp = async (credential: Credential, fraudPolicy: Json = {}) =>
			await json(
				credential,
				{
					resource: 'program',
					operation: 'save',
					share: { baseUrl: 'https://shop.example/join', utmCampaign: 'spring' },
					fraudPolicy,
				},
				[{}],
			);
		const enrol = (credential: Credential, items: Json[], continueOnFail = false) =>
			json(credential, { resource: 'participant', operation: 'enrol' }, items, continueOnFail);

		it('program, enrol with code (the sign-up contract), qualify, reverse, get, list, stats, leaderboard', async () => {
			const { credential, cleanup } = await open();
			try {
				const [saved] = await setUp(credential);
				expect(saved).toMatchObject({
					created: true,
					program: { programId: 'spring', attribution: { windowDays: 30, model: 'first_touch' } },
				});
				expect(JSON.stringify(saved)).not.toMatch(/salt/i);
				const [ana] = await enrol(credential, [{ email: 'Ana@Example.com', name: 'Ana' }]);
				expect(ana).toEqual({
					participant: {
						id: expect.any(Number),
						email: 'ana@example.com',
						externalId: null,
						name: 'Ana',
						greetingName: 'Ana',
						code: expect.stringMatching(/^[2-9A-Z]{8}$/),
						shareUrl: expect.stringContaining('utm_campaign=spring'),
					},
					referral: null,
					warnings: [],
					enrolled: true,
				});
				const [bob] = await enrol(credential, [
					{
						email: 'bob@example.org',
						referralCode: ana.participant.code,
						ip: '203.0.113.9',
						userAgent: 'Firefox',
					},
				]);
				expect(bob.referral).toEqual({
					id: expect.any(Number),
					status: 'pending',
					referrerCode: ana.participant.code,
					reasons: [],
				});
				expect(bob.warnings).toEqual([]);
				// Replayed sign-up: same participant, code and referral.
				const [again] = await enrol(credential, [
					{ email: 'BOB@example.org', referralCode: ana.participant.code },
				]);
				expect(again.participant).toEqual(bob.participant);
				expect(again.referral).toEqual(bob.referral);

				const conversions = await json(credential, { resource: 'referral', operation: 'qualify' }, [
					{ email: 'bob@example.org', orderId: 'A-1', amount: 80, currency: 'EUR' },
					{ email: 'bob@example.org', orderId: 'A-1', amount: 80, currency: 'EUR' },
					{ email: 'bob@example.org', orderId: 'A-2', amount: 20, currency: 'EUR' },
					{ email: 'nobody@example.org', orderId: 'A-3', amount: 20, currency: 'EUR' },
					{ email: 'ana@example.com', orderId: 'A-4', amount: 20, currency: 'EUR' },
				]);
				// The same order again answers like the first time (replayed: true says it is a replay).
				expect(conversions.map((c) => c.outcome)).toEqual([
					'qualified',
					'qualified',
					'ignored',
					'not_a_participant',
					'not_referred',
				]);
				expect(conversions.map((c) => c.replayed)).toEqual([false, true, false, false, false]);
				expect({ ...conversions[1], replayed: false }).toEqual(conversions[0]);
				expect(conversions[0].referral).toEqual({ id: bob.referral.id, status: 'qualified' });

				const [board] = await json(
					credential,
					{ resource: 'program', operation: 'leaderboard', period: 'lifetime' },
					[{}],
				);
				expect(board).toMatchObject({
					rank: 1,
					participantId: ana.participant.id,
					score: 1,
					by: 'qualifiedReferrals',
				});
				const [status] = await json(credential, { resource: 'participant', operation: 'get' }, [
					{ email: 'ana@example.com' },
				]);
				expect(status.stats).toEqual({
					referrals: 1,
					qualified: 1,
					points: 0,
					tier: null,
					badges: [],
					rank: 1,
				});
				const [stats] = await json(
					credential,
					{ resource: 'program', operation: 'stats', period: 'month', compareCustomers: true },
					[
						{ referred: true, revenue: 80, retained: true },
						{ referred: false, revenue: 40, retained: false },
					],
				);
				expect(stats.funnel).toMatchObject({ recorded: 1, qualified: 1, netQualified: 1 });
				expect(stats.referredRevenue).toEqual({ EUR: 80 });
				expect(stats.referredVsNonReferred).toMatchObject({
					revenuePerCustomerRatio: 2,
					retentionDifference: 1,
				});

				const [refund] = await json(credential, { resource: 'referral', operation: 'reverse' }, [
					{ orderId: 'A-1' },
				]);
				expect(refund).toMatchObject({
					outcome: 'reversed',
					changed: true,
					reversed: [],
					referral: { id: bob.referral.id, status: 'reversed' },
				});
				const [got] = await json(credential, { resource: 'referral', operation: 'get' }, [
					{ referralId: bob.referral.id },
				]);
				expect(got.referral.history.map((h: Json) => h.to)).toEqual([
					'pending',
					'qualified',
					'reversed',
				]);
				const listed = await json(
					credential,
					{ resource: 'referral', operation: 'list', filters: { status: 'reversed' } },
					[{}],
				);
				expect(listed.map((l) => l.referral.id)).toEqual([bob.referral.id]);
				const people = await json(
					credential,
					{ resource: 'participant', operation: 'list', limit: 10 },
					[{}],
				);
				expect(people.map((p) => p.participant.email)).toEqual([
					'ana@example.com',
					'bob@example.org',
				]);

				const [updated] = await json(credential, { resource: 'participant', operation: 'update' }, [
					{ email: 'bob@example.org', newEmail: 'robert@example.org', name: 'Robert' },
				]);
				expect(updated.participant).toMatchObject({
					email: 'robert@example.org',
					name: 'Robert',
					code: bob.participant.code,
				});
				const [erased] = await json(credential, { resource: 'participant', operation: 'erase' }, [
					{ email: 'robert@example.org' },
				]);
				expect(erased).toMatchObject({ participantId: bob.participant.id, erased: true });
				const ledger = await openLedger(ledgerConfigFromCredential(credential as never));
				const row = await ledger.getParticipant({ programId: 'spring', id: bob.participant.id });
				expect(row).toMatchObject({ email: null, name: null, erasedAt: expect.any(Number) });
				expect(
					(await ledger.getReferral({ programId: 'spring', id: bob.referral.id }))!.ipHash,
				).toBeNull();
				const [after] = await json(credential, { resource: 'participant', operation: 'get' }, [
					{ email: 'ana@example.com' },
				]);
				expect(after.stats.referrals).toBe(1);
			} finally {
				await cleanup();
			}
		});

		it('two strangers on the same browser version are not one device; only an explicit device ID is (issue #13.7)', async () => {
			const { credential, cleanup } = await open();
			try {
				await setUp(credential);
				const safari =
					'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1';
				const [ann, kim] = await enrol(credential, [
					{ email: 'ann@north.example', ip: '198.51.100.10', userAgent: safari },
					{ email: 'kim@south.example', ip: '203.0.113.20', userAgent: safari },
				]);
				const [first, second] = await enrol(credential, [
					{
						email: 'lou@east.example',
						referralCode: ann.participant.code,
						ip: '192.0.2.30',
						userAgent: safari,
					},
					{
						email: 'max@west.example',
						referralCode: kim.participant.code,
						ip: '192.0.2.40',
						userAgent: safari,
					},
				]);
				expect([first.referral, second.referral].map((r: Json) => [r.status, r.reasons])).toEqual([
					['pending', []],
					['pending', []],
				]);
				// The same device ID (a page fingerprint or first-party cookie ID) is a device, with its own reason code.
				const [again] = await json(
					credential,
					{
						resource: 'participant',
						operation: 'enrol',
						inputFields: { device: 'client.deviceId' },
					},
					[
						{
							email: 'neo@far.example',
							referralCode: kim.participant.code,
							ip: '192.0.2.50',
							client: { deviceId: 'cookie-7f3a' },
						},
					],
				);
				expect(again.referral.reasons).toEqual([]);
				const [twin] = await json(
					credential,
					{
						resource: 'participant',
						operation: 'enrol',
						inputFields: { device: 'client.deviceId' },
					},
					[
						{
							email: 'ola@other.example',
							referralCode: ann.participant.code,
							ip: '192.0.2.60',
							userAgent: 'Firefox 128',
							client: { deviceId: 'cookie-7f3a' },
						},
					],
				);
				expect(twin.referral).toMatchObject({ status: 'flagged', reasons: ['same_device'] });
				expect(twin.assessment.checks[0]).toMatchObject({
					check: 'same_device',
					reason: 'same_device',
					detail: expect.stringContaining('device id'),
				});
			} finally {
				await cleanup();
			}
		});

		it('every fraud check shows its reason on the item, and the policy decides', async () => {
			const { credential, cleanup } = await open();
			try {
				await setUp(credential, { velocityPerHour: 4, velocityPerDay: 20 });
				const [ana] = await enrol(credential, [
					{
						email: 'ana.lopez@gmail.com',
						name: 'Ana Lopez',
						ip: '198.51.100.7',
						userAgent: 'Safari 17',
						deviceId: 'fp-ana-laptop',
					},
				]);
				const code = ana.participant.code;
				const out = await enrol(credential, [
					{ email: 'analopez+free@googlemail.com', referralCode: code },
					{ email: 'someone@mailinator.com', referralCode: code },
					{ email: 'guest@example.org', referralCode: code, ip: '198.51.100.7' },
					{ email: 'guest2@example.org', referralCode: code, deviceId: 'fp-ana-laptop' },
					{ email: 'fifth@example.org', referralCode: code },
				]);
				expect(out.map((o) => [o.referral.status, o.referral.reasons])).toEqual([
					['rejected', ['self_referral']],
					['flagged', ['disposable_email']],
					['flagged', ['same_ip']],
					['flagged', ['same_device']],
					['flagged', ['velocity']],
				]);
				expect(out[0].assessment.checks[0]).toMatchObject({
					check: 'self_referral',
					score: 100,
					detail: expect.stringContaining('same mailbox'),
				});
				expect(out[3].assessment.checks[0]).toMatchObject({
					check: 'same_device',
					reason: 'same_device',
				});
				// Same name at the same company domain counts as self-referral too.
				const [boss] = await enrol(credential, [{ email: 'jo.kim@acme.example', name: 'Jo Kim' }]);
				const [alias] = await enrol(credential, [
					{ email: 'jkim@acme.example', name: 'JO  KIM', referralCode: boss.participant.code },
				]);
				expect(alias.referral.reasons).toEqual(['self_referral']);
				// Duplicate referee: an existing customer, and a referee who already converted through someone else.
				const [cust] = await enrol(credential, [
					{
						email: 'cust@example.net',
						referralCode: boss.participant.code,
						existingCustomer: true,
					},
				]);
				expect(cust.referral).toMatchObject({ status: 'rejected', reasons: ['duplicate_referee'] });
				const [lee] = await enrol(credential, [{ email: 'lee@example.net' }]);
				const [max] = await enrol(credential, [
					{ email: 'max@example.net', referralCode: lee.participant.code },
				]);
				await json(credential, { resource: 'referral', operation: 'qualify' }, [
					{ email: 'max@example.net', orderId: 'M-1', amount: 5, currency: 'USD' },
				]);
				const [twice] = await enrol(credential, [
					{ email: 'max@example.net', referralCode: boss.participant.code },
				]);
				expect(twice.referral).toMatchObject({ id: max.referral.id, status: 'qualified' });
				expect(twice.warnings).toEqual([expect.objectContaining({ code: 'duplicate_referee' })]);
				// Ring: Lee → Max → Zoe, then Zoe's code brings Lee in.
				const [zoe] = await enrol(credential, [
					{ email: 'zoe@example.net', referralCode: max.participant.code },
				]);
				const [ring] = await json(credential, { resource: 'referral', operation: 'record' }, [
					{ email: 'lee@example.net', referralCode: zoe.participant.code },
				]);
				expect(ring.referral.reasons).toContain('ring');
				expect(ring.assessment.checks.find((c: Json) => c.check === 'ring').detail).toContain(
					'3 participants',
				);
			} finally {
				await cleanup();
			}
		});

		it('legal and illegal transitions through the node', async () => {
			const { credential, cleanup } = await open();
			try {
				await setUp(credential);
				const [ana] = await enrol(credential, [{ email: 'ana@example.com' }]);
				const code = ana.participant.code;
				const refs = await enrol(
					credential,
					['a', 'b', 'c', 'd'].map((n) => ({ email: `${n}@example.org`, referralCode: code })),
				);
				const ids = refs.map((r) => r.referral.id);
				const step = (operation: string, referralId: number, extra: Json = {}) =>
					json(
						credential,
						{ resource: 'referral', operation, ...extra },
						[{ referralId }],
						true,
					).then((r) => r[0]);
				// pending → flagged → approved → pending → qualified → reversed
				expect((await step('flag', ids[0], { note: 'odd hours' })).referral.status).toBe('flagged');
				expect((await step('approve', ids[0])).referral).toMatchObject({
					status: 'pending',
					internalStatus: 'pending',
				});
				await json(credential, { resource: 'referral', operation: 'qualify' }, [
					{ email: 'a@example.org', orderId: 'o-a', amount: 1, currency: 'EUR' },
				]);
				expect((await step('reverse', ids[0], { reverseBy: 'referralId' })).referral.status).toBe(
					'reversed',
				);
				// flagged + order during review → approve goes straight to qualified
				await step('flag', ids[1]);
				const [held] = await json(credential, { resource: 'referral', operation: 'qualify' }, [
					{ email: 'b@example.org', orderId: 'o-b', amount: 1, currency: 'EUR' },
				]);
				expect(held.outcome).toBe('held');
				expect((await step('approve', ids[1])).referral.status).toBe('qualified');
				// pending → rejected; flagged → rejected
				expect((await step('reject', ids[2])).referral.status).toBe('rejected');
				await step('flag', ids[3]);
				expect((await step('reject', ids[3])).referral.status).toBe('rejected');
				// Illegal moves are clear errors naming the legal ones.
				const illegal = [
					await step('approve', ids[2]),
					await step('flag', ids[0]),
					await step('reject', ids[1]),
				];
				for (const r of illegal)
					expect(r.error).toMatchObject({
						code: 'illegal_transition',
						message: expect.stringContaining('cannot go from'),
					});
				// A refund of a rejected referral's order is a normal day: nothing changes.
				expect(await step('reverse', ids[2], { reverseBy: 'referralId' })).toMatchObject({
					outcome: 'unchanged',
					changed: false,
					referral: { status: 'rejected' },
				});
				const [history] = await json(credential, { resource: 'referral', operation: 'get' }, [
					{ referralId: ids[1] },
				]);
				expect(history.referral.history.map((h: Json) => h.to)).toEqual([
					'pending',
					'flagged',
					'approved',
					'qualified',
				]);
			} finally {
				await cleanup();
			}
		});

		it('bad input gives the documented outcome with a reason; Continue On Fail keeps the other items going', async () => {
			const { credential, cleanup } = await open();
			try {
				await setUp(credential);
				const [ana] = await enrol(credential, [{ email: 'ana@example.com' }]);
				const ledger = await openLedger(ledgerConfigFromCredential(credential as never));
				const revoked = await ledger.issueCode({
					programId: 'spring',
					ownerId: ana.participant.id,
					code: 'GONE-2345',
					idempotencyKey: 'r',
				});
				await ledger.revokeCode({ programId: 'spring', code: revoked.code.code });
				await ledger.issueCode({
					programId: 'spring',
					ownerId: ana.participant.id,
					code: 'OLD-2345',
					expiresAt: Date.now() - 1,
					idempotencyKey: 'e',
				});
				const out = await enrol(
					credential,
					[
						{ email: 'x@example.org', referralCode: 'NOPE-NOPE' },
						{ email: 'y@example.org', referralCode: 'gone-2345' },
						{ email: 'z@example.org', referralCode: 'OLD-2345' },
						{ email: 'not an email', referralCode: ana.participant.code },
						{ email: 'ana@example.com', referralCode: ana.participant.code },
						{ name: 'no email' },
					],
					true,
				);
				expect(out[0]).toMatchObject({ referral: null, warnings: [{ code: 'unknown_code' }] });
				expect(out[1]).toMatchObject({ referral: null, warnings: [{ code: 'code_revoked' }] });
				expect(out[2]).toMatchObject({ referral: null, warnings: [{ code: 'code_expired' }] });
				expect(out[3].error).toMatchObject({
					code: 'invalid_email',
					field: 'email',
					message: expect.stringContaining('[item 3]'),
				});
				expect(out[4].referral).toMatchObject({ status: 'rejected', reasons: ['self_referral'] });
				expect(out[5].error).toMatchObject({ code: 'required', field: 'email' });
				const failing = await run(credential, { resource: 'participant', operation: 'enrol' }, [
					{ email: 'ok@example.org' },
					{ email: '@@' },
				]);
				expect(failing.error('Node')?.message).toContain('[item 1]');
				const [missing] = await json(
					credential,
					{ resource: 'referral', operation: 'approve' },
					[{}],
					true,
				);
				expect(missing.error).toMatchObject({ parameter: 'Referral ID Field' });
				const [badProgram] = await json(
					credential,
					{
						resource: 'program',
						operation: 'save',
						fraudPolicy: { flagThreshold: 90, blockThreshold: 50 },
					},
					[{}],
					true,
				);
				expect(badProgram.error).toMatchObject({
					code: 'invalid_fraud_policy',
					field: 'blockThreshold',
				});
			} finally {
				await cleanup();
			}
		});

		it('8 concurrent executions recording and qualifying for one referrer, with replays, give exact counts', async () => {
			const { credential, cleanup } = await open();
			try {
				await setUp(credential, { velocityPerHour: 1000, velocityPerDay: 1000 });
				const [ana] = await enrol(credential, [{ email: 'ana@example.com' }]);
				const code = ana.participant.code;
				const PER = 6;
				// Every execution replays the sign-ups and orders of the execution before it.
				const batch = (e: number) =>
					[e, (e + 7) % 8].flatMap((k) =>
						Array.from({ length: PER }, (_, i) => ({
							email: `r${k}-${i}@example.org`,
							referralCode: code,
							orderId: `o${k}-${i}`,
							amount: 10,
							currency: 'EUR',
						})),
					);
				// Eight concurrent chains, each one execution recording its sign-ups, then one qualifying their orders.
				const results = await Promise.all(
					Array.from({ length: 8 }, async (_, e) => {
						const items = batch(e);
						const signUps = await json(
							credential,
							{ resource: 'referral', operation: 'record' },
							items.map(({ email, referralCode }) => ({ email, referralCode })),
						);
						// A sign-up may find its referral already qualified by the neighbouring chain, which records and qualifies the same orders.
						expect(signUps.map((s) => s.referral?.status)).toEqual(
							items.map(() => expect.stringMatching(/^(pending|qualified)$/)),
						);
						return await json(credential, { resource: 'referral', operation: 'qualify' }, items);
					}),
				);
				const ledger = await openLedger(ledgerConfigFromCredential(credential as never));
				const counts = await ledger.countReferrals({
					programId: 'spring',
					referrerId: ana.participant.id,
				});
				expect(counts).toEqual({ total: 8 * PER, byStatus: { qualified: 8 * PER } });
				// Each order qualified exactly once; its replay in the next chain answers like it.
				expect(results.flat().filter((r) => r.outcome === 'qualified' && !r.replayed)).toHaveLength(
					8 * PER,
				);
				expect(results.flat().filter((r) => r.outcome === 'qualified' && r.replayed)).toHaveLength(
					8 * PER,
				);
				expect(results.flat().every((r) => r.referral !== null)).toBe(true);
				const participants = await ledger.listParticipants({ programId: 'spring', limit: 1000 });
				expect(participants).toHaveLength(1 + 8 * PER);
				const codes = await ledger.listCodes({ programId: 'spring', limit: 1000 });
				expect(codes).toHaveLength(1 + 8 * PER);
				const [board] = await json(
					credential,
					{ resource: 'program', operation: 'leaderboard', period: 'lifetime' },
					[{}],
				);
				expect(board.score).toBe(8 * PER);
			} finally {
				await cleanup();
			}
		}, 60_000);
	});
}
