/* Referral › Participant › Get Private Link and Get by Private Link in the in-process harness, on
 * SQLite and PostgreSQL: a link opens its participant's status and nothing else; forged, altered,
 * expired, other-purpose and other-program tokens are refused with invalid_link. */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { closeAllLedgers } from '../../engine/ledger';
import { participantLink, unsubscribeLink } from '../../engine/shared/links';
import { linkSecretTest } from '../../nodes/shared/linkSecret';
import { runWorkflow, singleNodeWorkflow } from '../harness';
import { pgTestUrl, withPgSchema } from './ledgerBackends';

afterAll(async () => {
	await closeAllLedgers();
});

type Json = Record<string, any>;
const SECRET = 'private-link-test-secret-0123456789abcdef';
const OLD_SECRET = 'the-previous-link-secret-0123456789abcdef';
const BASE = 'https://n8n.example.com/webhook/referral/participant';
const DAY = 24 * 60 * 60 * 1000;

function backends(): Array<
	[string, () => Promise<{ credential: Json; cleanup: () => Promise<void> }>]
> {
	return [
		[
			'SQLite',
			async () => ({
				credential: {
					backend: 'sqlite',
					path: path.join(mkdtempSync(path.join(os.tmpdir(), 'rm-links-')), 'ledger.sqlite'),
				},
				cleanup: async () => {},
			}),
		],
		['PostgreSQL', async () => await withPgSchema()],
	];
}

for (const [name, open] of backends()) {
	describe.skipIf(name === 'PostgreSQL' && !pgTestUrl())(
		`private participant links on ${name}`,
		() => {
			const run = async (
				ledger: Json,
				parameters: Json,
				items: Json[],
				options: { continueOnFail?: boolean; linkSecret?: Json | null } = {},
			) => {
				const withSecret = options.linkSecret !== null;
				const result = await runWorkflow(
					singleNodeWorkflow(
						{
							type: 'referral',
							parameters: { program: 'links', ...parameters },
							continueOnFail: options.continueOnFail,
							credentials: {
								referralLedgerApi: { id: '1', name: 'Ledger' },
								...(withSecret
									? { referralLinkSecretApi: { id: '2', name: 'Referral Link Secret' } }
									: {}),
							},
						} as never,
						items,
					),
					{
						credentials: {
							referralLedgerApi: ledger,
							...(withSecret
								? {
										referralLinkSecretApi: options.linkSecret ?? {
											secret: SECRET,
											previousSecret: '',
										},
									}
								: {}),
						} as never,
					},
				);
				return result;
			};
			const json = async (...args: Parameters<typeof run>) =>
				(await run(...args)).json('Node') as Json[];

			it("a private link opens its participant's status; the link output names only that participant", async () => {
				const { credential, cleanup } = await open();
				try {
					const [ann] = await json(credential, { resource: 'participant', operation: 'enrol' }, [
						{ email: 'ann@example.com', name: 'Ann' },
					]);
					await json(credential, { resource: 'participant', operation: 'enrol' }, [
						{ email: 'bob@example.org', referralCode: ann.participant.code },
					]);

					const [linked] = await json(
						credential,
						{
							resource: 'participant',
							operation: 'privateLink',
							findBy: 'email',
							lookupField: 'query.email',
							linkBaseUrl: BASE,
						},
						[{ query: { email: 'Ann@Example.com' } }],
					);
					expect(linked.query).toEqual({ email: 'Ann@Example.com' });
					expect(Object.keys(linked.privateLink).sort()).toEqual([
						'email',
						'expiresAt',
						'greetingName',
						'name',
						'participantId',
						'token',
						'url',
					]);
					expect(linked.privateLink).toMatchObject({
						participantId: ann.participant.id,
						email: 'ann@example.com',
						name: 'Ann',
					});
					expect(linked.privateLink.url).toBe(`${BASE}?token=${linked.privateLink.token}`);
					const expires = Date.parse(linked.privateLink.expiresAt) - Date.now();
					expect(expires).toBeGreaterThan(29 * DAY);
					expect(expires).toBeLessThanOrEqual(30 * DAY);
					// The token names the program and the id, nothing personal.
					expect(
						Buffer.from(linked.privateLink.token.split('.')[0], 'base64url').toString(),
					).not.toMatch(/ann|example|Ann/);

					const [status] = await json(
						credential,
						{ resource: 'participant', operation: 'getByToken' },
						[{ query: { token: linked.privateLink.token } }],
					);
					const [byEmail] = await json(credential, { resource: 'participant', operation: 'get' }, [
						{ email: 'ann@example.com' },
					]);
					expect(status).toEqual({ ...byEmail, link: { expiresAt: linked.privateLink.expiresAt } });
					expect(status.participant.email).toBe('ann@example.com');
					expect(status.stats.referrals).toBe(1);
				} finally {
					await cleanup();
				}
			});

			it('forged, altered, expired, other-purpose and other-program tokens answer invalid_link and open nothing', async () => {
				const { credential, cleanup } = await open();
				try {
					const [ann] = await json(credential, { resource: 'participant', operation: 'enrol' }, [
						{ email: 'ann@example.com' },
					]);
					const id = ann.participant.id;
					const good = participantLink({
						baseUrl: BASE,
						programId: 'links',
						participantId: id,
						secrets: { secret: SECRET },
					}).token;
					const [payload, signature] = good.split('.');
					const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
					const forgedPayload = Buffer.from(JSON.stringify({ ...claims, pid: id + 1 })).toString(
						'base64url',
					);
					const attempts: Array<[string, unknown]> = [
						[
							'signed with another secret',
							participantLink({
								baseUrl: BASE,
								programId: 'links',
								participantId: id,
								secrets: { secret: 'someone-elses-secret-0123456789abcdef' },
							}).token,
						],
						['another participant id in the claims', `${forgedPayload}.${signature}`],
						[
							'one signature character changed',
							`${payload}.${signature.slice(0, -2)}${signature.at(-2) === 'A' ? 'B' : 'A'}${signature.slice(-1)}`,
						],
						[
							'expired',
							participantLink({
								baseUrl: BASE,
								programId: 'links',
								participantId: id,
								secrets: { secret: SECRET },
								validDays: 1,
								now: Date.now() - 2 * DAY,
							}).token,
						],
						[
							'an unsubscribe token',
							unsubscribeLink({
								baseUrl: BASE,
								channel: 'email',
								address: 'ann@example.com',
								secrets: { secret: SECRET },
							}).token,
						],
						[
							'another program',
							participantLink({
								baseUrl: BASE,
								programId: 'other',
								participantId: id,
								secrets: { secret: SECRET },
							}).token,
						],
						['empty', ''],
						['missing', undefined],
						['far too long', 'a'.repeat(5000)],
					];
					const out = await json(
						credential,
						{ resource: 'participant', operation: 'getByToken', linkField: 'token' },
						attempts.map(([, token]) => ({ token })),
						{ continueOnFail: true },
					);
					expect(out).toHaveLength(attempts.length);
					out.forEach((item, i) => {
						expect({
							what: attempts[i][0],
							code: item.error?.code,
							field: item.error?.field,
						}).toEqual({ what: attempts[i][0], code: 'invalid_link', field: 'token' });
						expect(item.participant).toBeUndefined();
						expect(item.stats).toBeUndefined();
					});
					expect(out[3].error.message).toMatch(/expired/);

					// Without Continue On Fail the node stops, naming the item and the parameter.
					const failed = await run(
						credential,
						{ resource: 'participant', operation: 'getByToken', linkField: 'token' },
						[{ token: `${forgedPayload}.${signature}` }],
					);
					expect(failed.error('Node')?.message).toMatch(/The link is not valid.*\[item 0\]/);
					expect(failed.error('Node')?.description).toContain('Private Link Field');
				} finally {
					await cleanup();
				}
			});

			it("rotation: a link signed with the previous secret opens while it is the credential's Previous Secret, not after", async () => {
				const { credential, cleanup } = await open();
				try {
					const [ann] = await json(credential, { resource: 'participant', operation: 'enrol' }, [
						{ email: 'ann@example.com' },
					]);
					const [old] = await json(
						credential,
						{ resource: 'participant', operation: 'privateLink', linkBaseUrl: BASE },
						[{ email: 'ann@example.com' }],
						{ linkSecret: { secret: OLD_SECRET } },
					);
					const during = await json(
						credential,
						{ resource: 'participant', operation: 'getByToken', linkField: 'token' },
						[{ token: old.privateLink.token }],
						{ linkSecret: { secret: SECRET, previousSecret: OLD_SECRET } },
					);
					expect(during[0].participant.id).toBe(ann.participant.id);
					const after = await json(
						credential,
						{ resource: 'participant', operation: 'getByToken', linkField: 'token' },
						[{ token: old.privateLink.token }],
						{ linkSecret: { secret: SECRET }, continueOnFail: true },
					);
					expect(after[0].error.code).toBe('invalid_link');
				} finally {
					await cleanup();
				}
			});

			it('needs the credential and a long secret, a full http(s) page URL and a participant that exists', async () => {
				const { credential, cleanup } = await open();
				try {
					await json(credential, { resource: 'participant', operation: 'enrol' }, [
						{ email: 'ann@example.com' },
					]);
					const params = { resource: 'participant', operation: 'privateLink', linkBaseUrl: BASE };
					const none = await json(credential, params, [{ email: 'ann@example.com' }], {
						linkSecret: null,
						continueOnFail: true,
					});
					expect(none[0].error).toMatchObject({ code: 'missing_link_secret' });
					const short = await json(credential, params, [{ email: 'ann@example.com' }], {
						linkSecret: { secret: 'short' },
						continueOnFail: true,
					});
					expect(short[0].error).toMatchObject({ code: 'invalid_link_secret' });
					expect(short[0].error.message).not.toContain('short"');
					const badUrl = await json(
						credential,
						{ ...params, linkBaseUrl: 'javascript:alert(1)' },
						[{ email: 'ann@example.com' }],
						{ continueOnFail: true },
					);
					expect(badUrl[0].error).toMatchObject({
						code: 'invalid_url',
						parameter: 'Status Page URL',
					});
					const unknown = await json(credential, params, [{ email: 'nobody@example.com' }], {
						continueOnFail: true,
					});
					expect(unknown[0].error).toMatchObject({ code: 'unknown_participant' });
					expect(unknown[0].privateLink).toBeUndefined();
					// If Not Enrolled: Output the Item Without a Link — no error, so a public webhook answers everyone alike.
					const quiet = await json(credential, { ...params, ifNotEnrolled: 'noLink' }, [
						{ email: 'nobody@example.com', n: 1 },
						{ email: 'ann@example.com', n: 2 },
					]);
					expect(quiet[0]).toEqual({ email: 'nobody@example.com', n: 1, privateLink: null });
					expect(quiet[1].privateLink.email).toBe('ann@example.com');
					// A misconfigured node fails for enrolled and not enrolled people alike (settings are checked before the lookup).
					const misconfigured = await json(
						credential,
						{ ...params, ifNotEnrolled: 'noLink', linkBaseUrl: 'not a url' },
						[{ email: 'nobody@example.com' }, { email: 'ann@example.com' }],
						{ continueOnFail: true },
					);
					expect(misconfigured.map((item) => item.error?.code)).toEqual([
						'invalid_url',
						'invalid_url',
					]);
				} finally {
					await cleanup();
				}
			});
		},
	);
}

describe('the Referral Link Secret credential test', () => {
	const test = (data: Json) =>
		linkSecretTest.call(
			{} as never,
			{ id: '1', name: 'x', type: 'referralLinkSecretApi', data } as never,
		);
	it('accepts a long secret and refuses empty, short or padded ones', async () => {
		expect(await test({ secret: SECRET })).toMatchObject({ status: 'OK' });
		expect(await test({ secret: SECRET, previousSecret: OLD_SECRET })).toMatchObject({
			status: 'OK',
		});
		expect(await test({ secret: '' })).toMatchObject({
			status: 'Error',
			message: expect.stringContaining('empty'),
		});
		expect(await test({ secret: 'abc123' })).toMatchObject({
			status: 'Error',
			message: expect.stringContaining('shorter than 32'),
		});
		expect(await test({ secret: ` ${SECRET}` })).toMatchObject({
			status: 'Error',
			message: expect.stringContaining('space'),
		});
		expect(await test({ secret: SECRET, previousSecret: 'short' })).toMatchObject({
			status: 'Error',
			message: expect.stringContaining('Previous Secret'),
		});
	});
});
