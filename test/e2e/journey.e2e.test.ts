/* Issue #17, a referral from click to reward, in a real n8n 2.x and a real browser (Debian's
 * chromium through playwright-core), with the sample workflows: Ann signs up on the program's landing
 * page (its form posts to referral-signup.json) and opens her page (referral-portal.json) through the
 * private link of her welcome email, caught by a loopback SMTP server; Bob's browser clicks Ann's
 * tracked link (referral-link.json: 302 to the landing page, `rm_vid` cookie set) and signs up on the
 * landing page without a code, the cookie travelling with his browser's form post; his order
 * arrives signed at the conversion webhook (referral-conversion.json); the rewards appear on both
 * people's pages, Bob's opened from his own welcome email. The landing page is the test's, on
 * loopback (the sign-up sample's Share Link › Base URL changed to it, as its note tells a user to);
 * no console error, and no request leaves the machine. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeAllLedgers, defaultSqlitePath, openLedger } from '../../engine/ledger';
import { n8nDataFolder } from '../../engine/shared/environment';
import { startSmtpServer, type SmtpTestServer } from '../fakes/smtpServer';
import {
	DESKTOP_CHROME,
	launchChromium,
	NO_BROWSER,
	watch,
	type Watched,
} from '../support/browser';
import {
	signedPost,
	TEST_LEAD_SCORING_TOKEN,
	TEST_LINK_SECRET,
	TEST_WEBHOOK_SECRET,
} from '../support/signing';
import { NEUTRAL_SIGN_UP_ANSWER } from '../support/signUpAnswer';
// @ts-expect-error plain ESM script without types
import * as n8n from '../../scripts/n8n.mjs';

const FILES = ['referral-link.json', 'referral-conversion.json', 'referral-portal.json'].map((f) =>
	path.join(n8n.ROOT, 'workflows', f),
);
/** The sign-up sample's landing page (Share Link › Base URL), which this test serves on loopback. */
const SAMPLE_LANDING = 'https://example.com/join';

describe.skipIf(NO_BROWSER)(
	'a referral from click to reward, in real n8n and a real browser',
	() => {
		let userFolder: string;
		let smtp: SmtpTestServer;
		let server: { baseUrl: string; stop: () => Promise<void> } | undefined;
		let landing: Server;
		let landingOrigin: string;
		/** The landing page's requests (path and query), as it received them. */
		const landed: string[] = [];
		let browser: Browser;
		const people: Record<'ann' | 'bob', { context: BrowserContext; watched: Watched }> =
			{} as never;
		const url = (pathname: string) => `${server!.baseUrl}/webhook/${pathname}`;
		const ledgerPath = () => defaultSqlitePath(n8nDataFolder({ N8N_USER_FOLDER: userFolder }));

		/** A person's own browser: a desktop Chrome, watched for console errors and foreign requests. */
		async function browserOf(name: 'ann' | 'bob') {
			const context = await browser.newContext({
				viewport: { width: 1280, height: 900 },
				locale: 'en-US',
				userAgent: DESKTOP_CHROME,
			});
			const watched = await watch(context, [new URL(server!.baseUrl).origin, landingOrigin]);
			people[name] = { context, watched };
			return people[name];
		}

		/**
		 * Signs up on the landing page in the person's browser: its form posts to the sample sign-up
		 * webhook (same site, another port), so the browser's cookies for the n8n host travel with it.
		 */
		async function signUp(name: 'ann' | 'bob', fields: { email: string; name: string }) {
			const { page } = people[name].watched;
			if (!page.url().startsWith(landingOrigin)) await page.goto(`${landingOrigin}/join`);
			await page.getByLabel('Email').fill(fields.email);
			await page.getByLabel('Name').fill(fields.name);
			const [response] = await Promise.all([
				page.waitForResponse(url('referral/signup')),
				page.getByRole('button', { name: 'Join' }).click(),
			]);
			expect(response.status()).toBe(202);
			expect(await response.json()).toEqual(NEUTRAL_SIGN_UP_ANSWER);
		}

		/** The private page link in the person's welcome email, on this instance's address. */
		async function privateLinkOf(email: string): Promise<string> {
			let text = '';
			await expect
				.poll(
					() => {
						const mail = smtp.messages.find((m) => m.envelope.to.includes(email));
						text = mail?.parsed.text ?? '';
						return text;
					},
					{ timeout: 30_000, interval: 200 },
				)
				.toMatch(/\/webhook\/referral\/page\?token=/);
			const token = /\/webhook\/referral\/page\?token=([\w.-]+)/.exec(text)![1];
			return url(`referral/page?token=${token}`);
		}

		async function openPage(name: 'ann' | 'bob', link: string) {
			const { page } = people[name].watched;
			const response = await page.goto(link, { waitUntil: 'load' });
			expect(response!.status()).toBe(200);
			return {
				rewards: (await page.locator('section[aria-labelledby="h-rewards"]').innerText()).trim(),
				referrals: (
					await page.locator('section[aria-labelledby="h-referrals"]').innerText()
				).trim(),
				code: await page.locator('#ref-code').inputValue(),
			};
		}

		beforeAll(async () => {
			smtp = await startSmtpServer();
			userFolder = mkdtempSync(path.join(os.tmpdir(), 'rm-e2e-journey-'));
			// The program's landing page with its sign-up form, posting to n8n's sign-up webhook.
			landing = createServer((request, response) => {
				landed.push(request.url ?? '');
				response.writeHead(request.url?.startsWith('/join') ? 200 : 404, {
					'content-type': 'text/html; charset=utf-8',
				});
				response.end(
					`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Join Acme</title><link rel="icon" href="data:,"></head><body><h1>Join Acme</h1>` +
						`<form method="post" action="${url('referral/signup')}"><label>Email <input name="email" type="email"></label>` +
						`<label>Name <input name="name"></label><button>Join</button></form></body></html>`,
				);
			});
			await new Promise<void>((resolve) => landing.listen(0, '127.0.0.1', resolve));
			landingOrigin = `http://localhost:${(landing.address() as AddressInfo).port}`;
			const signUpSample = path.join(userFolder, 'referral-signup.json');
			const sample = readFileSync(path.join(n8n.ROOT, 'workflows', 'referral-signup.json'), 'utf8');
			expect(sample).toContain(`"baseUrl": "${SAMPLE_LANDING}"`);
			writeFileSync(
				signUpSample,
				sample.replace(`"baseUrl": "${SAMPLE_LANDING}"`, `"baseUrl": "${landingOrigin}/join"`),
			);
			({ server } = await n8n.startInstance(userFolder, {
				credentials: [
					n8n.localSmtpCredential(smtp.port),
					n8n.localSmsCredential('http://127.0.0.1:9'),
					...n8n.securityCredentials({
						webhookSecret: TEST_WEBHOOK_SECRET,
						leadScoringToken: TEST_LEAD_SCORING_TOKEN,
						linkSecret: TEST_LINK_SECRET,
					}),
				],
				files: [signUpSample, ...FILES],
			}));
			const json = { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' };
			await n8n.waitForWebhook(url('referral/signup'), json);
			await n8n.waitForWebhook(url('referral/conversion'), json);
			// The page answers a missing token 404 too, but as its own HTML page (n8n's own 404 is JSON).
			for (const deadline = Date.now() + 60_000; ;) {
				const response = await fetch(url('referral/page'));
				if (response.headers.get('content-type')?.startsWith('text/html')) break;
				if (Date.now() > deadline) throw new Error('the participant page webhook did not register');
				await new Promise((r) => setTimeout(r, 500));
			}
			await n8n.waitForWebhook(url('r/WARMUP'), { redirect: 'manual' });
			browser = await launchChromium();
		});

		afterAll(async () => {
			await browser?.close();
			await closeAllLedgers();
			await server?.stop();
			await smtp?.close();
			if (userFolder) rmSync(userFolder, { recursive: true, force: true });
		});

		let annPage: string;
		let annCode: string;

		it('Ann signs up and opens her page through the private link of her welcome email: no rewards yet', async () => {
			await browserOf('ann');
			await signUp('ann', { email: 'ann@example.com', name: 'Ann' });
			annPage = await privateLinkOf('ann@example.com');
			const page = await openPage('ann', annPage);
			annCode = page.code;
			expect(annCode).toMatch(/^[A-Z0-9]{6,}$/);
			expect(page.rewards).toContain('No rewards yet.');
			expect(page.referrals).toContain('No referrals yet.');
		});

		it("Bob's browser clicks Ann's tracked link: 302 to the landing page with her code, the rm_vid cookie set", async () => {
			const { context, watched } = await browserOf('bob');
			const response = await watched.page.goto(url(`r/${annCode}`), { waitUntil: 'load' });
			// The browser followed the redirect to the program's landing page, Ann's code attached.
			const landingUrl = `${landingOrigin}/join?ref=${annCode}`;
			expect(watched.page.url()).toBe(landingUrl);
			expect(landed).toContain(`/join?ref=${annCode}`);
			expect(await watched.page.locator('h1').textContent()).toBe('Join Acme');
			const click = await response!.request().redirectedFrom()!.response();
			expect(click!.status()).toBe(302);
			expect(click!.headers()['location']).toBe(landingUrl);
			const cookies = await context.cookies(server!.baseUrl);
			expect(cookies).toEqual([
				expect.objectContaining({
					name: 'rm_vid',
					value: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/),
					httpOnly: true,
					sameSite: 'Lax',
				}),
			]);
			const ledger = await openLedger({ backend: 'sqlite', path: ledgerPath() });
			expect((await ledger.clickStats({ programId: 'default' })).clicks).toBe(1);
		});

		it('Bob signs up on the landing page without a code: the cookie his browser sends credits Ann', async () => {
			await signUp('bob', { email: 'bob@example.com', name: 'Bob' });
			const ledger = await openLedger({ backend: 'sqlite', path: ledgerPath() });
			const bob = await ledger.getParticipant({ programId: 'default', email: 'bob@example.com' });
			const referral = await ledger.findReferralByReferee({
				programId: 'default',
				refereeId: bob!.id,
			});
			expect(referral).toMatchObject({ status: 'pending' });
			expect(referral!.clickId).not.toBeNull();
			const ann = await ledger.getParticipant({ programId: 'default', email: 'ann@example.com' });
			expect(referral!.referrerId).toBe(ann!.id);
		});

		it("Bob's order arrives signed at the conversion webhook: the rewards appear on both people's pages", async () => {
			const order = { email: 'bob@example.com', orderId: 'J-1001', amount: 49.5, currency: 'EUR' };
			const response = await fetch(url('referral/conversion'), signedPost(order));
			expect(response.status).toBe(200);
			expect(((await response.json()) as { referral: { status: string } }).referral.status).toBe(
				'qualified',
			);

			const ann = await openPage('ann', annPage);
			expect(ann.rewards).toMatch(/Earned[\s\S]*100 points/);
			expect(ann.referrals).toMatch(/Bob\s+\S.*\s+qualified/);
			const bobPage = await privateLinkOf('bob@example.com');
			const bob = await openPage('bob', bobPage);
			expect(bob.code).not.toBe(annCode);
			expect(bob.rewards).toMatch(/Earned[\s\S]*50 points/);
			expect(bob.rewards).not.toContain('100 points');
			// Bob's page names nobody else: not Ann.
			expect(await people.bob.watched.page.locator('body').innerText()).not.toMatch(/ann/i);

			for (const name of ['ann', 'bob'] as const) {
				expect(people[name].watched.errors, `${name}: console errors`).toEqual([]);
				expect(people[name].watched.foreign, `${name}: requests leaving the machine`).toEqual([]);
			}
		});
	},
);
