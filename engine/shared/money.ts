import { EngineError } from './errors';
import { describe } from './describe';

/**
 * Money: the one rule for currencies and amounts, used by referrals (orders, stats), rewards,
 * the ledger, webhooks and message templates.
 *
 * - A currency is an ISO 4217 code the running Node knows (`Intl.supportedValuesOf('currency')`:
 *   the ~160 current codes such as EUR, USD, JPY; made-up codes such as XYZ are refused).
 * - Amounts are written in major units as the marketer types them (20 = 20.00 EUR) and summed in
 *   integer minor units (cents) so caps and totals never drift by floating-point error.
 * - An amount is a finite number, never negative, with no more decimals than its currency has,
 *   and small enough that its minor units are an exact whole number (at most 2^53 − 1).
 * - An order amount is also at most the program's maximum, in minor units
 *   (default 1,000,000,000: 10,000,000.00 EUR, 1,000,000,000 JPY).
 */

/** The default largest order amount in minor units (10,000,000.00 EUR); a program may set another. */
export const DEFAULT_MAX_ORDER_MINOR = 1_000_000_000;

/** Currencies without a minor unit, as Stripe lists them (Stripe's "zero-decimal" currencies). */
const ZERO_DECIMAL = new Set([
	'BIF',
	'CLP',
	'DJF',
	'GNF',
	'JPY',
	'KMF',
	'KRW',
	'MGA',
	'PYG',
	'RWF',
	'UGX',
	'VND',
	'VUV',
	'XAF',
	'XOF',
	'XPF',
]);
/** Currencies with three decimals (ISO 4217; Stripe supports BHD, JOD, KWD, OMR, TND). */
const THREE_DECIMAL = new Set(['BHD', 'IQD', 'JOD', 'KWD', 'LYD', 'OMR', 'TND']);

let known: Set<string> | undefined;

/** ISO 4217 codes as the running Node's ICU data lists them. */
function knownCurrencies(): Set<string> {
	known ??= new Set(Intl.supportedValuesOf('currency'));
	return known;
}

/** True for an ISO 4217 code (upper case) such as EUR. */
export function isCurrency(code: unknown): boolean {
	return typeof code === 'string' && knownCurrencies().has(code);
}

/** The upper-cased ISO 4217 code; throws `invalid_currency` naming the field. */
export function parseCurrency(value: unknown, field = 'currency'): string {
	const text = typeof value === 'string' ? value.trim().toUpperCase() : '';
	if (!isCurrency(text)) {
		const shape = /^[A-Z]{3}$/.test(text) ? ', which is not an ISO 4217 currency' : '';
		throw new EngineError(
			'invalid_currency',
			`${field} must be a three-letter ISO 4217 currency code such as EUR, USD or JPY (got ${describe(value)}${shape}).`,
			{ field },
		);
	}
	return text;
}

export function currencyExponent(currency: string): number {
	const code = currency.toUpperCase();
	if (ZERO_DECIMAL.has(code)) return 0;
	if (THREE_DECIMAL.has(code)) return 3;
	return 2;
}

/**
 * 20.5 EUR → 2050. Throws `too_many_decimals` for 20.005 EUR rather than rounding a reward
 * silently, and `invalid_amount` when the minor units are not an exact whole number (above 2^53 − 1).
 */
export function toMinorUnits(amount: number, currency: string, field = 'amount'): number {
	const exponent = currencyExponent(currency);
	const scaled = amount * 10 ** exponent;
	const minor = Math.round(scaled);
	if (!Number.isSafeInteger(minor)) {
		throw new EngineError(
			'invalid_amount',
			`${field} must be a finite amount of at most ${fromMinorUnits(Number.MAX_SAFE_INTEGER, currency)} ${currency.toUpperCase()} (got ${describe(amount)}).`,
			{ field },
		);
	}
	if (Math.abs(scaled - minor) > 1e-6 * Math.max(1, Math.abs(scaled))) {
		throw new EngineError(
			'too_many_decimals',
			`${field} ${amount} has more decimals than ${currency.toUpperCase()} allows (${exponent}).`,
			{ field },
		);
	}
	return minor;
}

export function fromMinorUnits(minor: number, currency: string): number {
	const exponent = currencyExponent(currency);
	return Number((minor / 10 ** exponent).toFixed(exponent));
}

/** Rounds a computed amount (e.g. 10 % of an order) to the currency's minor unit, half away from zero. */
export function roundToCurrency(amount: number, currency: string): number {
	const exponent = currencyExponent(currency);
	const factor = 10 ** exponent;
	const rounded = (Math.sign(amount) * Math.round(Math.abs(amount) * factor + 1e-9)) / factor;
	return Number(rounded.toFixed(exponent));
}

/** An amount of money as typed: a finite number, > 0 unless zero is allowed, never negative. */
export function requireAmount(
	value: unknown,
	field: string,
	options: { allowZero?: boolean } = {},
): number {
	if (typeof value !== 'number' || !Number.isFinite(value)) {
		throw new EngineError(
			'invalid_number',
			`${field} must be a finite number (got ${describe(value)}).`,
			{ field },
		);
	}
	if (value < 0 || (value === 0 && !options.allowZero)) {
		throw new EngineError(
			'invalid_amount',
			`${field} must be ${options.allowZero ? 'zero or more' : 'greater than zero'} (got ${value}).`,
			{ field },
		);
	}
	return value;
}

/** A program's maximum order amount in minor units: a whole number from 1 to 2^53 − 1. */
export function requireMaxOrderMinor(value: unknown, field = 'maxOrderAmountMinor'): number {
	if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
		throw new EngineError(
			'invalid_number',
			`${field} must be a whole number of minor units (cents) of at least 1, such as ${DEFAULT_MAX_ORDER_MINOR} for 10,000,000.00 EUR (got ${describe(value)}).`,
			{ field },
		);
	}
	return value;
}

/**
 * An order's amount in `currency` (already checked with parseCurrency): finite, zero or more,
 * no more decimals than the currency has, and at most `maxMinor` minor units.
 * Throws `invalid_amount` (or `too_many_decimals`) naming the field and the valid range.
 */
export function requireOrderAmount(
	value: unknown,
	currency: string,
	field = 'amount',
	maxMinor = DEFAULT_MAX_ORDER_MINOR,
): number {
	const max = fromMinorUnits(maxMinor, currency);
	const range = `from 0 to ${max} ${currency} (the program's maximum order amount, ${maxMinor} minor units)`;
	if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
		throw new EngineError(
			'invalid_amount',
			`${field} must be a number ${range} (got ${describe(value)}).`,
			{ field, details: { max, currency } },
		);
	}
	if (value > max) {
		throw new EngineError(
			'invalid_amount',
			`${field} must be at most ${max} ${currency}, the program's maximum order amount (${maxMinor} minor units; got ${value}).`,
			{
				field,
				details: { max, currency },
			},
		);
	}
	toMinorUnits(value, currency, field);
	return value;
}

/** The same rule as a test, for rows stored before it held: true when the order amount and currency are valid. */
export function isValidOrderAmount(
	amount: unknown,
	currency: unknown,
	maxMinor = DEFAULT_MAX_ORDER_MINOR,
): boolean {
	if (!isCurrency(currency)) return false;
	try {
		requireOrderAmount(amount, currency as string, 'amount', maxMinor);
		return true;
	} catch {
		return false;
	}
}
