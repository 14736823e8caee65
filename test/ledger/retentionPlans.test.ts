/* Issue #18, retention: each batch of Prune Ledger finds its rows through an index range (by age,
 * and for the message log by final status and age), so a prune of a large ledger reads only what
 * it deletes and each batch's transaction stays short. */
import { DatabaseSync } from 'node:sqlite';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { closeAllLedgers, openSqliteLedger } from '../../engine/ledger';
import { PRUNE_TARGETS } from '../../engine/ledger/tables/retention';
import { tempDir } from '../support/databases';

const tmp = tempDir();
afterAll(async () => {
	await closeAllLedgers();
	tmp.remove();
});

it.each(Object.entries(PRUNE_TARGETS))(
	'the %s batch of Prune Ledger searches an index, never scans its table',
	async (_name, target) => {
		const file = join(tmp.dir, `plans-${target.table}.sqlite`);
		const ledger = await openSqliteLedger({ backend: 'sqlite', path: file });
		await ledger.ensureProgram({ id: 'retention' });
		const db = new DatabaseSync(file);
		try {
			const select = `SELECT ${target.key} FROM ${target.table} WHERE ${target.where.replace('$1', '?')} LIMIT 100`;
			const plan = (
				db.prepare(`EXPLAIN QUERY PLAN ${select}`).all(0) as Array<{ detail: string }>
			).map((row) => row.detail);
			expect(
				plan.some((line) => line.startsWith(`SCAN ${target.table}`)),
				plan.join('\n'),
			).toBe(false);
			expect(plan.join('\n')).toMatch(new RegExp(`SEARCH ${target.table} USING (COVERING )?INDEX`));
		} finally {
			db.close();
		}
	},
);
