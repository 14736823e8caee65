/* Providers' order events as our conversions and refunds. Each provider documents its amounts
 * differently: Stripe and Paddle in the currency's minor unit (cents; yen for zero-decimal
 * currencies), Shopify and WooCommerce as decimal strings in the major unit. The output is always
 * the major unit as a number (59.9 EUR), the currency upper-case, times ISO-8601 in UTC, and order
 * ids as text, so Referral › Qualify and Reverse read it as they read our own webhook's body.
 * Events that are neither (other topics, unpaid sessions, pending refunds) come out as `ignored`
 * with a reason, so a workflow can answer them 200 and move on. Plain TypeScript: no n8n. */
import { EngineError } from '../shared/errors';
import { storedEmailOrNull } from '../shared/email';
import { currencyExponent, fromMinorUnits, isCurrency } from '../shared/money';
import { headerValue } from './signatures';

export const ORDER_SOURCES = ['stripe', 'shopify', 'woocommerce', 'paddle'] as const;
export type OrderSource = (typeof ORDER_SOURCES)[number];

export type OrderEventKind = 'conversion' | 'refund' | 'ignored';

export interface OrderEvent {
	kind: OrderEventKind;
	source: OrderSource;
	/** The provider's event name: `checkout.session.completed`, `orders/paid`, `order.updated`, `transaction.completed`… */
	event: string;
	/** The provider's id of this event (Stripe `evt_…`, Paddle `evt_…`, Shopify/WooCommerce delivery or webhook id). */
	eventId: string | null;
	/** The order a refund names must be the order its conversion named: see each provider below. */
	orderId: string | null;
	email: string | null;
	/** Conversions: what was paid, major unit. */
	amount: number | null;
	currency: string | null;
	occurredAt: string | null;
	/** Refunds: the amount refunded, major unit (Stripe: all refunds of the charge so far; others: this refund). */
	refundedAmount: number | null;
	/** Refunds: the order's amount when the event carries it (else Reverse reads it from the ledger). */
	orderAmount: number | null;
	/**
	 * Refunds whose `refundedAmount` is this refund alone (Shopify refunds/create, Paddle refund and
	 * chargeback adjustments: the adjustment id `adj_…`): the provider's id of the refund,
	 * for Reverse's *Refunded Amount Is › This Refund (Summed per Refund ID)*. Null elsewhere.
	 */
	refundId: string | null;
	/** The provider's customer id (Stripe `cus_…`, Shopify customer id, WooCommerce customer id, Paddle `ctm_…`). */
	customerId: string | null;
	/** Why an event was ignored, or a note on how it was read. */
	reason: string | null;
}

export interface NormalizeInput {
	source: OrderSource;
	/** The verified body, parsed. */
	body: unknown;
	/** Request headers: Shopify and WooCommerce name the topic in a header, not the body. */
	headers?: Record<string, unknown>;
	options?: NormalizeOptions;
}

export interface NormalizeOptions {
	/** Paddle refunds wait for Paddle's approval (`adjustment.updated`) unless this is true. */
	paddlePendingRefunds?: boolean;
	/** Where Paddle transactions carry the buyer's email in `custom_data` (default `email`). */
	paddleEmailField?: string;
}

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const text = (v: unknown): string | null =>
	typeof v === 'string' && v.trim() !== ''
		? v.trim()
		: typeof v === 'number' && Number.isFinite(v)
			? String(v)
			: null;
const idOf = (v: unknown): string | null => (isObj(v) ? text(v.id) : text(v));
/** The first candidate that is a valid email address, in its stored form (engine/shared/email.ts). */
const email = (...candidates: unknown[]): string | null => {
	for (const c of candidates) {
		const stored = storedEmailOrNull(text(c));
		if (stored !== null) return stored;
	}
	return null;
};
const isoFromSeconds = (v: unknown): string | null =>
	typeof v === 'number' && Number.isFinite(v) ? new Date(v * 1000).toISOString() : null;
const isoFrom = (v: unknown, assumeUtc = false): string | null => {
	const t = text(v);
	if (!t) return null;
	const ms = Date.parse(assumeUtc && !/[zZ]|[+-]\d\d:?\d\d$/.test(t) ? `${t}Z` : t);
	return Number.isFinite(ms) ? new Date(ms).toISOString() : null;
};

function currencyOf(v: unknown, field: string): string | null {
	const t = text(v);
	if (t === null) return null;
	if (!isCurrency(t.toUpperCase()))
		throw new EngineError(
			'invalid_event',
			`${field} must be a three-letter ISO 4217 currency code such as EUR or USD.`,
			{ field },
		);
	return t.toUpperCase();
}

/** A minor-unit integer (number or numeric string) in the major unit of the currency. */
function fromMinor(v: unknown, currency: string | null, field: string): number | null {
	if (v === null || v === undefined || v === '') return null;
	const n =
		typeof v === 'number' ? v : typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : NaN;
	if (!Number.isSafeInteger(n))
		throw new EngineError(
			'invalid_event',
			`${field} must be a whole number of the currency's minor unit.`,
			{ field },
		);
	if (!currency)
		throw new EngineError('invalid_event', `${field} comes without a currency.`, { field });
	return fromMinorUnits(n, currency);
}

/** A major-unit decimal (Shopify's "199.00", WooCommerce's "-10.00") as a number. */
function fromMajor(v: unknown, field: string): number | null {
	if (v === null || v === undefined || v === '') return null;
	const n =
		typeof v === 'number'
			? v
			: typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v.trim())
				? Number(v)
				: NaN;
	if (!Number.isFinite(n))
		throw new EngineError('invalid_event', `${field} must be a decimal amount such as 59.90.`, {
			field,
		});
	return n;
}

const round = (n: number, currency: string | null) => {
	const exponent = currency ? currencyExponent(currency) : 2;
	return Number(n.toFixed(exponent));
};

function blank(source: OrderSource, event: string): OrderEvent {
	return {
		kind: 'ignored',
		source,
		event,
		eventId: null,
		orderId: null,
		email: null,
		amount: null,
		currency: null,
		occurredAt: null,
		refundedAmount: null,
		orderAmount: null,
		refundId: null,
		customerId: null,
		reason: null,
	};
}

const ignore = (e: OrderEvent, reason: string): OrderEvent => ({ ...e, kind: 'ignored', reason });

// ------------------------------------------------------------------------------------ Stripe

/**
 * Stripe (https://docs.stripe.com/api/events/object): `{id, type, created, data: {object}}`.
 * The order id is the PaymentIntent (`pi_…`) whenever the object names one, so a Checkout payment
 * and the refund of its charge meet; an invoice without one is its own id (`in_…`).
 */
function stripe(body: Obj): OrderEvent {
	const type = text(body.type) ?? '';
	const e = {
		...blank('stripe', type),
		eventId: text(body.id),
		occurredAt: isoFromSeconds(body.created),
	};
	const object = isObj(body.data) && isObj(body.data.object) ? body.data.object : null;
	if (!object)
		throw new EngineError(
			'invalid_event',
			'A Stripe event carries its object in data.object; this body has none.',
			{ field: 'data.object' },
		);
	if (
		type === 'checkout.session.completed' ||
		type === 'checkout.session.async_payment_succeeded'
	) {
		const currency = currencyOf(object.currency, 'data.object.currency');
		const out: OrderEvent = {
			...e,
			orderId: idOf(object.payment_intent) ?? text(object.id),
			email: email(
				isObj(object.customer_details) ? object.customer_details.email : null,
				object.customer_email,
			),
			amount: fromMinor(object.amount_total, currency, 'data.object.amount_total'),
			currency,
			customerId: idOf(object.customer),
		};
		if (object.mode === 'subscription')
			return ignore(
				out,
				'A subscription Checkout: its first invoice arrives as invoice.paid, which carries the order.',
			);
		if (object.mode === 'setup') return ignore(out, 'A setup Checkout collects no payment.');
		if (object.payment_status === 'unpaid')
			return ignore(
				out,
				'The payment is still processing; checkout.session.async_payment_succeeded follows when it is paid.',
			);
		return { ...out, kind: 'conversion' };
	}
	if (type === 'invoice.paid') {
		const currency = currencyOf(object.currency, 'data.object.currency');
		const payments =
			isObj(object.payments) && Array.isArray(object.payments.data) ? object.payments.data : [];
		const firstPayment =
			isObj(payments[0]) && isObj(payments[0].payment) ? payments[0].payment : {};
		const transitions = isObj(object.status_transitions) ? object.status_transitions : {};
		return {
			...e,
			kind: 'conversion',
			orderId: idOf(object.payment_intent) ?? idOf(firstPayment.payment_intent) ?? text(object.id),
			email: email(object.customer_email),
			amount: fromMinor(object.amount_paid, currency, 'data.object.amount_paid'),
			currency,
			occurredAt: isoFromSeconds(transitions.paid_at) ?? e.occurredAt,
			customerId: idOf(object.customer),
		};
	}
	if (type === 'charge.refunded') {
		const currency = currencyOf(object.currency, 'data.object.currency');
		const billing = isObj(object.billing_details) ? object.billing_details : {};
		return {
			...e,
			kind: 'refund',
			orderId: idOf(object.payment_intent) ?? idOf(object.invoice) ?? text(object.id),
			email: email(billing.email, object.receipt_email),
			currency,
			refundedAmount: fromMinor(object.amount_refunded, currency, 'data.object.amount_refunded'),
			orderAmount: fromMinor(object.amount, currency, 'data.object.amount'),
			customerId: idOf(object.customer),
		};
	}
	return ignore(e, `Stripe event ${type || '(no type)'} is not a conversion or refund.`);
}

// ------------------------------------------------------------------------------------ Shopify

/**
 * Shopify (https://shopify.dev/docs/api/webhooks): the topic is the X-Shopify-Topic header; the
 * body is the order (`orders/paid`) or the refund (`refunds/create`, whose `order_id` names the
 * order). Amounts are decimal strings in the shop's currency.
 */
function shopify(body: Obj, headers: Record<string, unknown>): OrderEvent {
	const topic =
		headerValue(headers, 'x-shopify-topic') ??
		(body.order_id !== undefined && Array.isArray(body.transactions)
			? 'refunds/create'
			: body.total_price !== undefined
				? 'orders/paid'
				: '');
	const e = {
		...blank('shopify', topic),
		eventId:
			headerValue(headers, 'x-shopify-event-id') ??
			headerValue(headers, 'x-shopify-webhook-id') ??
			null,
	};
	if (topic === 'orders/paid') {
		const currency = currencyOf(body.currency, 'currency');
		const customer = isObj(body.customer) ? body.customer : {};
		const amount = fromMajor(body.total_price, 'total_price');
		return {
			...e,
			kind: 'conversion',
			orderId: text(body.id),
			email: email(body.email, body.contact_email, customer.email),
			amount: amount === null ? null : round(amount, currency),
			currency,
			occurredAt:
				isoFrom(body.processed_at) ?? isoFrom(body.updated_at) ?? isoFrom(body.created_at),
			customerId: text(customer.id),
		};
	}
	if (topic === 'refunds/create') {
		// The money paid back is in the refund's transactions; Shopify's own sample has none and
		// lists the refunded lines instead, so those are the fallback (subtotal plus tax).
		const transactions = (Array.isArray(body.transactions) ? body.transactions : []).filter(isObj);
		const refunds = transactions.filter(
			(t) => t.kind === 'refund' && (t.status === undefined || t.status === 'success'),
		);
		const lines = (Array.isArray(body.refund_line_items) ? body.refund_line_items : []).filter(
			isObj,
		);
		const lineCurrency = lines
			.map((l) =>
				isObj(l.subtotal_set) && isObj(l.subtotal_set.shop_money)
					? l.subtotal_set.shop_money.currency_code
					: null,
			)
			.find((c) => c);
		const currency = currencyOf(
			refunds.map((t) => t.currency).find((c) => c) ?? lineCurrency ?? null,
			'transactions.currency',
		);
		const refunded =
			refunds.length > 0
				? refunds.reduce(
						(sum, t, i) => sum + (fromMajor(t.amount, `transactions[${i}].amount`) ?? 0),
						0,
					)
				: lines.reduce(
						(sum, l, i) =>
							sum +
							(fromMajor(l.subtotal, `refund_line_items[${i}].subtotal`) ?? 0) +
							(fromMajor(l.total_tax, `refund_line_items[${i}].total_tax`) ?? 0),
						0,
					);
		return {
			...e,
			kind: 'refund',
			orderId: text(body.order_id),
			currency,
			occurredAt: isoFrom(body.processed_at) ?? isoFrom(body.created_at),
			refundedAmount: round(refunded, currency),
			refundId: text(body.id),
			customerId: null,
			reason:
				refunds.length === 0
					? 'No refund transaction in the event: the refunded amount is the refunded lines (subtotal plus tax).'
					: null,
		};
	}
	return ignore(
		e,
		`Shopify topic ${topic || '(no X-Shopify-Topic header)'} is not a conversion or refund.`,
	);
}

// ------------------------------------------------------------------------------------ WooCommerce

/**
 * WooCommerce (https://woocommerce.github.io/woocommerce-rest-api-docs/#order-properties): the
 * "Order updated" webhook sends the whole order. Status `completed` is a conversion; an order with
 * refunds (or status `refunded`) is a refund of the sum of its refunds. Amounts are decimal strings.
 */
function woocommerce(body: Obj, headers: Record<string, unknown>): OrderEvent {
	const topic = headerValue(headers, 'x-wc-webhook-topic') ?? 'order.updated';
	const e = {
		...blank('woocommerce', topic),
		eventId: headerValue(headers, 'x-wc-webhook-delivery-id') ?? null,
	};
	if (!topic.startsWith('order.') || body.id === undefined)
		return ignore(e, `WooCommerce topic ${topic} is not an order.`);
	const status = text(body.status) ?? '';
	const currency = currencyOf(body.currency, 'currency');
	const billing = isObj(body.billing) ? body.billing : {};
	const total = fromMajor(body.total, 'total');
	const base = {
		...e,
		orderId: text(body.id),
		email: email(billing.email),
		currency,
		customerId: body.customer_id ? text(body.customer_id) : null,
	};
	const refunds = (Array.isArray(body.refunds) ? body.refunds : []).filter(isObj);
	if (refunds.length > 0 || status === 'refunded') {
		const refunded =
			refunds.length > 0
				? refunds.reduce(
						(sum, r, i) => sum + Math.abs(fromMajor(r.total, `refunds[${i}].total`) ?? 0),
						0,
					)
				: (total ?? 0);
		return {
			...base,
			kind: 'refund',
			occurredAt: isoFrom(body.date_modified_gmt, true) ?? isoFrom(body.date_modified),
			refundedAmount: round(refunded, currency),
			orderAmount: total,
		};
	}
	const out = {
		...base,
		amount: total === null ? null : round(total, currency),
		occurredAt:
			isoFrom(body.date_completed_gmt, true) ??
			isoFrom(body.date_paid_gmt, true) ??
			isoFrom(body.date_modified_gmt, true),
	};
	if (status === 'completed') return { ...out, kind: 'conversion' };
	return ignore(
		out,
		`The order is ${status || 'without a status'}; it counts once it is completed.`,
	);
}

// ------------------------------------------------------------------------------------ Paddle

/**
 * Paddle Billing (https://developer.paddle.com/webhooks/overview): `{event_id, event_type,
 * occurred_at, data}`; amounts are strings in the currency's lowest denomination. A transaction
 * names its customer by id only: the buyer's email comes from the transaction's custom data
 * (pass it when opening the checkout), else look the customer up before qualifying.
 */
function paddle(body: Obj, options: NormalizeOptions): OrderEvent {
	const type = text(body.event_type) ?? '';
	const e = {
		...blank('paddle', type),
		eventId: text(body.event_id),
		occurredAt: isoFrom(body.occurred_at),
	};
	const data = isObj(body.data) ? body.data : null;
	if (!data)
		throw new EngineError(
			'invalid_event',
			'A Paddle event carries its entity in data; this body has none.',
			{ field: 'data' },
		);
	if (type === 'transaction.completed') {
		const currency = currencyOf(data.currency_code, 'data.currency_code');
		const totals = isObj(data.details) && isObj(data.details.totals) ? data.details.totals : {};
		const custom = isObj(data.custom_data) ? data.custom_data : {};
		const emailField = options.paddleEmailField || 'email';
		return {
			...e,
			kind: 'conversion',
			orderId: text(data.id),
			email: email(custom[emailField]),
			amount: fromMinor(
				totals.grand_total ?? totals.total,
				currency,
				'data.details.totals.grand_total',
			),
			currency,
			occurredAt: isoFrom(data.billed_at) ?? e.occurredAt,
			customerId: text(data.customer_id),
			reason: email(custom[emailField])
				? null
				: `No email in data.custom_data.${emailField}: find the participant by the Paddle customer id (customerId) or look the customer up.`,
		};
	}
	if (type === 'adjustment.created' || type === 'adjustment.updated') {
		const currency = currencyOf(data.currency_code, 'data.currency_code');
		const totals = isObj(data.totals) ? data.totals : {};
		const out: OrderEvent = {
			...e,
			orderId: text(data.transaction_id),
			currency,
			occurredAt:
				isoFrom(data.updated_at) && !String(data.updated_at).startsWith('0001')
					? isoFrom(data.updated_at)
					: (isoFrom(data.created_at) ?? e.occurredAt),
			refundedAmount: fromMinor(totals.total, currency, 'data.totals.total'),
			customerId: text(data.customer_id),
		};
		const action = text(data.action) ?? '';
		if (action !== 'refund' && action !== 'chargeback')
			return ignore(out, `A Paddle ${action || 'unnamed'} adjustment pays nothing back.`);
		// Each adjustment is one refund of its own amount (not the transaction's total so far): its id
		// is the refund id, the same on adjustment.created and the adjustment.updated that approves it.
		out.refundId = text(data.id);
		const status = text(data.status) ?? '';
		if (status === 'approved' || (status === 'pending_approval' && options.paddlePendingRefunds))
			return { ...out, kind: 'refund' };
		if (status === 'pending_approval')
			return ignore(
				out,
				"The refund awaits Paddle's approval; adjustment.updated follows when it is approved.",
			);
		return ignore(out, `The adjustment is ${status || 'without a status'}; nothing was paid back.`);
	}
	return ignore(e, `Paddle event ${type || '(no event_type)'} is not a conversion or refund.`);
}

/** One provider event as a conversion, a refund or an ignored event. Bad shapes throw EngineError naming the field. */
export function normalizeOrderEvent(input: NormalizeInput): OrderEvent {
	const { source, body } = input;
	if (!(ORDER_SOURCES as readonly string[]).includes(source))
		throw new EngineError(
			'invalid_source',
			`Unknown source "${String(source)}"; use one of ${ORDER_SOURCES.join(', ')}.`,
			{ field: 'source' },
		);
	const headers = input.headers ?? {};
	if (!isObj(body)) {
		if (source === 'woocommerce' && body === undefined)
			return ignore(
				blank('woocommerce', 'ping'),
				'A WooCommerce ping (sent when a webhook is saved): nothing to record.',
			);
		throw new EngineError('invalid_event', 'The event body must be a JSON object.', {
			field: 'body',
		});
	}
	if (source === 'stripe') return stripe(body);
	if (source === 'shopify') return shopify(body, headers);
	if (source === 'woocommerce') return woocommerce(body, headers);
	return paddle(body, input.options ?? {});
}
