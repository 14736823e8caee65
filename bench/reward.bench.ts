/* Evaluating rewards for 10,000 qualified referrals (the README's sample program: points both
 * sides, a coupon at 3, Gold tier and badge at 10) through the Referral Reward node (in-process
 * n8n execution, harness) against the reward service's direct calls, each on a fresh SQLite
 * ledger prepared the same way, in the same run. The bar: the node costs at most 1.5x.
 *
 * Second part (issue #18, reward evaluation independent of a referrer's history): ONE referrer's
 * 4,000 referrals, each qualified and then evaluated (as the conversion workflow does); the cost
 * per evaluation over their 1st–500th and over their 3,500th–4,000th qualified referral, reading
 * the ledger's running counters (migration 10) against the history-based reference
 * (`evaluateFromHistory`, what every evaluation did before), each on a fresh SQLite ledger in the
 * same run.
 *
 * Third part (caps): the same with the sample program plus two caps (points per calendar month in
 * Europe/Berlin, referrer points per day, neither reached), whose usage an evaluation reads from
 * the ledger's cap usage counters (migration 13); the reference reads the referrer's rewards.
 * REWARD_BENCH_PARTS=node,history,caps picks the parts; REWARD_HISTORY_COUNT=4000 the size. */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { closeAllLedgers, openLedger } from '../engine/ledger';
import { RewardService, type RewardProgramConfig } from '../engine/rewards';
import { runWorkflow, singleNodeWorkflow } from '../test/harness';
import { sampleRewardProgram } from '../test/fixtures/sampleRewardProgram';
import { report } from './lib';

const COUNT = Number(process.env.REWARD_BENCH_COUNT ?? 10_000);
const PARTS = (process.env.REWARD_BENCH_PARTS ?? 'node,history,caps')
	.split(',')
	.map((s) => s.trim());
const HISTORY = Number(process.env.REWARD_HISTORY_COUNT ?? 4_000);
const WINDOW = Math.min(500, Math.floor(HISTORY / 4));
const PER_REFERRER = 10;

/** The same sample program as the Referral Reward node's form holds it. */
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
	levels: { level: [{ award: 'both', metric: 'qualified_referrals', min: 10, name: 'Gold' }] },
	programOptions: { currency: 'EUR', holdingDays: 0 },
};

/** A fresh ledger holding `count` qualified referrals, 10 per referrer; returns their ids. */
async function prepare(
	count: number,
): Promise<{ credential: { backend: 'sqlite'; path: string }; ids: number[] }> {
	const credential = {
		backend: 'sqlite' as const,
		path: path.join(mkdtempSync(path.join(os.tmpdir(), 'rm-bench-reward-')), 'ledger.sqlite'),
	};
	const ledger = await openLedger(credential);
	await ledger.ensureProgram({ id: 'default' });
	const ids: number[] = [];
	const t0 = Date.now() - count * 1000;
	let referrerId = 0;
	for (let i = 0; i < count; i++) {
		if (i % PER_REFERRER === 0)
			referrerId = (
				await ledger.enrolParticipant({ programId: 'default', email: `referrer${i}@example.com` })
			).participant.id;
		const referee = await ledger.enrolParticipant({
			programId: 'default',
			email: `friend${i}@example.org`,
		});
		const { referral } = await ledger.recordReferral({
			programId: 'default',
			referrerId,
			refereeId: referee.participant.id,
			status: 'pending',
		});
		await ledger.qualifyReferral({
			programId: 'default',
			referralId: referral.id,
			orderId: `order-${i}`,
			amount: 40,
			currency: 'EUR',
			occurredAt: t0 + i * 1000,
			fromStatuses: ['pending'],
		});
		ids.push(referral.id);
	}
	return { credential, ids };
}

async function timed(fn: () => Promise<number>, expected: number): Promise<number> {
	const start = performance.now();
	const rewards = await fn();
	const seconds = (performance.now() - start) / 1000;
	if (rewards !== expected) throw new Error(`expected ${expected} rewards, got ${rewards}`);
	return seconds;
}

async function viaEngine(count: number): Promise<number> {
	const { credential, ids } = await prepare(count);
	const service = new RewardService(await openLedger(credential), sampleRewardProgram());
	const seconds = await timed(async () => {
		let rewards = 0;
		for (const id of ids) rewards += (await service.evaluateReferral(id)).rewards.length;
		return rewards;
	}, expectedRewards(count));
	await closeAllLedgers();
	return seconds;
}

async function viaNode(count: number): Promise<number> {
	const { credential, ids } = await prepare(count);
	const seconds = await timed(async () => {
		const result = await runWorkflow(
			singleNodeWorkflow(
				{
					type: 'referralReward',
					parameters: {
						program: 'default',
						operation: 'evaluate',
						referralBy: 'id',
						referralField: 'referralId',
						outputMode: 'perReferral',
						...SAMPLE_FORM,
					},
					credentials: { referralLedgerApi: { id: '1', name: 'Ledger' } },
				} as never,
				ids.map((referralId) => ({ referralId })),
			),
			{ credentials: { referralLedgerApi: credential } },
		);
		return result.json('Node').reduce((sum, item) => sum + (item.rewards as unknown[]).length, 0);
	}, expectedRewards(count));
	await closeAllLedgers();
	return seconds;
}

/** Two points rewards per referral, a coupon per referrer reaching 3, tier and badge per referrer reaching 10. */
function expectedRewards(count: number): number {
	const referrers = Math.floor(count / PER_REFERRER);
	const rest = count % PER_REFERRER;
	return 2 * count + referrers * 3 + (rest >= 3 ? 1 : 0);
}

/**
 * One referrer's `HISTORY` referrals, each qualified then evaluated; seconds per evaluation over
 * the first and the last `WINDOW` of them. `reference`: those windows read the history (outside
 * them the counters path runs, which writes the same rewards, so both ledgers hold the same state).
 */
async function referrerHistory(
	reference: boolean,
	program: RewardProgramConfig,
): Promise<{ first: number; last: number }> {
	const credential = {
		backend: 'sqlite' as const,
		path: path.join(mkdtempSync(path.join(os.tmpdir(), 'rm-bench-history-')), 'ledger.sqlite'),
	};
	const ledger = await openLedger(credential);
	await ledger.ensureProgram({ id: 'default' });
	const counters = new RewardService(ledger, program);
	const history = new RewardService(ledger, program, { evaluateFromHistory: true });
	const referrerId = (
		await ledger.enrolParticipant({ programId: 'default', email: 'top-referrer@example.com' })
	).participant.id;
	const t0 = Date.now() - HISTORY * 1000;
	let first = 0;
	let last = 0;
	for (let i = 0; i < HISTORY; i++) {
		const referee = await ledger.enrolParticipant({
			programId: 'default',
			email: `friend${i}@example.org`,
		});
		const { referral } = await ledger.recordReferral({
			programId: 'default',
			referrerId,
			refereeId: referee.participant.id,
			status: 'pending',
		});
		await ledger.qualifyReferral({
			programId: 'default',
			referralId: referral.id,
			orderId: `order-${i}`,
			amount: 40,
			currency: 'EUR',
			occurredAt: t0 + i * 1000,
			fromStatuses: ['pending'],
		});
		const inFirst = i < WINDOW;
		const inLast = i >= HISTORY - WINDOW;
		const service = reference && (inFirst || inLast) ? history : counters;
		const start = performance.now();
		const result = await service.evaluateReferral(referral.id);
		const seconds = (performance.now() - start) / 1000;
		if (result.rewards.length < 2)
			throw new Error(`referral ${i}: ${result.rewards.length} rewards`);
		if (inFirst) first += seconds;
		if (inLast) last += seconds;
	}
	const rewards = await ledger.listRewards({
		programId: 'default',
		recipientId: referrerId,
		kind: 'points',
		limit: 10_000,
	});
	if (rewards.length !== HISTORY)
		throw new Error(`expected ${HISTORY} points rewards, got ${rewards.length}`);
	await closeAllLedgers();
	return { first: first / WINDOW, last: last / WINDOW };
}

/** The sample program with two caps an evaluation must read the usage of (neither is reached). */
function cappedProgram(): RewardProgramConfig {
	return {
		...sampleRewardProgram(),
		timeZone: 'Europe/Berlin',
		caps: [
			{ id: 'points-per-month', period: 'month', unit: 'points', maxValue: 100_000_000 },
			{
				id: 'referrer-points-per-day',
				period: 'day',
				maxCount: 1_000_000,
				ruleIds: ['referrer-points'],
			},
		],
	};
}

async function historyPart(caps: boolean): Promise<void> {
	const program = caps ? cappedProgram() : sampleRewardProgram();
	const what = caps ? 'sample program with caps' : 'sample program';
	const reads = caps
		? 'history-based evaluation (reloads the referrer’s referrals and rewards for the caps’ usage)'
		: 'history-based evaluation (reloads the referrer’s referrals, rewards, journal)';
	const from = caps
		? 'evaluation from the ledger’s running counters and cap usage'
		: 'evaluation from the ledger’s running counters';
	await referrerHistory(false, program); // warm-up (JIT, statement caches), not counted
	const counted = await referrerHistory(false, program);
	const reference = await referrerHistory(true, program);
	const ms = (s: number) => `${(s * 1000).toFixed(2)} ms`;
	const late = `${(HISTORY - WINDOW + 1).toLocaleString('en-US')}–${HISTORY.toLocaleString('en-US')}th`;
	report({
		name: `evaluate one referral of a top referrer, their 1st–${WINDOW}th qualified referral (SQLite, ${what})`,
		baseline: reads,
		baselineSeconds: reference.first,
		subject: from,
		subjectSeconds: counted.first,
		note: `${ms(counted.first)} vs ${ms(reference.first)} per evaluation`,
	});
	report({
		name: `evaluate one referral of a top referrer, their ${late} qualified referral (SQLite, ${what})`,
		baseline: reads,
		baselineSeconds: reference.last,
		subject: from,
		subjectSeconds: counted.last,
		note: `${ms(counted.last)} vs ${ms(reference.last)} per evaluation`,
	});
	// The figure: a top referrer's cost does not grow with their history (late within 1.5x of early).
	report({
		name: `evaluation cost at a referrer's ${late} vs 1st–${WINDOW}th qualified referral, from the counters (SQLite, ${what})`,
		baseline: `the same evaluations at the 1st–${WINDOW}th referral`,
		baselineSeconds: counted.first,
		subject: `at the ${late} referral`,
		subjectSeconds: counted.last,
		target: 1 / 1.5,
		note: `counters: ${(counted.last / counted.first).toFixed(2)}x from early to late; history-based reference: ${(reference.last / reference.first).toFixed(2)}x (${ms(reference.first)} → ${ms(reference.last)})`,
	});
}

async function main(): Promise<void> {
	if (PARTS.includes('node')) await nodePart();
	if (PARTS.includes('history')) await historyPart(false);
	if (PARTS.includes('caps')) await historyPart(true);
}

async function nodePart(): Promise<void> {
	// Warm-up of both sides (module loading, n8n's node loader, JIT), then alternate runs.
	await viaEngine(200);
	await viaNode(200);
	let baselineSeconds = Infinity;
	let subjectSeconds = Infinity;
	for (let round = 0; round < 2; round++) {
		baselineSeconds = Math.min(baselineSeconds, await viaEngine(COUNT));
		subjectSeconds = Math.min(subjectSeconds, await viaNode(COUNT));
	}
	report({
		name: `evaluate and award rewards for ${COUNT.toLocaleString('en-US')} qualified referrals (SQLite, sample program)`,
		baseline: 'engine RewardService.evaluateReferral direct calls',
		baselineSeconds,
		subject: 'Referral Reward node (Evaluate and Award) in an in-process n8n execution',
		subjectSeconds,
		target: 1 / 1.5,
		note: `node costs ${(subjectSeconds / baselineSeconds).toFixed(2)}x the engine; ${Math.round(COUNT / subjectSeconds).toLocaleString('en-US')} referrals/s through the node`,
	});
}

void main().catch((error) => {
	console.error(error);
	process.exitCode = 1;
});
