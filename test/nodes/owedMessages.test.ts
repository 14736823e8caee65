/* Reward emails owed in the ledger and delivered from it, in real n8n executions (harness) on
 * SQLite and PostgreSQL, to a real SMTP server on loopback: Award Rewards with Owe Reward Emails
 * writes them with the rewards; Templated Message › Send Owed Messages sends each once (a replay
 * sends nothing more); the sweep delivers what an execution that stopped before its message step
 * left; items out are paired with the items that asked. */
import type { IDataObject } from 'n8n-workflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeAllLedgers, openLedger, type LedgerStore } from '../../engine/ledger';
import { ledgerConfigFromCredential } from '../../nodes/shared/ledger';
import { runWorkflow, singleNodeWorkflow } from '../harness';
import { startSmtpServer, type SmtpTestServer } from '../fakes/smtpServer';
import { ledgerNodeBackends, pgTestUrl } from './ledgerBackends';

type Json = IDataObject;
/** The sample program's rules as the Award Rewards form holds them (points both sides, a coupon at 3). */
const SAMPLE_FORM = {
	perReferral: {
		rewards: [
			{ side: 'referrer', on: 'referral_qualified', kind: 'points', points: 100, id: '' },
			{ side: 'referee', on: 'referral_qualified', kind: 'points', points: 50, id: '' },
		],
	},
	milestones: {
		milestone: [
			{
				metric: 'qualified_referrals',
				threshold: 3,
				repeatEvery: 0,
				kind: 'coupon',
				amountType: 'amount',
				amount: 20,
				currency: '',
				couponSource: 'generate',
				couponPrefix: 'THANKS',
				couponValidDays: 90,
			},
		],
	},
	programOptions: { currency: 'EUR', holdingDays: 0 },
};
let smtp: SmtpTestServer;

beforeAll(async () => {
	smtp = await startSmtpServer();
});

afterAll(async () => {
	await closeAllLedgers();
	await smtp?.close();
});

const SEND_OWED = {
	resource: 'email',
	operation: 'sendOwed',
	emailProvider: 'smtp',
	from: 'Rewards <rewards@example.test>',
	messageKeysField: 'messageKeys',
	topic: 'reward.earned',
	subject:
		'{{#if (eq recipient "referrer")}}Your referral just paid off{{else}}Thanks for your first order{{/if}}',
	html: '<ul>{{#each lines}}<li>{{this}}</li>{{/each}}</ul>',
	text: '{{#each lines}}- {{this}}\n{{/each}}',
};

const backends = ledgerNodeBackends('owed');

for (const [name, open] of backends) {
	describe.skipIf(name === 'PostgreSQL' && !pgTestUrl())(`Owed reward emails on ${name}`, () => {
		const run = async (credential: Json, type: string, parameters: Json, items: Json[]) => {
			const credentials: Record<string, Json> = {
				referralLedgerApi: credential,
				referralSmtpApi: {
					host: smtp.host,
					port: smtp.port,
					secure: false,
					starttls: 'whenOffered',
				},
			};
			const refs = Object.fromEntries(
				Object.keys(credentials).map((t) => [t, { id: `id-${t}`, name: t }]),
			);
			return await runWorkflow(
				singleNodeWorkflow({ type, parameters, credentials: refs } as never, items),
				{ credentials: credentials as never },
			);
		};
		const evaluate = (credential: Json, referralIds: number[]) =>
			run(
				credential,
				'referralReward',
				{
					program: 'default',
					operation: 'evaluate',
					referralBy: 'id',
					referralField: 'referralId',
					outputMode: 'perReferral',
					oweNotices: true,
					...SAMPLE_FORM,
				},
				referralIds.map((referralId) => ({ referralId })),
			);
		const sendOwed = (credential: Json, items: Json[], extra: Json = {}) =>
			run(credential, 'templatedMessage', { ...SEND_OWED, ...extra }, items);
		const outputsOf = (result: Awaited<ReturnType<typeof run>>) =>
			[0, 1, 2, 3].map((o) => result.items('Node', o));
		const mailsTo = (address: string) =>
			smtp.messages.filter((m) => m.envelope.to.includes(address));
		let n = 0;
		const setup = async (credential: Json, count: number) => {
			const ledger: LedgerStore = await openLedger(ledgerConfigFromCredential(credential as never));
			await ledger.ensureProgram({ id: 'default' });
			const tag = `${name.toLowerCase()}-${++n}-${Math.random().toString(36).slice(2, 7)}`;
			const referrer = (
				await ledger.enrolParticipant({ programId: 'default', email: `ann-${tag}@example.test` })
			).participant;
			const ids: number[] = [];
			for (let i = 0; i < count; i++) {
				const referee = (
					await ledger.enrolParticipant({
						programId: 'default',
						email: `friend${i}-${tag}@example.test`,
					})
				).participant;
				const { referral } = await ledger.recordReferral({
					programId: 'default',
					referrerId: referrer.id,
					refereeId: referee.id,
					status: 'pending',
				});
				await ledger.qualifyReferral({
					programId: 'default',
					referralId: referral.id,
					orderId: `order-${tag}-${i}`,
					amount: 80,
					currency: 'EUR',
					fromStatuses: ['pending'],
				});
				ids.push(referral.id);
			}
			return { ledger, tag, ids, referrerEmail: referrer.email! };
		};

		it('owes one email per person with the rewards and sends each once; a replay sends nothing more', async () => {
			const { credential, cleanup } = await open();
			try {
				const { ledger, tag, ids, referrerEmail } = await setup(credential, 3);
				const evaluated = (await evaluate(credential, ids)).json('Node');
				expect(evaluated[2].messageKeys).toHaveLength(2);
				// Owed in the ledger with the rewards, before any message step ran.
				const key = (evaluated[2].messageKeys as string[])[0];
				expect(await ledger.getMessage(key)).toMatchObject({
					status: 'owed',
					topic: 'reward.earned',
					recipient: referrerEmail,
					data: { lines: ['100 points', expect.stringMatching(/^a 20\.00 EUR coupon: THANKS-/)] },
				});

				const before = smtp.messages.length;
				const sent = await sendOwed(credential, evaluated);
				const [ok, skipped, deferred, failed] = outputsOf(sent);
				expect(failed.map((i) => i.json)).toEqual([]);
				expect(deferred).toEqual([]);
				expect(skipped).toEqual([]);
				expect(ok).toHaveLength(6);
				// Each item out is paired with the item that carried its key.
				for (const item of ok) {
					const index = (item.pairedItem as { item: number }).item;
					expect(evaluated[index].messageKeys).toContain(item.json.messageKey);
				}
				await smtp.waitForMessages(before + 6, 15_000);
				expect(mailsTo(referrerEmail)).toHaveLength(3);
				const third = mailsTo(referrerEmail).find((m) => /coupon/.test(m.parsed.text ?? ''))!;
				expect(third.parsed.subject).toBe('Your referral just paid off');
				expect(third.parsed.text).toMatch(/- 100 points\n- a 20\.00 EUR coupon: THANKS-/);
				for (let i = 0; i < 3; i++)
					expect(mailsTo(`friend${i}-${tag}@example.test`)).toHaveLength(1);

				// A replay of the whole conversion: the rewards replay, the emails are not sent again.
				const replayed = (await evaluate(credential, ids)).json('Node');
				expect(replayed.map((r) => r.messageKeys)).toEqual(evaluated.map((r) => r.messageKeys));
				const again = outputsOf(await sendOwed(credential, replayed));
				expect(again[0]).toEqual([]);
				expect(again[1].map((i) => i.json.delivery)).toEqual(
					expect.arrayContaining([
						expect.objectContaining({
							outcome: 'skipped',
							reason: 'duplicate',
							detail: 'Already sent.',
						}),
					]),
				);
				expect(again[1]).toHaveLength(6);
				await new Promise((r) => setTimeout(r, 300));
				expect(smtp.messages.length).toBe(before + 6);
			} finally {
				await cleanup();
			}
		});

		it('a replay after a crash before the message step sends what was owed; the sweep sends what nobody asked for', async () => {
			const { credential, cleanup } = await open();
			try {
				const { ids, referrerEmail } = await setup(credential, 2);
				// The first execution awarded and died before Send Owed Messages.
				await evaluate(credential, [ids[0]]);
				await evaluate(credential, [ids[1]]);
				const before = smtp.messages.length;
				// The client retried the first conversion: its replay delivers its emails.
				const replay = (await evaluate(credential, [ids[0]])).json('Node');
				expect(outputsOf(await sendOwed(credential, replay))[0]).toHaveLength(2);
				// Nobody retried the second: the scheduled sweep (no keys) delivers it.
				const sweep = outputsOf(
					await sendOwed(credential, [{}], {
						messageKeysField: '',
						sweepOverdue: true,
						overdueMinutes: 0,
					}),
				);
				expect(sweep[0].map((i) => i.json.data && (i.json.data as Json).referralId)).toEqual([
					ids[1],
					ids[1],
				]);
				expect(sweep[0].map((i) => i.pairedItem)).toEqual([{ item: 0 }, { item: 0 }]);
				await smtp.waitForMessages(before + 4, 15_000);
				expect(mailsTo(referrerEmail)).toHaveLength(2);
				// Nothing is left: a second sweep sends nothing.
				const second = outputsOf(
					await sendOwed(credential, [{}], {
						messageKeysField: '',
						sweepOverdue: true,
						overdueMinutes: 0,
					}),
				);
				expect(second.flat()).toEqual([]);
			} finally {
				await cleanup();
			}
		});
	});
}
