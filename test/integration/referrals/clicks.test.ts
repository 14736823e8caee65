/* Tracked referral links in the engine (issue #17) on SQLite and PostgreSQL: a click is recorded
 * (hashed ip and user agent, never the raw ones) and redirected with the code; bots, link previews,
 * HEAD and rate-limited repeats are redirected but not counted; unknown and revoked codes land
 * without a code and count as such; the visitor cookie is reused; a sign-up carrying the visitor id
 * is credited to the first or last click in the window; Get Stats and the leaderboard show it. */
import { readFileSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { describe, expect, it } from 'vitest';
import { openSqliteLedger, type LedgerStore } from '../../../engine/ledger';
import { ReferralService } from '../../../engine/refunds';
import { saveReferralProgram } from '../../../engine/referrals/programs';
import { referralLeaderboard, referralStats } from '../../../engine/referrals/stats';
import { ledgerBackends, pgAvailability, tempDir } from '../../support/databases';

const CHROME =
	'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const T0 = Date.UTC(2026, 5, 1, 12);
const DAY = 86_400_000;
const pg = pgAvailability();

for (const [backend, open] of ledgerBackends('rm_clicks')) {
	describe.skipIf(backend === 'PostgreSQL' && !pg.available)(`tracked links on ${backend}`, () => {
		const clock = { now: T0 };
		async function setup(
			settings: Record<string, unknown> = {},
			ledger?: LedgerStore,
		): Promise<{ svc: ReferralService; ledger: LedgerStore; code: string; annId: number }> {
			const store = ledger ?? (await open());
			await saveReferralProgram(store, {
				programId: 'p',
				share: { baseUrl: 'https://shop.example/join?lang=en' },
				...settings,
			});
			const svc = await ReferralService.open(store, 'p', { now: () => clock.now });
			const ann = await svc.enrol({ email: 'ann@example.com' });
			return { svc, ledger: store, code: ann.participant.code!, annId: ann.participant.id };
		}
		const get = (code: string, headers: Record<string, string> = {}, query = {}) => ({
			code,
			headers: { 'user-agent': CHROME, ...headers },
			query,
		});

		it('records a click and redirects to the landing page with the code and the utm parameters', async () => {
			clock.now = T0;
			const { svc, ledger, code, annId } = await setup();
			const outcome = await svc.trackClick(
				get(
					code.toLowerCase(),
					{ referer: 'https://news.example/post/1?x=y' },
					{
						utm_source: 'Newsletter',
						utm_campaign: 'june',
						other: 'dropped',
					},
				),
			);
			expect(outcome).toMatchObject({ counted: true, reason: 'counted', codeStatus: 'known' });
			const url = new URL(outcome.redirectUrl);
			expect(url.origin + url.pathname).toBe('https://shop.example/join');
			expect(Object.fromEntries(url.searchParams)).toEqual({
				lang: 'en',
				ref: code,
				utm_source: 'Newsletter',
				utm_campaign: 'june',
			});
			expect(outcome.setCookie).toMatch(
				/^rm_vid=[A-Za-z0-9_-]{22}; Max-Age=2592000; Path=\/; HttpOnly; SameSite=Lax$/,
			);
			const stats = await ledger.clickStats({ programId: 'p' });
			expect(stats).toMatchObject({ clicks: 1, byCodeStatus: { known: 1 } });
			expect(stats.byReferrer).toEqual([
				{ referrerId: annId, clicks: 1, signUps: 0, qualified: 0 },
			]);
			expect(stats.byChannel).toEqual([
				{ channel: 'newsletter', clicks: 1, signUps: 0, qualified: 0 },
			]);
		});

		it('does not count bots, link previews, prefetches or HEAD, but still redirects them (no cookie)', async () => {
			const { svc, ledger, code } = await setup();
			const agents = [
				'Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)',
				'WhatsApp/2.23.20.0 A',
				'facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)',
				'Twitterbot/1.0',
				'LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)',
				'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
			];
			for (const agent of agents) {
				const outcome = await svc.trackClick(get(code, { 'user-agent': agent }));
				expect(outcome.counted, agent).toBe(false);
				expect(outcome.setCookie).toBeNull();
				expect(outcome.redirectUrl).toContain(`ref=${code}`);
			}
			expect(await svc.trackClick({ ...get(code), method: 'HEAD' })).toMatchObject({
				counted: false,
				reason: 'head_request',
			});
			expect(await svc.trackClick(get(code, { 'Sec-Purpose': 'prefetch' }))).toMatchObject({
				counted: false,
				reason: 'prefetch',
			});
			expect((await ledger.clickStats({ programId: 'p' })).clicks).toBe(0);
		});

		it('unknown and revoked codes land without a code and are counted as such', async () => {
			const { svc, ledger, code } = await setup();
			const unknown = await svc.trackClick(get('NOSUCHCODE'));
			expect(unknown).toMatchObject({
				counted: true,
				reason: 'unknown_code',
				codeStatus: 'unknown',
			});
			expect(unknown.redirectUrl).toBe('https://shop.example/join?lang=en');
			const junk = await svc.trackClick(get('<script>"x"</script>'));
			expect(junk).toMatchObject({ reason: 'unknown_code', codeStatus: 'unknown' });
			expect(junk.redirectUrl).toBe('https://shop.example/join?lang=en');
			await ledger.revokeCode({ programId: 'p', code });
			const revoked = await svc.trackClick(get(code));
			expect(revoked).toMatchObject({
				counted: true,
				reason: 'revoked_code',
				codeStatus: 'revoked',
			});
			expect(revoked.redirectUrl).toBe('https://shop.example/join?lang=en');
			expect(await ledger.clickStats({ programId: 'p' })).toMatchObject({
				clicks: 3,
				byCodeStatus: { known: 0, unknown: 2, revoked: 1 },
				byReferrer: [],
			});
		});

		it('rate-limits per client ip (behind a trusted proxy), reuses a valid visitor cookie, sets Secure over https', async () => {
			const { svc, ledger, code } = await setup();
			const from = (ip: string, extra: Record<string, string> = {}) =>
				get(code, { 'x-forwarded-for': ip, ...extra });
			const options = { proxyHops: 1, maxPerIp: 3, windowMinutes: 10 };
			const first = await svc.trackClick(from('203.0.113.7'), options);
			const visitor = /rm_vid=([^;]+)/.exec(first.setCookie!)![1];
			const again = await svc.trackClick(
				from('203.0.113.7', { cookie: `a=1; rm_vid=${visitor}` }),
				options,
			);
			expect(again.setCookie).toContain(`rm_vid=${visitor};`);
			const forged = await svc.trackClick(from('203.0.113.7', { cookie: 'rm_vid=bad' }), options);
			expect(forged.setCookie).not.toContain('rm_vid=bad');
			const limited = await svc.trackClick(from('203.0.113.7'), options);
			expect(limited).toMatchObject({ counted: false, reason: 'rate_limited', setCookie: null });
			expect(limited.redirectUrl).toContain(`ref=${code}`);
			expect((await svc.trackClick(from('198.51.100.2'), options)).counted).toBe(true);
			clock.now += 11 * 60_000;
			expect((await svc.trackClick(from('203.0.113.7'), options)).counted).toBe(true);
			const https = await svc.trackClick(
				from('198.51.100.3', { 'x-forwarded-proto': 'https' }),
				options,
			);
			expect(https.setCookie).toMatch(/; Secure$/);
			// The caller's own X-Forwarded-Proto (left of the trusted hop) proves nothing.
			const spoofed = await svc.trackClick(
				from('198.51.100.4', { 'x-forwarded-proto': 'https, http' }),
				options,
			);
			expect(spoofed.setCookie).not.toContain('Secure');
			expect((await ledger.clickStats({ programId: 'p' })).clicks).toBe(7);
			expect(
				(await svc.trackClick(from('198.51.100.5'), { ...options, secureCookie: 'always' }))
					.setCookie,
			).toMatch(/; Secure$/);
		});

		it('a landing page is required: without Share Link › Base URL the click is refused naming it', async () => {
			const ledger = await open();
			await saveReferralProgram(ledger, { programId: 'p' });
			const svc = await ReferralService.open(ledger, 'p');
			await expect(svc.trackClick(get('ABC'))).rejects.toMatchObject({
				code: 'required',
				field: 'baseUrl',
			});
		});

		it('a sign-up with the visitor id is credited to the first (or last) click in the window; stats and leaderboard show it', async () => {
			clock.now = T0;
			const { svc, ledger, code: annCode, annId } = await setup();
			const bob = await svc.enrol({ email: 'bob@example.com' });
			const bobCode = bob.participant.code!;
			const cookieOf = (o: { setCookie: string | null }) => /rm_vid=([^;]+)/.exec(o.setCookie!)![1];
			const first = await svc.trackClick(get(annCode, {}, { utm_source: 'whatsapp' }));
			const visitor = cookieOf(first);
			clock.now = T0 + DAY;
			await svc.trackClick(get(bobCode, { cookie: `rm_vid=${visitor}` }));
			clock.now = T0 + 2 * DAY;
			// First-touch (the default): Ann's click, though Bob's link came later.
			const carl = await svc.enrol({ email: 'carl@example.com', visitorId: visitor });
			expect(carl.referral).toMatchObject({ referrerCode: annCode, status: 'pending' });
			const carlReferral = await ledger.findReferralByReferee({
				programId: 'p',
				refereeId: carl.participant.id,
			});
			expect(carlReferral).toMatchObject({ referrerId: annId, touchedAt: T0 });
			expect(carlReferral!.clickId).not.toBeNull();
			// The same sign-up again answers like the first.
			expect(await svc.enrol({ email: 'carl@example.com', visitorId: visitor })).toEqual(carl);
			// A visitor id with no recorded click, or a made-up one, credits nobody.
			const dora = await svc.enrol({
				email: 'dora@example.com',
				visitorId: 'madeupvisitorid0000000',
			});
			expect(dora.referral).toBeNull();

			// Last-touch: Bob's later click.
			const last = await setup({ attribution: { model: 'last_touch' } }, await open());
			const lastBob = await last.svc.enrol({ email: 'bob@example.com' });
			clock.now = T0;
			const v2 = cookieOf(await last.svc.trackClick(get(last.code)));
			clock.now = T0 + DAY;
			await last.svc.trackClick(get(lastBob.participant.code!, { cookie: `rm_vid=${v2}` }));
			const erin = await last.svc.enrol({ email: 'erin@example.com', visitorId: v2 });
			expect(erin.referral).toMatchObject({ referrerCode: lastBob.participant.code });
			// Outside the window: no credit.
			clock.now = T0 + 40 * DAY;
			expect(
				(await last.svc.enrol({ email: 'finn@example.com', visitorId: v2 })).referral,
			).toBeNull();

			clock.now = T0 + 2 * DAY;
			const stats = await referralStats(ledger, {
				programId: 'p',
				period: 'lifetime',
				at: clock.now,
			});
			expect(stats.shareLinks).toMatchObject({
				clicks: 2,
				signUps: 1,
				visitors: 1,
				conversionRate: 0.5,
				byChannel: [
					{ channel: 'direct', clicks: 1, signUps: 0 },
					{ channel: 'whatsapp', clicks: 1, signUps: 1, qualified: 0, conversionRate: 1 },
				],
			});
			expect(stats.shareLinks.byReferrer).toEqual([
				expect.objectContaining({ participantId: annId, clicks: 1, signUps: 1 }),
				expect.objectContaining({ participantId: bob.participant.id, clicks: 1, signUps: 0 }),
			]);
			// The K-factor's invites are the link clicks when the ledger has them.
			expect(stats.kFactor).toMatchObject({ invitesFrom: 'link_clicks' });
			expect(stats.kFactor!.invitesPerParticipant).toBeCloseTo(2 / stats.customers);
			await ledger.qualifyReferral({
				programId: 'p',
				referralId: carlReferral!.id,
				orderId: 'order-1',
				fromStatuses: ['pending'],
			});
			const board = await referralLeaderboard(ledger, {
				programId: 'p',
				by: 'qualifiedReferrals',
				period: 'lifetime',
				at: clock.now,
				limit: 10,
			});
			expect(board).toEqual([
				expect.objectContaining({
					participantId: annId,
					score: 1,
					shareLinks: { clicks: 1, signUps: 1, qualified: 1, conversionRate: 1, qualifiedRate: 1 },
				}),
			]);
		});
	});
}

describe('hashing never stores the raw ip or user agent', () => {
	it('the SQLite file holds neither the ip nor the user agent of a click', async () => {
		const { dir, remove } = tempDir();
		try {
			const path = `${dir}/raw.sqlite`;
			const ledger = await openSqliteLedger({ backend: 'sqlite', path });
			await saveReferralProgram(ledger, {
				programId: 'p',
				share: { baseUrl: 'https://shop.example/' },
			});
			const svc = await ReferralService.open(ledger, 'p');
			const { participant } = await svc.enrol({ email: 'ann@example.com' });
			const agent = `${CHROME} UniqueAgentMarker/42`;
			for (let i = 0; i < 3; i++)
				expect(
					(
						await svc.trackClick(
							{
								code: participant.code!,
								headers: { 'user-agent': agent, 'x-forwarded-for': '203.0.113.199' },
							},
							{ proxyHops: 1 },
						)
					).counted,
				).toBe(true);
			await ledger.close();
			const bytes =
				readFileSync(path).toString('latin1') +
				readFileSync(`${path}-wal`, { flag: 'a+' }).toString('latin1');
			expect(bytes).not.toContain('203.0.113.199');
			expect(bytes).not.toContain('UniqueAgentMarker');
		} finally {
			remove();
		}
	});
});

describe('the click look-ups are index ranges', () => {
	it('rate limit, visitor attribution and the period read their own indexes (SQLite plans)', async () => {
		const { dir, remove } = tempDir();
		try {
			const path = `${dir}/plans.sqlite`;
			const ledger = await openSqliteLedger({ backend: 'sqlite', path });
			await ledger.ensureProgram({ id: 'p' });
			await ledger.close();
			const db = new DatabaseSync(path);
			const plan = (sql: string) =>
				(db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as Array<{ detail: string }>)
					.map((r) => r.detail)
					.join(' | ');
			expect(
				plan(
					`SELECT COUNT(*) AS n FROM (SELECT 1 FROM clicks WHERE program_id = 'p' AND ip_hash = 'h' AND created_at >= 0 LIMIT 20) recent`,
				),
			).toMatch(
				/USING COVERING INDEX clicks_ip \(program_id=\? AND ip_hash=\? AND created_at>\?\)/,
			);
			expect(
				plan(
					`SELECT * FROM clicks WHERE program_id = 'p' AND visitor_id = 'v' AND created_at >= 0 AND created_at <= 9 AND code_status = 'known' AND referrer_id IS NOT NULL ORDER BY created_at ASC, id ASC LIMIT 1`,
				),
			).toMatch(
				/USING INDEX clicks_visitor \(program_id=\? AND visitor_id=\? AND created_at>\? AND created_at<\?\)/,
			);
			expect(
				plan(
					`SELECT c.code_status, COUNT(*) AS n FROM clicks c WHERE c.program_id = 'p' AND c.created_at >= 0 AND c.created_at < 9 GROUP BY c.code_status`,
				),
			).toMatch(/USING COVERING INDEX clicks_created/);
			db.close();
		} finally {
			remove();
		}
	});
});
