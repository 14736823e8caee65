/* Issue #14 through the Referral node on SQLite and PostgreSQL: Refund Fields › Refunded Amount Is ›
 * This Refund (Summed per Refund ID) adds Shopify-style per-refund amounts by refund id. */
import { afterAll, describe, expect, it } from 'vitest';
import type { IDataObject } from 'n8n-workflow';
import { closeAllLedgers, openLedger } from '../../engine/ledger';
import { ledgerConfigFromCredential } from '../../nodes/shared/ledger';
import { ledgerNodeBackends, pgTestUrl, runLedgerNode } from './ledgerBackends';

afterAll(async () => {
	await closeAllLedgers();
});

type Credential = Record<string, unknown>;
type Json = Record<string, any>;

const backends = ledgerNodeBackends('parts');

for (const [name, open] of backends) {
	describe.skipIf(name === 'PostgreSQL' && !pgTestUrl())(
		`refunds summed per refund id through the Referral node on ${name}`,
		() => {
			const referral = async (credential: Credential, parameters: IDataObject, items: Json[]) =>
				runLedgerNode(credential, 'referral', parameters, items);

			it('two partial refunds with different ids sum to the whole order and reverse it; a redelivered id counts once; a missing id names the field', async () => {
				const { credential, cleanup } = await open();
				try {
					await referral(
						credential,
						{ resource: 'program', operation: 'save', refundPolicy: 'full_refund_only' },
						[{}],
					);
					const [ana] = await referral(
						credential,
						{ resource: 'participant', operation: 'enrol' },
						[{ email: 'ana@example.com' }],
					);
					const [bob] = await referral(
						credential,
						{ resource: 'participant', operation: 'enrol' },
						[{ email: 'bob@example.org', referralCode: ana.participant.code }],
					);
					await referral(credential, { resource: 'referral', operation: 'qualify' }, [
						{ email: 'bob@example.org', orderId: 'S-1', amount: 100, currency: 'EUR' },
					]);
					const refund = async (item: Json) =>
						(
							await referral(
								credential,
								{
									resource: 'referral',
									operation: 'reverse',
									reverseBy: 'orderId',
									refundFields: { refundedAmountIs: 'this_refund', refundId: 'id' },
								},
								[item],
							)
						)[0];
					expect(await refund({ orderId: 'S-1', refundedAmount: 60, id: 'r-1' })).toMatchObject({
						outcome: 'unchanged',
						referral: { status: 'qualified' },
					});
					expect(await refund({ orderId: 'S-1', refundedAmount: 60, id: 'r-1' })).toMatchObject({
						replayed: true,
						referral: { status: 'qualified' },
					});
					const missing = await refund({ orderId: 'S-1', refundedAmount: 40 });
					expect(missing.error).toMatchObject({
						field: 'refundId',
						message: expect.stringContaining('refundId is required'),
					});
					expect(await refund({ orderId: 'S-1', refundedAmount: 40, id: 'r-2' })).toMatchObject({
						outcome: 'reversed',
						referral: { status: 'reversed' },
					});
					const ledger = await openLedger(ledgerConfigFromCredential(credential as never));
					expect(
						(await ledger.getReferral({ programId: 'shop', id: bob.referral.id }))!.metadata
							.refundParts,
					).toEqual({ 'r-1': 60, 'r-2': 40 });
				} finally {
					await cleanup();
				}
			}, 120_000);
		},
	);
}
