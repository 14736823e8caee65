/* Referral › Referral Link › Track Click in the in-process harness, on SQLite and PostgreSQL: the
 * answer is the redirect URL, the Set-Cookie value, counted and the reason (nothing personal, each
 * item paired with its input); bots are not counted; Values mode; a missing code fails the item
 * naming the parameter (Continue On Fail keeps going); and a public sign-up carrying the visitor
 * cookie is credited to the clicked link's owner. */
import { afterAll, describe, expect, it } from 'vitest';
import { closeAllLedgers } from '../../engine/ledger';
import { runWorkflow, singleNodeWorkflow } from '../harness';
import { ledgerNodeBackends, pgTestUrl, runLedgerNode } from './ledgerBackends';

afterAll(async () => {
	await closeAllLedgers();
});

type Json = Record<string, any>;
const CHROME =
	'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const KEYS = ['codeStatus', 'counted', 'reason', 'redirectUrl', 'setCookie'];

for (const [name, open] of ledgerNodeBackends('links')) {
	describe.skipIf(name === 'PostgreSQL' && !pgTestUrl())(`Track Click on ${name}`, () => {
		it('redirects and counts people, not bots; answers nothing personal; pairs items; fails a missing code by item', async () => {
			const world = await open();
			try {
				const node = (parameters: Json, items: Json[]) =>
					runLedgerNode(world.credential, 'referral', parameters, items, 'links');
				await node(
					{
						resource: 'program',
						operation: 'save',
						share: { baseUrl: 'https://shop.example/join' },
					},
					[{}],
				);
				const [ann] = await node({ resource: 'participant', operation: 'enrol' }, [
					{ email: 'ann@example.com' },
				]);
				const code = ann.participant.code as string;
				const track = { resource: 'referralLink', operation: 'trackClick' };
				const out = await node(track, [
					{
						params: { code },
						headers: { 'user-agent': CHROME, referer: 'https://social.example/feed' },
						query: { utm_source: 'social' },
					},
					{ params: { code }, headers: { 'user-agent': 'Slackbot-LinkExpanding 1.0' }, query: {} },
					{ params: {}, headers: { 'user-agent': CHROME } },
					{ params: { code: 'NOPE' }, headers: { 'user-agent': CHROME } },
				]);
				expect(out).toHaveLength(4);
				expect(Object.keys(out[0]).sort()).toEqual(KEYS);
				expect(out[0]).toMatchObject({ counted: true, reason: 'counted', codeStatus: 'known' });
				expect(out[0].redirectUrl).toBe(`https://shop.example/join?utm_source=social&ref=${code}`);
				expect(out[0].setCookie).toMatch(
					/^rm_vid=[\w-]{22}; Max-Age=2592000; Path=\/; HttpOnly; SameSite=Lax$/,
				);
				expect(out[1]).toMatchObject({ counted: false, reason: 'link_preview', setCookie: null });
				expect(out[2].error).toMatchObject({
					code: 'required',
					parameter: 'Code Field',
					message: expect.stringContaining('[item 2]'),
				});
				expect(out[3]).toMatchObject({
					counted: true,
					reason: 'unknown_code',
					redirectUrl: 'https://shop.example/join',
				});
				for (const item of out) expect(JSON.stringify(item)).not.toContain('ann@example.com');

				// Values mode, headers as JSON text, method HEAD: not counted.
				const [head] = await node(
					{
						...track,
						inputSource: 'values',
						code,
						headers: JSON.stringify({ 'user-agent': CHROME }),
						method: 'HEAD',
					},
					[{}],
				);
				expect(head).toMatchObject({ counted: false, reason: 'head_request' });

				// A public sign-up carrying the cookie is Ann's referral (no code typed).
				const visitor = /rm_vid=([^;]+)/.exec(out[0].setCookie)![1];
				const [bob] = await node(
					{ resource: 'participant', operation: 'enrol', caller: 'public' },
					[
						{
							email: 'bob@example.com',
							visitorId: 'ignoredBodyVisitorId00',
							headers: { 'user-agent': CHROME, cookie: `rm_vid=${visitor}` },
						},
					],
				);
				expect(bob.referral).toMatchObject({ referrerCode: code, status: 'pending' });
				// The body cannot name a visitor: without the cookie, no referral.
				const [cid] = await node(
					{ resource: 'participant', operation: 'enrol', caller: 'public' },
					[{ email: 'cid@example.com', visitorId: visitor, headers: { 'user-agent': CHROME } }],
				);
				expect(cid.referral).toBeNull();

				const [stats] = await node(
					{ resource: 'program', operation: 'stats', period: 'lifetime' },
					[{}],
				);
				expect(stats.shareLinks).toMatchObject({ clicks: 2, unknownCodeClicks: 1, signUps: 1 });
				expect(stats.kFactor).toMatchObject({ invitesFrom: 'link_clicks' });
			} finally {
				await world.cleanup();
			}
		});
	});
}

describe('Track Click without continueOnFail', () => {
	it('stops with an error naming the item and the parameter', async () => {
		const result = await runWorkflow(
			singleNodeWorkflow(
				{
					type: 'referral',
					parameters: { program: 'links', resource: 'referralLink', operation: 'trackClick' },
				} as never,
				[{ headers: {} }],
			),
		);
		const error = result.error('Node');
		expect(error?.message).toMatch(/code is missing.*\[item 0\]/);
		expect(error?.description).toBe('Check "Code Field" for item 0.');
	});
});
