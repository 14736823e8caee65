/* Issue #14, "public endpoints that cannot be abused": every attack from the issue, sent as curl
 * would send it to the sample workflows in a real n8n 2.40.7 (all of workflows/ imported and active,
 * as npm start serves them), answers the status named, and neither the ledger nor the mail and SMS
 * catchers show anything written or sent by it.
 *
 * (The endpoints' own workflows are imported; add a file to `files` when a new case needs another.)
 * n8n runs as behind one reverse proxy (N8N_PROXY_HOPS=1): each request carries the X-Forwarded-For
 * entry that proxy would add. To add a case, append an Attack to `attacks` below (setup state lives
 * in `world`; `writes` lists the ledger tables the attack may legitimately change, `mails` the
 * welcome emails it may cause). */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTwilioFake } from '../fakes/providers/twilio';
import type { ProviderFake } from '../fakes/providers/types';
import { startSmtpServer, type SmtpTestServer } from '../fakes/smtpServer';
import { signedPost, TEST_LEAD_SCORING_TOKEN, TEST_WEBHOOK_SECRET } from '../support/signing';
import { enrolledIn, NEUTRAL_SIGN_UP_ANSWER } from '../support/signUpAnswer';
// @ts-expect-error plain ESM script without types
import * as n8n from '../../scripts/n8n.mjs';

type Json = any;

/** What curl sends: a method, a path under /webhook/, headers and a raw body. */
interface Request {
	method: 'GET' | 'POST';
	path: string;
	headers?: Record<string, string>;
	body?: string;
}

interface Attack {
	name: string;
	/** The requests, built when the case runs (after the setup it may need). */
	requests: () => Request[] | Promise<Request[]>;
	/** The status each request must get. */
	status: number;
	/** Ledger tables the requests may change (a public sign-up enrols, say); every other table stays as it was. */
	writes?: string[];
	/** Emails the requests may cause (a sign-up's own welcome), or 'any' when a legitimate step in `then` sends some; texts are never allowed. */
	mails?: number | 'any';
	/** Further checks on the answers and the ledger. */
	then?: (answers: Array<{ status: number; json: Json }>) => Promise<void> | void;
}

const LEDGER_TABLES = [
	'participants',
	'codes',
	'code_redemptions',
	'referrals',
	'referral_history',
	'conversions',
	'rewards',
	'reward_history',
	'points_journal',
	'points_balances',
	'coupons',
	'messages',
	'suppressions',
	'outbox',
	'ledger_nonces',
	'idempotency_keys',
];
/** The X-Forwarded-For entry the proxy in front of n8n adds: the attacker's address. */
const ATTACKER_IP = '203.0.113.66';

/** A request as `curl -X POST <url> -H 'content-type: application/json' -d '<json>'` sends it. */
const curl = (pathname: string, body: unknown, headers: Record<string, string> = {}): Request => ({
	method: 'POST',
	path: pathname,
	headers: {
		'content-type': 'application/json',
		'user-agent': 'curl/8.5.0',
		'x-forwarded-for': ATTACKER_IP,
		...headers,
	},
	body: typeof body === 'string' ? body : JSON.stringify(body),
});

describe('public endpoints that cannot be abused (issue #14), in real n8n', () => {
	let userFolder: string;
	let smtp: SmtpTestServer;
	let twilio: ProviderFake;
	let server: { baseUrl: string; stop: () => Promise<void> } | undefined;
	let ledgerFile: string;
	/** State the attacks aim at: a referrer with a code, a real referee with a real first order. */
	const world: { ann?: Json; ada?: Json; bea?: Json } = {};

	const send = async (request: Request) => {
		const response = await fetch(`${server!.baseUrl}/webhook/${request.path}`, {
			method: request.method,
			headers: request.headers,
			body: request.body,
		});
		const text = await response.text();
		let json: Json = text;
		try {
			json = JSON.parse(text);
		} catch {
			/* n8n's own 403 is plain text */
		}
		return { status: response.status, json };
	};
	/** A sign-up from a browser; the answer is the same for everyone (#14), so the participant and referral come from the ledger. */
	const signUp = async (body: Json, ip = '198.51.100.10') => {
		const answer = await send(
			curl('referral/signup', body, {
				'x-forwarded-for': ip,
				'user-agent': 'Mozilla/5.0 Firefox/128.0',
			}),
		);
		expect(answer.status).toBe(202);
		expect(answer.json).toEqual(NEUTRAL_SIGN_UP_ANSWER);
		return await enrolledIn(ledgerFile, body.email);
	};
	/** The welcome text the ledger owes or owed the participant with this email. */
	const welcomeText = (email: string) =>
		ledgerRow(
			`SELECT m.status, m.error FROM messages m JOIN participants p ON p.id = m.participant_id WHERE p.email = ? AND m.channel = 'sms' AND m.topic = 'welcome'`,
			email,
		);
	/** Waits until the welcome text of this email is no longer owed or being sent (Send Owed Messages runs after the answer). */
	const settledText = async (email: string) => {
		for (let waited = 0; waited < 15_000; waited += 200) {
			const row = welcomeText(email);
			if (row && !['owed', 'reserved'].includes(row.status)) return row;
			await new Promise((resolve) => setTimeout(resolve, 200));
		}
		return welcomeText(email);
	};
	const counts = (): Record<string, number> => {
		const db = new DatabaseSync(ledgerFile, { readOnly: true });
		try {
			return Object.fromEntries(
				LEDGER_TABLES.map((table) => [
					table,
					Number((db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n),
				]),
			);
		} finally {
			db.close();
		}
	};
	const ledgerRow = (sql: string, ...params: Array<string | number>) => {
		const db = new DatabaseSync(ledgerFile, { readOnly: true });
		try {
			return db.prepare(sql).get(...params) as Json;
		} finally {
			db.close();
		}
	};
	const texts = () =>
		twilio.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/Messages.json'));
	/** Lets a workflow that (wrongly) answered early finish writing or sending before anything is compared. */
	const settle = () => new Promise((resolve) => setTimeout(resolve, 2000));
	/** Waits until no email has arrived for 3 s, so mail from an earlier step is not counted for the next. */
	const quiet = async () => {
		for (let seen = -1; seen !== smtp.messages.length;) {
			seen = smtp.messages.length;
			await new Promise((resolve) => setTimeout(resolve, 3000));
		}
	};

	beforeAll(async () => {
		smtp = await startSmtpServer();
		twilio = await startTwilioFake(n8n.LOCAL_SMS_ACCOUNT);
		userFolder = mkdtempSync(path.join(os.tmpdir(), 'rm-e2e-abuse-'));
		const credentials = [
			n8n.localSmtpCredential(smtp.port),
			n8n.localSmsCredential(twilio.url),
			...n8n.securityCredentials({
				webhookSecret: TEST_WEBHOOK_SECRET,
				leadScoringToken: TEST_LEAD_SCORING_TOKEN,
			}),
		];
		// The sample workflows of the endpoints under attack, unchanged, published as the editor does
		// (through the running instance's REST API).
		const files = [
			'referral-signup.json',
			'referral-conversion.json',
			'referral-refund.json',
			'lead-scoring.json',
		].map((f) => path.join(__dirname, '..', '..', 'workflows', f));
		({ server } = await n8n.startInstance(userFolder, {
			credentials,
			files,
			extraEnv: { N8N_PROXY_HOPS: '1' },
		}));
		for (const pathname of [
			'referral/signup',
			'referral/conversion',
			'referral/refund',
			'leads/score',
		]) {
			await n8n.waitForWebhook(`${server!.baseUrl}/webhook/${pathname}`, {
				method: 'POST',
				headers: { 'content-type': 'application/json' },
				body: '{}',
			});
		}
		ledgerFile = path.join(userFolder, '.n8n', 'referral-ledger.sqlite');

		// Ann refers Ada and Bea through her code; Ada's real first order (A-1001) arrives signed.
		world.ann = (await signUp({ email: 'ann.abuse@example.com', name: 'Ann' })).participant;
		// The welcome emails go out after the answer: wait for Ann's before her code is used.
		await smtp.waitForMessages(1, 20_000);
		world.ada = await signUp(
			{ email: 'ada.abuse@example.org', referralCode: world.ann.code },
			'198.51.100.21',
		);
		world.bea = await signUp(
			{ email: 'bea.abuse@example.org', referralCode: world.ann.code },
			'198.51.100.22',
		);
		const order = await send({
			method: 'POST',
			path: 'referral/conversion',
			...(signedPost({
				email: 'ada.abuse@example.org',
				orderId: 'A-1001',
				amount: 59.9,
				currency: 'EUR',
			}) as Json),
		});
		expect(order.status).toBe(200);
		expect(order.json.referral).toMatchObject({ id: world.ada.referral.id, status: 'qualified' });
		await smtp.waitForMessages(3, 20_000);
		await settle();
	});

	afterAll(async () => {
		await server?.stop();
		await smtp?.close();
		await twilio?.close();
		if (userFolder) rmSync(userFolder, { recursive: true, force: true });
	});

	const attacks: Attack[] = [
		{
			name: 'three invented 0 EUR orders for three invented referees earn nothing: unsigned conversions answer 401',
			requests: () =>
				['x1', 'x2', 'x3'].map((n) =>
					curl('referral/conversion', {
						email: `invented.${n}@example.net`,
						orderId: `FAKE-${n}`,
						amount: 0,
						currency: 'EUR',
					}),
				),
			status: 401,
			then: (answers) => {
				for (const answer of answers)
					expect(answer.json).toEqual({
						error: { message: expect.stringContaining('not signed'), field: 'signature' },
					});
			},
		},
		{
			name: "the same three, after signing the invented referees up with the referrer's code (sign-up is public): still 401, no coupon",
			requests: async () => {
				for (const n of ['y1', 'y2', 'y3'])
					await signUp(
						{ email: `invented.${n}@example.net`, referralCode: world.ann.code },
						ATTACKER_IP,
					);
				return ['y1', 'y2', 'y3'].map((n) =>
					curl('referral/conversion', {
						email: `invented.${n}@example.net`,
						orderId: `FAKE-${n}`,
						amount: 0,
						currency: 'EUR',
					}),
				);
			},
			status: 401,
			// The three sign-ups themselves enrol and email (that is what a sign-up is); the orders write nothing.
			writes: [
				'participants',
				'codes',
				'referrals',
				'referral_history',
				'messages',
				'outbox',
				'idempotency_keys',
			],
			mails: 3,
		},
		{
			name: 'POST /refund {"orderId":"A-1001"} unsigned answers 401; the real order stays qualified',
			requests: () => [curl('referral/refund', '{"orderId":"A-1001"}')],
			status: 401,
			then: () => {
				expect(
					ledgerRow(`SELECT status FROM referrals WHERE id = ?`, world.ada.referral.id).status,
				).toBe('qualified');
			},
		},
		{
			name: "a fake conversion for someone else's referee answers 401, and her real first order still qualifies",
			requests: () => [
				curl('referral/conversion', {
					email: 'bea.abuse@example.org',
					orderId: 'FAKE-BEA',
					amount: 1,
					currency: 'EUR',
				}),
			],
			status: 401,
			then: async () => {
				expect(
					ledgerRow(`SELECT status FROM referrals WHERE id = ?`, world.bea.referral.id).status,
				).toBe('pending');
				// Bea's real first order, signed by the shop: qualifies as if the fake had never come.
				const real = await send({
					method: 'POST',
					path: 'referral/conversion',
					...(signedPost({
						email: 'bea.abuse@example.org',
						orderId: 'B-2001',
						amount: 35,
						currency: 'EUR',
					}) as Json),
				});
				expect(real.status).toBe(200);
				expect(real.json.referral).toEqual({ id: world.bea.referral.id, status: 'qualified' });
				expect(
					ledgerRow(`SELECT COUNT(*) AS n FROM conversions WHERE order_id = 'FAKE-BEA'`).n,
				).toBe(0);
			},
			// The real order (after the attack was checked) qualifies, rewards and emails.
			writes: [
				'conversions',
				'referrals',
				'referral_history',
				'rewards',
				'reward_history',
				'points_journal',
				'points_balances',
				'coupons',
				'messages',
				'outbox',
				'ledger_nonces',
				'idempotency_keys',
			],
			mails: 'any',
		},
		{
			name: 'a sign-up texting a +1 900 premium-rate number, with caller wording in name: enrolled, the owed text refused by the guard (skipped), no wording in the email',
			requests: () => [
				curl('referral/signup', {
					email: 'pump.abuse@example.net',
					name: 'WIN 500 EUR at http://win.example or call +1 900 555 0199',
					phone: '+1 900 555 0199',
					consent: { sms: true },
				}),
			],
			status: 202,
			writes: ['participants', 'codes', 'messages', 'outbox', 'idempotency_keys'],
			mails: 1,
			then: async (answers) => {
				const [answer] = answers;
				expect(answer.json).toEqual(NEUTRAL_SIGN_UP_ANSWER);
				expect((await enrolledIn(ledgerFile, 'pump.abuse@example.net')).participant).not.toBeNull();
				// The owed text was refused by the guard at delivery: skipped, with the reason.
				expect(await settledText('pump.abuse@example.net')).toEqual({
					status: 'skipped',
					error: expect.stringMatching(/^blocked: .*premium-rate/),
				});
				const mail = (await smtp.waitForMessages(smtp.messages.length, 15_000)).find((m) =>
					m.envelope.to.includes('pump.abuse@example.net'),
				);
				expect(mail).toBeDefined();
				expect(mail!.parsed.text).toMatch(/^Hi,/);
				for (const part of [mail!.parsed.text ?? '', String(mail!.parsed.html ?? '')])
					expect(part).not.toMatch(/win\.example|\+1 900|WIN 500/);
			},
		},
		{
			name: 'a sign-up naming an out-of-market number gets no text either (the program allows US, CA, GB, DE, FR)',
			requests: () => [
				curl('referral/signup', {
					email: 'far.abuse@example.net',
					phone: '+8613800138000',
					consent: { sms: true },
				}),
			],
			status: 202,
			writes: ['participants', 'codes', 'messages', 'outbox', 'idempotency_keys'],
			mails: 1,
			then: async ([answer]) => {
				expect(answer.json).toEqual(NEUTRAL_SIGN_UP_ANSWER);
				expect(await settledText('far.abuse@example.net')).toEqual({
					status: 'skipped',
					error: expect.stringMatching(/^blocked: .*not one of the program's SMS countries/),
				});
			},
		},
		{
			name: 'enumeration: a sign-up of an enrolled email answers exactly as one of a new email, with no code, and emails nobody again',
			requests: () => [
				curl('referral/signup', { email: 'ann.abuse@example.com' }),
				curl('referral/signup', { email: 'Ann.Abuse@Example.com', name: 'Someone else' }),
				curl('referral/signup', { email: 'new.abuse@example.net' }),
			],
			status: 202,
			writes: ['participants', 'codes', 'messages', 'outbox', 'idempotency_keys'],
			// Only the new email's own welcome.
			mails: 1,
			then: (answers) => {
				for (const answer of answers) expect(answer.json).toEqual(NEUTRAL_SIGN_UP_ANSWER);
				expect(JSON.stringify(answers)).not.toContain(world.ann.code);
			},
		},
		{
			name: "referrerId, ip, userAgent and signedUpAt in a sign-up body are ignored: the referrer is the code's, the time is now, the IP the proxy's",
			requests: () => [
				// No code, but Ann's participant id as referrer: no referral at all.
				curl('referral/signup', { email: 'cara.abuse@example.net', referrerId: world.ann.id }),
				// Bea's IP claimed in the body, an old date, a forged user agent: the referral is dated now and not same_ip.
				curl(
					'referral/signup',
					{
						email: 'dora.abuse@example.net',
						referralCode: world.ann.code,
						referrerId: 1,
						ip: '198.51.100.22',
						userAgent: 'Mozilla/5.0 Firefox/128.0',
						signedUpAt: '2020-01-01T00:00:00Z',
					},
					{ 'x-forwarded-for': '192.0.2.77' },
				),
			],
			status: 202,
			writes: [
				'participants',
				'codes',
				'referrals',
				'referral_history',
				'messages',
				'outbox',
				'idempotency_keys',
			],
			mails: 2,
			then: async () => {
				expect((await enrolledIn(ledgerFile, 'cara.abuse@example.net')).referral).toBeNull();
				const withCode = (await enrolledIn(ledgerFile, 'dora.abuse@example.net')).referral!;
				// Bea's IP in the body does not make Dora look like Bea (no same_ip); the proxy's entry counts.
				expect(withCode.reasons ?? []).not.toContain('same_ip');
				const row = ledgerRow(
					`SELECT referrer_id, touched_at, ip_hash FROM referrals WHERE id = ?`,
					withCode.id,
				);
				expect(row.referrer_id).toBe(world.ann.id);
				expect(Number(row.touched_at)).toBeGreaterThan(Date.now() - 5 * 60_000);
				const bea = ledgerRow(`SELECT ip_hash FROM referrals WHERE id = ?`, world.bea.referral.id);
				expect(row.ip_hash).not.toBeNull();
				expect(row.ip_hash).not.toBe(bea.ip_hash);
			},
		},
		{
			name: 'lead scoring without the Header Auth token (or with a wrong one) answers 403',
			requests: () => [
				curl('leads/score', { id: 'lead-x', email: 'x@example.com', title: 'CEO' }),
				curl(
					'leads/score',
					{ id: 'lead-x', email: 'x@example.com', title: 'CEO' },
					{ authorization: 'Bearer guessed-token' },
				),
			],
			status: 403,
		},
	];

	for (const attack of attacks) {
		it(attack.name, async () => {
			await quiet();
			const before = counts();
			const mailsBefore = smtp.messages.length;
			const textsBefore = texts().length;
			const answers = [];
			for (const request of await attack.requests()) answers.push(await send(request));
			for (const answer of answers)
				expect({ status: answer.status, body: answer.json }).toMatchObject({
					status: attack.status,
				});
			await attack.then?.(answers);
			await settle();
			await quiet();
			const after = counts();
			const allowed = new Set(attack.writes ?? []);
			for (const table of LEDGER_TABLES.filter((t) => !allowed.has(t)))
				expect({ table, rows: after[table] }).toEqual({ table, rows: before[table] });
			if (attack.mails !== 'any')
				expect(smtp.messages.length - mailsBefore).toBe(attack.mails ?? 0);
			expect(texts().length).toBe(textsBefore);
		});
	}
});
