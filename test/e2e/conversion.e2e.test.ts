/* The conversion and reward-approval sample workflows in a real n8n 2.40.7, with every workflow of
 * workflows/ imported and active, mail to a loopback SMTP server: a referrer and three friends sign
 * up through the sign-up webhook and order; the response lists the rewards each order earned, a
 * replayed order answers like the first and sends nothing, a later order earns nothing, and the hourly approval releases held rewards. */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLedger } from '../../engine/ledger';
import { ReferralService } from '../../engine/referrals';
import { RewardService } from '../../engine/rewards';
import { sampleRewardProgram } from '../fixtures/sampleRewardProgram';
import { startSmtpServer, type SmtpTestServer } from '../fakes/smtpServer';
import { signedPost, TEST_LEAD_SCORING_TOKEN, TEST_WEBHOOK_SECRET } from '../support/signing';
import { enrolledIn } from '../support/signUpAnswer';
// @ts-expect-error plain ESM script without types
import * as n8n from '../../scripts/n8n.mjs';

interface Reward {
	id: number;
	recipient: 'referrer' | 'referee';
	kind: string;
	points?: number;
	amount?: number;
	currency?: string;
	code?: string;
	rule: string;
	status: string;
}

const DAY = 24 * 60 * 60 * 1000;

describe('conversion and reward approval workflows in real n8n', () => {
	let userFolder: string;
	let bin: string;
	let env: Record<string, string>;
	let smtp: SmtpTestServer;
	let server: { baseUrl: string; bin: string; stop: () => Promise<void> } | undefined;

	const post = (body: unknown) => ({
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify(body),
	});
	// Every call is signed (X-Referral-Signature): the conversion and refund webhooks require it; sign-up ignores it.
	const call = async (pathname: string, body: unknown) => {
		const response = await fetch(`${server!.baseUrl}/webhook/${pathname}`, signedPost(body));
		return { status: response.status, json: (await response.json()) as any };
	};
	const convert = (body: unknown) => call('referral/conversion', body);
	const mailsTo = (address: string) => smtp.messages.filter((m) => m.envelope.to.includes(address));
	// Long enough for a wrongly sent mail to arrive before counting.
	const settle = () => new Promise((r) => setTimeout(r, 2000));
	const ledgerPath = () => path.join(userFolder, '.n8n', 'referral-ledger.sqlite');

	beforeAll(async () => {
		smtp = await startSmtpServer();
		userFolder = mkdtempSync(path.join(os.tmpdir(), 'rm-e2e-conversion-'));
		// Every workflow in workflows/, as npm start imports them: webhook paths must not collide.
		({ bin, env, server } = await n8n.startInstance(userFolder, {
			credentials: [
				n8n.localSmtpCredential(smtp.port),
				...n8n.securityCredentials({
					webhookSecret: TEST_WEBHOOK_SECRET,
					leadScoringToken: TEST_LEAD_SCORING_TOKEN,
				}),
			],
		}));
		// Each workflow's webhook registers on its own; wait for every one this file calls.
		await n8n.waitForWebhook(`${server!.baseUrl}/webhook/referral/signup`, post({}));
		await n8n.waitForWebhook(`${server!.baseUrl}/webhook/referral/refund`, post({}));
		await n8n.waitForWebhook(
			`${server!.baseUrl}/webhook/referral/conversion`,
			post({ email: 'warm-up@example.com', orderId: 'warm-up', amount: 1, currency: 'EUR' }),
		);
	});

	afterAll(async () => {
		await server?.stop();
		await smtp?.close();
		if (userFolder) rmSync(userFolder, { recursive: true, force: true });
	});

	let referrer: { id: number; email: string; code: string };
	const friends = ['bob@example.org', 'cleo@example.net', 'dave@example.com'];
	const referralIds: number[] = [];
	const allRewards: Reward[] = [];
	const reversedIds: number[] = [];
	/** The first answer to each order: a replay of the order must answer the same (issue #13). */
	const firstOrderAnswers = new Map<string, unknown>();

	it('a referrer and three friends with the code sign up through the sign-up workflow', async () => {
		// The sign-up answers alike for everyone (#14): the code and the referral are read from the ledger.
		const ann = await call('referral/signup', { email: 'ann@example.com', name: 'Ann' });
		expect(ann.status).toBe(202);
		referrer = (await enrolledIn(ledgerPath(), 'ann@example.com')).participant as typeof referrer;
		for (const email of friends) {
			const { status } = await call('referral/signup', { email, referralCode: referrer.code });
			expect(status).toBe(202);
			const { referral } = await enrolledIn(ledgerPath(), email);
			expect(referral).toMatchObject({ status: 'pending', referrerCode: referrer.code });
			referralIds.push(referral!.id);
		}
		await smtp.waitForMessages(4, 20_000);
	});

	it('the first order qualifies the referral: referrer 100 points, referee 50, both emailed once', async () => {
		const before = smtp.messages.length;
		const { status, json } = await convert({
			email: friends[0],
			orderId: 'A-1001',
			amount: 59.9,
			currency: 'EUR',
		});
		expect(status).toBe(200);
		expect(Object.keys(json).sort()).toEqual(['referral', 'rewards']);
		expect(json.referral).toEqual({ id: referralIds[0], status: 'qualified' });
		const rewards = json.rewards as Reward[];
		expect(rewards.map((r) => [r.recipient, r.kind, r.points, r.rule, r.status]).sort()).toEqual([
			['referee', 'points', 50, 'referee-points', 'approved'],
			['referrer', 'points', 100, 'referrer-points', 'approved'],
		]);
		for (const r of rewards) {
			expect(typeof r.id).toBe('number');
			expect(Object.keys(r).sort()).toEqual([
				'id',
				'kind',
				'points',
				'recipient',
				'rule',
				'status',
			]);
		}
		// The answer names no other person: not the referrer's email (issue #14).
		expect(JSON.stringify(json)).not.toContain(referrer.email);
		allRewards.push(...rewards);
		await smtp.waitForMessages(before + 2, 20_000);
		const [toAnn] = mailsTo(referrer.email).slice(-1);
		expect(toAnn.parsed.subject).toBe('Your referral just paid off');
		expect(toAnn.parsed.text).toContain('- 100 points');
		const toBob = mailsTo(friends[0]).filter(
			(m) => m.parsed.subject === 'Thanks for your first order',
		);
		expect(toBob).toHaveLength(1);
		expect(toBob[0].parsed.text).toContain('- 50 points');
	});

	it('a replayed order answers like the first and sends no email; a later order does not qualify again', async () => {
		const before = smtp.messages.length;
		const replay = await convert({
			email: friends[0],
			orderId: 'A-1001',
			amount: 59.9,
			currency: 'EUR',
		});
		expect(replay).toEqual({
			status: 200,
			json: { referral: { id: referralIds[0], status: 'qualified' }, rewards: allRewards },
		});
		const later = await convert({
			email: friends[0],
			orderId: 'A-2001',
			amount: 120,
			currency: 'EUR',
		});
		expect(later).toEqual({
			status: 200,
			json: { referral: { id: referralIds[0], status: 'qualified' }, rewards: [] },
		});
		await settle();
		expect(smtp.messages.length).toBe(before);
	});

	it('a customer nobody referred, or nobody enrolled, gets referral null and no rewards', async () => {
		const before = smtp.messages.length;
		expect(
			await convert({ email: referrer.email, orderId: 'A-3001', amount: 10, currency: 'EUR' }),
		).toEqual({ status: 200, json: { referral: null, rewards: [] } });
		expect(
			await convert({
				email: 'stranger@example.com',
				orderId: 'A-3002',
				amount: 10,
				currency: 'EUR',
			}),
		).toEqual({ status: 200, json: { referral: null, rewards: [] } });
		await settle();
		expect(smtp.messages.length).toBe(before);
	});

	it('an order without an amount answers 400 naming the field', async () => {
		const { status, json } = await convert({
			email: friends[1],
			orderId: 'A-4000',
			amount: 'lots',
			currency: 'EUR',
		});
		expect(status).toBe(400);
		expect(Object.keys(json)).toEqual(['error']);
		expect(json.error.field).toBe('amount');
	});

	it('the third qualified referral also earns the referrer a 20 EUR coupon with a code, in the same email', async () => {
		const second = await convert({
			email: friends[1],
			orderId: 'A-1002',
			amount: 35,
			currency: 'EUR',
		});
		expect(second.json.referral).toEqual({ id: referralIds[1], status: 'qualified' });
		expect((second.json.rewards as Reward[]).map((r) => r.kind)).toEqual(['points', 'points']);
		allRewards.push(...second.json.rewards);
		firstOrderAnswers.set('A-1002', second.json);

		const third = await convert({
			email: friends[2],
			orderId: 'A-1003',
			amount: 80,
			currency: 'EUR',
		});
		expect(third.status).toBe(200);
		expect(third.json.referral).toEqual({ id: referralIds[2], status: 'qualified' });
		const rewards = third.json.rewards as Reward[];
		const coupon = rewards.find((r) => r.kind === 'coupon');
		expect(coupon).toMatchObject({
			recipient: 'referrer',
			amount: 20,
			currency: 'EUR',
			rule: 'milestones',
			status: 'approved',
		});
		expect(JSON.stringify(third.json)).not.toContain(referrer.email);
		expect(coupon!.code).toMatch(/^THANKS-\S+$/);
		expect(
			rewards
				.filter((r) => r.kind === 'points')
				.map((r) => [r.recipient, r.points])
				.sort(),
		).toEqual([
			['referee', 50],
			['referrer', 100],
		]);
		allRewards.push(...rewards);

		// Ann: one email per qualified referral (3), Bob, Cleo, Dave: one each; sign-ups sent 4.
		await smtp.waitForMessages(4 + 6, 20_000);
		await settle();
		expect(smtp.messages).toHaveLength(10);
		const toAnn = mailsTo(referrer.email).filter(
			(m) => m.parsed.subject === 'Your referral just paid off',
		);
		expect(toAnn).toHaveLength(3);
		const last = toAnn.find((m) => m.parsed.text?.includes('coupon'));
		expect(last?.parsed.text).toContain(`- a 20.00 EUR coupon: ${coupon!.code}`);
		expect(last?.parsed.text).toContain('- 100 points');

		const replay = await convert({
			email: friends[2],
			orderId: 'A-1003',
			amount: 80,
			currency: 'EUR',
		});
		expect(replay.json).toEqual(third.json);
		await settle();
		expect(smtp.messages).toHaveLength(10);
	});

	it('a refund of nothing changes nothing (issue #13): the referral stays qualified, no reward is reversed, and a replay answers the same', async () => {
		const zero = await call('referral/refund', { orderId: 'A-1002', refundedAmount: 0 });
		expect(zero).toEqual({
			status: 200,
			json: {
				referral: { id: referralIds[1], status: 'qualified' },
				outcome: 'unchanged',
				reversed: [],
				adjusted: [],
				demoted: [],
			},
		});
		expect(await call('referral/refund', { orderId: 'A-1002', refundedAmount: 0 })).toEqual(zero);
	});

	it('the refund workflow reverses the referral of a refunded order', async () => {
		const { status, json } = await call('referral/refund', { orderId: 'A-1002' });
		expect(status).toBe(200);
		expect(json.referral).toEqual({ id: referralIds[1], status: 'reversed' });
		expect(json).toMatchObject({ outcome: 'reversed', adjusted: [] });
		// The points of that order (referrer 100, referee 50) are reversed with it, and a replay answers the same.
		expect(json.reversed).toHaveLength(2);
		reversedIds.push(...json.reversed);
		expect((await call('referral/refund', { orderId: 'A-1002' })).json).toEqual(json);
		// A replay of its order answers like the first answer did (replays answer like the first request)
		// and earns nothing: the next test counts every reward in the ledger once.
		expect(
			await convert({ email: friends[1], orderId: 'A-1002', amount: 35, currency: 'EUR' }),
		).toEqual({ status: 200, json: firstOrderAnswers.get('A-1002') });
	});

	it('the ledger holds each reward once: Ann 3 x 100 points and one coupon, each friend 50 points', async () => {
		await server!.stop();
		server = undefined;
		const ledger = await openLedger({ backend: 'sqlite', path: ledgerPath() });
		try {
			const rewards = await ledger.listRewards({ programId: 'default', limit: 100 });
			expect(rewards.map((r) => r.id).sort((a, b) => a - b)).toEqual(
				allRewards.map((r) => r.id).sort((a, b) => a - b),
			);
			const annRewards = rewards.filter((r) => r.recipientId === referrer.id);
			expect(annRewards.filter((r) => r.kind === 'points').map((r) => r.amount)).toEqual([
				100, 100, 100,
			]);
			expect(annRewards.filter((r) => r.kind === 'coupon')).toHaveLength(1);
			// The refunded order's two rewards, and only those, are reversed.
			expect(
				rewards
					.filter((r) => r.status === 'reversed')
					.map((r) => r.id)
					.sort((a, b) => a - b),
			).toEqual([...reversedIds].sort((a, b) => a - b));
			expect(rewards.filter((r) => r.recipientId !== referrer.id).map((r) => r.amount)).toEqual([
				50, 50, 50,
			]);
		} finally {
			await ledger.close();
		}
	});

	it('the hourly approval workflow approves rewards whose holding period ended and emails each recipient once', async () => {
		// Rewards earned 19 days ago under a 14-day refund window: due now, written as the conversion would with Holding Period 14.
		const ledger = await openLedger({ backend: 'sqlite', path: ledgerPath() });
		let held: Awaited<ReturnType<RewardService['evaluateReferral']>>['rewards'] = [];
		let eve: { id: number; email: string } | undefined;
		try {
			const referrals = await ReferralService.open(ledger, 'default');
			const fay = await referrals.enrol({ email: 'fay@example.com' });
			const signUp = await referrals.enrol({
				email: 'eve@example.org',
				referralCode: fay.participant.code ?? undefined,
				at: Date.now() - 20 * DAY,
			});
			eve = { id: Number(signUp.participant.id), email: 'eve@example.org' };
			const qualified = await referrals.qualify({
				email: 'eve@example.org',
				orderId: 'B-1001',
				amount: 42,
				currency: 'EUR',
				at: Date.now() - 19 * DAY,
			});
			expect(qualified).toMatchObject({ qualified: true });
			const result = await new RewardService(
				ledger,
				sampleRewardProgram('default', 14),
			).evaluateReferral(qualified.referral!.id);
			held = result.rewards;
			expect(held.map((r) => [r.recipient, r.points, r.status])).toEqual([
				['referrer', 100, 'pending'],
				['referee', 50, 'pending'],
			]);
			for (const r of held) expect(Date.parse(r.holdUntil!)).toBeLessThan(Date.now());
		} finally {
			await ledger.close();
		}

		// n8n again (the previous test stopped it to read the ledger alone), and the approval run by hand as the editor runs it.
		server = await n8n.startN8n(bin, env);
		await n8n.ensureOwner(server!.baseUrl);
		const before = smtp.messages.length;
		const run = await n8n.runWorkflow(server, 'rmRewardApprove1');
		expect(run.status).toBe('success');
		const runData = run.data.resultData.runData;
		const approved = runData['Approve Due Rewards'][0].data.main[0].map(
			(item: { json: Reward }) => item.json,
		);
		expect(approved.map((r: Reward) => [r.id, r.status]).sort()).toEqual(
			held.map((r) => [r.id, 'approved']).sort(),
		);
		const outputs = runData['Notify Approved'][0].data.main as Array<
			Array<{ json: { delivery: { outcome: string } } }>
		>;
		expect(outputs.map((items) => (items ?? []).map((i) => i.json.delivery?.outcome))).toEqual([
			['sent', 'sent'],
			[],
			[],
			[],
		]);

		const mails = await smtp.waitForMessages(before + 2, 20_000);
		const sent = mails.slice(before);
		expect(sent.map((m) => m.envelope.to[0]).sort()).toEqual([
			'eve@example.org',
			'fay@example.com',
		]);
		for (const m of sent) expect(m.parsed.subject).toBe('Your referral reward is ready');
		expect(sent.find((m) => m.envelope.to[0] === 'fay@example.com')!.parsed.text).toContain(
			'You now have 100 points.',
		);
		expect(sent.find((m) => m.envelope.to[0] === 'eve@example.org')!.parsed.text).toContain(
			'You now have 50 points.',
		);

		await settle();
		expect(smtp.messages).toHaveLength(before + 2);

		const after = await openLedger({ backend: 'sqlite', path: ledgerPath() });
		try {
			const rewards = await after.listRewards({
				programId: 'default',
				recipientId: eve!.id,
				limit: 10,
			});
			expect(rewards.map((r) => r.status)).toEqual(['approved']);
			const balance = await after.pointsJournal({
				programId: 'default',
				participantId: eve!.id,
				limit: 10,
			});
			expect(balance.map((e) => e.delta)).toEqual([50]);
		} finally {
			await after.close();
		}
		// n8n starts again inside this test: up to its own start timeout on a loaded machine.
	}, 360_000);
});
