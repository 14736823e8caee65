/* The marketer dashboard and review queue (workflows/referral-dashboard.json) in real n8n 2.40.7
 * (and 1.123.81 in `npm run test:e2e:n8n1`), in a real browser (Debian's chromium through
 * playwright-core) behind the sample's Basic Auth: the dashboard's figures equal Get Stats on the
 * same ledger, the review queue names the referrer and the new customer, Approve and Reject through
 * the buttons, no console error, no request leaving the machine, an axe-core scan without serious or
 * critical violations. Screenshots land in docs/screenshots (n8n 2.x only). */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain ESM script without types
import * as n8n from '../../scripts/n8n.mjs';
import { closeAllLedgers, openLedger, type LedgerStore } from '../../engine/ledger';
import { ReferralService } from '../../engine/refunds';
import { referralStats } from '../../engine/referrals/stats';
import { formatNumber } from '../../engine/charts';
import { TEST_LEAD_SCORING_TOKEN, TEST_WEBHOOK_SECRET } from '../support/signing';
import { launchChromium, NO_BROWSER, SHOTS, watch, type Watched } from '../support/browser';

const PASSWORD = 'dashboard-e2e-password-0123456789';
const AXE_SOURCE = readFileSync(createRequire(__filename).resolve('axe-core/axe.min.js'), 'utf8');

describe.skipIf(NO_BROWSER)(
	'Referral dashboard and review queue in real n8n and a real browser',
	() => {
		let userFolder: string;
		let server: { baseUrl: string; stop(): Promise<void> } | undefined;
		let browser: Browser;
		let watched: Watched;
		let page: Page;
		let ledger: LedgerStore;
		const flagged: number[] = [];

		beforeAll(async () => {
			userFolder = mkdtempSync(path.join(os.tmpdir(), 'rm-dashboard-e2e-'));
			({ server } = await n8n.startInstance(userFolder, {
				files: [path.join(n8n.ROOT, 'workflows', 'referral-dashboard.json')],
				credentials: n8n.securityCredentials({
					webhookSecret: TEST_WEBHOOK_SECRET,
					leadScoringToken: TEST_LEAD_SCORING_TOKEN,
					dashboardPassword: PASSWORD,
				}),
			}));
			// The program's referrals, written by the engine into the ledger n8n's nodes read (the default SQLite ledger).
			ledger = await openLedger({
				backend: 'sqlite',
				path: path.join(userFolder, '.n8n', 'referral-ledger.sqlite'),
			});
			await ledger.ensureProgram({ id: 'default' });
			const svc = await ReferralService.open(ledger, 'default');
			const ana = await svc.enrol({ email: 'ana@example.com', name: 'Ana' });
			const ben = await svc.enrol({ email: 'ben@example.com', name: 'Ben' });
			for (let i = 0; i < 4; i++) {
				const r = await svc.enrol({
					email: `friend${i}@example.org`,
					referralCode: (i % 2 ? ben : ana).participant.code!,
				});
				if (i < 3)
					await svc.qualify({
						email: `friend${i}@example.org`,
						orderId: `o${i}`,
						amount: 30 + i,
						currency: 'EUR',
					});
				expect(r.referral!.status).toBe('pending');
			}
			for (const email of ['x1@mailinator.com', 'x2@mailinator.com']) {
				const r = await svc.enrol({ email, referralCode: ana.participant.code! });
				expect(r.referral!.status).toBe('flagged');
				flagged.push(r.referral!.id);
			}

			mkdirSync(SHOTS, { recursive: true });
			browser = await launchChromium();
			const context = await browser.newContext({
				viewport: { width: 1280, height: 900 },
				httpCredentials: { username: 'marketing', password: PASSWORD },
			});
			watched = await watch(context, new URL(server!.baseUrl).origin);
			page = watched.page;
		});

		afterAll(async () => {
			await browser?.close();
			await closeAllLedgers();
			await ledger?.close();
			await server?.stop();
			if (userFolder) rmSync(userFolder, { recursive: true, force: true });
		});

		async function axeViolations(): Promise<Array<{ id: string; impact: string; help: string }>> {
			await page.evaluate(AXE_SOURCE);
			const result = await page.evaluate(async () => {
				const axe = (
					globalThis as unknown as {
						axe: {
							run: (
								ctx: unknown,
								opts: unknown,
							) => Promise<{ violations: Array<{ id: string; impact: string; help: string }> }>;
						};
					}
				).axe;
				return await axe.run((globalThis as unknown as { document: unknown }).document, {
					resultTypes: ['violations'],
				});
			});
			return result.violations.map(({ id, impact, help }) => ({ id, impact, help }));
		}

		it('refuses the pages without the Basic Auth login', async () => {
			const response = await fetch(`${server!.baseUrl}/webhook/referral-dashboard`);
			expect(response.status).toBe(401);
			expect(await response.text()).not.toContain('Referral dashboard');
		});

		it('shows the figures Get Stats gives for the same ledger, accessibly, without console errors or outside requests', async () => {
			const response = await page.goto(`${server!.baseUrl}/webhook/referral-dashboard`);
			expect(response!.status()).toBe(200);
			expect(response!.headers()['content-type']).toBe('text/html; charset=utf-8');
			expect(response!.headers()['cache-control']).toBe('no-store');
			const stats = await referralStats(ledger, {
				programId: 'default',
				period: 'month',
				at: Date.now(),
			});
			const kpi = async (id: string) =>
				(await page.locator(`[data-kpi="${id}"] .value`).textContent())!.trim();
			expect(await kpi('recorded')).toBe(formatNumber(stats.funnel.recorded));
			expect(await kpi('netQualified')).toBe(formatNumber(stats.funnel.netQualified));
			expect(await kpi('flagged')).toBe(formatNumber(stats.funnel.flagged));
			expect(await kpi('kFactor')).toBe(
				formatNumber(stats.kFactor!.value, 'en', { maximumFractionDigits: 3 }),
			);
			expect(await kpi('referralRate')).toBe(
				formatNumber(stats.referralRate!, 'en', { style: 'percent', maximumFractionDigits: 1 }),
			);
			expect(await kpi('customers')).toBe(formatNumber(stats.customers));
			expect(stats.funnel).toMatchObject({ recorded: 6, flagged: 2, netQualified: 3 });
			expect(await page.locator('svg[role="img"]').count()).toBeGreaterThanOrEqual(3);
			await page.screenshot({ path: path.join(SHOTS, 'dashboard.png'), fullPage: true });
			const serious = (await axeViolations()).filter(
				(v) => v.impact === 'serious' || v.impact === 'critical',
			);
			expect(serious).toEqual([]);
			expect(watched.errors).toEqual([]);
			expect(watched.foreign).toEqual([]);
		});

		it('approves and rejects through the review queue buttons (POST, then back to the queue), once each', async () => {
			await page.goto(`${server!.baseUrl}/webhook/referral-dashboard/review`);
			const rows = page.locator('tr[data-referral]');
			expect(await rows.count()).toBe(2);
			await expect(
				page.locator(`tr[data-referral="${flagged[0]}"]`).textContent(),
			).resolves.toContain('The new customer signed up with a throwaway email address');
			// Who: the referrer's name and email and the new customer's email, what the marketer decides on.
			const first = page.locator(`tr[data-referral="${flagged[0]}"]`);
			expect(await first.locator('td.referrer').innerText()).toMatch(
				/^Ana\nana@example\.com\n#\d+$/,
			);
			expect(await first.locator('td.referee').innerText()).toMatch(/^x1@mailinator\.com\n#\d+$/);
			await page.screenshot({ path: path.join(SHOTS, 'review-queue.png'), fullPage: true });
			const serious = (await axeViolations()).filter(
				(v) => v.impact === 'serious' || v.impact === 'critical',
			);
			expect(serious).toEqual([]);

			await Promise.all([
				page.waitForURL(/notice=approve/),
				page.locator(`tr[data-referral="${flagged[0]}"] button.approve`).click(),
			]);
			expect(await page.locator('[role="status"]').textContent()).toBe(
				`Referral ${flagged[0]}: Approved.`,
			);
			expect((await ledger.getReferral({ programId: 'default', id: flagged[0] }))!.status).toBe(
				'pending',
			);
			expect(await page.locator('tr[data-referral]').count()).toBe(1);

			await Promise.all([
				page.waitForURL(/notice=reject/),
				page.locator(`tr[data-referral="${flagged[1]}"] button.reject`).click(),
			]);
			expect(await page.locator('[role="status"]').textContent()).toBe(
				`Referral ${flagged[1]}: Rejected.`,
			);
			expect((await ledger.getReferral({ programId: 'default', id: flagged[1] }))!.status).toBe(
				'rejected',
			);
			expect(await page.locator('body').textContent()).toContain('Nothing to review');
			// A reload of the result page is a GET: nothing is posted again.
			await page.reload();
			const history = await ledger.referralHistory({
				programId: 'default',
				referralId: flagged[1],
			});
			expect(history.filter((h) => h.to === 'rejected')).toHaveLength(1);
			expect(watched.errors).toEqual([]);
			expect(watched.foreign).toEqual([]);
		});

		it('refuses a forged decision: a POST with the login but without the form token changes nothing', async () => {
			const id = flagged[1];
			const before = (await ledger.getReferral({ programId: 'default', id }))!.status;
			const response = await fetch(`${server!.baseUrl}/webhook/referral-dashboard/review`, {
				method: 'POST',
				redirect: 'manual',
				headers: {
					authorization: `Basic ${Buffer.from(`marketing:${PASSWORD}`).toString('base64')}`,
					'content-type': 'application/x-www-form-urlencoded',
				},
				body: `referralId=${id}&decision=reject&token=1.${'A'.repeat(43)}`,
			});
			expect(response.status).toBe(403);
			expect((await ledger.getReferral({ programId: 'default', id }))!.status).toBe(before);
		});
	},
);
