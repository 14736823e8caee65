import { describe, expect, it } from 'vitest';

import {
	currencyExponent,
	DEFAULT_MAX_ORDER_MINOR,
	fromMinorUnits,
	isCurrency,
	isValidOrderAmount,
	parseCurrency,
	requireAmount,
	requireMaxOrderMinor,
	requireOrderAmount,
	roundToCurrency,
	toMinorUnits,
} from '../../../engine/shared/money';

describe('money', () => {
	it('knows minor units', () => {
		expect(currencyExponent('EUR')).toBe(2);
		expect(currencyExponent('jpy')).toBe(0);
		expect(currencyExponent('KWD')).toBe(3);
	});

	it('converts without floating-point drift', () => {
		expect(toMinorUnits(0.1 + 0.2, 'EUR')).toBe(30);
		expect(toMinorUnits(19.99, 'USD')).toBe(1999);
		expect(fromMinorUnits(1999, 'USD')).toBe(19.99);
		expect(fromMinorUnits(1500, 'KWD')).toBe(1.5);
		expect(() => toMinorUnits(1.005, 'EUR')).toThrow(
			expect.objectContaining({ code: 'too_many_decimals' }),
		);
	});

	it('rounds half away from zero to the minor unit', () => {
		expect(roundToCurrency(8.055, 'EUR')).toBe(8.06);
		expect(roundToCurrency(100.5, 'JPY')).toBe(101);
		expect(roundToCurrency(1.0004, 'KWD')).toBe(1);
	});

	it('validates currencies and amounts', () => {
		expect(parseCurrency(' usd ')).toBe('USD');
		expect(() => parseCurrency('US')).toThrow(expect.objectContaining({ field: 'currency' }));
		expect(() => requireAmount(0, 'amount')).toThrow(/greater than zero/);
		expect(requireAmount(0, 'amount', { allowZero: true })).toBe(0);
		expect(() => requireAmount(-1, 'amount', { allowZero: true })).toThrow(/zero or more/);
	});

	it('knows ISO 4217 currencies from Intl and refuses made-up codes', () => {
		for (const code of ['EUR', 'USD', 'JPY', 'KWD', 'CHF', 'GBP'])
			expect(isCurrency(code)).toBe(true);
		for (const code of ['XYZ', 'ABC', 'EURO', 'EU', '', 'eur'])
			expect(isCurrency(code)).toBe(false);
		expect(parseCurrency('eur')).toBe('EUR');
		let error: { code: string; field: string; message: string } | undefined;
		try {
			parseCurrency('XYZ', 'order.currency');
		} catch (e) {
			error = e as { code: string; field: string; message: string };
		}
		expect(error).toMatchObject({ code: 'invalid_currency', field: 'order.currency' });
		expect(error!.message).toMatch(/ISO 4217/);
		expect(error!.message).toMatch(/not an ISO 4217 currency/);
	});

	it('refuses amounts whose minor units are not an exact whole number', () => {
		expect(() => toMinorUnits(1e308, 'EUR')).toThrow(
			expect.objectContaining({ code: 'invalid_amount', field: 'amount' }),
		);
		expect(() => toMinorUnits(1e14, 'EUR')).toThrow(
			/amount must be a finite amount of at most 90071992547409\.\d+ EUR \(got 100000000000000\)/,
		);
		expect(() => requireAmount(Number.POSITIVE_INFINITY, 'amount', { allowZero: true })).toThrow(
			expect.objectContaining({ code: 'invalid_number' }),
		);
		expect(() => requireAmount(Number.NaN, 'amount', { allowZero: true })).toThrow(/finite number/);
	});

	// One table for the order-amount rule: [amount, currency, max in minor units, valid?]
	const orders: Array<[unknown, string, number, boolean]> = [
		[0, 'EUR', DEFAULT_MAX_ORDER_MINOR, true],
		[19.99, 'EUR', DEFAULT_MAX_ORDER_MINOR, true],
		[10_000_000, 'EUR', DEFAULT_MAX_ORDER_MINOR, true],
		[10_000_000.01, 'EUR', DEFAULT_MAX_ORDER_MINOR, false],
		[1_000_000_000, 'JPY', DEFAULT_MAX_ORDER_MINOR, true],
		[1_000_000_001, 'JPY', DEFAULT_MAX_ORDER_MINOR, false],
		[1_000_000, 'KWD', DEFAULT_MAX_ORDER_MINOR, true],
		[1_000_000.001, 'KWD', DEFAULT_MAX_ORDER_MINOR, false],
		[1e308, 'EUR', DEFAULT_MAX_ORDER_MINOR, false],
		[Number.POSITIVE_INFINITY, 'EUR', DEFAULT_MAX_ORDER_MINOR, false],
		[Number.NaN, 'EUR', DEFAULT_MAX_ORDER_MINOR, false],
		[-0.01, 'EUR', DEFAULT_MAX_ORDER_MINOR, false],
		['20', 'EUR', DEFAULT_MAX_ORDER_MINOR, false],
		[20.005, 'EUR', DEFAULT_MAX_ORDER_MINOR, false],
		[100.5, 'JPY', DEFAULT_MAX_ORDER_MINOR, false],
		[500, 'EUR', 50_000, true],
		[500.01, 'EUR', 50_000, false],
		[20, 'XYZ', DEFAULT_MAX_ORDER_MINOR, false],
	];
	it.each(orders)(
		'order amount %s %s (max %s minor units): valid %s',
		(amount, currency, max, valid) => {
			expect(isValidOrderAmount(amount, currency, max)).toBe(valid);
			if (valid) expect(requireOrderAmount(amount, currency, 'amount', max)).toBe(amount);
		},
	);

	it('says which field is wrong and what would be valid', () => {
		expect(() => requireOrderAmount(1e308, 'EUR')).toThrow(
			expect.objectContaining({ code: 'invalid_amount', field: 'amount' }),
		);
		expect(() => requireOrderAmount(1e308, 'EUR')).toThrow(
			/at most 10000000 EUR, the program's maximum order amount \(1000000000 minor units/,
		);
		expect(() => requireOrderAmount(-1, 'JPY', 'order.amount')).toThrow(
			/order.amount must be a number from 0 to 1000000000 JPY/,
		);
		expect(() => requireOrderAmount(1.234, 'EUR')).toThrow(
			expect.objectContaining({ code: 'too_many_decimals' }),
		);
		expect(() => requireMaxOrderMinor(0)).toThrow(
			/maxOrderAmountMinor must be a whole number of minor units/,
		);
		expect(() => requireMaxOrderMinor(1.5)).toThrow(
			expect.objectContaining({ field: 'maxOrderAmountMinor' }),
		);
		expect(requireMaxOrderMinor(5000)).toBe(5000);
	});
});
