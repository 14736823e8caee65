/* Signed sources in a real n8n 2.40.7 with every workflow of workflows/ imported and active, as
 * npm start serves them: the conversion and refund webhooks refuse unsigned, wrongly signed, old
 * and replayed requests with 401 and write nothing; Stripe events signed by Stripe's own test
 * helper and Shopify webhooks signed as Shopify signs them qualify and reverse referrals through
 * stripe-referrals.json and shopify-referrals.json; lead scoring takes n8n's Header Auth. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeAllLedgers, openLedger, type LedgerStore } from '../../engine/ledger';
import { signWebhook } from '../../engine/webhooks/signatures';
import { startSmtpServer, type SmtpTestServer } from '../fakes/smtpServer';
import {
	signedHeaders,
	signedPost,
	TEST_LEAD_SCORING_TOKEN,
	TEST_WEBHOOK_SECRET,
} from '../support/signing';
import { enrolledIn } from '../support/signUpAnswer';
// @ts-expect-error plain ESM script without types
import * as n8n from '../../scripts/n8n.mjs';

type Json = any;
const STRIPE_SECRET = 'whsec_e2e_stripe_secret_0123456789';
const SHOPIFY_SECRET = 'shopify-e2e-client-secret-0123456789';
const FIXTURES = path.join(__dirname, '..', 'fixtures', 'webhooks');
const fixture = (name: string) => JSON.parse(readFileSync(path.join(FIXTURES, name), 'utf8'));
const stripe = new Stripe('sk_test_not_used');

describe('signed sources in real n8n', () => {
	let userFolder: string;
	let smtp: SmtpTestServer;
	let server: { baseUrl: string; stop: () => Promise<void> } | undefined;
	let ledger: LedgerStore;

	const url = (pathname: string) => `${server!.baseUrl}/webhook/${pathname}`;
	const send = async (pathname: string, init: RequestInit) => {
		const response = await fetch(url(pathname), init);
		return { status: response.status, json: (await response.json()) as Json };
	};
	const raw = (body: string, headers: Record<string, string>): RequestInit => ({
		method: 'POST',
		headers: { 'content-type': 'application/json', ...headers },
		body,
	});
	const settle = () => new Promise((r) => setTimeout(r, 2000));
	/** The sign-up answers alike for everyone (#14): the participant and referral are read from the ledger. */
	const signUp = async (body: { email: string } & Json): Promise<Json> => {
		expect((await send('referral/signup', raw(JSON.stringify(body), {}))).status).toBe(202);
		return await enrolledIn(path.join(userFolder, '.n8n', 'referral-ledger.sqlite'), body.email);
	};
	const conversionsOf = async (referralId: number) =>
		ledger.listConversions({ programId: 'default', referralIds: [referralId] });

	beforeAll(async () => {
		smtp = await startSmtpServer();
		userFolder = mkdtempSync(path.join(os.tmpdir(), 'rm-e2e-signed-'));
		const credentials = [
			n8n.localSmtpCredential(smtp.port),
			...n8n.securityCredentials({
				webhookSecret: TEST_WEBHOOK_SECRET,
				leadScoringToken: TEST_LEAD_SCORING_TOKEN,
				stripeSecret: STRIPE_SECRET,
				shopifySecret: SHOPIFY_SECRET,
			}),
		];
		({ server } = await n8n.startInstance(userFolder, { credentials }));
		for (const pathname of [
			'referral/signup',
			'referral/conversion',
			'referral/refund',
			'stripe/referrals',
			'shopify/referrals',
			'leads/score',
		]) {
			await n8n.waitForWebhook(url(pathname), raw('{}', {}));
		}
		ledger = await openLedger({
			backend: 'sqlite',
			path: path.join(userFolder, '.n8n', 'referral-ledger.sqlite'),
		});
	});

	afterAll(async () => {
		await closeAllLedgers();
		await server?.stop();
		await smtp?.close();
		if (userFolder) rmSync(userFolder, { recursive: true, force: true });
	});

	describe('our X-Referral-Signature on the conversion and refund webhooks', () => {
		let referral: { id: number };
		const order = { email: 'bea@example.org', orderId: 'S-1001', amount: 42, currency: 'EUR' };

		it('refuses unsigned, wrongly signed, changed, old and malformed requests with 401 field "signature", writing and sending nothing', async () => {
			const ann = await signUp({ email: 'ann.signed@example.com', name: 'Ann' });
			referral = (await signUp({ email: order.email, referralCode: ann.participant.code }))
				.referral;
			expect(referral).toMatchObject({ status: 'pending' });
			await smtp.waitForMessages(2, 20_000);
			const mailsBefore = smtp.messages.length;
			const body = JSON.stringify(order);
			const attempts: Array<[string, RequestInit]> = [
				['unsigned', raw(body, {})],
				[
					'another secret',
					raw(body, signedHeaders(body, { secret: 'not-the-shop-secret-0123456789' })),
				],
				['changed body', raw(JSON.stringify({ ...order, amount: 4200 }), signedHeaders(body))],
				[
					'old timestamp',
					raw(body, signedHeaders(body, { timestamp: Math.floor(Date.now() / 1000) - 600 })),
				],
				['malformed header', raw(body, { 'x-referral-signature': 'v1=deadbeef' })],
			];
			for (const [what, init] of attempts) {
				const answer = await send('referral/conversion', init);
				expect({ what, ...answer }).toEqual({
					what,
					status: 401,
					json: { error: { message: expect.any(String), field: 'signature' } },
				});
			}
			await settle();
			expect(await conversionsOf(referral.id)).toEqual([]);
			expect(
				(await ledger.getReferral({ programId: 'default', id: referral.id }))?.status,
			).not.toBe('qualified');
			expect(smtp.messages.length).toBe(mailsBefore);
		});

		it('accepts the signed order once; the same signed request again is a replay (401), a re-signed retry answers like the first', async () => {
			const init = signedPost(order);
			const first = await send('referral/conversion', init);
			expect(first.status).toBe(200);
			expect(first.json.referral).toEqual({ id: referral.id, status: 'qualified' });
			expect(first.json.rewards.map((r: Json) => [r.recipient, r.points]).sort()).toEqual([
				['referee', 50],
				['referrer', 100],
			]);
			const replayed = await send('referral/conversion', init);
			expect(replayed).toEqual({
				status: 401,
				json: {
					error: { message: expect.stringContaining('already accepted'), field: 'signature' },
				},
			});
			const retried = await send('referral/conversion', signedPost(order));
			expect(retried).toEqual(first);
			expect((await conversionsOf(referral.id)).map((c) => c.orderId)).toEqual(['S-1001']);
		});

		it('the refund webhook refuses an unsigned refund (the referral stays qualified) and reverses a signed one', async () => {
			expect(await send('referral/refund', raw(JSON.stringify({ orderId: 'S-1001' }), {}))).toEqual(
				{ status: 401, json: { error: { message: expect.any(String), field: 'signature' } } },
			);
			expect((await ledger.getReferral({ programId: 'default', id: referral.id }))?.status).toBe(
				'qualified',
			);
			const reversed = await send('referral/refund', signedPost({ orderId: 'S-1001' }));
			expect(reversed.status).toBe(200);
			expect(reversed.json.referral).toEqual({ id: referral.id, status: 'reversed' });
		});
	});

	describe('stripe-referrals.json', () => {
		let referral: { id: number };

		const stripeEvent = (type: string, object: Json, id: string) =>
			JSON.stringify({
				id,
				object: 'event',
				api_version: '2022-11-15',
				created: Math.floor(Date.now() / 1000),
				data: { object },
				livemode: false,
				type,
			});
		const fromStripe = (body: string, secret = STRIPE_SECRET) =>
			raw(body, {
				'stripe-signature': stripe.webhooks.generateTestHeaderString({ payload: body, secret }),
			});

		it("a Checkout payment signed by Stripe qualifies the buyer's referral; a forged one is refused", async () => {
			const cleo = await signUp({ email: 'cleo.stripe@example.com', name: 'Cleo' });
			referral = (
				await signUp({ email: 'dan.stripe@example.org', referralCode: cleo.participant.code })
			).referral;
			const session = {
				...fixture('stripe-checkout.session.completed.json').data.object,
				customer_details: { email: 'Dan.Stripe@example.org' },
				amount_total: 4990,
				currency: 'eur',
				payment_intent: 'pi_e2e_0001',
			};
			const body = stripeEvent('checkout.session.completed', session, 'evt_e2e_0001');
			expect(
				await send('stripe/referrals', fromStripe(body, 'whsec_someone_else_0123456789')),
			).toMatchObject({ status: 401, json: { error: { field: 'signature' } } });
			expect(await send('stripe/referrals', raw(body, {}))).toMatchObject({ status: 401 });
			expect(await conversionsOf(referral.id)).toEqual([]);
			const paid = await send('stripe/referrals', fromStripe(body));
			expect(paid.status).toBe(200);
			expect(paid.json.referral).toEqual({ id: referral.id, status: 'qualified' });
			expect(paid.json.rewards.map((r: Json) => [r.recipient, r.points]).sort()).toEqual([
				['referee', 50],
				['referrer', 100],
			]);
			// The answer (Stripe keeps it in its dashboard) names no other person: not the referrer's email.
			expect(JSON.stringify(paid.json)).not.toContain('cleo.stripe@example.com');
			// The order is the PaymentIntent, in euros, not cents.
			expect(
				(await conversionsOf(referral.id)).map((c) => [c.orderId, c.amount, c.currency]),
			).toEqual([['pi_e2e_0001', 49.9, 'EUR']]);
		});

		it('other events answer 200 ignored; charge.refunded of the same PaymentIntent reverses the referral', async () => {
			const other = await send(
				'stripe/referrals',
				fromStripe(
					stripeEvent('customer.created', { id: 'cus_1', object: 'customer' }, 'evt_e2e_0002'),
				),
			);
			expect(other).toEqual({
				status: 200,
				json: {
					ignored: true,
					event: 'customer.created',
					reason: expect.stringContaining('not a conversion or refund'),
				},
			});
			const charge = {
				...fixture('stripe-charge.refunded.json').data.object,
				amount: 4990,
				amount_refunded: 4990,
				refunded: true,
				currency: 'eur',
				payment_intent: 'pi_e2e_0001',
			};
			const refunded = await send(
				'stripe/referrals',
				fromStripe(stripeEvent('charge.refunded', charge, 'evt_e2e_0003')),
			);
			expect(refunded.status).toBe(200);
			expect(refunded.json.referral).toEqual({ id: referral.id, status: 'reversed' });
			// A refund of an order no referral has is a normal day: 200, nothing reversed.
			const unknown = await send(
				'stripe/referrals',
				fromStripe(
					stripeEvent(
						'charge.refunded',
						{ ...charge, payment_intent: 'pi_never_seen' },
						'evt_e2e_0004',
					),
				),
			);
			expect(unknown).toEqual({
				status: 200,
				json: { referral: null, reversed: [], reason: expect.any(String) },
			});
		});
	});

	describe('shopify-referrals.json', () => {
		// Shopify's ids exceed 2^53: written into the text as Shopify sends them, not through a JS number.
		const BIG_ID = '820982911946154508';
		const fromShopify = (topic: string, payload: Json) => {
			const body = JSON.stringify(payload).replace(/"BIG_ID"/g, BIG_ID);
			const { value } = signWebhook({ source: 'shopify', body, secret: SHOPIFY_SECRET });
			return raw(body, {
				'x-shopify-hmac-sha256': value,
				'x-shopify-topic': topic,
				'x-shopify-shop-domain': 'example.myshopify.com',
			});
		};

		it('orders/paid qualifies, a replayed delivery is refused, refunds/create reverses', async () => {
			const eve = await signUp({ email: 'eve.shopify@example.com', name: 'Eve' });
			const referral = (
				await signUp({ email: 'finn.shopify@example.org', referralCode: eve.participant.code })
			).referral;
			const order = {
				...fixture('shopify-orders-paid.json'),
				id: 'BIG_ID',
				email: 'finn.shopify@example.org',
				contact_email: 'finn.shopify@example.org',
				total_price: '129.00',
				currency: 'EUR',
			};
			const delivery = fromShopify('orders/paid', order);
			const paid = await send('shopify/referrals', delivery);
			expect(paid.status).toBe(200);
			expect(paid.json.referral).toEqual({ id: referral.id, status: 'qualified' });
			expect(JSON.stringify(paid.json)).not.toContain('eve.shopify@example.com');
			// The order id survives beyond 2^53.
			expect((await conversionsOf(referral.id)).map((c) => [c.orderId, c.amount])).toEqual([
				[BIG_ID, 129],
			]);
			expect(await send('shopify/referrals', delivery)).toMatchObject({
				status: 401,
				json: { error: { field: 'signature' } },
			});
			const refund = {
				...fixture('shopify-refunds-create.json'),
				id: 5001,
				order_id: 'BIG_ID',
				transactions: [{ kind: 'refund', status: 'success', amount: '129.00', currency: 'EUR' }],
			};
			const reversed = await send('shopify/referrals', fromShopify('refunds/create', refund));
			expect(reversed.status).toBe(200);
			expect(reversed.json.referral).toEqual({ id: referral.id, status: 'reversed' });
			// #14: the refund is counted by its own id (Refunded Amount Is › This Refund, Summed per Refund ID).
			expect(
				(await ledger.getReferral({ programId: 'default', id: referral.id }))!.metadata.refundParts,
			).toEqual({ '5001': 129 });
		});
	});

	it('lead scoring: 403 without the Header Auth value, 200 with it', async () => {
		const lead = JSON.stringify({ id: 'lead-s', email: 'sig@example.com', title: 'Student' });
		const refused = await fetch(url('leads/score'), raw(lead, {}));
		expect(refused.status).toBe(403);
		const scored = await send(
			'leads/score',
			raw(lead, { authorization: `Bearer ${TEST_LEAD_SCORING_TOKEN}` }),
		);
		expect(scored.status).toBe(200);
		expect(scored.json.leads[0].id).toBe('lead-s');
	});
});
