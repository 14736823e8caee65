/* The outbox (tables/outbox.ts). */
import type { Replayable } from './common';

export interface LedgerEvent {
	id: number;
	programId: string | null;
	type: string;
	payload: Record<string, unknown>;
	createdAt: number;
}

export interface AppendEventInput {
	programId?: string;
	type: string;
	payload?: Record<string, unknown>;
	/** Default: derived from program, type and payload (the same event twice is stored once). */
	idempotencyKey?: string;
}

export interface AppendEventResult extends Replayable {
	event: LedgerEvent;
}

export interface ReadEventsQuery {
	/** Return events with id greater than this (0 for all). */
	afterId: number;
	types?: string[];
	programId?: string;
	limit?: number;
}

export interface ReadEventsResult {
	events: LedgerEvent[];
	/** Where the next poll should start; never past an event that could still appear. */
	cursor: number;
}
