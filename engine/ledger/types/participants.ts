/* Participants (tables/participants.ts). */
import type { CodeRecord } from './codes';
import type { Id, Mutation, OweMessageInput, OwesMessages, Replayable, Time } from './common';

export interface ParticipantRecord {
	id: number;
	programId: string;
	externalId: string | null;
	/** Normalized: trimmed, lower-case. */
	email: string | null;
	phone: string | null;
	name: string | null;
	metadata: Record<string, unknown>;
	/** Set when the participant was erased (GDPR); personal fields are then null. */
	erasedAt: number | null;
	createdAt: number;
	updatedAt: number;
}

export interface EnrolParticipantInput extends Mutation, OwesMessages {
	programId: string;
	/** At least one of externalId and email is required; they are the natural keys. */
	externalId?: string;
	email?: string;
	phone?: string;
	name?: string;
	metadata?: Record<string, unknown>;
	/**
	 * Issue the new participant's own code in the enrolment's transaction (the same code a later
	 * issueCode with this ownerId returns). Only when this call creates the participant.
	 */
	issueCode?: { generate: () => string };
	/**
	 * Messages owed to the participant this call creates (a welcome email or text), built with the
	 * new participant and the code issued with them, written in the enrolment's transaction; nothing
	 * when the participant existed already or on a replay.
	 */
	welcomeMessages?: (enrolled: {
		participant: ParticipantRecord;
		code: CodeRecord | null;
	}) => OweMessageInput[];
}

export interface EnrolParticipantResult extends Replayable {
	participant: ParticipantRecord;
	/** False when a participant with that external id or email already existed. */
	created: boolean;
	/** The code issued with the new participant (issueCode); absent when none was issued by this call. */
	code?: CodeRecord;
}

export interface ParticipantQuery {
	programId: string;
	id?: Id;
	externalId?: string;
	email?: string;
}

export interface UpdateParticipantInput extends Mutation {
	programId: string;
	participantId: Id;
	/** Fields to change; `null` clears one. `metadata` replaces the whole object. */
	externalId?: string | null;
	email?: string | null;
	phone?: string | null;
	name?: string | null;
	metadata?: Record<string, unknown>;
}

export interface ListParticipantsQuery {
	programId: string;
	/** Keyset pagination: ids greater than this. */
	afterId?: Id;
	limit?: number;
	createdSince?: Time;
	createdUntil?: Time;
}

export interface EraseParticipantInput extends Mutation {
	programId: string;
	participantId: Id;
}
