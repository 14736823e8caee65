import { normalizeEmail } from '../shared/email';
import {
	checkLinkOptions,
	type LinkSecrets,
	participantLink,
	verifyParticipantLink,
} from '../shared/links';
import { greetingName } from '../shared/plainText';
import { EngineError } from '../shared/errors';
import { isRecord, requireText } from '../shared/guards';
import type { Id, LedgerStore } from '../ledger/store';
import {
	iso,
	participantView,
	refereeOf,
	requireParticipant,
	type IdentityInput,
	type ParticipantView,
	type ReferralContext,
} from './views';

/**
 * A participant's own record: their standing (referrals, points, tier, badges, rank), their private
 * status link, changes to their details, the list of participants, and GDPR erasure.
 */

export interface ParticipantStats {
	referrals: number;
	qualified: number;
	points: number;
	tier: string | null;
	badges: string[];
	rank: number | null;
}

/** A participant's private status link and whom to send it to (Participant › Get Private Link). */
export interface PrivateLinkView {
	url: string;
	token: string;
	expiresAt: string;
	participantId: number;
	email: string | null;
	name: string | null;
	greetingName: string | null;
}

/** The participant with their code and standing: referrals, qualified ones, points, tier, badges and leaderboard rank. */
export async function getParticipant(
	ctx: ReferralContext,
	query: { email?: string; externalId?: string; participantId?: Id },
): Promise<{ participant: ParticipantView; stats: ParticipantStats }> {
	const participant = await requireParticipant(ctx, query);
	const codes = await ctx.ledger.listCodes({
		programId: ctx.programId,
		ownerId: participant.id,
		limit: 1,
	});
	const programId = ctx.programId;
	const [counts, points, rewards, board] = await Promise.all([
		ctx.ledger.countReferrals({ programId, referrerId: participant.id }),
		ctx.ledger.pointsBalance({ programId, participantId: participant.id }),
		ctx.ledger.listRewards({ programId, recipientId: participant.id, limit: 10_000 }),
		ctx.ledger.leaderboard({
			programId,
			by: 'qualifiedReferrals',
			excludeStatuses: ['reversed'],
			limit: 10_000,
		}),
	]);
	const by = counts.byStatus;
	const kept = rewards.filter((r) => r.status !== 'reversed');
	const label = (r: (typeof rewards)[number], key: string) =>
		typeof r.metadata?.[key] === 'string' ? r.metadata[key] : r.rule;
	const tiers = kept.filter((r) => r.kind === 'tier');
	return {
		participant: participantView(ctx, participant, codes[0]?.code ?? null),
		stats: {
			referrals: counts.total,
			qualified: by.qualified ?? 0,
			points,
			tier: tiers.length > 0 ? label(tiers[tiers.length - 1], 'tier') : null,
			badges: kept.filter((r) => r.kind === 'badge').map((r) => label(r, 'badge')),
			rank: board.find((row) => row.participantId === participant.id)?.rank ?? null,
		},
	};
}

/**
 * The participant's private status link (a signed, expiring token naming the program and their id)
 * with who it is for, so a workflow can email it to them. Nothing else about them.
 */
export async function privateLink(
	ctx: ReferralContext,
	query: { email?: string; externalId?: string; participantId?: Id },
	options: { baseUrl: unknown; secrets: LinkSecrets; validDays?: unknown; now?: number },
): Promise<PrivateLinkView>;
/** With `ifNotEnrolled: 'null'`: null for nobody enrolled, instead of `unknown_participant`. */
export async function privateLink(
	ctx: ReferralContext,
	query: { email?: string; externalId?: string; participantId?: Id },
	options: {
		baseUrl: unknown;
		secrets: LinkSecrets;
		validDays?: unknown;
		now?: number;
		ifNotEnrolled: 'null' | 'error';
	},
): Promise<PrivateLinkView | null>;
export async function privateLink(
	ctx: ReferralContext,
	query: { email?: string; externalId?: string; participantId?: Id },
	options: {
		baseUrl: unknown;
		secrets: LinkSecrets;
		validDays?: unknown;
		now?: number;
		ifNotEnrolled?: 'null' | 'error';
	},
): Promise<PrivateLinkView | null> {
	checkLinkOptions(options);
	const found =
		options.ifNotEnrolled === 'null'
			? await refereeOf(ctx, query)
			: await requireParticipant(ctx, query);
	if (!found) return null;
	const participant = found;
	const link = participantLink({
		...options,
		programId: ctx.programId,
		participantId: participant.id,
	});
	return {
		...link,
		participantId: participant.id,
		email: participant.email,
		name: participant.name,
		greetingName: greetingName(participant.name),
	};
}

/** getParticipant for the holder of a private status link; `invalid_link` (field token) when it is forged, altered, expired or of another program. */
export async function getParticipantByLink(
	ctx: ReferralContext,
	token: unknown,
	options: { secrets: LinkSecrets; now?: number },
): Promise<{ participant: ParticipantView; stats: ParticipantStats; link: { expiresAt: string } }> {
	const { participantId, expiresAt } = verifyParticipantLink(token, {
		...options,
		programId: ctx.programId,
	});
	return { ...(await getParticipant(ctx, { participantId })), link: { expiresAt } };
}

export async function updateParticipant(
	ctx: ReferralContext,
	query: { email?: string; externalId?: string; participantId?: Id },
	changes: IdentityInput,
): Promise<ParticipantView> {
	const participant = await requireParticipant(ctx, query);
	const update: Parameters<LedgerStore['updateParticipant']>[0] = {
		programId: ctx.programId,
		participantId: participant.id,
	};
	if (changes.email !== undefined && changes.email !== '')
		update.email = normalizeEmail(changes.email, 'newEmail');
	if (changes.externalId !== undefined && changes.externalId !== '')
		update.externalId = requireText(changes.externalId, 'newExternalId');
	if (changes.name !== undefined && changes.name !== '')
		update.name = requireText(changes.name, 'name');
	if (changes.phone !== undefined && changes.phone !== '')
		update.phone = requireText(changes.phone, 'phone', 32);
	if (changes.metadata !== undefined) {
		if (!isRecord(changes.metadata))
			throw new EngineError('invalid_object', 'metadata must be an object.', { field: 'metadata' });
		// The sign-up hashes stay: they are the fraud checks' memory, not the user's metadata.
		const kept = Object.fromEntries(
			Object.entries(participant.metadata).filter(
				([k]) =>
					k === 'signupIpHash' ||
					k === 'signupDeviceHash' ||
					k === 'signupUserAgentHash' ||
					k === 'signUpKey',
			),
		);
		update.metadata = { ...changes.metadata, ...kept };
	}
	const { participant: updated } = await ctx.ledger.updateParticipant(update);
	const codes = await ctx.ledger.listCodes({
		programId: ctx.programId,
		ownerId: updated.id,
		limit: 1,
	});
	return participantView(ctx, updated, codes[0]?.code ?? null);
}

export async function listParticipants(
	ctx: ReferralContext,
	filter: {
		afterId?: Id;
		limit?: number;
		createdSince?: number | string;
		createdUntil?: number | string;
	},
): Promise<ParticipantView[]> {
	const rows = await ctx.ledger.listParticipants({
		programId: ctx.programId,
		afterId: filter.afterId === '' ? undefined : filter.afterId,
		limit: filter.limit,
		createdSince: filter.createdSince === '' ? undefined : filter.createdSince,
		createdUntil: filter.createdUntil === '' ? undefined : filter.createdUntil,
	});
	return rows.map((p) => participantView(ctx, p, null));
}

/** GDPR erasure: personal data and ip/device hashes go, referrals, points and counts stay. */
export async function eraseParticipant(
	ctx: ReferralContext,
	query: { email?: string; externalId?: string; participantId?: Id },
): Promise<{ participantId: number; erased: true; erasedAt: string }> {
	const participant = await requireParticipant(ctx, query);
	const { participant: erased } = await ctx.ledger.eraseParticipant({
		programId: ctx.programId,
		participantId: participant.id,
	});
	ctx.codeCache.delete(participant.id);
	return { participantId: erased.id, erased: true, erasedAt: iso(erased.erasedAt)! };
}
