import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalizeCode, parseCodeFormat } from '../../engine/codes';
// @ts-expect-error plain ESM script without types
import * as n8n from '../../scripts/n8n.mjs';

const format = parseCodeFormat({ pattern: 'XXXX-XXXX', prefix: 'FRIEND-' });

describe('Referral Code node in real n8n', () => {
	let userFolder: string;
	let server: { baseUrl: string; bin: string; stop: () => Promise<void> } | undefined;

	beforeAll(async () => {
		userFolder = mkdtempSync(path.join(os.tmpdir(), 'rm-e2e-'));
		// One n8n for both tests: the batch runs by hand through its REST API, the check through its webhook.
		({ server } = await n8n.startInstance(userFolder, {
			files: [
				path.join(n8n.ROOT, 'workflows/referral-code-batch.json'),
				path.join(n8n.ROOT, 'workflows/referral-code-check.json'),
			],
		}));
	});

	afterAll(async () => {
		await server?.stop();
		if (userFolder) rmSync(userFolder, { recursive: true, force: true });
	});

	it('runs the batch workflow from workflows/ by hand, as the editor does', async () => {
		const run = await n8n.runWorkflow(server, 'rmCodeBatch00001');
		expect(run.status).toBe('success');
		const runData = run.data.resultData.runData;
		const generated = runData['Generate Codes'][0].data.main[0].map(
			(item: { json: { code: string } }) => item.json.code,
		);
		expect(generated).toHaveLength(20);
		expect(new Set(generated).size).toBe(20);
		for (const code of generated) expect(normalizeCode(format, code).valid).toBe(true);
		const checks = runData['Check Codes'][0].data.main[0].map(
			(item: { json: { codeCheck: { valid: boolean; canonical: string } } }) => item.json.codeCheck,
		);
		expect(checks.every((c: { valid: boolean }) => c.valid)).toBe(true);
		expect(checks.map((c: { canonical: string }) => c.canonical)).toEqual(generated);
	});

	it('answers the code-check webhook of an active workflow', async () => {
		const code = new (await import('../../engine/codes')).CodeGenerator(format).next();
		const typed = code.toLowerCase().replace(/-/g, ' ');
		const url = `${server!.baseUrl}/webhook/referral/code/check`;
		const init = (body: unknown) => ({
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify(body),
		});
		const response = await n8n.waitForWebhook(url, init({ code: typed }));
		expect(response.status).toBe(200);
		expect(await response.json()).toMatchObject({
			input: typed,
			canonical: code,
			valid: true,
			checkCharacterValid: true,
		});

		const body = code.slice('FRIEND-'.length).replace('-', '');
		const swapped =
			body[0] === body[1]
				? body.slice(0, 2) + body[3] + body[2] + body.slice(4)
				: body[1] + body[0] + body.slice(2);
		const bad = await fetch(url, init({ code: swapped }));
		expect(bad.status).toBe(200);
		const badJson = await bad.json();
		if (swapped !== body)
			expect(badJson).toMatchObject({ valid: false, problem: 'check_character_mismatch' });
	});
});
