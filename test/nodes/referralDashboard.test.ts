import { afterEach, describe, expect, it } from 'vitest';
import { openLedger } from '../../engine/ledger';
import { ledgerConfigFromCredential } from '../../nodes/shared/ledger';
import { runWorkflow, singleNodeWorkflow } from '../harness';
import { ledgerNodeBackends, pgTestUrl, runLedgerNode, type LedgerWorld } from './ledgerBackends';

/** Referral Dashboard in the node harness: pages as {html, statusCode, headers}, charts as binary, the review form's CSRF check. */
for (const [name, world] of ledgerNodeBackends('dash')) {
	describe.skipIf(name === 'PostgreSQL' && !pgTestUrl())(`Referral Dashboard on ${name}`, () => {
		let w: LedgerWorld;
		afterEach(async () => await w?.cleanup());

		async function seed() {
			w = await world();
			const enrol = (email: string, code?: string) =>
				runLedgerNode(
					w.credential,
					'referral',
					{ resource: 'participant', operation: 'enrol', inputSource: 'fields' },
					[code ? { email, referralCode: code } : { email }],
				);
			const [ana] = await enrol('ana@example.com');
			await enrol('bo@example.org', ana.participant.code);
			const [flagged] = await enrol('cy@mailinator.com', ana.participant.code);
			expect(flagged.referral.status).toBe('flagged');
			return { flaggedId: flagged.referral.id as number };
		}

		it('serves the dashboard with the Get Stats figures, strict headers and no external resource', async () => {
			await seed();
			const [stats] = await runLedgerNode(
				w.credential,
				'referral',
				{ resource: 'program', operation: 'stats', period: 'month' },
				[{}],
			);
			const [page] = await runLedgerNode(
				w.credential,
				'referralDashboard',
				{ operation: 'dashboardPage', period: 'month' },
				[{}],
			);
			expect(page.statusCode).toBe(200);
			expect(page.headers).toMatchObject({
				'content-type': 'text/html; charset=utf-8',
				'cache-control': 'no-store',
			});
			expect(page.headers['content-security-policy']).toContain("default-src 'none'");
			expect(page.html).toContain(
				`data-kpi="recorded"><span class="label">Referrals recorded</span><span class="value">${stats.funnel.recorded}</span>`,
			);
			expect(page.html).toContain(
				`data-kpi="flagged"><span class="label">Awaiting review</span><span class="value">${stats.funnel.flagged}</span>`,
			);
			expect(page.html).not.toMatch(/<script|<link|src="http/);
		});

		it('renders the report charts as PNG and SVG binaries', async () => {
			await seed();
			const ledgerNode = {
				type: 'referralDashboard',
				parameters: { program: 'shop', operation: 'reportCharts', period: 'month' },
				credentials: { referralLedgerApi: { id: '1', name: 'Ledger' } },
			};
			const result = await runWorkflow(singleNodeWorkflow(ledgerNode as never, [{}]), {
				credentials: { referralLedgerApi: w.credential as never },
			});
			const [item] = result.items('Node');
			expect(Object.keys(item.binary!).sort()).toEqual([
				'funnelPng',
				'funnelSvg',
				'overTimePng',
				'overTimeSvg',
				'topReferrersPng',
				'topReferrersSvg',
			]);
			expect(item.binary!.funnelPng).toMatchObject({
				mimeType: 'image/png',
				fileName: 'funnel.png',
			});
			expect(Buffer.from(item.binary!.funnelPng.data, 'base64').subarray(1, 4).toString()).toBe(
				'PNG',
			);
			expect(item.json.funnel).toMatchObject({ recorded: 2, flagged: 1 });
		});

		it('review queue sets a session cookie and its forms carry tokens; a decision without them is refused, with them approved', async () => {
			const { flaggedId } = await seed();
			const [queue] = await runLedgerNode(
				w.credential,
				'referralDashboard',
				{ operation: 'reviewQueuePage' },
				[{ headers: {}, query: {} }],
			);
			const cookie = String(queue.headers['set-cookie']);
			expect(cookie).toMatch(/^rm_review_sid=[A-Za-z0-9_-]+; Path=\/; HttpOnly; SameSite=Strict/);
			const token = new RegExp(
				`name="referralId" value="${flaggedId}"><input type="hidden" name="decision" value="approve"><input type="hidden" name="token" value="([^"]+)"`,
			).exec(queue.html)![1];
			const post = (body: object, headers: object) =>
				runLedgerNode(
					w.credential,
					'referralDashboard',
					{ operation: 'reviewDecision', reviewUrl: '/review' },
					[{ headers, body }],
				);
			const session = { cookie: cookie.split(';')[0] };
			const [forged] = await post(
				{ referralId: String(flaggedId), decision: 'approve', token },
				{},
			);
			expect(forged).toMatchObject({ statusCode: 403, ok: false });
			const [ok] = await post(
				{ referralId: String(flaggedId), decision: 'approve', token },
				session,
			);
			expect(ok).toMatchObject({
				statusCode: 303,
				ok: true,
				headers: { location: `/review?notice=approve&referral=${flaggedId}` },
			});
			const [replay] = await post(
				{ referralId: String(flaggedId), decision: 'approve', token },
				session,
			);
			expect(replay).toEqual(ok);
			const ledger = await openLedger(ledgerConfigFromCredential(w.credential));
			try {
				expect((await ledger.getReferral({ programId: 'shop', id: flaggedId }))!.status).not.toBe(
					'flagged',
				);
			} finally {
				await ledger.close();
			}
			const [after] = await runLedgerNode(
				w.credential,
				'referralDashboard',
				{ operation: 'reviewQueuePage' },
				[{ headers: session, query: { notice: 'approve', referral: String(flaggedId) } }],
			);
			expect(after.headers['set-cookie']).toBeUndefined();
			expect(after.html).toContain(`Referral ${flaggedId}: Approved.`);
			expect(after.html).toContain('Nothing to review');
		});

		it("behind Basic Auth the forms are bound to the reviewer's login: no cookie needed, another login is refused", async () => {
			const { flaggedId } = await seed();
			const login = { authorization: 'Basic cmV2aWV3ZXI6cGFzcw==' };
			const [queue] = await runLedgerNode(
				w.credential,
				'referralDashboard',
				{ operation: 'reviewQueuePage' },
				[{ headers: login, query: {} }],
			);
			expect(queue.headers['set-cookie']).toBeUndefined();
			const token = new RegExp(
				`value="${flaggedId}"><input type="hidden" name="decision" value="reject"><input type="hidden" name="token" value="([^"]+)"`,
			).exec(queue.html)![1];
			const body = { referralId: String(flaggedId), decision: 'reject', token };
			const post = (headers: object) =>
				runLedgerNode(
					w.credential,
					'referralDashboard',
					{ operation: 'reviewDecision', reviewUrl: '/review' },
					[{ headers, body }],
				);
			const [other] = await post({ authorization: 'Basic b3RoZXI6cGFzcw==' });
			expect(other).toMatchObject({ statusCode: 403 });
			// n8n 2's sandboxed page posts with Origin: null and Sec-Fetch-Site: cross-site; the token decides.
			const [ok] = await post({ ...login, origin: 'null', 'sec-fetch-site': 'cross-site' });
			expect(ok).toMatchObject({ statusCode: 303, ok: true, decision: 'reject' });
		});
	});
}
