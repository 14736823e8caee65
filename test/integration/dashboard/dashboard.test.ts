import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openPostgresLedger, openSqliteLedger, type LedgerStore } from '../../../engine/ledger';
import {
	dashboardCharts,
	dashboardHtml,
	formToken,
	loadDashboard,
	loadReviewQueue,
	reviewDecision,
	reviewQueueHtml,
	reviewSecret,
	sessionOf,
	type Decision,
} from '../../../engine/pages/dashboard';
import { ReferralService } from '../../../engine/refunds';
import { saveReferralProgram } from '../../../engine/referrals/programs';
import { referralLeaderboard, referralStats } from '../../../engine/referrals/stats';
import { dropSchema, PG_URL, pgAvailability, randomSchema } from '../../support/databases';

const pg = pgAvailability();
const opened: Array<() => Promise<void>> = [];
afterAll(async () => {
	for (const close of opened) await close();
});

async function sqlite(): Promise<LedgerStore> {
	const ledger = await openSqliteLedger({
		backend: 'sqlite',
		path: path.join(mkdtempSync(path.join(os.tmpdir(), 'rm-dash-')), 'l.sqlite'),
	});
	opened.push(() => ledger.close());
	return ledger;
}

async function postgres(): Promise<LedgerStore> {
	const schema = randomSchema('rm_dash');
	const ledger = await openPostgresLedger({
		backend: 'postgres',
		connectionString: PG_URL,
		schema,
	});
	opened.push(async () => {
		await ledger.close();
		await dropSchema(schema);
	});
	return ledger;
}

const backends: Array<[string, () => Promise<LedgerStore>, boolean]> = [
	['SQLite', sqlite, true],
	['PostgreSQL', postgres, pg.available],
];

/** A small program: 6 referrals (3 qualified, one of them refunded later, 2 flagged), rewards, points, a coupon pool. */
async function program(ledger: LedgerStore) {
	await saveReferralProgram(ledger, { programId: 'p' });
	const svc = await ReferralService.open(ledger, 'p');
	const ana = await svc.enrol({ email: 'ana@example.com', name: 'Ana <b>' });
	const ben = await svc.enrol({ email: 'ben@example.com', name: 'Ben' });
	const code = (p: typeof ana) => p.participant.code!;
	const c1 = await svc.enrol({ email: 'c1@example.org', referralCode: code(ana) });
	const c2 = await svc.enrol({ email: 'c2@example.org', referralCode: code(ana) });
	const c3 = await svc.enrol({ email: 'c3@example.org', referralCode: code(ben) });
	await svc.enrol({ email: 'c4@example.org', referralCode: code(ben) });
	const f1 = await svc.enrol({ email: 'f1@mailinator.com', referralCode: code(ben) });
	const f2 = await svc.enrol({ email: 'f2@mailinator.com', referralCode: code(ana) });
	expect([f1.referral!.status, f2.referral!.status]).toEqual(['flagged', 'flagged']);
	for (const [c, order, amount] of [
		[c1, 'o1', 40],
		[c2, 'o2', 60],
		[c3, 'o3', 25],
	] as const)
		await svc.qualify({ email: c.participant.email!, orderId: order, amount, currency: 'EUR' });
	await svc.reverse({ referralId: c2.referral!.id });
	const now = Date.now();
	const award = async (
		recipient: number,
		referral: number,
		rule: string,
		extra: Record<string, unknown>,
	) =>
		await ledger.awardReward({
			programId: 'p',
			recipientId: recipient,
			referralId: referral,
			side: 'referrer',
			rule,
			...extra,
		} as never);
	await award(ana.participant.id, c1.referral!.id, 'cash', {
		kind: 'cash',
		amount: 10,
		currency: 'EUR',
		status: 'pending',
	});
	await award(ben.participant.id, c3.referral!.id, 'cash', {
		kind: 'cash',
		amount: 5.5,
		currency: 'EUR',
		status: 'fulfilled',
	});
	await award(ana.participant.id, c1.referral!.id, 'points', {
		kind: 'points',
		amount: 100,
		status: 'fulfilled',
		points: { delta: 100, reason: 'referral' },
	});
	await ledger.loadCoupons({
		programId: 'p',
		pool: 'spring',
		codes: ['A1', 'A2', 'A3', 'A4', 'A5'],
	});
	await ledger.claimCoupon({ programId: 'p', pool: 'spring', participantId: ana.participant.id });
	return { svc, now, flagged: [f1.referral!.id, f2.referral!.id] };
}

for (const [name, open, available] of backends) {
	describe.skipIf(!available)(`the marketer dashboard on ${name}`, () => {
		it("shows Get Stats' figures for the same ledger, the series adding up to its funnel, liability and coupon pools", async () => {
			const ledger = await open();
			const { now } = await program(ledger);
			for (const period of ['lifetime', 'month'] as const) {
				const data = await loadDashboard(ledger, {
					programId: 'p',
					period,
					at: now,
					bucket: 'day',
					buckets: 3,
				});
				const stats = await referralStats(ledger, { programId: 'p', period, at: now });
				expect(data.stats).toEqual(stats);
				expect(data.leaderboard).toEqual(
					await referralLeaderboard(ledger, {
						programId: 'p',
						by: 'qualifiedReferrals',
						period,
						at: now,
						limit: 10,
					}),
				);
			}
			const data = await loadDashboard(ledger, {
				programId: 'p',
				period: 'lifetime',
				at: now,
				bucket: 'day',
				buckets: 3,
			});
			const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
			expect(data.stats.funnel).toMatchObject({
				recorded: 6,
				flagged: 2,
				qualified: 3,
				reversed: 1,
				netQualified: 2,
			});
			expect(sum(data.funnel.signUps)).toBe(6);
			expect(sum(data.funnel.qualified)).toBe(3);
			expect(sum(data.funnel.rewarded)).toBe(2);
			expect(data.funnel.clicks).toBeNull();
			expect(data.funnel.signUps).toHaveLength(3);
			expect(data.liability.money).toEqual([
				{ currency: 'EUR', owed: 10, paid: 5.5, owedCount: 1, paidCount: 1 },
			]);
			expect(data.liability.points).toMatchObject({
				owed: 0,
				paid: 100,
				outstanding: 100,
				holders: 1,
			});
			expect(data.coupons).toEqual([
				{ pool: 'spring', available: 4, claimed: 1, perDay: 1 / 30, daysLeft: 120 },
			]);

			const html = dashboardHtml(data, { reviewUrl: '/review', dashboardUrl: '/dash' });
			expect(html).toContain('<!doctype html>');
			expect(html).toContain(
				`<li data-kpi="recorded"><span class="label">Referrals recorded</span><span class="value">6</span></li>`,
			);
			expect(html).toContain(
				`data-kpi="kFactor"><span class="label">K-factor</span><span class="value">${Number(data.stats.kFactor!.value.toFixed(3))}</span>`,
			);
			expect(html).toContain('Ana &lt;b&gt;');
			expect(html).not.toContain('Ana <b>');
			expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
			expect(Object.keys(dashboardCharts(data))).toEqual(['funnel', 'overTime', 'topReferrers']);
			const withLoyalty = await loadDashboard(ledger, {
				programId: 'p',
				period: 'lifetime',
				at: now,
				bucket: 'week',
				loyalty: { segments: { Champions: 3, 'At risk': 1 }, loyaltyIndex: [5, 55, 99, 100] },
			});
			expect(Object.keys(dashboardCharts(withLoyalty))).toEqual([
				'funnel',
				'overTime',
				'topReferrers',
				'segments',
				'loyaltyIndex',
			]);
			expect(dashboardHtml(withLoyalty)).toContain('Loyalty index distribution');
		});

		it("starts the funnel at the tracked links' clicks once there are any", async () => {
			const ledger = await open();
			const { now } = await program(ledger);
			for (const visitorId of ['visitor-aaaaaaaaaa1', 'visitor-aaaaaaaaaa2', 'visitor-aaaaaaaaaa3'])
				await ledger.recordClick({
					programId: 'p',
					codeStatus: 'unknown',
					channel: 'direct',
					visitorId,
					at: now,
				});
			const data = await loadDashboard(ledger, {
				programId: 'p',
				period: 'lifetime',
				at: now,
				bucket: 'day',
				buckets: 3,
			});
			expect(data.funnel.clicks).toEqual([0, 0, 3]);
			expect(data.funnel.signUps[2]).toBe(6);
			const charts = dashboardCharts(data);
			expect(charts.funnel).toContain('Clicks: 3 → Sign-ups: 6');
		});

		it('review queue: reasons in words with evidence; Approve and Reject are CSRF-checked, idempotent, and redirect back', async () => {
			const ledger = await open();
			const { now, flagged } = await program(ledger);
			const queue = await loadReviewQueue(ledger, { programId: 'p' });
			expect(queue.map((q) => q.referralId)).toEqual(flagged);
			expect(queue[0].reasons[0]).toMatchObject({
				code: 'disposable_email',
				words: 'The new customer signed up with a throwaway email address',
			});
			expect(queue[0].reasons[0].detail).toBeTruthy();
			const secret = await reviewSecret(ledger, 'p');
			expect(await reviewSecret(ledger, 'p')).toBe(secret);
			const sessionId = 'session-aaaaaaaaaaaaaaaa';
			const token = (id: number, action: Decision, session = sessionId) =>
				formToken(
					secret,
					{ sessionId: session, programId: 'p', referralId: String(id), action },
					now,
				);
			const html = reviewQueueHtml(queue, {
				actionUrl: '/decide',
				tokenFor: (id, action) => token(id, action),
			});
			expect(html).toContain(`name="token" value="${token(flagged[0], 'approve')}"`);
			// The marketer sees who: the referrer's and new customer's names and emails, escaped.
			expect(queue.map((q) => [q.referrer?.email, q.referee?.email])).toEqual([
				['ben@example.com', 'f1@mailinator.com'],
				['ana@example.com', 'f2@mailinator.com'],
			]);
			const row = (page: string, id: number) =>
				page.slice(page.indexOf(`data-referral="${id}"`)).split('</tr>')[0];
			expect(row(html, flagged[0])).toContain('<strong>Ben</strong><br>ben@example.com');
			expect(row(html, flagged[0])).toContain('f1@mailinator.com');
			expect(row(html, flagged[1])).toContain('<strong>Ana &lt;b&gt;</strong>');
			expect(html).not.toContain('Ana <b>');
			expect(html).toContain('method="post" action="/decide"');
			const svc = await ReferralService.open(ledger, 'p');
			// An erased new customer is shown as erased, with nothing personal left.
			await svc.eraseParticipant({ email: 'f1@mailinator.com' });
			const erased = reviewQueueHtml(await loadReviewQueue(ledger, { programId: 'p' }), {
				actionUrl: '/decide',
				tokenFor: (id, action) => token(id, action),
			});
			expect(row(erased, flagged[0])).toContain('<td class="referee"><em>erased</em><br>');
			expect(erased).not.toContain('f1@mailinator.com');
			const calls: string[] = [];
			const decide = async (decision: Decision, id: string) => {
				calls.push(`${decision} ${id}`);
				return decision === 'approve' ? await svc.approve(id) : await svc.reject(id);
			};
			const post = (
				form: Record<string, unknown>,
				headers: Record<string, unknown> = {},
				session: string | null = sessionId,
			) =>
				reviewDecision({
					programId: 'p',
					secret,
					sessionId: session,
					form,
					headers,
					now,
					reviewUrl: '/review',
					decide,
				});
			const [a, b] = flagged;

			// Refused before any change: no token, another session's token, another action's or referral's token, cross-site, expired.
			const refused = [
				await post({ referralId: a, decision: 'approve' }),
				await post({
					referralId: a,
					decision: 'approve',
					token: token(a, 'approve', 'other-session-bbbbbbbb'),
				}),
				await post({ referralId: a, decision: 'approve', token: token(a, 'approve') }, {}, null),
				await post({ referralId: a, decision: 'approve', token: token(a, 'reject') }),
				await post({ referralId: a, decision: 'approve', token: token(b, 'approve') }),
				await post(
					{ referralId: a, decision: 'approve', token: token(a, 'approve') },
					{ origin: 'https://evil.example', host: 'n8n.local' },
				),
				await reviewDecision({
					programId: 'p',
					secret,
					sessionId,
					headers: {},
					reviewUrl: '/review',
					decide,
					form: {
						referralId: a,
						decision: 'approve',
						token: formToken(
							secret,
							{ sessionId, programId: 'p', referralId: String(a), action: 'approve' },
							now - 3 * 3600_000,
						),
					},
					now,
				}),
			];
			for (const r of refused)
				expect(r).toMatchObject({ ok: false, statusCode: 403, reason: 'csrf' });
			expect(
				await post({ referralId: 'x; drop', decision: 'approve', token: token(a, 'approve') }),
			).toMatchObject({ statusCode: 400 });
			expect(calls).toEqual([]);
			expect((await ledger.getReferral({ programId: 'p', id: a }))!.status).toBe('flagged');

			const first = await post(
				{ referralId: a, decision: 'approve', token: token(a, 'approve') },
				{ origin: 'http://n8n.local', host: 'n8n.local', 'sec-fetch-site': 'same-origin' },
			);
			expect(first).toMatchObject({ ok: true, statusCode: 303, decision: 'approve' });
			expect(first.headers.location).toBe(`/review?notice=approve&referral=${a}`);
			expect(first.headers['cache-control']).toBe('no-store');
			const statusAfter = (await ledger.getReferral({ programId: 'p', id: a }))!.status;
			expect(['pending', 'approved']).toContain(statusAfter);
			// The same form posted again (a double click, a retry) answers the same and changes nothing.
			const again = await post({ referralId: a, decision: 'approve', token: token(a, 'approve') });
			expect(again).toEqual(first);
			expect((await ledger.getReferral({ programId: 'p', id: a }))!.status).toBe(statusAfter);
			expect(
				(await ledger.referralHistory({ programId: 'p', referralId: a })).filter(
					(h) => h.to === 'approved',
				),
			).toHaveLength(1);

			const rejected = await post({ referralId: b, decision: 'reject', token: token(b, 'reject') });
			expect(rejected).toMatchObject({ ok: true, statusCode: 303 });
			expect(await post({ referralId: b, decision: 'reject', token: token(b, 'reject') })).toEqual(
				rejected,
			);
			expect((await ledger.getReferral({ programId: 'p', id: b }))!.status).toBe('rejected');
			// Approving a rejected referral is not a review any more: back to the queue with a notice, nothing changed.
			expect(
				await post({ referralId: b, decision: 'approve', token: token(b, 'approve') }),
			).toMatchObject({
				ok: false,
				statusCode: 303,
				reason: 'not_reviewable',
				headers: { location: `/review?notice=not_reviewable&referral=${b}` },
			});
			expect((await ledger.getReferral({ programId: 'p', id: b }))!.status).toBe('rejected');
			expect(await loadReviewQueue(ledger, { programId: 'p' })).toEqual([]);
		});

		it("binds the session to the reviewer's login when there is one (n8n 2's sandboxed pages send no SameSite cookie), else the cookie", () => {
			const ana = sessionOf({ authorization: 'Basic YW5hOnNlY3JldA==' })!;
			expect(ana).toMatch(/^login-[A-Za-z0-9_-]{32}$/);
			expect(
				sessionOf({
					authorization: 'Basic YW5hOnNlY3JldA==',
					cookie: 'rm_review_sid=cccccccccccccccccccc',
				}),
			).toBe(ana);
			expect(sessionOf({ authorization: 'Basic Ym86c2VjcmV0' })).not.toBe(ana);
			expect(sessionOf({ cookie: 'a=b; rm_review_sid=cccccccccccccccccccc' })).toBe(
				'cccccccccccccccccccc',
			);
			expect(sessionOf({ cookie: 'rm_review_sid=<x>' })).toBeNull();
			expect(sessionOf({})).toBeNull();
			expect(JSON.stringify(ana)).not.toContain('YW5h');
		});
	});
}
