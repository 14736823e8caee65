/* SMS pumping defence: countries, number types, one text per number per day and N per IP per hour,
 * with the allowances kept in the real ledger (claimNonce) so they hold across workers. */
import { afterAll, describe, expect, it } from 'vitest';
import {
	closeAllLedgers,
	openPostgresLedger,
	openSqliteLedger,
	type LedgerStore,
} from '../../../engine/ledger';
import {
	checkSmsDestination,
	messageLedgerFrom,
	parseSmsCountries,
	sendSms,
	type SmsGuard,
	type SmsSender,
} from '../../../engine/messaging';
import {
	dropSchema,
	IN_CI,
	pgAvailability,
	pgConfig,
	randomSchema,
	tempDir,
} from '../../support/databases';

const { available: pgAvailable } = pgAvailability();
const cleanups: Array<() => Promise<void> | void> = [];
afterAll(async () => {
	await closeAllLedgers();
	for (const cleanup of cleanups) await cleanup();
});

describe('which numbers a guarded text may go to', () => {
	it('program countries: parsed, checked, refused outside', () => {
		expect(parseSmsCountries('us, CA;gb  DE')).toEqual(['US', 'CA', 'GB', 'DE']);
		expect(parseSmsCountries('')).toEqual([]);
		expect(() => parseSmsCountries('US, XX')).toThrow(
			expect.objectContaining({ code: 'invalid_country', field: 'smsCountries' }),
		);
		expect(() => parseSmsCountries('USA')).toThrow(/not a two-letter country code/);
		expect(checkSmsDestination('+14155552671', ['US', 'CA'])).toBeNull();
		expect(checkSmsDestination('+4915112345678', ['US', 'CA'])).toMatchObject({
			reason: 'blocked',
			rule: 'country',
			detail: expect.stringContaining('in DE'),
		});
		expect(checkSmsDestination('+4915112345678', [])).toBeNull();
	});

	it('never premium-rate, shared-cost, UAN or an unknown type, whatever the countries', () => {
		expect(checkSmsDestination('+19005550100', ['US'])).toMatchObject({
			reason: 'blocked',
			rule: 'number_type',
			detail: expect.stringContaining('premium-rate'),
		});
		expect(checkSmsDestination('+448712345678', [])).toMatchObject({
			rule: 'number_type',
			detail: expect.stringContaining('premium-rate'),
		});
		expect(checkSmsDestination('+445512345678', [])).toMatchObject({
			rule: 'number_type',
			detail: expect.stringContaining('uan'),
		});
		// A valid number of a country whose metadata cannot tell the type.
		expect(checkSmsDestination('+882345678901', [])).toMatchObject({ rule: 'number_type' });
		expect(checkSmsDestination('+447911123456', [])).toBeNull();
	});
});

const backends: Array<[string, () => Promise<LedgerStore>, boolean]> = [
	[
		'SQLite',
		async () => {
			const { dir, remove } = tempDir();
			const store = await openSqliteLedger({ backend: 'sqlite', path: `${dir}/ledger.sqlite` });
			cleanups.push(async () => {
				await store.close();
				remove();
			});
			return store;
		},
		true,
	],
	[
		'PostgreSQL',
		async () => {
			const schema = randomSchema('sms_guard');
			const store = await openPostgresLedger(pgConfig(schema));
			cleanups.push(async () => {
				await store.close();
				await dropSchema(schema);
			});
			return store;
		},
		pgAvailable || IN_CI,
	],
];

for (const [name, open, enabled] of backends) {
	describe.skipIf(!enabled)(`guarded sends on ${name}`, () => {
		const calls: string[] = [];
		const sender: SmsSender = {
			provider: 'Counting',
			send: async (sms) => {
				calls.push(sms.to);
				return { provider: 'Counting', providerMessageId: `id-${calls.length}` };
			},
		};
		const guardOn = (store: LedgerStore, ip?: string, perIpPerHour = 3): SmsGuard => ({
			countries: ['US', 'GB'],
			perNumberPerDay: 1,
			perIpPerHour,
			ip,
			scope: 'default',
			salt: 'test-salt-0123456789',
			claim: (input) => store.claimNonce(input),
		});
		const text = (to: string, participant: number, guard: SmsGuard) => ({
			template: 'Your code is {{code}}',
			data: { code: 'K7QM' },
			to,
			itemIdentity: String(participant),
			templateId: 'welcome-sms',
			category: 'transactional' as const,
			guard,
		});

		it('one text per number per day; N per IP per hour; a refusal is a skipped outcome, a replay spends nothing', async () => {
			const store = await open();
			const ledger = messageLedgerFrom(store);
			const first = await sendSms(text('+14155550101', 1, guardOn(store, '203.0.113.9')), sender, {
				ledger,
			});
			expect(first).toMatchObject({ outcome: 'sent' });
			// The same sign-up again: the message log answers first (duplicate), no allowance is spent.
			expect(
				await sendSms(text('+14155550101', 1, guardOn(store, '203.0.113.9')), sender, { ledger }),
			).toMatchObject({ outcome: 'skipped', reason: 'duplicate' });
			// Another sign-up naming the same number: refused for the day.
			const again = await sendSms(
				text('+1 415 555 0101', 2, guardOn(store, '198.51.100.1')),
				sender,
				{ ledger },
			);
			expect(again).toMatchObject({
				outcome: 'skipped',
				reason: 'rate_limited',
				detail: expect.stringContaining('24 hours'),
				attempts: 0,
			});
			// Asked again, it answers the same.
			expect(
				await sendSms(text('+1 415 555 0101', 2, guardOn(store, '198.51.100.1')), sender, {
					ledger,
				}),
			).toMatchObject({ outcome: 'skipped', reason: 'rate_limited' });
			// Two more numbers from 203.0.113.9 fit the hour's 3; the fourth is refused.
			for (const [i, to] of ['+14155550102', '+14155550103'].entries()) {
				expect(
					await sendSms(text(to, 10 + i, guardOn(store, '203.0.113.9')), sender, { ledger }),
				).toMatchObject({ outcome: 'sent' });
			}
			const fourth = await sendSms(
				text('+14155550104', 20, guardOn(store, '203.0.113.9')),
				sender,
				{ ledger },
			);
			expect(fourth).toMatchObject({
				outcome: 'skipped',
				reason: 'rate_limited',
				detail: expect.stringContaining('this IP address'),
			});
			expect(JSON.stringify(fourth)).not.toContain('203.0.113.9');
			// Premium-rate and out-of-market numbers: refused before anything is reserved or spent.
			expect(
				await sendSms(text('+19005550100', 30, guardOn(store)), sender, { ledger }),
			).toMatchObject({ outcome: 'skipped', reason: 'blocked' });
			expect(
				await sendSms(text('+4915112345678', 31, guardOn(store)), sender, { ledger }),
			).toMatchObject({ outcome: 'skipped', reason: 'blocked' });
			expect(calls).toEqual(['+14155550101', '+14155550102', '+14155550103']);
		});

		it('racing sign-ups naming one number: exactly one text', async () => {
			const store = await open();
			const ledger = messageLedgerFrom(store);
			calls.length = 0;
			const results = await Promise.all(
				Array.from({ length: 8 }, (_, i) =>
					sendSms(text('+14155550199', 100 + i, guardOn(store, `192.0.2.${i}`)), sender, {
						ledger,
					}),
				),
			);
			expect(results.filter((r) => r.outcome === 'sent')).toHaveLength(1);
			expect(results.filter((r) => r.reason === 'rate_limited')).toHaveLength(7);
			expect(calls).toEqual(['+14155550199']);
		});
	});
}
