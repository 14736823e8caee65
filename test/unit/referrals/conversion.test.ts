import { describe, expect, it } from 'vitest';

import { EngineError } from '../../../engine/shared/errors';
import {
	qualificationFor,
	shouldReverse,
	validateConversion,
	validateQualificationSettings,
} from '../../../engine/referrals/conversion';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 2, 1);
const order = { orderId: 'o-1', amount: 80, currency: 'EUR', occurredAt: T0 + DAY };

function field(fn: () => unknown): string | undefined {
	try {
		fn();
	} catch (error) {
		expect(error).toBeInstanceOf(EngineError);
		return (error as EngineError).field;
	}
	throw new Error('expected an EngineError');
}

describe('conversion input', () => {
	it('normalizes currency and time', () => {
		expect(
			validateConversion({
				orderId: ' o-1 ',
				amount: 12.5,
				currency: 'eur',
				occurredAt: '2026-03-02T00:00:00Z',
			}),
		).toEqual({
			orderId: 'o-1',
			amount: 12.5,
			currency: 'EUR',
			occurredAt: T0 + DAY,
		});
	});

	it.each([
		[{ ...order, orderId: '' }, 'orderId'],
		[{ ...order, amount: -1 }, 'amount'],
		[{ ...order, amount: Number.NaN }, 'amount'],
		[{ ...order, currency: 'euro' }, 'currency'],
		[{ ...order, currency: 'XYZ' }, 'currency'],
		[{ ...order, amount: 1e308 }, 'amount'],
		[{ ...order, amount: Number.POSITIVE_INFINITY }, 'amount'],
		[{ ...order, amount: 10_000_000.01 }, 'amount'],
		[{ ...order, occurredAt: 'later' }, 'occurredAt'],
	])('refuses %j', (input, name) => {
		expect(field(() => validateConversion(input))).toBe(name);
	});
});

describe('qualification', () => {
	it('qualifies a pending or approved referral', () => {
		expect(qualificationFor('pending', T0, order).outcome).toBe('qualify');
		expect(qualificationFor('approved', T0, order).outcome).toBe('qualify');
	});

	it('holds a flagged referral until review', () => {
		expect(qualificationFor('flagged', T0, order).outcome).toBe('hold');
	});

	it('ignores referrals already qualified, rejected or reversed', () => {
		for (const s of ['qualified', 'rejected', 'reversed'] as const) {
			expect(qualificationFor(s, T0, order).outcome).toBe('ignore');
		}
	});

	it('refuses to qualify a referral that was never assessed', () => {
		expect(field(() => qualificationFor('recorded', T0, order))).toBe('status');
	});

	it('applies a minimum order amount at its edge', () => {
		const settings = validateQualificationSettings({ minOrderAmount: 80 });
		expect(qualificationFor('pending', T0, order, settings).outcome).toBe('qualify');
		expect(qualificationFor('pending', T0, { ...order, amount: 79.99 }, settings).outcome).toBe(
			'ignore',
		);
	});

	it('applies a qualification window at its edge', () => {
		const settings = validateQualificationSettings({ qualifyWithinDays: 1 });
		expect(qualificationFor('pending', T0, order, settings).outcome).toBe('qualify');
		expect(
			qualificationFor('pending', T0, { ...order, occurredAt: T0 + DAY + 1 }, settings).outcome,
		).toBe('ignore');
		expect(field(() => validateQualificationSettings({ qualifyWithinDays: 0 }))).toBe(
			'qualifyWithinDays',
		);
		expect(field(() => validateQualificationSettings({ maxOrderAmountMinor: 0 }))).toBe(
			'maxOrderAmountMinor',
		);
		expect(field(() => validateQualificationSettings({ minOrderAmount: -5 }))).toBe(
			'minOrderAmount',
		);
	});
});

describe('the qualifying window has two ends', () => {
	it('refuses an order dated before the sign-up, and one after the window', () => {
		const settings = validateQualificationSettings({ qualifyWithinDays: 7 });
		expect(qualificationFor('pending', T0, { ...order, occurredAt: T0 }, settings).outcome).toBe(
			'qualify',
		);
		expect(
			qualificationFor('pending', T0, { ...order, occurredAt: T0 + 7 * DAY }, settings).outcome,
		).toBe('qualify');
		const early = qualificationFor('pending', T0, { ...order, occurredAt: T0 - 1 }, settings);
		expect(early).toEqual({
			outcome: 'ignore',
			reason: 'The order came before the sign-up; it must come within 7 days after it.',
		});
		expect(
			qualificationFor('flagged', T0, { ...order, occurredAt: T0 - DAY }, settings).outcome,
		).toBe('ignore');
		expect(
			qualificationFor('pending', T0, { ...order, occurredAt: T0 + 7 * DAY + 1 }, settings).outcome,
		).toBe('ignore');
	});

	it('checks the amount against the program maximum', () => {
		const settings = validateQualificationSettings({ maxOrderAmountMinor: 50_000 });
		expect(validateConversion({ ...order, amount: 500 }, settings).amount).toBe(500);
		expect(field(() => validateConversion({ ...order, amount: 500.01 }, settings))).toBe('amount');
	});
});

describe('reversal on refund or cancellation', () => {
	it('reverses on any refund by default', () => {
		expect(shouldReverse('qualified', { orderAmount: 100, refundedAmount: 10 }).reverse).toBe(true);
		expect(shouldReverse('qualified', { orderAmount: 100, refundedAmount: 0 }).reverse).toBe(false);
	});

	it('reverses only full refunds when told to, and always on cancellation', () => {
		expect(
			shouldReverse('qualified', { orderAmount: 100, refundedAmount: 99.99 }, 'full_refund_only')
				.reverse,
		).toBe(false);
		expect(
			shouldReverse('qualified', { orderAmount: 100, refundedAmount: 100 }, 'full_refund_only')
				.reverse,
		).toBe(true);
		expect(
			shouldReverse(
				'qualified',
				{ orderAmount: 100, refundedAmount: 0, cancelled: true },
				'full_refund_only',
			).reverse,
		).toBe(true);
		// A partial refund that leaves less than the qualifying minimum reverses; one that leaves enough does not.
		expect(
			shouldReverse('qualified', { orderAmount: 100, refundedAmount: 60 }, 'full_refund_only', {
				minOrderAmount: 50,
			}),
		).toMatchObject({
			reverse: true,
			reason: expect.stringContaining('below the qualifying minimum of 50'),
		});
		expect(
			shouldReverse('qualified', { orderAmount: 100, refundedAmount: 50 }, 'full_refund_only', {
				minOrderAmount: 50,
			}).reverse,
		).toBe(false);
		expect(
			shouldReverse('qualified', { orderAmount: 100, refundedAmount: 0 }, 'any_refund', {
				minOrderAmount: 50,
			}).reverse,
		).toBe(false);
	});

	it('does nothing to referrals that are not qualified', () => {
		for (const s of ['pending', 'flagged', 'rejected', 'reversed'] as const) {
			expect(shouldReverse(s, { orderAmount: 100, refundedAmount: 100 }).reverse).toBe(false);
		}
	});

	it('refuses impossible refunds and unknown policies', () => {
		expect(field(() => shouldReverse('qualified', { orderAmount: 10, refundedAmount: 11 }))).toBe(
			'refundedAmount',
		);
		expect(
			field(() =>
				shouldReverse('qualified', { orderAmount: 10, refundedAmount: 1 }, 'sometimes' as never),
			),
		).toBe('refundPolicy');
	});
});
