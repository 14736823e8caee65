import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeAllLedgers, defaultSqlitePath, openLedger } from '../../engine/ledger';
import { n8nDataFolder } from '../../engine/shared/environment';
import { ReferralService } from '../../engine/referrals';
import { startTwilioFake } from '../fakes/providers/twilio';
import type { ProviderFake } from '../fakes/providers/types';
import { startSmtpServer, type SmtpTestServer } from '../fakes/smtpServer';
import { signedPost, TEST_LEAD_SCORING_TOKEN, TEST_WEBHOOK_SECRET } from '../support/signing';
import { enrolledIn, NEUTRAL_SIGN_UP_ANSWER } from '../support/signUpAnswer';
// @ts-expect-error plain ESM script without types
import * as n8n from '../../scripts/n8n.mjs';

// The responses are JSON checked field by field below; a loose type keeps those checks readable.
type Json = any;

const read = async (response: Response): Promise<Json> => {
	const json = await response.json();
	if (process.env.WORKFLOWS_E2E_RECORD)
		process.stdout.write(`RECORD ${response.url} ${response.status} ${JSON.stringify(json)}\n`);
	return json;
};

/** The sample workflows of workflows/ imported, activated and fired in a real n8n: mail to a loopback SMTP server, texts to a loopback Twilio fake. */
describe('sample workflows in real n8n', () => {
	let userFolder: string;
	let smtp: SmtpTestServer;
	let twilio: ProviderFake;
	let server: { baseUrl: string; stop: () => Promise<void> } | undefined;

	const post = (body: unknown) => ({
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify(body),
	});
	const ledgerPath = () => defaultSqlitePath(n8nDataFolder({ N8N_USER_FOLDER: userFolder }));
	/** The answer, and (answers carry none since #14) the participant and referral from the ledger. */
	const signUp = async (body: { email: string } & Record<string, unknown>) => {
		const response = await fetch(`${server!.baseUrl}/webhook/referral/signup`, post(body));
		const json = await read(response);
		return {
			status: response.status,
			json,
			...(response.status === 202
				? await enrolledIn(ledgerPath(), body.email)
				: { participant: null, referral: null }),
		} as Json;
	};
	/** The welcome messages the ledger owes or owed a participant. */
	const welcomeMessages = async (participantId: number) =>
		(await (
			await openLedger({ backend: 'sqlite', path: ledgerPath() })
		).listMessages({ programId: 'default', participantId, topic: 'welcome' })) as Json[];
	const mailsTo = (address: string) => smtp.messages.filter((m) => m.envelope.to.includes(address));
	/** The token of the private status link an email carries. */
	const privateToken = (text: string | undefined) => {
		const match = /\/webhook\/referral\/page\?token=([\w.-]+)/.exec(text ?? '');
		expect(match, 'the email carries a private status link').not.toBeNull();
		return match![1];
	};

	beforeAll(async () => {
		smtp = await startSmtpServer();
		twilio = await startTwilioFake(n8n.LOCAL_SMS_ACCOUNT);
		userFolder = mkdtempSync(path.join(os.tmpdir(), 'rm-e2e-workflows-'));
		// Every workflow in workflows/, as npm start imports them: they must all activate together.
		const credentials = [
			n8n.localSmtpCredential(smtp.port),
			n8n.localSmsCredential(twilio.url),
			...n8n.securityCredentials({
				webhookSecret: TEST_WEBHOOK_SECRET,
				leadScoringToken: TEST_LEAD_SCORING_TOKEN,
			}),
		];
		({ server } = await n8n.startInstance(userFolder, { credentials }));
		await n8n.waitForWebhook(`${server!.baseUrl}/webhook/referral/signup`, post({}));
	});

	afterAll(async () => {
		await closeAllLedgers();
		await server?.stop();
		await smtp?.close();
		await twilio?.close();
		if (userFolder) rmSync(userFolder, { recursive: true, force: true });
	});

	let referrer: { id: number; email: string; code: string; shareUrl: string };

	it('signs up a referrer: 202 and the neutral answer, no code in it; the code, share link and private link come by one welcome email', async () => {
		const { status, json, participant, referral } = await signUp({
			email: 'ann@example.com',
			name: 'Ann',
		});
		expect(status).toBe(202);
		expect(json).toEqual(NEUTRAL_SIGN_UP_ANSWER);
		expect(participant.email).toBe('ann@example.com');
		expect(participant.code).toMatch(/\S{4,}/);
		expect(participant.shareUrl).toContain('https://example.com/join');
		expect(participant.shareUrl).toContain(
			encodeURIComponent(participant.code).replace(/%2D/gi, '-'),
		);
		expect(referral).toBeNull();
		referrer = participant;

		const [mail] = await smtp.waitForMessages(1, 15_000);
		expect(mail.envelope.to).toEqual(['ann@example.com']);
		expect(mail.parsed.subject).toBe(`Welcome! Your referral code is ${referrer.code}`);
		expect(mail.parsed.text).toContain(referrer.code);
		expect(mail.parsed.text).toContain(referrer.shareUrl);
		expect(mail.parsed.text).toContain('Hi Ann,');
		expect(twilio.requests).toHaveLength(0);
	});

	it("signs up a referee with the referrer's code: a pending referral crediting that code", async () => {
		const { status, json, participant, referral } = await signUp({
			email: 'bob@example.org',
			name: 'Bob',
			referralCode: referrer.code.toLowerCase(),
		});
		expect(status).toBe(202);
		expect(json).toEqual(NEUTRAL_SIGN_UP_ANSWER);
		expect(participant.email).toBe('bob@example.org');
		expect(participant.code).not.toBe(referrer.code);
		expect(referral).toMatchObject({ status: 'pending', referrerCode: referrer.code, reasons: [] });
		expect(typeof referral.id).toBe('number');
		await smtp.waitForMessages(2, 15_000);
		expect(mailsTo('bob@example.org')).toHaveLength(1);
		expect(mailsTo('bob@example.org')[0].parsed.text).toContain(participant.code);
	});

	it('a replayed sign-up and a sign-up of an enrolled email answer exactly as a new one, keep the participant, code and referral, and send no second email', async () => {
		const first = mailsTo('bob@example.org')[0];
		expect(first).toBeDefined();
		const before = await enrolledIn(ledgerPath(), 'bob@example.org');
		const again = await signUp({
			email: 'bob@example.org',
			name: 'Bob',
			referralCode: referrer.code,
		});
		const otherWords = await signUp({ email: 'Bob@Example.org', name: 'Robert' });
		for (const answer of [again, otherWords]) {
			expect(answer.status).toBe(202);
			expect(answer.json).toEqual(NEUTRAL_SIGN_UP_ANSWER);
			expect(answer.participant).toEqual(before.participant);
			expect(answer.referral).toEqual(before.referral);
		}
		// Bob's private status link, from his welcome email (the status page answers nobody by email alone).
		const status = await fetch(
			`${server!.baseUrl}/webhook/referral/participant?token=${privateToken(first.parsed.text)}`,
		);
		const bob = (await read(status)).participant;
		// The link itself opens Bob's participant page (referral-portal.json), with his code.
		const page = await fetch(
			`${server!.baseUrl}/webhook/referral/page?token=${privateToken(first.parsed.text)}`,
		);
		expect(page.status).toBe(200);
		expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
		expect(await page.text()).toContain(`value="${bob.code}"`);
		expect(before.participant).toMatchObject({
			id: bob.id,
			email: 'bob@example.org',
			code: bob.code,
			shareUrl: bob.shareUrl,
		});
		expect(before.referral).toMatchObject({ status: 'pending', referrerCode: referrer.code });
		expect((await welcomeMessages(bob.id)).map((m) => [m.channel, m.status])).toEqual([
			['email', 'sent'],
		]);
		// Give a wrongly sent second mail time to arrive before counting.
		await new Promise((r) => setTimeout(r, 1500));
		expect(mailsTo('bob@example.org')).toHaveLength(1);
		expect(smtp.messages).toHaveLength(2);
	});

	it('an unknown code enrols the participant without a referral, with the same answer', async () => {
		const { status, json, participant, referral } = await signUp({
			email: 'cy@example.net',
			referralCode: 'NOPE-0000-0000',
		});
		expect(status).toBe(202);
		expect(json).toEqual(NEUTRAL_SIGN_UP_ANSWER);
		expect(participant.email).toBe('cy@example.net');
		expect(referral).toBeNull();
		await smtp.waitForMessages(3, 15_000);
		expect(mailsTo('cy@example.net')).toHaveLength(1);
	});

	it('an invalid email answers 400 with the field and sends nothing', async () => {
		const before = smtp.messages.length;
		const { status, json } = await signUp({ email: 'not-an-email', referralCode: referrer.code });
		expect(status).toBe(400);
		expect(Object.keys(json)).toEqual(['error']);
		expect(json.error.field).toBe('email');
		expect(json.error.message).toMatch(/^email is not a valid email address: it needs one "@"/);
		expect(json.error.message).not.toContain('not-an-email');
		expect(json.error.message).not.toContain('[item');
		expect(smtp.messages.length).toBe(before);
	});

	it('answers the participant status of the referrer with stats, through the private link of her welcome email', async () => {
		const response = await fetch(
			`${server!.baseUrl}/webhook/referral/participant?token=${privateToken(mailsTo('ann@example.com')[0].parsed.text)}`,
		);
		expect(response.status).toBe(200);
		const json = await read(response);
		expect(Object.keys(json).sort()).toEqual(['participant', 'stats']);
		expect(json.participant).toMatchObject({
			id: referrer.id,
			email: 'ann@example.com',
			code: referrer.code,
			shareUrl: referrer.shareUrl,
		});
		expect(json.stats).toMatchObject({
			referrals: 1,
			qualified: 0,
			points: 0,
			tier: null,
			badges: [],
		});
		expect(json.stats.rank === null || typeof json.stats.rank === 'number').toBe(true);
		expect(Object.keys(json.stats).sort()).toEqual([
			'badges',
			'points',
			'qualified',
			'rank',
			'referrals',
			'tier',
		]);
	});

	it('by email alone the participant status names nobody: 202, the same answer as for an enrolled address (test/e2e/private.e2e.test.ts)', async () => {
		const stranger = await fetch(
			`${server!.baseUrl}/webhook/referral/participant?email=nobody%40example.com`,
		);
		expect(stranger.status).toBe(202);
		expect(await read(stranger)).toEqual({
			message:
				'If this address is enrolled, we have emailed it a private link to its referral status.',
		});
	});

	it('a refund of an order no referral has answers 404 naming orderId', async () => {
		const response = await fetch(
			`${server!.baseUrl}/webhook/referral/refund`,
			signedPost({ orderId: 'A-404' }),
		);
		expect(response.status).toBe(404);
		const json = await read(response);
		expect(json.error.field).toBe('orderId');
		expect(json.error.message).toBe(
			'No referral of program "default" has the order "A-404"; give the order ID the conversion was recorded with.',
		);
	});

	it('a refund of a qualified order reverses the referral, and a replayed refund answers the same', async () => {
		// No conversion workflow yet: the test qualifies Bob's order in the ledger n8n uses (the default SQLite file).
		const ledger = await openLedger({
			backend: 'sqlite',
			path: defaultSqlitePath(n8nDataFolder({ N8N_USER_FOLDER: userFolder })),
		});
		const service = await ReferralService.open(ledger, 'default');
		expect((await service.listParticipants({ limit: 10 })).map((p) => p.email)).toEqual([
			'ann@example.com',
			'bob@example.org',
			'cy@example.net',
		]);
		const conversion = await service.qualify({
			email: 'bob@example.org',
			orderId: 'A-1001',
			amount: 80,
			currency: 'EUR',
		});
		expect(conversion).toMatchObject({ qualified: true, referral: { status: 'qualified' } });

		for (let attempt = 0; attempt < 2; attempt++) {
			const response = await fetch(
				`${server!.baseUrl}/webhook/referral/refund`,
				signedPost({ orderId: 'A-1001' }),
			);
			expect(response.status).toBe(200);
			expect(await read(response)).toEqual({
				referral: { id: conversion.referral!.id, status: 'reversed' },
				outcome: 'reversed',
				reversed: [],
				adjusted: [],
				demoted: [],
			});
		}
		expect((await service.getReferral(conversion.referral!.id)).status).toBe('reversed');
	});

	describe('the SMS branch of the sign-up', () => {
		const texts = () =>
			twilio.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/Messages.json'));

		it('texts the code and share link once when a phone and SMS consent came; a replay texts nothing', async () => {
			const body = {
				email: 'dee@example.com',
				name: 'Dee',
				phone: '+1 415 555 0123',
				consent: { email: true, sms: true },
			};
			const { status, json, participant } = await signUp(body);
			expect(status).toBe(202);
			expect(json).toEqual(NEUTRAL_SIGN_UP_ANSWER);
			for (let waited = 0; texts().length < 1 && waited < 15_000; waited += 100)
				await new Promise((r) => setTimeout(r, 100));
			expect(texts()).toHaveLength(1);
			const [text] = texts();
			// n8n's credentials helper signed it with the "Local SMS" credential (Basic SID:token).
			const { accountSid, authToken } = n8n.LOCAL_SMS_ACCOUNT;
			expect(text.headers.authorization).toBe(
				'Basic ' + Buffer.from(`${accountSid}:${authToken}`).toString('base64'),
			);
			expect(text.form).toMatchObject({ To: '+14155550123', From: '+15005550006' });
			// The text carries no words from the caller (not even the name).
			expect(text.form!.Body).toBe(
				`Your referral code is ${participant.code}. Share it with friends: ${participant.shareUrl}\nReply STOP to opt out`,
			);
			await smtp.waitForMessages(4, 15_000);
			expect(mailsTo('dee@example.com')).toHaveLength(1);

			const again = await signUp(body);
			expect(again.status).toBe(202);
			expect(again.json).toEqual(NEUTRAL_SIGN_UP_ANSWER);
			expect(again.participant).toEqual(participant);
			await new Promise((r) => setTimeout(r, 1000));
			expect(texts()).toHaveLength(1);
			expect(mailsTo('dee@example.com')).toHaveLength(1);
		});

		it('sends no text without SMS consent, or without a phone', async () => {
			const before = texts().length;
			const noConsent = await signUp({
				email: 'eve@example.com',
				phone: '+14155550124',
				consent: { email: true, sms: false },
			});
			const noPhone = await signUp({ email: 'fay@example.com', consent: { sms: true } });
			const consentAsText = await signUp({
				email: 'gus@example.com',
				phone: '+14155550125',
				consent: { sms: 'true' },
			});
			// Consent is a JSON true: the text "true" in a public body is not consent.
			for (const answer of [noConsent, noPhone, consentAsText]) {
				expect(answer.status).toBe(202);
				expect(answer.json).toEqual(NEUTRAL_SIGN_UP_ANSWER);
				expect((await welcomeMessages(answer.participant.id)).map((m) => m.channel)).toEqual([
					'email',
				]);
			}
			await smtp.waitForMessages(7, 15_000);
			expect(texts().length).toBe(before);
		});

		it('a phone number that cannot take a text still enrols and emails, with the same answer and no text owed', async () => {
			const before = texts().length;
			const { status, json, participant } = await signUp({
				email: 'hal@example.com',
				phone: '12',
				consent: { sms: true },
			});
			expect(status).toBe(202);
			expect(json).toEqual(NEUTRAL_SIGN_UP_ANSWER);
			expect(participant.email).toBe('hal@example.com');
			expect((await welcomeMessages(participant.id)).map((m) => m.channel)).toEqual(['email']);
			expect(texts().length).toBe(before);
			await smtp.waitForMessages(8, 15_000);
			expect(mailsTo('hal@example.com')).toHaveLength(1);
		});

		it("Twilio refusing the number (21211): the same answer, the text recorded as failed with the provider's reason, never sent again", async () => {
			twilio.script(twilio.failures.permanent());
			const { status, json, participant } = await signUp({
				email: 'ivy@example.com',
				phone: '+14155550126',
				consent: { sms: true },
			});
			expect(status).toBe(202);
			expect(json).toEqual(NEUTRAL_SIGN_UP_ANSWER);
			let sms: Json;
			for (let waited = 0; sms?.status !== 'failed' && waited < 15_000; waited += 200) {
				await new Promise((r) => setTimeout(r, 200));
				sms = (await welcomeMessages(participant.id)).find((m) => m.channel === 'sms');
			}
			expect(sms).toMatchObject({
				status: 'failed',
				error: expect.stringContaining(twilio.permanentText),
			});
		});
	});
});
