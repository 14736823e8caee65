/* npm start's catcher: mail over SMTP and texts over a Twilio-compatible endpoint, both kept and
 * listed; a wrong credential is refused as Twilio refuses it. */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain ESM script without types
import { startMailCatcher } from '../../scripts/mail-catcher.mjs';
// @ts-expect-error plain ESM script without types
import * as n8n from '../../scripts/n8n.mjs';

describe('the local mail and SMS catcher of npm start', () => {
	let catcher: {
		messages: Array<Record<string, unknown>>;
		texts: Array<Record<string, unknown>>;
		close(): Promise<void>;
	};
	let smtpPort: number;
	let httpPort: number;
	const { accountSid, authToken } = n8n.LOCAL_SMS_ACCOUNT;
	const basic = (token: string) =>
		'Basic ' + Buffer.from(`${accountSid}:${token}`).toString('base64');
	const base = () => `http://127.0.0.1:${httpPort}/2010-04-01/Accounts/${accountSid}`;

	beforeAll(async () => {
		smtpPort = await n8n.freePort();
		httpPort = await n8n.freePort();
		catcher = await startMailCatcher({ smtpPort, httpPort, smsAccount: n8n.LOCAL_SMS_ACCOUNT });
	});

	afterAll(async () => {
		await catcher?.close();
	});

	it("keeps a text sent as Twilio expects it, answers with Twilio's message resource, and lists it", async () => {
		const response = await fetch(`${base()}/Messages.json`, {
			method: 'POST',
			headers: {
				authorization: basic(authToken),
				'content-type': 'application/x-www-form-urlencoded',
			},
			body: new URLSearchParams({
				To: '+14155550123',
				From: '+15005550006',
				Body: 'Hi <Ann>',
			}).toString(),
		});
		expect(response.status).toBe(201);
		const message = (await response.json()) as Record<string, unknown>;
		expect(message).toMatchObject({
			account_sid: accountSid,
			to: '+14155550123',
			body: 'Hi <Ann>',
			status: 'queued',
		});
		expect(String(message.sid)).toMatch(/^SM[0-9a-f]{32}$/);
		expect(await (await fetch(`http://127.0.0.1:${httpPort}/texts`)).json()).toMatchObject([
			{ sid: message.sid, to: '+14155550123', body: 'Hi <Ann>' },
		]);
		const page = await (await fetch(`http://127.0.0.1:${httpPort}/`)).text();
		expect(page).toContain('1 text(s)');
		expect(page).toContain('Hi &lt;Ann&gt;');
		expect(page).not.toContain('Hi <Ann>');
	});

	it('refuses a wrong token (20003) and a text without a body (21602), keeping nothing', async () => {
		const before = catcher.texts.length;
		const form = (fields: Record<string, string>, token = authToken) => ({
			method: 'POST',
			headers: { authorization: basic(token), 'content-type': 'application/x-www-form-urlencoded' },
			body: new URLSearchParams(fields).toString(),
		});
		const wrong = await fetch(
			`${base()}/Messages.json`,
			form({ To: '+14155550123', From: '+15005550006', Body: 'x' }, 'wrong'),
		);
		expect(wrong.status).toBe(401);
		expect(await wrong.json()).toMatchObject({ code: 20003 });
		const empty = await fetch(
			`${base()}/Messages.json`,
			form({ To: '+14155550123', From: '+15005550006' }),
		);
		expect(empty.status).toBe(400);
		expect(await empty.json()).toMatchObject({ code: 21602 });
		expect(catcher.texts.length).toBe(before);
		// The credential's Test button reads the account.
		const account = await fetch(`${base()}.json`, { headers: { authorization: basic(authToken) } });
		expect(account.status).toBe(200);
	});

	it('keeps mail sent over SMTP', async () => {
		const transport = nodemailer.createTransport({
			host: '127.0.0.1',
			port: smtpPort,
			secure: false,
			ignoreTLS: true,
		});
		await transport.sendMail({
			from: 'rewards@example.com',
			to: 'ann@example.com',
			subject: 'Welcome',
			text: 'Your code is ABC',
		});
		transport.close();
		await expect.poll(() => catcher.messages.length).toBe(1);
		expect(catcher.messages[0]).toMatchObject({
			to: ['ann@example.com'],
			subject: 'Welcome',
			text: 'Your code is ABC\n',
		});
	});

	it('a sender killed mid-message (its connection reset) neither ends the catcher nor keeps the half message', async () => {
		const before = catcher.messages.length;
		const socket = net.connect(smtpPort, '127.0.0.1');
		const replies: string[] = [];
		socket.on('data', (chunk) => replies.push(String(chunk)));
		const waitFor = (code: string) =>
			expect
				.poll(
					() =>
						replies
							.join('')
							.split('\r\n')
							.some((line) => line.startsWith(code)),
					{ timeout: 5000 },
				)
				.toBe(true);
		await waitFor('220');
		replies.length = 0;
		socket.write(
			'EHLO killed.example\r\nMAIL FROM:<rewards@example.com>\r\nRCPT TO:<bob@example.com>\r\nDATA\r\n',
		);
		await waitFor('354');
		socket.write('Subject: cut off\r\n\r\nhalf of it');
		socket.resetAndDestroy(); // a TCP reset, as the kernel sends for a process killed with SIGKILL
		await new Promise((resolve) => setTimeout(resolve, 200));
		const transport = nodemailer.createTransport({
			host: '127.0.0.1',
			port: smtpPort,
			secure: false,
			ignoreTLS: true,
		});
		await transport.sendMail({
			from: 'rewards@example.com',
			to: 'ann@example.com',
			subject: 'After the reset',
			text: 'still here',
		});
		transport.close();
		await expect.poll(() => catcher.messages.length).toBe(before + 1);
		expect(catcher.messages.at(-1)).toMatchObject({ subject: 'After the reset' });
	});
});

describe('the catcher across restarts of npm start', () => {
	type Catcher = {
		messages: Array<Record<string, unknown>>;
		texts: Array<Record<string, unknown>>;
		close(): Promise<void>;
	};
	let folder: string;
	const { accountSid, authToken } = n8n.LOCAL_SMS_ACCOUNT;

	beforeAll(() => {
		folder = mkdtempSync(path.join(tmpdir(), 'rm-catcher-'));
	});
	afterAll(() => rmSync(folder, { recursive: true, force: true }));

	async function start(): Promise<{ catcher: Catcher; smtpPort: number; httpPort: number }> {
		const smtpPort = await n8n.freePort();
		const httpPort = await n8n.freePort();
		const catcher = (await startMailCatcher({
			smtpPort,
			httpPort,
			folder,
			smsAccount: n8n.LOCAL_SMS_ACCOUNT,
		})) as Catcher;
		return { catcher, smtpPort, httpPort };
	}

	async function send(smtpPort: number, subject: string) {
		const transport = nodemailer.createTransport({
			host: '127.0.0.1',
			port: smtpPort,
			secure: false,
			ignoreTLS: true,
		});
		await transport.sendMail({
			from: 'rewards@example.com',
			to: 'ann@example.com',
			subject,
			text: subject,
		});
		transport.close();
	}

	async function text(httpPort: number, body: string) {
		const response = await fetch(
			`http://127.0.0.1:${httpPort}/2010-04-01/Accounts/${accountSid}/Messages.json`,
			{
				method: 'POST',
				headers: {
					authorization: 'Basic ' + Buffer.from(`${accountSid}:${authToken}`).toString('base64'),
					'content-type': 'application/x-www-form-urlencoded',
				},
				body: new URLSearchParams({
					To: '+14155550123',
					From: '+15005550006',
					Body: body,
				}).toString(),
			},
		);
		expect(response.status).toBe(201);
	}

	it('keeps mail and texts of the last run, and never overwrites an .eml file', async () => {
		// An .eml a person saved (or an older catcher wrote) where the catcher would write its first one.
		const foreign =
			'From: someone@example.com\r\nTo: bob@example.org\r\nSubject: Kept by hand\r\n\r\nDo not overwrite me\r\n';
		writeFileSync(path.join(folder, '00001.eml'), foreign);

		const first = await start();
		expect(first.catcher.messages).toMatchObject([
			{ id: 1, subject: 'Kept by hand', to: ['bob@example.org'] },
		]);
		await send(first.smtpPort, 'First run');
		await text(first.httpPort, 'Text of the first run');
		await expect.poll(() => first.catcher.messages.length).toBe(2);
		await first.catcher.close();

		const second = await start();
		expect(second.catcher.messages.map((m) => m.subject)).toEqual(['Kept by hand', 'First run']);
		expect(second.catcher.texts.map((t) => t.body)).toEqual(['Text of the first run']);
		await send(second.smtpPort, 'Second run');
		await text(second.httpPort, 'Text of the second run');
		await expect.poll(() => second.catcher.messages.length).toBe(3);
		const page = await (await fetch(`http://127.0.0.1:${second.httpPort}/`)).text();
		expect(page).toContain('3 message(s), 2 text(s)');
		await second.catcher.close();

		expect(readFileSync(path.join(folder, '00001.eml'), 'utf8')).toBe(foreign);
		const emls = readdirSync(folder)
			.filter((f) => f.endsWith('.eml'))
			.sort();
		expect(emls).toEqual(['00001.eml', '00002.eml', '00003.eml']);
		expect(readFileSync(path.join(folder, '00002.eml'), 'utf8')).toContain('Subject: First run');
		expect(readFileSync(path.join(folder, '00003.eml'), 'utf8')).toContain('Subject: Second run');
	});
});
