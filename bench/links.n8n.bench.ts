/* The tracked referral link inside real n8n (2.40.7, the package installed as a community package):
 * the request rate of the sample `referral-link.json` (GET /webhook/r/<code> → Track Click, which
 * writes the click to the SQLite ledger → 302 with the visitor cookie) against a trivial
 * Webhook → Respond to Webhook (302) workflow in the same n8n, both fired with the same concurrency
 * and interleaved (A B B A …, scripts/queue.mjs compareRates) so that other load on the machine
 * weighs on both alike. Every subject request must be a counted click with its cookie, and the
 * ledger must hold exactly that many clicks afterwards. Issue #17 asks for ≥ 0.5×.
 * Run: npm run bench -- links   (LINKS_BENCH_REQUESTS=400 for a small run) */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { closeAllLedgers, defaultSqlitePath, openLedger } from '../engine/ledger';
import { ReferralService, saveReferralProgram } from '../engine/referrals';
import { n8nDataFolder } from '../engine/shared/environment';
import { report } from './lib';
// @ts-expect-error plain ESM script without types
import * as n8n from '../scripts/n8n.mjs';
// @ts-expect-error plain ESM script without types
import { compareRates } from '../scripts/queue.mjs';

const REQUESTS = Number(process.env.LINKS_BENCH_REQUESTS ?? 2000);
const CONCURRENCY = Number(process.env.LINKS_BENCH_CONCURRENCY ?? 8);
const ROUNDS = Number(process.env.LINKS_BENCH_ROUNDS ?? 4);
const CHROME =
	'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

const plain = {
	id: 'rmLinksBenchPln',
	name: 'Bench: plain Webhook → Respond 302',
	nodes: [
		{
			id: 'b1',
			name: 'Webhook',
			type: 'n8n-nodes-base.webhook',
			typeVersion: 2.1,
			position: [0, 0],
			webhookId: '5b0c7a3e-1d2f-4e6a-9b8c-0d1e2f3a4b51',
			parameters: {
				httpMethod: 'GET',
				path: 'bench/plain',
				responseMode: 'responseNode',
				options: {},
			},
		},
		{
			id: 'b2',
			name: 'Redirect',
			type: 'n8n-nodes-base.respondToWebhook',
			typeVersion: 1.4,
			position: [220, 0],
			parameters: {
				respondWith: 'noData',
				options: {
					responseCode: 302,
					responseHeaders: {
						entries: [
							{ name: 'Location', value: 'https://example.com/join' },
							{ name: 'Cache-Control', value: 'no-store' },
						],
					},
				},
			},
		},
	],
	connections: { Webhook: { main: [[{ node: 'Redirect', type: 'main', index: 0 }]] } },
	settings: { executionOrder: 'v1' },
	active: false,
};

async function main(): Promise<void> {
	const userFolder = mkdtempSync(path.join(os.tmpdir(), 'rm-bench-links-'));
	let server: { baseUrl: string; stop: () => Promise<void> } | undefined;
	try {
		const plainFile = path.join(userFolder, 'plain.json');
		writeFileSync(plainFile, JSON.stringify(plain));
		({ server } = await n8n.startInstance(userFolder, {
			build: true,
			files: [path.join(n8n.ROOT, 'workflows', 'referral-link.json'), plainFile],
		}));
		const base = server!.baseUrl;
		// The sample program with its landing page, and one referrer whose link is clicked.
		const ledgerPath = defaultSqlitePath(n8nDataFolder({ N8N_USER_FOLDER: userFolder }));
		const ledger = await openLedger({ backend: 'sqlite', path: ledgerPath });
		await saveReferralProgram(ledger, {
			programId: 'default',
			share: { baseUrl: 'https://example.com/join' },
		});
		const service = await ReferralService.open(ledger, 'default');
		const code = (await service.enrol({ email: 'ann@example.com' })).participant.code!;
		await n8n.waitForWebhook(`${base}/webhook/bench/plain`, { redirect: 'manual' });
		await n8n.waitForWebhook(`${base}/webhook/r/${code}`, {
			redirect: 'manual',
			headers: { 'user-agent': 'Slackbot 1.0' },
		});
		const init = { redirect: 'manual', headers: { 'user-agent': CHROME } };
		const requests = (url: string) => Array.from({ length: REQUESTS }, () => ({ url, init }));
		// Warm both up (JIT, n8n's caches) before measuring.
		await compareRates(
			requests(`${base}/webhook/bench/plain`).slice(0, 50),
			requests(`${base}/webhook/r/${code}?utm_source=bench`).slice(0, 50),
			{ rounds: 2, concurrency: CONCURRENCY },
		);
		const before = (await ledger.clickStats({ programId: 'default' })).clicks;
		const { baseline, subject } = await compareRates(
			requests(`${base}/webhook/bench/plain`),
			requests(`${base}/webhook/r/${code}?utm_source=bench`),
			{ rounds: ROUNDS, concurrency: CONCURRENCY },
		);
		const bad = subject.results.filter((r: { status: number }) => r.status !== 302).length;
		const badPlain = baseline.results.filter((r: { status: number }) => r.status !== 302).length;
		if (bad > 0 || badPlain > 0)
			throw new Error(`${bad} redirect and ${badPlain} plain requests did not answer 302`);
		const counted = (await ledger.clickStats({ programId: 'default' })).clicks - before;
		if (counted !== REQUESTS)
			throw new Error(`the ledger counted ${counted} clicks for ${REQUESTS} redirects`);
		process.stderr.write(
			`  plain ${baseline.rate.toFixed(1)} req/s, tracked link ${subject.rate.toFixed(1)} req/s\n`,
		);
		report({
			name: `n8n: tracked referral link GET /webhook/r/<code>, ${REQUESTS} requests, ${CONCURRENCY} at a time (request rate)`,
			baseline: 'trivial Webhook → Respond to Webhook (302) in the same n8n, interleaved',
			baselineSeconds: 1 / baseline.rate,
			subject:
				'referral-link.json: Track Click (click written to the SQLite ledger) → 302 + cookie',
			subjectSeconds: 1 / subject.rate,
			target: 0.5,
			note: `ratio = tracked rate / plain rate; plain ${baseline.rate.toFixed(0)} req/s, tracked ${subject.rate.toFixed(0)} req/s; every click counted (${counted})`,
		});
	} finally {
		await closeAllLedgers();
		await server?.stop();
		rmSync(userFolder, { recursive: true, force: true });
	}
}

main().catch((error) => {
	process.stderr.write(
		`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
	);
	process.exitCode = 1;
});
