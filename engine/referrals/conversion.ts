import { EngineError } from '../shared/errors';
import {
	DEFAULT_MAX_ORDER_MINOR,
	parseCurrency,
	requireAmount,
	requireMaxOrderMinor,
	requireOrderAmount,
} from '../shared/money';
import type { ReferralStatus } from './lifecycle';
import {
	describe,
	requireOneOf,
	requireRange,
	requireRecord,
	requireText,
	requireTime,
} from '../shared/guards';
import { DAY_MS } from '../shared/time';

/**
 * Conversions (the referee's qualifying order) and refunds: what qualifies a referral, and
 * what reverses it. Idempotency by order id is the ledger's job (unique order id per program);
 * these rules say what should happen to the referral given its status.
 */

export interface Conversion {
	orderId: string;
	amount: number;
	currency: string;
	occurredAt: number;
}

/**
 * An order as the shop reports it: the amount must be finite, zero or more, with no more decimals
 * than its ISO 4217 currency has, and at most the program's maximum (`maxOrderAmountMinor`, in
 * minor units; default 1,000,000,000 = 10,000,000.00 EUR). See engine/shared/money.ts.
 */
export function validateConversion(
	input: unknown,
	settings: QualificationSettings = {},
): Conversion {
	const raw = requireRecord(input, 'conversion');
	const orderId = requireText(raw.orderId, 'orderId', 256);
	const currency = parseCurrency(raw.currency);
	return {
		orderId,
		amount: requireOrderAmount(
			raw.amount,
			currency,
			'amount',
			settings.maxOrderAmountMinor ?? DEFAULT_MAX_ORDER_MINOR,
		),
		currency,
		occurredAt: requireTime(raw.occurredAt, 'occurredAt'),
	};
}

export interface QualificationSettings {
	/** Orders below this amount (in the order's currency) do not qualify. */
	minOrderAmount?: number;
	/** The order must come within this many days after the referee's sign-up (not before it). */
	qualifyWithinDays?: number;
	/** Larger orders are refused, in the currency's minor units (cents); default 1,000,000,000. */
	maxOrderAmountMinor?: number;
}

export function validateQualificationSettings(input: unknown = {}): QualificationSettings {
	const raw = input === undefined || input === null ? {} : requireRecord(input, 'qualification');
	const settings: QualificationSettings = {};
	if (raw.minOrderAmount !== undefined)
		settings.minOrderAmount = requireAmount(raw.minOrderAmount, 'minOrderAmount', {
			allowZero: true,
		});
	if (raw.qualifyWithinDays !== undefined)
		settings.qualifyWithinDays = requireRange(
			raw.qualifyWithinDays,
			'qualifyWithinDays',
			0.01,
			3650,
		);
	if (raw.maxOrderAmountMinor !== undefined)
		settings.maxOrderAmountMinor = requireMaxOrderMinor(
			raw.maxOrderAmountMinor,
			'maxOrderAmountMinor',
		);
	return settings;
}

export type QualificationOutcome =
	/** Move the referral to qualified. */
	| { outcome: 'qualify'; reason: string }
	/** Keep the order on the referral; it qualifies when a reviewer approves it. */
	| { outcome: 'hold'; reason: string }
	/** Nothing changes for the referral (the service still stores the order for idempotency). */
	| { outcome: 'ignore'; reason: string };

/** What a conversion does to a referral in `status`, signed up at `signedUpAt`. */
/** Why an order of a referral under review is held (its answer, and a replay's). */
export const HELD_FOR_REVIEW = 'The referral is held for review; it qualifies when approved.';

export function qualificationFor(
	status: ReferralStatus,
	signedUpAt: number,
	conversion: Conversion,
	settings: QualificationSettings = {},
): QualificationOutcome {
	if (status === 'recorded') {
		throw new EngineError(
			'not_assessed',
			'The referral has not been assessed yet; record it fully before qualifying it.',
			{ field: 'status' },
		);
	}
	if (status === 'qualified')
		return { outcome: 'ignore', reason: `The referral is already ${status}.` };
	if (status === 'rejected' || status === 'reversed')
		return { outcome: 'ignore', reason: `The referral was ${status}; it cannot qualify.` };
	if (settings.minOrderAmount !== undefined && conversion.amount < settings.minOrderAmount) {
		return {
			outcome: 'ignore',
			reason: `The order amount ${conversion.amount} ${conversion.currency} is below the minimum of ${settings.minOrderAmount}.`,
		};
	}
	if (settings.qualifyWithinDays !== undefined) {
		// The window has two ends: from the sign-up to N days after it. An order placed before the
		// referee signed up was not brought by the referral.
		if (conversion.occurredAt < signedUpAt) {
			return {
				outcome: 'ignore',
				reason: `The order came before the sign-up; it must come within ${settings.qualifyWithinDays} days after it.`,
			};
		}
		if (conversion.occurredAt - signedUpAt > settings.qualifyWithinDays * DAY_MS) {
			return {
				outcome: 'ignore',
				reason: `The order came more than ${settings.qualifyWithinDays} days after sign-up.`,
			};
		}
	}
	if (status === 'flagged') return { outcome: 'hold', reason: HELD_FOR_REVIEW };
	return { outcome: 'qualify', reason: 'The referee placed a qualifying order.' };
}

export const REFUND_POLICIES = ['any_refund', 'full_refund_only'] as const;
export type RefundPolicy = (typeof REFUND_POLICIES)[number];

export interface Refund {
	orderAmount: number;
	/** Total refunded so far, this refund included. */
	refundedAmount: number;
	/** The order was cancelled (counts as a full refund). */
	cancelled?: boolean;
}

/**
 * Whether a refund or cancellation reverses the referral. A refund of nothing never does.
 * `any_refund`: any refunded amount does. `full_refund_only`: a full refund does, and a partial one
 * when what is left of the order is below the program's qualifying minimum (`minOrderAmount`);
 * otherwise the referral stays qualified and percent-of-order rewards shrink pro rata.
 */
export function shouldReverse(
	status: ReferralStatus,
	refund: Refund,
	policy: RefundPolicy = 'any_refund',
	settings: Pick<QualificationSettings, 'minOrderAmount'> = {},
): { reverse: boolean; reason: string } {
	requireOneOf(policy, 'refundPolicy', REFUND_POLICIES);
	const orderAmount = requireAmount(refund.orderAmount, 'orderAmount', { allowZero: true });
	const refunded = requireAmount(refund.refundedAmount, 'refundedAmount', { allowZero: true });
	if (refunded > orderAmount) {
		throw new EngineError(
			'invalid_amount',
			`refundedAmount (${refunded}) cannot exceed orderAmount (${orderAmount}): give the total refunded so far, from 0 to ${orderAmount}.`,
			{
				field: 'refundedAmount',
			},
		);
	}
	if (status !== 'qualified') {
		return {
			reverse: false,
			reason: `The referral is ${status}; only qualified referrals are reversed.`,
		};
	}
	if (refund.cancelled !== undefined && typeof refund.cancelled !== 'boolean') {
		throw new EngineError(
			'invalid_option',
			`cancelled must be true or false (got ${describe(refund.cancelled)}).`,
			{ field: 'cancelled' },
		);
	}
	if (refund.cancelled === true) return { reverse: true, reason: 'The order was cancelled.' };
	if (refunded === 0) return { reverse: false, reason: 'Nothing was refunded.' };
	if (refunded >= orderAmount) return { reverse: true, reason: 'The order was refunded.' };
	if (policy === 'any_refund') return { reverse: true, reason: 'Part of the order was refunded.' };
	const left = Number((orderAmount - refunded).toFixed(6));
	if (settings.minOrderAmount !== undefined && left < settings.minOrderAmount) {
		return {
			reverse: true,
			reason: `Part of the order was refunded; what is left (${left}) is below the qualifying minimum of ${settings.minOrderAmount}.`,
		};
	}
	return {
		reverse: false,
		reason: `Only ${refunded} of ${orderAmount} was refunded; what is left still qualifies, so the referral stays qualified.`,
	};
}
