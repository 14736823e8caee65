/* Issue #18, throughput: Record, Qualify and Reward Evaluate commit the writes of a chunk of items
 * in one ledger transaction (runPerItem with `batch`), each item in its own savepoint. A trigger in
 * the ledger makes one sign-up in the middle of a chunk fail after the item already wrote (its
 * referee was enrolled): with Continue On Fail the other items commit and the failed one leaves
 * nothing; without it the items before commit, the failed one leaves nothing and the later ones do
 * not run, as with one transaction per item. Replays after a batch answer like the first run. On
 * PostgreSQL the trigger also records each inserting transaction: one per chunk, not per item. */
import { afterAll, describe, expect, it } from 'vitest';
import type { IDataObject } from 'n8n-workflow';
import pg from 'pg';
import { closeAllLedgers, type LedgerStore, openLedger } from '../../engine/ledger';
import { ReferralService, saveReferralProgram } from '../../engine/referrals';
import { ledgerConfigFromCredential } from '../../nodes/shared/ledger';
import { BATCH_ITEMS } from '../../nodes/shared/runner';
import { runWorkflow, singleNodeWorkflow } from '../harness';
import { POINTS_AND_CASH_BACK_FORM as FORM, ledgerNodeBackends, pgTestUrl } from './ledgerBackends';

afterAll(async () => {
	await closeAllLedgers();
});

type Credential = Record<string, any>;
type Json = Record<string, any>;

/** The output flags that say an answer is a replay: the only difference a replay may show. */
function withoutReplayFlags(value: unknown): unknown {
	if (Array.isArray(value)) return value.map(withoutReplayFlags);
	if (value && typeof value === 'object')
		return Object.fromEntries(
			Object.entries(value as Json)
				.filter(([k]) => k !== 'replayed')
				.map(([k, v]) => [k, withoutReplayFlags(v)]),
		);
	return value;
}

async function runNode(
	credential: Credential,
	type: string,
	parameters: IDataObject,
	items: Json[],
	continueOnFail: boolean,
) {
	const run = await runWorkflow(
		singleNodeWorkflow(
			{
				type,
				parameters: { program: 'shop', ...parameters },
				continueOnFail,
				credentials: { referralLedgerApi: { id: '1', name: 'Ledger' } },
			} as never,
			items as never,
		),
		{ credentials: { referralLedgerApi: credential as never } },
	);
	const error = run.error('Node');
	return { out: error ? [] : (run.json('Node') as Json[]), error };
}

const record = (credential: Credential, items: Json[], continueOnFail: boolean) =>
	runNode(
		credential,
		'referral',
		{ resource: 'referral', operation: 'record' },
		items,
		continueOnFail,
	);

/** The ledger as the test sees it, with the failure trigger installed; `sql` reads it directly. */
interface Probe {
	ledger: LedgerStore;
	code: string;
	sql: (text: string, params?: unknown[]) => Promise<Json[]>;
	/** Transactions that inserted referrals (PostgreSQL only; undefined on SQLite). */
	insertingTransactions: () => Promise<number | undefined>;
	dropTrigger: () => Promise<void>;
}

async function probe(credential: Credential): Promise<Probe> {
	const config = ledgerConfigFromCredential(credential);
	const ledger = await openLedger(config);
	// No velocity limit: one referrer brings every referral here.
	await saveReferralProgram(ledger, {
		programId: 'shop',
		fraudPolicy: { velocityPerHour: 100_000, velocityPerDay: 100_000 },
	});
	const service = await ReferralService.open(ledger, 'shop');
	const code = (await service.enrol({ email: 'referrer@example.com' })).participant.code!;
	if (config.backend === 'sqlite') {
		const { DatabaseSync } = require('node:sqlite') as typeof import('node:sqlite');
		const db = new DatabaseSync(config.path, { timeout: 5000 });
		db.exec(`CREATE TRIGGER fail_bad BEFORE INSERT ON referrals
			WHEN (SELECT email FROM participants WHERE id = NEW.referee_id) LIKE 'bad%'
			BEGIN SELECT RAISE(ABORT, 'injected failure'); END`);
		return {
			ledger,
			code,
			sql: async (text, params = []) =>
				db.prepare(text).all(...(params as Array<string | number>)) as Json[],
			insertingTransactions: async () => undefined,
			dropTrigger: async () => void db.exec('DROP TRIGGER fail_bad'),
		};
	}
	const client = new pg.Client({
		connectionString: config.connectionString,
		options: `-c search_path=${config.schema}`,
	});
	await client.connect();
	await client.query(`CREATE TABLE batch_probe (txid BIGINT NOT NULL);
		CREATE FUNCTION fail_bad() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			IF (SELECT email FROM participants WHERE id = NEW.referee_id) LIKE 'bad%' THEN
				RAISE EXCEPTION 'injected failure';
			END IF;
			INSERT INTO batch_probe VALUES (txid_current());
			RETURN NEW;
		END $$;
		CREATE TRIGGER fail_bad BEFORE INSERT ON referrals FOR EACH ROW EXECUTE FUNCTION fail_bad();`);
	afterAll(async () => {
		await client.end();
	});
	return {
		ledger,
		code,
		sql: async (text, params = []) => (await client.query(text, params)).rows as Json[],
		insertingTransactions: async () =>
			Number((await client.query(`SELECT COUNT(DISTINCT txid) AS n FROM batch_probe`)).rows[0].n),
		dropTrigger: async () => void (await client.query('DROP TRIGGER fail_bad ON referrals')),
	};
}

const signUps = (emails: string[], code: string) =>
	emails.map((email) => ({ email, referralCode: code }));

async function emailsIn(p: Probe): Promise<string[]> {
	return (await p.sql(`SELECT email FROM participants WHERE program_id = 'shop' ORDER BY id`)).map(
		(r) => String(r.email),
	);
}

async function refereesOfReferrals(p: Probe): Promise<string[]> {
	return (
		await p.sql(
			`SELECT p.email FROM referrals r JOIN participants p ON p.id = r.referee_id WHERE r.program_id = 'shop' ORDER BY r.id`,
		)
	).map((r) => String(r.email));
}

for (const [name, open] of ledgerNodeBackends('batch')) {
	describe.skipIf(name === 'PostgreSQL' && !pgTestUrl())(`Batched writes on ${name}`, () => {
		it('with Continue On Fail, a failing item in the middle of a chunk leaves nothing and the others commit; a replay answers alike', async () => {
			const world = await open();
			try {
				const p = await probe(world.credential);
				const emails = ['a0@example.org', 'a1@example.org', 'bad2@example.org', 'a3@example.org'];
				const first = await record(world.credential, signUps(emails, p.code), true);
				expect(first.error).toBeUndefined();
				expect(first.out).toHaveLength(4);
				expect(first.out[2].error?.message).toMatch(/injected failure \[item 2\]/);
				for (const i of [0, 1, 3]) {
					expect(first.out[i].error).toBeUndefined();
					expect(first.out[i].referral?.status).toBe('pending');
				}
				// The failed item enrolled its referee before the trigger fired: undone with it.
				expect(await emailsIn(p)).toEqual([
					'referrer@example.com',
					'a0@example.org',
					'a1@example.org',
					'a3@example.org',
				]);
				expect(await refereesOfReferrals(p)).toEqual([
					'a0@example.org',
					'a1@example.org',
					'a3@example.org',
				]);
				// The rollups and the outbox count the three, not the failed one.
				const rollup = await p.sql(
					`SELECT SUM(referrals) AS n FROM stats_periods WHERE program_id = 'shop' AND span = 'all'`,
				);
				expect(Number(rollup[0].n)).toBe(3);
				const events = await p.sql(
					`SELECT payload FROM outbox WHERE program_id = 'shop' AND payload LIKE '%bad2%'`,
				);
				expect(events).toEqual([]);
				if (name === 'PostgreSQL') expect(await p.insertingTransactions()).toBe(1);

				// The same request again: the three answer as the first time, the bad one fails again.
				const again = await record(world.credential, signUps(emails, p.code), true);
				for (const i of [0, 1, 3])
					expect(withoutReplayFlags(again.out[i])).toEqual(withoutReplayFlags(first.out[i]));
				expect(again.out[2].error?.message).toMatch(/injected failure/);
				expect(await refereesOfReferrals(p)).toHaveLength(3);

				// Once the cause is gone the failed item goes through alone, nothing doubled.
				await p.dropTrigger();
				const fixed = await record(world.credential, signUps(emails, p.code), true);
				expect(fixed.out.every((o) => o.error === undefined)).toBe(true);
				expect(withoutReplayFlags(fixed.out[1])).toEqual(withoutReplayFlags(first.out[1]));
				expect(await refereesOfReferrals(p)).toEqual([
					'a0@example.org',
					'a1@example.org',
					'a3@example.org',
					'bad2@example.org',
				]);
			} finally {
				await closeAllLedgers();
				await world.cleanup();
			}
		});

		it('without Continue On Fail, the items before the failing one commit, it leaves nothing and the later ones do not run', async () => {
			const world = await open();
			try {
				const p = await probe(world.credential);
				const emails = ['b0@example.org', 'b1@example.org', 'bad2@example.org', 'b3@example.org'];
				const first = await record(world.credential, signUps(emails, p.code), false);
				expect(first.error?.message).toMatch(/injected failure \[item 2\]/);
				expect(await emailsIn(p)).toEqual([
					'referrer@example.com',
					'b0@example.org',
					'b1@example.org',
				]);
				expect(await refereesOfReferrals(p)).toEqual(['b0@example.org', 'b1@example.org']);

				await p.dropTrigger();
				const retried = await record(world.credential, signUps(emails, p.code), false);
				expect(retried.error).toBeUndefined();
				expect(retried.out.map((o) => o.referral?.status)).toEqual([
					'pending',
					'pending',
					'pending',
					'pending',
				]);
				expect(await refereesOfReferrals(p)).toEqual([
					'b0@example.org',
					'b1@example.org',
					'bad2@example.org',
					'b3@example.org',
				]);
			} finally {
				await closeAllLedgers();
				await world.cleanup();
			}
		});

		it('over more than one chunk: record, qualify and award; a failure in the second chunk costs only its item; rewards exactly once on a replay', async () => {
			const world = await open();
			try {
				const p = await probe(world.credential);
				const count = BATCH_ITEMS + 30;
				const bad = BATCH_ITEMS + 10;
				const emails = Array.from({ length: count }, (_, i) =>
					i === bad ? `bad${i}@example.org` : `c${i}@example.org`,
				);
				const recorded = await record(world.credential, signUps(emails, p.code), true);
				expect(recorded.out.filter((o) => o.error !== undefined).map((o) => o.email)).toEqual([
					emails[bad],
				]);
				expect(await refereesOfReferrals(p)).toHaveLength(count - 1);
				// One transaction per chunk, not one per item.
				if (name === 'PostgreSQL') expect(await p.insertingTransactions()).toBe(2);

				const orders = emails.map((email, i) => ({
					email,
					orderId: `order-${i}`,
					amount: 40,
					currency: 'EUR',
				}));
				const qualify = () =>
					runNode(
						world.credential,
						'referral',
						{ resource: 'referral', operation: 'qualify' },
						orders,
						true,
					);
				const qualified = await qualify();
				expect(qualified.out.filter((o) => o.qualified === true)).toHaveLength(count - 1);
				// The failed sign-up left no referral to qualify.
				expect(qualified.out[bad].qualified).toBe(false);
				const ids = qualified.out
					.filter((o) => o.qualified === true)
					.map((o) => ({ referralId: o.referral.id }));
				const award = () =>
					runNode(
						world.credential,
						'referralReward',
						{
							operation: 'evaluate',
							referralBy: 'id',
							referralField: 'referralId',
							outputMode: 'perReferral',
							...FORM,
						},
						ids,
						false,
					);
				const awarded = await award();
				expect(awarded.error).toBeUndefined();
				expect(awarded.out.every((o) => o.rewards.length === 3)).toBe(true);

				// Replays of both batches answer like the first runs and write nothing more.
				const requalified = await qualify();
				for (let i = 0; i < count; i++)
					if (i !== bad)
						expect(withoutReplayFlags(requalified.out[i])).toEqual(
							withoutReplayFlags(qualified.out[i]),
						);
				const reawarded = await award();
				expect(withoutReplayFlags(reawarded.out)).toEqual(withoutReplayFlags(awarded.out));
				const rewards = await p.sql(
					`SELECT COUNT(*) AS n FROM rewards WHERE program_id = 'shop' AND status <> 'reversed'`,
				);
				expect(Number(rewards[0].n)).toBe(3 * (count - 1));
				const balance = await p.sql(
					`SELECT b.balance FROM points_balances b JOIN participants p ON p.id = b.participant_id WHERE p.email = 'referrer@example.com'`,
				);
				expect(Number(balance[0].balance)).toBe(100 * (count - 1));
			} finally {
				await closeAllLedgers();
				await world.cleanup();
			}
		}, 300_000);
	});
}
