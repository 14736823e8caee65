/* Issue 13 defect 8 on npm start's single instance (SQLite ledger, n8n's own SQLite database):
 * 200 signed conversions 20 at a time, SIGKILL after the 60th answer, restart, retries; then no
 * order, reward or email lost or doubled (test/support/crashScenario.ts). The conversion workflow
 * and the owed message sweep are the samples from workflows/, unchanged. */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { closeAllLedgers, openLedger } from '../../engine/ledger';
import { startSmtpServer, type SmtpTestServer } from '../fakes/smtpServer';
import { runCrashScenario, seedReferrals } from '../support/crashScenario';
import { TEST_LEAD_SCORING_TOKEN, TEST_WEBHOOK_SECRET } from '../support/signing';
// @ts-expect-error plain ESM script without types
import * as n8n from '../../scripts/n8n.mjs';

const WORKFLOWS = ['referral-conversion.json', 'owed-message-sweep.json'].map((f) =>
	path.join(n8n.ROOT, 'workflows', f),
);

describe('a crash of the single instance loses and repeats no reward email', () => {
	let userFolder: string;
	let bin: string;
	let env: Record<string, string>;
	let port: number;
	let smtp: SmtpTestServer;
	let server:
		| { baseUrl: string; port: number; stop: () => Promise<void>; kill: () => Promise<void> }
		| undefined;
	const ledgerPath = () => path.join(userFolder, '.n8n', 'referral-ledger.sqlite');

	beforeAll(async () => {
		smtp = await startSmtpServer();
		userFolder = mkdtempSync(path.join(os.tmpdir(), 'rm-e2e-crash-'));
		let toActivate: string[];
		// activate 'later': n8n 2.x publishes the workflows through the running instance's REST API
		// below (one CLI boot per workflow otherwise); n8n 1.x activates them with its CLI here.
		({ bin, env, toActivate } = await n8n.prepareInstanceAsync(userFolder, {
			build: false,
			activate: 'later',
			files: WORKFLOWS,
			// The sweep's welcome-text node needs its SMS credential; no text is owed here, so it points nowhere.
			credentials: [
				n8n.localSmtpCredential(smtp.port),
				n8n.localSmsCredential('http://127.0.0.1:9'),
				...n8n.securityCredentials({
					webhookSecret: TEST_WEBHOOK_SECRET,
					leadScoringToken: TEST_LEAD_SCORING_TOKEN,
				}),
			],
		}));
		// The referrals exist before n8n starts: the test counts reward emails only.
		await seedLedger();
		server = await n8n.startN8n(bin, env);
		// The restart after the crash comes back on the same port, as a real restart would.
		port = server!.port;
		await n8n.ensureOwner(server!.baseUrl);
		await n8n.activateWorkflows(server, toActivate);
		await n8n.waitForWebhook(`${server!.baseUrl}/webhook/referral/conversion`, {
			method: 'POST',
			body: '{}',
		});
	});

	let orders: Awaited<ReturnType<typeof seedReferrals>>;
	async function seedLedger() {
		const ledger = await openLedger({ backend: 'sqlite', path: ledgerPath() });
		orders = await seedReferrals(ledger);
		await closeAllLedgers();
	}

	afterAll(async () => {
		await server?.stop();
		await closeAllLedgers();
		await smtp?.close();
		if (userFolder) rmSync(userFolder, { recursive: true, force: true });
	});

	it('200 conversions, SIGKILL after the 60th answer, restart, retries: every order, reward and email exactly once', async () => {
		await runCrashScenario(
			{
				baseUrl: () => server!.baseUrl,
				kill: () => server!.kill(),
				restart: async () => {
					server = await n8n.startN8n(bin, env, { port });
					await n8n.waitForWebhook(`${server!.baseUrl}/webhook/referral/conversion`, {
						method: 'POST',
						body: '{}',
					});
				},
				ledger: () => openLedger({ backend: 'sqlite', path: ledgerPath() }),
				smtp,
				log: (message) => console.log(`single instance ${message}`),
			},
			orders,
		);
	}, 900_000);
});
