import { ReferralService as ReferralsService } from '../referrals';
import { refundReferral, type RefundInput, type RefundOutcome } from './refund';

/**
 * Refunds and cancellations: the one use case that changes both a referral (engine/referrals) and its
 * rewards (engine/rewards), so it lives above both; those two never import each other (a lint rule
 * in eslint.config.mjs says so). See refund.ts for what a refund takes back.
 */

export {
	REFUNDED_AMOUNT_IS,
	type Demotion,
	type RefundedAmountIs,
	type RefundInput,
	type RefundOutcome,
} from './refund';
export type { ServiceOptions } from '../referrals';

/**
 * A refund or cancellation of the referral `service` runs for: ONE operation decides what it
 * reverses and writes it in ONE ledger transaction (see refund.ts): nothing for a refund of 0, the
 * referral and all its per-referral rewards together when the refund policy says so, else only
 * percent-of-order rewards scaled to what is left. A replay answers like the first call.
 */
export async function reverseReferral(
	service: ReferralsService,
	input: RefundInput,
): Promise<RefundOutcome> {
	return await refundReferral(
		{
			ledger: service.ledger,
			programId: service.programId,
			refundPolicy: service.program.config.refundPolicy,
			minOrderAmount: service.program.config.qualification.minOrderAmount,
			detail: (referral) => service.detail(referral),
			requireReferral: (id) => service.requireReferral(id),
		},
		input,
	);
}

/** The referrals domain's service with the refund use case on top (`reverse`): what the Referral node runs. */
export class ReferralService extends ReferralsService {
	/** See reverseReferral. */
	async reverse(input: RefundInput): Promise<RefundOutcome> {
		return await reverseReferral(this, input);
	}
}
