/* The real browser of the page e2e tests (issue #17): Debian's chromium driven by playwright-core,
 * launched with nothing that phones home and no DNS, and pages watched for console errors and for
 * requests leaving the machine (refused). */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
// @ts-expect-error plain ESM script without types
import * as n8n from '../../scripts/n8n.mjs';

export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
/** Skip browser tests where no chromium is installed, except in CI, where its absence must fail. */
export const NO_BROWSER = !existsSync(CHROMIUM) && !process.env.CI;
/** Screenshots of n8n 2.x land in docs/screenshots (the README shows them); other versions' in .cache. */
export const SHOTS = n8n.N8N_VERSION.startsWith('2.')
	? path.join(n8n.ROOT, 'docs', 'screenshots')
	: path.join(n8n.CACHE, 'screenshots', n8n.N8N_VERSION);
/**
 * A person's desktop Chrome. Headless chromium announces itself as HeadlessChrome, which a tracked
 * link rightly ignores as a scripted client; tests that click one as a person set this one.
 */
export const DESKTOP_CHROME =
	'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

/** Headless Debian chromium without its own traffic (no sandbox in the container, no GPU, no updates or sync). */
export const QUIET_CHROMIUM_ARGS = [
	'--no-sandbox',
	'--disable-gpu',
	'--disable-quic',
	'--no-first-run',
	'--disable-background-networking',
	'--disable-component-update',
	'--disable-sync',
];

export const CHROMIUM_ARGS = [
	// Every host name but localhost resolves to the loopback address without a DNS query: even a
	// request the routes below do not see (Chromium follows some redirects itself) stays on the machine.
	'--host-resolver-rules=MAP * 127.0.0.1, EXCLUDE localhost',
	...QUIET_CHROMIUM_ARGS,
];

export async function launchChromium(): Promise<Browser> {
	return await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

export interface Watched {
	page: Page;
	/** Console errors and uncaught page errors. */
	errors: string[];
	/** Every URL the context requested. */
	requests: string[];
	/** Requests to any other origin than the allowed ones: refused, never sent. */
	foreign: string[];
}

/**
 * Watches a context's pages: every request is recorded; only the allowed origins (n8n's, and a
 * landing page the test serves on loopback) and data: URLs go out, anything else is refused.
 */
export async function watch(context: BrowserContext, origins: string | string[]): Promise<Watched> {
	const allowed = new Set([origins].flat());
	context.setDefaultTimeout(120_000);
	context.setDefaultNavigationTimeout(120_000);
	const watched: Watched = {
		page: context.pages()[0] ?? (await context.newPage()),
		errors: [],
		requests: [],
		foreign: [],
	};
	await context.route('**/*', async (route) => {
		const url = route.request().url();
		watched.requests.push(url);
		if (url.startsWith('data:') || allowed.has(new URL(url).origin)) return await route.continue();
		watched.foreign.push(url);
		await route.abort('blockedbyclient');
	});
	const listen = (page: Page) => {
		page.on('console', (message) => {
			if (message.type() === 'error') watched.errors.push(message.text());
		});
		page.on('pageerror', (error) => watched.errors.push(error.message));
	};
	for (const page of context.pages()) listen(page);
	context.on('page', listen);
	return watched;
}
