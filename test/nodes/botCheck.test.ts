/* Shop Webhook › Verify Bot Check against loopback fakes of Cloudflare Turnstile's and hCaptcha's
 * siteverify endpoints, answering their documented shapes ({success, challenge_ts, hostname,
 * "error-codes", action} and {success, challenge_ts, hostname, credit, "error-codes"}). The fake
 * accepts one token and only with the right secret, and answers each token once, as they do. */
import type { IDataObject } from 'n8n-workflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSiteverifyAnswer, siteverifyRequest } from '../../engine/webhooks/botCheck';
import { startHttpFake, type HttpFake, type RecordedRequest } from '../fakes/http';
import { PACKAGE_NAME, runWorkflow, type WorkflowJson } from '../harness';

const SECRET = '0x4AAAAAAA-test-secret';
const GOOD = 'XXXX.DUMMY.TOKEN.XXXX';

function siteverify(provider: 'turnstile' | 'hcaptcha') {
	const seen = new Set<string>();
	return (request: RecordedRequest) => {
		const form = request.form ?? {};
		const fail = (codes: string[]) => ({
			status: 200,
			body:
				provider === 'turnstile'
					? { success: false, 'error-codes': codes, messages: [] }
					: { success: false, 'error-codes': codes },
		});
		if (!form.secret) return fail(['missing-input-secret']);
		if (form.secret !== SECRET) return fail(['invalid-input-secret']);
		if (!form.response) return fail(['missing-input-response']);
		if (form.response !== GOOD) return fail(['invalid-input-response']);
		if (seen.has(form.response))
			return fail([provider === 'turnstile' ? 'timeout-or-duplicate' : 'already-seen-response']);
		seen.add(form.response);
		const ts = '2026-12-02T18:00:00.000Z';
		return {
			status: 200,
			body:
				provider === 'turnstile'
					? {
							success: true,
							challenge_ts: ts,
							hostname: 'www.example.com',
							'error-codes': [],
							action: 'signup',
							cdata: '',
						}
					: { success: true, challenge_ts: ts, hostname: 'www.example.com', credit: false },
		};
	};
}

describe('bot check answers, read as documented', () => {
	it('asks with the token and the client IP; no token, no request', () => {
		expect(
			siteverifyRequest({ provider: 'turnstile', token: ' abc ', remoteIp: '203.0.113.9' }),
		).toEqual({
			url: 'https://challenges.cloudflare.com/turnstile/v0/siteverify',
			form: { response: 'abc', remoteip: '203.0.113.9' },
		});
		expect(
			siteverifyRequest({ provider: 'hcaptcha', token: 'abc', siteKey: '10000000-ffff' }),
		).toEqual({
			url: 'https://api.hcaptcha.com/siteverify',
			form: { response: 'abc', sitekey: '10000000-ffff' },
		});
		expect(siteverifyRequest({ provider: 'turnstile', token: undefined })).toMatchObject({
			success: false,
			errorCodes: ['missing-input-response'],
		});
		expect(siteverifyRequest({ provider: 'turnstile', token: 'x'.repeat(2049) })).toMatchObject({
			success: false,
			errorCodes: ['invalid-input-response'],
		});
	});

	it('success only with success: true and, when asked, the hostname and action', () => {
		const ok = {
			success: true,
			hostname: 'www.example.com',
			action: 'signup',
			challenge_ts: 't',
			'error-codes': [],
		};
		expect(readSiteverifyAnswer(200, ok)).toMatchObject({
			success: true,
			hostname: 'www.example.com',
		});
		expect(readSiteverifyAnswer(200, ok, { hostname: 'shop.example.com' })).toMatchObject({
			success: false,
			errorCodes: ['hostname-mismatch'],
		});
		expect(readSiteverifyAnswer(200, ok, { action: 'login' })).toMatchObject({
			success: false,
			errorCodes: ['action-mismatch'],
		});
		expect(
			readSiteverifyAnswer(200, { success: false, 'error-codes': ['timeout-or-duplicate'] }),
		).toMatchObject({ success: false, message: expect.stringContaining('already used') });
		expect(readSiteverifyAnswer(502, '<html>')).toMatchObject({
			success: false,
			errorCodes: ['provider-error'],
		});
		expect(readSiteverifyAnswer(200, { success: 'true' })).toMatchObject({
			success: false,
			errorCodes: ['provider-error'],
		});
	});
});

for (const provider of ['turnstile', 'hcaptcha'] as const) {
	describe(`Shop Webhook › Verify Bot Check with ${provider}`, () => {
		let fake: HttpFake;
		beforeAll(async () => {
			fake = await startHttpFake(siteverify(provider));
		});
		afterAll(async () => {
			await fake?.close();
		});

		const workflow = (
			items: IDataObject[],
			secret = SECRET,
			continueOnFail = false,
		): [WorkflowJson, Record<string, IDataObject>] => [
			{
				nodes: [
					{
						id: 't',
						name: 'Start',
						type: 'n8n-nodes-base.manualTrigger',
						typeVersion: 1,
						position: [0, 0],
						parameters: {},
					},
					{
						id: 'n',
						name: 'Bot Check',
						type: `${PACKAGE_NAME}.shopWebhook`,
						typeVersion: 1,
						position: [200, 0],
						parameters: { operation: 'botCheck', expectedHostname: 'www.example.com' },
						credentials: { referralBotCheckApi: { id: '1', name: 'Bot Check' } },
						...(continueOnFail ? { onError: 'continueRegularOutput' as const } : {}),
					},
				],
				connections: { Start: { main: [[{ node: 'Bot Check', type: 'main', index: 0 }]] } },
				pinData: { Start: items.map((json) => ({ json })) as never },
			},
			{
				referralBotCheckApi: {
					provider,
					secretKey: secret,
					site: provider === 'hcaptcha' ? '10000000-ffff-ffff-ffff-000000000001' : '',
					verifyUrl: `${fake.url}/siteverify`,
				},
			},
		];
		const run = async (items: IDataObject[], secret?: string, continueOnFail?: boolean) => {
			const [wf, credentials] = workflow(items, secret, continueOnFail);
			return await runWorkflow(wf, { credentials: credentials as never });
		};
		const sent = () => fake.requests.at(-1)!.form!;

		it('a good token is Verified; the same token again, a made-up one or none is Rejected with field botCheck', async () => {
			const hops = process.env.N8N_PROXY_HOPS;
			process.env.N8N_PROXY_HOPS = '1';
			try {
				const headers = {
					'x-forwarded-for': '6.6.6.6, 203.0.113.9',
					'content-type': 'application/json',
				};
				const first = await run([
					{ headers, body: { email: 'ann@example.com', captchaToken: GOOD } },
				]);
				expect(first.json('Bot Check', 0)).toEqual([
					expect.objectContaining({
						body: { email: 'ann@example.com', captchaToken: GOOD },
						botCheck: expect.objectContaining({
							verified: true,
							provider,
							hostname: 'www.example.com',
						}),
					}),
				]);
				// The secret came from the credential, the IP from the trusted proxy's entry.
				expect(sent()).toMatchObject({ secret: SECRET, response: GOOD, remoteip: '203.0.113.9' });
				if (provider === 'hcaptcha')
					expect(sent().sitekey).toBe('10000000-ffff-ffff-ffff-000000000001');
				const requestsBefore = fake.requests.length;
				const later = await run([
					{ headers, body: { captchaToken: GOOD } },
					{ headers, body: { captchaToken: 'made-up' } },
					{ headers, body: { email: 'bot@example.com' } },
				]);
				expect(later.json('Bot Check', 0)).toEqual([]);
				expect(later.json('Bot Check', 1).map((i) => (i.error as IDataObject).code)).toEqual([
					provider === 'turnstile' ? 'timeout-or-duplicate' : 'already-seen-response',
					'invalid-input-response',
					'missing-input-response',
				]);
				expect(
					later.json('Bot Check', 1).every((i) => (i.error as IDataObject).field === 'botCheck'),
				).toBe(true);
				// No token: no call to the provider.
				expect(fake.requests.length - requestsBefore).toBe(2);
			} finally {
				if (hops === undefined) delete process.env.N8N_PROXY_HOPS;
				else process.env.N8N_PROXY_HOPS = hops;
			}
		});

		it('a wrong secret key is an error naming the credential, not a rejected visitor', async () => {
			const result = await run(
				[{ headers: {}, body: { captchaToken: GOOD } }],
				'not-the-secret',
				true,
			);
			const [failed] = result.json('Bot Check', 1);
			expect(failed.error).toEqual({ message: expect.stringContaining('secret key is wrong') });
			expect(JSON.stringify(result.json('Bot Check', 1))).not.toContain('not-the-secret');
		});
	});
}
