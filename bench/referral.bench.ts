/* Recording and qualifying 10,000 referrals through the Referral node (in-process n8n execution,
 * harness) against the referral service's direct calls for the same work, each on a fresh SQLite
 * ledger in the same run. The bar: the node costs at most 1.5x the engine. */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { IDataObject } from 'n8n-workflow';
import { closeAllLedgers, openLedger } from '../engine/ledger';
import { ReferralService, saveReferralProgram } from '../engine/referrals';
import { runWorkflow, singleNodeWorkflow } from '../test/harness';
import { bestOf, report } from './lib';

const COUNT = Number(process.env.REFERRAL_BENCH_COUNT ?? 10_000);
const REFERRERS = 100;

interface Prepared {
	credential: { backend: 'sqlite'; path: string };
	signUps: Array<{ email: string; referralCode: string; ip: string; userAgent: string }>;
	orders: Array<{ email: string; orderId: string; amount: number; currency: string }>;
}

/** A fresh ledger with the program and its referrers; the same for both sides. */
async function prepare(count: number): Promise<Prepared> {
	const credential = {
		backend: 'sqlite' as const,
		path: path.join(mkdtempSync(path.join(os.tmpdir(), 'rm-bench-ref-')), 'ledger.sqlite'),
	};
	const ledger = await openLedger(credential);
	await saveReferralProgram(ledger, {
		programId: 'bench',
		fraudPolicy: {
			velocityPerHour: 100_000,
			velocityPerDay: 100_000,
			sameIpAllowed: 1000,
			sameDeviceAllowed: 1000,
		},
	});
	const service = await ReferralService.open(ledger, 'bench');
	const codes: string[] = [];
	for (let r = 0; r < REFERRERS; r++)
		codes.push((await service.enrol({ email: `referrer${r}@example.com` })).participant.code!);
	const signUps = Array.from({ length: count }, (_, i) => ({
		email: `friend${i}@example.org`,
		referralCode: codes[i % REFERRERS],
		ip: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
		userAgent: `Browser/${i % 50}`,
	}));
	const orders = signUps.map((s, i) => ({
		email: s.email,
		orderId: `order-${i}`,
		amount: 25 + (i % 10),
		currency: 'EUR',
	}));
	return { credential, signUps, orders };
}

async function viaEngine(count = COUNT): Promise<void> {
	const { credential, signUps, orders } = await prepare(count);
	const service = await ReferralService.open(await openLedger(credential), 'bench');
	for (const s of signUps) await service.recordReferral(s);
	for (const o of orders) {
		const result = await service.qualify(o);
		if (!result.qualified)
			throw new Error(`engine: ${o.orderId} did not qualify (${result.outcome})`);
	}
	await closeAllLedgers();
}

async function viaNode(count = COUNT): Promise<void> {
	const { credential, signUps, orders } = await prepare(count);
	const node = (parameters: Record<string, unknown>, items: IDataObject[]) =>
		runWorkflow(
			singleNodeWorkflow(
				{
					type: 'referral',
					parameters: { program: 'bench', ...parameters },
					credentials: { referralLedgerApi: { id: '1', name: 'Ledger' } },
				} as never,
				items,
			),
			{ credentials: { referralLedgerApi: credential } },
		);
	const recorded = await node({ resource: 'referral', operation: 'record' }, signUps);
	if (recorded.json('Node').length !== count)
		throw new Error('node: not every sign-up was recorded');
	const qualified = await node({ resource: 'referral', operation: 'qualify' }, orders);
	const out = qualified.json('Node');
	if (out.length !== count || out.some((o) => o.qualified !== true))
		throw new Error('node: not every order qualified');
	await closeAllLedgers();
}

async function main(): Promise<void> {
	// A small warm-up of both sides (module loading, n8n's node loader, JIT), then alternate runs.
	await viaEngine(300);
	await viaNode(300);
	let baselineSeconds = Infinity;
	let subjectSeconds = Infinity;
	for (let round = 0; round < 2; round++) {
		baselineSeconds = Math.min(baselineSeconds, await bestOf(1, () => viaEngine(), 0));
		subjectSeconds = Math.min(subjectSeconds, await bestOf(1, () => viaNode(), 0));
	}
	report({
		name: `record + qualify ${COUNT.toLocaleString('en-US')} referrals (SQLite, fraud checks on)`,
		baseline: 'engine ReferralService direct calls',
		baselineSeconds,
		subject: 'Referral node (Record, then Qualify) in an in-process n8n execution',
		subjectSeconds,
		target: 1 / 1.5,
		note: `node costs ${(subjectSeconds / baselineSeconds).toFixed(2)}x the engine; ${Math.round((2 * COUNT) / subjectSeconds).toLocaleString('en-US')} operations/s through the node`,
	});
}

void main().catch((error) => {
	console.error(error);
	process.exitCode = 1;
});
