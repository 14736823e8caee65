/* Crash safety: a writer killed with SIGKILL in the middle of a batch leaves no partial referral,
 * reward or code batch; running the batch again completes it exactly once. On SQLite and PostgreSQL. */
import { DatabaseSync } from 'node:sqlite';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { closeAllLedgers, openLedger, type LedgerConfig } from '../../engine/ledger';
import {
	dropSchema,
	IN_CI,
	PG_URL,
	pgAvailability,
	pgConfig,
	pgQuery,
	randomSchema,
	tempDir,
} from '../support/databases';
import { resultOf, runWorker } from './helpers';
import type { CrashArgs } from './workers/crash';

const { available, problem } = pgAvailability();
const tmp = tempDir();
const schemas: string[] = [];

afterAll(async () => {
	await closeAllLedgers();
	tmp.remove();
	if (available) await Promise.all(schemas.map(dropSchema));
});

interface Backend {
	config: LedgerConfig;
	/** Items in the referral batch: enough that the parent's kill always lands before the end. */
	items: number;
	count(sql: string): Promise<number>;
}

function sqlite(name: string): Backend {
	const path = join(tmp.dir, `${name}.sqlite`);
	return {
		config: { backend: 'sqlite', path },
		items: 2000,
		async count(sql) {
			const db = new DatabaseSync(path);
			try {
				return Number((db.prepare(sql).get() as { n: number }).n);
			} finally {
				db.close();
			}
		},
	};
}

function postgres(): Backend {
	const schema = randomSchema('ledger_crash');
	schemas.push(schema);
	return {
		config: pgConfig(schema),
		items: 150,
		count: async (sql) => Number((await pgQuery<{ n: string }>(schema, sql))[0].n),
	};
}

/** What a partial write would leave behind; each must be zero. */
const ORPHANS: Record<string, string> = {
	'referral without its history': `SELECT COUNT(*) AS n FROM referrals r WHERE NOT EXISTS (SELECT 1 FROM referral_history h WHERE h.referral_id = r.id)`,
	'reward without its history': `SELECT COUNT(*) AS n FROM rewards w WHERE NOT EXISTS (SELECT 1 FROM reward_history h WHERE h.reward_id = w.id)`,
	'points reward without its journal entry': `SELECT COUNT(*) AS n FROM rewards w WHERE w.kind = 'points' AND NOT EXISTS (SELECT 1 FROM points_journal j WHERE j.reward_id = w.id)`,
	'balance that differs from its journal': `SELECT COUNT(*) AS n FROM points_balances b WHERE b.balance <> (SELECT COALESCE(SUM(j.delta), 0) FROM points_journal j WHERE j.participant_id = b.participant_id)`,
	'idempotency key without its result': `SELECT COUNT(*) AS n FROM idempotency_keys WHERE receipt IS NULL`,
	'referral without its event': `SELECT (SELECT COUNT(*) FROM referrals) - (SELECT COUNT(*) FROM outbox WHERE type = 'referral.recorded') AS n`,
	'reward without its event': `SELECT (SELECT COUNT(*) FROM rewards) - (SELECT COUNT(*) FROM outbox WHERE type = 'reward.awarded') AS n`,
};

async function expectNoOrphans(backend: Backend): Promise<void> {
	for (const [what, sql] of Object.entries(ORPHANS)) expect(await backend.count(sql), what).toBe(0);
}

async function killedBatchOfCodes(backend: Backend): Promise<void> {
	const ledger = await openLedger(backend.config);
	await ledger.ensureProgram({ id: 'crash' });
	const args: CrashArgs = {
		config: backend.config,
		programId: 'crash',
		mode: 'batch',
		count: 5000,
		hangAt: 2600,
	};
	const victim = runWorker('crash.ts', args);
	await victim.waitForLine((line) => line === 'MID');
	// Two chunks of 1,000 codes were inserted in the open transaction when this lands.
	victim.process.kill('SIGKILL');
	expect((await victim.exit).signal).toBe('SIGKILL');
	expect(await backend.count(`SELECT COUNT(*) AS n FROM codes`)).toBe(0);
	expect(await backend.count(`SELECT COUNT(*) AS n FROM idempotency_keys`)).toBe(0);

	const rerun = runWorker('crash.ts', { ...args, hangAt: undefined });
	expect((await rerun.exit).code).toBe(0);
	expect(resultOf(rerun)).toEqual({ codes: 5000, replayed: false });
	const again = runWorker('crash.ts', { ...args, hangAt: undefined });
	expect((await again.exit).code).toBe(0);
	expect(resultOf(again)).toEqual({ codes: 5000, replayed: true });
	expect(await backend.count(`SELECT COUNT(*) AS n FROM codes`)).toBe(5000);
}

async function killedBatchOfReferrals(backend: Backend): Promise<void> {
	const ledger = await openLedger(backend.config);
	await ledger.ensureProgram({ id: 'items' });
	const referrers: number[] = [];
	for (let i = 0; i < 5; i++)
		referrers.push(
			(await ledger.enrolParticipant({ programId: 'items', externalId: `crash-referrer-${i}` }))
				.participant.id,
		);
	const items = backend.items;
	const args: CrashArgs = {
		config: backend.config,
		programId: 'items',
		mode: 'items',
		count: items,
		referrers,
	};
	const victim = runWorker('crash.ts', args);
	const killAfter = 20 + Math.floor(Math.random() * 40);
	await victim.waitForLine((line) => line === `DONE ${killAfter}`);
	// A random moment shortly after: the writer is in the middle of some item's transactions.
	await new Promise((resolve) => setTimeout(resolve, Math.random() * 15));
	victim.process.kill('SIGKILL');
	expect((await victim.exit).signal).toBe('SIGKILL');
	await expectNoOrphans(backend);
	const partial = await backend.count(`SELECT COUNT(*) AS n FROM referrals`);
	expect(partial).toBeGreaterThan(killAfter);
	expect(partial).toBeLessThan(items);

	const rerun = runWorker('crash.ts', args);
	const exit = await rerun.exit;
	expect(exit.code, rerun.stderr).toBe(0);
	await expectNoOrphans(backend);
	expect(await backend.count(`SELECT COUNT(*) AS n FROM referrals`)).toBe(items);
	expect(await backend.count(`SELECT COUNT(*) AS n FROM rewards`)).toBe(2 * items);
	expect(await backend.count(`SELECT COUNT(*) AS n FROM participants`)).toBe(
		items + referrers.length,
	);
	for (const [i, referrerId] of referrers.entries()) {
		const referred = Array.from({ length: items }, (_, k) => k).filter(
			(k) => k % referrers.length === i,
		).length;
		expect(await ledger.pointsBalance({ programId: 'items', participantId: referrerId })).toBe(
			10 * referred,
		);
	}
	expect(await backend.count(`SELECT COUNT(*) AS n FROM points_journal`)).toBe(2 * items);
}

describe('a writer killed with SIGKILL mid-batch', () => {
	it('SQLite: leaves no part of a code batch, and the rerun issues it exactly once', () =>
		killedBatchOfCodes(sqlite('codes')));
	it('SQLite: leaves no partial referral or reward, and the rerun completes the batch exactly once', () =>
		killedBatchOfReferrals(sqlite('items')));

	const pg = (name: string, fn: (backend: Backend) => Promise<void>) =>
		it.skipIf(!available && !IN_CI)(`PostgreSQL: ${name}`, async () => {
			if (!available) throw new Error(`PostgreSQL is unreachable at ${PG_URL}: ${problem}`);
			await fn(postgres());
		});
	pg('leaves no part of a code batch, and the rerun issues it exactly once', killedBatchOfCodes);
	pg(
		'leaves no partial referral or reward, and the rerun completes the batch exactly once',
		killedBatchOfReferrals,
	);
});
