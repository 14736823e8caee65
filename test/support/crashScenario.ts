/* Issue 13 defect 8's proof, shared by the single instance (SQLite, test/e2e/crash.e2e.test.ts)
 * and the queue-mode cluster (PostgreSQL, test/queue/crash.test.ts): 200 signed conversions,
 * 20 at a time, through the sample conversion workflow; n8n SIGKILLed right after the 60th answer;
 * restarted; every request that got no answer retried (signed again: an identical signed request
 * is refused as a replayed nonce). Then every order qualified once, rewards exact, none doubled,
 * every reward email at the SMTP server exactly once (the owed message sweep delivers what the
 * killed executions left), and every retried client answered as the first answer had or would have. */
import { expect } from 'vitest';
import type { LedgerStore } from '../../engine/ledger';
import type { SmtpTestServer } from '../fakes/smtpServer';
import { signedPost } from './signing';
import { expectEachEmailOnce, settledEmails } from './owedMail';

export const REFERRERS = 50;
export const REFEREES_EACH = 4;
export const CONVERSIONS = REFERRERS * REFEREES_EACH;
const CONCURRENCY = 20;
const KILL_AFTER = 60;

export interface CrashTarget {
	baseUrl: () => string;
	/** SIGKILL to every n8n process. */
	kill(): Promise<void>;
	/** Starts n8n again on the same databases; resolves once it answers. */
	restart(): Promise<void>;
	/** The ledger n8n writes to, opened from the test process. */
	ledger(): Promise<LedgerStore>;
	smtp: SmtpTestServer;
	log(message: string): void;
}

interface Order {
	index: number;
	body: { email: string; orderId: string; amount: number; currency: string };
	referralId: number;
}

interface Answer {
	status: number;
	json: {
		referral: { id: number; status: string } | null;
		rewards: Array<Record<string, unknown>>;
	};
}

/** Referrers and referees written into the ledger before n8n starts (no welcome emails to count). */
export async function seedReferrals(ledger: LedgerStore): Promise<Order[]> {
	await ledger.ensureProgram({ id: 'default' });
	const orders: Order[] = [];
	for (let i = 0; i < REFERRERS; i++) {
		const referrer = (
			await ledger.enrolParticipant({
				programId: 'default',
				email: `crash-referrer${i}@example.com`,
			})
		).participant;
		for (let j = 0; j < REFEREES_EACH; j++) {
			const email = `crash-friend${i}-${j}@example.org`;
			const referee = (await ledger.enrolParticipant({ programId: 'default', email })).participant;
			const { referral } = await ledger.recordReferral({
				programId: 'default',
				referrerId: referrer.id,
				refereeId: referee.id,
				status: 'pending',
			});
			orders.push({
				index: orders.length,
				body: { email, orderId: `crash-${i}-${j}`, amount: 49.9, currency: 'EUR' },
				referralId: referral.id,
			});
		}
	}
	return orders;
}

async function post(baseUrl: string, order: Order): Promise<Answer | undefined> {
	try {
		// Signed now, with the current time: a retry is a new signature over the same body.
		const response = await fetch(`${baseUrl}/webhook/referral/conversion`, signedPost(order.body));
		const text = await response.text();
		return { status: response.status, json: JSON.parse(text) };
	} catch {
		return undefined; // no answer: the connection died with n8n
	}
}

/** The reward as the answer lists it, for comparing with the ledger. */
const shape = (r: Record<string, unknown>) =>
	[r.id, r.recipient, r.kind, r.points ?? r.amount ?? null, r.rule].join('|');

export async function runCrashScenario(target: CrashTarget, orders: Order[]): Promise<void> {
	const started = Date.now();
	const answers: Array<Answer | undefined> = new Array(orders.length);
	let answered = 0;
	let killing: Promise<void> | undefined;
	let next = 0;
	// 20 at a time; right after the 60th answer n8n is killed and nothing more is sent.
	await Promise.all(
		Array.from({ length: CONCURRENCY }, async () => {
			while (next < orders.length && !killing) {
				const order = orders[next++];
				const answer = await post(target.baseUrl(), order);
				if (answer && !killing) {
					answers[order.index] = answer;
					answered += 1;
					if (answered === KILL_AFTER) killing = target.kill();
				}
			}
		}),
	);
	await killing;
	expect(answered).toBe(KILL_AFTER);
	const unanswered = orders.filter((o) => answers[o.index] === undefined);
	target.log(
		`crash: ${answered} answers in ${((Date.now() - started) / 1000).toFixed(1)} s, then SIGKILL; ${unanswered.length} requests without an answer`,
	);
	for (const answer of answers.filter(Boolean)) expect(answer!.status).toBe(200);

	await target.restart();
	const restarted = Date.now();
	// The clients retry every request that got no answer, and a few that did (a replay must answer the same).
	const replays = orders.filter((o) => answers[o.index] !== undefined && o.index % 6 === 0);
	const retries: Array<{ order: Order; answer: Answer | undefined }> = [];
	let cursor = 0;
	const again = [...unanswered, ...replays];
	await Promise.all(
		Array.from({ length: CONCURRENCY }, async () => {
			while (cursor < again.length) {
				const order = again[cursor++];
				let answer = await post(target.baseUrl(), order);
				// Webhooks register a moment after start-up: a 404 or a refused connection is tried again,
				// and so is n8n's own 503 "Database is not ready!", which it answers to every request while
				// a ping of its own database lags (a clean-clone CI beside a second `npm test` got one after
				// the restart), as a shop's retries would; the conversion workflow itself never answers 503.
				for (
					let attempt = 0;
					attempt < 60 && (answer === undefined || answer.status === 404 || answer.status === 503);
					attempt++
				) {
					await new Promise((r) => setTimeout(r, 1000));
					answer = await post(target.baseUrl(), order);
				}
				retries.push({ order, answer });
			}
		}),
	);
	target.log(
		`crash: ${again.length} retries answered in ${((Date.now() - restarted) / 1000).toFixed(1)} s after the restart`,
	);
	for (const { answer } of retries) expect(answer?.status).toBe(200);

	// The ledger: every order qualified once, rewards exact, none doubled.
	const ledger = await target.ledger();
	const counts = await ledger.countReferrals({ programId: 'default' });
	expect(counts.byStatus.qualified ?? 0).toBe(CONVERSIONS);
	const conversions = await ledger.listConversions({
		programId: 'default',
		referralIds: orders.map((o) => o.referralId),
		qualifiedOnly: true,
	});
	expect(conversions).toHaveLength(CONVERSIONS);
	expect(new Set(conversions.map((c) => c.orderId)).size).toBe(CONVERSIONS);
	const rewards = await ledger.listRewards({ programId: 'default', limit: 10_000 });
	expect(new Set(rewards.map((r) => r.idempotencyKey)).size).toBe(rewards.length);
	expect(new Set(rewards.map((r) => `${r.referralId}:${r.side}:${r.rule}`)).size).toBe(
		rewards.length,
	);
	expect(rewards.filter((r) => r.side === 'referrer' && r.kind === 'points')).toHaveLength(
		CONVERSIONS,
	);
	expect(rewards.filter((r) => r.side === 'referee' && r.kind === 'points')).toHaveLength(
		CONVERSIONS,
	);
	expect(rewards.filter((r) => r.kind === 'coupon')).toHaveLength(REFERRERS); // each referrer's 3rd qualified referral

	// Every retried client got the body the first answer had, or would have had: this order's rewards.
	// Per-referral rewards belong to the answer of their own order. A milestone (the referrer's 3rd
	// qualified referral earns a coupon) is counted by qualification time: when an earlier-qualified
	// order is evaluated after a later one (two workers commit in another order, or a retry after the
	// crash), that late evaluation writes the milestone for the referral now 3rd as a catch-up
	// (engine/rewards/evaluate.ts), after that referral's own answer went out. So an answer may lack
	// its referral's milestone; it never lists a reward the ledger lacks, and the coupon count above
	// shows each milestone paid once.
	const byReferral = new Map<number, string[]>();
	const ledgerShapes = new Set<string>();
	for (const r of rewards) {
		const line = [r.id, r.side, r.kind, r.amount ?? null, r.rule].join('|');
		ledgerShapes.add(line);
		if (r.referralId !== null && r.rule !== 'milestones')
			byReferral.set(r.referralId, [...(byReferral.get(r.referralId) ?? []), line]);
	}
	const ownRewards = (answer: Answer) =>
		answer.json.rewards
			.filter((r) => r.rule !== 'milestones')
			.map(shape)
			.sort();
	const checkAnswer = (answer: Answer, order: Order, what: string) => {
		for (const line of answer.json.rewards.map(shape))
			expect(ledgerShapes.has(line), `${what}: ${line} is in the ledger`).toBe(true);
		expect(ownRewards(answer), what).toEqual((byReferral.get(order.referralId) ?? []).sort());
	};
	for (const { order, answer } of retries) {
		const first = answers[order.index];
		if (first) expect(answer, `replay of ${order.body.orderId}`).toEqual(first);
		expect(answer!.json.referral).toEqual({ id: order.referralId, status: 'qualified' });
		checkAnswer(answer!, order, `answer to the retry of ${order.body.orderId}`);
	}
	for (const order of orders) {
		const first = answers[order.index];
		if (first) checkAnswer(first, order, `answer to ${order.body.orderId}`);
	}

	// Emails: every message the ledger owed, at the SMTP server exactly once. What the killed executions
	// left is sent by the sweep workflow (owed for a minute, or its claim lapsed after 30 s).
	const messages = await settledEmails(
		ledger,
		target.smtp,
		{ programId: 'default', topic: 'reward.earned' },
		300_000,
	);
	expectEachEmailOnce(target.smtp, messages);
	// Each rewarded person of each referral was owed (and got) their email.
	const groups = new Set(messages.map((m) => m.group ?? m.idempotencyKey));
	for (const order of orders) {
		for (const r of rewards.filter(
			(x) => x.referralId === order.referralId && x.kind === 'points',
		)) {
			expect(
				groups.has(`referral-${order.referralId}-rewarded-${r.recipientId}`),
				`email to the ${r.side} of ${order.body.orderId}`,
			).toBe(true);
		}
	}
	expect(groups.size).toBe(2 * CONVERSIONS);
	const byStatus: Record<string, number> = {};
	for (const m of messages) byStatus[m.status] = (byStatus[m.status] ?? 0) + 1;
	target.log(
		`crash: ${messages.length} reward emails for ${groups.size} people and referrals, each delivered once, ${((Date.now() - restarted) / 1000).toFixed(1)} s after the restart; message log ${JSON.stringify(byStatus)}`,
	);
	expect(
		Object.keys(byStatus).filter((status) => status !== 'sent' && status !== 'unconfirmed'),
	).toEqual([]);
}
