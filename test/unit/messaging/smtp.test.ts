/* Sends through nodemailer to a real SMTP server on loopback and checks what arrived. */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ReferralSmtpApi } from '../../../credentials/ReferralSmtpApi.credentials';
import {
	createEmailSender,
	renderEmail,
	sendEmail,
	type EmailSendInput,
	type EmailSender,
} from '../../../engine/messaging';
import { requiresStarttls, smtpTransportOptions } from '../../../engine/messaging/providers/smtp';
import { smtpCredentials } from '../../../nodes/TemplatedMessage/transport';
import { MemoryLedger } from '../../fakes/memoryLedger';
import { startSmtpServer, type SmtpTestServer } from '../../fakes/smtpServer';

const fastRetries = { maxAttempts: 3, initialDelayMs: 10, maxDelayMs: 20, budgetMs: 5000 };

function input(overrides: Partial<EmailSendInput> = {}): EmailSendInput {
	return {
		templates: {
			subject: '{{referrer}} sent you {{formatCurrency amount "EUR"}}',
			html: '<p>Hi {{name}},</p><p><a href="{{safeUrl link}}">Claim your reward</a></p>',
			layout: '<!doctype html><html><body>{{{body}}}</body></html>',
		},
		data: {
			name: 'Ann',
			referrer: 'Bob',
			amount: 10,
			link: 'https://shop.example.test/r/ABC?utm_source=referral',
		},
		from: 'Acme Shop <shop@example.test>',
		to: 'Ann Lee <ann@example.test>',
		replyTo: 'help@example.test',
		headers: { 'X-Campaign': 'spring-referrals' },
		commercial: {
			postalAddress: 'Acme Inc., 1 Main St, Springfield',
			unsubscribeUrl: 'https://shop.example.test/unsubscribe?t=tok123',
			unsubscribeMailto: 'unsubscribe@shop.example.test',
		},
		itemIdentity: 'referral-1',
		settings: { strict: true, itemLabel: 'item 1' },
		...overrides,
	};
}

describe('SMTP round trip', () => {
	let smtp: SmtpTestServer;
	let sender: EmailSender;
	beforeAll(async () => {
		smtp = await startSmtpServer();
		sender = createEmailSender({
			provider: 'smtp',
			credentials: { host: smtp.host, port: smtp.port },
			timeoutMs: 5000,
		});
	});
	afterAll(async () => {
		await sender.close?.();
		await smtp.close();
	});
	afterEach(() => {
		smtp.messages.length = 0;
	});

	it('delivers a commercial email with both parts and every compliance header', async () => {
		const ledger = new MemoryLedger();
		const result = await sendEmail(input(), sender, { ledger, retry: fastRetries });
		expect(result).toMatchObject({
			outcome: 'sent',
			provider: 'SMTP',
			recipient: 'ann@example.test',
			attempts: 1,
			subject: 'Bob sent you €10.00',
		});
		const [mail] = await smtp.waitForMessages(1);

		expect(mail.envelope).toEqual({ from: 'shop@example.test', to: ['ann@example.test'] });
		expect(mail.parsed.subject).toBe('Bob sent you €10.00');
		expect(mail.parsed.from?.value).toEqual([{ address: 'shop@example.test', name: 'Acme Shop' }]);
		expect(mail.parsed.to).toMatchObject({
			value: [{ address: 'ann@example.test', name: 'Ann Lee' }],
		});
		expect(mail.parsed.replyTo?.value[0].address).toBe('help@example.test');

		// multipart/alternative: both an HTML and a plain-text part arrive.
		expect(mail.raw).toMatch(/Content-Type: multipart\/alternative/i);
		expect(mail.parsed.html).toContain(
			'<a href="https://shop.example.test/r/ABC?utm_source=referral">Claim your reward</a>',
		);
		expect(mail.parsed.html).toContain('Acme Inc., 1 Main St, Springfield');
		expect(mail.parsed.text).toContain(
			'Claim your reward (https://shop.example.test/r/ABC?utm_source=referral)',
		);
		expect(mail.parsed.text).toContain(
			'Unsubscribe: https://shop.example.test/unsubscribe?t=tok123',
		);

		// One List-Unsubscribe header holding both URIs (two headers lose one in many parsers), plus RFC 8058.
		const listUnsubscribe = mail.headerLines.filter((h) => h.key === 'list-unsubscribe');
		expect(listUnsubscribe).toHaveLength(1);
		expect(listUnsubscribe[0].line.replace(/\r?\n\s+/g, ' ')).toBe(
			'List-Unsubscribe: <https://shop.example.test/unsubscribe?t=tok123>, <mailto:unsubscribe@shop.example.test?subject=unsubscribe>',
		);
		// mailparser folds List-* headers into a structured `list`; the raw line is what receivers see.
		expect(
			mail.headerLines.filter((h) => h.key === 'list-unsubscribe-post').map((h) => h.line),
		).toEqual(['List-Unsubscribe-Post: List-Unsubscribe=One-Click']);
		expect(mail.parsed.headers.get('x-campaign')).toBe('spring-referrals');

		// The idempotency key becomes a deterministic Message-ID and X-Entity-Ref-ID.
		expect(mail.parsed.messageId).toBe(`<${result.idempotencyKey}@example.test>`);
		expect(mail.parsed.headers.get('x-entity-ref-id')).toBe(result.idempotencyKey);
		expect(result.providerMessageId).toBe(mail.parsed.messageId);
		expect(ledger.messages.get(result.idempotencyKey)).toMatchObject({
			status: 'sent',
			providerMessageId: mail.parsed.messageId,
		});

		// The Render preview is exactly what was delivered.
		const preview = renderEmail(input());
		expect(mail.parsed.html).toBe(preview.html);
		expect(mail.parsed.text?.trimEnd()).toBe(preview.text);
		expect(mail.parsed.subject).toBe(preview.subject);
	});

	it('a replayed execution does not send again', async () => {
		const ledger = new MemoryLedger();
		const first = await sendEmail(input(), sender, { ledger, retry: fastRetries });
		const replay = await sendEmail(input(), sender, { ledger, retry: fastRetries });
		expect(first.outcome).toBe('sent');
		expect(replay).toMatchObject({
			outcome: 'skipped',
			reason: 'duplicate',
			attempts: 0,
			idempotencyKey: first.idempotencyKey,
		});
		await smtp.waitForMessages(1);
		await new Promise((resolve) => setTimeout(resolve, 100));
		expect(smtp.messages).toHaveLength(1);
	});

	it('a transactional email without a text template still gets a derived plain-text part', async () => {
		const ledger = new MemoryLedger();
		await sendEmail(input({ commercial: undefined, itemIdentity: 'tx-1' }), sender, { ledger });
		const [mail] = await smtp.waitForMessages(1);
		expect(mail.parsed.text?.trim()).toBe(
			'Hi Ann,\n\nClaim your reward (https://shop.example.test/r/ABC?utm_source=referral)',
		);
		expect(mail.parsed.headers.has('list-unsubscribe')).toBe(false);
	});
});

describe('SMTP failures', () => {
	it('a rejected recipient (550) is a permanent failure, recorded, not retried', async () => {
		const smtp = await startSmtpServer({
			rejectRecipient: (address) =>
				address.startsWith('gone') ? { code: 550, message: '5.1.1 No such user here' } : undefined,
		});
		const sender = createEmailSender({
			provider: 'smtp',
			credentials: { host: smtp.host, port: smtp.port },
		});
		try {
			const ledger = new MemoryLedger();
			const result = await sendEmail(input({ to: 'gone@example.test' }), sender, {
				ledger,
				retry: fastRetries,
			});
			expect(result).toMatchObject({ outcome: 'failed', reason: 'permanent', attempts: 1 });
			expect(result.error?.status).toBe(550);
			expect(result.detail).toMatch(/refused the message \(550\).*No such user/);
			expect(ledger.messages.get(result.idempotencyKey)?.status).toBe('failed');
			expect(smtp.messages).toHaveLength(0);
		} finally {
			await smtp.close();
		}
	});

	it('a temporary refusal (451) is retried until the server takes the message', async () => {
		const smtp = await startSmtpServer({
			failData: { code: 451, message: '4.3.0 Try again later', times: 2 },
		});
		const sender = createEmailSender({
			provider: 'smtp',
			credentials: { host: smtp.host, port: smtp.port },
		});
		try {
			const result = await sendEmail(input(), sender, {
				ledger: new MemoryLedger(),
				retry: fastRetries,
			});
			expect(result).toMatchObject({ outcome: 'sent', attempts: 3 });
			expect(await smtp.waitForMessages(1)).toHaveLength(1);
		} finally {
			await smtp.close();
		}
	});

	it('logs in when the server requires it; a wrong password is permanent and not echoed', async () => {
		const smtp = await startSmtpServer({ auth: { user: 'mailer', password: 's3cret-pass' } });
		try {
			const good = createEmailSender({
				provider: 'smtp',
				credentials: { host: smtp.host, port: smtp.port, user: 'mailer', password: 's3cret-pass' },
			});
			expect((await sendEmail(input(), good, { ledger: new MemoryLedger() })).outcome).toBe('sent');
			expect((await smtp.waitForMessages(1))[0].user).toBe('mailer');
			const bad = createEmailSender({
				provider: 'smtp',
				credentials: { host: smtp.host, port: smtp.port, user: 'mailer', password: 'wrong-pass' },
			});
			const result = await sendEmail(input(), bad, {
				ledger: new MemoryLedger(),
				retry: fastRetries,
			});
			expect(result).toMatchObject({ outcome: 'failed', reason: 'permanent', attempts: 1 });
			expect(result.detail).toMatch(/SMTP login failed/);
			expect(result.detail).not.toContain('wrong-pass');
		} finally {
			await smtp.close();
		}
	});

	it('an unreachable server is retried, then reported as failed with a time to try again', async () => {
		const sender = createEmailSender({
			provider: 'smtp',
			credentials: { host: '127.0.0.1', port: 9 },
			timeoutMs: 1000,
		});
		const result = await sendEmail(input(), sender, {
			ledger: new MemoryLedger(),
			retry: fastRetries,
		});
		expect(result).toMatchObject({ outcome: 'failed', reason: 'retryable', attempts: 3 });
		expect(result.retryAfter).toMatch(/^\d{4}-\d\d-\d\dT/);
	});
});

describe('STARTTLS policy (issue #14: required by default on port 587)', () => {
	it('a credential left at its defaults requires STARTTLS on port 587, and uses it when offered elsewhere', () => {
		const properties = new ReferralSmtpApi().properties;
		const defaults = Object.fromEntries(properties.map((p) => [p.name, p.default]));
		expect(defaults).toMatchObject({ port: 587, secure: false, starttls: 'requiredOn587' });
		const fromForm = smtpCredentials({ ...defaults, host: 'smtp.example.com' });
		expect(smtpTransportOptions(fromForm, 1000).requireTLS).toBe(true);
		expect(
			smtpTransportOptions(smtpCredentials({ ...defaults, host: 'relay.internal', port: 25 }), 1000)
				.requireTLS,
		).toBe(false);
		expect(requiresStarttls({ port: 587 })).toBe(true);
		expect(requiresStarttls({ port: 465, secure: true })).toBe(false);
		expect(requiresStarttls({ port: 2525, starttls: 'required' })).toBe(true);
		expect(requiresStarttls({ port: 587, starttls: 'whenOffered' })).toBe(false);
		// An older credential's "Require STARTTLS" switch still counts.
		expect(requiresStarttls({ port: 25, requireTLS: true })).toBe(true);
	});

	it('a server that offers no STARTTLS gets no message when STARTTLS is required', async () => {
		const smtp = await startSmtpServer();
		try {
			const sender = createEmailSender({
				provider: 'smtp',
				credentials: { host: smtp.host, port: smtp.port, starttls: 'required' },
				timeoutMs: 5000,
			});
			const result = await sendEmail(input(), sender, {
				ledger: new MemoryLedger(),
				retry: fastRetries,
			});
			expect(result.outcome).toBe('failed');
			expect(result.detail).toMatch(/STARTTLS/i);
			await new Promise((r) => setTimeout(r, 200));
			expect(smtp.messages).toHaveLength(0);
		} finally {
			await smtp.close();
		}
	});
});
