/* Issue #13 defect 2, its root: nothing the server generates (a clock reading, an id) may enter an
 * idempotency fingerprint, or a replay is refused as "a different request". Reproduced through the
 * Referral node: a conversion for a flagged referral answered 200 and its replays 400
 * "idempotencyKey was already used for a different appendEvent request" (50 concurrent: 1 × ok, 49 × error). */
import type { IDataObject } from 'n8n-workflow';
import { afterAll, describe, expect, it } from 'vitest';
import { closeAllLedgers } from '../../engine/ledger';
import { ledgerNodeBackends, pgTestUrl, runLedgerNode } from './ledgerBackends';

afterAll(async () => {
	await closeAllLedgers();
});

type Credential = Record<string, unknown>;
type Json = Record<string, any>;

const backends = ledgerNodeBackends('fp');

for (const [name, open] of backends) {
	describe.skipIf(name === 'PostgreSQL' && !pgTestUrl())(`fingerprints on ${name}`, () => {
		const json = async (
			credential: Credential,
			parameters: Record<string, unknown>,
			items: Json[],
		) => runLedgerNode(credential, 'referral', parameters as IDataObject, items, 'fp');

		it('a conversion for a flagged referral, replayed once and 50 times at once, answers like the first', async () => {
			const { credential, cleanup } = await open();
			try {
				await json(credential, { resource: 'program', operation: 'save' }, [{}]);
				const [ana] = await json(credential, { resource: 'participant', operation: 'enrol' }, [
					{ email: 'ana@example.com' },
				]);
				const [bob] = await json(credential, { resource: 'participant', operation: 'enrol' }, [
					{ email: 'bob@example.org', referralCode: ana.participant.code },
				]);
				await json(credential, { resource: 'referral', operation: 'flag' }, [
					{ referralId: bob.referral.id },
				]);
				const order = { email: 'bob@example.org', orderId: 'F-1', amount: 30, currency: 'EUR' };
				const [first] = await json(credential, { resource: 'referral', operation: 'qualify' }, [
					order,
				]);
				expect(first).toMatchObject({
					outcome: 'held',
					referral: { id: bob.referral.id, status: 'flagged' },
				});
				// A few milliseconds later the server's clock reads differently: the replay must not care.
				await new Promise((resolve) => setTimeout(resolve, 5));
				const [again] = await json(credential, { resource: 'referral', operation: 'qualify' }, [
					order,
				]);
				expect(again.error).toBeUndefined();
				const replays = await Promise.all(
					Array.from({ length: 50 }, () =>
						json(credential, { resource: 'referral', operation: 'qualify' }, [order]).then(
							(r) => r[0],
						),
					),
				);
				expect(replays.filter((r) => r.error)).toEqual([]);
				const strip = ({ replayed: _r, ...rest }: Json) => rest;
				for (const r of [again, ...replays]) expect(strip(r)).toEqual(strip(first));
				// The same order id with another amount or currency is not a replay: a clear error naming orderId.
				const [dearer] = await json(credential, { resource: 'referral', operation: 'qualify' }, [
					{ ...order, amount: 31 },
				]);
				expect(dearer.error).toMatchObject({
					code: 'order_conflict',
					field: 'orderId',
					message: expect.stringContaining('F-1'),
				});
				// Approved: the held order qualifies; sent again in another currency it is still a conflict.
				await json(credential, { resource: 'referral', operation: 'approve' }, [
					{ referralId: bob.referral.id },
				]);
				const [dollars] = await json(credential, { resource: 'referral', operation: 'qualify' }, [
					{ ...order, currency: 'USD' },
				]);
				expect(dollars.error).toMatchObject({ code: 'order_conflict', field: 'orderId' });
			} finally {
				await cleanup();
			}
		}, 120_000);
	});
}
