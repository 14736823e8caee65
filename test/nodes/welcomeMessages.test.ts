/* Issue #13 (defect 8) for sign-ups, in real n8n executions (harness) on SQLite and PostgreSQL:
 * Referral › Enrol with Owe Welcome Messages records the welcome email (and text, with a phone
 * number and SMS consent) in the enrolment's ledger transaction, only for a participant it
 * creates; Templated Message › Send Owed Messages delivers each exactly once (run twice, or twice
 * at once), to a real SMTP server on loopback and a Twilio fake, with the private status link and
 * the SMS pumping guard (on by default) applied to owed texts. */
import type { IDataObject } from 'n8n-workflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeAllLedgers, openLedger, type LedgerStore } from '../../engine/ledger';
import { verifyParticipantLink } from '../../engine/shared/links';
import { ledgerConfigFromCredential } from '../../nodes/shared/ledger';
import { runWorkflow, singleNodeWorkflow } from '../harness';
import { startTwilioFake } from '../fakes/providers';
import type { ProviderFake } from '../fakes/providers/types';
import { startSmtpServer, type SmtpTestServer } from '../fakes/smtpServer';
import { ledgerNodeBackends, pgTestUrl } from './ledgerBackends';

type Json = IDataObject;
const ACCOUNT_SID = 'AC' + '1'.repeat(32);
const LINK_SECRET = 'welcome-test-link-secret-0123456789abcdef';
let smtp: SmtpTestServer;
let twilio: ProviderFake;

beforeAll(async () => {
	smtp = await startSmtpServer();
	twilio = await startTwilioFake({ accountSid: ACCOUNT_SID, authToken: 'twilio-token' });
});

afterAll(async () => {
	await closeAllLedgers();
	await smtp?.close();
	await twilio?.close();
});

const WELCOME_EMAIL = {
	resource: 'email',
	operation: 'sendOwed',
	emailProvider: 'smtp',
	from: 'Referral Program <rewards@example.test>',
	messageKeysField: 'messageKeys',
	topic: 'welcome',
	subject: 'Welcome! Your referral code is {{participant.code}}',
	html: '<p>Hi{{#if participant.greetingName}} {{participant.greetingName}}{{/if}}, your code is {{participant.code}}.</p>{{#if privateLink.url}}<p><a href="{{safeUrl privateLink.url}}">status</a></p>{{/if}}',
	text: 'Hi{{#if participant.greetingName}} {{participant.greetingName}}{{/if}}, your code is {{participant.code}}.{{#if privateLink.url}} Status: {{privateLink.url}}{{/if}}',
};
const WELCOME_SMS = {
	resource: 'sms',
	operation: 'sendOwed',
	smsProvider: 'twilio',
	smsFrom: '+15005550006',
	messageKeysField: 'messageKeys',
	topic: 'welcome',
	smsText: 'Your referral code is {{participant.code}}.',
};

const backends = ledgerNodeBackends('welcome');

for (const [name, open] of backends) {
	describe.skipIf(name === 'PostgreSQL' && !pgTestUrl())(
		`Owed welcome messages of sign-ups on ${name}`,
		() => {
			const run = async (credential: Json, type: string, parameters: Json, items: Json[]) => {
				const credentials: Record<string, Json> = {
					referralLedgerApi: credential,
					referralSmtpApi: {
						host: smtp.host,
						port: smtp.port,
						secure: false,
						starttls: 'whenOffered',
					},
					referralTwilioApi: {
						authType: 'authToken',
						accountSid: ACCOUNT_SID,
						authToken: 'twilio-token',
						baseUrl: twilio.url,
					},
					referralLinkSecretApi: { secret: LINK_SECRET },
				};
				const refs = Object.fromEntries(
					Object.keys(credentials).map((t) => [t, { id: `id-${t}`, name: t }]),
				);
				return await runWorkflow(
					singleNodeWorkflow({ type, parameters, credentials: refs } as never, items),
					{ credentials: credentials as never },
				);
			};
			const enrol = (credential: Json, items: Json[], extra: Json = {}) =>
				run(
					credential,
					'referral',
					{
						resource: 'participant',
						operation: 'enrol',
						program: 'default',
						oweWelcome: true,
						caller: 'trusted',
						inputFields: {},
						...extra,
					},
					items,
				);
			const saveProgram = (credential: Json) =>
				run(
					credential,
					'referral',
					{
						resource: 'program',
						operation: 'save',
						program: 'default',
						smsCountries: 'US, GB',
						share: { baseUrl: 'https://example.com/join' },
					},
					[{}],
				);
			const outputsOf = (result: Awaited<ReturnType<typeof run>>) =>
				[0, 1, 2, 3].map((o) => result.items('Node', o));
			const mailsTo = (address: string) =>
				smtp.messages.filter((m) => m.envelope.to.includes(address));
			const textsTo = (number: string) =>
				twilio.requests.filter((r) => r.method === 'POST' && r.form?.To === number);
			const tagOf = () => `${name.toLowerCase()}-${Math.random().toString(36).slice(2, 8)}`;
			const ledgerOf = async (credential: Json): Promise<LedgerStore> =>
				await openLedger(ledgerConfigFromCredential(credential as never));
			const messagesOf = async (ledger: LedgerStore, participantId: number) =>
				await ledger.listMessages({ programId: 'default', participantId, limit: 100 });

			it('owes the welcome email and text once, with the code, in the enrolment; a replay or a repeated sign-up owes nothing more', async () => {
				const { credential, cleanup } = await open();
				try {
					await saveProgram(credential);
					const ledger = await ledgerOf(credential);
					const tag = tagOf();
					const email = `ann-${tag}@example.test`;
					const first = (
						await enrol(credential, [
							{ email, name: 'Ann', phone: '+12025550143', consent: { sms: true } },
						])
					).json('Node')[0];
					const participant = first.participant as Json;
					expect(first.enrolled).toBe(true);
					expect(first.messageKeys).toEqual([
						`participant-${participant.id}-welcome`,
						`participant-${participant.id}-welcome-sms`,
					]);
					const owed = await messagesOf(ledger, participant.id as number);
					expect(owed.map((m) => [m.channel, m.status, m.topic, m.recipient])).toEqual([
						['email', 'owed', 'welcome', email],
						['sms', 'owed', 'welcome', '+12025550143'],
					]);
					expect(owed[0].data).toMatchObject({
						participant: {
							id: participant.id,
							code: participant.code,
							shareUrl: participant.shareUrl,
							greetingName: 'Ann',
						},
					});
					// The text carries nothing the caller wrote.
					expect(JSON.stringify(owed[1].data)).not.toContain('Ann');

					// The same sign-up again (a replay, a person signing up twice, another letter case): nothing more owed.
					const again = (
						await enrol(credential, [
							{ email, phone: '+12025550143', consent: { sms: true } },
							{ email: email.toUpperCase(), consent: { sms: true }, phone: '+12025550143' },
						])
					).json('Node');
					expect(
						again.map((i) => [(i.participant as Json).id, (i.participant as Json).code]),
					).toEqual([
						[participant.id, participant.code],
						[participant.id, participant.code],
					]);
					expect(
						(await messagesOf(ledger, participant.id as number)).map((m) => m.idempotencyKey),
					).toEqual(owed.map((m) => m.idempotencyKey));

					// No consent, or no phone: only the email.
					const noConsent = (
						await enrol(credential, [
							{ email: `bo-${tag}@example.test`, phone: '+12025550144', consent: { sms: false } },
						])
					).json('Node')[0];
					expect(
						(await messagesOf(ledger, (noConsent.participant as Json).id as number)).map(
							(m) => m.channel,
						),
					).toEqual(['email']);
					// Off: nothing owed, no keys.
					const off = (
						await enrol(credential, [{ email: `cy-${tag}@example.test` }], { oweWelcome: false })
					).json('Node')[0];
					expect(off.messageKeys).toBeUndefined();
					expect(await messagesOf(ledger, (off.participant as Json).id as number)).toEqual([]);
				} finally {
					await cleanup();
				}
			});

			it('delivers each welcome exactly once, even when Send Owed Messages runs twice in a row or twice at once; the email carries the private link', async () => {
				const { credential, cleanup } = await open();
				try {
					await saveProgram(credential);
					const tag = tagOf();
					const people = [0, 1, 2].map((i) => ({
						email: `p${i}-${tag}@example.test`,
						phone: `+120255501${name === 'SQLite' ? 7 : 5}${i}`,
						consent: { sms: true },
					}));
					const enrolled = (await enrol(credential, people)).json('Node');
					const mailsBefore = smtp.messages.length;
					const emailParams = {
						...WELCOME_EMAIL,
						signedLink: 'signed',
						linkBaseUrl: 'https://n8n.example.test/webhook/referral/participant',
						linkValidDays: 30,
					};
					// Twice at once, then once more (a replayed execution).
					const [a, b] = await Promise.all([
						run(credential, 'templatedMessage', emailParams, enrolled),
						run(credential, 'templatedMessage', emailParams, enrolled),
					]);
					const sentAtOnce = [...outputsOf(a)[0], ...outputsOf(b)[0]];
					expect([...outputsOf(a)[3], ...outputsOf(b)[3]]).toEqual([]);
					expect(sentAtOnce).toHaveLength(3);
					const later = outputsOf(await run(credential, 'templatedMessage', emailParams, enrolled));
					expect(later[0]).toEqual([]);
					expect(later[1].map((i) => (i.json.delivery as Json).reason)).toEqual([
						'duplicate',
						'duplicate',
						'duplicate',
					]);
					await smtp.waitForMessages(mailsBefore + 3, 15_000);
					await new Promise((r) => setTimeout(r, 300));
					expect(smtp.messages.length).toBe(mailsBefore + 3);
					for (const [i, person] of people.entries()) {
						const mails = mailsTo(person.email);
						expect(mails).toHaveLength(1);
						const code = (enrolled[i].participant as Json).code as string;
						expect(mails[0].parsed.subject).toBe(`Welcome! Your referral code is ${code}`);
						const token = /\?token=([\w.-]+)/.exec(mails[0].parsed.text ?? '')?.[1];
						expect(
							verifyParticipantLink(token, {
								programId: 'default',
								secrets: { secret: LINK_SECRET },
							}).participantId,
						).toBe((enrolled[i].participant as Json).id);
					}

					const [s1, s2] = await Promise.all([
						run(credential, 'templatedMessage', WELCOME_SMS, enrolled),
						run(credential, 'templatedMessage', WELCOME_SMS, enrolled),
					]);
					expect([...outputsOf(s1)[0], ...outputsOf(s2)[0]]).toHaveLength(3);
					expect(
						outputsOf(await run(credential, 'templatedMessage', WELCOME_SMS, enrolled))[0],
					).toEqual([]);
					for (const person of people) expect(textsTo(person.phone)).toHaveLength(1);
				} finally {
					await cleanup();
				}
			});

			it('two sign-ups of one new email at once owe one welcome; one whose execution stopped before sending is delivered once by the sweep', async () => {
				const { credential, cleanup } = await open();
				try {
					await saveProgram(credential);
					const ledger = await ledgerOf(credential);
					const tag = tagOf();
					const email = `race-${tag}@example.test`;
					const [a, b] = await Promise.all([
						enrol(credential, [{ email }]),
						enrol(credential, [{ email: email.toUpperCase() }]),
					]);
					const both = [a.json('Node')[0], b.json('Node')[0]];
					expect((both[0].participant as Json).id).toBe((both[1].participant as Json).id);
					const id = (both[0].participant as Json).id as number;
					expect((await messagesOf(ledger, id)).map((m) => [m.channel, m.status])).toEqual([
						['email', 'owed'],
					]);
					// The execution stopped here (no Send Owed Messages); the sweep takes what waited longer than Overdue After.
					const before = smtp.messages.length;
					const sweep = {
						...WELCOME_EMAIL,
						messageKeysField: '',
						sweepOverdue: true,
						overdueMinutes: 0,
					};
					const [s1, s2] = await Promise.all([
						run(credential, 'templatedMessage', sweep, [{}]),
						run(credential, 'templatedMessage', sweep, [{}]),
					]);
					expect(
						[...outputsOf(s1)[0], ...outputsOf(s2)[0]].filter((i) => i.json.recipient === email),
					).toHaveLength(1);
					await smtp.waitForMessages(before + 1, 15_000);
					await new Promise((r) => setTimeout(r, 300));
					expect(mailsTo(email)).toHaveLength(1);
					expect(mailsTo(email)[0].parsed.subject).toBe(
						`Welcome! Your referral code is ${(both[0].participant as Json).code}`,
					);
					expect((await messagesOf(ledger, id)).map((m) => m.status)).toEqual(['sent']);
				} finally {
					await cleanup();
				}
			});

			it('owed texts pass the SMS pumping guard by default: premium-rate and out-of-market numbers get none, the sign-up stays', async () => {
				const { credential, cleanup } = await open();
				try {
					await saveProgram(credential);
					const ledger = await ledgerOf(credential);
					const tag = tagOf();
					const premium = '+19005550199';
					const faraway = '+8613800138000';
					const enrolled = (
						await enrol(credential, [
							{ email: `pump-${tag}@example.test`, phone: premium, consent: { sms: true } },
							{ email: `far-${tag}@example.test`, phone: faraway, consent: { sms: true } },
						])
					).json('Node');
					const out = outputsOf(await run(credential, 'templatedMessage', WELCOME_SMS, enrolled));
					expect(out[0]).toEqual([]);
					expect(
						out[1].map((i) => [(i.json.delivery as Json).reason, (i.json.delivery as Json).detail]),
					).toEqual([
						['blocked', expect.stringContaining('premium-rate')],
						['blocked', expect.stringContaining("not one of the program's SMS countries")],
					]);
					expect(textsTo(premium)).toEqual([]);
					expect(textsTo(faraway)).toEqual([]);
					for (const item of enrolled) {
						const [email, sms] = await messagesOf(ledger, (item.participant as Json).id as number);
						expect(email.status).toBe('owed');
						expect(sms).toMatchObject({
							status: 'skipped',
							error: expect.stringMatching(/^blocked: /),
						});
					}
					// Not taken again by the sweep.
					const sweep = outputsOf(
						await run(
							credential,
							'templatedMessage',
							{ ...WELCOME_SMS, messageKeysField: '', sweepOverdue: true, overdueMinutes: 0 },
							[{}],
						),
					);
					expect(sweep[0]).toEqual([]);
				} finally {
					await cleanup();
				}
			});

			it('the per-IP limit of owed texts counts the sign-up IP', async () => {
				const { credential, cleanup } = await open();
				try {
					await saveProgram(credential);
					const tag = tagOf();
					const headers = { 'x-forwarded-for': '198.51.100.9' };
					const people = [0, 1, 2].map((i) => ({
						email: `ip${i}-${tag}@example.test`,
						phone: `+120255501${name === 'SQLite' ? 8 : 6}${i}`,
						consent: { sms: true },
						headers,
					}));
					process.env.N8N_PROXY_HOPS = '1';
					let enrolled: Json[];
					try {
						enrolled = (await enrol(credential, people, { caller: 'public' })).json('Node');
					} finally {
						delete process.env.N8N_PROXY_HOPS;
					}
					const out = outputsOf(
						await run(
							credential,
							'templatedMessage',
							{ ...WELCOME_SMS, guard: { perIpPerHour: 2 } },
							enrolled,
						),
					);
					expect(out[0]).toHaveLength(2);
					expect(out[1].map((i) => (i.json.delivery as Json).reason)).toEqual(['rate_limited']);
				} finally {
					await cleanup();
				}
			});
		},
	);
}
