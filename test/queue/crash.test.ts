/* Issue 13 defect 8 in queue mode: n8n main + 2 workers on PostgreSQL (n8n's database and the
 * ledger) and Redis; 200 signed conversions 20 at a time, SIGKILL of main and workers after the
 * 60th answer, restart, retries; then no order, reward or email lost or doubled
 * (test/support/crashScenario.ts). The conversion and sweep workflows are the samples with every
 * package node on the PostgreSQL ledger, as an operator sets them up for queue mode. */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { closeAllLedgers, openLedger } from '../../engine/ledger';
import { startSmtpServer } from '../fakes/smtpServer';
import { runCrashScenario, seedReferrals } from '../support/crashScenario';
import { TEST_LEAD_SCORING_TOKEN, TEST_WEBHOOK_SECRET } from '../support/signing';
// @ts-expect-error plain ESM script without types
import * as n8n from '../../scripts/n8n.mjs';
// @ts-expect-error plain ESM script without types
import { startQueueCluster } from '../../scripts/queue.mjs';

const PG_URL = process.env.LEDGER_TEST_PG_URL || 'postgres://postgres@127.0.0.1:5432/test';
const LEDGER_CREDENTIAL = { id: 'rmQueueLedger001', name: 'Referral Ledger (queue)' };

function onPostgresLedger(file: string, folder: string): string {
	const workflow = JSON.parse(readFileSync(path.join(n8n.ROOT, 'workflows', file), 'utf8'));
	for (const node of workflow.nodes) {
		if (String(node.type).startsWith('n8n-nodes-referral-marketing.'))
			node.credentials = { ...(node.credentials ?? {}), referralLedgerApi: LEDGER_CREDENTIAL };
	}
	const out = path.join(folder, file);
	writeFileSync(out, JSON.stringify(workflow));
	return out;
}

describe('a crash of the queue-mode cluster loses and repeats no reward email', () => {
	let folder: string;
	let cluster: {
		baseUrl: string;
		stop: () => Promise<void>;
		kill: () => Promise<void>;
		restart: () => Promise<void>;
	};
	let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
	const schema = `rm_crash_${randomBytes(5).toString('hex')}`;
	const ledger = () => openLedger({ backend: 'postgres', connectionString: PG_URL, schema });
	let orders: Awaited<ReturnType<typeof seedReferrals>>;

	beforeAll(async () => {
		folder = mkdtempSync(path.join(os.tmpdir(), 'rm-crash-'));
		smtp = await startSmtpServer();
		orders = await seedReferrals(await ledger());
		const credentials = [
			n8n.localSmtpCredential(smtp.port, smtp.host),
			// The sweep's welcome-text node needs its SMS credential; no text is owed here, so it points nowhere.
			n8n.localSmsCredential('http://127.0.0.1:9'),
			...n8n.securityCredentials({
				webhookSecret: TEST_WEBHOOK_SECRET,
				leadScoringToken: TEST_LEAD_SCORING_TOKEN,
			}),
			{
				...LEDGER_CREDENTIAL,
				type: 'referralLedgerApi',
				data: { backend: 'postgres', connection: 'url', connectionStringSecret: PG_URL, schema },
			},
		];
		const credentialsFile = path.join(folder, 'credentials.json');
		writeFileSync(credentialsFile, JSON.stringify(credentials));
		cluster = await startQueueCluster(path.join(folder, 'n8n'), {
			workers: 2,
			credentialsFile,
			files: [
				onPostgresLedger('referral-conversion.json', folder),
				onPostgresLedger('owed-message-sweep.json', folder),
			],
		});
		await n8n.waitForWebhook(`${cluster.baseUrl}/webhook/referral/conversion`, {
			method: 'POST',
			body: '{}',
		});
	});

	afterAll(async () => {
		await cluster?.stop();
		await smtp?.close();
		await closeAllLedgers();
		const client = new pg.Client({ connectionString: PG_URL });
		await client.connect();
		await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
		await client.end();
		if (folder) rmSync(folder, { recursive: true, force: true });
	});

	// Quarantined on 2026-12-02 (48 of 50 coupons): two workers committed one referrer's conversions in
	// another order than their dates, and no evaluation saw the 3rd referral at rank 3. Fixed in the
	// engine (late orders, #13.9: the referrer's evaluations under the ledger's lease, referrals moved up
	// by a late order evaluated at their new rank); test/integration/rewards/lateOrders.test.ts and
	// cutEvaluation.test.ts prove it without n8n.
	it('200 conversions, SIGKILL of main and workers after the 60th answer, restart, retries: every order, reward and email exactly once', async () => {
		await runCrashScenario(
			{
				baseUrl: () => cluster.baseUrl,
				kill: () => cluster.kill(),
				restart: async () => {
					await cluster.restart();
					await n8n.waitForWebhook(`${cluster.baseUrl}/webhook/referral/conversion`, {
						method: 'POST',
						body: '{}',
					});
				},
				ledger,
				smtp,
				log: (message) => console.log(`queue mode ${message}`),
			},
			orders,
		);
	}, 900_000);
});
