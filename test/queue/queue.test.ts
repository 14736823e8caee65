/* Queue mode with 2 workers: webhook executions spread over both workers, every response right,
 * and a workflow with this package's node keeps at least half the request rate of a trivial
 * Webhook → Respond workflow measured in the same run on the same processes, the two interleaved. */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CodeGenerator, parseCodeFormat } from '../../engine/codes';
// @ts-expect-error plain ESM script without types
import * as n8n from '../../scripts/n8n.mjs';
// @ts-expect-error plain ESM script without types
import { compareRates, startQueueCluster } from '../../scripts/queue.mjs';

const REQUESTS = 200;

describe('queue mode: main + 2 workers on PostgreSQL and Redis', () => {
	let userFolder: string;
	let cluster: { baseUrl: string; stop: () => Promise<void>; executionsPerWorker: () => number[] };

	beforeAll(async () => {
		userFolder = mkdtempSync(path.join(os.tmpdir(), 'rm-queue-'));
		cluster = await startQueueCluster(userFolder, {
			workers: 2,
			files: [
				path.join(n8n.ROOT, 'workflows/referral-code-check.json'),
				path.join(__dirname, 'trivial-webhook.json'),
			],
		});
	});

	afterAll(async () => {
		await cluster?.stop();
		if (userFolder) rmSync(userFolder, { recursive: true, force: true });
	});

	it('spreads executions over both workers and keeps half the rate of a trivial workflow', async () => {
		const format = parseCodeFormat({ pattern: 'XXXX-XXXX', prefix: 'FRIEND-' });
		const codes = new CodeGenerator(format).generate(REQUESTS);
		const post = (url: string, code: string) => ({
			url,
			init: {
				method: 'POST',
				headers: { 'content-type': 'application/json' },
				body: JSON.stringify({ code }),
			},
		});
		const checkUrl = `${cluster.baseUrl}/webhook/referral/code/check`;
		const baselineUrl = `${cluster.baseUrl}/webhook/queue/baseline`;
		await n8n.waitForWebhook(checkUrl, post(checkUrl, codes[0]).init);
		await n8n.waitForWebhook(baselineUrl, post(baselineUrl, codes[0]).init);

		// Interleaved (A B B A …) so that load from outside this test (CI runs an e2e suite beside it)
		// weighs on both rates alike.
		const { baseline, subject } = await compareRates(
			codes.map((code) => post(baselineUrl, code)),
			codes.map((code) => post(checkUrl, code.toLowerCase())),
			{ rounds: 4, concurrency: 50 },
		);

		expect(baseline.results.every((r: { status: number }) => r.status === 200)).toBe(true);
		expect(subject.results.every((r: { status: number }) => r.status === 200)).toBe(true);
		subject.results.forEach((r: { body: string }, i: number) =>
			expect(JSON.parse(r.body)).toMatchObject({ canonical: codes[i], valid: true }),
		);

		const perWorker = cluster.executionsPerWorker();
		console.log(
			`queue mode: trivial ${baseline.rate.toFixed(1)} req/s, code check ${subject.rate.toFixed(1)} req/s, ratio ${(subject.rate / baseline.rate).toFixed(2)}; executions per worker ${perWorker.join(' / ')}`,
		);
		expect(perWorker.every((count: number) => count > 0)).toBe(true);
		expect(perWorker.reduce((a: number, b: number) => a + b, 0)).toBeGreaterThanOrEqual(
			2 * REQUESTS,
		);
		expect(subject.rate / baseline.rate).toBeGreaterThanOrEqual(0.5);
	});
});
