/* The editor in a real browser (Debian's chromium driven by playwright-core): every node of the
 * package is in the node panel and every sample workflow opens with its nodes drawn. Screenshots
 * land in docs/screenshots for the README. */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain ESM script without types
import * as n8n from '../../scripts/n8n.mjs';
import { CHROMIUM, QUIET_CHROMIUM_ARGS } from '../support/browser';

// The README shows the pinned n8n 2.x; a run against another n8n (N8N_VERSION) keeps its screenshots in .cache.
const SHOTS = n8n.N8N_VERSION.startsWith('2.')
	? path.join(n8n.ROOT, 'docs', 'screenshots')
	: path.join(n8n.CACHE, 'screenshots', n8n.N8N_VERSION);
const packageJson = JSON.parse(readFileSync(path.join(n8n.ROOT, 'package.json'), 'utf8'));
/**
 * Each node's name and description as n8n reads them: from the node class's description, not from
 * its source text (a node's first `displayName:` may be an output's, e.g. Shop Webhook's "Conversion").
 */
async function packageNodes(): Promise<Array<{ name: string; description: string }>> {
	return await Promise.all(
		packageJson.n8n.nodes.map(async (file: string) => {
			const module = await import(
				path.join(n8n.ROOT, file.replace(/^dist\//, '').replace(/\.js$/, '.ts'))
			);
			const NodeClass = Object.values(module).find(
				(value) => typeof value === 'function',
			) as new () => { description: { displayName: string; description: string } };
			const { displayName, description } = new NodeClass().description;
			return { name: displayName, description };
		}),
	);
}

describe.skipIf(!existsSync(CHROMIUM) && !process.env.CI)('editor in a real browser', () => {
	let userFolder: string;
	let server: { baseUrl: string; stop: () => Promise<void> };
	let context: BrowserContext;
	let page: Page;

	beforeAll(async () => {
		userFolder = mkdtempSync(path.join(os.tmpdir(), 'rm-editor-'));
		({ server } = await n8n.startInstance(userFolder));
		mkdirSync(SHOTS, { recursive: true });
		context = await chromium.launchPersistentContext(
			mkdtempSync(path.join(os.tmpdir(), 'rm-chromium-')),
			{
				executablePath: CHROMIUM,
				headless: true,
				viewport: { width: 1440, height: 900 },
				args: QUIET_CHROMIUM_ARGS,
			},
		);
		// Playwright's 30 s defaults for navigation and actions are too short on a loaded 2-core machine.
		context.setDefaultTimeout(120_000);
		context.setDefaultNavigationTimeout(120_000);
		page = context.pages()[0] ?? (await context.newPage());
		const login = await page.request.post(`${server.baseUrl}/rest/login`, {
			data: { emailOrLdapLoginId: n8n.DEMO_OWNER.email, password: n8n.DEMO_OWNER.password },
		});
		expect(login.ok()).toBe(true);
	});

	afterAll(async () => {
		await context?.close();
		await server?.stop();
		if (userFolder) rmSync(userFolder, { recursive: true, force: true });
	});

	it('lists every node of the package in the node panel', async () => {
		const find = async (
			node: { name: string; description: string },
			text: string,
			open?: string,
		) => {
			await page.getByPlaceholder('Search nodes...').fill(node.name);
			// n8n 1.x lists search results by name only; an entry shows its description once opened.
			if (open)
				await page
					.locator('[data-test-id="node-creator-item-name"]')
					.getByText(open, { exact: true })
					.first()
					.click({ timeout: 45_000 });
			await expect
				.poll(async () => await page.getByText(text, { exact: true }).count(), { timeout: 45_000 })
				.toBeGreaterThan(0);
			await page.screenshot({
				path: path.join(SHOTS, `node-panel-${node.name.toLowerCase().replace(/\s+/g, '-')}.png`),
			});
		};
		// Action nodes: in a workflow that already has a trigger, the panel offers what happens next.
		await page.goto(`${server.baseUrl}/workflow/rmCodeBatch00001`);
		await page.locator('[data-test-id="canvas-node"]').first().waitFor({ timeout: 60_000 });
		await page
			.locator('[data-test-id="node-creator-plus-button"]')
			.first()
			.click({ timeout: 60_000 });
		const nodes = await packageNodes();
		expect(nodes.map((node) => node.name)).toContain('Shop Webhook');
		for (const node of nodes.filter((n) => !n.name.endsWith('Trigger')))
			await find(node, node.name);
		// Triggers: a new workflow's panel asks what starts it, and lists triggers without the word
		// "Trigger" (ours reads "Referral"), so look for its description.
		// n8n 1.x shows such a trigger under the name without "Trigger" and its description on opening it.
		for (const node of nodes.filter((n) => n.name.endsWith('Trigger'))) {
			await page.goto(`${server.baseUrl}/workflow/new`);
			await page
				.locator('[data-test-id="node-creator-plus-button"]')
				.first()
				.click({ timeout: 60_000 });
			await find(
				node,
				node.description,
				n8n.N8N_VERSION.startsWith('1.') ? node.name.replace(/ Trigger$/, '') : undefined,
			);
		}
		// Eight searches of up to 45 s each on a loaded machine (each takes about a second when idle).
	}, 480_000);

	for (const file of n8n.workflowFiles() as string[]) {
		const workflow = JSON.parse(readFileSync(file, 'utf8'));
		it(`opens ${path.basename(file)} with all its nodes on the canvas`, async () => {
			await page.goto(`${server.baseUrl}/workflow/${workflow.id}`);
			const drawn = workflow.nodes.filter(
				(node: { type: string }) => node.type !== 'n8n-nodes-base.stickyNote',
			).length;
			// About 1 s on an idle machine, 20–40 s at load 20.
			await expect
				.poll(async () => await page.locator('[data-test-id="canvas-node"]').count(), {
					timeout: 120_000,
				})
				.toBeGreaterThanOrEqual(drawn);
			await page.waitForTimeout(500);
			await page.screenshot({ path: path.join(SHOTS, `${path.basename(file, '.json')}.png`) });
		}, 300_000);
	}
});
