/* The suppression list and the message log (tables/messages.ts). */
import type { Id, Mutation, Time } from './common';

export interface SuppressionRecord {
	channel: string;
	address: string;
	reason: string | null;
	createdAt: number;
}

/**
 * `owed`: recorded with its cause, waiting for a sender. `reserved`: a sender has it (a claim with
 * an expiry, or a plain Send reservation). `sent`: the provider accepted it. `failed`: refused for
 * good. `skipped`: never to be sent (suppressed, participant erased). `unconfirmed`: the sender died
 * after handing it to the provider and before recording the answer; it is not sent again.
 */
export type MessageStatus = 'owed' | 'reserved' | 'sent' | 'failed' | 'skipped' | 'unconfirmed';

export interface MessageRecord {
	id: number;
	idempotencyKey: string;
	programId: string | null;
	participantId: number | null;
	channel: string;
	recipient: string;
	status: MessageStatus;
	providerId: string | null;
	error: string | null;
	attempts: number;
	createdAt: number;
	updatedAt: number;
	/** Owed messages: what kind (`reward.earned`, `welcome`), null for plain sends. */
	topic: string | null;
	/** Owed messages: the key of the first part of the message (the key itself for that part). */
	group: string | null;
	/** Owed messages: the template data. */
	data: Record<string, unknown> | null;
	/** Owed messages: not to be sent before this time. */
	dueAt: number | null;
	/** While claimed: when the claim lapses unless renewed. */
	claimedUntil: number | null;
	/** When the current attempt reached the provider's point of no return (null before). */
	handedOverAt: number | null;
}

export interface SuppressionKey {
	channel: string;
	address: string;
}

export interface SuppressionInput extends Mutation, SuppressionKey {
	reason?: string;
}

export interface RemoveSuppressionInput extends Mutation, SuppressionKey {}

export interface ReserveMessageInput {
	/** Default: channel + recipient + template + reference. */
	idempotencyKey?: string;
	channel: string;
	recipient: string;
	programId?: string;
	participantId?: Id;
	templateId?: string;
	reference?: string;
	/** Take the key over again when the earlier attempt failed (default false). */
	retryFailed?: boolean;
	/** Take the key over when a reservation is older than this and never completed (a crashed sender). */
	staleAfterMs?: number;
}

export interface ReserveMessageResult {
	/** True: you own the send. False: someone already sent, is sending, or failed (see `message.status`). */
	reserved: boolean;
	message: MessageRecord;
}

export interface CompleteMessageInput {
	idempotencyKey: string;
	/**
	 * `sent`, `failed`; for a claimed owed message also `skipped`, `unconfirmed`, or `owed` (give it
	 * back: deferred by quiet hours, or retried after a temporary failure, from `dueAt`).
	 */
	status: 'sent' | 'failed' | 'skipped' | 'unconfirmed' | 'owed';
	/** The claim's token: only the holder of the claim completes a claimed message. */
	token?: string;
	providerId?: string;
	error?: string;
	/** With status `owed`: not before this time (default now). */
	dueAt?: Time;
}

export interface ClaimMessagesInput {
	channel: 'email' | 'sms';
	/** Only messages of this kind (required with `overdueAfterMs`). */
	topic?: string;
	programId?: string;
	/** The messages with these keys, and the later parts of each (at most 1,000 keys). */
	keys?: string[];
	/**
	 * Also other owed messages of this channel and topic that have waited this long (left by an
	 * execution that died before delivering them), and claims whose holder died before handing over.
	 */
	overdueAfterMs?: number;
	/** Most overdue messages to take (default 100, at most 1,000); messages of `keys` are all taken. */
	limit?: number;
	/** How long the claim lasts unless renewed (default 30,000 ms; 1,000 to 600,000). */
	ttlMs?: number;
}

export interface ClaimMessagesResult {
	/** Pass it to renewMessageClaims, handOverMessage and completeMessage. */
	token: string;
	/** Messages now held by this claim, oldest first. */
	claimed: MessageRecord[];
	/** Messages of `keys` not claimed: already sent, skipped, failed, unconfirmed, or being sent by another execution. */
	others: MessageRecord[];
}

export interface ListMessagesQuery {
	programId?: string;
	status?: MessageStatus;
	topic?: string;
	channel?: string;
	participantId?: Id;
	afterId?: Id;
	limit?: number;
}
