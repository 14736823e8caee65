/* The referral ledger as the messaging engine's MessageLedger: suppression list and message log
 * live in the same database as codes and rewards, so an opt-out and a sent key survive restarts
 * and are shared by every worker that uses the same ledger. */
import type { LedgerStore } from '../ledger/store';
import type { Channel, MessageCompletion, MessageLedger } from './types';

/** The ledger operations the adapter uses; any LedgerStore has them. */
export type MessageLedgerStore = Pick<
	LedgerStore,
	'getSuppression' | 'addSuppression' | 'removeSuppression' | 'reserveMessage' | 'completeMessage'
>;

/** The ledger's column limits for a suppression reason and a message error. */
const REASON_LIMIT = 256;
const ERROR_LIMIT = 1024;

function clip(text: string, limit: number): string {
	const single = text.trim();
	return single.length > limit ? single.slice(0, limit - 1) + '…' : single;
}

export function messageLedgerFrom(store: MessageLedgerStore): MessageLedger {
	return {
		async isSuppressed(channel: Channel, address: string) {
			const suppression = await store.getSuppression({ channel, address });
			return suppression ? { reason: suppression.reason ?? 'on the suppression list' } : null;
		},

		async reserveMessage(key: string, channel: Channel, recipient: string) {
			// The engine's contract: a key whose last send failed may be taken again; one in flight or sent may not.
			const result = await store.reserveMessage({
				idempotencyKey: key,
				channel,
				recipient,
				retryFailed: true,
			});
			return result.reserved ? 'reserved' : 'duplicate';
		},

		async completeMessage(key: string, completion: MessageCompletion) {
			await store.completeMessage({
				idempotencyKey: key,
				status: completion.status,
				providerId: completion.providerMessageId,
				error: completion.error === undefined ? undefined : clip(completion.error, ERROR_LIMIT),
			});
		},

		async suppress(channel: Channel, address: string, reason: string) {
			await store.addSuppression({ channel, address, reason: clip(reason, REASON_LIMIT) });
		},

		async unsuppress(channel: Channel, address: string) {
			const { removed } = await store.removeSuppression({ channel, address });
			return removed;
		},
	};
}
