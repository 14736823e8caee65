/* The MessageLedger contract (engine/messaging/types.ts) held by the in-memory reference ledger and by
 * the referral ledger behind messageLedgerFrom, on SQLite and PostgreSQL: the same suite for all three. */
import { afterAll, describe, expect, it } from 'vitest';
import {
	closeAllLedgers,
	openPostgresLedger,
	openSqliteLedger,
	type LedgerStore,
} from '../../engine/ledger';
import {
	messageLedgerFrom,
	sendSms,
	type MessageLedger,
	type SmsSender,
} from '../../engine/messaging';
import {
	dropSchema,
	IN_CI,
	PG_URL,
	pgAvailability,
	pgConfig,
	randomSchema,
	tempDir,
} from '../support/databases';
import { MemoryLedger } from '../fakes/memoryLedger';

const { available: pgAvailable, problem: pgProblem } = pgAvailability();
const cleanups: Array<() => Promise<void> | void> = [];

afterAll(async () => {
	await closeAllLedgers();
	for (const cleanup of cleanups) await cleanup();
});

interface Backend {
	ledger: MessageLedger;
	/** The underlying store, when there is one, to check what was written. */
	store?: LedgerStore;
}

const backends: Array<[string, () => Promise<Backend>, boolean]> = [
	['the in-memory reference ledger', async () => ({ ledger: new MemoryLedger() }), true],
	[
		'the referral ledger on SQLite',
		async () => {
			const { dir, remove } = tempDir();
			const store = await openSqliteLedger({ backend: 'sqlite', path: `${dir}/ledger.sqlite` });
			cleanups.push(async () => {
				await store.close();
				remove();
			});
			return { ledger: messageLedgerFrom(store), store };
		},
		true,
	],
	[
		'the referral ledger on PostgreSQL',
		async () => {
			const schema = randomSchema('msg_ledger');
			const store = await openPostgresLedger(pgConfig(schema));
			cleanups.push(async () => {
				await store.close();
				await dropSchema(schema);
			});
			return { ledger: messageLedgerFrom(store), store };
		},
		pgAvailable || IN_CI,
	],
];

for (const [name, open, enabled] of backends) {
	describe.skipIf(!enabled)(`MessageLedger contract: ${name}`, () => {
		if (name.includes('PostgreSQL') && !pgAvailable) {
			it('reaches PostgreSQL (required under CI=true)', () => {
				throw new Error(`PostgreSQL is unreachable at ${PG_URL}: ${pgProblem}`);
			});
			return;
		}

		it('keeps a suppression with its reason until it is removed, per channel', async () => {
			const { ledger } = await open();
			expect(await ledger.isSuppressed('email', 'ann@example.com')).toBeNull();
			await ledger.suppress('email', 'ann@example.com', 'unsubscribe link');
			expect(await ledger.isSuppressed('email', 'ann@example.com')).toEqual({
				reason: 'unsubscribe link',
			});
			// Same address string on the other channel is a different entry.
			expect(await ledger.isSuppressed('sms', 'ann@example.com')).toBeNull();
			await ledger.suppress('sms', '+14155552671', 'replied STOP');
			expect(await ledger.isSuppressed('sms', '+14155552671')).toEqual({ reason: 'replied STOP' });
			expect(await ledger.unsuppress('email', 'ann@example.com')).toBe(true);
			expect(await ledger.unsuppress('email', 'ann@example.com')).toBe(false);
			expect(await ledger.isSuppressed('email', 'ann@example.com')).toBeNull();
			expect(await ledger.isSuppressed('sms', '+14155552671')).not.toBeNull();
		});

		it('suppressing twice keeps one entry; a provider reason of any length is accepted', async () => {
			const { ledger, store } = await open();
			const long = `Postmark 406: ${'inactive recipient after a hard bounce; '.repeat(12)}`;
			await ledger.suppress('email', 'bob@example.com', long);
			await ledger.suppress('email', 'bob@example.com', 'second time');
			const found = await ledger.isSuppressed('email', 'bob@example.com');
			// The referral ledger keeps the first (original) reason; the contract only asks for one entry.
			if (store) expect(found?.reason.startsWith('Postmark 406: inactive recipient')).toBe(true);
			else expect(found).not.toBeNull();
			expect(await ledger.unsuppress('email', 'bob@example.com')).toBe(true);
			expect(await ledger.isSuppressed('email', 'bob@example.com')).toBeNull();
		});

		it('a key is a duplicate while in flight and once sent; after a failure it may be reserved again', async () => {
			const { ledger, store } = await open();
			expect(await ledger.reserveMessage('msg_a', 'email', 'ann@example.com')).toBe('reserved');
			expect(await ledger.reserveMessage('msg_a', 'email', 'ann@example.com')).toBe('duplicate');
			await ledger.completeMessage('msg_a', { status: 'sent', providerMessageId: 'pm-1' });
			expect(await ledger.reserveMessage('msg_a', 'email', 'ann@example.com')).toBe('duplicate');
			if (store)
				expect(await store.getMessage('msg_a')).toMatchObject({
					status: 'sent',
					providerId: 'pm-1',
					channel: 'email',
					recipient: 'ann@example.com',
				});

			expect(await ledger.reserveMessage('msg_b', 'sms', '+14155552671')).toBe('reserved');
			await ledger.completeMessage('msg_b', { status: 'failed', error: 'x'.repeat(3000) });
			if (store) {
				const failed = await store.getMessage('msg_b');
				expect(failed?.status).toBe('failed');
				expect(failed?.error?.length).toBeLessThanOrEqual(1024);
			}
			expect(await ledger.reserveMessage('msg_b', 'sms', '+14155552671')).toBe('reserved');
			expect(await ledger.reserveMessage('msg_b', 'sms', '+14155552671')).toBe('duplicate');
		});

		it('of many racing reservations of one key exactly one wins', async () => {
			const { ledger } = await open();
			const answers = await Promise.all(
				Array.from({ length: 12 }, () =>
					ledger.reserveMessage('msg_race', 'email', 'race@example.com'),
				),
			);
			expect(answers.filter((a) => a === 'reserved')).toHaveLength(1);
			expect(answers.filter((a) => a === 'duplicate')).toHaveLength(11);
		});

		it('carries the engine: a replayed send is skipped, a suppressed number is not called', async () => {
			const { ledger } = await open();
			const calls: string[] = [];
			const sender: SmsSender = {
				provider: 'Counting',
				send: async (sms) => {
					calls.push(sms.to);
					return { provider: 'Counting', providerMessageId: `id-${calls.length}` };
				},
			};
			const input = {
				template: 'Hi {{name}}, your code is {{code}}',
				data: { name: 'Ann', code: 'K7QM' },
				to: '+1 415 555 2671',
				category: 'transactional' as const,
			};
			const first = await sendSms(input, sender, { ledger });
			const replay = await sendSms(input, sender, { ledger });
			expect(first).toMatchObject({
				outcome: 'sent',
				providerMessageId: 'id-1',
				recipient: '+14155552671',
			});
			expect(replay).toMatchObject({
				outcome: 'skipped',
				reason: 'duplicate',
				idempotencyKey: first.idempotencyKey,
			});
			await ledger.suppress('sms', '+14155552672', 'replied STOP');
			const suppressed = await sendSms({ ...input, to: '+14155552672' }, sender, { ledger });
			expect(suppressed).toMatchObject({
				outcome: 'skipped',
				reason: 'suppressed',
				detail: 'On the suppression list: replied STOP',
			});
			expect(calls).toEqual(['+14155552671']);
		});
	});
}
