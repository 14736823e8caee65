/* The Templated Message node in real n8n 2.40.7: credentials imported through the n8n CLI, so n8n's
 * own credentials helper signs every provider request (httpRequestWithAuthentication), each
 * provider answered by its loopback fake; the workflow runs by hand in a running n8n as the editor
 * runs it, and a second run sends nothing; every credential's Test button passes through n8n's REST API. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain ESM script without types
import * as n8n from '../../scripts/n8n.mjs';
import { startHttpFake } from '../fakes/http';
import {
	startMailgunFake,
	startPlivoFake,
	startPostmarkFake,
	startResendFake,
	startSendGridFake,
	startTelnyxFake,
	startTwilioFake,
	startVonageFake,
} from '../fakes/providers';
import { startSmtpServer } from '../fakes/smtpServer';

const ACCOUNT_SID = 'AC' + '0'.repeat(32);

const cleanups: Array<() => Promise<void> | void> = [];
afterAll(async () => {
	for (const cleanup of cleanups.reverse()) await cleanup();
});

describe('Templated Message in real n8n', () => {
	const smtpAuth = { user: 'mailer', password: 'smtp-secret' };
	let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
	let f: Record<
		'sendgrid' | 'mailgun' | 'postmark' | 'resend' | 'twilio' | 'vonage' | 'plivo' | 'telnyx',
		Awaited<ReturnType<typeof startSendGridFake>>
	>;
	let creds: Array<readonly [string, Record<string, unknown>]>;
	let server: { baseUrl: string; bin: string; stop: () => Promise<void> };
	const credId = (type: string) =>
		`cred${String(creds.findIndex(([t]) => t === type)).padStart(12, '0')}`;
	const nodes: any[] = [
		{
			id: 't',
			name: 'Start',
			type: 'n8n-nodes-base.manualTrigger',
			typeVersion: 1,
			position: [0, 0],
			parameters: {},
		},
	];

	// Fakes, credentials, the workflow and n8n itself: setup, under the hook timeout (minutes on a loaded machine).
	beforeAll(async () => {
		smtp = await startSmtpServer({ auth: smtpAuth });
		cleanups.push(() => smtp.close());
		f = {
			sendgrid: await startSendGridFake(),
			mailgun: await startMailgunFake(),
			postmark: await startPostmarkFake(),
			resend: await startResendFake(),
			twilio: await startTwilioFake({ accountSid: ACCOUNT_SID, authToken: 'twilio-token' }),
			vonage: await startVonageFake(),
			plivo: await startPlivoFake(),
			telnyx: await startTelnyxFake(),
		};
		for (const fake of Object.values(f)) cleanups.push(() => fake.close());
		const userFolder = mkdtempSync(path.join(os.tmpdir(), 'rm-msg-e2e-'));
		cleanups.push(() => rmSync(userFolder, { recursive: true, force: true }));
		creds = [
			['referralSmtpApi', { host: smtp.host, port: smtp.port, secure: false, ...smtpAuth }],
			['referralSendGridApi', { apiKey: 'SG.test-key', baseUrl: f.sendgrid.url }],
			[
				'referralMailgunApi',
				{ apiKey: 'key-test', domain: 'mg.example.test', baseUrl: f.mailgun.url },
			],
			['referralPostmarkApi', { serverToken: 'server-token-test', baseUrl: f.postmark.url }],
			['referralResendApi', { apiKey: 're_test_key', baseUrl: f.resend.url }],
			[
				'referralTwilioApi',
				{
					authType: 'authToken',
					accountSid: ACCOUNT_SID,
					authToken: 'twilio-token',
					baseUrl: f.twilio.url,
				},
			],
			[
				'referralVonageApi',
				{ apiKey: 'vonage-key', apiSecret: 'vonage-secret', baseUrl: f.vonage.url },
			],
			[
				'referralPlivoApi',
				{ authId: 'MAXXXXXXXXXXXXXXXXXX', authToken: 'plivo-token', baseUrl: f.plivo.url },
			],
			['referralTelnyxApi', { apiKey: 'KEYtelnyx', baseUrl: f.telnyx.url }],
			['referralLedgerApi', { backend: 'sqlite', path: path.join(userFolder, 'ledger.sqlite') }],
		] as const;
		const connections: any = {
			Start: { main: [[{ node: 'Items', type: 'main', index: 0 }]] },
			Items: { main: [[]] },
		};
		nodes.push({
			id: 'c',
			name: 'Items',
			type: 'n8n-nodes-base.code',
			typeVersion: 2,
			position: [150, 0],
			parameters: {
				jsCode:
					"return [{ json: { name: 'Ann', code: 'K7QM', email: 'ann@example.test', phone: '+14155552671' } }];",
			},
		});
		const email = {
			resource: 'email',
			operation: 'send',
			from: 'Acme <rewards@example.test>',
			subject: 'Hi {{name}}',
			html: '<p>Code {{code}}</p>',
		};
		const sms = {
			resource: 'sms',
			operation: 'send',
			smsFrom: '+14155550100',
			category: 'transactional',
			smsText: 'Hi {{name}}, code {{code}}',
		};
		const add = (name: string, parameters: any, credType: string) => {
			nodes.push({
				id: name,
				name,
				type: 'n8n-nodes-referral-marketing.templatedMessage',
				typeVersion: 1,
				position: [300, nodes.length * 120],
				parameters: { ...parameters, sendOptions: { templateName: name } },
				credentials: {
					[credType]: { id: credId(credType), name: credType },
					referralLedgerApi: { id: credId('referralLedgerApi'), name: 'referralLedgerApi' },
				},
			});
			connections.Items.main[0].push({ node: name, type: 'main', index: 0 });
		};
		for (const p of ['smtp', 'sendgrid', 'mailgun', 'postmark', 'resend'])
			add(
				`Email ${p}`,
				{ ...email, emailProvider: p },
				`referral${{ smtp: 'Smtp', sendgrid: 'SendGrid', mailgun: 'Mailgun', postmark: 'Postmark', resend: 'Resend' }[p]}Api`,
			);
		for (const p of ['twilio', 'vonage', 'plivo', 'telnyx'])
			add(`SMS ${p}`, { ...sms, smsProvider: p }, `referral${p[0].toUpperCase() + p.slice(1)}Api`);
		add(
			'Render',
			{
				resource: 'email',
				operation: 'render',
				subject: 'Hi {{name}}',
				html: '<p>Code <b>{{code}}</b></p>',
			},
			'referralSmtpApi',
		);
		const wfFile = path.join(userFolder, 'verify.json');
		writeFileSync(
			wfFile,
			JSON.stringify({
				id: 'rmMsgVerify00001',
				name: 'verify',
				active: false,
				nodes,
				connections,
				settings: {},
			}),
		);
		const credentials = creds.map(([type, data], i) => ({
			id: `cred${String(i).padStart(12, '0')}`,
			name: type,
			type,
			data,
		}));
		const { bin, env } = await n8n.prepareInstanceAsync(userFolder, {
			build: false,
			files: [wfFile],
			credentials,
		});
		server = await n8n.startN8n(bin, env);
		cleanups.push(() => server.stop());
		await n8n.ensureOwner(server.baseUrl);
	});

	it('sends through every provider with n8n signing the requests, once', async () => {
		const senders = nodes.slice(2).filter((node) => node.name !== 'Render');
		for (let run = 1; run <= 2; run++) {
			const out = await n8n.runWorkflow(server, 'rmMsgVerify00001');
			const runData = out.data.resultData.runData;
			for (const node of senders) {
				const task = runData[node.name]?.[0];
				expect(task?.error, node.name).toBeUndefined();
				const [sent, skipped] = task.data.main;
				if (run === 1) {
					expect(sent?.length, `${node.name} sent`).toBe(1);
					expect(sent[0].json.delivery).toMatchObject({ outcome: 'sent' });
				} else {
					expect(skipped?.length, `${node.name} skipped on the replay`).toBe(1);
					expect(skipped[0].json.delivery).toMatchObject({
						outcome: 'skipped',
						reason: 'duplicate',
					});
				}
			}
			const rendered = runData.Render[0].data.main[0][0].json.rendered;
			expect(rendered).toMatchObject({
				subject: 'Hi Ann',
				html: expect.stringContaining('<b>K7QM</b>'),
				text: expect.stringContaining('K7QM'),
			});
		}
		expect(smtp.messages).toHaveLength(1);
		for (const [name, fake] of Object.entries(f)) expect(fake.requests.length, name).toBe(1);
	});

	it("passes every credential test through n8n's REST API, and fails a wrong SMTP password", async () => {
		const cookie = await n8n.signIn(server.baseUrl);
		const testOne = async (type: string, data: object) => {
			const response = await fetch(`${server.baseUrl}/rest/credentials/test`, {
				method: 'POST',
				headers: { 'content-type': 'application/json', cookie, 'browser-id': 'e2e' },
				body: JSON.stringify({ credentials: { id: credId(type), name: type, type, data } }),
			});
			expect(response.status, type).toBe(200);
			return ((await response.json()) as { data: { status: string; message: string } }).data;
		};
		// The fakes answer only their send paths, so the test requests go to a server that records them.
		const recorder = await startHttpFake(() => ({ status: 200, body: {} }));
		cleanups.push(() => recorder.close());
		for (const [type, data] of creds) {
			if (type === 'referralLedgerApi') continue;
			const pointed = type === 'referralSmtpApi' ? data : { ...data, baseUrl: recorder.url };
			expect(await testOne(type, pointed), type).toMatchObject({ status: 'OK' });
		}
		expect((await testOne('referralSmtpApi', { ...creds[0][1], password: 'nope' })).status).toBe(
			'Error',
		);
	});
});
