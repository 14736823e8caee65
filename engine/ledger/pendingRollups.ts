/* A batch's rollups (LedgerCore.batch, issue #18): the counters a row contributes to (statistics
 * days and periods, share-link figures, reward cost, cap usage) are put back once per batch, in one
 * set-based statement per rollup over every row its items changed, instead of once per change.
 * A row's contribution is still taken out before its first change in the batch (only the table
 * holds its old state then); later changes of the same row find it out already, and the batch's
 * end counts each row as it is then: the same sums as change by change. Same transaction, so the
 * counters still commit or roll back with the rows, and an item its savepoint undoes drops its
 * marks with it. Readers of the rollups inside a batch settle it first (LedgerCore.readRollups). */
import type { Tx } from './sql';
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

export class PendingRollups {
	/** Rows whose contribution is out of the rollups until the batch settles. */
	private readonly marked: Record<RollupKind, Set<number>> = {
		referral: new Set(),
		participant: new Set(),
		reward: new Set(),
		capUsage: new Set(),
	};
	/** How to undo each change of `marked`, newest last (a savepoint's rollback runs them back). */
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
	}
}
