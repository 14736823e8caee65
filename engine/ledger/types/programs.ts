/* Programs, leases, nonces, lead scoring models and kept answers (tables/programs.ts). */
import type { Mutation, Replayable, Time } from './common';

export interface ProgramRecord {
	id: string;
	name: string;
	settings: Record<string, unknown>;
	createdAt: number;
	updatedAt: number;
}

export interface EnsureProgramInput {
	/** The program's key as users type it, e.g. `default` or `spring-2026`. */
	id: string;
	name?: string;
	settings?: Record<string, unknown>;
}

export interface LeaseInput {
	programId: string;
	/** What the lease guards, e.g. `referrer:42`. */
	name: string;
	/** How long a lease lives without renewal (default 30,000 ms; 1,000 to 600,000). */
	ttlMs?: number;
	/** How long to wait for a held lease (default 30,000 ms; 0 to 600,000). */
	waitMs?: number;
}

export interface ClaimNonceInput {
	/** What the key belongs to, e.g. `webhook:stripe`; expired keys are swept per scope. */
	scope: string;
	/** The one-time key (up to 256 characters), e.g. a hash of a signed delivery. */
	nonce: string;
	/** Until when a second claim is refused; after it the key may be claimed again. */
	expiresAt: Time;
}

export interface ScoringModelRecord {
	name: string;
	model: unknown;
	version: number;
	updatedAt: number;
}

export interface SaveScoringModelInput extends Mutation {
	name: string;
	model: unknown;
}

export interface SaveScoringModelResult extends Replayable {
	model: ScoringModelRecord;
	/** False when the stored model was already identical (version unchanged). */
	changed: boolean;
}

export interface KeepAnswerInput {
	programId: string;
	/** What kind of request (e.g. `signUp`); 1 to 64 characters. */
	operation: string;
	/** The request's key, derived from the request alone. */
	key: string;
	/** The answer to keep (a JSON object). */
	answer: Record<string, unknown>;
}
