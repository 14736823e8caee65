/* Webhook signatures, checked against the providers' own libraries where the registry has them:
 * Stripe's test-header helper signs, Paddle's and Shopify's SDKs verify what we sign, and the
 * documented HMAC constructions (ours, WooCommerce's) are recomputed with the openssl CLI. Every
 * scheme refuses a changed body, a wrong secret, an old timestamp (where one is signed) and, with
 * the ledger, a replayed signature. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import '@shopify/shopify-api/adapters/node';
import { ApiVersion, shopifyApi } from '@shopify/shopify-api';
import { Paddle } from '@paddle/paddle-node-sdk';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { openLedger, type LedgerStore } from '../../../engine/ledger';
import { verifyDelivery } from '../../../engine/webhooks/replay';
import {
	signWebhook,
	verifyWebhookSignature,
	WEBHOOK_SOURCES,
	type WebhookSource,
} from '../../../engine/webhooks/signatures';

const FIXTURES = path.join(__dirname, '..', '..', 'fixtures', 'webhooks');
const fixture = (name: string) => readFileSync(path.join(FIXTURES, name), 'utf8');
const SECRET = 'whsec_test_secret_for_signatures_0123';
const stripe = new Stripe('sk_test_not_used');
const nowSeconds = () => Math.floor(Date.now() / 1000);

function headersFor(
	source: WebhookSource,
	body: string,
	secret = SECRET,
	timestamp?: number,
): Record<string, string> {
	const { header, value } = signWebhook({ source, body, secret, timestamp });
	return { [header.toLowerCase()]: value };
}

function openssl(key: string, data: string, encoding: 'hex' | 'base64'): string {
	const digest = execFileSync('openssl', ['dgst', '-sha256', '-hmac', key, '-binary'], {
		input: data,
	});
	return digest.toString(encoding);
}

describe('signatures made by the providers verify', () => {
	it('Stripe: a header from stripe.webhooks.generateTestHeaderString verifies; the SDK accepts ours', async () => {
		const body = fixture('stripe-checkout.session.completed.json');
		const header = stripe.webhooks.generateTestHeaderString({ payload: body, secret: SECRET });
		const result = verifyWebhookSignature({
			source: 'stripe',
			rawBody: Buffer.from(body),
			headers: { 'stripe-signature': header },
			secrets: [SECRET],
		});
		expect(result).toMatchObject({ ok: true, source: 'stripe', secretIndex: 0 });
		const ours = headersFor('stripe', body)['stripe-signature'];
		const event = stripe.webhooks.constructEvent(body, ours, SECRET);
		expect(event.type).toBe('checkout.session.completed');
		expect(() =>
			stripe.webhooks.constructEvent(body.replace('2198', '2199'), ours, SECRET),
		).toThrow(/signature/i);
	});

	it('Paddle: the Node SDK accepts what we sign and refuses it changed', async () => {
		const body = fixture('paddle-transaction.completed.json');
		const signature = headersFor('paddle', body)['paddle-signature'];
		expect(signature).toMatch(/^ts=\d+;h1=[0-9a-f]{64}$/);
		// The SDK sets up its Node crypto with a client; no request is made. It allows 5 s of age.
		const paddle = new Paddle('pdl_sdbx_apikey_not_used').webhooks;
		expect(await paddle.isSignatureValid(body, SECRET, signature)).toBe(true);
		expect(await paddle.isSignatureValid(body.replace('65215', '1'), SECRET, signature)).toBe(
			false,
		);
		expect(await paddle.isSignatureValid(body, 'pdl_ntfset_another_secret', signature)).toBe(false);
		expect(
			verifyWebhookSignature({
				source: 'paddle',
				rawBody: body,
				headers: { 'paddle-signature': signature },
				secrets: [SECRET],
			}).ok,
		).toBe(true);
	});

	it('Shopify: shopify.webhooks.validate accepts what we sign and refuses it changed', async () => {
		const body = fixture('shopify-orders-paid.json');
		const shopify = shopifyApi({
			apiKey: 'test-key',
			apiSecretKey: SECRET,
			scopes: [],
			hostName: 'localhost',
			apiVersion: ApiVersion.January25,
			isEmbeddedApp: false,
			logger: { level: 0 },
		});
		const headers = {
			...headersFor('shopify', body),
			'x-shopify-topic': 'orders/paid',
			'x-shopify-shop-domain': 'example.myshopify.com',
			'x-shopify-api-version': '2025-01',
			'x-shopify-webhook-id': 'b54557e4-bdd9-4b37-8a5f-bf7d70bcd043',
		};
		const rawRequest = { method: 'POST', url: '/webhook/shopify/referrals', headers };
		expect(
			await shopify.webhooks.validate({ rawBody: body, rawRequest, rawResponse: {} }),
		).toMatchObject({ valid: true, topic: 'ORDERS_PAID' });
		expect(
			await shopify.webhooks.validate({ rawBody: `${body} `, rawRequest, rawResponse: {} }),
		).toMatchObject({ valid: false, reason: 'invalid_hmac' });
		expect(
			verifyWebhookSignature({ source: 'shopify', rawBody: body, headers, secrets: [SECRET] }).ok,
		).toBe(true);
	});

	it('WooCommerce and ours: the documented constructions, recomputed with openssl, verify', () => {
		const woo = fixture('woocommerce-order-completed.json');
		const wooHeader = openssl(SECRET, woo, 'base64');
		expect(headersFor('woocommerce', woo)['x-wc-webhook-signature']).toBe(wooHeader);
		expect(
			verifyWebhookSignature({
				source: 'woocommerce',
				rawBody: woo,
				headers: { 'X-WC-Webhook-Signature': wooHeader },
				secrets: [SECRET],
			}).ok,
		).toBe(true);

		const body = JSON.stringify({
			email: 'bob@example.org',
			orderId: 'A-1001',
			amount: 59.9,
			currency: 'EUR',
		});
		const t = nowSeconds();
		const v1 = openssl(SECRET, `${t}.${body}`, 'hex');
		expect(headersFor('referral', body, SECRET, t)['x-referral-signature']).toBe(`t=${t},v1=${v1}`);
		expect(
			verifyWebhookSignature({
				source: 'referral',
				rawBody: body,
				headers: { 'x-referral-signature': `t=${t},v1=${v1}` },
				secrets: [SECRET],
			}).ok,
		).toBe(true);
	});
});

describe('every scheme refuses', () => {
	const body = JSON.stringify({
		email: 'bob@example.org',
		orderId: 'A-1001',
		amount: 59.9,
		currency: 'EUR',
	});

	for (const source of WEBHOOK_SOURCES) {
		it(`${source}: a changed body, a wrong secret, a missing or malformed header`, () => {
			const headers = headersFor(source, body);
			const verify = (raw: string, h: Record<string, unknown>, secrets = [SECRET]) =>
				verifyWebhookSignature({ source, rawBody: raw, headers: h, secrets });
			expect(verify(body, headers).ok).toBe(true);
			// One byte more (a re-serialised body, a trailing newline) is another body.
			expect(verify(`${body}\n`, headers)).toMatchObject({
				ok: false,
				reason: 'signature_mismatch',
			});
			expect(verify(body.replace('59.9', '599'), headers)).toMatchObject({
				ok: false,
				reason: 'signature_mismatch',
			});
			expect(verify(body, headers, ['another-secret-of-some-length'])).toMatchObject({
				ok: false,
				reason: 'signature_mismatch',
			});
			expect(verify(body, {})).toMatchObject({ ok: false, reason: 'missing_signature' });
			const name = Object.keys(headers)[0];
			expect(verify(body, { [name]: 'garbage' })).toMatchObject({
				ok: false,
				reason: 'malformed_signature',
			});
			expect(verify(body, headers, [])).toMatchObject({ ok: false, reason: 'no_secret' });
		});
	}

	for (const source of ['referral', 'stripe', 'paddle'] as const) {
		it(`${source}: a timestamp older (or further ahead) than the tolerance, even correctly signed`, () => {
			const old = headersFor(source, body, SECRET, nowSeconds() - 301);
			expect(
				verifyWebhookSignature({ source, rawBody: body, headers: old, secrets: [SECRET] }),
			).toMatchObject({ ok: false, reason: 'timestamp_out_of_tolerance' });
			expect(
				verifyWebhookSignature({
					source,
					rawBody: body,
					headers: old,
					secrets: [SECRET],
					toleranceSeconds: 600,
				}).ok,
			).toBe(true);
			const ahead = headersFor(source, body, SECRET, nowSeconds() + 400);
			expect(
				verifyWebhookSignature({ source, rawBody: body, headers: ahead, secrets: [SECRET] }),
			).toMatchObject({ ok: false, reason: 'timestamp_out_of_tolerance' });
			// The timestamp is signed: moving it breaks the signature rather than passing the check.
			const t = nowSeconds();
			const moved = Object.fromEntries(
				Object.entries(headersFor(source, body, SECRET, t - 1000)).map(([k, v]) => [
					k,
					v.replace(String(t - 1000), String(t)),
				]),
			);
			expect(
				verifyWebhookSignature({ source, rawBody: body, headers: moved, secrets: [SECRET] }),
			).toMatchObject({ ok: false, reason: 'signature_mismatch' });
		});
	}

	it('accepts the previous secret during a rotation, and any of several v1 signatures (Stripe rolling secrets)', () => {
		const t = nowSeconds();
		const old = headersFor('referral', body, 'the-previous-secret-0123456789', t);
		expect(
			verifyWebhookSignature({
				source: 'referral',
				rawBody: body,
				headers: old,
				secrets: [SECRET, 'the-previous-secret-0123456789'],
			}),
		).toMatchObject({ ok: true, secretIndex: 1 });
		const both = `${old['x-referral-signature']},v1=${headersFor('referral', body, SECRET, t)['x-referral-signature'].split('v1=')[1]}`;
		expect(
			verifyWebhookSignature({
				source: 'referral',
				rawBody: body,
				headers: { 'x-referral-signature': both },
				secrets: [SECRET],
			}),
		).toMatchObject({ ok: true, secretIndex: 0 });
	});
});

describe('replay protection on the ledger', () => {
	let folder: string;
	let ledger: LedgerStore;
	let other: LedgerStore;

	beforeAll(async () => {
		folder = mkdtempSync(path.join(os.tmpdir(), 'rm-replay-'));
		ledger = await openLedger({ backend: 'sqlite', path: path.join(folder, 'a.sqlite') });
		// A second connection to the same file stands in for a second n8n worker.
		other = await openLedger({
			backend: 'sqlite',
			path: path.join(folder, 'a.sqlite'),
			busyTimeoutMs: 51,
		});
	});

	afterAll(async () => {
		await ledger?.close();
		await other?.close();
		rmSync(folder, { recursive: true, force: true });
	});

	for (const source of WEBHOOK_SOURCES) {
		it(`${source}: the same signed delivery is accepted once, also when two workers race`, async () => {
			const body = JSON.stringify({ id: `${source}-order-1`, total: '10.00' });
			const headers = headersFor(source, body);
			const attempt = (store: LedgerStore) =>
				verifyDelivery({ source, rawBody: body, headers, secrets: [SECRET], ledger: store });
			const results = await Promise.all([
				attempt(ledger),
				attempt(other),
				attempt(ledger),
				attempt(other),
			]);
			expect(results.filter((r) => r.ok)).toHaveLength(1);
			expect(results.filter((r) => !r.ok).map((r) => (r.ok ? '' : r.reason))).toEqual([
				'replayed',
				'replayed',
				'replayed',
			]);
			// Not checked when switched off.
			expect(
				(
					await verifyDelivery({
						source,
						rawBody: body,
						headers,
						secrets: [SECRET],
						ledger,
						rejectReplays: false,
					})
				).ok,
			).toBe(true);
		});
	}

	it('a delivery signed again (a new timestamp) is a new delivery', async () => {
		const body = '{"orderId":"A-2"}';
		const first = await verifyDelivery({
			source: 'referral',
			rawBody: body,
			headers: headersFor('referral', body, SECRET, nowSeconds() - 1),
			secrets: [SECRET],
			ledger,
		});
		const again = await verifyDelivery({
			source: 'referral',
			rawBody: body,
			headers: headersFor('referral', body, SECRET, nowSeconds()),
			secrets: [SECRET],
			ledger,
		});
		expect([first.ok, again.ok]).toEqual([true, true]);
	});
});
