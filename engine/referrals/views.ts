import { normalizeCode } from '../codes';
import { normalizeEmail } from '../shared/email';
import { greetingName } from '../shared/plainText';
import { EngineError } from '../shared/errors';
import { describe, isRecord, requireText } from '../shared/guards';
import type {
	CodeRecord,
	Id,
	LedgerStore,
	ParticipantRecord,
	ReferralRecord,
} from '../ledger/store';
import type { FraudAssessment, FraudFinding } from './fraud';
import {
	internalStatusesFor,
	parseReferralStatus,
	PUBLIC_REFERRAL_STATUSES,
	publicStatus,
	type PublicReferralStatus,
	type ReferralStatus,
} from './lifecycle';
import type { LoadedProgram } from './programs';
import { buildShareUrl } from './share';

/**
 * What the referral use cases (signUp.ts, transitions.ts, participants.ts) share: the context they
 * run in (one program of one ledger), the shapes they answer with, and the reads that build those
 * answers (participant and referral views, codes, share links, lookups that fail with a field).
 */

/** One program of one ledger, as the ReferralService holds it (see service.ts). */
export interface ReferralContext {
	readonly ledger: LedgerStore;
	readonly program: LoadedProgram;
	readonly programId: string;
	/** Clock for sign-up and conversion times when the input gives none. */
	readonly now: () => number;
	/** Sign-ups owe the welcome messages (see ServiceOptions.oweWelcome). */
	readonly oweWelcome: boolean;
	/** Participants' own codes read or issued during this service's life. */
	readonly codeCache: Map<number, CodeRecord | null>;
}

export interface Warning {
	code: string;
	message: string;
}

export interface ParticipantView {
	id: number;
	email: string | null;
	externalId: string | null;
	name: string | null;
	/** The name when it is plainly a name (see engine/shared/plainText.ts), for greetings in messages; else null. */
	greetingName: string | null;
	code: string | null;
	shareUrl: string | null;
}

/** The webhook contract's referral: public status, the code that credited it, the reason codes. */
export interface ReferralSummary {
	id: number;
	status: PublicReferralStatus;
	referrerCode: string | null;
	reasons: string[];
}

export interface AssessmentView {
	decision: 'allow' | 'flag' | 'block';
	riskScore: number;
	checks: Array<Pick<FraudFinding, 'check' | 'reason' | 'score' | 'detail'>>;
}

export interface IdentityInput {
	email?: string;
	externalId?: string;
	name?: string;
	phone?: string;
	metadata?: Record<string, unknown>;
}

export interface ReferralDetail extends ReferralSummary {
	internalStatus: ReferralStatus;
	referrerId: number;
	refereeId: number | null;
	source: string | null;
	riskScore: number | null;
	touchedAt: string;
	qualifiedAt: string | null;
	createdAt: string;
	checks?: AssessmentView['checks'];
	history?: Array<{ from: string | null; to: string; reason: string | null; at: string }>;
}

export const iso = (ms: number | null): string | null =>
	ms === null ? null : new Date(ms).toISOString();

export function optionalText(value: unknown, field: string, max = 256): string | undefined {
	if (value === undefined || value === null || value === '') return undefined;
	return requireText(value, field, max);
}

export function identity(input: IdentityInput): { email?: string; externalId?: string } {
	const email =
		input.email === undefined || input.email === null || input.email === ''
			? undefined
			: normalizeEmail(input.email, 'email');
	const externalId = optionalText(input.externalId, 'externalId');
	if (email === undefined && externalId === undefined) {
		throw new EngineError(
			'required',
			'email is required (or an external ID) to identify the participant.',
			{ field: 'email' },
		);
	}
	return { email, externalId };
}

export function assessmentView(a: FraudAssessment): AssessmentView {
	return {
		decision: a.decision,
		riskScore: a.riskScore,
		checks: a.reasons.map(({ check, reason, score, detail }) => ({ check, reason, score, detail })),
	};
}

export function storedChecks(referral: ReferralRecord): AssessmentView['checks'] | undefined {
	const assessment = referral.metadata?.assessment;
	return isRecord(assessment) && Array.isArray(assessment.checks)
		? (assessment.checks as AssessmentView['checks'])
		: undefined;
}

export function shareUrl(ctx: ReferralContext, code: string | null): string | null {
	const { baseUrl, ...options } = ctx.program.config.share;
	return code && baseUrl ? buildShareUrl(baseUrl, code, options) : null;
}

export function participantView(
	ctx: ReferralContext,
	p: ParticipantRecord,
	code: string | null,
): ParticipantView {
	return {
		id: p.id,
		email: p.email,
		externalId: p.externalId,
		name: p.name,
		greetingName: greetingName(p.name),
		code,
		shareUrl: shareUrl(ctx, code),
	};
}

/** The participant's own code: issued once per owner (the ledger's default key), so replays get the same one. */
export async function codeOf(
	ctx: ReferralContext,
	participant: ParticipantRecord,
): Promise<CodeRecord> {
	const cached = ctx.codeCache.get(participant.id);
	if (cached) return cached;
	const { code } = await ctx.ledger.issueCode({
		programId: ctx.programId,
		ownerId: participant.id,
		generate: () => ctx.program.generator.next(),
	});
	ctx.codeCache.set(participant.id, code);
	return code;
}

export async function referrerCodeOf(
	ctx: ReferralContext,
	referral: ReferralRecord,
): Promise<string | null> {
	if (referral.codeId !== null) {
		const codes = await ctx.ledger.listCodes({
			programId: ctx.programId,
			ownerId: referral.referrerId,
			limit: 100,
		});
		const used = codes.find((c) => c.id === referral.codeId);
		if (used) return used.code;
	}
	const referrer = await ctx.ledger.getParticipant({
		programId: ctx.programId,
		id: referral.referrerId,
	});
	if (!referrer || referrer.erasedAt !== null) return null;
	const codes = await ctx.ledger.listCodes({
		programId: ctx.programId,
		ownerId: referral.referrerId,
		limit: 1,
	});
	return codes[0]?.code ?? null;
}

export function summary(
	ctx: ReferralContext,
	referral: ReferralRecord,
	referrerCode: string | null,
): ReferralSummary {
	return {
		id: referral.id,
		status: publicStatus(parseReferralStatus(referral.status)),
		referrerCode,
		reasons: [...referral.reasons],
	};
}

export async function refereeOf(
	ctx: ReferralContext,
	input: { email?: string; externalId?: string; participantId?: Id },
): Promise<ParticipantRecord | null> {
	if (
		input.participantId !== undefined &&
		input.participantId !== null &&
		input.participantId !== ''
	) {
		return await ctx.ledger.getParticipant({ programId: ctx.programId, id: input.participantId });
	}
	const email =
		input.email === undefined || input.email === null || input.email === ''
			? undefined
			: normalizeEmail(input.email, 'email');
	if (email !== undefined)
		return await ctx.ledger.getParticipant({ programId: ctx.programId, email });
	const externalId = optionalText(input.externalId, 'externalId');
	if (externalId !== undefined)
		return await ctx.ledger.getParticipant({ programId: ctx.programId, externalId });
	throw new EngineError(
		'required',
		'email is required (or an external ID, participant ID or referral ID) to find whose order it is.',
		{ field: 'email' },
	);
}

export async function requireReferral(
	ctx: ReferralContext,
	referralId: Id | undefined,
): Promise<ReferralRecord> {
	if (referralId === undefined || referralId === null || referralId === '') {
		throw new EngineError(
			'required',
			'The referral ID is empty; give the ID of the referral to change.',
			{ field: 'referralId' },
		);
	}
	const referral = await ctx.ledger.getReferral({ programId: ctx.programId, id: referralId });
	if (!referral)
		throw new EngineError(
			'unknown_referral',
			`Referral ${describe(referralId)} is not in program "${ctx.programId}".`,
			{ field: 'referralId' },
		);
	return referral;
}

export async function requireParticipant(
	ctx: ReferralContext,
	query: { email?: string; externalId?: string; participantId?: Id },
): Promise<ParticipantRecord> {
	const participant = await refereeOf(ctx, query);
	if (!participant)
		throw new EngineError(
			'unknown_participant',
			`No participant of program "${ctx.programId}" matches.`,
			{ field: query.participantId ? 'participantId' : query.email ? 'email' : 'externalId' },
		);
	return participant;
}

export async function detail(
	ctx: ReferralContext,
	referral: ReferralRecord,
	withHistory = false,
): Promise<ReferralDetail> {
	const status = parseReferralStatus(referral.status);
	const out: ReferralDetail = {
		...summary(ctx, referral, await referrerCodeOf(ctx, referral)),
		internalStatus: status,
		referrerId: referral.referrerId,
		refereeId: referral.refereeId,
		source: referral.source,
		riskScore: referral.riskScore,
		touchedAt: iso(referral.touchedAt)!,
		qualifiedAt: iso(referral.qualifiedAt),
		createdAt: iso(referral.createdAt)!,
	};
	const checks = storedChecks(referral);
	if (checks) out.checks = checks;
	if (withHistory) {
		const history = await ctx.ledger.referralHistory({
			programId: ctx.programId,
			referralId: referral.id,
		});
		out.history = history.map((h) => ({
			from: h.from,
			to: h.to,
			reason: h.reason,
			at: iso(h.at)!,
		}));
	}
	return out;
}

export async function getReferral(ctx: ReferralContext, referralId: Id): Promise<ReferralDetail> {
	return await detail(ctx, await requireReferral(ctx, referralId), true);
}

/** Referrals by filters; a public status (pending) covers the internal ones behind it (recorded, pending, approved). */
export async function listReferrals(
	ctx: ReferralContext,
	filter: {
		status?: string;
		referrerId?: Id;
		refereeId?: Id;
		since?: number | string;
		until?: number | string;
		afterId?: Id;
		limit?: number;
	},
): Promise<ReferralDetail[]> {
	const limit = filter.limit ?? 100;
	let statuses: Array<string | undefined> = [undefined];
	if (filter.status) {
		const wanted = filter.status.trim().toLowerCase();
		const isPublic = (PUBLIC_REFERRAL_STATUSES as readonly string[]).includes(wanted);
		statuses = isPublic
			? internalStatusesFor(wanted as PublicReferralStatus)
			: [parseReferralStatus(wanted)];
	}
	const pages = await Promise.all(
		statuses.map((status) =>
			ctx.ledger.listReferrals({
				programId: ctx.programId,
				status,
				referrerId: filter.referrerId === '' ? undefined : filter.referrerId,
				refereeId: filter.refereeId === '' ? undefined : filter.refereeId,
				since: filter.since === '' ? undefined : filter.since,
				until: filter.until === '' ? undefined : filter.until,
				afterId: filter.afterId === '' ? undefined : filter.afterId,
				limit,
			}),
		),
	);
	const rows = pages
		.flat()
		.sort((a, b) => a.id - b.id)
		.slice(0, limit);
	return await Promise.all(rows.map((r) => detail(ctx, r)));
}

/** The code as stored: generated codes in canonical form, vanity codes in the format's letter case. */
export function canonicalCode(ctx: ReferralContext, value: string): string {
	const format = ctx.program.generator.format;
	const normalized = normalizeCode(format, value);
	if (normalized.valid && normalized.canonical) return normalized.canonical;
	const trimmed = value.trim();
	return format.lowerCase ? trimmed.toLowerCase() : trimmed.toUpperCase();
}
