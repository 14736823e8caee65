/* Shared shapes of the messaging engine: what providers receive and return, the HTTP transport
 * n8n supplies, and the small ledger interface the engine needs (the real ledger lives in engine/ledger). */

export type Channel = 'email' | 'sms';

/** One HTTP call a provider wants made. Auth is already in `headers` (or `form` for Vonage). */
export interface HttpRequest {
	method: 'POST';
	url: string;
	headers: Record<string, string>;
	/** JSON body; the transport serialises it and sends `Content-Type: application/json`. */
	body?: unknown;
	/** Form fields; the transport sends them as `application/x-www-form-urlencoded`. */
	form?: Record<string, string>;
	timeoutMs: number;
}

export interface HttpResponse {
	status: number;
	/** Response headers; names may come in any case (providers read them case-insensitively). */
	headers: Record<string, string | string[] | undefined>;
	/** Parsed JSON when the response is JSON, else the raw text. */
	body: unknown;
}

/**
 * Makes one HTTP call. It must resolve for every HTTP status (4xx and 5xx included) and reject only
 * when no response arrived (timeout, refused connection, reset); rejections count as retryable.
 * In n8n this wraps `httpRequestWithAuthentication` with `returnFullResponse` and `ignoreHttpStatusErrors`.
 */
export type HttpTransport = (request: HttpRequest) => Promise<HttpResponse>;

export interface EmailAddress {
	address: string;
	name?: string;
}

/** A fully assembled email, ready for any email provider. */
export interface OutgoingEmail {
	from: EmailAddress;
	to: EmailAddress;
	replyTo?: EmailAddress;
	subject: string;
	html: string;
	/** Always present: every email carries a plain-text alternative. */
	text: string;
	/** Extra headers, e.g. List-Unsubscribe and List-Unsubscribe-Post in commercial mode. */
	headers: Record<string, string>;
	/** Our message idempotency key; passed to providers that accept one, else used for Message-ID. */
	idempotencyKey?: string;
}

export type SmsEncoding = 'GSM-7' | 'UCS-2';

/** A fully assembled SMS, ready for any SMS provider. */
export interface OutgoingSms {
	/** Sender: an E.164 number or an alphanumeric sender ID; empty when the credentials name a service or profile. */
	from: string;
	/** Recipient in E.164 (`+14155552671`). */
	to: string;
	text: string;
	encoding: SmsEncoding;
	segments: number;
	idempotencyKey?: string;
}

/** What a provider said when it accepted a message. */
export interface ProviderAccepted {
	provider: string;
	/** The provider's id for the message, when it returns one. */
	providerMessageId?: string;
}

/**
 * How a failed send should be treated.
 * - retryable: 5xx, timeouts, network errors: try again after a backoff.
 * - rate_limited: the provider asked us to slow down (429 and the like): wait at least `retryAfterMs`.
 * - permanent: the request itself is wrong (4xx); retrying cannot help.
 * - suppressed: the provider refuses this recipient (unsubscribed, bounced, STOP).
 */
export type FailureKind = 'retryable' | 'rate_limited' | 'permanent' | 'suppressed';

export class DeliveryError extends Error {
	readonly kind: FailureKind;
	readonly provider: string;
	/** HTTP status or SMTP reply code, when there was one. */
	readonly status?: number;
	/** The provider's own error code (e.g. Twilio `21610`, Postmark `406`). */
	readonly providerCode?: string;
	/** How long the provider asked us to wait, in milliseconds. */
	readonly retryAfterMs?: number;

	constructor(
		kind: FailureKind,
		provider: string,
		message: string,
		options: {
			status?: number;
			providerCode?: string;
			retryAfterMs?: number;
			cause?: unknown;
		} = {},
	) {
		super(message, options.cause === undefined ? undefined : { cause: options.cause });
		this.name = 'DeliveryError';
		this.kind = kind;
		this.provider = provider;
		this.status = options.status;
		this.providerCode = options.providerCode;
		this.retryAfterMs = options.retryAfterMs;
	}
}

export function isDeliveryError(error: unknown): error is DeliveryError {
	return error instanceof DeliveryError;
}

/**
 * For a message delivered from the ledger's outbox: `handOver` records that this attempt is about to
 * pass the provider's point of no return. It calls `proceed` synchronously once the record is
 * committed (the sender passes the point there, before anything else runs) and resolves true, or
 * resolves false without calling it when the claim was lost (the sender then sends nothing).
 */
export interface SendHooks {
	handOver(proceed: () => void): Promise<boolean>;
}

/** Thrown by a sender whose hand-over was refused: another sender holds the message now. */
export class HandOverRefused extends Error {
	constructor() {
		super(
			'The claim on this message was lost before it was handed to the provider; nothing was sent.',
		);
		this.name = 'HandOverRefused';
	}
}

/** Sends one message through one provider and credential. */
export interface MessageSender<M> {
	readonly provider: string;
	/**
	 * With `hooks`, a sender that sets `handsOver` calls `hooks.handOver` itself right before its
	 * point of no return (SMTP: before the final dot of DATA). Others are handed over by the caller
	 * right before `send`.
	 */
	send(message: M, hooks?: SendHooks): Promise<ProviderAccepted>;
	/** True when `send` calls `hooks.handOver` itself at the provider's point of no return. */
	readonly handsOver?: boolean;
	/** Releases connections (SMTP pools); a no-op for HTTP providers. */
	close?(): Promise<void> | void;
}

export type EmailSender = MessageSender<OutgoingEmail>;
export type SmsSender = MessageSender<OutgoingSms>;

export interface MessageCompletion {
	status: 'sent' | 'failed';
	providerMessageId?: string;
	/** Why it failed, safe to store (no credentials). */
	error?: string;
}

/**
 * What the messaging engine needs from the ledger.
 *
 * Contract for the implementer:
 * - Addresses arrive normalized: email addresses in their stored form (engine/shared/email.ts), E.164 numbers.
 * - `reserveMessage` is atomic: of two concurrent calls with one key, exactly one gets 'reserved'.
 *   It answers 'duplicate' while the key is reserved (in flight) or completed as 'sent'; a key whose
 *   last completion was 'failed' may be reserved again, so a later execution can retry it.
 * - A reservation never completed (a crash mid-send) stays a duplicate: at most once beats twice.
 */
export interface MessageLedger {
	isSuppressed(channel: Channel, address: string): Promise<{ reason: string } | null>;
	reserveMessage(
		key: string,
		channel: Channel,
		recipient: string,
	): Promise<'reserved' | 'duplicate'>;
	completeMessage(key: string, completion: MessageCompletion): Promise<void>;
	/** Adds an address to the suppression list (Unsubscribe, or a provider saying STOP/bounced). */
	suppress(channel: Channel, address: string, reason: string): Promise<void>;
	/** Removes an address from the suppression list; true when it was there. */
	unsuppress(channel: Channel, address: string): Promise<boolean>;
}

/** Time source, injectable so retry and pacing tests need not wait. */
export interface Clock {
	now(): number;
	sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
	now: () => Date.now(),
	sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};
