/* A batch's rollups (LedgerCore.batch, issue #18): the counters a row contributes to (statistics
 * days and periods, share-link figures, reward cost, cap usage) are put back once per batch, in one
 * set-based statement per rollup over every row its items changed, instead of once per change;
 * counts moved by a known whole number (points per period, qualified referrals and lifetime
 * points of the reward counters) are summed per counter row and added once.
 * A row's contribution is still taken out before its first change in the batch (only the table
 * holds its old state then); later changes of the same row find it out already, and the batch's
 * end counts each row as it is then: the same sums as change by change. Same transaction, so the
 * counters still commit or roll back with the rows, and an item its savepoint undoes drops its
 * marks with it. Readers of the rollups inside a batch settle it first (LedgerCore.readRollups). */
import type { SqlValue, Tx } from './sql';
import { capUsageOfRewards } from './tables/counters';
import {
	rollupNewParticipants,
	rollupReferrals,
	rollupRewards,
	type Backend,
} from './tables/rollups';

/** Whose contribution a mark stands for: a referral's, a participant's, a reward's (cost) or its cap usage. */
export type RollupKind = 'referral' | 'participant' | 'reward' | 'capUsage';

const PUT_BACK: Record<RollupKind, (tx: Tx, backend: Backend, ids: number[]) => Promise<void>> = {
	referral: rollupReferrals,
	participant: rollupNewParticipants,
	reward: rollupRewards,
	capUsage: capUsageOfRewards,
};

/** A counter table whose rows `add` sums: its key columns and its counting columns. */
export interface CountedTable {
	name: 'stats_periods' | 'reward_counters';
	keys: readonly string[];
	counts: readonly string[];
}

/** Most rows one INSERT of summed counts carries. */
const ROWS_PER_INSERT = 100;

export class PendingRollups {
	/** Rows whose contribution is out of the rollups until the batch settles. */
	private readonly marked: Record<RollupKind, Set<number>> = {
		referral: new Set(),
		participant: new Set(),
		reward: new Set(),
		capUsage: new Set(),
	};
	/** Summed counts per counter row (table and key), in the order first moved. */
	private readonly sums = new Map<string, { table: CountedTable; key: SqlValue[]; by: number[] }>();
	/** How to undo each change of `marked` and `sums`, newest last (a savepoint's rollback runs them back). */
	private readonly undo: Array<() => void> = [];

	constructor(private readonly backend: Backend) {}

	/**
	 * For a rollup call around a change: true when the batch takes care of it. Taking out (-1) a row
	 * already marked is done (its contribution is out); putting in (+1) marks the row, for the end.
	 */
	defer(kind: RollupKind, id: number, sign: 1 | -1): boolean {
		const marked = this.marked[kind];
		if (sign === -1) return marked.has(id);
		if (!marked.has(id)) {
			marked.add(id);
			this.undo.push(() => marked.delete(id));
		}
		return true;
	}

	/**
	 * Adds whole numbers (exact in any order) to a counter row's counting columns, for the end. Only
	 * for counts the caller knows without reading the row, and that are never amounts of money.
	 */
	add(table: CountedTable, key: SqlValue[], by: number[]): void {
		const id = JSON.stringify([table.name, key]);
		const sum = this.sums.get(id);
		if (sum === undefined) {
			this.sums.set(id, { table, key, by: [...by] });
			this.undo.push(() => this.sums.delete(id));
			return;
		}
		const before = [...sum.by];
		by.forEach((x, i) => (sum.by[i] += x));
		this.undo.push(() => (sum.by = before));
	}

	/** The batch's transaction with its savepoints undoing the marks of what they roll back. */
	wrap(tx: Tx): Tx {
		return {
			all: (sql, params) => tx.all(sql, params),
			get: (sql, params) => tx.get(sql, params),
			run: (sql, params) => tx.run(sql, params),
			savepoint: async (fn) => {
				const mark = this.undo.length;
				try {
					return await tx.savepoint(fn);
				} catch (error) {
					while (this.undo.length > mark) this.undo.pop()!();
					throw error;
				}
			},
			pending: this,
		};
	}

	/** Puts the marked rows' contributions back (in id order), as they are now. */
	async settle(tx: Tx): Promise<void> {
		for (const kind of Object.keys(PUT_BACK) as RollupKind[]) {
			const marked = this.marked[kind];
			if (marked.size === 0) continue;
			const ids = [...marked].sort((a, b) => a - b);
			marked.clear();
			this.undo.push(() => ids.forEach((id) => marked.add(id)));
			await PUT_BACK[kind](tx, this.backend, ids);
		}
		if (this.sums.size === 0) return;
		const sums = [...this.sums.entries()];
		this.sums.clear();
		this.undo.push(() => sums.forEach(([id, sum]) => this.sums.set(id, sum)));
		const byTable = new Map<CountedTable, Array<{ key: SqlValue[]; by: number[] }>>();
		for (const [, sum] of sums) {
			if (sum.by.every((x) => x === 0)) continue;
			const rows = byTable.get(sum.table) ?? [];
			rows.push(sum);
			byTable.set(sum.table, rows);
		}
		for (const [table, rows] of byTable) {
			// In key order, as the set-based upserts: concurrent batches lock counter rows alike.
			rows.sort((a, b) => compareKeys(a.key, b.key));
			for (let i = 0; i < rows.length; i += ROWS_PER_INSERT)
				await addCounts(tx, table, rows.slice(i, i + ROWS_PER_INSERT));
		}
	}
}

function compareKeys(a: SqlValue[], b: SqlValue[]): number {
	for (let i = 0; i < a.length; i++) {
		const x = a[i];
		const y = b[i];
		if (x === y) continue;
		if (x === null) return -1;
		if (y === null) return 1;
		return x < y ? -1 : 1;
	}
	return 0;
}

/** One INSERT of summed counts: new rows take them, existing rows add them. */
async function addCounts(
	tx: Tx,
	table: CountedTable,
	rows: Array<{ key: SqlValue[]; by: number[] }>,
): Promise<void> {
	const columns = [...table.keys, ...table.counts];
	const values: SqlValue[] = [];
	const tuples = rows.map((row) => {
		const start = values.length;
		values.push(...row.key, ...row.by);
		return '(' + columns.map((_, c) => `$${start + c + 1}`).join(', ') + ')';
	});
	await tx.run(
		`INSERT INTO ${table.name} (${columns.join(', ')}) VALUES ${tuples.join(', ')}
		ON CONFLICT (${table.keys.join(', ')}) DO UPDATE SET ${table.counts
			.map((c) => `${c} = ${table.name}.${c} + excluded.${c}`)
			.join(', ')}`,
		values,
	);
}
