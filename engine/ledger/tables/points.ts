/* Points: the journal (append-only, one entry per key) and the balance kept with it. */
import { onPointsAdded } from './counters';
import type { LedgerCore, Work } from '../core';
import { inputObject, pointsChangeOf, programIdOf, keyOf, type CheckedPoints } from '../inputs';
import { digest } from '../once';
import { n, toEntry } from '../rows';
import type {
	AppendPointsInput,
	AppendPointsResult,
	JournalQuery,
	LedgerStore,
	PointsEntry,
	PointsQuery,
} from '../store';
import * as v from '../validate';
import { fail } from '../validate';

type Methods = 'appendPoints' | 'pointsBalance' | 'pointsJournal';

export class PointsTable implements Pick<LedgerStore, Methods> {
	constructor(private readonly core: LedgerCore) {}

	async appendPoints(input: AppendPointsInput): Promise<AppendPointsResult> {
		return this.core.mutation<{ entryId: number; balance?: number }, AppendPointsResult>(
			'appendPoints',
			input,
			(programId) => {
				const participantId = v.rowId(input.participantId, 'participantId');
				const change = pointsChangeOf(input, '')!;
				const rewardId = v.optRowId(input.rewardId, 'rewardId');
				const events = v.events(input.events);
				const key = keyOf(input);
				const derived = digest({
					participantId,
					delta: change.delta,
					reason: change.reason ?? null,
					rewardId: rewardId ?? null,
				});
				return {
					key,
					request: { participantId, delta: change.delta, rewardId },
					derive: () => derived,
					run: async (w) => {
						await this.core.requireParticipant(w.tx, programId, participantId, 'participantId');
						if (rewardId !== undefined)
							await this.core.requireReward(w.tx, programId, rewardId, 'rewardId');
						const { entry, balance } = await addPoints(
							w,
							programId,
							participantId,
							change,
							rewardId ?? null,
							key ?? `auto:${derived}`,
						);
						w.emitAll(programId, events, participantId);
						return {
							receipt: { entryId: entry.id, balance },
							result: { entry, balance, replayed: false },
						};
					},
					// A replay answers like the first call: the balance right after it (receipts of earlier versions: the balance now).
					replay: async (r, w) => {
						const entry = toEntry(await this.core.loadRow(w.tx, 'points_journal', r.entryId));
						if (r.balance !== undefined) return { entry, balance: r.balance, replayed: true };
						const current = await w.tx.get(
							`SELECT balance FROM points_balances WHERE participant_id = $1`,
							[entry.participantId],
						);
						return { entry, balance: current ? n(current.balance) : 0, replayed: true };
					},
				};
			},
		);
	}

	async pointsBalance(query: PointsQuery): Promise<number> {
		inputObject(query, 'pointsBalance');
		const programId = programIdOf(query);
		const participantId = v.rowId(query.participantId, 'participantId');
		return this.core.read(async (tx) => {
			await this.core.requireParticipant(tx, programId, participantId, 'participantId');
			const row = await tx.get(`SELECT balance FROM points_balances WHERE participant_id = $1`, [
				participantId,
			]);
			return row ? n(row.balance) : 0;
		});
	}

	async pointsJournal(query: JournalQuery): Promise<PointsEntry[]> {
		inputObject(query, 'pointsJournal');
		const programId = programIdOf(query);
		const participantId = v.rowId(query.participantId, 'participantId');
		const afterId = v.optRowId(query.afterId, 'afterId') ?? 0;
		const limit = v.limit(query.limit);
		return this.core.read(async (tx) => {
			await this.core.requireParticipant(tx, programId, participantId, 'participantId');
			return (
				await tx.all(
					`SELECT * FROM points_journal WHERE participant_id = $1 AND id > $2 ORDER BY id LIMIT $3`,
					[participantId, afterId, limit],
				)
			).map(toEntry);
		});
	}
}

/** Journal entry and balance in one step; the balance row is locked by the upsert, so no update is lost. */
export async function addPoints(
	w: Work,
	programId: string,
	participantId: number,
	change: CheckedPoints,
	rewardId: number | null,
	key: string,
): Promise<{ entry: PointsEntry; balance: number }> {
	// The unique journal key still holds when the idempotency record was pruned.
	const existing = await w.tx.get(
		`SELECT * FROM points_journal WHERE program_id = $1 AND idempotency_key = $2`,
		[programId, key],
	);
	if (existing) {
		const current = await w.tx.get(
			`SELECT balance FROM points_balances WHERE participant_id = $1`,
			[participantId],
		);
		return { entry: toEntry(existing), balance: current ? n(current.balance) : 0 };
	}
	const updated = await w.tx.get(
		`INSERT INTO points_balances (participant_id, program_id, balance, updated_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (participant_id) DO UPDATE SET balance = points_balances.balance + excluded.balance, updated_at = excluded.updated_at
		RETURNING balance`,
		[participantId, programId, change.delta, w.now],
	);
	const balance = n(updated!.balance);
	if (change.delta < 0 && balance < 0 && !change.allowNegative) {
		fail(
			'insufficient_points',
			change.field,
			`the points balance would go below zero (balance ${balance - change.delta}, change ${change.delta}); allow a negative balance or debit less`,
			{
				balance: balance - change.delta,
				delta: change.delta,
			},
		);
	}
	const row = await w.tx.get(
		`INSERT INTO points_journal (program_id, participant_id, delta, balance_after, reason, reward_id, idempotency_key, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *`,
		[programId, participantId, change.delta, balance, change.reason ?? null, rewardId, key, w.now],
	);
	await onPointsAdded(w, programId, participantId, change.delta, change.reason);
	return { entry: toEntry(row!), balance };
}
