/* One contract for every HTTP provider, run against a loopback fake that answers with that provider's
 * documented success and error shapes: the message id is read, and failures are classified as
 * rate-limited (with Retry-After), retryable (5xx, timeouts), permanent (4xx, with the provider's
 * words) or suppressed. Provider-specific request shapes are checked per case. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
	createEmailSender,
	createSmsSender,
	DeliveryError,
	type HttpTransport,
	type MessageSender,
	type OutgoingEmail,
	type OutgoingSms,
} from '../../../engine/messaging';
import { fetchTransport } from '../../fakes/fetchTransport';
import type { RecordedRequest } from '../../fakes/http';
import {
	resendQuotaExceeded,
	startMailgunFake,
	startPlivoFake,
	startPostmarkFake,
	startResendFake,
	startSendGridFake,
	startTelnyxFake,
	startTwilioFake,
	startVonageFake,
	type ProviderFake,
} from '../../fakes/providers';

const KEY = 'msg_' + 'a1'.repeat(32);

const email: OutgoingEmail = {
	from: { address: 'shop@example.test', name: 'Acme Shop' },
	to: { address: 'friend@example.test', name: 'Ann Lee' },
	replyTo: { address: 'help@example.test' },
	subject: 'Your friend sent you 10 €',
	html: '<p>Hi Ann, claim your reward.</p>',
	text: 'Hi Ann, claim your reward.',
	headers: {
		'List-Unsubscribe': '<https://example.test/u?t=1>',
		'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
	},
	idempotencyKey: KEY,
};

const sms: OutgoingSms = {
	from: '+14155550100',
	to: '+14155552671',
	text: 'Ann sent you 10 €! Reply STOP to opt out',
	encoding: 'GSM-7',
	segments: 1,
	idempotencyKey: KEY,
};

interface ProviderCase {
	name: string;
	secrets: string[];
	start(): Promise<ProviderFake>;
	sender(
		fake: ProviderFake,
		transport: HttpTransport,
		options?: { badCredentials?: boolean; timeoutMs?: number },
	): MessageSender<any>;
	message: OutgoingEmail | OutgoingSms;
	checkRequest(request: RecordedRequest): void;
	/** Vonage announces throttling in an HTTP 200 body, without a Retry-After. */
	documentedRetryAfter: boolean;
	suppressedCode?: string;
}

const basic = (user: string, password: string) =>
	'Basic ' + Buffer.from(`${user}:${password}`).toString('base64');
/** A provider that never answers is given up after this long (its own test, below). */
const HANG_TIMEOUT_MS = 300;
/**
 * Every other case answers at once from a loopback fake, yet on a loaded machine (CI beside other
 * jobs, load 18 on 2 cores) that answer took more than 300 ms: those cases wait longer, so only the
 * hang test is about the timeout.
 */
const ANSWER_TIMEOUT_MS = 10_000;

const cases: ProviderCase[] = [
	{
		name: 'SendGrid',
		secrets: ['SG.test-key'],
		start: () => startSendGridFake({ apiKey: 'SG.test-key' }),
		sender: (fake, transport, o) =>
			createEmailSender({
				provider: 'sendgrid',
				credentials: { apiKey: o?.badCredentials ? 'SG.wrong' : 'SG.test-key' },
				transport,
				baseUrl: fake.url,
				timeoutMs: o?.timeoutMs ?? ANSWER_TIMEOUT_MS,
			}),
		message: email,
		documentedRetryAfter: true,
		checkRequest(request) {
			expect(request.headers.authorization).toBe('Bearer SG.test-key');
			expect(request.json).toEqual({
				personalizations: [{ to: [{ email: 'friend@example.test', name: 'Ann Lee' }] }],
				from: { email: 'shop@example.test', name: 'Acme Shop' },
				reply_to: { email: 'help@example.test' },
				subject: 'Your friend sent you 10 €',
				content: [
					{ type: 'text/plain', value: email.text },
					{ type: 'text/html', value: email.html },
				],
				headers: email.headers,
				custom_args: { message_key: KEY },
			});
		},
	},
	{
		name: 'Mailgun',
		secrets: ['key-test'],
		start: () => startMailgunFake({ apiKey: 'key-test', domain: 'mg.example.test' }),
		sender: (fake, transport, o) =>
			createEmailSender({
				provider: 'mailgun',
				credentials: {
					apiKey: o?.badCredentials ? 'key-wrong' : 'key-test',
					domain: 'mg.example.test',
				},
				transport,
				baseUrl: fake.url,
				timeoutMs: o?.timeoutMs ?? ANSWER_TIMEOUT_MS,
			}),
		message: email,
		documentedRetryAfter: true,
		checkRequest(request) {
			expect(request.headers.authorization).toBe(basic('api', 'key-test'));
			expect(request.form).toEqual({
				from: '"Acme Shop" <shop@example.test>',
				to: '"Ann Lee" <friend@example.test>',
				subject: email.subject,
				text: email.text,
				html: email.html,
				'h:Reply-To': 'help@example.test',
				'h:List-Unsubscribe': '<https://example.test/u?t=1>',
				'h:List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
				'v:message-key': KEY,
			});
		},
	},
	{
		name: 'Postmark',
		secrets: ['server-token-test'],
		start: () => startPostmarkFake({ serverToken: 'server-token-test' }),
		sender: (fake, transport, o) =>
			createEmailSender({
				provider: 'postmark',
				credentials: {
					serverToken: o?.badCredentials ? 'nope' : 'server-token-test',
					messageStream: 'broadcast',
				},
				transport,
				baseUrl: fake.url,
				timeoutMs: o?.timeoutMs ?? ANSWER_TIMEOUT_MS,
			}),
		message: email,
		documentedRetryAfter: true,
		suppressedCode: '406',
		checkRequest(request) {
			expect(request.headers['x-postmark-server-token']).toBe('server-token-test');
			expect(request.json).toEqual({
				From: '"Acme Shop" <shop@example.test>',
				To: '"Ann Lee" <friend@example.test>',
				ReplyTo: 'help@example.test',
				Subject: email.subject,
				HtmlBody: email.html,
				TextBody: email.text,
				Headers: [
					{ Name: 'List-Unsubscribe', Value: '<https://example.test/u?t=1>' },
					{ Name: 'List-Unsubscribe-Post', Value: 'List-Unsubscribe=One-Click' },
				],
				MessageStream: 'broadcast',
				Metadata: { message_key: KEY },
			});
		},
	},
	{
		name: 'Resend',
		secrets: ['re_test_key'],
		start: () => startResendFake({ apiKey: 're_test_key' }),
		sender: (fake, transport, o) =>
			createEmailSender({
				provider: 'resend',
				credentials: { apiKey: o?.badCredentials ? 're_wrong' : 're_test_key' },
				transport,
				baseUrl: fake.url,
				timeoutMs: o?.timeoutMs ?? ANSWER_TIMEOUT_MS,
			}),
		message: email,
		documentedRetryAfter: true,
		checkRequest(request) {
			expect(request.headers.authorization).toBe('Bearer re_test_key');
			expect(request.headers['idempotency-key']).toBe(KEY);
			expect(request.json).toEqual({
				from: '"Acme Shop" <shop@example.test>',
				to: ['"Ann Lee" <friend@example.test>'],
				reply_to: 'help@example.test',
				subject: email.subject,
				html: email.html,
				text: email.text,
				headers: email.headers,
			});
		},
	},
	{
		name: 'Twilio',
		secrets: ['twilio-token'],
		start: () => startTwilioFake({ accountSid: 'AC' + '1'.repeat(32), authToken: 'twilio-token' }),
		sender: (fake, transport, o) =>
			createSmsSender({
				provider: 'twilio',
				credentials: {
					accountSid: 'AC' + '1'.repeat(32),
					authToken: o?.badCredentials ? 'wrong' : 'twilio-token',
				},
				transport,
				baseUrl: fake.url,
				timeoutMs: o?.timeoutMs ?? ANSWER_TIMEOUT_MS,
			}),
		message: sms,
		documentedRetryAfter: true,
		suppressedCode: '21610',
		checkRequest(request) {
			expect(request.headers.authorization).toBe(basic('AC' + '1'.repeat(32), 'twilio-token'));
			expect(request.form).toEqual({ To: '+14155552671', From: '+14155550100', Body: sms.text });
		},
	},
	{
		name: 'Vonage',
		secrets: ['vonage-secret'],
		start: () => startVonageFake({ apiKey: 'vonage-key', apiSecret: 'vonage-secret' }),
		sender: (fake, transport, o) =>
			createSmsSender({
				provider: 'vonage',
				credentials: {
					apiKey: 'vonage-key',
					apiSecret: o?.badCredentials ? 'wrong' : 'vonage-secret',
				},
				transport,
				baseUrl: fake.url,
				timeoutMs: o?.timeoutMs ?? ANSWER_TIMEOUT_MS,
			}),
		message: sms,
		documentedRetryAfter: false,
		suppressedCode: '7',
		checkRequest(request) {
			expect(request.form).toEqual({
				api_key: 'vonage-key',
				api_secret: 'vonage-secret',
				from: '14155550100',
				to: '14155552671',
				text: sms.text,
				type: 'text',
				'client-ref': KEY.slice(0, 40),
			});
		},
	},
	{
		name: 'Plivo',
		secrets: ['plivo-token'],
		start: () => startPlivoFake({ authId: 'MAPLIVO0000000000000', authToken: 'plivo-token' }),
		sender: (fake, transport, o) =>
			createSmsSender({
				provider: 'plivo',
				credentials: {
					authId: 'MAPLIVO0000000000000',
					authToken: o?.badCredentials ? 'wrong' : 'plivo-token',
				},
				transport,
				baseUrl: fake.url,
				timeoutMs: o?.timeoutMs ?? ANSWER_TIMEOUT_MS,
			}),
		message: sms,
		documentedRetryAfter: true,
		checkRequest(request) {
			expect(request.headers.authorization).toBe(basic('MAPLIVO0000000000000', 'plivo-token'));
			expect(request.json).toEqual({
				src: '+14155550100',
				dst: '+14155552671',
				text: sms.text,
				type: 'sms',
			});
		},
	},
	{
		name: 'Telnyx',
		secrets: ['KEYtelnyx'],
		start: () => startTelnyxFake({ apiKey: 'KEYtelnyx' }),
		sender: (fake, transport, o) =>
			createSmsSender({
				provider: 'telnyx',
				credentials: { apiKey: o?.badCredentials ? 'KEYwrong' : 'KEYtelnyx' },
				transport,
				baseUrl: fake.url,
				timeoutMs: o?.timeoutMs ?? ANSWER_TIMEOUT_MS,
			}),
		message: sms,
		documentedRetryAfter: true,
		suppressedCode: '40300',
		checkRequest(request) {
			expect(request.headers.authorization).toBe('Bearer KEYtelnyx');
			expect(request.json).toEqual({ from: '+14155550100', to: '+14155552671', text: sms.text });
		},
	},
];

async function failure(promise: Promise<unknown>): Promise<DeliveryError> {
	try {
		await promise;
	} catch (error) {
		expect(error).toBeInstanceOf(DeliveryError);
		return error as DeliveryError;
	}
	throw new Error('expected the send to fail');
}

const transport = fetchTransport();

describe.each(cases)('$name provider contract', (c) => {
	let fake: ProviderFake;
	let sender: MessageSender<any>;
	beforeAll(async () => {
		fake = await c.start();
		sender = c.sender(fake, transport);
	});
	afterAll(() => fake.close());

	const noSecrets = (error: DeliveryError) => {
		for (const secret of c.secrets) expect(error.message).not.toContain(secret);
	};

	it('sends the documented request and reads the provider message id', async () => {
		const accepted = await sender.send(c.message);
		expect(accepted.provider).toBe(c.name);
		expect(accepted.providerMessageId).toBeTruthy();
		expect(accepted.providerMessageId).toBe(fake.acceptedIds[fake.acceptedIds.length - 1]);
		const request = fake.requests[fake.requests.length - 1];
		expect(request.method).toBe('POST');
		c.checkRequest(request);
	});

	it('429 with Retry-After is rate-limited, with the wait in milliseconds', async () => {
		fake.script({
			status: 429,
			headers: { 'retry-after': '2' },
			body: fake.failures.rateLimited(2).body,
		});
		const error = await failure(sender.send(c.message));
		expect(error.kind).toBe('rate_limited');
		expect(error.status).toBe(429);
		expect(error.retryAfterMs).toBe(2000);
	});

	it('the documented rate-limit answer is rate-limited', async () => {
		fake.script(fake.failures.rateLimited(3));
		const error = await failure(sender.send(c.message));
		expect(error.kind).toBe('rate_limited');
		expect(error.retryAfterMs).toBe(c.documentedRetryAfter ? 3000 : undefined);
	});

	it('a documented server failure is retryable', async () => {
		fake.script(fake.failures.serverError());
		const error = await failure(sender.send(c.message));
		expect(error.kind).toBe('retryable');
	});

	it('a documented permanent rejection is permanent and carries the provider message', async () => {
		fake.script(fake.failures.permanent());
		const error = await failure(sender.send(c.message));
		expect(error.kind).toBe('permanent');
		expect(error.message).toContain(c.name);
		expect(error.message).toContain(fake.permanentText);
	});

	it('wrong credentials are permanent and the error never shows a secret', async () => {
		const bad = c.sender(fake, transport, { badCredentials: true });
		const error = await failure(bad.send(c.message));
		expect(error.kind).toBe('permanent');
		noSecrets(error);
	});

	it('a provider that never answers times out as retryable', async () => {
		fake.script('hang');
		const hasty = c.sender(fake, transport, { timeoutMs: HANG_TIMEOUT_MS });
		const started = Date.now();
		const error = await failure(hasty.send(c.message));
		expect(error.kind).toBe('retryable');
		expect(error.message).toMatch(/could not be reached: no answer within 300 ms/);
		expect(Date.now() - started).toBeLessThan(3000);
	});

	it('an unreachable provider is retryable', async () => {
		const closed = c.sender({ ...fake, url: 'http://127.0.0.1:9' } as ProviderFake, transport);
		const error = await failure(closed.send(c.message));
		expect(error.kind).toBe('retryable');
	});

	if (c.suppressedCode !== undefined) {
		it(`the provider refusing the recipient (${c.suppressedCode}) is suppressed`, async () => {
			fake.script(fake.failures.suppressed!());
			const error = await failure(sender.send(c.message));
			expect(error.kind).toBe('suppressed');
			expect(error.providerCode).toBe(c.suppressedCode);
		});
	}
});

describe('provider specifics', () => {
	it('Resend: a retried send with the same idempotency key is not sent twice', async () => {
		const fake = await startResendFake();
		try {
			const sender = createEmailSender({
				provider: 'resend',
				credentials: { apiKey: 're_test_key' },
				transport,
				baseUrl: fake.url,
			});
			const first = await sender.send(email);
			const second = await sender.send(email);
			expect(second.providerMessageId).toBe(first.providerMessageId);
			expect(fake.sentCount()).toBe(1);
			// Same key, different content: Resend refuses, and that is not worth retrying.
			const error = await failure(sender.send({ ...email, subject: 'Changed' }));
			expect(error.kind).toBe('permanent');
			expect(error.providerCode).toBe('invalid_idempotent_request');
		} finally {
			await fake.close();
		}
	});

	it('Resend: a used-up daily quota is permanent, not rate-limited', async () => {
		const fake = await startResendFake();
		try {
			fake.script(resendQuotaExceeded());
			const sender = createEmailSender({
				provider: 'resend',
				credentials: { apiKey: 're_test_key' },
				transport,
				baseUrl: fake.url,
			});
			const error = await failure(sender.send(email));
			expect(error.kind).toBe('permanent');
			expect(error.message).toMatch(/quota is used up/);
		} finally {
			await fake.close();
		}
	});

	it('SendGrid: reads the wait from X-RateLimit-Reset when there is no Retry-After', async () => {
		const fake = await startSendGridFake();
		try {
			const reset = Math.floor(Date.now() / 1000) + 30;
			fake.script({
				status: 429,
				headers: { 'x-ratelimit-reset': String(reset) },
				body: { errors: [{ message: 'too many requests' }] },
			});
			const sender = createEmailSender({
				provider: 'sendgrid',
				credentials: { apiKey: 'SG.test-key' },
				transport,
				baseUrl: fake.url,
			});
			const error = await failure(sender.send(email));
			expect(error.kind).toBe('rate_limited');
			expect(error.retryAfterMs).toBeGreaterThan(25_000);
			expect(error.retryAfterMs).toBeLessThanOrEqual(31_000);
		} finally {
			await fake.close();
		}
	});

	it('Vonage: non-GSM text goes as type=unicode, and a multi-part answer is accepted when every part is', async () => {
		const fake = await startVonageFake();
		try {
			const sender = createSmsSender({
				provider: 'vonage',
				credentials: { apiKey: 'vonage-key', apiSecret: 'vonage-secret' },
				transport,
				baseUrl: fake.url,
			});
			const long = { ...sms, text: 'Привет! '.repeat(20), encoding: 'UCS-2' as const, segments: 3 };
			const accepted = await sender.send(long);
			expect(fake.requests[0].form?.type).toBe('unicode');
			expect(fake.acceptedIds.length).toBeGreaterThan(1);
			expect(accepted.providerMessageId).toBe(fake.acceptedIds[0]);
			fake.script({
				status: 200,
				body: {
					'message-count': '2',
					messages: [
						{ status: '0', 'message-id': 'A' },
						{ status: '9', 'error-text': 'Partner quota exceeded' },
					],
				},
			});
			const error = await failure(sender.send(long));
			expect(error.kind).toBe('permanent');
			expect(error.message).toMatch(/Partner quota exceeded \(status 9\)/);
		} finally {
			await fake.close();
		}
	});

	it('Twilio: a Messaging Service replaces From, and code 20429 is rate-limited', async () => {
		const fake = await startTwilioFake();
		try {
			const sender = createSmsSender({
				provider: 'twilio',
				credentials: {
					accountSid: 'AC' + '0'.repeat(32),
					authToken: 'twilio-token',
					messagingServiceSid: 'MG' + '2'.repeat(32),
				},
				transport,
				baseUrl: fake.url,
			});
			await sender.send({ ...sms, from: '' });
			expect(fake.requests[0].form).toEqual({
				To: sms.to,
				Body: sms.text,
				MessagingServiceSid: 'MG' + '2'.repeat(32),
			});
			fake.script({
				status: 429,
				body: { code: 20429, message: 'Too Many Requests', status: 429 },
			});
			expect((await failure(sender.send(sms))).kind).toBe('rate_limited');
		} finally {
			await fake.close();
		}
	});

	it('refuses unknown providers and missing credentials before any request', () => {
		expect(() => createEmailSender({ provider: 'pigeon' } as never)).toThrow(
			/Unknown email provider "pigeon"; choose one of smtp, sendgrid/,
		);
		const sender = createEmailSender({
			provider: 'sendgrid',
			credentials: { apiKey: '' },
			transport,
			baseUrl: 'http://127.0.0.1:9',
		});
		return expect(sender.send(email)).rejects.toThrow(/SendGrid credentials need an API key/);
	});
});
