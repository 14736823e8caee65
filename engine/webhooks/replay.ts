/* Replay protection for signed webhooks: a verified delivery is accepted once. The key (a hash of
 * the signed time and digest) is claimed in the ledger, so it holds across n8n workers; it lives
 * until the signature could no longer pass the time check anyway (signed time + tolerance), or,
 * for schemes that sign no time (Shopify, WooCommerce), for the tolerance from first sight. */
import type { LedgerStore } from '../ledger/store';
import {
	verifyWebhookSignature,
	type SignatureFailure,
	type VerifyInput,
	type VerifyResult,
} from './signatures';

export type DeliveryFailure = SignatureFailure | 'replayed';

export type DeliveryResult =
	| Extract<VerifyResult, { ok: true }>
	| { ok: false; source: VerifyInput['source']; reason: DeliveryFailure; message: string };

export interface VerifyDeliveryInput extends VerifyInput {
	/** Where accepted signatures are remembered; without it (or with `rejectReplays: false`) replays are not checked. */
	ledger?: Pick<LedgerStore, 'claimNonce'>;
	/** Default true. */
	rejectReplays?: boolean;
}

export const REPLAY_SCOPE_PREFIX = 'webhook:';

/** Verifies the signature, then claims it once in the ledger. */
export async function verifyDelivery(input: VerifyDeliveryInput): Promise<DeliveryResult> {
	const result = verifyWebhookSignature(input);
	if (!result.ok || input.rejectReplays === false || !input.ledger) return result;
	const first = await input.ledger.claimNonce({
		scope: `${REPLAY_SCOPE_PREFIX}${result.source}`,
		nonce: result.replayKey,
		expiresAt: result.replayUntil,
	});
	if (!first) {
		return {
			ok: false,
			source: result.source,
			reason: 'replayed',
			message:
				'This signed request was already accepted once; a replayed signature is refused. A sender retrying must sign again.',
		};
	}
	return result;
}
