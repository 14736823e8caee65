/* Delivering the messages the ledger owes to people (its transactional outbox): claim them with an
 * expiring token, render each, check the suppression list, record the hand-over right before the
 * provider's point of no return, send, and complete. A sender that dies before the hand-over leaves
 * a claim that lapses and is taken again; one that dies after it leaves the message `unconfirmed`,
 * never sent twice. Bad templates give the message back (still owed) with the error. */
import { EngineError } from '../shared/errors';
import type { ClaimMessagesInput, LedgerStore, MessageRecord } from '../ledger/store';
import {
	retryPolicy,
	withRetries,
	type RetryOutcome,
	type RetryPolicy,
	type SendLimiter,
} from './reliability';
import type { SendResult } from './send';
import { checkSmsDestination, claimSmsAllowance, type SmsGuard } from './smsGuard';
import {
	DeliveryError,
	HandOverRefused,
	isDeliveryError,
	systemClock,
	type Channel,
	type Clock,
	type MessageSender,
	type ProviderAccepted,
	type SendHooks,
} from './types';

export type OwedMessageStore = Pick<
	LedgerStore,
	| 'claimMessages'
	| 'renewMessageClaims'
	| 'handOverMessage'
	| 'completeMessage'
	| 'getSuppression'
	| 'addSuppression'
>;

/** A message built for one owed record, ready for the sender. */
export interface BuiltMessage<M> {
	message: M;
	/** Shown in the result: the subject, SMS encoding, render warnings. */
	extra?: Partial<SendResult>;
}

export interface DeliverOwedInput<M> {
	channel: Channel;
	/** Messages owed by this execution's writes (their later parts included). */
	keys?: string[];
	/** Only messages of this kind, e.g. `reward.earned` (required with `overdueAfterMs`). */
	topic?: string;
	programId?: string;
	/** Also owed messages left this long by executions that died before delivering them, and dead claims. */
	overdueAfterMs?: number;
	/** Most overdue messages taken in one run (default 100). */
	limit?: number;
	/** How long a claim lasts; renewed every third of it while this run delivers (default 30 s). */
	claimTtlMs?: number;
	/** Builds the message for one record: render its templates with its data. Throws EngineError on bad templates. */
	build(record: MessageRecord): BuiltMessage<M>;
	sender: MessageSender<M>;
	retry?: Partial<RetryPolicy>;
	limiter?: SendLimiter;
	/** Messages sent at once (default 1). */
	concurrency?: number;
	clock?: Clock;
	random?: () => number;
	/** After a bad template, when the message is due again (default 10 minutes). */
	retryBadTemplateAfterMs?: number;
	/**
	 * Texts only: the SMS pumping guard for a record (see smsGuard.ts), the same rules as Send SMS
	 * with the abuse guard on. A refused text is not sent and is recorded as skipped with the reason;
	 * the allowances are taken only for a text about to go (after the claim and the render).
	 */
	guard?: (record: MessageRecord) => Promise<SmsGuard | undefined>;
}

export interface OwedDelivery {
	record: MessageRecord;
	result: SendResult;
}

export interface DeliverOwedResult {
	/** One per message claimed by this run, in claim order. */
	delivered: OwedDelivery[];
	/** Messages of `keys` this run did not claim: sent, skipped, failed, unconfirmed, or held by another run. */
	others: MessageRecord[];
}

const DEFAULT_TTL_MS = 30_000;
const AFTER_TEMPORARY_FAILURE_MS = 60_000;

function otherDetail(record: MessageRecord): string {
	switch (record.status) {
		case 'sent':
			return 'Already sent.';
		case 'reserved':
			return 'Being sent by another execution; if that one stopped, its claim lapses and the message is sent then.';
		case 'owed':
			return `Owed, not due before ${new Date(record.dueAt ?? 0).toISOString()}.`;
		case 'skipped':
			return `Not sent: ${record.error ?? 'skipped'}.`;
		case 'unconfirmed':
			return 'Handed to the provider by an execution that stopped before its answer: not sent again.';
		default:
			return `Not sent again: it failed (${record.error ?? 'refused'}).`;
	}
}

/** The result for a message this run did not claim (a replay's message already sent, for instance). */
export function otherResult(record: MessageRecord, provider: string): SendResult {
	return {
		outcome: record.status === 'owed' ? 'deferred' : 'skipped',
		reason: record.status === 'owed' ? 'quiet_hours' : 'duplicate',
		detail: otherDetail(record),
		channel: record.channel as Channel,
		provider,
		recipient: record.recipient,
		idempotencyKey: record.idempotencyKey,
		attempts: 0,
		...(record.providerId ? { providerMessageId: record.providerId } : {}),
		...(record.status === 'owed' && record.dueAt !== null
			? { deferUntil: new Date(record.dueAt).toISOString() }
			: {}),
	};
}

/** Claims the owed messages asked for and delivers each once. */
export async function deliverOwedMessages<M>(
	store: OwedMessageStore,
	input: DeliverOwedInput<M>,
): Promise<DeliverOwedResult> {
	const clock = input.clock ?? systemClock;
	const policy = retryPolicy(input.retry);
	const ttlMs = input.claimTtlMs ?? DEFAULT_TTL_MS;
	const claimInput: ClaimMessagesInput = { channel: input.channel, ttlMs };
	if (input.keys && input.keys.length > 0) claimInput.keys = input.keys;
	if (input.topic !== undefined) claimInput.topic = input.topic;
	if (input.programId !== undefined) claimInput.programId = input.programId;
	if (input.overdueAfterMs !== undefined) claimInput.overdueAfterMs = input.overdueAfterMs;
	if (input.limit !== undefined) claimInput.limit = input.limit;
	const { token, claimed, others } = await store.claimMessages(claimInput);
	if (claimed.length === 0) return { delivered: [], others };
	// Keep the claim while this run works; a run that dies stops renewing and its claims lapse.
	const renewal = setInterval(
		() => {
			store.renewMessageClaims({ token, ttlMs }).catch(() => undefined);
		},
		Math.max(500, Math.floor(ttlMs / 3)),
	);
	renewal.unref?.();
	try {
		const delivered: OwedDelivery[] = new Array(claimed.length);
		let next = 0;
		const worker = async () => {
			while (next < claimed.length) {
				const index = next++;
				delivered[index] = {
					record: claimed[index],
					result: await deliverOne(store, input, claimed[index], token, policy, clock),
				};
			}
		};
		await Promise.all(
			Array.from({ length: Math.max(1, Math.min(input.concurrency ?? 1, claimed.length)) }, worker),
		);
		return { delivered, others };
	} finally {
		clearInterval(renewal);
	}
}

async function deliverOne<M>(
	store: OwedMessageStore,
	input: DeliverOwedInput<M>,
	record: MessageRecord,
	token: string,
	policy: RetryPolicy,
	clock: Clock,
): Promise<SendResult> {
	const key = record.idempotencyKey;
	const channel = record.channel as Channel;
	const base: SendResult = {
		outcome: 'sent',
		channel,
		provider: input.sender.provider,
		recipient: record.recipient,
		idempotencyKey: key,
		attempts: 0,
	};
	const warnings: string[] = [];
	const complete = async (
		status: 'sent' | 'failed' | 'skipped' | 'unconfirmed' | 'owed',
		extra: { providerId?: string; error?: string; dueAt?: number } = {},
	) => {
		try {
			await store.completeMessage({
				idempotencyKey: key,
				token,
				status,
				...extra,
				...(extra.error ? { error: extra.error.slice(0, 1000) } : {}),
			});
		} catch (error) {
			warnings.push(`Could not record the outcome in the ledger: ${(error as Error).message}`);
		}
	};
	const withWarnings = (r: SendResult): SendResult =>
		warnings.length > 0 ? { ...r, warnings: [...(r.warnings ?? []), ...warnings] } : r;

	const suppression = await store.getSuppression({ channel, address: record.recipient });
	if (suppression) {
		await complete('skipped', {
			error: `on the suppression list: ${suppression.reason ?? 'unsubscribed'}`,
		});
		return withWarnings({
			...base,
			outcome: 'skipped',
			reason: 'suppressed',
			detail: `On the suppression list: ${suppression.reason ?? 'unsubscribed'}`,
		});
	}
	const guard = channel === 'sms' && input.guard ? await input.guard(record) : undefined;
	const refuse = async (refusal: { reason: 'blocked' | 'rate_limited'; detail: string }) => {
		await complete('skipped', { error: `${refusal.reason}: ${refusal.detail}` });
		return withWarnings({
			...base,
			outcome: 'skipped',
			reason: refusal.reason,
			detail: refusal.detail,
		});
	};
	if (guard) {
		const refused = checkSmsDestination(record.recipient, guard.countries);
		if (refused) return await refuse(refused);
	}
	let built: BuiltMessage<M>;
	try {
		built = input.build(record);
	} catch (error) {
		// Still owed: a corrected template delivers it later (the sweep takes it again).
		const dueAt = clock.now() + (input.retryBadTemplateAfterMs ?? 600_000);
		const message = error instanceof Error ? error.message : String(error);
		await complete('owed', { error: message, dueAt });
		if (error instanceof EngineError) {
			return withWarnings({
				...base,
				outcome: 'failed',
				reason: 'permanent',
				detail: `Not sent, still owed (again from ${new Date(dueAt).toISOString()}): ${message}`,
				error: { kind: 'permanent', message },
			});
		}
		throw error;
	}
	if (guard) {
		const refused = await claimSmsAllowance(
			guard,
			record.recipient,
			`owed:${record.topic ?? 'sms'}`,
			clock.now(),
		);
		if (refused) return await refuse(refused);
	}
	const result0 = { ...base, ...built.extra };
	let handedOver = false;
	let unconfirmed = false;
	// One hand-over per attempt: a transport that sends the message again by itself within the
	// attempt (nodemailer's pool re-queues a message whose connection closed) is refused the second.
	const handOverOnce = (): SendHooks => {
		let asked = false;
		return {
			handOver: (proceed) => {
				if (asked) return Promise.resolve(false);
				asked = true;
				return new Promise<boolean>((resolve, reject) => {
					store
						.handOverMessage({ idempotencyKey: key, token }, () => {
							handedOver = true;
							proceed();
							resolve(true);
						})
						.then((held) => {
							if (!held) resolve(false);
						}, reject);
				});
			},
		};
	};
	const attemptOnce = async (): Promise<ProviderAccepted> => {
		handedOver = false;
		const hooks = handOverOnce();
		try {
			if (input.sender.handsOver) return await input.sender.send(built.message, hooks);
			let go!: () => void;
			const ready = new Promise<void>((resolve) => (go = resolve));
			if (!(await hooks.handOver(() => go()))) throw new HandOverRefused();
			await ready;
			return await input.sender.send(built.message);
		} catch (error) {
			// After the hand-over an error without the provider's answer may hide a delivered message,
			// and so may a second hand-over the transport asked for (it was sending it again).
			if (handedOver && error instanceof HandOverRefused) {
				unconfirmed = true;
				throw new DeliveryError(
					'permanent',
					input.sender.provider,
					'The transport tried to send the message a second time after handing it to the provider; not sent again',
				);
			}
			if (handedOver && isDeliveryError(error) && error.status === undefined) {
				unconfirmed = true;
				throw new DeliveryError(
					'permanent',
					error.provider,
					`No answer after the message was handed to the provider: ${error.message}`,
					{ providerCode: error.providerCode, cause: error },
				);
			}
			throw error;
		}
	};
	const attempt = () => (input.limiter ? input.limiter.run(attemptOnce) : attemptOnce());
	let outcome: RetryOutcome<ProviderAccepted>;
	try {
		outcome = await withRetries(attempt, policy, { clock, random: input.random });
	} catch (error) {
		if (error instanceof HandOverRefused) {
			return withWarnings({
				...result0,
				outcome: 'skipped',
				reason: 'duplicate',
				detail: error.message,
			});
		}
		// Not sent: give it back for a later run, then report the problem.
		await complete('owed', {
			error: (error as Error).message,
			dueAt: clock.now() + AFTER_TEMPORARY_FAILURE_MS,
		});
		throw error;
	}
	if (outcome.ok) {
		await complete('sent', { providerId: outcome.value.providerMessageId });
		return withWarnings({
			...result0,
			attempts: outcome.attempts,
			...(outcome.value.providerMessageId
				? { providerMessageId: outcome.value.providerMessageId }
				: {}),
		});
	}
	const { error } = outcome;
	const errorInfo = {
		kind: error.kind,
		message: error.message,
		status: error.status,
		providerCode: error.providerCode,
	};
	if (unconfirmed) {
		await complete('unconfirmed', { error: error.message });
		return withWarnings({
			...result0,
			outcome: 'failed',
			reason: 'permanent',
			detail: `${error.message}. Recorded as unconfirmed: it is not sent again.`,
			attempts: outcome.attempts,
			error: errorInfo,
		});
	}
	if (error.kind === 'suppressed') {
		await complete('skipped', { error: error.message });
		try {
			await store.addSuppression({
				channel,
				address: record.recipient,
				reason: `${error.provider}${error.providerCode ? ` ${error.providerCode}` : ''}: recipient refused by the provider`,
			});
		} catch (e) {
			warnings.push(`Could not add the recipient to the suppression list: ${(e as Error).message}`);
		}
		return withWarnings({
			...result0,
			outcome: 'skipped',
			reason: 'suppressed',
			detail: error.message,
			attempts: outcome.attempts,
			error: errorInfo,
		});
	}
	if (error.kind === 'permanent') {
		await complete('failed', { error: error.message });
		return withWarnings({
			...result0,
			outcome: 'failed',
			reason: 'permanent',
			detail: error.message,
			attempts: outcome.attempts,
			error: errorInfo,
		});
	}
	// Temporary: still owed, due again after the provider's wait (or a minute).
	const dueAt = outcome.retryAt
		? outcome.retryAt.getTime()
		: clock.now() + AFTER_TEMPORARY_FAILURE_MS;
	await complete('owed', { error: error.message, dueAt });
	return withWarnings({
		...result0,
		outcome: 'deferred',
		reason: error.kind,
		detail: `${error.message} Still owed: sent again from ${new Date(dueAt).toISOString()}.`,
		deferUntil: new Date(dueAt).toISOString(),
		attempts: outcome.attempts,
		error: errorInfo,
	});
}
