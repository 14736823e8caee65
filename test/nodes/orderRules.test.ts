/* Issue #13, defect 5: bad amounts and currencies, and orders outside the qualifying window,
 * through the Referral node on SQLite and PostgreSQL. */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { closeAllLedgers } from '../../engine/ledger';
import { runWorkflow, singleNodeWorkflow } from '../harness';
import { pgTestUrl, withPgSchema } from './ledgerBackends';

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
					path: path.join(mkdtempSync(path.join(os.tmpdir(), 'rm-orders-')), 'ledger.sqlite'),
				},
				cleanup: async () => {},
			}),
		],
		[
			'PostgreSQL',
			async () => {
				const backend = await withPgSchema();
				// DROP SCHEMA can deadlock with another file's migrations; it is only cleanup, so retry.
				const cleanup = async (): Promise<void> => {
					for (let attempt = 1; ; attempt++) {
						try {
							return await backend.cleanup();
						} catch (error) {
							if (attempt >= 5 || !/deadlock/i.test(String((error as Error).message))) throw error;
							await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
						}
					}
				};
				return { credential: backend.credential, cleanup };
			},
		],
	];
}

const DAY = 86_400_000;
const SIGN_UP = Date.UTC(2026, 4, 10, 12);

for (const [name, open] of backends()) {
	describe.skipIf(name === 'PostgreSQL' && !pgTestUrl())(
		`Order amounts, currencies and the qualifying window on ${name}`,
		() => {
			const json = async (
				credential: Credential,
				parameters: Record<string, unknown>,
				items: Json[],
				continueOnFail = false,
			) =>
				(
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
					)
				).json('Node') as Json[];
			const qualify = (credential: Credential, items: Json[]) =>
				json(credential, { resource: 'referral', operation: 'qualify' }, items, true);

			/** Ana refers Bob, Cleo and Dan, who sign up at SIGN_UP. */
			async function program(credential: Credential, qualification: Json) {
				await json(credential, { resource: 'program', operation: 'save', qualification }, [{}]);
				const [ana] = await json(credential, { resource: 'participant', operation: 'enrol' }, [
					{ email: 'ana@example.com' },
				]);
				const referees = await json(
					credential,
					{ resource: 'participant', operation: 'enrol' },
					['bob', 'cleo', 'dan'].map((n) => ({
						email: `${n}@example.org`,
						referralCode: ana.participant.code,
						signedUpAt: new Date(SIGN_UP).toISOString(),
					})),
				);
				expect(referees.map((r) => r.referral?.status)).toEqual(['pending', 'pending', 'pending']);
				return ana;
			}

			it('refuses infinite, huge, negative and over-maximum amounts and made-up currencies, naming the field; stats stay exact', async () => {
				const { credential, cleanup } = await open();
				try {
					await program(credential, {});
					const at = new Date(SIGN_UP + DAY).toISOString();
					const out = await qualify(credential, [
						{
							email: 'bob@example.org',
							orderId: 'X-1',
							amount: 1e308,
							currency: 'EUR',
							occurredAt: at,
						},
						{
							email: 'bob@example.org',
							orderId: 'X-2',
							amount: 20,
							currency: 'XYZ',
							occurredAt: at,
						},
						{
							email: 'bob@example.org',
							orderId: 'X-3',
							amount: -5,
							currency: 'EUR',
							occurredAt: at,
						},
						{
							email: 'bob@example.org',
							orderId: 'X-4',
							amount: 10_000_000.01,
							currency: 'EUR',
							occurredAt: at,
						},
						{
							email: 'cleo@example.org',
							orderId: 'X-5',
							amount: 1e308,
							currency: 'EUR',
							occurredAt: at,
						},
						{
							email: 'bob@example.org',
							orderId: 'X-6',
							amount: 10_000_000,
							currency: 'EUR',
							occurredAt: at,
						},
						{
							email: 'cleo@example.org',
							orderId: 'X-7',
							amount: 80,
							currency: 'eur',
							occurredAt: at,
						},
					]);
					expect(out[0].error).toMatchObject({
						code: 'invalid_amount',
						field: 'amount',
						message: expect.stringContaining('at most 10000000 EUR'),
					});
					expect(out[1].error).toMatchObject({
						code: 'invalid_currency',
						field: 'currency',
						message: expect.stringContaining('ISO 4217'),
					});
					expect(out[2].error).toMatchObject({
						code: 'invalid_amount',
						field: 'amount',
						message: expect.stringContaining('from 0 to 10000000 EUR'),
					});
					expect(out[3].error).toMatchObject({ code: 'invalid_amount', field: 'amount' });
					expect(out[4].error).toMatchObject({ code: 'invalid_amount', field: 'amount' });
					expect(out[5]).toMatchObject({ outcome: 'qualified', qualified: true });
					expect(out[6]).toMatchObject({ outcome: 'qualified', qualified: true });
					// Nothing of the refused orders was stored: the same order ids with valid amounts are new orders.
					const [retry] = await qualify(credential, [
						{
							email: 'dan@example.org',
							orderId: 'X-1',
							amount: 15,
							currency: 'EUR',
							occurredAt: at,
						},
					]);
					expect(retry).toMatchObject({ outcome: 'qualified' });
					const [stats] = await json(
						credential,
						{ resource: 'program', operation: 'stats', period: 'lifetime' },
						[{}],
					);
					expect(stats.referredRevenue).toEqual({ EUR: 10_000_095 });
					expect(stats.warnings).toEqual([]);
				} finally {
					await cleanup();
				}
			});

			it('uses the program maximum order amount, in minor units', async () => {
				const { credential, cleanup } = await open();
				try {
					await program(credential, { maxOrderAmountMinor: 5000 });
					const at = new Date(SIGN_UP + DAY).toISOString();
					const out = await qualify(credential, [
						{
							email: 'bob@example.org',
							orderId: 'M-1',
							amount: 50.01,
							currency: 'EUR',
							occurredAt: at,
						},
						{
							email: 'bob@example.org',
							orderId: 'M-2',
							amount: 50,
							currency: 'EUR',
							occurredAt: at,
						},
						{
							email: 'cleo@example.org',
							orderId: 'M-3',
							amount: 5001,
							currency: 'JPY',
							occurredAt: at,
						},
					]);
					expect(out[0].error).toMatchObject({
						code: 'invalid_amount',
						field: 'amount',
						message: expect.stringContaining('at most 50 EUR'),
					});
					expect(out[1]).toMatchObject({ outcome: 'qualified' });
					expect(out[2].error).toMatchObject({
						code: 'invalid_amount',
						field: 'amount',
						message: expect.stringContaining('at most 5000 JPY'),
					});
					const [bad] = await json(
						credential,
						{ resource: 'program', operation: 'save', qualification: { maxOrderAmountMinor: 0.5 } },
						[{}],
						true,
					);
					expect(bad.error).toMatchObject({
						field: 'maxOrderAmountMinor',
						message: expect.stringContaining('whole number of minor units'),
					});
				} finally {
					await cleanup();
				}
			});

			it('checks the qualify-within-days window at both ends', async () => {
				const { credential, cleanup } = await open();
				try {
					await program(credential, { qualifyWithinDays: 7 });
					const out = await qualify(credential, [
						{
							email: 'bob@example.org',
							orderId: 'W-1',
							amount: 30,
							currency: 'EUR',
							occurredAt: new Date(SIGN_UP - DAY).toISOString(),
						},
						{
							email: 'cleo@example.org',
							orderId: 'W-2',
							amount: 30,
							currency: 'EUR',
							occurredAt: new Date(SIGN_UP + 7 * DAY + 60_000).toISOString(),
						},
						{
							email: 'dan@example.org',
							orderId: 'W-3',
							amount: 30,
							currency: 'EUR',
							occurredAt: new Date(SIGN_UP + 3 * DAY).toISOString(),
						},
					]);
					expect(out[0]).toMatchObject({
						outcome: 'ignored',
						qualified: false,
						reason: expect.stringContaining('before the sign-up'),
					});
					expect(out[1]).toMatchObject({
						outcome: 'ignored',
						qualified: false,
						reason: expect.stringContaining('more than 7 days'),
					});
					expect(out[2]).toMatchObject({ outcome: 'qualified', qualified: true });
					const referrals = await json(credential, { resource: 'referral', operation: 'list' }, [
						{},
					]);
					expect(referrals.map((r) => r.referral.status).sort()).toEqual([
						'pending',
						'pending',
						'qualified',
					]);
				} finally {
					await cleanup();
				}
			});
		},
	);
}
