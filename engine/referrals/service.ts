import type { CodeRecord, Id, LedgerStore, ReferralRecord } from '../ledger/store';
import type { LinkSecrets } from '../shared/links';
import {
	eraseParticipant,
	getParticipant,
	getParticipantByLink,
	listParticipants,
	privateLink,
	updateParticipant,
	type ParticipantStats,
	type PrivateLinkView,
} from './participants';
import { loadReferralProgram, type LoadedProgram } from './programs';
import { trackClick, type ClickOptions, type ClickOutcome, type ClickRequest } from './clicks';
import {
	canonicalCode,
	enrol,
	recordReferral,
	type SignUpInput,
	type SignUpOutcome,
} from './signUp';
import {
	approve,
	flag,
	qualify,
	reject,
	type ConversionInput,
	type ConversionOutcome,
	type TransitionOutcome,
} from './transitions';
import {
	detail,
	getReferral,
	listReferrals,
	requireReferral,
	type IdentityInput,
	type ParticipantView,
	type ReferralContext,
	type ReferralDetail,
} from './views';

/**
 * The referral service: the orchestration behind the Referral node and the sample webhooks, for one
 * program of one ledger. Every rule lives in the pure modules (lifecycle, fraud, attribution,
 * conversion, share); the use cases that fetch what they need from the ledger, ask them, and write
 * the outcome back live in signUp.ts, transitions.ts and participants.ts, with the views they share
 * in views.ts. This class only holds the program and the ledger for them. Exactly once comes from
 * the ledger's keys (one referral per referee, one conversion per order id, compare-and-set
 * transitions), so concurrent executions and replays need no lock here.
 *
 * Refunds are not here: they take back rewards too, so they compose this domain with rewards one
 * level up, in engine/refunds (its ReferralService adds `reverse`).
 */

export interface ServiceOptions {
	/** Clock for sign-up and conversion times when the input gives none. */
	now?: () => number;
	/**
	 * Sign-ups owe the welcome email (and text, with a phone number and SMS consent) in the
	 * enrolment's transaction, only to participants they create (topic `welcome`, see welcome.ts).
	 */
	oweWelcome?: boolean;
}

type ParticipantQuery = { email?: string; externalId?: string; participantId?: Id };
type LinkOptions = { baseUrl: unknown; secrets: LinkSecrets; validDays?: unknown; now?: number };

export class ReferralService {
	readonly programId: string;
	private readonly ctx: ReferralContext;

	constructor(
		readonly ledger: LedgerStore,
		readonly program: LoadedProgram,
		options: ServiceOptions = {},
	) {
		this.programId = program.config.programId;
		this.ctx = {
			ledger,
			program,
			programId: this.programId,
			now: options.now ?? Date.now,
			oweWelcome: options.oweWelcome === true,
			codeCache: new Map<number, CodeRecord | null>(),
		};
	}

	/** Loads the program's settings from the ledger (creating defaults if it has none); `open` of a subclass makes one of it. */
	static async open<S extends ReferralService>(
		this: new (ledger: LedgerStore, program: LoadedProgram, options?: ServiceOptions) => S,
		ledger: LedgerStore,
		programId: string,
		options: ServiceOptions = {},
	): Promise<S> {
		return new this(ledger, await loadReferralProgram(ledger, programId), options);
	}

	// ---------------------------------------------------------------- sign-up (signUp.ts)

	/**
	 * Sign-up: enrol the participant (idempotent by email or external id), issue their code and
	 * share link, and, when a referral code or referrer came with them, record the referral.
	 */
	async enrol(input: SignUpInput): Promise<SignUpOutcome> {
		return await enrol(this.ctx, input);
	}

	/** Record a referred sign-up: like `enrol`, but a code or a referrer is required. */
	async recordReferral(input: SignUpInput): Promise<SignUpOutcome> {
		return await recordReferral(this.ctx, input);
	}

	/** A click of a tracked referral link (`/r/<code>`): recorded when it counts; where to redirect, with the visitor cookie (clicks.ts). */
	async trackClick(request: ClickRequest, options: ClickOptions = {}): Promise<ClickOutcome> {
		return await trackClick(this.ctx, request, options);
	}

	/** The code as stored: generated codes in canonical form, vanity codes in the format's letter case. */
	canonicalCode(value: string): string {
		return canonicalCode(this.ctx, value);
	}

	// ---------------------------------------------------------------- conversion and review (transitions.ts)

	/**
	 * A referee's order: qualifies the referral once (idempotent by order id), is held while the
	 * referral is under review, and is ignored for referrals that already qualified.
	 */
	async qualify(input: ConversionInput): Promise<ConversionOutcome> {
		return await qualify(this.ctx, input);
	}

	/** A reviewer clears a flagged referral: back to pending, or straight to qualified when its order arrived meanwhile. */
	async approve(referralId: Id, note?: string): Promise<TransitionOutcome> {
		return await approve(this.ctx, referralId, note);
	}

	async reject(referralId: Id, note?: string): Promise<TransitionOutcome> {
		return await reject(this.ctx, referralId, note);
	}

	async flag(referralId: Id, note?: string): Promise<TransitionOutcome> {
		return await flag(this.ctx, referralId, note);
	}

	// ---------------------------------------------------------------- reading (views.ts)

	async detail(referral: ReferralRecord, withHistory = false): Promise<ReferralDetail> {
		return await detail(this.ctx, referral, withHistory);
	}

	/** The referral's record; `required` for an empty id, `unknown_referral` for one not in the program (field referralId). */
	async requireReferral(referralId: Id | undefined): Promise<ReferralRecord> {
		return await requireReferral(this.ctx, referralId);
	}

	async getReferral(referralId: Id): Promise<ReferralDetail> {
		return await getReferral(this.ctx, referralId);
	}

	/** Referrals by filters; a public status (pending) covers the internal ones behind it (recorded, pending, approved). */
	async listReferrals(filter: Parameters<typeof listReferrals>[1]): Promise<ReferralDetail[]> {
		return await listReferrals(this.ctx, filter);
	}

	// ---------------------------------------------------------------- participants (participants.ts)

	/** The participant with their code and standing: referrals, qualified ones, points, tier, badges and leaderboard rank. */
	async getParticipant(
		query: ParticipantQuery,
	): Promise<{ participant: ParticipantView; stats: ParticipantStats }> {
		return await getParticipant(this.ctx, query);
	}

	/**
	 * The participant's private status link (a signed, expiring token naming the program and their id)
	 * with who it is for, so a workflow can email it to them. Nothing else about them.
	 */
	async privateLink(query: ParticipantQuery, options: LinkOptions): Promise<PrivateLinkView>;
	/** With `ifNotEnrolled: 'null'`: null for nobody enrolled, instead of `unknown_participant`. */
	async privateLink(
		query: ParticipantQuery,
		options: LinkOptions & { ifNotEnrolled: 'null' | 'error' },
	): Promise<PrivateLinkView | null>;
	async privateLink(
		query: ParticipantQuery,
		options: LinkOptions & { ifNotEnrolled?: 'null' | 'error' },
	): Promise<PrivateLinkView | null> {
		return await privateLink(
			this.ctx,
			query,
			options as LinkOptions & { ifNotEnrolled: 'null' | 'error' },
		);
	}

	/** getParticipant for the holder of a private status link; `invalid_link` (field token) when it is forged, altered, expired or of another program. */
	async getParticipantByLink(
		token: unknown,
		options: { secrets: LinkSecrets; now?: number },
	): Promise<{
		participant: ParticipantView;
		stats: ParticipantStats;
		link: { expiresAt: string };
	}> {
		return await getParticipantByLink(this.ctx, token, options);
	}

	async updateParticipant(
		query: ParticipantQuery,
		changes: IdentityInput,
	): Promise<ParticipantView> {
		return await updateParticipant(this.ctx, query, changes);
	}

	async listParticipants(
		filter: Parameters<typeof listParticipants>[1],
	): Promise<ParticipantView[]> {
		return await listParticipants(this.ctx, filter);
	}

	/** GDPR erasure: personal data and ip/device hashes go, referrals, points and counts stay. */
	async eraseParticipant(
		query: ParticipantQuery,
	): Promise<{ participantId: number; erased: true; erasedAt: string }> {
		return await eraseParticipant(this.ctx, query);
	}
}
