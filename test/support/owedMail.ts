/* The emails the ledger owed, against what the loopback SMTP server received: each message of the
 * message log arrives exactly once (its X-Entity-Ref-ID is its idempotency key), and nothing else
 * arrives. Used by the queue-mode tests, where executions race, replay and die. */
import { expect } from 'vitest';
import type { LedgerStore, ListMessagesQuery, MessageRecord } from '../../engine/ledger/store';
import type { SmtpTestServer } from '../fakes/smtpServer';

/** Every message of the message log that matches, page by page. */
export async function allMessages(
	ledger: Pick<LedgerStore, 'listMessages'>,
	query: Omit<ListMessagesQuery, 'afterId' | 'limit'>,
): Promise<MessageRecord[]> {
	const all: MessageRecord[] = [];
	for (let afterId: number | undefined; ;) {
		const page = await ledger.listMessages({ ...query, afterId, limit: 500 });
		all.push(...page);
		if (page.length < 500) return all;
		afterId = page[page.length - 1].id;
	}
}

/**
 * Waits until no message is owed or being sent and the SMTP server has at least as many emails as
 * the log has sent, then a few seconds more (long enough for a wrongly repeated email to arrive).
 */
export async function settledEmails(
	ledger: Pick<LedgerStore, 'listMessages'>,
	smtp: SmtpTestServer,
	query: Omit<ListMessagesQuery, 'afterId' | 'limit' | 'channel'>,
	timeoutMs: number,
): Promise<MessageRecord[]> {
	const deadline = Date.now() + timeoutMs;
	const emailsOf = () => allMessages(ledger, { ...query, channel: 'email' });
	let messages = await emailsOf();
	while (
		messages.some((m) => m.status === 'owed' || m.status === 'reserved') ||
		smtp.messages.length < messages.filter((m) => m.status === 'sent').length
	) {
		if (Date.now() > deadline) {
			const open = messages.filter((m) => m.status === 'owed' || m.status === 'reserved');
			throw new Error(
				`emails still owed after ${timeoutMs / 1000} s: ${open.length} in the log (${open
					.slice(0, 5)
					.map((m) => `${m.idempotencyKey} ${m.status} ${m.topic}`)
					.join(
						', ',
					)}); ${smtp.messages.length} received, ${messages.filter((m) => m.status === 'sent').length} sent in the log`,
			);
		}
		await new Promise((r) => setTimeout(r, 2000));
		messages = await emailsOf();
	}
	await new Promise((r) => setTimeout(r, 5_000));
	return emailsOf();
}

/** Each email of the log at the SMTP server once, and no email the log does not hold. */
export function expectEachEmailOnce(smtp: SmtpTestServer, messages: MessageRecord[]): void {
	const perKey = new Map<string, number>();
	for (const message of smtp.messages) {
		const key = String(message.parsed.headers.get('x-entity-ref-id'));
		perKey.set(key, (perKey.get(key) ?? 0) + 1);
	}
	expect(
		[...perKey].filter(([, n]) => n > 1),
		'emails sent twice',
	).toEqual([]);
	const logged = new Set(messages.map((m) => m.idempotencyKey));
	expect(
		[...perKey.keys()].filter((key) => !logged.has(key)),
		'emails not in the message log',
	).toEqual([]);
	for (const m of messages)
		expect(perKey.get(m.idempotencyKey), `email ${m.idempotencyKey} (${m.status})`).toBe(1);
	expect(smtp.messages).toHaveLength(messages.length);
}
