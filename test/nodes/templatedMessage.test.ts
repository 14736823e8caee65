/* The Templated Message node in the workflow harness: real SMTP on loopback, provider fakes reached
 * through httpRequestWithAuthentication and each credential's own `authenticate`, the referral
 * ledger on SQLite and PostgreSQL for replays and suppression, and the four outputs. */
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { ICredentialType, IDataObject, IHttpRequestOptions } from 'n8n-workflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeAllLedgers, openLedger } from '../../engine/ledger';
import { checkQuietHours, renderEmail, renderSms } from '../../engine/messaging';
import { HarnessCredentialsHelper } from '../harness/credentials';
import { loadPackage, runWorkflow, singleNodeWorkflow } from '../harness';
import { startHttpFake, type HttpFake, type RecordedRequest } from '../fakes/http';
import {
	startMailgunFake,
	startPlivoFake,
	startPostmarkFake,
	startResendFake,
	startSendGridFake,
	startTelnyxFake,
	startTwilioFake,
	startVonageFake,
	type ProviderFake,
} from '../fakes/providers';
import { startSmtpServer, type SmtpTestServer } from '../fakes/smtpServer';
import { IN_CI, PG_URL, pgAvailability } from '../support/databases';
import { withPgSchema } from './ledgerBackends';

const { available: pgAvailable, problem: pgProblem } = pgAvailability();

const EMAIL_TEMPLATE = {
	subject: '{{referrer}} sent you {{formatCurrency amount "EUR"}}',
	html: '<p>Hi {{name}},</p><p>Use <b>{{code}}</b> at checkout.</p>',
};
const SMS_TEMPLATE =
	'Hi {{name}}, {{referrer}} gave you {{formatCurrency amount "EUR"}} – use code {{code}}';
const person = (n: number, extra: IDataObject = {}): IDataObject => ({
	email: `friend${n}@example.test`,
	phone: `+1415555${String(2600 + n)}`,
	name: `Friend ${n}`,
	referrer: 'Bob',
	amount: 10,
	code: `K7QM${n}`,
	...extra,
});

interface Fakes {
	smtp: SmtpTestServer;
	sendgrid: ProviderFake;
	mailgun: ProviderFake;
	postmark: ProviderFake;
	resend: ProviderFake;
	twilio: ProviderFake;
	vonage: ProviderFake;
	plivo: ProviderFake;
	telnyx: ProviderFake;
}

let fakes: Fakes;
const ACCOUNT_SID = 'AC' + '0'.repeat(32);

beforeAll(async () => {
	const [smtp, sendgrid, mailgun, postmark, resend, twilio, vonage, plivo, telnyx] =
		await Promise.all([
			startSmtpServer({ auth: { user: 'mailer', password: 'smtp-secret' } }),
			startSendGridFake(),
			startMailgunFake(),
			startPostmarkFake(),
			startResendFake(),
			startTwilioFake({ accountSid: ACCOUNT_SID, authToken: 'twilio-token' }),
			startVonageFake(),
			startPlivoFake(),
			startTelnyxFake(),
		]);
	fakes = { smtp, sendgrid, mailgun, postmark, resend, twilio, vonage, plivo, telnyx };
});

afterAll(async () => {
	await closeAllLedgers();
	if (fakes) await Promise.all(Object.values(fakes).map((fake) => fake.close()));
});

/** Provider credentials as the user would fill them in, pointing at the loopback fakes. */
function providerCredentials(): Record<string, IDataObject> {
	return {
		referralSmtpApi: {
			host: fakes.smtp.host,
			port: fakes.smtp.port,
			secure: false,
			user: 'mailer',
			password: 'smtp-secret',
		},
		referralSendGridApi: { apiKey: 'SG.test-key', baseUrl: fakes.sendgrid.url },
		referralMailgunApi: {
			apiKey: 'key-test',
			domain: 'mg.example.test',
			baseUrl: fakes.mailgun.url,
		},
		referralPostmarkApi: { serverToken: 'server-token-test', baseUrl: fakes.postmark.url },
		referralResendApi: { apiKey: 're_test_key', baseUrl: fakes.resend.url },
		referralTwilioApi: {
			authType: 'authToken',
			accountSid: ACCOUNT_SID,
			authToken: 'twilio-token',
			baseUrl: fakes.twilio.url,
		},
		referralVonageApi: {
			apiKey: 'vonage-key',
			apiSecret: 'vonage-secret',
			baseUrl: fakes.vonage.url,
		},
		referralPlivoApi: {
			authId: 'MAXXXXXXXXXXXXXXXXXX',
			authToken: 'plivo-token',
			baseUrl: fakes.plivo.url,
		},
		referralTelnyxApi: { apiKey: 'KEYtelnyx', baseUrl: fakes.telnyx.url },
	};
}

function sqliteLedger(): IDataObject {
	return {
		backend: 'sqlite',
		path: path.join(mkdtempSync(path.join(os.tmpdir(), 'rm-messages-')), 'ledger.sqlite'),
	};
}

interface RunSpec {
	parameters: IDataObject;
	items: IDataObject[];
	ledger?: IDataObject;
	continueOnFail?: boolean;
	credentials?: Record<string, IDataObject>;
}

async function run(spec: RunSpec) {
	const credentials = {
		...providerCredentials(),
		...spec.credentials,
		...(spec.ledger ? { referralLedgerApi: spec.ledger } : {}),
	};
	const refs = Object.fromEntries(
		Object.keys(credentials).map((type) => [type, { id: `id-${type}`, name: type }]),
	);
	return await runWorkflow(
		singleNodeWorkflow(
			{
				type: 'templatedMessage',
				parameters: spec.parameters,
				continueOnFail: spec.continueOnFail,
				credentials: refs,
			} as never,
			spec.items,
		),
		{ credentials: credentials as never },
	);
}

/** The four outputs' JSON: Sent, Skipped, Deferred, Failed. */
function outputs(result: Awaited<ReturnType<typeof run>>) {
	return {
		sent: result.json('Node', 0),
		skipped: result.json('Node', 1),
		deferred: result.json('Node', 2),
		failed: result.json('Node', 3),
	};
}

const delivery = (json: IDataObject) => json.delivery as IDataObject;
const sendEmailParameters = (provider: string, extra: IDataObject = {}): IDataObject => ({
	resource: 'email',
	operation: 'send',
	emailProvider: provider,
	from: 'Acme Rewards <rewards@example.test>',
	emailField: 'email',
	...EMAIL_TEMPLATE,
	...extra,
});
const sendSmsParameters = (provider: string, extra: IDataObject = {}): IDataObject => ({
	resource: 'sms',
	operation: 'send',
	smsProvider: provider,
	smsFrom: '+14155550100',
	phoneField: 'phone',
	category: 'transactional',
	smsText: SMS_TEMPLATE,
	...extra,
});

/** Nothing the engine puts where a secret would go may leave the machine: the credential signs. */
function expectNoStandIn(requests: RecordedRequest[]) {
	for (const request of requests) {
		expect(JSON.stringify(request.headers)).not.toContain('signed-by-n8n');
		expect(request.rawBody).not.toContain('signed-by-n8n');
	}
}

describe('Templated Message node: loading', () => {
	it('is loaded from dist/ with its four outputs and a credential for every provider', async () => {
		const { packageNodeNames, credentialTypes, nodeTypes } = await loadPackage();
		expect(packageNodeNames).toContain('templatedMessage');
		const description = nodeTypes.getByNameAndVersion(
			'n8n-nodes-referral-marketing.templatedMessage',
			1,
		).description;
		expect(description.outputNames).toEqual(['Sent', 'Skipped', 'Deferred', 'Failed']);
		const named = (description.credentials ?? []).map((c) => c.name);
		for (const type of Object.keys(providerCredentials())) {
			expect(named).toContain(type);
			expect(credentialTypes[type], type).toBeDefined();
		}
		// Template fields never take expressions: n8n would eat the {{ }}.
		for (const name of ['subject', 'html', 'text', 'smsText']) {
			expect(description.properties.find((p) => p.name === name)?.noDataExpression, name).toBe(
				true,
			);
		}
	});
});

describe('Templated Message node: Render', () => {
	it('renders email exactly as the engine does, commercial footer and headers included, on the first output', async () => {
		const items = [person(1), person(2, { amount: 12.5 })];
		const commercial = {
			postalAddress: 'Acme Inc., 1 Main St, Springfield',
			unsubscribeUrl: 'https://shop.example.test/u',
		};
		const result = await run({
			parameters: {
				resource: 'email',
				operation: 'render',
				...EMAIL_TEMPLATE,
				commercial: true,
				...commercial,
				emailOptions: { strict: true },
			},
			items,
		});
		const rendered = result.json('Node', 0).map((j) => j.rendered as IDataObject);
		expect(rendered).toHaveLength(2);
		for (const [i, item] of items.entries()) {
			const expected = renderEmail({
				templates: { ...EMAIL_TEMPLATE, text: '' },
				data: item,
				settings: { strict: true },
				commercial,
			});
			expect(rendered[i]).toEqual({ channel: 'email', ...expected });
		}
		expect(rendered[1].subject).toBe('Bob sent you €12.50');
		expect(rendered[0].text).toContain('Use K7QM1 at checkout.');
		expect(rendered[0].headers).toMatchObject({
			'List-Unsubscribe': '<https://shop.example.test/u>',
			'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
		});
		expect(result.json('Node', 0)[0]).toMatchObject({ email: 'friend1@example.test' });
		expect(result.items('Node', 0)[1].pairedItem).toEqual({ item: 1 });
		for (const output of [1, 2, 3]) expect(result.json('Node', output)).toEqual([]);
	});

	it('renders SMS with encoding, characters, segments and warnings', async () => {
		const items = [person(1), person(2, { name: 'Zoë 😀' })];
		const result = await run({
			parameters: {
				resource: 'sms',
				operation: 'render',
				smsText: SMS_TEMPLATE,
				smsOptions: { stopFooter: 'Reply STOP to opt out' },
			},
			items,
		});
		const [plain, emoji] = result.json('Node', 0).map((j) => j.rendered as IDataObject);
		// The en dash is replaced (smart characters on by default), so the first stays GSM-7.
		const expected = renderSms({
			template: SMS_TEMPLATE,
			data: items[0],
			replaceSmartCharacters: true,
			stopFooter: 'Reply STOP to opt out',
		});
		expect(plain).toEqual({ channel: 'sms', ...expected });
		expect(plain).toMatchObject({ encoding: 'GSM-7', segments: 1, warnings: [] });
		expect(plain.text).toBe(
			'Hi Friend 1, Bob gave you €10.00 - use code K7QM1\nReply STOP to opt out',
		);
		expect(emoji).toEqual({
			channel: 'sms',
			...renderSms({
				template: SMS_TEMPLATE,
				data: items[1],
				replaceSmartCharacters: true,
				stopFooter: 'Reply STOP to opt out',
			}),
		});
		expect(emoji).toMatchObject({ encoding: 'UCS-2', nonGsmCharacters: ['ë', '😀', '–'] });
		expect((emoji.warnings as string[])[0]).toContain('UCS-2');
	});

	it('reads templates and data from item fields when told to', async () => {
		const result = await run({
			parameters: {
				resource: 'email',
				operation: 'render',
				templateSource: 'fields',
				subjectField: 'tpl.subject',
				htmlField: 'tpl.html',
				dataFrom: 'field',
				dataField: 'vars',
			},
			items: [
				{
					tpl: { subject: 'Hello {{who}}', html: '<p>{{who}} &amp; co</p>' },
					vars: { who: 'Ann' },
				},
			],
		});
		expect(result.json('Node', 0)[0].rendered).toMatchObject({
			subject: 'Hello Ann',
			html: '<p>Ann &amp; co</p>',
			text: 'Ann & co',
			textDerived: true,
		});
	});
});

describe('Templated Message node: sending email', () => {
	it('sends through SMTP once per recipient; a replay on the same ledger sends nothing', async () => {
		const ledger = sqliteLedger();
		const before = fakes.smtp.messages.length;
		const parameters = sendEmailParameters('smtp', {
			sendOptions: { templateName: 'reward-v1', identityField: 'code' },
		});
		const first = outputs(await run({ parameters, items: [person(1), person(2)], ledger }));
		expect(first.sent.map((j) => delivery(j).outcome)).toEqual(['sent', 'sent']);
		expect(delivery(first.sent[0])).toMatchObject({
			provider: 'SMTP',
			recipient: 'friend1@example.test',
			attempts: 1,
			subject: 'Bob sent you €10.00',
		});
		const mails = (await fakes.smtp.waitForMessages(before + 2)).slice(before);
		expect(mails.map((m) => m.parsed.subject)).toEqual([
			'Bob sent you €10.00',
			'Bob sent you €10.00',
		]);
		expect(mails[0].user).toBe('mailer');
		expect(mails[1].envelope).toEqual({
			from: 'rewards@example.test',
			to: ['friend2@example.test'],
		});
		expect(mails[1].parsed.text).toContain('Use K7QM2 at checkout.');
		// The message key becomes the Message-ID, so a stray duplicate is recognisable.
		expect(mails[0].parsed.messageId).toBe(
			`<${delivery(first.sent[0]).idempotencyKey}@example.test>`,
		);

		const replay = outputs(await run({ parameters, items: [person(1), person(2)], ledger }));
		expect(replay.sent).toEqual([]);
		expect(replay.skipped.map((j) => delivery(j))).toMatchObject([
			{
				outcome: 'skipped',
				reason: 'duplicate',
				idempotencyKey: delivery(first.sent[0]).idempotencyKey,
			},
			{
				outcome: 'skipped',
				reason: 'duplicate',
				idempotencyKey: delivery(first.sent[1]).idempotencyKey,
			},
		]);
		expect(fakes.smtp.messages.length).toBe(before + 2);
	});

	for (const [provider, fakeOf] of [
		['sendgrid', () => fakes.sendgrid],
		['mailgun', () => fakes.mailgun],
		['postmark', () => fakes.postmark],
		['resend', () => fakes.resend],
	] as const) {
		it(`sends through ${provider}, signed by the credential's authenticate`, async () => {
			const fake = fakeOf();
			const before = fake.requests.length;
			const result = outputs(
				await run({
					parameters: sendEmailParameters(provider),
					items: [person(7)],
					ledger: sqliteLedger(),
				}),
			);
			expect(result.failed).toEqual([]);
			expect(delivery(result.sent[0])).toMatchObject({
				outcome: 'sent',
				providerMessageId: fake.acceptedIds.at(-1),
				recipient: 'friend7@example.test',
			});
			const requests = fake.requests.slice(before);
			expect(requests).toHaveLength(1);
			expectNoStandIn(requests);
			expect(JSON.stringify(requests[0].form ?? requests[0].json)).toContain(
				'friend7@example.test',
			);
		});
	}

	it("a permanent provider refusal goes to Failed with the provider's words, and the key is free for a later run", async () => {
		const ledger = sqliteLedger();
		fakes.sendgrid.script(fakes.sendgrid.failures.permanent());
		const first = outputs(
			await run({ parameters: sendEmailParameters('sendgrid'), items: [person(3)], ledger }),
		);
		expect(first.sent).toEqual([]);
		expect(delivery(first.failed[0])).toMatchObject({
			outcome: 'failed',
			reason: 'permanent',
			attempts: 1,
			error: { kind: 'permanent', status: 403 },
		});
		expect(delivery(first.failed[0]).detail).toContain(fakes.sendgrid.permanentText);
		const again = outputs(
			await run({ parameters: sendEmailParameters('sendgrid'), items: [person(3)], ledger }),
		);
		expect(delivery(again.sent[0])).toMatchObject({ outcome: 'sent' });
	});

	it("retries a 5xx through n8n's HTTP client and sends; an unreachable provider fails as retryable", async () => {
		fakes.postmark.script(fakes.postmark.failures.serverError());
		const retried = outputs(
			await run({
				parameters: sendEmailParameters('postmark', {
					sendOptions: { maxAttempts: 3, retryBudgetSeconds: 10 },
				}),
				items: [person(4)],
				ledger: sqliteLedger(),
			}),
		);
		expect(delivery(retried.sent[0])).toMatchObject({ outcome: 'sent', attempts: 2 });

		const closed = await startHttpFake(() => ({ status: 200 }));
		const deadUrl = closed.url;
		await closed.close();
		const unreachable = outputs(
			await run({
				parameters: sendEmailParameters('resend', {
					sendOptions: { maxAttempts: 1, timeoutSeconds: 2 },
				}),
				items: [person(5)],
				ledger: sqliteLedger(),
				credentials: { referralResendApi: { apiKey: 're_test_key', baseUrl: deadUrl } },
			}),
		);
		expect(delivery(unreachable.failed[0])).toMatchObject({
			outcome: 'failed',
			reason: 'retryable',
			attempts: 1,
		});
		expect(delivery(unreachable.failed[0]).detail).toMatch(/^Resend could not be reached/);
	});
});

describe('Templated Message node: parallel sends', () => {
	/** A SendGrid-shaped server that answers after a delay and counts the requests in flight. */
	async function slowServer(delayMs: number) {
		let inFlight = 0;
		let most = 0;
		const recipients: string[] = [];
		const server = createServer((request, response) => {
			let body = '';
			request.on('data', (chunk) => (body += chunk));
			request.on('end', () => {
				inFlight++;
				most = Math.max(most, inFlight);
				recipients.push(JSON.parse(body).personalizations[0].to[0].email);
				setTimeout(() => {
					inFlight--;
					response.writeHead(202, { 'x-message-id': `id-${recipients.length}` });
					response.end();
				}, delayMs);
			});
		});
		await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
		return {
			url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
			most: () => most,
			recipients,
			close: () => new Promise<void>((resolve) => server.close(() => resolve())),
		};
	}

	it('sends Parallel Sends messages at once and keeps the input order on the outputs', async () => {
		const slow = await slowServer(80);
		try {
			const items = Array.from({ length: 8 }, (_, i) => person(i + 1));
			const result = await run({
				parameters: sendEmailParameters('sendgrid', { sendOptions: { parallelSends: 4 } }),
				items,
				ledger: sqliteLedger(),
				credentials: { referralSendGridApi: { apiKey: 'SG.test-key', baseUrl: slow.url } },
			});
			expect(slow.most()).toBe(4);
			expect(outputs(result).sent.map((j) => delivery(j).recipient)).toEqual(
				items.map((item) => item.email),
			);
			expect(
				result.items('Node', 0).map((item) => (item.pairedItem as { item: number }).item),
			).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
		} finally {
			await slow.close();
		}
	});

	it('one at a time by default; a bad item stops the run and nothing after it starts', async () => {
		const slow = await slowServer(5);
		try {
			const items = [person(1), person(2, { email: 'broken' }), person(3), person(4)];
			const result = await run({
				parameters: sendEmailParameters('sendgrid'),
				items,
				ledger: sqliteLedger(),
				credentials: { referralSendGridApi: { apiKey: 'SG.test-key', baseUrl: slow.url } },
			});
			expect(result.error('Node')?.message).toContain('[item 1]');
			expect(slow.most()).toBe(1);
			expect(slow.recipients).toEqual(['friend1@example.test']);
		} finally {
			await slow.close();
		}
	});
});

describe('Templated Message node: sending SMS', () => {
	for (const [provider, fakeOf] of [
		['twilio', () => fakes.twilio],
		['vonage', () => fakes.vonage],
		['plivo', () => fakes.plivo],
		['telnyx', () => fakes.telnyx],
	] as const) {
		it(`sends through ${provider}, signed by the credential's authenticate`, async () => {
			const fake = fakeOf();
			const before = fake.requests.length;
			const result = outputs(
				await run({
					parameters: sendSmsParameters(provider),
					items: [person(8)],
					ledger: sqliteLedger(),
				}),
			);
			expect(result.failed).toEqual([]);
			expect(delivery(result.sent[0])).toMatchObject({
				outcome: 'sent',
				provider: provider[0].toUpperCase() + provider.slice(1),
				recipient: '+14155552608',
				providerMessageId: fake.acceptedIds.at(-1),
				sms: { encoding: 'GSM-7', segments: 1 },
			});
			const requests = fake.requests.slice(before);
			expect(requests).toHaveLength(1);
			expectNoStandIn(requests);
		});
	}

	it('Twilio with an API key signs with the key SID and secret', async () => {
		const keyed = await startTwilioFake({ accountSid: ACCOUNT_SID, authToken: 'key-secret' });
		try {
			// The fake checks Basic <accountSid>:<token>, so a key pair whose SID is the account SID stands in for a real key.
			const result = outputs(
				await run({
					parameters: sendSmsParameters('twilio'),
					items: [person(9)],
					ledger: sqliteLedger(),
					credentials: {
						referralTwilioApi: {
							authType: 'apiKey',
							accountSid: ACCOUNT_SID,
							apiSid: ACCOUNT_SID,
							apiKeySecret: 'key-secret',
							authToken: 'wrong',
							baseUrl: keyed.url,
						},
					},
				}),
			);
			expect(delivery(result.sent[0])).toMatchObject({ outcome: 'sent' });
			expect(keyed.requests[0].headers.authorization).toBe(
				'Basic ' + Buffer.from(`${ACCOUNT_SID}:key-secret`).toString('base64'),
			);
		} finally {
			await keyed.close();
		}
	});

	it('marketing SMS without consent is skipped with the reason; with consent it goes', async () => {
		const result = outputs(
			await run({
				parameters: sendSmsParameters('twilio', { category: 'marketing', consentField: 'optIn' }),
				items: [person(10, { optIn: 'TRUE' }), person(11, { optIn: false }), person(12)],
				ledger: sqliteLedger(),
			}),
		);
		expect(result.sent.map((j) => delivery(j).recipient)).toEqual(['+14155552610']);
		expect(result.skipped.map((j) => delivery(j))).toMatchObject([
			{ reason: 'no_consent', recipient: '+14155552611' },
			{ reason: 'no_consent', recipient: '+14155552612' },
		]);
	});
	it('marketing texts carry the opt-out line unless the option says otherwise; transactional texts do not', async () => {
		const bodies = async (extra: IDataObject, id: number) => {
			const before = fakes.twilio.requests.length;
			const result = outputs(
				await run({
					parameters: sendSmsParameters('twilio', extra),
					items: [person(id, { optIn: true })],
					ledger: sqliteLedger(),
				}),
			);
			expect(result.sent).toHaveLength(1);
			return fakes.twilio.requests.slice(before).map((r) => r.form?.Body ?? '');
		};
		const marketing = { category: 'marketing', consentField: 'optIn' };
		const [withDefault] = await bodies(marketing, 20);
		expect(withDefault.endsWith('\nReply STOP to opt out')).toBe(true);
		const [own] = await bodies(
			{ ...marketing, smsOptions: { stopFooter: 'Text STOP to end' } },
			21,
		);
		expect(own.endsWith('\nText STOP to end')).toBe(true);
		expect(own).not.toContain('Reply STOP');
		const [none] = await bodies({ ...marketing, smsOptions: { stopFooter: '' } }, 22);
		expect(none).not.toMatch(/STOP/);
		const [transactional] = await bodies({}, 23);
		expect(transactional).not.toMatch(/STOP/);
	});
});

describe('Templated Message node: suppression list', () => {
	it('Unsubscribe skips later sends with the reason; Resubscribe lets them go again', async () => {
		const ledger = sqliteLedger();
		const unsub = await run({
			parameters: {
				resource: 'email',
				operation: 'unsubscribe',
				emailField: 'address',
				reason: 'unsubscribe link',
			},
			items: [{ address: 'Friend1@Example.test' }],
			ledger,
		});
		expect(unsub.json('Node', 0)[0].subscription).toEqual({
			channel: 'email',
			address: 'friend1@example.test',
			suppressed: true,
			reason: 'unsubscribe link',
		});

		const before = fakes.sendgrid.requests.length;
		const blocked = outputs(
			await run({
				parameters: sendEmailParameters('sendgrid'),
				items: [person(1), person(2)],
				ledger,
			}),
		);
		expect(blocked.skipped.map((j) => delivery(j))).toMatchObject([
			{ reason: 'suppressed', detail: 'On the suppression list: unsubscribe link', attempts: 0 },
		]);
		expect(blocked.sent.map((j) => delivery(j).recipient)).toEqual(['friend2@example.test']);
		expect(fakes.sendgrid.requests.length).toBe(before + 1);

		const resub = await run({
			parameters: { resource: 'email', operation: 'resubscribe', emailField: 'email' },
			items: [person(1), person(3)],
			ledger,
		});
		expect(resub.json('Node', 0).map((j) => j.subscription)).toEqual([
			{ channel: 'email', address: 'friend1@example.test', suppressed: false, wasSuppressed: true },
			{
				channel: 'email',
				address: 'friend3@example.test',
				suppressed: false,
				wasSuppressed: false,
			},
		]);
		const again = outputs(
			await run({ parameters: sendEmailParameters('sendgrid'), items: [person(1)], ledger }),
		);
		expect(delivery(again.sent[0])).toMatchObject({
			outcome: 'sent',
			recipient: 'friend1@example.test',
		});
	});

	it('an SMS opt-out written as a national number blocks the E.164 recipient; a provider STOP joins the list', async () => {
		const ledger = sqliteLedger();
		await run({
			parameters: {
				resource: 'sms',
				operation: 'unsubscribe',
				phoneField: 'phone',
				defaultCountry: 'US',
				reason: 'replied STOP',
			},
			items: [{ phone: '(415) 555-2601' }],
			ledger,
		});
		fakes.twilio.script(fakes.twilio.failures.suppressed!());
		const result = outputs(
			await run({ parameters: sendSmsParameters('twilio'), items: [person(1), person(2)], ledger }),
		);
		expect(result.skipped.map((j) => delivery(j))).toMatchObject([
			{ reason: 'suppressed', recipient: '+14155552601', attempts: 0 },
			{
				reason: 'suppressed',
				recipient: '+14155552602',
				attempts: 1,
				error: { providerCode: '21610' },
			},
		]);
		const store = await openLedger({ backend: 'sqlite', path: String(ledger.path) });
		expect(await store.getSuppression({ channel: 'sms', address: '+14155552602' })).toMatchObject({
			reason: 'Twilio 21610: recipient refused by the provider',
		});
	});
});

/** A time zone where the clock now reads inside 08:00–21:00, and one where it reads outside. */
function zones(): { open: string; closed: string } {
	const now = new Date();
	const candidates = Array.from({ length: 25 }, (_, i) => i - 12).map((offset) =>
		offset === 0 ? 'UTC' : `Etc/GMT${offset > 0 ? '+' : '-'}${Math.abs(offset)}`,
	);
	const open = candidates.find((timeZone) => checkQuietHours(now, { timeZone }).allowed)!;
	const closed = candidates.find((timeZone) => !checkQuietHours(now, { timeZone }).allowed)!;
	return { open, closed };
}

describe('Templated Message node: quiet hours and the four outputs', () => {
	it("defers a message in the recipient's quiet hours with the time it may go, without calling the provider", async () => {
		const { open, closed } = zones();
		const before = fakes.telnyx.requests.length;
		const result = outputs(
			await run({
				parameters: sendSmsParameters('telnyx', {
					quietHours: true,
					timeZoneField: 'tz',
					defaultTimeZone: open,
				}),
				items: [person(1, { tz: closed }), person(2)],
				ledger: sqliteLedger(),
			}),
		);
		const expected = checkQuietHours(new Date(), { timeZone: closed });
		expect(expected.allowed).toBe(false);
		expect(result.deferred.map((j) => delivery(j))).toEqual([
			expect.objectContaining({
				outcome: 'deferred',
				reason: 'quiet_hours',
				attempts: 0,
				deferUntil: (expected as { deferUntil: Date }).deferUntil.toISOString(),
			}),
		]);
		expect(result.sent.map((j) => delivery(j).recipient)).toEqual(['+14155552602']);
		expect(fakes.telnyx.requests.length).toBe(before + 1);
	});

	it('with Continue On Fail every item lands on exactly one output, and a rerun loses nothing and sends nothing twice', async () => {
		const { open, closed } = zones();
		const ledger = sqliteLedger();
		await run({
			parameters: { resource: 'email', operation: 'unsubscribe', emailField: 'email' },
			items: [person(3)],
			ledger,
		});
		// Friend 1 is refused by the provider, 2 goes, 3 is suppressed, 4 is in quiet hours, 5 has no valid address.
		const items = [
			person(1, { tz: open }),
			person(2, { tz: open }),
			person(3, { tz: open }),
			person(4, { tz: closed }),
			person(5, { tz: open, email: 'not an address' }),
		];
		const parameters = sendEmailParameters('sendgrid', { quietHours: true, timeZoneField: 'tz' });
		fakes.sendgrid.script(fakes.sendgrid.failures.permanent());

		const first = await run({ parameters, items, ledger, continueOnFail: true });
		const out = outputs(first);
		expect(
			out.failed.map((j) => (j.delivery ? delivery(j).reason : (j.error as IDataObject).code)),
		).toEqual(['permanent', 'invalid_email_address']);
		expect(out.failed[1].error).toMatchObject({ field: 'to', parameter: 'Email Field' });
		expect(String((out.failed[1].error as IDataObject).message)).toContain('[item 4]');
		expect(out.sent.map((j) => delivery(j).recipient)).toEqual(['friend2@example.test']);
		expect(out.skipped.map((j) => delivery(j).reason)).toEqual(['suppressed']);
		expect(out.deferred.map((j) => delivery(j).recipient)).toEqual(['friend4@example.test']);
		const paired = [0, 1, 2, 3]
			.flatMap((o) =>
				first.items('Node', o).map((item) => (item.pairedItem as { item: number }).item),
			)
			.sort();
		expect(paired).toEqual([0, 1, 2, 3, 4]);

		const before = fakes.sendgrid.requests.length;
		const rerun = outputs(await run({ parameters, items, ledger, continueOnFail: true }));
		// The refused message may go again; the sent one is a duplicate; the rest are where they were.
		expect(rerun.sent.map((j) => delivery(j).recipient)).toEqual(['friend1@example.test']);
		expect(rerun.skipped.map((j) => delivery(j).reason)).toEqual(['duplicate', 'suppressed']);
		expect(rerun.deferred).toHaveLength(1);
		expect(rerun.failed.map((j) => (j.error as IDataObject).code)).toEqual([
			'invalid_email_address',
		]);
		expect(fakes.sendgrid.requests.length).toBe(before + 1);
	});
});

describe('Templated Message node: bad input', () => {
	it('a missing variable stops the run at that item, naming the item and the parameter', async () => {
		const before = fakes.sendgrid.requests.length;
		const result = await run({
			parameters: sendEmailParameters('sendgrid', {
				subject: 'Hi {{firstName}}',
				emailOptions: { strict: true },
			}),
			items: [person(1, { firstName: 'Ann' }), person(2)],
			ledger: sqliteLedger(),
		});
		const error = result.error('Node');
		expect(error?.message).toContain('Missing variable "firstName" in the subject template');
		expect(error?.message).toContain('[item 1]');
		expect(error?.description).toBe('Check "Subject" for item 1.');
		// Item 0 went before item 1 failed; the replay rule keeps it from going twice on a retry.
		expect(fakes.sendgrid.requests.length).toBe(before + 1);
	});

	it('a template syntax error and a bad phone number name their parameters', async () => {
		const syntax = await run({
			parameters: {
				resource: 'email',
				operation: 'render',
				subject: 'Hi {{#if name}}',
				html: '<p/>',
			},
			items: [person(1)],
		});
		expect(syntax.error('Node')?.message).toMatch(
			/subject template has a syntax error.*\[item 0\]/,
		);
		expect(syntax.error('Node')?.description).toBe('Check "Subject" for item 0.');

		const phone = await run({
			parameters: sendSmsParameters('twilio'),
			items: [person(1, { phone: '555-0199' })],
			ledger: sqliteLedger(),
		});
		expect(phone.error('Node')?.message).toContain('is not a valid phone number');
		expect(phone.error('Node')?.description).toBe('Check "Phone Field" for item 0.');
	});

	it('with Continue On Fail a Render error stays with its item on the first output', async () => {
		const result = await run({
			parameters: {
				resource: 'sms',
				operation: 'render',
				smsText: 'Hi {{name}} {{missing}}',
				smsOptions: { strict: true },
			},
			items: [person(1, { missing: 'x' }), person(2)],
			continueOnFail: true,
		});
		const [ok, bad] = result.json('Node', 0);
		expect(ok.rendered).toMatchObject({ text: 'Hi Friend 1 x' });
		expect(bad.error).toMatchObject({ code: 'missing_variable', parameter: 'SMS Body' });
	});
});

const backends: Array<
	[string, boolean, () => Promise<{ ledger: IDataObject; cleanup: () => Promise<void> }>]
> = [
	['SQLite', true, async () => ({ ledger: sqliteLedger(), cleanup: async () => {} })],
	[
		'PostgreSQL',
		pgAvailable || IN_CI,
		async () => {
			const { credential, cleanup } = await withPgSchema();
			return { ledger: credential as IDataObject, cleanup };
		},
	],
];

for (const [name, enabled, open] of backends) {
	describe.skipIf(!enabled)(`Templated Message node: replays on ${name}`, () => {
		it('a replayed execution does not send again; another item does', async () => {
			if (name === 'PostgreSQL' && !pgAvailable)
				throw new Error(`PostgreSQL is unreachable at ${PG_URL}: ${pgProblem}`);
			const { ledger, cleanup } = await open();
			try {
				const before = fakes.vonage.requests.length;
				const parameters = sendSmsParameters('vonage');
				const first = outputs(await run({ parameters, items: [person(1), person(2)], ledger }));
				const replay = outputs(
					await run({ parameters, items: [person(2), person(1), person(3)], ledger }),
				);
				expect(first.sent).toHaveLength(2);
				expect(replay.skipped.map((j) => [delivery(j).reason, delivery(j).recipient])).toEqual([
					['duplicate', '+14155552602'],
					['duplicate', '+14155552601'],
				]);
				expect(replay.sent.map((j) => delivery(j).recipient)).toEqual(['+14155552603']);
				expect(fakes.vonage.requests.length).toBe(before + 3);
			} finally {
				await cleanup();
			}
		});
	});
}

describe('Templated Message credentials: the Test button', () => {
	/** Resolves `={{$credentials.x}}` and `=/a/{{$credentials.x}}` as n8n does for these simple forms. */
	const resolve = (value: string | undefined, data: IDataObject) =>
		value?.startsWith('=')
			? value
					.slice(1)
					.replace(/\{\{\s*\$credentials\.(\w+)\s*\}\}/g, (_m, key: string) =>
						String(data[key] ?? ''),
					)
			: value;

	it('each HTTP credential tests with an authenticated GET on its base URL', async () => {
		const { credentialTypes } = await loadPackage();
		const seen: RecordedRequest[] = [];
		const server: HttpFake = await startHttpFake((request) => {
			seen.push(request);
			return { status: 200, body: {} };
		});
		try {
			const helper = new HarnessCredentialsHelper({}, credentialTypes);
			const expected: Record<string, { path: string; auth: (r: RecordedRequest) => boolean }> = {
				referralSendGridApi: {
					path: '/v3/scopes',
					auth: (r) => r.headers.authorization === 'Bearer SG.test-key',
				},
				referralMailgunApi: {
					path: '/v4/domains/mg.example.test',
					auth: (r) =>
						r.headers.authorization === 'Basic ' + Buffer.from('api:key-test').toString('base64'),
				},
				referralPostmarkApi: {
					path: '/server',
					auth: (r) => r.headers['x-postmark-server-token'] === 'server-token-test',
				},
				referralResendApi: {
					path: '/domains',
					auth: (r) => r.headers.authorization === 'Bearer re_test_key',
				},
				referralTwilioApi: {
					path: `/2010-04-01/Accounts/${ACCOUNT_SID}.json`,
					auth: (r) =>
						r.headers.authorization ===
						'Basic ' + Buffer.from(`${ACCOUNT_SID}:twilio-token`).toString('base64'),
				},
				referralVonageApi: {
					path: '/account/get-balance?api_key=vonage-key&api_secret=vonage-secret',
					auth: () => true,
				},
				referralPlivoApi: {
					path: '/v1/Account/MAXXXXXXXXXXXXXXXXXX/',
					auth: (r) =>
						r.headers.authorization ===
						'Basic ' + Buffer.from('MAXXXXXXXXXXXXXXXXXX:plivo-token').toString('base64'),
				},
				referralTelnyxApi: {
					path: '/v2/balance',
					auth: (r) => r.headers.authorization === 'Bearer KEYtelnyx',
				},
			};
			for (const [type, data] of Object.entries(providerCredentials())) {
				if (type === 'referralSmtpApi') continue;
				const credential = credentialTypes[type] as ICredentialType;
				const test = credential.test!.request;
				const pointed = { ...data, baseUrl: server.url };
				const options: IHttpRequestOptions = {
					method: test.method ?? 'GET',
					url: `${resolve(test.baseURL, pointed)}${resolve(test.url, pointed)}`,
					headers: {},
				};
				const signed = await helper.authenticate(pointed as never, type, options);
				const url = new URL(signed.url);
				for (const [key, value] of Object.entries(signed.qs ?? {}))
					url.searchParams.set(key, String(value));
				const headers: Record<string, string> = Object.fromEntries(
					Object.entries(signed.headers ?? {}).map(([k, v]) => [k, String(v)]),
				);
				if (signed.auth)
					headers.authorization =
						'Basic ' +
						Buffer.from(`${signed.auth.username}:${signed.auth.password}`).toString('base64');
				const response = await fetch(url, { method: signed.method, headers });
				expect(response.status, type).toBe(200);
				const request = seen.at(-1)!;
				expect(request.method, type).toBe('GET');
				expect(request.path, type).toBe(expected[type].path);
				expect(expected[type].auth(request), `${type} signs its test request`).toBe(true);
			}
		} finally {
			await server.close();
		}
	});

	it('the SMTP credential test logs in, and says why when it cannot', async () => {
		const { nodeTypes } = await loadPackage();
		const node = nodeTypes.getByNameAndVersion(
			'n8n-nodes-referral-marketing.templatedMessage',
			1,
		) as unknown as {
			methods: {
				credentialTest: Record<
					string,
					(this: unknown, credential: unknown) => Promise<{ status: string; message: string }>
				>;
			};
		};
		const test = node.methods.credentialTest.referralSmtpConnectionTest;
		const good = providerCredentials().referralSmtpApi;
		expect(
			await test.call({}, { id: '1', name: 'SMTP', type: 'referralSmtpApi', data: good }),
		).toEqual({
			status: 'OK',
			message: `Connected to ${fakes.smtp.host}:${fakes.smtp.port} and logged in`,
		});
		const bad = await test.call(
			{},
			{ id: '1', name: 'SMTP', type: 'referralSmtpApi', data: { ...good, password: 'wrong' } },
		);
		expect(bad.status).toBe('Error');
		expect(bad.message).toContain('SMTP login failed');
		expect(bad.message).not.toContain('wrong');
	});
});
