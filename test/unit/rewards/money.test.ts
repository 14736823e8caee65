import { describe, expect, it } from 'vitest';

import { currencyExponent, fromMinorUnits, parseCurrency, requireAmount, roundToCurrency, toMinorUnits } from '../../../engine/rewards/money';

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
		expect(() => toMinorUnits(1.005, 'EUR')).toThrow(expect.objectContaining({ code: 'too_many_decimals' }));
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
});
