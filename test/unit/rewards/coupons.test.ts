import { describe, expect, it } from 'vitest';

import { couponForAward, couponOutput, poolLowStockCrossed } from '../../../engine/rewards/coupons';
import { planAwards } from '../../../engine/rewards/plan';
import { validateRewardProgram } from '../../../engine/rewards/validateProgram';

describe('coupon output', () => {
	it('fixed amount: Stripe cents and lower-case currency, Shopify and WooCommerce amounts as text', () => {
		expect(
			couponOutput({
				code: 'REF-7KQ2',
				amountOff: 20,
				currency: 'eur',
				expiresAt: Date.UTC(2026, 5, 30, 21, 59, 59),
			}),
		).toEqual({
			code: 'REF-7KQ2',
			amountOff: 20,
			currency: 'EUR',
			expiresAt: '2026-06-30T21:59:59.000Z',
			stripe: { duration: 'once', type: 'fixedAmount', amountOff: 2000, currency: 'eur' },
			shopify: { code: 'REF-7KQ2', amount: '20.00', type: 'fixedAmount' },
			woocommerce: {
				code: 'REF-7KQ2',
				discount_type: 'fixed_cart',
				amount: '20.00',
				date_expires_gmt: '2026-06-30T21:59:59',
				usage_limit: 1,
			},
		});
	});

	it("uses the currency's minor unit", () => {
		expect(couponOutput({ code: 'X', amountOff: 500, currency: 'JPY' }).stripe.amountOff).toBe(500);
		expect(couponOutput({ code: 'X', amountOff: 500, currency: 'JPY' }).shopify.amount).toBe('500');
		expect(couponOutput({ code: 'X', amountOff: 1.5, currency: 'KWD' }).stripe.amountOff).toBe(
			1500,
		);
		expect(couponOutput({ code: 'X', amountOff: 19.99, currency: 'USD' }).stripe.amountOff).toBe(
			1999,
		);
	});

	it('percent off, without expiry', () => {
		const out = couponOutput({ code: 'TEN', percentOff: 10, usageLimit: 3 });
		expect(out).toEqual({
			code: 'TEN',
			percentOff: 10,
			stripe: { duration: 'once', type: 'percent', percentOff: 10 },
			shopify: { code: 'TEN', amount: '10', type: 'percentage' },
			woocommerce: {
				code: 'TEN',
				discount_type: 'percent',
				amount: '10',
				date_expires_gmt: null,
				usage_limit: 3,
			},
		});
	});

	it.each([
		[{ code: 'X' }, 'amountOff'],
		[{ code: 'X', amountOff: 5, percentOff: 5, currency: 'EUR' }, 'amountOff'],
		[{ code: 'X', amountOff: 5 }, 'currency'],
		[{ code: 'X', amountOff: -5, currency: 'EUR' }, 'amountOff'],
		[{ code: 'X', percentOff: 101 }, 'percentOff'],
		[{ code: '', percentOff: 5 }, 'code'],
		[{ code: 'X', percentOff: 5, expiresAt: 'never' }, 'expiresAt'],
		[{ code: 'X', percentOff: 5, usageLimit: 0 }, 'usageLimit'],
	])('refuses %j', (input, field) => {
		expect(() => couponOutput(input)).toThrow(expect.objectContaining({ field }));
	});
});

describe('coupon for a planned award', () => {
	const program = validateRewardProgram({
		programId: 'p',
		currency: 'EUR',
		rules: [
			{
				id: 'c',
				type: 'per_referral',
				side: 'referee',
				on: 'referee_signup',
				reward: { kind: 'coupon', amount: 15, couponPrefix: 'HI-', couponValidDays: 10 },
			},
			{
				id: 'pts',
				type: 'per_referral',
				side: 'referrer',
				on: 'referee_signup',
				reward: { kind: 'points', points: 5 },
			},
		],
	});
	const t = Date.UTC(2026, 0, 1);
	const [coupon, points] = planAwards(
		program,
		{ type: 'referee_signup', referralId: 'r', referrerId: 'a', refereeId: 'b', occurredAt: t },
		{ qualifiedCount: 0 },
	).awards;

	it('adds the prefix once and carries amount, currency and expiry', () => {
		const out = couponForAward(coupon, 'K7Q2');
		expect(out.code).toBe('HI-K7Q2');
		expect(couponForAward(coupon, 'HI-K7Q2').code).toBe('HI-K7Q2');
		expect(out.amountOff).toBe(15);
		expect(out.stripe.amountOff).toBe(1500);
		expect(out.expiresAt).toBe(new Date(t + 10 * 86_400_000).toISOString());
	});

	it('refuses a non-coupon award', () => {
		expect(() => couponForAward(points, 'X')).toThrow(
			expect.objectContaining({ code: 'invalid_coupon' }),
		);
	});
});

describe('coupon pool low stock', () => {
	it('fires once, on the claim that reaches the threshold', () => {
		expect(poolLowStockCrossed(11, 10, 10)).toBe(true);
		expect(poolLowStockCrossed(12, 11, 10)).toBe(false);
		expect(poolLowStockCrossed(10, 9, 10)).toBe(false);
		expect(poolLowStockCrossed(1, 0, 0)).toBe(true);
		expect(() => poolLowStockCrossed(1, 0, -1)).toThrow(
			expect.objectContaining({ field: 'lowStockThreshold' }),
		);
	});
});
