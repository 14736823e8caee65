import type { IDataObject } from 'n8n-workflow';
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

type LedgerCredential = Record<string, unknown>;

function backends(): Array<
	[string, () => Promise<{ credential: LedgerCredential; cleanup: () => Promise<void> }>]
> {
	return [
		[
			'SQLite',
			async () => ({
				credential: {
					backend: 'sqlite',
					path: path.join(mkdtempSync(path.join(os.tmpdir(), 'rm-codes-')), 'ledger.sqlite'),
				},
				cleanup: async () => {},
			}),
		],
		['PostgreSQL', async () => withPgSchema()],
	];
}

for (const [name, open] of backends()) {
	describe.skipIf(name === 'PostgreSQL' && !pgTestUrl())(
		`Referral Code ledger operations on ${name}`,
		() => {
			const run = async (
				credential: LedgerCredential,
				parameters: Record<string, unknown>,
				items: IDataObject[],
				continueOnFail = false,
			) =>
				await runWorkflow(
					singleNodeWorkflow(
						{
							type: 'referralCode',
							parameters: { resource: 'issuedCode', ...parameters },
							continueOnFail,
							credentials: { referralLedgerApi: { id: '1', name: 'Ledger' } },
						} as never,
						items,
					),
					{ credentials: { referralLedgerApi: credential as never } },
				);

			it('issues one code per owner, idempotently, and looks it up', async () => {
				const { credential, cleanup } = await open();
				try {
					const first = await run(
						credential,
						{ operation: 'issue', ownerBy: 'email', ownerField: 'email', maxUses: 3 },
						[{ email: 'Ann@Example.com' }, { email: 'bob@example.com' }],
					);
					const [ann, bob] = first
						.json('Node')
						.map((j) => j.referralCode as Record<string, unknown>);
					expect(ann.code).toMatch(/^[2-9A-Z]{8}$/);
					expect(bob.code).not.toBe(ann.code);
					expect(ann).toMatchObject({
						status: 'active',
						state: 'active',
						uses: 0,
						maxUses: 3,
						replayed: false,
					});
					// A replay (n8n retry) gives the same code, not a second one.
					const again = await run(
						credential,
						{ operation: 'issue', ownerBy: 'email', ownerField: 'email', maxUses: 3 },
						[{ email: 'ann@example.com' }],
					);
					expect(again.json('Node')[0].referralCode).toMatchObject({
						code: ann.code,
						replayed: true,
					});
					const lookup = await run(credential, { operation: 'lookup', codeField: 'typed' }, [
						{ typed: String(ann.code).toLowerCase() },
						{ typed: 'ZZZZZZZZ' },
					]);
					const [found, missing] = lookup
						.json('Node')
						.map((j) => j.codeLookup as Record<string, unknown>);
					expect(found).toMatchObject({ found: true, code: ann.code, ownerId: ann.ownerId });
					expect(missing).toMatchObject({ found: false });
				} finally {
					await cleanup();
				}
			});

			it('redeems until max uses, once per reference, and refuses revoked codes', async () => {
				const { credential, cleanup } = await open();
				try {
					const issued = await run(
						credential,
						{ operation: 'issue', ownerBy: 'none', maxUses: 2 },
						[{}],
					);
					const code = issued.json('Node')[0].referralCode as { code: string };
					const redeem = await run(
						credential,
						{ operation: 'redeem', codeField: 'code', referenceField: 'orderId' },
						[
							{ code: code.code, orderId: 'o-1' },
							{ code: code.code, orderId: 'o-1' },
							{ code: code.code, orderId: 'o-2' },
							{ code: code.code, orderId: 'o-3' },
							{ code: 'NOPE2345', orderId: 'o-4' },
						],
					);
					const results = redeem.json('Node').map((j) => j.redemption as Record<string, unknown>);
					expect(results.map((r) => r.redeemed)).toEqual([true, true, true, false, false]);
					expect(results[1].replayed).toBe(true);
					expect(results[2].uses).toBe(2);
					expect(results[3].reason).toBe('exhausted');
					expect(results[4].reason).toBe('unknown_code');

					const second = await run(credential, { operation: 'issue', ownerBy: 'none' }, [
						{ campaign: 'x' },
					]);
					const other = (second.json('Node')[0].referralCode as { code: string }).code;
					const revoked = await run(
						credential,
						{ operation: 'revoke', codeField: 'code', reason: 'leaked' },
						[{ code: other }],
					);
					expect(revoked.json('Node')[0].revocation).toMatchObject({
						revoked: true,
						status: 'revoked',
						revokedReason: 'leaked',
					});
					const refused = await run(credential, { operation: 'redeem', codeField: 'code' }, [
						{ code: other },
					]);
					expect(refused.json('Node')[0].redemption).toMatchObject({
						redeemed: false,
						reason: 'revoked',
					});
				} finally {
					await cleanup();
				}
			});

			it('issues vanity codes, refuses taken or rude ones with the reason, and goes on with Continue On Fail', async () => {
				const { credential, cleanup } = await open();
				try {
					const result = await run(
						credential,
						{
							operation: 'issue',
							ownerBy: 'externalId',
							ownerField: 'userId',
							vanityField: 'wanted',
						},
						[
							{ userId: 'u1', wanted: 'anna-2345' },
							{ userId: 'u2', wanted: 'ANNA-2345' },
							{ userId: 'u3', wanted: 'SUCKERS' },
							{ userId: 'u4' },
							{ wanted: 'MAX-2345' },
						],
						true,
					);
					const json = result.json('Node');
					expect(json[0].referralCode).toMatchObject({ code: 'ANNA-2345' });
					expect(json[1].error).toMatchObject({ code: 'code_taken' });
					expect((json[2].error as { message: string }).message).toContain('blocked word');
					expect((json[3].referralCode as { code: string }).code).toMatch(/^[2-9A-Z]{8}$/);
					expect(json[4].error).toMatchObject({ parameter: 'Owner Field' });
					expect(result.items('Node').map((i) => i.pairedItem)).toEqual(
						[0, 1, 2, 3, 4].map((item) => ({ item })),
					);
				} finally {
					await cleanup();
				}
			});
		},
	);
}
