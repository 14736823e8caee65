/* The Shop Webhook node in n8n's execution engine: Verify reads the raw body from the binary field
 * the Webhook node's Raw Body option fills, routes Verified / Rejected (replays included, on the
 * ledger); Normalize routes Conversion / Refund / Ignored; Sign makes headers that verify. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { IDataObject, INode } from 'n8n-workflow';
import { afterAll, describe, expect, it } from 'vitest';
import { closeAllLedgers } from '../../engine/ledger';
import { signWebhook } from '../../engine/webhooks/signatures';
import { secretProblem } from '../../nodes/ShopWebhook/actions/common';
import { PACKAGE_NAME, runWorkflow, singleNodeWorkflow, type WorkflowJson } from '../harness';

const SECRET = 'node-test-secret-0123456789abcdef';
const folder = mkdtempSync(path.join(os.tmpdir(), 'rm-shopwebhook-'));
const credentials = {
	referralWebhookSecretApi: { secret: SECRET, previousSecret: 'the-previous-secret-0123456789' },
	referralLedgerApi: { backend: 'sqlite', path: path.join(folder, 'ledger.sqlite') },
};
const nodeCredentials = {
	referralWebhookSecretApi: { id: '1', name: 'Secret' },
	referralLedgerApi: { id: '2', name: 'Ledger' },
};

afterAll(async () => {
	await closeAllLedgers();
	rmSync(folder, { recursive: true, force: true });
});

/** An item as the Webhook node emits it with Raw Body on: parsed body and headers in JSON, the bytes in binary.data. */
function request(raw: string, headers: Record<string, string>, parsed: unknown = JSON.parse(raw)) {
	return {
		json: {
			headers: { 'content-type': 'application/json', ...headers },
			params: {},
			query: {},
			body: parsed as IDataObject,
		},
		binary: { data: { data: Buffer.from(raw).toString('base64'), mimeType: 'application/json' } },
	};
}

function verifyWorkflow(
	parameters: IDataObject,
	items: Array<ReturnType<typeof request> | { json: IDataObject }>,
	continueOnFail = false,
): WorkflowJson {
	return {
		nodes: [
			{
				id: 't',
				name: 'Start',
				type: 'n8n-nodes-base.manualTrigger',
				typeVersion: 1,
				position: [0, 0],
				parameters: {},
			},
			{
				id: 'n',
				name: 'Verify',
				type: `${PACKAGE_NAME}.shopWebhook`,
				typeVersion: 1,
				position: [200, 0],
				parameters: { operation: 'verify', ...parameters } as INode['parameters'],
				credentials: nodeCredentials,
				...(continueOnFail ? { onError: 'continueRegularOutput' as const } : {}),
			},
		],
		connections: { Start: { main: [[{ node: 'Verify', type: 'main', index: 0 }]] } },
		pinData: { Start: items as never },
	};
}

const sign = (
	source: 'referral' | 'stripe' | 'shopify',
	raw: string,
	secret = SECRET,
	timestamp?: number,
) => {
	const { header, value } = signWebhook({ source, body: raw, secret, timestamp });
	return { [header.toLowerCase()]: value };
};

describe('Shop Webhook › Verify Signature', () => {
	const raw = JSON.stringify({
		email: 'bob@example.org',
		orderId: 'A-1001',
		amount: 59.9,
		currency: 'EUR',
	});

	it('passes a signed request with the body parsed from the signed bytes, and rejects the others with field "signature"', async () => {
		const now = Math.floor(Date.now() / 1000);
		const items = [
			request(raw, sign('referral', raw)),
			// The parsed body a caller might have tampered with is never what comes out: the signed bytes are.
			request(raw, sign('referral', raw, SECRET, now - 1), { email: 'mallory@example.com' }),
			request(raw.replace('59.9', '599'), sign('referral', raw, SECRET, now - 2)),
			request(raw, sign('referral', raw, 'a-wrong-secret-0123456789')),
			request(raw, {}),
			request(raw, sign('referral', raw, SECRET, now - 301)),
			request(raw, sign('referral', raw, 'the-previous-secret-0123456789', now - 3)),
		];
		const result = await runWorkflow(verifyWorkflow({ source: 'referral' }, items), {
			credentials: credentials as never,
		});
		const verified = result.items('Verify', 0);
		const rejected = result.items('Verify', 1);
		expect(verified.map((i) => i.pairedItem)).toEqual([{ item: 0 }, { item: 1 }, { item: 6 }]);
		expect(verified[0].json).toMatchObject({
			body: JSON.parse(raw),
			signature: { verified: true, source: 'referral', secret: 'current' },
		});
		expect(verified[1].json.body).toEqual(JSON.parse(raw));
		expect(verified[2].json.signature).toMatchObject({ secret: 'previous' });
		expect(verified[0].binary?.data).toBeDefined();
		expect(
			rejected.map((i) => [
				i.pairedItem,
				(i.json.error as IDataObject).code,
				(i.json.error as IDataObject).field,
			]),
		).toEqual([
			[{ item: 2 }, 'signature_mismatch', 'signature'],
			[{ item: 3 }, 'signature_mismatch', 'signature'],
			[{ item: 4 }, 'missing_signature', 'signature'],
			[{ item: 5 }, 'timestamp_out_of_tolerance', 'signature'],
		]);
		// A rejected item carries no request data onward.
		expect(Object.keys(rejected[0].json)).toEqual(['error']);
	});

	it('rejects a replayed signature in a later execution (the ledger remembers it), unless replays are allowed', async () => {
		const body = JSON.stringify({ orderId: 'R-1' });
		const headers = sign('referral', body);
		const first = await runWorkflow(
			verifyWorkflow({ source: 'referral' }, [request(body, headers)]),
			{ credentials: credentials as never },
		);
		expect(first.items('Verify', 0)).toHaveLength(1);
		const replay = await runWorkflow(
			verifyWorkflow({ source: 'referral' }, [request(body, headers)]),
			{ credentials: credentials as never },
		);
		expect(replay.json('Verify', 1)).toEqual([
			{ error: expect.objectContaining({ code: 'replayed', field: 'signature' }) },
		]);
		const allowed = await runWorkflow(
			verifyWorkflow({ source: 'referral', rejectReplays: false }, [request(body, headers)]),
			{ credentials: credentials as never },
		);
		expect(allowed.items('Verify', 0)).toHaveLength(1);
	});

	it('verifies Stripe and Shopify requests with their headers', async () => {
		const stripeRaw = readFileSync(
			path.join(__dirname, '..', 'fixtures', 'webhooks', 'stripe-charge.refunded.json'),
			'utf8',
		);
		const shopifyRaw = readFileSync(
			path.join(__dirname, '..', 'fixtures', 'webhooks', 'shopify-orders-paid.json'),
			'utf8',
		);
		const stripe = await runWorkflow(
			verifyWorkflow({ source: 'stripe' }, [
				request(stripeRaw, sign('stripe', stripeRaw)),
				request(shopifyRaw, sign('shopify', shopifyRaw)),
			]),
			{ credentials: credentials as never },
		);
		expect(stripe.items('Verify', 0).map((i) => i.pairedItem)).toEqual([{ item: 0 }]);
		expect(stripe.json('Verify', 1)[0].error).toMatchObject({
			code: 'missing_signature',
			message: expect.stringContaining('Stripe-Signature'),
		});
		const shopify = await runWorkflow(
			verifyWorkflow({ source: 'shopify' }, [
				request(shopifyRaw, { ...sign('shopify', shopifyRaw), 'x-shopify-topic': 'orders/paid' }),
			]),
			{ credentials: credentials as never },
		);
		// The order id beyond 2^53 survives, as text.
		expect((shopify.json('Verify', 0)[0].body as IDataObject).id).toBe('820982911946154508');
	});

	it('without the raw body it stops, saying to turn on Raw Body; with Continue On Fail the item is rejected', async () => {
		const failed = await runWorkflow(
			verifyWorkflow({ source: 'referral' }, [{ json: { headers: {}, body: {} } }]),
			{ credentials: credentials as never },
		);
		expect(failed.error('Verify')?.message).toContain('no raw body in the binary field "data"');
		expect(failed.error('Verify')?.description).toContain('Raw Body');
		const continued = await runWorkflow(
			verifyWorkflow({ source: 'referral' }, [{ json: { headers: {}, body: {} } }], true),
			{ credentials: credentials as never },
		);
		expect(continued.json('Verify', 1)[0].error).toMatchObject({
			message: expect.stringContaining('raw body'),
		});
		expect(continued.items('Verify', 0)).toHaveLength(0);
	});
});

describe('Shop Webhook › Normalize Order Event', () => {
	const fixture = (name: string) =>
		JSON.parse(readFileSync(path.join(__dirname, '..', 'fixtures', 'webhooks', name), 'utf8'));

	it('routes conversions, refunds and other events to their outputs, each paired with its input', async () => {
		const unrelated = { ...fixture('stripe-invoice.paid.json'), type: 'customer.updated' };
		const result = await runWorkflow(
			singleNodeWorkflow(
				{ type: 'shopWebhook', parameters: { operation: 'normalize', source: 'stripe' } },
				[
					{ body: fixture('stripe-checkout.session.completed.json') },
					{ body: fixture('stripe-charge.refunded.json') },
					{ body: unrelated },
					{ body: fixture('stripe-invoice.paid.json') },
				],
			),
		);
		expect(
			result.items('Node', 0).map((i) => [i.pairedItem, i.json.orderId, i.json.amount]),
		).toEqual([
			[{ item: 0 }, 'pi_3MtwBwLkdIwHu7ix28a3tqPa', 21.98],
			[{ item: 3 }, 'pi_3MtHbFLkdIwHu7ix0JtqFoKb', 15],
		]);
		expect(result.json('Node', 1)).toEqual([
			expect.objectContaining({ kind: 'refund', refundedAmount: 5, orderAmount: 10.99 }),
		]);
		expect(result.json('Node', 2)).toEqual([
			expect.objectContaining({ kind: 'ignored', event: 'customer.updated' }),
		]);
	});

	it('stops on a malformed event naming the field; with Continue On Fail it leaves by Ignored with the error', async () => {
		const failed = await runWorkflow(
			singleNodeWorkflow(
				{ type: 'shopWebhook', parameters: { operation: 'normalize', source: 'paddle' } },
				[{ body: { event_type: 'transaction.completed' } }],
			),
		);
		expect(failed.error('Node')?.message).toContain(
			'carries its entity in data; this body has none. [item 0]',
		);
		const continued = await runWorkflow(
			singleNodeWorkflow(
				{
					type: 'shopWebhook',
					parameters: { operation: 'normalize', source: 'paddle' },
					continueOnFail: true,
				},
				[{ body: { event_type: 'transaction.completed' } }],
			),
		);
		expect(continued.json('Node', 2)[0].error).toMatchObject({
			code: 'invalid_event',
			field: 'data',
		});
	});
});

describe('Shop Webhook › Sign', () => {
	it('makes the body text and headers an HTTP Request node sends, and they verify', async () => {
		const result = await runWorkflow(
			singleNodeWorkflow(
				{
					type: 'shopWebhook',
					parameters: { operation: 'sign', source: 'referral' },
					credentials: nodeCredentials as never,
				},
				[{ body: { orderId: 'S-1', amount: 10 } }],
			),
			{ credentials: credentials as never },
		);
		const { body, headers } = result.json('Node')[0] as {
			body: string;
			headers: Record<string, string>;
		};
		expect(body).toBe('{"orderId":"S-1","amount":10}');
		const verified = await runWorkflow(
			verifyWorkflow({ source: 'referral' }, [
				request(body, { 'x-referral-signature': headers['X-Referral-Signature'] }),
			]),
			{ credentials: credentials as never },
		);
		expect(verified.items('Verify', 0)).toHaveLength(1);
	});
});

describe('Webhook Signing Secret credential test', () => {
	it('catches an API key pasted for the signing secret, stray spaces and short secrets', () => {
		expect(secretProblem('sk_live_51H8abcdefghijklmnop')).toContain('Stripe API key');
		expect(
			secretProblem('pdl_live_apikey_01gtgztp8f4kek3yd4g1wrksa3_q6TGTJyvoIz7LDtXT65bX7_AQO'),
		).toContain('Paddle API key');
		expect(secretProblem(' whsec_abcdefghijklmnopqrstuvwxyz')).toContain('space');
		expect(secretProblem('short')).toContain('16 characters');
		expect(secretProblem('whsec_abcdefghijklmnopqrstuvwxyz012345')).toBeNull();
		expect(
			secretProblem('pdl_ntfset_01gkpjp8bkm3tm53kdgkx6sms7_6h3qd3uFSi9YCD3OLYAShQI90XTI5vEI'),
		).toBeNull();
	});
});
