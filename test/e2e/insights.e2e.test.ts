/* Workflows 6–8 of the sample set in real n8n 2.40.7, imported and activated beside every other
 * workflow in workflows/, mail to a loopback SMTP server: lead scoring by webhook (scores, stages,
 * one sales email per hot lead and stage), the loyalty report run by hand as the editor runs it (an RFM
 * segment table by email), and the event feed polling the ledger for a flagged referral and for a
 * referrer reaching the Gold tier through ten orders sent to the conversion workflow. */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain ESM script without types
import * as n8n from '../../scripts/n8n.mjs';
import { startSmtpServer, type ReceivedMail, type SmtpTestServer } from '../fakes/smtpServer';
import { signedPost, TEST_LEAD_SCORING_TOKEN, TEST_WEBHOOK_SECRET } from '../support/signing';
import { enrolledIn } from '../support/signUpAnswer';
import { closeAllLedgers } from '../../engine/ledger';

const DAY = 86_400_000;
const daysAgo = (days: number) => new Date(Date.now() - days * DAY).toISOString();
const json = (body: unknown) => ({
	method: 'POST',
	headers: { 'content-type': 'application/json' },
	body: JSON.stringify(body),
});
/** The lead-scoring webhook takes n8n's Header Auth (credential "Lead Scoring Header Auth"). */
const withToken = (init: ReturnType<typeof json>) => ({
	...init,
	headers: { ...init.headers, authorization: `Bearer ${TEST_LEAD_SCORING_TOKEN}` },
});
const to = (mail: ReceivedMail) => mail.envelope.to.join(',');

async function waitForMail(
	smtp: SmtpTestServer,
	recipient: string,
	timeoutMs: number,
	subject?: string,
): Promise<ReceivedMail> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const found = smtp.messages.find(
			(m) => to(m) === recipient && (subject === undefined || m.parsed.subject === subject),
		);
		if (found) return found;
		if (Date.now() > deadline)
			throw new Error(
				`No mail to ${recipient} within ${timeoutMs / 1000} s; got mail to: ${smtp.messages.map(to).join(' | ')}`,
			);
		await new Promise((r) => setTimeout(r, 500));
	}
}

describe('Lead scoring, loyalty report and event feed workflows in real n8n', () => {
	let userFolder: string;
	let smtp: SmtpTestServer;
	let server: { baseUrl: string; bin: string; stop(): Promise<void>; logFile: string } | undefined;

	beforeAll(async () => {
		smtp = await startSmtpServer();
		userFolder = mkdtempSync(path.join(os.tmpdir(), 'rm-insights-e2e-'));
		// One n8n for the whole file: the report runs by hand through its REST API, the rest through webhooks and the trigger.
		({ server } = await n8n.startInstance(userFolder, {
			files: n8n.workflowFiles(),
			credentials: [
				n8n.localSmtpCredential(smtp.port),
				...n8n.securityCredentials({
					webhookSecret: TEST_WEBHOOK_SECRET,
					leadScoringToken: TEST_LEAD_SCORING_TOKEN,
				}),
			],
		}));
	});

	afterAll(async () => {
		await closeAllLedgers();
		await server?.stop();
		await smtp?.close();
		if (userFolder) rmSync(userFolder, { recursive: true, force: true });
	});

	it('runs the loyalty report by hand and emails the RFM segment table to marketing', async () => {
		const run = await n8n.runWorkflow(server, 'rmLoyaltyReport1');
		expect(run.status).toBe('success');
		const runData = run.data.resultData.runData;
		const transactions = runData['Sample Transactions'][0].data.main[0];
		const summary = runData['RFM Segments'][0].data.main[0][0].json;
		expect(summary.customers).toBe(12);
		expect(summary.transactions).toBe(transactions.length);
		const filled = summary.segments.filter((s: { customers: number }) => s.customers > 0);
		expect(filled.reduce((sum: number, s: { customers: number }) => sum + s.customers, 0)).toBe(12);
		const sent = runData['Email Report'][0].data.main[0];
		expect(
			sent,
			JSON.stringify(runData['Email Report'][0].data.main[3]?.[0]?.json?.delivery),
		).toHaveLength(1);
		expect(sent[0].json.delivery).toMatchObject({ outcome: 'sent' });

		const reports = smtp.messages.filter((m) => to(m) === 'marketing@example.com');
		expect(reports).toHaveLength(1);
		const html = String(reports[0].parsed.html);
		expect(reports[0].parsed.subject).toMatch(
			/^Loyalty report \d{4}-\d{2}-\d{2}: 12 customers in RFM segments$/,
		);
		// The charts of Referral Dashboard › Report Charts, embedded as PNG (data URIs: no image host).
		const images = [
			...html.matchAll(/<img src="data:image\/png;base64,([A-Za-z0-9+/]+)(?:=|&#x3D;){0,2}"/g),
		];
		expect(images).toHaveLength(3);
		for (const [, base64] of images)
			expect(Buffer.from(base64, 'base64').subarray(1, 4).toString()).toBe('PNG');
		expect(html).toContain(
			'alt="Customers by RFM segment (bar chart; the table below has the numbers)"',
		);
		// One table row per segment that has customers, none for the empty ones.
		expect(html.match(/<tr><td>/g)).toHaveLength(filled.length);
		for (const segment of filled)
			expect(html).toContain(
				`<td>${segment.segment.replace(/'/g, '&#x27;')}</td><td>${segment.customers}</td>`,
			);

		// A second run the same day sends nothing: the key holds the date.
		const again = await n8n.runWorkflow(server, 'rmLoyaltyReport1');
		expect(
			again.data.resultData.runData['Email Report'][0].data.main[1][0].json.delivery,
		).toMatchObject({ outcome: 'skipped', reason: 'duplicate' });
		expect(smtp.messages.filter((m) => to(m) === 'marketing@example.com')).toHaveLength(1);
	});

	it('runs the ledger retention workflow by hand: the sample ledger is pruned of nothing younger than 90 days', async () => {
		// The loyalty report above sent an email (a final message in the log) and kept its key: both
		// are minutes old, so Keep For 90 days keeps them and the prune counts zero.
		const run = await n8n.runWorkflow(server, 'rmLedgerPrune001');
		expect(run.status).toBe('success');
		const out = run.data.resultData.runData['Prune Old Records'][0].data.main[0];
		expect(out).toHaveLength(1);
		expect(out[0].json).toMatchObject({
			retentionDays: 90,
			pruned: { messages: 0, events: 0, idempotencyKeys: 0 },
		});
		expect(Date.now() - Date.parse(out[0].json.prunedBefore)).toBeGreaterThanOrEqual(
			90 * 86_400_000,
		);
	});

	it('scores leads through the webhook, answers with stages and emails sales once per hot lead', async () => {
		const started = server!;
		const leads = [
			{
				id: 'lead-hot',
				name: 'Dana Whitfield',
				email: 'dana@northwind.example',
				title: 'VP Marketing',
				industry: 'SaaS',
				country: 'US',
				company: { name: 'Northwind', employees: 420 },
				lastPricingVisitAt: daysAgo(0.5),
				demoRequestedAt: daysAgo(1),
				emailClicks: 6,
				lastEmailClickAt: daysAgo(2),
			},
			{
				id: 'lead-cold',
				name: 'Sam Ortiz',
				email: 'sam.ortiz@gmail.com',
				title: 'Student',
				industry: 'Education',
				country: 'ES',
				company: { employees: 1 },
				emailClicks: 1,
			},
			{
				id: 'lead-warm',
				name: 'Priya Raman',
				email: 'priya@ledgerly.example',
				title: 'Head of Growth',
				industry: 'Fintech',
				country: 'GB',
				company: { employees: 85 },
				lastPricingVisitAt: daysAgo(200),
			},
		];
		const url = `${started.baseUrl}/webhook/leads/score`;
		// Without the header n8n refuses before anything is scored or sent.
		expect((await n8n.waitForWebhook(url, json({ leads }))).status).toBe(403);
		const response = await fetch(url, withToken(json({ leads })));
		expect(response.status).toBe(200);
		const body = (await response.json()) as any;
		expect(body.leads.map((l: { id: string }) => l.id)).toEqual([
			'lead-hot',
			'lead-cold',
			'lead-warm',
		]);
		const [hot, cold, warm] = body.leads.map(
			(l: { leadScore: Record<string, unknown> }) => l.leadScore,
		);
		// Hot: full fit 50 + engagement capped at 60 → total capped at 100.
		expect(hot).toMatchObject({ score: 100, stage: 'SQL', grade: 'A', engagementLevel: 1 });
		expect(cold).toMatchObject({ score: 0, stage: 'cold', grade: 'F' });
		// Warm: fit 50, the pricing visit is older than 30 days so engagement adds nothing.
		expect(warm).toMatchObject({ score: 50, stage: 'MQL', engagement: 0 });
		expect(
			hot.explanation.rules
				.filter((r: { matched: boolean }) => r.matched)
				.map((r: { rule: string }) => r.rule),
		).toContain('Requested a demo');

		const first = await waitForMail(smtp, 'sales@example.com', 15_000);
		await new Promise((r) => setTimeout(r, 1500));
		const sales = smtp.messages.filter((m) => to(m) === 'sales@example.com');
		expect(sales.map((m) => m.parsed.subject).sort()).toEqual([
			'MQL lead: Priya Raman (50 points)',
			'SQL lead: Dana Whitfield (100 points)',
		]);
		expect(String(sales.find((m) => /Dana/.test(String(m.parsed.subject)))?.parsed.html)).toContain(
			'<li>Requested a demo: 30 points</li>',
		);
		expect(first.envelope.from).toBe('leads@example.com');

		// A single lead object works too; the same lead at the same stage is not announced again.
		const single = await fetch(url, withToken(json(leads[0])));
		expect(single.status).toBe(200);
		const singleBody = (await single.json()) as { leads: Array<{ leadScore: { stage: string } }> };
		expect(singleBody.leads).toHaveLength(1);
		expect(singleBody.leads[0].leadScore.stage).toBe('SQL');
		await new Promise((r) => setTimeout(r, 1500));
		expect(smtp.messages.filter((m) => to(m) === 'sales@example.com')).toHaveLength(2);
	}, 180_000);

	it('emails ops when a sign-up is flagged, and marketing when a referrer reaches Gold, from the Referral Trigger polling the ledger', async () => {
		if (!server) throw new Error('n8n did not start in the previous test');
		const signup = `${server.baseUrl}/webhook/referral/signup`;
		// The sign-up answers alike for everyone (#14): codes and referrals are read from the ledger n8n uses.
		const ledgerPath = path.join(userFolder, '.n8n', 'referral-ledger.sqlite');
		expect(
			(await n8n.waitForWebhook(signup, json({ email: 'ria.referrer@example.org', name: 'Ria' })))
				.status,
		).toBe(202);
		const code = (await enrolledIn(ledgerPath, 'ria.referrer@example.org')).participant!.code;
		expect(code).toMatch(/\S/);
		expect(
			(await fetch(signup, json({ email: 'throwaway@mailinator.com', referralCode: code }))).status,
		).toBe(202);
		const referee = await enrolledIn(ledgerPath, 'throwaway@mailinator.com');
		expect(referee.referral).toMatchObject({
			status: 'flagged',
			reasons: expect.arrayContaining(['disposable_email']),
		});

		// Tia's ten friends sign up with her code and order: the 10th qualified referral earns Gold.
		expect((await fetch(signup, json({ email: 'tia@example.com', name: 'Tia' }))).status).toBe(202);
		const tia = (await enrolledIn(ledgerPath, 'tia@example.com')) as {
			participant: { id: number; code: string };
		};
		const conversion = `${server.baseUrl}/webhook/referral/conversion`;
		await n8n.waitForWebhook(
			conversion,
			signedPost({ email: 'warm-up@example.com', orderId: 'warm-up', amount: 1, currency: 'EUR' }),
		);
		const tiers: unknown[] = [];
		for (let i = 1; i <= 10; i++) {
			const friend = `friend${i}@example.net`;
			expect(
				(await fetch(signup, json({ email: friend, referralCode: tia.participant.code }))).status,
			).toBe(202);
			const joined = (await enrolledIn(ledgerPath, friend)) as { referral: { status: string } };
			expect(joined.referral.status).toBe('pending');
			const order = (await (
				await fetch(
					conversion,
					signedPost({ email: friend, orderId: `T-${i}`, amount: 25, currency: 'EUR' }),
				)
			).json()) as {
				referral: { status: string };
				rewards: Array<{ recipient: string; tier?: string; badge?: string }>;
			};
			expect(order.referral.status).toBe('qualified');
			tiers.push(
				...order.rewards
					.filter((r) => r.recipient === 'referrer' && (r.tier || r.badge))
					.map((r) => [i, r.tier ?? null, r.badge ?? null]),
			);
		}
		// Only the 10th order earns anything beyond points: the Gold tier and the Gold badge.
		expect(tiers.map((t) => JSON.stringify(t)).sort()).toEqual([
			'[10,"Gold",null]',
			'[10,null,"Gold"]',
		]);

		// The trigger polls every minute; the first poll after activation may only set its cursor.
		const mail = await waitForMail(smtp, 'ops@example.com', 150_000);
		expect(mail.parsed.subject).toBe(`Referral #${referee.referral!.id} flagged for review`);
		expect(String(mail.parsed.html)).toContain('<code>disposable_email</code>');
		const gold = await waitForMail(
			smtp,
			'marketing@example.com',
			150_000,
			`Participant #${tia.participant.id} reached Gold`,
		);
		expect(String(gold.parsed.html)).toContain('reached the <strong>Gold</strong> tier');
		await new Promise((r) => setTimeout(r, 1500));
		expect(smtp.messages.filter((m) => to(m) === 'ops@example.com')).toHaveLength(1);
		// The loyalty report and the one Gold notice; no referrer below ten referrals reached a tier.
		const toMarketing = smtp.messages
			.filter((m) => to(m) === 'marketing@example.com')
			.map((m) => String(m.parsed.subject));
		expect(toMarketing).toHaveLength(2);
		expect(toMarketing.filter((subject) => subject.includes(' reached '))).toEqual([
			`Participant #${tia.participant.id} reached Gold`,
		]);

		// #13 defect 4: a refund of the 10th order takes Tia below Gold's minimum (Demote): the refund answers it
		// as demoted, and the trigger's tier.lost branch emails marketing.
		const refunded = (await (
			await fetch(`${server.baseUrl}/webhook/referral/refund`, signedPost({ orderId: 'T-10' }))
		).json()) as { outcome: string; demoted: Array<Record<string, unknown>> };
		expect(refunded.outcome).toBe('reversed');
		expect(refunded.demoted.map((d) => [d.kind, d.name]).sort()).toEqual([
			['badge', 'Gold'],
			['tier', 'Gold'],
		]);
		const lost = await waitForMail(
			smtp,
			'marketing@example.com',
			150_000,
			`Participant #${tia.participant.id} lost Gold`,
		);
		expect(String(lost.parsed.html)).toContain('below its minimum of 10');
	}, 450_000);
});
