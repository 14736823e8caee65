/* The providers' documented sample events (test/fixtures/webhooks, sources in SOURCES.md) read as
 * our conversions and refunds: amounts in the major unit as each provider documents its own,
 * order ids that let a refund find its conversion, ignored events with a reason. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseJsonBody } from '../../../engine/webhooks/body';
import { normalizeOrderEvent, type OrderSource } from '../../../engine/webhooks/normalize';
import { engineError } from '../../support/engineError';

const FIXTURES = path.join(__dirname, '..', '..', 'fixtures', 'webhooks');
/** Parsed as the Verify step parses the raw body (big integers kept exact). */
const load = (name: string) =>
	parseJsonBody(readFileSync(path.join(FIXTURES, name))) as Record<string, any>;
const normalize = (
	source: OrderSource,
	body: unknown,
	headers: Record<string, string> = {},
	options = {},
) => normalizeOrderEvent({ source, body, headers, options });

describe('Stripe', () => {
	it('checkout.session.completed: a conversion of amount_total cents, keyed by the PaymentIntent', () => {
		expect(normalize('stripe', load('stripe-checkout.session.completed.json'))).toEqual({
			kind: 'conversion',
			source: 'stripe',
			event: 'checkout.session.completed',
			eventId: 'evt_1NG8Du2eZvKYlo2CUI79vXWy',
			orderId: 'pi_3MtwBwLkdIwHu7ix28a3tqPa',
			email: 'jenny.rosen@example.com',
			amount: 21.98,
			currency: 'USD',
			occurredAt: '2023-06-06T22:19:30.000Z',
			refundedAmount: null,
			orderAmount: null,
			refundId: null,
			customerId: 'cus_NffrFeUfNV2Hib',
			reason: null,
		});
	});

	it('checkout.session.completed in a zero-decimal currency: ¥1,000 is amount 1000', () => {
		const event = load('stripe-checkout.session.completed.json');
		event.data.object.currency = 'jpy';
		event.data.object.amount_total = 1000;
		expect(normalize('stripe', event)).toMatchObject({ amount: 1000, currency: 'JPY' });
	});

	it('ignores sessions that carry no payment yet, subscriptions (invoice.paid carries those) and setups', () => {
		const event = load('stripe-checkout.session.completed.json');
		event.data.object.payment_status = 'unpaid';
		expect(normalize('stripe', event)).toMatchObject({
			kind: 'ignored',
			reason: expect.stringContaining('async_payment_succeeded'),
		});
		event.data.object.payment_status = 'paid';
		event.data.object.mode = 'subscription';
		expect(normalize('stripe', event)).toMatchObject({
			kind: 'ignored',
			reason: expect.stringContaining('invoice.paid'),
		});
		const other = { ...event, type: 'customer.created' };
		expect(normalize('stripe', other)).toMatchObject({
			kind: 'ignored',
			event: 'customer.created',
		});
	});

	it('invoice.paid: a conversion of amount_paid, paid at status_transitions.paid_at', () => {
		expect(normalize('stripe', load('stripe-invoice.paid.json'))).toMatchObject({
			kind: 'conversion',
			orderId: 'pi_3MtHbFLkdIwHu7ix0JtqFoKb',
			email: 'jennyrosen@example.com',
			amount: 15,
			currency: 'USD',
			occurredAt: new Date(1680644469 * 1000).toISOString(),
			customerId: 'cus_NeZwdNtLEOXuvB',
		});
	});

	it('charge.refunded: a refund of amount_refunded (all refunds so far) against the charge amount, same order id as the checkout', () => {
		expect(normalize('stripe', load('stripe-charge.refunded.json'))).toMatchObject({
			kind: 'refund',
			event: 'charge.refunded',
			orderId: 'pi_3MmlLrLkdIwHu7ix0Hw3VsGY',
			refundedAmount: 5,
			orderAmount: 10.99,
			refundId: null,
			currency: 'USD',
			email: null,
		});
	});
});

describe('Shopify', () => {
	it('orders/paid: a conversion of total_price, the order id kept to the last digit', () => {
		expect(
			normalize('shopify', load('shopify-orders-paid.json'), {
				'x-shopify-topic': 'orders/paid',
				'x-shopify-event-id': 'e-1',
			}),
		).toEqual({
			kind: 'conversion',
			source: 'shopify',
			event: 'orders/paid',
			eventId: 'e-1',
			// JSON.parse alone would round it to 820982911946154500.
			orderId: '820982911946154508',
			email: 'jon@example.com',
			amount: 359.97,
			currency: 'USD',
			occurredAt: '2022-01-01T00:00:00.000Z',
			refundedAmount: null,
			orderAmount: null,
			refundId: null,
			customerId: '115310627314723954',
			reason: null,
		});
	});

	it('refunds/create: a refund of the refunded lines when the event lists no transaction, of the transactions when it does', () => {
		const refund = load('shopify-refunds-create.json');
		expect(normalize('shopify', refund, { 'x-shopify-topic': 'refunds/create' })).toMatchObject({
			kind: 'refund',
			orderId: '820982911946154508',
			refundedAmount: 89.99,
			currency: 'USD',
			occurredAt: '2022-01-01T00:00:00.000Z',
			// Each refunds/create is one refund: its id lets Reverse sum the order's refunds (#14).
			refundId: '890088186047892319',
		});
		refund.transactions = [
			{ kind: 'refund', status: 'success', amount: '41.94', currency: 'USD' },
			{ kind: 'refund', status: 'failure', amount: '10.00', currency: 'USD' },
		];
		expect(normalize('shopify', refund, { 'x-shopify-topic': 'refunds/create' })).toMatchObject({
			kind: 'refund',
			refundedAmount: 41.94,
			reason: null,
		});
	});

	it('reads the topic from the body shape without the header, and ignores other topics', () => {
		expect(normalize('shopify', load('shopify-refunds-create.json'))).toMatchObject({
			kind: 'refund',
			event: 'refunds/create',
		});
		expect(
			normalize('shopify', load('shopify-orders-paid.json'), {
				'x-shopify-topic': 'orders/create',
			}),
		).toMatchObject({ kind: 'ignored', event: 'orders/create' });
	});
});

describe('WooCommerce', () => {
	it('an order updated to completed: a conversion of total, completed at date_completed_gmt', () => {
		expect(
			normalize('woocommerce', load('woocommerce-order-completed.json'), {
				'x-wc-webhook-topic': 'order.updated',
				'x-wc-webhook-delivery-id': 'd-9',
			}),
		).toEqual({
			kind: 'conversion',
			source: 'woocommerce',
			event: 'order.updated',
			eventId: 'd-9',
			orderId: '727',
			email: 'john.doe@example.com',
			amount: 29.35,
			currency: 'USD',
			occurredAt: '2017-03-22T19:28:08.000Z',
			refundedAmount: null,
			orderAmount: null,
			refundId: null,
			customerId: null,
			reason: null,
		});
	});

	it('an order with refunds: a refund of their sum against the order total; a fully refunded one without refund lines: the total', () => {
		const order = load('woocommerce-order-refunded.json');
		expect(normalize('woocommerce', order)).toMatchObject({
			kind: 'refund',
			orderId: '723',
			refundedAmount: 10,
			orderAmount: 39,
			customerId: '26',
			email: 'joao.silva@example.com',
		});
		order.refunds = [];
		order.status = 'refunded';
		expect(normalize('woocommerce', order)).toMatchObject({ kind: 'refund', refundedAmount: 39 });
	});

	it('ignores orders not yet completed and the ping sent when a webhook is saved', () => {
		const order = load('woocommerce-order-completed.json');
		order.status = 'processing';
		expect(normalize('woocommerce', order)).toMatchObject({
			kind: 'ignored',
			reason: expect.stringContaining('processing'),
		});
		expect(normalize('woocommerce', parseJsonBody('webhook_id=15'))).toMatchObject({
			kind: 'ignored',
			event: 'ping',
		});
	});
});

describe('Paddle Billing', () => {
	it('transaction.completed: a conversion of grand_total in the lowest denomination, the email from custom data', () => {
		const event = load('paddle-transaction.completed.json');
		expect(normalize('paddle', event)).toMatchObject({
			kind: 'conversion',
			event: 'transaction.completed',
			eventId: 'evt_01h8e1jxjnw9ra6zarhnz1a7y1',
			orderId: 'txn_01h8dzxgkvdwemdhbpcapj2tbj',
			amount: 652.15,
			currency: 'USD',
			occurredAt: '2023-08-22T07:15:44.296Z',
			customerId: 'ctm_01h8e18bxp9hby49dnm8ewf0m0',
			email: null,
			reason: expect.stringContaining('custom_data.email'),
		});
		event.data.custom_data = { email: 'Joe@Example.com' };
		expect(normalize('paddle', event)).toMatchObject({ email: 'joe@example.com', reason: null });
	});

	it('adjustment.created: a refund once approved (or at once, when told), against the transaction it adjusts', () => {
		const event = load('paddle-adjustment.created.json');
		expect(normalize('paddle', event)).toMatchObject({
			kind: 'ignored',
			orderId: 'txn_01h8bxpvx398a7zbawb77y0kp5',
			refundedAmount: 1,
			reason: expect.stringContaining('approval'),
		});
		expect(normalize('paddle', event, {}, { paddlePendingRefunds: true })).toMatchObject({
			kind: 'refund',
			refundedAmount: 1,
			currency: 'USD',
			occurredAt: '2023-08-21T14:08:43.297Z',
		});
		event.data.status = 'approved';
		expect(normalize('paddle', event)).toMatchObject({ kind: 'refund', refundedAmount: 1 });
		event.data.action = 'credit';
		expect(normalize('paddle', event)).toMatchObject({ kind: 'ignored' });
	});

	it('adjustment.created and .updated: each refund adjustment is one refund, its adjustment id the refundId (for Refunded Amount Is › This Refund, Summed per Refund ID)', () => {
		const created = load('paddle-adjustment.created.json');
		// The documented sample (pending approval), read at once when told: the adjustment's own amount, under its id.
		expect(normalize('paddle', created, {}, { paddlePendingRefunds: true })).toMatchObject({
			kind: 'refund',
			refundId: 'adj_01h8c6tbrkpdd7vx61w7b1r0ap',
			refundedAmount: 1,
		});
		expect(normalize('paddle', created)).toMatchObject({
			kind: 'ignored',
			refundId: 'adj_01h8c6tbrkpdd7vx61w7b1r0ap',
		});
		// Approved later (adjustment.updated): the same adjustment, the same refund id, so it is summed once.
		const updated = {
			...created,
			event_type: 'adjustment.updated',
			data: { ...created.data, status: 'approved', updated_at: '2023-08-21T15:00:00Z' },
		};
		expect(normalize('paddle', updated)).toMatchObject({
			kind: 'refund',
			event: 'adjustment.updated',
			refundId: 'adj_01h8c6tbrkpdd7vx61w7b1r0ap',
			refundedAmount: 1,
		});
		// A chargeback is paid back too; a credit adjustment pays nothing back and names no refund.
		expect(
			normalize('paddle', { ...updated, data: { ...updated.data, action: 'chargeback' } }),
		).toMatchObject({ kind: 'refund', refundId: 'adj_01h8c6tbrkpdd7vx61w7b1r0ap' });
		expect(
			normalize('paddle', { ...updated, data: { ...updated.data, action: 'credit' } }),
		).toMatchObject({ kind: 'ignored', refundId: null });
		// A conversion names no refund.
		expect(normalize('paddle', load('paddle-transaction.completed.json'))).toMatchObject({
			kind: 'conversion',
			refundId: null,
		});
	});
});

describe('bad input', () => {
	it('names the field and says what would be valid', () => {
		expect(engineError(() => normalize('stripe', { type: 'invoice.paid' })).field).toBe(
			'data.object',
		);
		expect(engineError(() => normalize('stripe', 'not json')).field).toBe('body');
		const event = load('stripe-invoice.paid.json');
		event.data.object.amount_paid = 12.5;
		const error = engineError(() => normalize('stripe', event));
		expect(error.field).toBe('data.object.amount_paid');
		expect(error.message).toContain('minor unit');
		expect(
			engineError(() =>
				normalize(
					'shopify',
					{ ...load('shopify-orders-paid.json'), currency: 'dollars' },
					{ 'x-shopify-topic': 'orders/paid' },
				),
			).field,
		).toBe('currency');
		expect(
			engineError(() => normalizeOrderEvent({ source: 'square' as never, body: {} })).field,
		).toBe('source');
	});
});
