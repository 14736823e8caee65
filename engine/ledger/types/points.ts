/* Points: the journal and the balance (tables/points.ts). */
import type { Id, Mutation, Replayable } from './common';

export interface PointsEntry {
	id: number;
	programId: string;
	participantId: number;
	delta: number;
	balanceAfter: number;
	reason: string | null;
	rewardId: number | null;
	idempotencyKey: string;
	createdAt: number;
}

export interface PointsChange {
	delta: number;
	reason?: string;
	/** Allow the balance to go below zero (default false: refused with `insufficient_points`). */
	allowNegative?: boolean;
}

export interface AppendPointsInput extends Mutation, PointsChange {
	programId: string;
	participantId: Id;
	rewardId?: Id;
}

/* Default key of appendPoints: participant + delta + reason + reward. */
export interface AppendPointsResult extends Replayable {
	entry: PointsEntry;
	balance: number;
}

export interface PointsQuery {
	programId: string;
	participantId: Id;
}

export interface JournalQuery extends PointsQuery {
	afterId?: Id;
	limit?: number;
}
