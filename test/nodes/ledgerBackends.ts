/* Ledger backends for node tests: SQLite in a fresh folder, or a fresh PostgreSQL schema per test
 * (dropped afterwards), a runner for one of this package's nodes on that ledger, and a reward form. */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { IDataObject } from 'n8n-workflow';
import pg from 'pg';
import { runWorkflow, singleNodeWorkflow } from '../harness';

export type LedgerCredential = Record<string, any>;
export interface LedgerWorld {
	credential: LedgerCredential;
	cleanup: () => Promise<void>;
}

export function pgTestUrl(): string | undefined {
	return (
		process.env.LEDGER_TEST_PG_URL ||
		(process.env.CI || process.env.PG_TESTS !== 'off'
			? 'postgres://postgres@127.0.0.1:5432/test'
			: undefined)
	);
}

export async function withPgSchema(): Promise<LedgerWorld> {
	const url = pgTestUrl()!;
	const schema = `rm_node_${randomBytes(6).toString('hex')}`;
	return {
		credential: { backend: 'postgres', connection: 'url', connectionStringSecret: url, schema },
		cleanup: async () => {
			const client = new pg.Client({ connectionString: url });
			await client.connect();
			await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
			await client.end();
		},
	};
}

/**
 * The two backends a node test runs on, by name: SQLite in a fresh temporary folder (`rm-<prefix>-…`)
 * and PostgreSQL in a fresh schema. Use with `describe.skipIf(name === 'PostgreSQL' && !pgTestUrl())`.
 */
export function ledgerNodeBackends(prefix: string): Array<[string, () => Promise<LedgerWorld>]> {
	return [
		[
			'SQLite',
			async () => ({
				credential: {
					backend: 'sqlite',
					path: path.join(mkdtempSync(path.join(os.tmpdir(), `rm-${prefix}-`)), 'ledger.sqlite'),
				},
				cleanup: async () => {},
			}),
		],
		['PostgreSQL', withPgSchema],
	];
}

/**
 * Runs one node of this package (`type`: referral, referralReward, …) on the ledger of `credential`
 * with Continue On Fail on, for `program` unless the parameters name another; returns its output items.
 */
export async function runLedgerNode(
	credential: LedgerCredential,
	type: string,
	parameters: IDataObject,
	items: IDataObject[],
	program = 'shop',
): Promise<Array<Record<string, any>>> {
	const node = {
		type,
		parameters: { program, ...parameters },
		continueOnFail: true,
		credentials: { referralLedgerApi: { id: '1', name: 'Ledger' } },
	};
	const result = await runWorkflow(singleNodeWorkflow(node as never, items as never), {
		credentials: { referralLedgerApi: credential as never },
	});
	return result.json('Node') as Array<Record<string, any>>;
}

/** Referrer 100 points, referee 50 points, referrer 10 % of the order in cash. */
export const POINTS_AND_CASH_BACK_FORM = {
	perReferral: {
		rewards: [
			{
				side: 'referrer',
				on: 'referral_qualified',
				kind: 'points',
				points: 100,
				id: 'referrer-points',
			},
			{
				side: 'referee',
				on: 'referral_qualified',
				kind: 'points',
				points: 50,
				id: 'referee-points',
			},
			{
				side: 'referrer',
				on: 'referral_qualified',
				kind: 'cash',
				cashAmountType: 'percentOfOrder',
				percentOfOrder: 10,
				currency: '',
				id: 'cash-back',
			},
		],
	},
	programOptions: { currency: 'EUR', holdingDays: 0 },
};
