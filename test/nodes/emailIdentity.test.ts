/* Issue #13, defect 6: one mailbox is one participant. Both spellings of an internationalised
 * domain enrol the same person once (one code, one welcome email), self-referral through the other
 * spelling is caught, every node accepts and refuses the same addresses, and participants and
 * suppressions stored by older versions (domain kept as typed) are still found. SQLite and PostgreSQL. */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeAllLedgers } from '../../engine/ledger';
import { storedEmailOrNull } from '../../engine/shared/email';
import { startSmtpServer, type SmtpTestServer } from '../fakes/smtpServer';
import { runWorkflow, singleNodeWorkflow } from '../harness';
import { pgTestUrl, withPgSchema } from './ledgerBackends';

type Credential = Record<string, unknown>;
type Json = Record<string, any>;

interface Backend {
	credential: Credential;
	/** Runs SQL straight on the ledger's tables, as an older version of the package left them. */
	sql(statement: string, values: unknown[]): Promise<void>;
	cleanup(): Promise<void>;
}

function backends(): Array<[string, () => Promise<Backend>]> {
	return [
		[
			'SQLite',
			async () => {
				const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'rm-email-')), 'ledger.sqlite');
				return {
					credential: { backend: 'sqlite', path: file },
					sql: async (statement, values) => {
						const { DatabaseSync } = await import('node:sqlite');
						const db = new DatabaseSync(file);
						try {
							db.exec('PRAGMA busy_timeout = 5000');
							db.prepare(statement.replace(/\$\d+/g, '?')).run(...(values as never[]));
						} finally {
							db.close();
						}
					},
					cleanup: async () => {},
				};
			},
		],
		[
			'PostgreSQL',
			async () => {
				const backend = await withPgSchema();
				const schema = backend.credential.schema as string;
				return {
					credential: backend.credential,
					sql: async (statement, values) => {
						const client = new pg.Client({ connectionString: pgTestUrl() });
						await client.connect();
						try {
							await client.query(`SET search_path TO ${schema}`);
							await client.query(statement, values);
						} finally {
							await client.end();
						}
					},
					cleanup: async () => {
						// DROP SCHEMA can deadlock with another file's migrations; it is only cleanup, so retry.
						for (let attempt = 1; ; attempt++) {
							try {
								return await backend.cleanup();
							} catch (error) {
								if (attempt >= 5 || !/deadlock/i.test(String((error as Error).message)))
									throw error;
								await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
							}
						}
					},
				};
			},
		],
	];
}

let smtp: SmtpTestServer;

beforeAll(async () => {
	smtp = await startSmtpServer();
});

afterAll(async () => {
	await closeAllLedgers();
	await smtp?.close();
});

/** Addresses every node accepts, with the stored form, and ones every node refuses. */
const VALID: Array<[string, string]> = [
	['Ana.Lopez@Example.com', 'ana.lopez@example.com'],
	['ben@bücher.de', 'ben@xn--bcher-kva.de'],
	['CLEO@XN--BCHER-KVA.DE', 'cleo@xn--bcher-kva.de'],
	['dörte@faß.de', 'dörte@xn--fa-hia.de'],
	["o'neil+promo@shop.example", "o'neil+promo@shop.example"],
];
const INVALID = [
	'ann@example.c',
	'ann@localhost',
	'a..b@example.com',
	'ann@[127.0.0.1]',
	'ann@exa_mple.com',
	'ann@example.com.',
	'ann b@example.com',
];

for (const [name, open] of backends()) {
	describe.skipIf(name === 'PostgreSQL' && !pgTestUrl())(
		`One email rule through the nodes on ${name}`,
		() => {
			const ledgerRef = { referralLedgerApi: { id: '1', name: 'Ledger' } };
			const referral = async (
				credential: Credential,
				parameters: Json,
				items: Json[],
				continueOnFail = false,
			) =>
				(
					await runWorkflow(
						singleNodeWorkflow(
							{
								type: 'referral',
								parameters: { program: 'spring', ...parameters },
								continueOnFail,
								credentials: ledgerRef,
							} as never,
							items,
						),
						{
							credentials: { referralLedgerApi: credential as never },
						},
					)
				).json('Node') as Json[];
			const enrol = (credential: Credential, items: Json[], continueOnFail = false) =>
				referral(
					credential,
					{ resource: 'participant', operation: 'enrol' },
					items,
					continueOnFail,
				);
			const message = async (
				credential: Credential,
				parameters: Json,
				items: Json[],
				continueOnFail = false,
			) => {
				const credentials = {
					referralLedgerApi: credential,
					referralSmtpApi: { host: smtp.host, port: smtp.port, secure: false },
				};
				const refs = {
					referralLedgerApi: ledgerRef.referralLedgerApi,
					referralSmtpApi: { id: '2', name: 'SMTP' },
				};
				return await runWorkflow(
					singleNodeWorkflow(
						{ type: 'templatedMessage', parameters, continueOnFail, credentials: refs } as never,
						items,
					),
					{ credentials: credentials as never },
				);
			};
			const welcome = (credential: Credential, enrolled: Json[]) =>
				message(
					credential,
					{
						resource: 'email',
						operation: 'send',
						emailProvider: 'smtp',
						from: 'Rewards <rewards@shop.example>',
						emailField: 'participant.email',
						templateSource: 'parameters',
						subject: 'Welcome! Your code is {{participant.code}}',
						html: '<p>Your code is {{participant.code}}</p>',
						sendOptions: { templateName: 'welcome', identityField: 'participant.id' },
					},
					enrolled,
				);
			// nodemailer may write the domain either way in RCPT TO; compare stored forms.
			const mailsTo = (address: string) =>
				smtp.messages.filter((m) => m.envelope.to.some((to) => storedEmailOrNull(to) === address));

			it('both spellings of an internationalised domain are one participant: one code, one welcome email, self-referral caught', async () => {
				const { credential, cleanup } = await open();
				try {
					await referral(credential, { resource: 'program', operation: 'save' }, [{}]);
					const before = mailsTo('ann@xn--bcher-kva.de').length;
					const [first] = await enrol(credential, [{ email: 'Ann@Bücher.de', name: 'Ann' }]);
					expect(first).toMatchObject({
						enrolled: true,
						participant: { email: 'ann@xn--bcher-kva.de' },
					});
					const total = smtp.messages.length;
					expect((await welcome(credential, [first])).json('Node', 0)).toHaveLength(1);
					await smtp.waitForMessages(total + 1);
					const [second] = await enrol(credential, [
						{ email: 'ann@xn--bcher-kva.de', name: 'Ann' },
					]);
					// The same sign-up again (the mailbox in its other spelling) answers like the first one; the welcome email still goes once.
					expect(second).toMatchObject({
						enrolled: true,
						participant: { id: first.participant.id, code: first.participant.code },
					});
					const again = await welcome(credential, [second]);
					expect(again.json('Node', 0)).toHaveLength(0);
					expect(again.json('Node', 1).map((j) => (j.delivery as Json).reason)).toEqual([
						'duplicate',
					]);
					expect(mailsTo('ann@xn--bcher-kva.de').length - before).toBe(1);

					// Self-referral through the other spelling: the referee is the referrer.
					const [self] = await enrol(credential, [
						{ email: 'ANN@XN--BCHER-KVA.DE', referralCode: first.participant.code },
					]);
					expect(self.participant.id).toBe(first.participant.id);
					expect(self.referral).toMatchObject({ status: 'rejected', reasons: ['self_referral'] });
					const [found] = await referral(
						credential,
						{ resource: 'participant', operation: 'get' },
						[{ email: 'ann@bücher.de' }],
					);
					expect(found.participant.id).toBe(first.participant.id);
					const people = await referral(
						credential,
						{ resource: 'participant', operation: 'list', limit: 10 },
						[{}],
					);
					expect(people).toHaveLength(1);
				} finally {
					await cleanup();
				}
			});

			it('every node accepts and refuses the same addresses, naming the field', async () => {
				const { credential, cleanup } = await open();
				try {
					await referral(credential, { resource: 'program', operation: 'save' }, [{}]);
					const addresses = [...VALID.map(([input]) => input), ...INVALID];
					const enrolled = await enrol(
						credential,
						addresses.map((email) => ({ email })),
						true,
					);
					const unsubscribed = (
						await message(
							credential,
							{ resource: 'email', operation: 'unsubscribe', emailField: 'email' },
							addresses.map((email) => ({ email })),
							true,
						)
					).json('Node', 0) as Json[];
					VALID.forEach(([, stored], i) => {
						expect(enrolled[i].participant?.email).toBe(stored);
						expect(unsubscribed[i].subscription).toMatchObject({
							address: stored,
							suppressed: true,
						});
					});
					INVALID.forEach((_, j) => {
						const i = VALID.length + j;
						expect(enrolled[i].error).toMatchObject({
							code: 'invalid_email',
							field: 'email',
							message: expect.stringContaining('is not a valid email address'),
						});
						expect(enrolled[i].error.message).not.toContain(INVALID[j]);
						expect(unsubscribed[i].error).toMatchObject({ code: 'invalid_email_address' });
					});
				} finally {
					await cleanup();
				}
			});

			it('finds participants and suppressions an older version stored with the domain as typed', async () => {
				const { credential, sql, cleanup } = await open();
				try {
					await referral(credential, { resource: 'program', operation: 'save' }, [{}]);
					const [ann] = await enrol(credential, [
						{ email: 'placeholder@shop.example', name: 'Ann' },
					]);
					// What version 0.1 stored for "Ann@Bücher.de": lower-cased as typed.
					await sql(`UPDATE participants SET email = $1 WHERE id = $2`, [
						'ann@bücher.de',
						ann.participant.id,
					]);
					await sql(
						`INSERT INTO suppressions (channel, address, reason, created_at) VALUES ($1, $2, $3, $4)`,
						['email', 'ann@bücher.de', 'unsubscribed before', 1],
					);

					const [again] = await enrol(credential, [{ email: 'ann@xn--bcher-kva.de' }]);
					expect(again).toMatchObject({
						enrolled: false,
						participant: { id: ann.participant.id, code: ann.participant.code },
					});
					const [bob] = await enrol(credential, [
						{ email: 'bob@shop.example', referralCode: ann.participant.code },
					]);
					expect(bob.referral).toMatchObject({ status: 'pending' });
					const [self] = await enrol(credential, [
						{ email: 'Ann@Bücher.de', referralCode: ann.participant.code },
					]);
					expect(self.referral).toMatchObject({ status: 'rejected', reasons: ['self_referral'] });
					const [got] = await referral(credential, { resource: 'participant', operation: 'get' }, [
						{ email: 'ANN@XN--BCHER-KVA.DE' },
					]);
					expect(got.participant.id).toBe(ann.participant.id);
					const [updated] = await referral(
						credential,
						{ resource: 'participant', operation: 'update' },
						[{ email: 'ann@xn--bcher-kva.de', newEmail: 'Ann@Bücher.de', name: 'Ann B' }],
					);
					expect(updated.participant).toMatchObject({
						id: ann.participant.id,
						email: 'ann@xn--bcher-kva.de',
						name: 'Ann B',
					});

					const sent = await message(
						credential,
						{
							resource: 'email',
							operation: 'send',
							emailProvider: 'smtp',
							from: 'rewards@shop.example',
							emailField: 'email',
							templateSource: 'parameters',
							subject: 'Hi',
							html: '<p>Hi</p>',
						},
						[{ email: 'ann@xn--bcher-kva.de' }],
					);
					expect(sent.json('Node', 1).map((j) => (j.delivery as Json).reason)).toEqual([
						'suppressed',
					]);
					const resubscribed = (
						await message(
							credential,
							{ resource: 'email', operation: 'resubscribe', emailField: 'email' },
							[{ email: 'ann@xn--bcher-kva.de' }],
						)
					).json('Node', 0) as Json[];
					expect(resubscribed[0].subscription).toMatchObject({
						address: 'ann@xn--bcher-kva.de',
						wasSuppressed: true,
					});
				} finally {
					await cleanup();
				}
			});
		},
	);
}
