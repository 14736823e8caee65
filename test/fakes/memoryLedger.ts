/* An in-memory MessageLedger following the contract in engine/messaging/types.ts, for tests and as
 * the reference the real ledger is checked against. Not for production: nothing survives a restart. */
import type { Channel, MessageCompletion, MessageLedger } from '../../engine/messaging';

export interface LoggedMessage {
	key: string;
	channel: Channel;
	recipient: string;
	status: 'reserved' | 'sent' | 'failed';
	providerMessageId?: string;
	error?: string;
	reservations: number;
}

export class MemoryLedger implements MessageLedger {
	readonly messages = new Map<string, LoggedMessage>();
	readonly suppressions = new Map<string, string>();

	async isSuppressed(channel: Channel, address: string): Promise<{ reason: string } | null> {
		const reason = this.suppressions.get(`${channel}:${address}`);
		return reason === undefined ? null : { reason };
	}

	// Synchronous body: with one event loop, check-and-set cannot interleave, so reservation is atomic.
	async reserveMessage(
		key: string,
		channel: Channel,
		recipient: string,
	): Promise<'reserved' | 'duplicate'> {
		const existing = this.messages.get(key);
		if (existing && existing.status !== 'failed') return 'duplicate';
		this.messages.set(key, {
			key,
			channel,
			recipient,
			status: 'reserved',
			reservations: (existing?.reservations ?? 0) + 1,
		});
		return 'reserved';
	}

	async completeMessage(key: string, completion: MessageCompletion): Promise<void> {
		const message = this.messages.get(key);
		if (message === undefined || message.status !== 'reserved')
			throw new Error(`completeMessage: ${key} is not reserved`);
		message.status = completion.status;
		message.providerMessageId = completion.providerMessageId;
		message.error = completion.error;
	}

	async suppress(channel: Channel, address: string, reason: string): Promise<void> {
		this.suppressions.set(`${channel}:${address}`, reason);
	}

	async unsuppress(channel: Channel, address: string): Promise<boolean> {
		return this.suppressions.delete(`${channel}:${address}`);
	}
}
