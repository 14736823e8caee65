/* Issue #17, the participant page, in a real n8n (2.40.7, and 1.123.81 in `npm run test:e2e:n8n1`)
 * and a real browser (Debian's chromium driven by playwright-core): the sample workflow
 * referral-portal.json (Webhook → Referral Portal → Respond to Webhook) serves Ann's page from her
 * private link at 375 px and 1280 px with no console error and no request leaving the n8n origin,
 * passes an axe-core scan with no serious or critical violation, renders German for a German
 * browser, and its copy button copies the link. Bad links answer the same
 * 404 page naming nobody. Screenshots land in docs/screenshots (n8n 2.x only). */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { n8nDataFolder } from '../../engine/shared/environment';
import { closeAllLedgers, defaultSqlitePath, openLedger } from '../../engine/ledger';
import { participantLink } from '../../engine/shared/links';
import { TEST_LEAD_SCORING_TOKEN, TEST_LINK_SECRET, TEST_WEBHOOK_SECRET } from '../support/signing';
import { seedPortal, type PortalSeed } from '../support/portalSeed';
import { launchChromium, NO_BROWSER, SHOTS, watch, type Watched } from '../support/browser';
// @ts-expect-error plain ESM script without types
import * as n8n from '../../scripts/n8n.mjs';

const AXE = readFileSync(path.join(n8n.ROOT, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');
// The browser's globals, used in functions that run in the page (this file compiles without the DOM types).
declare const document: any;
declare const window: any;
declare function getComputedStyle(element: unknown): { backgroundColor: string };

describe.skipIf(NO_BROWSER)('participant page in real n8n and a real browser', () => {
	let userFolder: string;
	let server: { baseUrl: string; stop: () => Promise<void> } | undefined;
	let browser: Browser;
	let seed: PortalSeed;
	let pageUrl: string;
	const contexts: BrowserContext[] = [];

	beforeAll(async () => {
		userFolder = mkdtempSync(path.join(os.tmpdir(), 'rm-e2e-portal-'));
		// Imports the sample, starts n8n and publishes the workflow through its REST API.
		({ server } = await n8n.startInstance(userFolder, {
			credentials: n8n.securityCredentials({
				webhookSecret: TEST_WEBHOOK_SECRET,
				leadScoringToken: TEST_LEAD_SCORING_TOKEN,
				linkSecret: TEST_LINK_SECRET,
			}),
			files: [path.join(n8n.ROOT, 'workflows', 'referral-portal.json')],
		}));
		const ledger = await openLedger({
			backend: 'sqlite',
			path: defaultSqlitePath(n8nDataFolder({ N8N_USER_FOLDER: userFolder })),
		});
		seed = await seedPortal(ledger, { programId: 'default' });
		const token = participantLink({
			baseUrl: `${server!.baseUrl}/webhook/referral/page`,
			programId: 'default',
			participantId: seed.annId,
			secrets: { secret: TEST_LINK_SECRET },
		}).token;
		pageUrl = `${server!.baseUrl}/webhook/referral/page?token=${token}`;
		// Webhooks register a moment after the editor is up; a bad token's page is also 404.
		await n8n.waitForWebhook(pageUrl, {});
		browser = await launchChromium();
		mkdirSync(SHOTS, { recursive: true });
	});

	afterAll(async () => {
		for (const context of contexts) await context.close().catch(() => {});
		await browser?.close();
		await closeAllLedgers();
		await server?.stop();
		if (userFolder) rmSync(userFolder, { recursive: true, force: true });
	});

	/** A fresh browser context that records console errors and every request, and lets only the n8n origin through. */
	async function open(
		width: number,
		options: { locale?: string; bypassCSP?: boolean } = {},
	): Promise<Watched> {
		const context = await browser.newContext({
			viewport: { width, height: 900 },
			locale: options.locale ?? 'en-US',
			bypassCSP: options.bypassCSP ?? false,
		});
		contexts.push(context);
		return await watch(context, new URL(server!.baseUrl).origin);
	}

	function onlyLocal(watched: Watched) {
		expect(watched.foreign, 'requests leaving the machine').toEqual([]);
	}

	for (const width of [375, 1280]) {
		it(`renders Ann's page at ${width} px: no console error, nothing fetched from elsewhere, nobody else named`, async () => {
			const watched = await open(width);
			const { page } = watched;
			const response = await page.goto(pageUrl, { waitUntil: 'load' });
			expect(response!.status()).toBe(200);
			expect(response!.headers()['content-type']).toBe('text/html; charset=utf-8');
			expect(response!.headers()['cache-control']).toBe('no-store');
			await expect
				.poll(async () => await page.locator('h1').textContent())
				.toBe('Your referrals: Acme Friends');
			expect(await page.locator('#ref-code').inputValue()).toBe(seed.annCode);
			expect(await page.locator('#ref-link').inputValue()).toContain(`ref=${seed.annCode}`);
			// The copy buttons are shown by the inline script: the CSP allowed it by its hash.
			expect(await page.locator('button[data-copy="ref-link"]').isVisible()).toBe(true);
			expect(await page.locator('svg.qr').isVisible()).toBe(true);
			for (const name of ['Email', 'SMS', 'WhatsApp', 'X', 'LinkedIn', 'Facebook'])
				expect(
					await page.locator('ul.share a', { hasText: new RegExp(`^${name}`) }).count(),
					name,
				).toBe(1);
			const text = (await page.locator('body').innerText()).toLowerCase();
			expect(text).toContain('bob');
			expect(text).toContain('c••@example.net');
			for (const secret of seed.secrets) expect(text).not.toContain(secret.toLowerCase());
			// Styled (the inline style was allowed): the sections have the panel background.
			const background = await page
				.locator('section')
				.first()
				.evaluate((el) => getComputedStyle(el).backgroundColor);
			expect(background).not.toBe('rgba(0, 0, 0, 0)');
			// Mobile first: nothing wider than the viewport.
			const overflow = await page.evaluate(
				() => document.documentElement.scrollWidth - window.innerWidth,
			);
			expect(overflow).toBeLessThanOrEqual(0);
			// The phone's first screen (a thumbnail in the README), the desktop's whole page.
			await page.screenshot({
				path: path.join(SHOTS, `participant-page-${width}.png`),
				fullPage: width > 375,
			});
			expect(watched.errors).toEqual([]);
			onlyLocal(watched);
		});
	}

	it('passes an axe-core scan with no serious or critical violation', async () => {
		// axe is injected as an inline script, which the page's own CSP rightly refuses: this context bypasses it.
		const watched = await open(1280, { bypassCSP: true });
		await watched.page.goto(pageUrl, { waitUntil: 'load' });
		await watched.page.addScriptTag({ content: AXE });
		const results = (await watched.page.evaluate(async () => {
			return await window.axe.run(document, {
				runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
			});
		})) as {
			violations: Array<{ id: string; impact: string; nodes: unknown[] }>;
			passes: unknown[];
		};
		const serious = results.violations.filter(
			(v) => v.impact === 'serious' || v.impact === 'critical',
		);
		expect(
			serious.map((v) => `${v.id} (${v.impact}, ${v.nodes.length} nodes)`),
			'serious or critical accessibility violations',
		).toEqual([]);
		expect(results.passes.length).toBeGreaterThan(10);
		// And at 375 px, the mobile layout.
		await watched.page.setViewportSize({ width: 375, height: 900 });
		const mobile = (await watched.page.evaluate(async () => {
			return await window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2aa'] } });
		})) as { violations: Array<{ id: string; impact: string }> };
		expect(
			mobile.violations
				.filter((v) => v.impact === 'serious' || v.impact === 'critical')
				.map((v) => v.id),
		).toEqual([]);
		onlyLocal(watched);
	});

	it('a German browser gets the German page', async () => {
		const watched = await open(375, { locale: 'de-DE' });
		const response = await watched.page.goto(pageUrl, { waitUntil: 'load' });
		expect(response!.status()).toBe(200);
		expect(await watched.page.locator('html').getAttribute('lang')).toBe('de');
		expect(await watched.page.locator('h1').textContent()).toBe('Deine Empfehlungen: Acme Friends');
		const text = await watched.page.locator('body').innerText();
		expect(text).toContain('Hallo Ann Smith!');
		expect(text).toContain('Dein Empfehlungscode');
		expect(text).toContain('150 Punkte');
		expect(text).not.toContain('Your referral code');
		expect(watched.errors).toEqual([]);
		onlyLocal(watched);
	});

	it('the copy button copies the referral link (keyboard too) and says so', async () => {
		const watched = await open(375);
		const { page } = watched;
		await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], {
			origin: new URL(server!.baseUrl).origin,
		});
		await page.goto(pageUrl, { waitUntil: 'load' });
		const link = await page.locator('#ref-link').inputValue();
		const button = page.locator('button[data-copy="ref-link"]');
		await button.focus();
		await page.keyboard.press('Enter');
		await expect.poll(async () => await button.getAttribute('data-copied')).toBe('true');
		await expect.poll(async () => await page.locator('#copy-status').textContent()).toBe('Copied');
		// n8n serves webhook pages sandboxed (an opaque origin): read the clipboard from an n8n page that is not.
		const reader = await page.context().newPage();
		await reader.goto(`${server!.baseUrl}/healthz`);
		expect(await reader.evaluate(async () => await (navigator as any).clipboard.readText())).toBe(
			link,
		);
		expect(watched.errors).toEqual([]);
		onlyLocal(watched);
	});

	it('forged, expired and missing links answer the same 404 page naming nobody', async () => {
		const base = `${server!.baseUrl}/webhook/referral/page`;
		const expired = participantLink({
			baseUrl: base,
			programId: 'default',
			participantId: seed.annId,
			secrets: { secret: TEST_LINK_SECRET },
			now: Date.now() - 40 * 24 * 60 * 60 * 1000,
		}).token;
		const bodies: string[] = [];
		for (const query of [`?token=${expired}`, `?token=${expired.slice(0, -3)}abc`, '']) {
			const response = await fetch(`${base}${query}`, { headers: { 'accept-language': 'en' } });
			expect(response.status, query).toBe(404);
			expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
			const body = await response.text();
			expect(body).toContain('This link is not valid or has expired');
			expect(body).not.toContain(seed.annCode);
			expect(body).not.toMatch(/Ann|@example/);
			bodies.push(body);
		}
		expect(new Set(bodies).size).toBe(1);
	});
});
