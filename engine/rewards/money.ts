import { EngineError } from '../errors';
import { describe, requireNumber } from '../referrals/validate';

/**
 * Amounts are written in major units as the marketer types them (20 = 20.00 EUR) and summed in
 * integer minor units (cents) so caps and totals never drift by floating-point error.
 */

/** Currencies without a minor unit, as Stripe lists them (Stripe's "zero-decimal" currencies). */
const ZERO_DECIMAL = new Set([
	'BIF', 'CLP', 'DJF', 'GNF', 'JPY', 'KMF', 'KRW', 'MGA', 'PYG', 'RWF', 'UGX', 'VND', 'VUV', 'XAF', 'XOF', 'XPF',
]);
/** Currencies with three decimals (ISO 4217; Stripe supports BHD, JOD, KWD, OMR, TND). */
const THREE_DECIMAL = new Set(['BHD', 'IQD', 'JOD', 'KWD', 'LYD', 'OMR', 'TND']);

export function parseCurrency(value: unknown, field = 'currency'): string {
	const text = typeof value === 'string' ? value.trim().toUpperCase() : '';
	if (!/^[A-Z]{3}$/.test(text)) {
		throw new EngineError('invalid_currency', `${field} must be a three-letter ISO 4217 code such as EUR or USD (got ${describe(value)}).`, {
			field,
		});
	}
	return text;
}

export function currencyExponent(currency: string): number {
	const code = currency.toUpperCase();
	if (ZERO_DECIMAL.has(code)) return 0;
	if (THREE_DECIMAL.has(code)) return 3;
	return 2;
}

/** 20.5 EUR → 2050. Throws `too_many_decimals` for 20.005 EUR rather than rounding a reward silently. */
export function toMinorUnits(amount: number, currency: string, field = 'amount'): number {
	const exponent = currencyExponent(currency);
	const scaled = amount * 10 ** exponent;
	const minor = Math.round(scaled);
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
	const rounded = Math.sign(amount) * Math.round(Math.abs(amount) * factor + 1e-9) / factor;
	return Number(rounded.toFixed(exponent));
}

/** An amount of money as typed: a finite number, > 0 unless zero is allowed, never negative. */
export function requireAmount(value: unknown, field: string, options: { allowZero?: boolean } = {}): number {
	const amount = requireNumber(value, field);
	if (amount < 0 || (amount === 0 && !options.allowZero)) {
		throw new EngineError(
			'invalid_amount',
			`${field} must be ${options.allowZero ? 'zero or more' : 'greater than zero'} (got ${amount}).`,
			{ field },
		);
	}
	return amount;
}
