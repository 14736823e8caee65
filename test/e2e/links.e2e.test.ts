/* Issue #17 in a real n8n (2.40.7, and 1.123.81 in `npm run test:e2e:n8n1`): the sample tracked link
 * `GET /webhook/r/<code>` answers 302 to the landing page with the code and sets the visitor cookie;
 * a Slackbot unfurl and a HEAD request are redirected without being counted; an unknown code lands
 * without one; then a sign-up through the sample sign-up webhook carrying the cookie (and no code)
 * is credited to the link's owner. */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeAllLedgers, defaultSqlitePath, openLedger } from '../../engine/ledger';
import { n8nDataFolder } from '../../engine/shared/environment';
import { startSmtpServer, type SmtpTestServer } from '../fakes/smtpServer';
import { TEST_LEAD_SCORING_TOKEN, TEST_LINK_SECRET, TEST_WEBHOOK_SECRET } from '../support/signing';
import { enrolledIn } from '../support/signUpAnswer';
// @ts-expect-error plain ESM script without types
import * as n8n from '../../scripts/n8n.mjs';

const FILES = ['referral-signup.json', 'referral-link.json'].map((f) =>
	path.join(n8n.ROOT, 'workflows', f),
);
const CHROME =
	'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

describe('tracked referral links in real n8n', () => {
	let userFolder: string;
	let smtp: SmtpTestServer;
	let server: { baseUrl: string; stop: () => Promise<void> } | undefined;
	const url = (pathname: string) => `${server!.baseUrl}/webhook/${pathname}`;
	const ledgerPath = () => defaultSqlitePath(n8nDataFolder({ N8N_USER_FOLDER: userFolder }));
	const clicks = async () =>
		await (
			await openLedger({ backend: 'sqlite', path: ledgerPath() })
		).clickStats({ programId: 'default' });
	const visit = (code: string, init: { method?: string; headers?: Record<string, string> } = {}) =>
		fetch(url(`r/${encodeURIComponent(code)}`), {
			redirect: 'manual',
			method: init.method ?? 'GET',
			headers: { 'user-agent': CHROME, ...init.headers },
		});
	const signUp = (body: unknown, headers: Record<string, string> = {}) =>
		fetch(url('referral/signup'), {
			method: 'POST',
			headers: { 'content-type': 'application/json', 'user-agent': CHROME, ...headers },
			body: JSON.stringify(body),
		});

	beforeAll(async () => {
		smtp = await startSmtpServer();
		userFolder = mkdtempSync(path.join(os.tmpdir(), 'rm-e2e-links-'));
		const credentials = [
			n8n.localSmtpCredential(smtp.port),
			n8n.localSmsCredential('http://127.0.0.1:9'),
			...n8n.securityCredentials({
				webhookSecret: TEST_WEBHOOK_SECRET,
				leadScoringToken: TEST_LEAD_SCORING_TOKEN,
				linkSecret: TEST_LINK_SECRET,
			}),
		];
		({ server } = await n8n.startInstance(userFolder, { credentials, files: FILES }));
		await n8n.waitForWebhook(url('referral/signup'), {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: '{}',
		});
		await n8n.waitForWebhook(url('r/WARMUP'), { redirect: 'manual' });
	});

	afterAll(async () => {
		await closeAllLedgers();
		await server?.stop();
		await smtp?.close();
		if (userFolder) rmSync(userFolder, { recursive: true, force: true });
	});

	let annCode: string;
	let annId: number;
	let visitor: string;

	it('GET /webhook/r/<code> answers 302 to the landing page with the code, and sets the visitor cookie', async () => {
		expect((await signUp({ email: 'ann@example.com', name: 'Ann' })).status).toBe(202);
		const ann = (await enrolledIn(ledgerPath(), 'ann@example.com')).participant!;
		annCode = ann.code!;
		annId = ann.id;
		const before = (await clicks()).clicks;
		const response = await visit(annCode);
		expect(response.status).toBe(302);
		expect(response.headers.get('location')).toBe(`https://example.com/join?ref=${annCode}`);
		const [cookie] = response.headers.getSetCookie();
		expect(cookie).toMatch(
			/^rm_vid=[A-Za-z0-9_-]{22}; Max-Age=2592000; Path=\/; HttpOnly; SameSite=Lax$/,
		);
		visitor = /^rm_vid=([^;]+)/.exec(cookie)![1];
		expect(response.headers.get('cache-control')).toBe('no-store');
		expect(await response.text()).not.toContain('ann@');
		const after = await clicks();
		expect(after.clicks).toBe(before + 1);
		expect(after.byReferrer).toEqual([expect.objectContaining({ referrerId: annId, clicks: 1 })]);
	});

	it('a Slackbot unfurl and a HEAD request are redirected but not counted; an unknown code lands without one', async () => {
		const before = await clicks();
		const slack = await visit(annCode, {
			headers: { 'user-agent': 'Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)' },
		});
		expect(slack.status).toBe(302);
		expect(slack.headers.get('location')).toBe(`https://example.com/join?ref=${annCode}`);
		expect(slack.headers.getSetCookie()).toEqual([]);
		const head = await visit(annCode, { method: 'HEAD' });
		expect(head.status).toBe(302);
		expect(head.headers.getSetCookie()).toEqual([]);
		expect((await clicks()).clicks).toBe(before.clicks);

		const unknown = await visit('NOSUCHCODE1', { headers: { cookie: `rm_vid=${visitor}` } });
		expect(unknown.status).toBe(302);
		expect(unknown.headers.get('location')).toBe('https://example.com/join');
		const after = await clicks();
		expect(after.clicks).toBe(before.clicks + 1);
		expect(after.byCodeStatus.unknown).toBe(before.byCodeStatus.unknown + 1);
	});

	it('a sign-up carrying the cookie, without a code, is credited to the link owner', async () => {
		const response = await signUp(
			{ email: 'bob@example.com', name: 'Bob' },
			{ cookie: `rm_vid=${visitor}` },
		);
		expect(response.status).toBe(202);
		const bob = await enrolledIn(ledgerPath(), 'bob@example.com');
		expect(bob.referral).toMatchObject({ referrerCode: annCode });
		const ledger = await openLedger({ backend: 'sqlite', path: ledgerPath() });
		const referral = await ledger.findReferralByReferee({
			programId: 'default',
			refereeId: bob.participant!.id,
		});
		expect(referral).toMatchObject({ referrerId: annId });
		expect(referral!.clickId).not.toBeNull();
		// The body cannot name the visitor: the same claim without the cookie credits nobody.
		expect(
			(await signUp({ email: 'cid@example.com', visitorId: visitor, referrerId: annId })).status,
		).toBe(202);
		expect((await enrolledIn(ledgerPath(), 'cid@example.com')).referral).toBeNull();
		const stats = await ledger.clickStats({ programId: 'default' });
		expect(stats.byChannel).toEqual([
			expect.objectContaining({ channel: 'direct', clicks: 2, signUps: 1 }),
		]);
	});
});
