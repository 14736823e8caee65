/* npm start's secrets: from the environment when set, else made once and kept across restarts; the
 * printed curl really signs (bash + openssl) a request our verifier accepts. */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { verifyWebhookSignature } from '../../engine/webhooks/signatures';
// @ts-expect-error plain ESM script without types
import * as n8n from '../../scripts/n8n.mjs';

const folder = mkdtempSync(path.join(os.tmpdir(), 'rm-secrets-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

describe('npm start secrets', () => {
	it('makes secrets once, keeps them across restarts, and takes REFERRAL_WEBHOOK_SECRET from the environment without storing it', () => {
		const first = n8n.localSecrets(folder, {});
		expect(first.webhookSecret).toMatch(/^[0-9a-f]{64}$/);
		expect(first.stripeSecret).toMatch(/^whsec_[0-9a-f]{48}$/);
		expect(first.linkSecret).toMatch(/^[0-9a-f]{64}$/);
		expect(first.linkSecret).not.toBe(first.webhookSecret);
		expect(first.fromEnvironment).toEqual({ webhookSecret: false, linkSecret: false });
		expect(statSync(path.join(folder, 'referral-secrets.json')).mode & 0o777).toBe(0o600);
		expect(n8n.localSecrets(folder, {})).toEqual(first);
		const fromEnv = n8n.localSecrets(folder, {
			REFERRAL_WEBHOOK_SECRET: 'from-the-environment-0123456789',
		});
		expect(fromEnv).toMatchObject({
			webhookSecret: 'from-the-environment-0123456789',
			leadScoringToken: first.leadScoringToken,
			fromEnvironment: { webhookSecret: true },
		});
		expect(n8n.localSecrets(folder, {}).webhookSecret).toBe(first.webhookSecret);
		const linkFromEnv = n8n.localSecrets(folder, {
			REFERRAL_LINK_SECRET: 'link-secret-from-the-environment-0123456789',
		});
		expect(linkFromEnv).toMatchObject({
			linkSecret: 'link-secret-from-the-environment-0123456789',
			webhookSecret: first.webhookSecret,
			fromEnvironment: { linkSecret: true },
		});
		expect(n8n.localSecrets(folder, {}).linkSecret).toBe(first.linkSecret);
		const credentials = n8n.securityCredentials(first);
		expect(credentials.map((c: { id: string; type: string }) => [c.id, c.type])).toEqual([
			['rmWebhookSecret1', 'referralWebhookSecretApi'],
			['rmStripeSecret01', 'referralWebhookSecretApi'],
			['rmShopifySecret1', 'referralWebhookSecretApi'],
			['rmLeadScoreAuth1', 'httpHeaderAuth'],
			['rmLinkSecret0001', 'referralLinkSecretApi'],
			['rmDashboardAuth1', 'httpBasicAuth'],
		]);
		expect(credentials[5].data).toEqual({ user: 'marketing', password: first.dashboardPassword });
		expect(first.dashboardPassword).toMatch(/^[0-9a-f]{32}$/);
		expect(credentials[3].data).toEqual({
			name: 'Authorization',
			value: `Bearer ${first.leadScoringToken}`,
		});
		expect(credentials[4]).toMatchObject({
			name: 'Referral Link Secret',
			data: { secret: first.linkSecret, previousSecret: '' },
		});
	});

	it('the printed curl, pasted into bash, sends a request the verifier accepts', async () => {
		const secret = 'curl-test-secret-0123456789abcdef';
		const received: Array<{ headers: http.IncomingHttpHeaders; body: Buffer }> = [];
		const server = http.createServer((req, res) => {
			const chunks: Buffer[] = [];
			req.on('data', (c) => chunks.push(c));
			req.on('end', () => {
				received.push({ headers: req.headers, body: Buffer.concat(chunks) });
				res.end('{}');
			});
		});
		await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
		try {
			const port = (server.address() as { port: number }).port;
			const command = n8n.signedCurl(
				`http://127.0.0.1:${port}/webhook/referral/conversion`,
				'{"email":"bob@example.org","orderId":"A-1001","amount":59.9,"currency":"EUR"}',
				secret,
			);
			await new Promise<void>((resolve, reject) =>
				execFile('bash', ['-c', command], (error) => (error ? reject(error) : resolve())),
			);
			expect(received).toHaveLength(1);
			const [request] = received;
			expect(JSON.parse(request.body.toString())).toEqual({
				email: 'bob@example.org',
				orderId: 'A-1001',
				amount: 59.9,
				currency: 'EUR',
			});
			expect(
				verifyWebhookSignature({
					source: 'referral',
					rawBody: request.body,
					headers: request.headers,
					secrets: [secret],
				}),
			).toMatchObject({ ok: true });
		} finally {
			server.close();
		}
	});
});
