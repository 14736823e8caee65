/* Sending one message: render and validate, then consent → suppression list → quiet hours →
 * reserve the idempotency key → send with retries (through the credential's limiter) → record.
 * Bad input throws EngineError; everything else is an outcome: sent, skipped, deferred or failed. */
import { EngineError } from '../shared/errors';
import { normalizeEmail } from '../shared/email';
import { assembleEmail, parseEmailAddress, type EmailAddressing } from './email';
import { checkQuietHours, type QuietHoursDecision, type QuietHoursOptions } from './quietHours';
import {
	retryPolicy,
	withRetries,
	type RetryOutcome,
	type RetryPolicy,
	type SendLimiter,
} from './reliability';
import { renderEmail, renderSms, type EmailContentInput, type SmsContentInput } from './render';
import { assertSegments, normalizePhoneNumber, normalizeSender } from './sms';
import { checkSmsDestination, claimSmsAllowance, type SmsGuard, type SmsRefusal } from './smsGuard';
import { sha256 } from './templates';
import {
	systemClock,
	type Channel,
	type Clock,
	type EmailSender,
	type FailureKind,
	type MessageLedger,
	type MessageSender,
	type OutgoingSms,
	type ProviderAccepted,
	type SmsSender,
} from './types';

export type SendOutcome = 'sent' | 'skipped' | 'deferred' | 'failed';
export type SendReason =
	| 'duplicate'
	| 'suppressed'
	| 'no_consent'
	| 'quiet_hours'
	| 'blocked'
	| 'rate_limited'
	| FailureKind;

export interface SendResult {
	outcome: SendOutcome;
	/** Why it was skipped, deferred or failed. */
	reason?: SendReason;
	/** Human-readable explanation of the reason. */
	detail?: string;
	channel: Channel;
	provider: string;
	/** Normalized recipient: lower-cased email address or E.164 number. */
	recipient: string;
	idempotencyKey: string;
	providerMessageId?: string;
	/** Provider calls made (0 when skipped or deferred). */
	attempts: number;
	/** Deferred: the first moment the message may go (ISO 8601). */
	deferUntil?: string;
	/** Failed after a rate limit or retryable error: when the provider could be tried again (ISO 8601). */
	retryAfter?: string;
	error?: { kind: FailureKind; message: string; status?: number; providerCode?: string };
	subject?: string;
	sms?: { encoding: string; segments: number; characters: number };
	warnings?: string[];
}

export interface SendDependencies {
	ledger: MessageLedger;
	/** The credential's limiter (concurrency and pacing); each attempt passes through it. */
	limiter?: SendLimiter;
	retry?: Partial<RetryPolicy>;
	clock?: Clock;
	random?: () => number;
}

export interface MessageIdentity {
	/** Overrides the derived key; the same key never sends twice. */
	idempotencyKey?: string;
	/** What makes this send unique besides template and recipient, e.g. the referral id; defaults to the item data. */
	itemIdentity?: string;
	/** A stable template name or version; defaults to the hash of the template texts. */
	templateId?: string;
	/** Quiet hours in the recipient's time zone; messages outside are deferred. */
	quietHours?: QuietHoursOptions;
}

export interface EmailSendInput extends EmailContentInput, EmailAddressing, MessageIdentity {}

export type SmsCategory = 'marketing' | 'transactional';

export interface SmsSendInput extends SmsContentInput, MessageIdentity {
	to: unknown;
	/** E.164 number or alphanumeric sender ID; may be empty when the credentials name a service or profile. */
	from?: string;
	/** ISO country for numbers without a country code, e.g. "US". */
	defaultCountry?: string;
	/** Refuse numbers known to be landlines, premium-rate and the like. */
	mobileOnly?: boolean;
	/** Marketing messages need the recipient's consent (TCPA); transactional ones do not. */
	category: SmsCategory;
	consent?: boolean;
	/** SMS pumping defence for texts a public caller triggers: countries, number types, per-number and per-IP limits. */
	guard?: SmsGuard;
}

/** JSON with sorted keys, so equal data hashes equally whatever the key order. */
export function stableStringify(value: unknown): string {
	if (value instanceof Date) return JSON.stringify(value.toISOString());
	if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
	if (typeof value === 'object' && value !== null) {
		const keys = Object.keys(value).sort();
		return `{${keys.map((k) => `${JSON.stringify(k)}:${stableStringify((value as Record<string, unknown>)[k])}`).join(',')}}`;
	}
	return JSON.stringify(value) ?? 'null';
}

/** The default message key: sha256 of channel, template, recipient and the item's identity. */
export function messageKey(parts: {
	channel: Channel;
	templateId: string;
	recipient: string;
	itemIdentity: string;
}): string {
	return (
		'msg_' +
		sha256(
			JSON.stringify(['v1', parts.channel, parts.templateId, parts.recipient, parts.itemIdentity]),
		)
	);
}

function resolveKey(
	identity: MessageIdentity,
	channel: Channel,
	templates: unknown,
	recipient: string,
	data: unknown,
	itemLabel?: string,
): string {
	if (identity.idempotencyKey !== undefined) {
		const key = identity.idempotencyKey;
		if (typeof key !== 'string' || !/^[\x21-\x7e]{1,200}$/.test(key)) {
			throw new EngineError(
				'invalid_idempotency_key',
				`The idempotency key${itemLabel ? ` (${itemLabel})` : ''} must be 1 to 200 visible ASCII characters without spaces.`,
				{ field: 'idempotencyKey' },
			);
		}
		return key;
	}
	return messageKey({
		channel,
		templateId: identity.templateId ?? sha256(stableStringify(templates)),
		recipient,
		itemIdentity: identity.itemIdentity ?? sha256(stableStringify(data)),
	});
}

export async function sendEmail(
	input: EmailSendInput,
	sender: EmailSender,
	deps: SendDependencies,
): Promise<SendResult> {
	const itemLabel = input.settings?.itemLabel;
	const quiet = input.quietHours
		? checkQuietHours(new Date((deps.clock ?? systemClock).now()), input.quietHours)
		: undefined;
	const policy = retryPolicy(deps.retry);
	const rendered = renderEmail(input);
	const email = assembleEmail(input, rendered, { itemLabel });
	const recipient = normalizeEmail(email.to.address, 'to', 'invalid_email_address');
	email.idempotencyKey = resolveKey(
		input,
		'email',
		input.templates,
		recipient,
		input.data,
		itemLabel,
	);
	return deliver('email', recipient, email.idempotencyKey, email, sender, deps, policy, quiet, {
		subject: email.subject,
		...(rendered.warnings.length > 0 ? { warnings: rendered.warnings } : {}),
	});
}

export async function sendSms(
	input: SmsSendInput,
	sender: SmsSender,
	deps: SendDependencies,
): Promise<SendResult> {
	const itemLabel = input.settings?.itemLabel;
	if (input.category !== 'marketing' && input.category !== 'transactional') {
		throw new EngineError(
			'invalid_category',
			`SMS category must be "marketing" or "transactional"; got "${String(input.category)}".`,
			{ field: 'category' },
		);
	}
	const quiet = input.quietHours
		? checkQuietHours(new Date((deps.clock ?? systemClock).now()), input.quietHours)
		: undefined;
	const policy = retryPolicy(deps.retry);
	const to = normalizePhoneNumber(input.to, {
		defaultCountry: input.defaultCountry,
		field: 'to',
		itemLabel,
		mobileOnly: input.mobileOnly,
	});
	const from = normalizeSender(input.from, {
		defaultCountry: input.defaultCountry,
		field: 'from',
		itemLabel,
	});
	const rendered = renderSms(input);
	if (rendered.text === '') {
		throw new EngineError(
			'empty_message',
			`The SMS text${itemLabel ? ` (${itemLabel})` : ''} is empty after rendering.`,
			{ field: 'SMS text' },
		);
	}
	assertSegments(rendered, rendered.maxSegments, itemLabel);
	const key = resolveKey(
		input,
		'sms',
		{ template: input.template, partials: input.partials, stopFooter: input.stopFooter },
		to,
		input.data,
		itemLabel,
	);
	const sms: OutgoingSms = {
		from,
		to,
		text: rendered.text,
		encoding: rendered.encoding,
		segments: rendered.segments,
		idempotencyKey: key,
	};
	const extra: Partial<SendResult> = {
		sms: {
			encoding: rendered.encoding,
			segments: rendered.segments,
			characters: rendered.characters,
		},
	};
	if (rendered.warnings.length > 0) extra.warnings = rendered.warnings;
	if (input.category === 'marketing' && input.consent !== true) {
		return {
			outcome: 'skipped',
			reason: 'no_consent',
			detail:
				"Marketing SMS needs the recipient's consent: set consent to true only for people who opted in, or mark the message transactional.",
			channel: 'sms',
			provider: sender.provider,
			recipient: to,
			idempotencyKey: key,
			attempts: 0,
			...extra,
		};
	}
	const skip = (refusal: SmsRefusal): SendResult => ({
		outcome: 'skipped',
		reason: refusal.reason,
		detail: refusal.detail,
		channel: 'sms',
		provider: sender.provider,
		recipient: to,
		idempotencyKey: key,
		attempts: 0,
		...extra,
	});
	const { guard } = input;
	if (guard) {
		const refused = checkSmsDestination(to, guard.countries);
		if (refused) return skip(refused);
	}
	// The allowances are taken only for a text that is about to go: after consent, the suppression
	// list, quiet hours and the idempotency key, so a replay never spends one.
	const allowance = guard
		? async () =>
				await claimSmsAllowance(
					guard,
					to,
					input.templateId ?? 'sms',
					(deps.clock ?? systemClock).now(),
				)
		: undefined;
	return deliver('sms', to, key, sms, sender, deps, policy, quiet, extra, allowance);
}

async function deliver<M>(
	channel: Channel,
	recipient: string,
	key: string,
	message: M,
	sender: MessageSender<M>,
	deps: SendDependencies,
	policy: RetryPolicy,
	quiet: QuietHoursDecision | undefined,
	extra: Partial<SendResult>,
	allowance?: () => Promise<SmsRefusal | null>,
): Promise<SendResult> {
	const base: SendResult = {
		outcome: 'sent',
		channel,
		provider: sender.provider,
		recipient,
		idempotencyKey: key,
		attempts: 0,
		...extra,
	};
	const { ledger } = deps;
	const suppression = await ledger.isSuppressed(channel, recipient);
	if (suppression)
		return {
			...base,
			outcome: 'skipped',
			reason: 'suppressed',
			detail: `On the suppression list: ${suppression.reason}`,
		};
	if (quiet && !quiet.allowed) {
		return {
			...base,
			outcome: 'deferred',
			reason: 'quiet_hours',
			deferUntil: quiet.deferUntil.toISOString(),
			detail: `It is ${quiet.localTime} for the recipient, inside quiet hours.`,
		};
	}
	if ((await ledger.reserveMessage(key, channel, recipient)) === 'duplicate') {
		return {
			...base,
			outcome: 'skipped',
			reason: 'duplicate',
			detail: 'This message was already sent (or is being sent) with the same idempotency key.',
		};
	}
	let refused: SmsRefusal | null = null;
	try {
		refused = allowance ? await allowance() : null;
	} catch (error) {
		await ledger.completeMessage(key, { status: 'failed', error: (error as Error).message });
		throw error;
	}
	if (refused) {
		// Released as failed: the same text may go once the allowance is back (tomorrow, next hour).
		await ledger.completeMessage(key, { status: 'failed', error: refused.detail });
		return { ...base, outcome: 'skipped', reason: refused.reason, detail: refused.detail };
	}
	const attempt = () =>
		deps.limiter ? deps.limiter.run(() => sender.send(message)) : sender.send(message);
	let result: RetryOutcome<ProviderAccepted>;
	try {
		result = await withRetries(attempt, policy, { clock: deps.clock, random: deps.random });
	} catch (error) {
		// Nothing was sent: release the key so the corrected item can go later, then report the input error.
		await ledger.completeMessage(key, { status: 'failed', error: (error as Error).message });
		throw error;
	}
	const warnings = [...(base.warnings ?? [])];
	// After the provider has answered, a ledger hiccup must not turn the outcome into an error.
	const record = async (what: string, write: () => Promise<void>) => {
		try {
			await write();
		} catch (error) {
			warnings.push(`Could not ${what} in the ledger: ${(error as Error).message}`);
		}
	};
	const withWarnings = (r: SendResult): SendResult =>
		warnings.length > 0 ? { ...r, warnings } : r;
	if (result.ok) {
		await record('record the sent message', () =>
			ledger.completeMessage(key, {
				status: 'sent',
				providerMessageId: result.value.providerMessageId,
			}),
		);
		return withWarnings({
			...base,
			attempts: result.attempts,
			providerMessageId: result.value.providerMessageId,
		});
	}
	const { error } = result;
	await record('record the failed message', () =>
		ledger.completeMessage(key, { status: 'failed', error: error.message }),
	);
	const errorInfo = {
		kind: error.kind,
		message: error.message,
		status: error.status,
		providerCode: error.providerCode,
	};
	if (error.kind === 'suppressed') {
		// The provider's refusal (STOP, hard bounce) joins our list, so the next send skips without a call.
		const reason = `${error.provider}${error.providerCode ? ` ${error.providerCode}` : ''}: recipient refused by the provider`;
		await record('add the recipient to the suppression list', () =>
			ledger.suppress(channel, recipient, reason),
		);
		return withWarnings({
			...base,
			outcome: 'skipped',
			reason: 'suppressed',
			detail: error.message,
			attempts: result.attempts,
			error: errorInfo,
		});
	}
	const failed: SendResult = {
		...base,
		outcome: 'failed',
		reason: error.kind,
		detail: error.message,
		attempts: result.attempts,
		error: errorInfo,
	};
	if (result.retryAt && error.kind !== 'permanent')
		failed.retryAfter = result.retryAt.toISOString();
	return withWarnings(failed);
}

export interface SubscriptionInput {
	channel: Channel;
	/** Email address or phone number, as the user has it. */
	address: unknown;
	/** Why, stored with the suppression (e.g. "unsubscribe link", "replied STOP"). */
	reason?: string;
	/** For phone numbers without a country code. */
	defaultCountry?: string;
	itemLabel?: string;
}

/** The form in which an address is stored and looked up on the suppression list. */
export function normalizeRecipient(
	channel: Channel,
	address: unknown,
	options: { defaultCountry?: string; itemLabel?: string } = {},
): string {
	if (channel === 'sms')
		return normalizePhoneNumber(address, {
			defaultCountry: options.defaultCountry,
			field: 'address',
			itemLabel: options.itemLabel,
		});
	if (channel === 'email')
		return normalizeEmail(
			parseEmailAddress(address, 'address', options.itemLabel).address,
			'address',
			'invalid_email_address',
		);
	throw new EngineError(
		'invalid_channel',
		`Channel must be "email" or "sms"; got "${String(channel)}".`,
		{ field: 'channel' },
	);
}

export async function unsubscribe(
	ledger: MessageLedger,
	input: SubscriptionInput,
): Promise<{ channel: Channel; address: string; suppressed: true; reason: string }> {
	const address = normalizeRecipient(input.channel, input.address, input);
	const reason = input.reason?.trim() || 'unsubscribed';
	await ledger.suppress(input.channel, address, reason);
	return { channel: input.channel, address, suppressed: true, reason };
}

export async function resubscribe(
	ledger: MessageLedger,
	input: SubscriptionInput,
): Promise<{ channel: Channel; address: string; suppressed: false; wasSuppressed: boolean }> {
	const address = normalizeRecipient(input.channel, input.address, input);
	const wasSuppressed = await ledger.unsuppress(input.channel, address);
	return { channel: input.channel, address, suppressed: false, wasSuppressed };
}
