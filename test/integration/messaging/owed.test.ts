/* Delivering owed messages from the ledger (SQLite, real file) through nodemailer to a real SMTP
 * server on loopback: each owed message once, the hand-over held until the server has the whole
 * message but the final dot, a refused hand-over delivering nothing, a dead claim re-delivered,
 * a handed-over one never resent. */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLedger, type LedgerStore } from '../../../engine/ledger';
import {
	assembleEmail,
	createEmailSender,
	deliverOwedMessages,
	renderEmail,
	type EmailSender,
	type OutgoingEmail,
} from '../../../engine/messaging';
import type { MessageRecord } from '../../../engine/ledger/store';
import { startSmtpServer, type SmtpTestServer } from '../../fakes/smtpServer';

let smtp: SmtpTestServer;
let ledger: LedgerStore;
let sender: EmailSender;
const clock = { now: Date.now() };
let seq = 0;
const uid = (p: string) => `${p}-${++seq}-${Math.random().toString(36).slice(2, 8)}`;

beforeAll(async () => {
	smtp = await startSmtpServer();
	ledger = await openLedger(
		{
			backend: 'sqlite',
			path: path.join(mkdtempSync(path.join(os.tmpdir(), 'owed-')), 'ledger.sqlite'),
		},
		{ now: () => clock.now },
	);
	sender = createEmailSender({
		provider: 'smtp',
		credentials: { host: smtp.host, port: smtp.port },
		timeoutMs: 10_000,
		pool: true,
	} as never);
});

afterAll(async () => {
	await sender?.close?.();
	await ledger?.close();
	await smtp?.close();
});

function build(record: MessageRecord) {
	const data = record.data ?? {};
	const templates = {
		subject: 'You earned {{#each lines}}{{this}}{{/each}}',
		html: '<p>{{#each lines}}<b>{{this}}</b>{{/each}}</p>',
	};
	const rendered = renderEmail({ templates, data });
	return {
		message: assembleEmail(
			{ from: 'Rewards <rewards@example.test>', to: record.recipient },
			rendered,
			{},
		) as OutgoingEmail,
	};
}

async function owe(count: number) {
	const programId = uid('program');
	await ledger.ensureProgram({ id: programId });
	const keys: string[] = [];
	for (let i = 0; i < count; i++) {
		const key = uid('notice');
		keys.push(key);
		await ledger.enrolParticipant({
			programId,
			email: `${key}@example.test`,
			messages: [
				{
					key,
					channel: 'email',
					recipient: `${key}@example.test`,
					topic: 'reward.earned',
					data: { lines: [`${i} points`] },
					collect: ['lines'],
				},
			],
		});
	}
	return { programId, keys };
}

const arrivedFor = (key: string) =>
	smtp.messages.filter((m) => m.envelope.to.includes(`${key}@example.test`)).length;

describe('deliverOwedMessages', () => {
	it('delivers each owed message once, and a second run (a replay) sends nothing more', async () => {
		const { keys } = await owe(3);
		const first = await deliverOwedMessages(ledger, {
			channel: 'email',
			keys,
			build,
			sender,
			concurrency: 2,
		});
		expect(first.delivered.map((d) => d.result.outcome)).toEqual(['sent', 'sent', 'sent']);
		const second = await deliverOwedMessages(ledger, { channel: 'email', keys, build, sender });
		expect(second.delivered).toEqual([]);
		expect(second.others.map((m) => m.status)).toEqual(['sent', 'sent', 'sent']);
		await smtp.waitForMessages(3, 10_000);
		for (const key of keys) expect(arrivedFor(key)).toBe(1);
		for (const key of keys) expect((await ledger.getMessage(key))?.status).toBe('sent');
	});

	it('hands over only once the server holds the message but its final dot, and a refused hand-over delivers nothing', async () => {
		const { keys } = await owe(1);
		const [key] = keys;
		const { token, claimed } = await ledger.claimMessages({ channel: 'email', keys });
		const { message } = build(claimed[0]);
		let seenAtHandOver = -1;
		await expect(
			sender.send(message, {
				handOver: async () => {
					seenAtHandOver = arrivedFor(key);
					// Hold long enough for a server that had the dot to have taken the message.
					await new Promise((r) => setTimeout(r, 300));
					return false;
				},
			}),
		).rejects.toThrow(/claim on this message was lost/);
		expect(seenAtHandOver).toBe(0);
		await new Promise((r) => setTimeout(r, 300));
		expect(arrivedFor(key)).toBe(0);
		// The sender still works afterwards, and the claim's holder delivers it.
		const result = await deliverOwedMessages(ledger, { channel: 'email', keys, build, sender });
		expect(result.delivered).toEqual([]);
		expect(result.others[0].status).toBe('reserved');
		await ledger.completeMessage({ idempotencyKey: key, token, status: 'owed' });
		const again = await deliverOwedMessages(ledger, { channel: 'email', keys, build, sender });
		expect(again.delivered[0].result.outcome).toBe('sent');
		await smtp.waitForMessages(smtp.messages.length, 5000);
		expect(arrivedFor(key)).toBe(1);
	});

	it('a claim whose holder died before the hand-over is delivered by the sweep once it lapses; one handed over is never resent', async () => {
		const { keys, programId } = await owe(2);
		const [dead, handed] = keys;
		// An execution claims both, hands one over, and dies.
		const { token } = await ledger.claimMessages({ channel: 'email', keys, ttlMs: 1000 });
		expect(await ledger.handOverMessage({ idempotencyKey: handed, token })).toBe(true);
		// Before the claim lapses the sweep takes nothing.
		const early = await deliverOwedMessages(ledger, {
			channel: 'email',
			topic: 'reward.earned',
			programId,
			overdueAfterMs: 0,
			build,
			sender,
		});
		expect(early.delivered).toEqual([]);
		clock.now += 2000;
		const sweep = await deliverOwedMessages(ledger, {
			channel: 'email',
			topic: 'reward.earned',
			programId,
			overdueAfterMs: 0,
			build,
			sender,
		});
		expect(sweep.delivered.map((d) => d.record.idempotencyKey)).toEqual([dead]);
		expect((await ledger.getMessage(handed))?.status).toBe('unconfirmed');
		await new Promise((r) => setTimeout(r, 200));
		expect(arrivedFor(dead)).toBe(1);
		expect(arrivedFor(handed)).toBe(0);
	});

	it('a bad template leaves the message owed, with the error, for a later run', async () => {
		const { keys } = await owe(1);
		const result = await deliverOwedMessages(ledger, {
			channel: 'email',
			keys,
			sender,
			build: (record) =>
				build({ ...record, data: null }) &&
				(renderEmail({
					templates: { subject: '{{missing}}', html: 'x' },
					data: {},
					settings: { strict: true },
				}) as never),
		});
		expect(result.delivered[0].result.outcome).toBe('failed');
		const record = await ledger.getMessage(keys[0]);
		expect(record?.status).toBe('owed');
		expect(record?.error).toMatch(/missing/);
		expect(arrivedFor(keys[0])).toBe(0);
	});

	it('a transport that sends the message again by itself after the hand-over is refused the second time', async () => {
		const { keys } = await owe(1);
		const [key] = keys;
		// Stands in for nodemailer's pool re-queueing a message whose connection closed after the
		// final dot: it asks to hand the message over again within the same attempt, through the real sender.
		let handOvers = 0;
		const requeuing: EmailSender = {
			provider: sender.provider,
			handsOver: true,
			async send(message, hooks) {
				const info = await sender.send(message, hooks);
				handOvers++;
				await sender.send(message, hooks);
				handOvers++;
				return info;
			},
		};
		const result = await deliverOwedMessages(ledger, {
			channel: 'email',
			keys,
			build,
			sender: requeuing,
			retry: { maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 1 },
		});
		expect(handOvers).toBe(1);
		expect(result.delivered[0].result).toMatchObject({ outcome: 'failed', reason: 'permanent' });
		await smtp.waitForMessages(smtp.messages.length, 5000);
		await new Promise((r) => setTimeout(r, 300));
		expect(arrivedFor(key)).toBe(1);
		// Recorded as unconfirmed: not sent again, by this run or a later one.
		expect((await ledger.getMessage(key))?.status).toBe('unconfirmed');
		const again = await deliverOwedMessages(ledger, { channel: 'email', keys, build, sender });
		expect(again.delivered).toEqual([]);
		expect(arrivedFor(key)).toBe(1);
	});
});
