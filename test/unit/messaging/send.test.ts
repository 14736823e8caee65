/* The send orchestration per message: suppression, quiet hours, consent, idempotency, retries,
 * pacing, and outcomes that account for every item. Runs against loopback provider fakes. */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EngineError } from '../../../engine/shared/errors';
import {
	createEmailSender,
	createSmsSender,
	messageKey,
	resubscribe,
	SendLimiter,
	sendEmail,
	sendSms,
	unsubscribe,
	type Clock,
	type HttpTransport,
	type SendResult,
	type SmsSendInput,
	type SmsSender,
} from '../../../engine/messaging';
import { fetchTransport } from '../../fakes/fetchTransport';
import { MemoryLedger } from '../../fakes/memoryLedger';
import {
	startPostmarkFake,
	startTelnyxFake,
	startTwilioFake,
	type ProviderFake,
} from '../../fakes/providers';

/** A clock at a fixed instant whose sleeps return at once (and move it forward). */
function clockAt(iso: string): Clock & { sleeps: number[] } {
	let now = Date.parse(iso);
	const sleeps: number[] = [];
	return { sleeps, now: () => now, sleep: async (ms) => void (sleeps.push(ms), (now += ms)) };
}

const NOON_NY = '2026-07-01T16:00:00Z';

function smsInput(overrides: Partial<SmsSendInput> = {}): SmsSendInput {
	return {
		template:
			'Hi {{name}}, {{referrer}} sent you a {{formatCurrency amount "USD"}} credit: {{link}}',
		data: { name: 'Ann', referrer: 'Bob', amount: 10, link: 'https://ex.test/r/ABC' },
		to: '(415) 555-2671',
		from: '+1 415 555 0100',
		defaultCountry: 'US',
		category: 'marketing',
		consent: true,
		stopFooter: true,
		quietHours: { timeZone: 'America/Los_Angeles' },
		itemIdentity: 'referral-17',
		settings: { strict: true, itemLabel: 'item 1' },
		...overrides,
	};
}

describe('sending an SMS', () => {
	let fake: ProviderFake;
	let sender: SmsSender;
	let ledger: MemoryLedger;
	const transport = fetchTransport();
	beforeAll(async () => {
		fake = await startTwilioFake();
		sender = createSmsSender({
			provider: 'twilio',
			credentials: { accountSid: 'AC' + '0'.repeat(32), authToken: 'twilio-token' },
			transport,
			baseUrl: fake.url,
		});
	});
	afterAll(() => fake.close());
	beforeEach(() => {
		fake.requests.length = 0;
		ledger = new MemoryLedger();
	});

	it('sends, normalizing numbers and recording the provider id under the message key', async () => {
		const result = await sendSms(smsInput(), sender, { ledger, clock: clockAt(NOON_NY) });
		expect(result).toMatchObject({
			outcome: 'sent',
			channel: 'sms',
			provider: 'Twilio',
			recipient: '+14155552671',
			attempts: 1,
			sms: { encoding: 'GSM-7', segments: 1 },
		});
		expect(fake.requests).toHaveLength(1);
		expect(fake.requests[0].form).toMatchObject({
			To: '+14155552671',
			From: '+14155550100',
			Body: 'Hi Ann, Bob sent you a $10.00 credit: https://ex.test/r/ABC\nReply STOP to opt out',
		});
		expect(ledger.messages.get(result.idempotencyKey)).toMatchObject({
			status: 'sent',
			providerMessageId: result.providerMessageId,
			recipient: '+14155552671',
		});
	});

	it('derives the key from template, recipient and item, so a replay is skipped and another item is not', async () => {
		const first = await sendSms(smsInput(), sender, { ledger, clock: clockAt(NOON_NY) });
		// The same person written differently is the same recipient.
		const replay = await sendSms(smsInput({ to: '+1 415-555-2671' }), sender, {
			ledger,
			clock: clockAt(NOON_NY),
		});
		const other = await sendSms(smsInput({ itemIdentity: 'referral-18' }), sender, {
			ledger,
			clock: clockAt(NOON_NY),
		});
		expect(replay).toMatchObject({
			outcome: 'skipped',
			reason: 'duplicate',
			attempts: 0,
			idempotencyKey: first.idempotencyKey,
		});
		expect(other.outcome).toBe('sent');
		expect(other.idempotencyKey).not.toBe(first.idempotencyKey);
		expect(fake.requests).toHaveLength(2);
		expect(first.idempotencyKey).toMatch(/^msg_[0-9a-f]{64}$/);
		expect(
			messageKey({ channel: 'sms', templateId: 't', recipient: '+1', itemIdentity: 'x' }),
		).toBe(messageKey({ channel: 'sms', templateId: 't', recipient: '+1', itemIdentity: 'x' }));
	});

	it('without an item identity, the item data itself identifies the send (key order does not matter)', async () => {
		const a = await sendSms(
			smsInput({
				itemIdentity: undefined,
				data: { name: 'Ann', referrer: 'Bob', amount: 10, link: 'https://ex.test/r/ABC' },
			}),
			sender,
			{ ledger, clock: clockAt(NOON_NY) },
		);
		const b = await sendSms(
			smsInput({
				itemIdentity: undefined,
				data: { link: 'https://ex.test/r/ABC', amount: 10, referrer: 'Bob', name: 'Ann' },
			}),
			sender,
			{ ledger, clock: clockAt(NOON_NY) },
		);
		expect(b).toMatchObject({
			outcome: 'skipped',
			reason: 'duplicate',
			idempotencyKey: a.idempotencyKey,
		});
	});

	it('honours a caller-supplied idempotency key and refuses a malformed one', async () => {
		const result = await sendSms(smsInput({ idempotencyKey: 'reward-sms/referral-17' }), sender, {
			ledger,
			clock: clockAt(NOON_NY),
		});
		expect(result.idempotencyKey).toBe('reward-sms/referral-17');
		await expect(
			sendSms(smsInput({ idempotencyKey: 'has spaces' }), sender, { ledger }),
		).rejects.toMatchObject({ code: 'invalid_idempotency_key' });
	});

	it('skips a suppressed number, written however the unsubscribe had it, without calling the provider', async () => {
		const stored = await unsubscribe(ledger, {
			channel: 'sms',
			address: '415.555.2671',
			defaultCountry: 'US',
			reason: 'replied STOP',
		});
		expect(stored).toEqual({
			channel: 'sms',
			address: '+14155552671',
			suppressed: true,
			reason: 'replied STOP',
		});
		const result = await sendSms(smsInput(), sender, { ledger, clock: clockAt(NOON_NY) });
		expect(result).toMatchObject({
			outcome: 'skipped',
			reason: 'suppressed',
			detail: 'On the suppression list: replied STOP',
			attempts: 0,
		});
		expect(fake.requests).toHaveLength(0);
		expect(ledger.messages.size).toBe(0);
		expect(await resubscribe(ledger, { channel: 'sms', address: '+14155552671' })).toMatchObject({
			wasSuppressed: true,
			suppressed: false,
		});
		expect((await sendSms(smsInput(), sender, { ledger, clock: clockAt(NOON_NY) })).outcome).toBe(
			'sent',
		);
	});

	it('when the provider says STOP (21610), the number joins the suppression list', async () => {
		fake.script({
			status: 400,
			body: { code: 21610, message: 'Attempt to send to unsubscribed recipient', status: 400 },
		});
		const result = await sendSms(smsInput(), sender, { ledger, clock: clockAt(NOON_NY) });
		expect(result).toMatchObject({
			outcome: 'skipped',
			reason: 'suppressed',
			attempts: 1,
			error: { kind: 'suppressed', providerCode: '21610' },
		});
		expect(await ledger.isSuppressed('sms', '+14155552671')).toEqual({
			reason: 'Twilio 21610: recipient refused by the provider',
		});
		const next = await sendSms(smsInput({ itemIdentity: 'referral-99' }), sender, {
			ledger,
			clock: clockAt(NOON_NY),
		});
		expect(next).toMatchObject({ outcome: 'skipped', reason: 'suppressed', attempts: 0 });
		expect(fake.requests).toHaveLength(1);
	});

	it("defers a message in the recipient's quiet hours to a separate outcome with the time it may go", async () => {
		// 06:30 in Los Angeles.
		const early = await sendSms(smsInput(), sender, {
			ledger,
			clock: clockAt('2026-07-01T13:30:00Z'),
		});
		expect(early).toMatchObject({
			outcome: 'deferred',
			reason: 'quiet_hours',
			deferUntil: '2026-07-01T15:00:00.000Z',
			attempts: 0,
		});
		expect(early.detail).toMatch(/06:30/);
		expect(fake.requests).toHaveLength(0);
		// Deferral reserves nothing, so the same item sends when it comes back at 08:00.
		expect(ledger.messages.size).toBe(0);
		expect(
			(await sendSms(smsInput(), sender, { ledger, clock: clockAt(early.deferUntil!) })).outcome,
		).toBe('sent');
	});

	it('needs consent for marketing, not for transactional messages', async () => {
		const noConsent = await sendSms(smsInput({ consent: undefined }), sender, {
			ledger,
			clock: clockAt(NOON_NY),
		});
		expect(noConsent).toMatchObject({ outcome: 'skipped', reason: 'no_consent', attempts: 0 });
		expect(fake.requests).toHaveLength(0);
		const transactional = await sendSms(
			smsInput({ consent: undefined, category: 'transactional', stopFooter: false }),
			sender,
			{ ledger, clock: clockAt(NOON_NY) },
		);
		expect(transactional.outcome).toBe('sent');
		await expect(
			sendSms(smsInput({ category: 'promo' as never }), sender, { ledger }),
		).rejects.toMatchObject({ code: 'invalid_category' });
	});

	it('bad input is a clear per-item error, and nothing is reserved or sent', async () => {
		const cases: Array<[Partial<SmsSendInput>, string, string | undefined]> = [
			[{ to: '555-0000' }, 'invalid_phone_number', 'to'],
			[{ from: 'Acme Rewards Club' }, 'invalid_sender', 'from'],
			[{ template: 'Hi {{name' }, 'template_syntax', 'SMS text'],
			[{ template: 'Hi {{nickname}}' }, 'missing_variable', 'SMS text'],
			[
				{ data: JSON.parse('{"name":"A","__proto__":{"polluted":true}}') },
				'unsafe_data_key',
				'__proto__',
			],
			[{ template: 'x'.repeat(101 * 1024) }, 'template_too_large', 'SMS text'],
			[
				{ template: '{{body}}', data: { body: '’'.repeat(300) }, maxSegments: 3 },
				'too_many_segments',
				'maxSegments',
			],
			[
				{ template: '{{empty}}', data: { empty: '' }, stopFooter: false },
				'empty_message',
				'SMS text',
			],
			[{ quietHours: { timeZone: 'Nowhere/City' } }, 'invalid_time_zone', 'timeZone'],
		];
		for (const [overrides, code, field] of cases) {
			const attempt = sendSms(smsInput(overrides), sender, { ledger, clock: clockAt(NOON_NY) });
			await expect(attempt, code).rejects.toBeInstanceOf(EngineError);
			await expect(
				sendSms(smsInput(overrides), sender, { ledger, clock: clockAt(NOON_NY) }),
			).rejects.toMatchObject({ code, field });
		}
		expect(({} as Record<string, unknown>).polluted).toBeUndefined();
		expect(fake.requests).toHaveLength(0);
		expect(ledger.messages.size).toBe(0);
	});

	it('a configuration error found while building the request is a per-item error and frees the key', async () => {
		const noSender = createSmsSender({
			provider: 'twilio',
			credentials: { accountSid: 'AC' + '0'.repeat(32), authToken: 'twilio-token' },
			transport,
			baseUrl: fake.url,
		});
		const attempt = sendSms(smsInput({ from: '' }), noSender, { ledger, clock: clockAt(NOON_NY) });
		await expect(attempt).rejects.toMatchObject({ code: 'missing_sender', field: 'from' });
		expect(fake.requests).toHaveLength(0);
		const [logged] = ledger.messages.values();
		expect(logged.status).toBe('failed');
		expect((await sendSms(smsInput(), sender, { ledger, clock: clockAt(NOON_NY) })).outcome).toBe(
			'sent',
		);
	});

	it('a ledger failure after the provider accepted the message still reports it as sent, with a warning', async () => {
		const flaky = new MemoryLedger();
		flaky.completeMessage = async () => {
			throw new Error('connection reset');
		};
		const result = await sendSms(smsInput(), sender, { ledger: flaky, clock: clockAt(NOON_NY) });
		expect(result.outcome).toBe('sent');
		expect(result.providerMessageId).toBeTruthy();
		expect(result.warnings).toEqual([
			'Could not record the sent message in the ledger: connection reset',
		]);
	});

	it('smart-character replacement keeps a message in one GSM-7 segment', async () => {
		const text = 'It’s “your” reward – claim it… {{link}}';
		const without = await sendSms(
			smsInput({ template: text, stopFooter: false, itemIdentity: 'a' }),
			sender,
			{ ledger, clock: clockAt(NOON_NY) },
		);
		const withReplacement = await sendSms(
			smsInput({
				template: text,
				stopFooter: false,
				itemIdentity: 'b',
				replaceSmartCharacters: true,
			}),
			sender,
			{ ledger, clock: clockAt(NOON_NY) },
		);
		expect(without.sms?.encoding).toBe('UCS-2');
		expect(withReplacement.sms?.encoding).toBe('GSM-7');
		expect(fake.requests[1].form?.Body).toBe(
			'It\'s "your" reward - claim it... https://ex.test/r/ABC',
		);
	});
});

describe('retries, failures and pacing', () => {
	let fake: ProviderFake;
	let sender: SmsSender;
	let transport: HttpTransport;
	let inFlight = 0;
	let peak = 0;
	beforeAll(async () => {
		fake = await startTelnyxFake();
		const base = fetchTransport();
		// Holds each request briefly so overlapping sends are visible.
		transport = async (request) => {
			inFlight++;
			peak = Math.max(peak, inFlight);
			try {
				await new Promise((resolve) => setTimeout(resolve, 15));
				return await base(request);
			} finally {
				inFlight--;
			}
		};
		sender = createSmsSender({
			provider: 'telnyx',
			credentials: { apiKey: 'KEYtelnyx' },
			transport,
			baseUrl: fake.url,
			timeoutMs: 300,
		});
	});
	afterAll(() => fake.close());
	beforeEach(() => {
		fake.requests.length = 0;
	});

	it('retries a 5xx and a 429, waiting the Retry-After, then sends', async () => {
		const clock = clockAt(NOON_NY);
		fake.script(fake.failures.serverError(), fake.failures.rateLimited(4));
		const result = await sendSms(smsInput({ quietHours: undefined }), sender, {
			ledger: new MemoryLedger(),
			clock,
			random: () => 0.5,
		});
		expect(result).toMatchObject({ outcome: 'sent', attempts: 3 });
		expect(clock.sleeps).toEqual([250, 4000]);
		expect(fake.requests).toHaveLength(3);
	});

	it('a timeout is retried like any temporary failure', async () => {
		fake.script('hang');
		const result = await sendSms(smsInput({ quietHours: undefined }), sender, {
			ledger: new MemoryLedger(),
			clock: clockAt(NOON_NY),
			random: () => 0,
		});
		expect(result).toMatchObject({ outcome: 'sent', attempts: 2 });
	});

	it("a permanent rejection fails at once with the provider's words; the key can be retried later", async () => {
		const ledger = new MemoryLedger();
		fake.script(fake.failures.permanent());
		const failed = await sendSms(smsInput({ quietHours: undefined }), sender, {
			ledger,
			clock: clockAt(NOON_NY),
		});
		expect(failed).toMatchObject({
			outcome: 'failed',
			reason: 'permanent',
			attempts: 1,
			error: { kind: 'permanent', status: 422, providerCode: '10002' },
		});
		expect(failed.detail).toMatch(
			/Telnyx rejected the message \(HTTP 422\): The phone number is invalid/,
		);
		expect(failed.retryAfter).toBeUndefined();
		expect(ledger.messages.get(failed.idempotencyKey)?.status).toBe('failed');
		// A failed key is not a duplicate: a later execution may try the same message again.
		const again = await sendSms(smsInput({ quietHours: undefined }), sender, {
			ledger,
			clock: clockAt(NOON_NY),
		});
		expect(again.outcome).toBe('sent');
		expect(ledger.messages.get(failed.idempotencyKey)).toMatchObject({
			status: 'sent',
			reservations: 2,
		});
	});

	it('when the budget runs out it reports failed, rate-limited, with the time to try again', async () => {
		const clock = clockAt(NOON_NY);
		fake.script(fake.failures.rateLimited(600));
		const result = await sendSms(smsInput({ quietHours: undefined }), sender, {
			ledger: new MemoryLedger(),
			clock,
			retry: { budgetMs: 60_000 },
		});
		expect(result).toMatchObject({
			outcome: 'failed',
			reason: 'rate_limited',
			attempts: 1,
			retryAfter: new Date(Date.parse(NOON_NY) + 600_000).toISOString(),
		});
	});

	it('the credential limiter caps concurrent sends', async () => {
		peak = 0;
		const limiter = new SendLimiter({ concurrency: 2, minIntervalMs: 0 });
		const ledger = new MemoryLedger();
		const results = await Promise.all(
			Array.from({ length: 8 }, (_, i) =>
				sendSms(smsInput({ quietHours: undefined, itemIdentity: `r${i}` }), sender, {
					ledger,
					limiter,
					clock: clockAt(NOON_NY),
				}),
			),
		);
		expect(results.every((r) => r.outcome === 'sent')).toBe(true);
		expect(peak).toBe(2);
		expect(new Set(results.map((r) => r.providerMessageId)).size).toBe(8);
	});

	it('a batch accounts for every item: sent, skipped, deferred, failed or a per-item error', async () => {
		const ledger = new MemoryLedger();
		await unsubscribe(ledger, { channel: 'sms', address: '+14155552672' });
		const items: Array<Partial<SmsSendInput>> = [
			{ itemIdentity: 'ok-1' },
			{ itemIdentity: 'ok-1' }, // duplicate
			{ itemIdentity: 'sup', to: '+14155552672' }, // suppressed
			{ itemIdentity: 'tokyo', quietHours: { timeZone: 'Asia/Tokyo' } }, // 01:00 there: deferred
			{ itemIdentity: 'bad', to: 'not a number' }, // per-item error
			{ itemIdentity: 'consent', consent: false }, // skipped
			{ itemIdentity: 'fail' }, // provider 500s until the attempts run out
		];
		const outputs: Record<string, Array<SendResult | EngineError>> = {
			sent: [],
			skipped: [],
			deferred: [],
			failed: [],
			error: [],
		};
		for (const overrides of items) {
			if (overrides.itemIdentity === 'fail')
				fake.script(...Array.from({ length: 3 }, () => fake.failures.serverError()));
			try {
				const result = await sendSms(
					smsInput({ quietHours: { timeZone: 'America/New_York' }, ...overrides }),
					sender,
					{
						ledger,
						clock: clockAt(NOON_NY),
						retry: { maxAttempts: 3 },
					},
				);
				outputs[result.outcome].push(result);
			} catch (error) {
				expect(error).toBeInstanceOf(EngineError);
				outputs.error.push(error as EngineError);
			}
		}
		expect(Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, v.length]))).toEqual({
			sent: 1,
			skipped: 3,
			deferred: 1,
			failed: 1,
			error: 1,
		});
		expect((outputs.skipped as SendResult[]).map((r) => r.reason).sort()).toEqual([
			'duplicate',
			'no_consent',
			'suppressed',
		]);
	});
});

describe('sending an email over HTTP', () => {
	it('a recipient Postmark marks inactive is skipped and suppressed; the email address is matched case-insensitively', async () => {
		const fake = await startPostmarkFake();
		try {
			const sender = createEmailSender({
				provider: 'postmark',
				credentials: { serverToken: 'server-token-test' },
				transport: fetchTransport(),
				baseUrl: fake.url,
			});
			const ledger = new MemoryLedger();
			const base = {
				templates: { subject: 'Hi {{name}}', html: '<p>Hi {{name}}</p>' },
				data: { name: 'Ann' },
				from: 'shop@example.test',
				to: 'Ann@Example.test',
			};
			fake.script(fake.failures.suppressed!());
			const first = await sendEmail({ ...base, itemIdentity: '1' }, sender, { ledger });
			expect(first).toMatchObject({
				outcome: 'skipped',
				reason: 'suppressed',
				recipient: 'ann@example.test',
				error: { providerCode: '406' },
			});
			const second = await sendEmail(
				{ ...base, to: 'ann@example.test', itemIdentity: '2' },
				sender,
				{ ledger },
			);
			expect(second).toMatchObject({ outcome: 'skipped', reason: 'suppressed', attempts: 0 });
			expect(fake.requests).toHaveLength(1);
			await expect(
				unsubscribe(ledger, { channel: 'email', address: 'not-an-address' }),
			).rejects.toMatchObject({ code: 'invalid_email_address' });
		} finally {
			await fake.close();
		}
	});

	it('bad email input fails per item before any request', async () => {
		const sender = createEmailSender({
			provider: 'postmark',
			credentials: { serverToken: 't' },
			transport: fetchTransport(),
			baseUrl: 'http://127.0.0.1:9',
		});
		const base = {
			templates: { subject: 'Hi', html: '<p>Hi</p>' },
			data: {},
			from: 'shop@example.test',
			to: 'ann@example.test',
		};
		await expect(
			sendEmail({ ...base, to: 'ann(at)example.test' }, sender, { ledger: new MemoryLedger() }),
		).rejects.toMatchObject({ code: 'invalid_email_address', field: 'to' });
		await expect(
			sendEmail({ ...base, from: '' }, sender, { ledger: new MemoryLedger() }),
		).rejects.toMatchObject({ code: 'invalid_email_address', field: 'from' });
		await expect(
			sendEmail(
				{ ...base, commercial: { postalAddress: '', unsubscribeUrl: 'https://x.test/u' } },
				sender,
				{ ledger: new MemoryLedger() },
			),
		).rejects.toMatchObject({
			code: 'missing_postal_address',
		});
	});
});
