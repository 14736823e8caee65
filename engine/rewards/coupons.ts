import { EngineError } from '../shared/errors';
import {
	requireInteger,
	requireRange,
	requireRecord,
	requireText,
	requireTime,
} from '../shared/guards';
import { currencyExponent, parseCurrency, requireAmount, toMinorUnits } from '../shared/money';
import type { AwardIntent } from './plan';

/**
 * The coupon item a reward emits, ready for the next node in the workflow. Besides the plain
 * fields, three sub-objects use the field names the n8n nodes and APIs ask for:
 *
 * - `stripe`: the Stripe node's Coupon → Create parameters: `duration`, `type` ("fixedAmount" |
 *   "percent"), `amountOff` in the smallest unit ("Amount Off (in Cents)"), `currency` (the node's
 *   currency list uses lower-case codes), `percentOff`. That node creates the coupon but takes
 *   no customer-facing code or expiry: use `code` with a promotion code and `expiresAt` as
 *   `redeem_by` if you call the Stripe API from an HTTP Request node.
 * - `shopify`: one entry of the Shopify node's Order → Create "Discount Codes": `code`,
 *   `amount` (text), `type` ("fixedAmount" | "percentage").
 * - `woocommerce`: the WooCommerce REST coupon (POST /wp-json/wc/v3/coupons from an HTTP Request
 *   node): `code`, `discount_type` ("fixed_cart" | "percent"), `amount` (text), `date_expires_gmt`,
 *   `usage_limit`. The WooCommerce node itself only applies a code to an order ("Coupon Lines"
 *   → Code), which takes `code`.
 */

export interface CouponInput {
	code: string;
	/** Fixed amount off, in major units of `currency`. */
	amountOff?: number;
	percentOff?: number;
	currency?: string;
	expiresAt?: number | string | Date;
	/** How many times the code may be redeemed (default 1: one participant, one use). */
	usageLimit?: number;
}

export interface CouponOutput {
	code: string;
	amountOff?: number;
	percentOff?: number;
	currency?: string;
	/** ISO 8601, UTC. */
	expiresAt?: string;
	stripe: {
		duration: 'once';
		type: 'fixedAmount' | 'percent';
		amountOff?: number;
		currency?: string;
		percentOff?: number;
	};
	shopify: { code: string; amount: string; type: 'fixedAmount' | 'percentage' };
	woocommerce: {
		code: string;
		discount_type: 'fixed_cart' | 'percent';
		amount: string;
		date_expires_gmt: string | null;
		usage_limit: number;
	};
}

function formatNumber(value: number, decimals: number): string {
	return value.toFixed(decimals);
}

export function couponOutput(input: CouponInput): CouponOutput {
	const raw = requireRecord(input, 'coupon');
	const code = requireText(raw.code, 'code', 255);
	const hasAmount = raw.amountOff !== undefined && raw.amountOff !== null;
	const hasPercent = raw.percentOff !== undefined && raw.percentOff !== null;
	if (hasAmount === hasPercent) {
		throw new EngineError(
			'invalid_coupon',
			'A coupon needs exactly one of amountOff (a fixed amount) or percentOff.',
			{ field: 'amountOff' },
		);
	}
	const usageLimit =
		raw.usageLimit === undefined ? 1 : requireInteger(raw.usageLimit, 'usageLimit', 1);
	const expiresAt =
		raw.expiresAt === undefined || raw.expiresAt === null
			? undefined
			: new Date(requireTime(raw.expiresAt, 'expiresAt')).toISOString();
	// WooCommerce stores GMT dates without the zone suffix.
	const wooExpiry = expiresAt ? expiresAt.slice(0, 19) : null;

	if (hasAmount) {
		const amountOff = requireAmount(raw.amountOff, 'amountOff');
		const currency = parseCurrency(raw.currency);
		const minor = toMinorUnits(amountOff, currency, 'amountOff');
		const text = formatNumber(amountOff, currencyExponent(currency));
		const out: CouponOutput = {
			code,
			amountOff,
			currency,
			stripe: {
				duration: 'once',
				type: 'fixedAmount',
				amountOff: minor,
				currency: currency.toLowerCase(),
			},
			shopify: { code, amount: text, type: 'fixedAmount' },
			woocommerce: {
				code,
				discount_type: 'fixed_cart',
				amount: text,
				date_expires_gmt: wooExpiry,
				usage_limit: usageLimit,
			},
		};
		if (expiresAt) out.expiresAt = expiresAt;
		return out;
	}
	const percentOff = requireAmount(raw.percentOff, 'percentOff');
	requireRange(percentOff, 'percentOff', 0, 100);
	const text = String(percentOff);
	const out: CouponOutput = {
		code,
		percentOff,
		stripe: { duration: 'once', type: 'percent', percentOff },
		shopify: { code, amount: text, type: 'percentage' },
		woocommerce: {
			code,
			discount_type: 'percent',
			amount: text,
			date_expires_gmt: wooExpiry,
			usage_limit: usageLimit,
		},
	};
	if (expiresAt) out.expiresAt = expiresAt;
	return out;
}

/** The coupon item for a planned coupon award, once the service has a code (generated or from the pool). */
export function couponForAward(award: AwardIntent, code: string): CouponOutput {
	if (award.kind !== 'coupon') {
		throw new EngineError(
			'invalid_coupon',
			`Award ${award.idempotencyKey} is a ${award.kind} reward, not a coupon.`,
			{ field: 'kind' },
		);
	}
	const prefix = award.coupon?.prefix;
	const input: CouponInput = {
		code: prefix && !code.startsWith(prefix) ? `${prefix}${code}` : code,
	};
	if (award.amount !== undefined) {
		input.amountOff = award.amount;
		input.currency = award.currency;
	} else input.percentOff = award.percentOff;
	if (award.coupon?.expiresAt !== undefined) input.expiresAt = award.coupon.expiresAt;
	return couponOutput(input);
}

/**
 * A pool low-stock event fires once, when a claim takes the remaining count from above the
 * threshold to at or below it (not again on every later claim).
 */
export function poolLowStockCrossed(
	remainingBefore: number,
	remainingAfter: number,
	threshold: number,
): boolean {
	requireInteger(remainingBefore, 'remainingBefore', 0);
	requireInteger(remainingAfter, 'remainingAfter', 0);
	requireInteger(threshold, 'lowStockThreshold', 0);
	return remainingBefore > threshold && remainingAfter <= threshold;
}
