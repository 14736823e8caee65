/* Referral codes (tables/codes.ts). */
import type { Id, Mutation, OwesMessages, Replayable, Time } from './common';

export type CodeStatus = 'active' | 'revoked';

/** `status` plus what time and use count say: what a redemption right now would meet. */
export type CodeState = 'active' | 'revoked' | 'expired' | 'exhausted';

export interface CodeRecord {
	id: number;
	programId: string;
	code: string;
	ownerId: number | null;
	status: CodeStatus;
	state: CodeState;
	expiresAt: number | null;
	maxUses: number | null;
	uses: number;
	revokedReason: string | null;
	createdAt: number;
	updatedAt: number;
}

export interface IssueCodeInput extends Mutation, OwesMessages {
	programId: string;
	ownerId?: Id;
	/** Candidate generator (engine/codes). Called again on a collision. Give this or `code`. */
	generate?: () => string;
	/** A chosen (vanity) code in canonical form; refused with `code_taken` if it exists. */
	code?: string;
	expiresAt?: Time;
	maxUses?: number;
}

/* Default key of issueCode: the owner (one code per owner unless you pass keys), else the
 * vanity code, else expiry and max uses. */
export interface IssueCodeResult extends Replayable {
	code: CodeRecord;
}

export interface IssueCodesInput {
	programId: string;
	generate: () => string;
	ownerId?: Id;
	expiresAt?: Time;
	maxUses?: number;
	/** Default: derived from count, owner, expiry and max uses. */
	idempotencyKey?: string;
}

export interface IssueCodesResult extends Replayable {
	programId: string;
	codes: string[];
}

export interface RedeemCodeInput extends Mutation {
	programId: string;
	code: string;
	participantId?: Id;
	/** What the redemption is for, e.g. an order id; part of the default key. */
	reference?: string;
}

export type RedeemRefusal = 'revoked' | 'expired' | 'exhausted';

export interface RedeemCodeResult extends Replayable {
	redeemed: boolean;
	reason: RedeemRefusal | null;
	code: CodeRecord;
}

export interface RevokeCodeInput extends Mutation {
	programId: string;
	code: string;
	reason?: string;
}

export interface RevokeCodeResult extends Replayable {
	/** False when the code was already revoked. */
	revoked: boolean;
	code: CodeRecord;
}

export interface CodeQuery {
	programId: string;
	code: string;
}

export interface ListCodesQuery {
	programId: string;
	ownerId?: Id;
	afterId?: Id;
	limit?: number;
}
