/* Signed unsubscribe links in the workflow harness, real SMTP on loopback, the ledger on SQLite and
 * PostgreSQL: commercial email carries the recipient's signed link in the footer and in one-click
 * List-Unsubscribe; Unsubscribe (Address From: Signed Unsubscribe Link) suppresses exactly that
 * address, Check Only changes nothing, and forged, altered, expired or other-purpose tokens change nothing. */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { IDataObject } from 'n8n-workflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeAllLedgers, openLedger } from '../../engine/ledger';
import { participantLink, unsubscribeLink, verifyUnsubscribeLink } from '../../engine/shared/links';
import { ledgerConfigFromCredential } from '../../nodes/shared/ledger';
import { startSmtpServer, type SmtpTestServer } from '../fakes/smtpServer';
import { runWorkflow, singleNodeWorkflow } from '../harness';
import { pgQuery } from '../support/databases';
import { pgTestUrl, withPgSchema } from './ledgerBackends';

const SECRET = 'unsubscribe-link-test-secret-0123456789abcdef';
const PAGE = 'https://n8n.example.com/webhook/referral/unsubscribe';
const DAY = 24 * 60 * 60 * 1000;
type Json = Record<string, any>;

let smtp: SmtpTestServer;
beforeAll(async () => {
	smtp = await startSmtpServer();
});
afterAll(async () => {
	await closeAllLedgers();
	await smtp?.close();
});

const COMMERCIAL = {
	resource: 'email',
	operation: 'send',
	emailProvider: 'smtp',
	from: 'Acme Rewards <rewards@example.test>',
	emailField: 'email',
	subject: 'Spring offer for {{name}}',
	html: '<p>Hi {{name}}, invite a friend this spring.</p>',
	commercial: true,
	postalAddress: 'Acme Inc., 1 Main St, Springfield',
	unsubscribeUrl: PAGE,
	signedLink: 'signed',
};

function backends(): Array<
	[string, () => Promise<{ ledger: Json; cleanup: () => Promise<void> }>]
> {
	return [
		[
			'SQLite',
			async () => ({
				ledger: {
					backend: 'sqlite',
					path: path.join(mkdtempSync(path.join(os.tmpdir(), 'rm-unsub-')), 'ledger.sqlite'),
				},
				cleanup: async () => {},
			}),
		],
		[
			'PostgreSQL',
			async () => {
				const { credential, cleanup } = await withPgSchema();
				return { ledger: credential, cleanup };
			},
		],
	];
}

for (const [name, open] of backends()) {
	describe.skipIf(name === 'PostgreSQL' && !pgTestUrl())(
		`signed unsubscribe links on ${name}`,
		() => {
			const run = async (
				ledger: Json,
				parameters: IDataObject,
				items: IDataObject[],
				options: { continueOnFail?: boolean; linkSecret?: Json | null } = {},
			) => {
				const credentials: Json = {
					referralLedgerApi: ledger,
					referralSmtpApi: {
						host: smtp.host,
						port: smtp.port,
						secure: false,
						user: '',
						password: '',
					},
					...(options.linkSecret === null
						? {}
						: {
								referralLinkSecretApi: options.linkSecret ?? { secret: SECRET, previousSecret: '' },
							}),
				};
				const refs = Object.fromEntries(
					Object.keys(credentials).map((type) => [type, { id: `id-${type}`, name: type }]),
				);
				return await runWorkflow(
					singleNodeWorkflow(
						{
							type: 'templatedMessage',
							parameters,
							continueOnFail: options.continueOnFail,
							credentials: refs,
						} as never,
						items,
					),
					{ credentials: credentials as never },
				);
			};
			const unsubscribe = (
				ledger: Json,
				items: IDataObject[],
				extra: IDataObject = {},
				options: Parameters<typeof run>[3] = {},
			) =>
				run(
					ledger,
					{
						resource: 'email',
						operation: 'unsubscribe',
						signedLink: 'signed',
						linkField: 'query.token',
						reason: 'one-click unsubscribe',
						...extra,
					},
					items,
					options,
				);
			const suppressionOf = async (ledger: Json, address: string) =>
				await (
					await openLedger(ledgerConfigFromCredential(ledger as never))
				).getSuppression({ channel: 'email', address });

			it("commercial email carries the recipient's own signed link, in the footer and in one-click List-Unsubscribe", async () => {
				const { ledger, cleanup } = await open();
				try {
					const before = smtp.messages.length;
					const result = await run(ledger, COMMERCIAL, [
						{ email: 'Ann@Example.test', name: 'Ann' },
						{ email: 'bob@example.test', name: 'Bob' },
					]);
					expect(result.json('Node', 0)).toHaveLength(2);
					const mails = (await smtp.waitForMessages(before + 2)).slice(before);
					const links = mails.map((mail) => {
						// The header as sent (mailparser turns List-* headers into objects), unfolded.
						const line =
							mail.parsed.headerLines.find((h: { key: string }) => h.key === 'list-unsubscribe')
								?.line ?? '';
						const header = line.replace(/^List-Unsubscribe:/i, '').replace(/\r?\n[ \t]+/g, ' ');
						const match = /^<(https:\/\/[^>]+)>$/.exec(header.trim());
						expect(match, header).not.toBeNull();
						expect(
							mail.parsed.headerLines.find(
								(h: { key: string }) => h.key === 'list-unsubscribe-post',
							)?.line,
						).toBe('List-Unsubscribe-Post: List-Unsubscribe=One-Click');
						const url = new URL(match![1]);
						expect(`${url.origin}${url.pathname}`).toBe(PAGE);
						expect(mail.parsed.text).toContain(url.href);
						expect(mail.parsed.html).toContain(url.href.replace(/&/g, '&amp;'));
						return url.searchParams.get('token');
					});
					expect(verifyUnsubscribeLink(links[0], { secrets: { secret: SECRET } })).toEqual({
						channel: 'email',
						address: 'ann@example.test',
					});
					expect(verifyUnsubscribeLink(links[1], { secrets: { secret: SECRET } })).toEqual({
						channel: 'email',
						address: 'bob@example.test',
					});
				} finally {
					await cleanup();
				}
			});

			it('Check Only names the masked address and changes nothing; the POST suppresses that address alone, and a replay answers alike', async () => {
				const { ledger, cleanup } = await open();
				try {
					const token = unsubscribeLink({
						baseUrl: PAGE,
						channel: 'email',
						address: 'ann@example.test',
						secrets: { secret: SECRET },
					}).token;
					const [checked] = (
						await unsubscribe(ledger, [{ query: { token } }], { checkOnly: true })
					).json('Node', 0) as Json[];
					expect(checked.subscription).toEqual({
						channel: 'email',
						address: 'ann@example.test',
						maskedAddress: 'a••@example.test',
						suppressed: false,
						checkedOnly: true,
					});
					expect(await suppressionOf(ledger, 'ann@example.test')).toBeNull();

					const [done] = (await unsubscribe(ledger, [{ query: { token } }])).json(
						'Node',
						0,
					) as Json[];
					expect(done.subscription).toEqual({
						channel: 'email',
						address: 'ann@example.test',
						maskedAddress: 'a••@example.test',
						suppressed: true,
						reason: 'one-click unsubscribe',
					});
					const [again] = (await unsubscribe(ledger, [{ query: { token } }])).json(
						'Node',
						0,
					) as Json[];
					expect(again.subscription).toEqual(done.subscription);
					expect(await suppressionOf(ledger, 'ann@example.test')).toMatchObject({
						reason: 'one-click unsubscribe',
					});
					expect(await suppressionOf(ledger, 'bob@example.test')).toBeNull();

					const before = smtp.messages.length;
					const sent = await run(ledger, COMMERCIAL, [{ email: 'ann@example.test', name: 'Ann' }]);
					expect((sent.json('Node', 1)[0].delivery as Json).reason).toBe('suppressed');
					expect(smtp.messages.length).toBe(before);
				} finally {
					await cleanup();
				}
			});

			it('forged, altered, expired and other-purpose tokens answer invalid_link and suppress nobody', async () => {
				const { ledger, cleanup } = await open();
				try {
					const good = unsubscribeLink({
						baseUrl: PAGE,
						channel: 'email',
						address: 'ann@example.test',
						secrets: { secret: SECRET },
					}).token;
					const [payload, signature] = good.split('.');
					const swapped = Buffer.from(
						JSON.stringify({
							...JSON.parse(Buffer.from(payload, 'base64url').toString()),
							a: 'victim@example.test',
						}),
					).toString('base64url');
					const attempts: Array<[string, unknown]> = [
						['another address in the claims', `${swapped}.${signature}`],
						[
							'signed with another secret',
							unsubscribeLink({
								baseUrl: PAGE,
								channel: 'email',
								address: 'victim@example.test',
								secrets: { secret: 'someone-elses-secret-0123456789abcdef' },
							}).token,
						],
						[
							'a changed signature',
							`${payload}.${signature.slice(0, 5)}${signature[5] === 'x' ? 'y' : 'x'}${signature.slice(6)}`,
						],
						[
							'expired',
							unsubscribeLink({
								baseUrl: PAGE,
								channel: 'email',
								address: 'ann@example.test',
								secrets: { secret: SECRET },
								validDays: 1,
								now: Date.now() - 2 * DAY,
							}).token,
						],
						[
							'a private status token',
							participantLink({
								baseUrl: PAGE,
								programId: 'default',
								participantId: 1,
								secrets: { secret: SECRET },
							}).token,
						],
						['no token', undefined],
						['an email address instead of a token', 'victim@example.test'],
					];
					const out = (
						await unsubscribe(
							ledger,
							attempts.map(([, token]) => ({ query: { token } })),
							{},
							{ continueOnFail: true },
						)
					).json('Node', 0) as Json[];
					out.forEach((item, i) => {
						expect({
							what: attempts[i][0],
							code: item.error?.code,
							field: item.error?.field,
							subscription: item.subscription,
						}).toEqual({
							what: attempts[i][0],
							code: 'invalid_link',
							field: 'token',
							subscription: undefined,
						});
					});
					expect(await suppressionOf(ledger, 'victim@example.test')).toBeNull();
					expect(await suppressionOf(ledger, 'ann@example.test')).toBeNull();
					// Without Continue On Fail: the run stops naming the item and the parameter.
					const failed = await unsubscribe(ledger, [
						{ query: { token: `${swapped}.${signature}` } },
					]);
					expect(failed.error('Node')?.message).toMatch(/not valid.*\[item 0\]/);
					expect(failed.error('Node')?.description).toContain('Unsubscribe Link Field');
				} finally {
					await cleanup();
				}
			});

			// The flake of a full run (an unhandled "no schema has been selected to create in"): a send that
			// failed on its first item left the ledger opening (migrating a fresh schema) in the background,
			// unawaited, and the test dropped the schema under it. The execution now ends with its ledger work.
			it.skipIf(name !== 'PostgreSQL')(
				'a send that fails before using the ledger leaves no ledger work running after the execution',
				async () => {
					const { ledger, cleanup } = await open();
					try {
						const sent = await run(
							ledger,
							COMMERCIAL,
							[{ email: 'ann@example.test', name: 'Ann' }],
							{ linkSecret: null, continueOnFail: true },
						);
						expect((sent.json('Node', 3)[0].error as Json).code).toBe('missing_link_secret');
						// Right after the execution: the ledger it opened is migrated, nothing is still running against the schema.
						const [{ t }] = await pgQuery(
							ledger.schema as string,
							`SELECT to_regclass('ledger_migrations') AS t`,
						);
						expect(t).toBe('ledger_migrations');
					} finally {
						await cleanup();
					}
				},
			);

			it('without a Referral Link Secret credential nothing is sent and nothing is unsubscribed', async () => {
				const { ledger, cleanup } = await open();
				try {
					const before = smtp.messages.length;
					const sent = await run(ledger, COMMERCIAL, [{ email: 'ann@example.test', name: 'Ann' }], {
						linkSecret: null,
						continueOnFail: true,
					});
					expect((sent.json('Node', 3)[0].error as Json).code).toBe('missing_link_secret');
					const token = unsubscribeLink({
						baseUrl: PAGE,
						channel: 'email',
						address: 'ann@example.test',
						secrets: { secret: SECRET },
					}).token;
					const out = (
						await unsubscribe(
							ledger,
							[{ query: { token } }],
							{},
							{ linkSecret: null, continueOnFail: true },
						)
					).json('Node', 0) as Json[];
					expect(out[0].error.code).toBe('missing_link_secret');
					expect(await suppressionOf(ledger, 'ann@example.test')).toBeNull();
					expect(smtp.messages.length).toBe(before);
				} finally {
					await cleanup();
				}
			});
		},
	);
}
