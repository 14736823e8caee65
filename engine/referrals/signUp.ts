import { createHmac } from 'node:crypto';
import { EngineError } from '../shared/errors';
import { describe, isRecord, requireTime } from '../shared/guards';
import { HOUR_MS, MINUTE_MS } from '../shared/time';
import type { CodeRecord, Id, ParticipantRecord, ReferralRecord } from '../ledger/store';
import { resolveRepeatArrival } from './attribution';
import { clickForSignUp } from './clicks';
import {
	assessReferral,
	hashIdentifier,
	type FraudAssessment,
	type NearbySignUp,
	type ReferralEdge,
} from './fraud';
import {
	assertTransition,
	parseReferralStatus,
	statusForDecision,
	type ReasonCode,
} from './lifecycle';
import {
	assessmentView,
	canonicalCode,
	codeOf,
	identity,
	optionalText,
	participantView,
	referrerCodeOf,
	shareUrl,
	storedChecks,
	summary,
	type AssessmentView,
	type IdentityInput,
	type ParticipantView,
	type ReferralContext,
	type ReferralSummary,
	type Warning,
} from './views';
import { welcomeMessageKeys, welcomeMessages, welcomeSmsRecipient } from './welcome';

/**
 * Sign-up: enrol the participant, issue their code and share link, and record the referral they
 * came with: the code's state, the fraud checks (assess), a repeat arrival under the program's
 * attribution, and the answer a replay of the same sign-up gets.
 */

export interface SignUpInput extends IdentityInput {
	/** The code the referee arrived with (as typed); empty means "no referral". */
	referralCode?: string;
	/** Credit this referrer (ledger id) when there is no code. */
	referrerId?: Id;
	source?: string;
	ip?: string;
	/** The browser's user agent: a weak signal that never flags alone. */
	userAgent?: string;
	/** An explicit device id (the page's fingerprint or a first-party cookie id); the only thing `same_device` compares. */
	device?: string;
	/** When the referee signed up (and touched the link); default now. */
	at?: number | string | Date;
	/** The person agreed to marketing texts (only with oweWelcome: a welcome text is owed). */
	smsConsent?: boolean;
	/** The caller knows the referee was a customer before (e.g. an earlier order in the shop). */
	existingCustomer?: boolean;
	/**
	 * The first-party visitor id of a tracked referral link (the `rm_vid` cookie the link set, see
	 * clicks.ts): the sign-up is attributed to that visitor's recorded click (first-touch or
	 * last-touch in the program's window) when no code or referrer came with it. Only clicks the
	 * ledger recorded count; the id itself names nobody.
	 */
	visitorId?: string;
}

export interface SignUpOutcome {
	participant: ParticipantView;
	referral: ReferralSummary | null;
	warnings: Warning[];
	/** True when this call enrolled the participant (false: they existed already, or a replay). */
	enrolled: boolean;
	assessment?: AssessmentView;
	/** With oweWelcome: the keys of the participant's welcome messages, for Send Owed Messages (those not owed are skipped there). */
	messageKeys?: string[];
}

/** Keyed hashes of a sign-up's signals (see fraud.ts): ip, explicit device id, user agent. */
interface Hashes {
	ipHash?: string;
	deviceHash?: string;
	userAgentHash?: string;
}

/** A participant enrolled this recently is the same sign-up arriving twice (retry, race), not a returning customer. */
const SAME_SIGNUP_GRACE_MS = 10 * MINUTE_MS;

/** Statuses in which a referee may still move to another referrer (nothing was earned yet). */
const REASSIGNABLE = ['pending', 'flagged'];

async function enrolOnly(
	ctx: ReferralContext,
	input: IdentityInput & { smsConsent?: boolean },
	hashes: Hashes,
	signUpKey: string,
) {
	const { email, externalId } = identity(input);
	const metadata = input.metadata === undefined ? {} : { ...input.metadata };
	if (!isRecord(metadata))
		throw new EngineError('invalid_object', 'metadata must be an object.', { field: 'metadata' });
	// Which sign-up created the participant: its replays (also racing ones) answer `enrolled: true` like it.
	metadata.signUpKey = signUpKey;
	// The sign-up's hashes let a later referral detect "same ip/device as the referrer".
	if (hashes.ipHash) metadata.signupIpHash = hashes.ipHash;
	if (hashes.deviceHash) metadata.signupDeviceHash = hashes.deviceHash;
	if (hashes.userAgentHash) metadata.signupUserAgentHash = hashes.userAgentHash;
	const result = await ctx.ledger.enrolParticipant({
		programId: ctx.programId,
		email,
		externalId,
		name: optionalText(input.name, 'name'),
		phone: optionalText(input.phone, 'phone', 32),
		metadata,
		// The new participant's code in the same transaction, so their welcome can carry it.
		issueCode: { generate: () => ctx.program.generator.next() },
		...(ctx.oweWelcome
			? {
					welcomeMessages: ({
						participant,
						code,
					}: {
						participant: ParticipantRecord;
						code: CodeRecord | null;
					}) =>
						welcomeMessages({
							participant,
							code,
							shareUrl: shareUrl(ctx, code?.code ?? null),
							smsConsent: input.smsConsent === true,
							ipHash: hashes.ipHash,
						}),
				}
			: {}),
	});
	if (result.code) ctx.codeCache.set(result.participant.id, result.code);
	return result;
}

function signalHashes(ctx: ReferralContext, input: SignUpInput): Hashes {
	const salt = ctx.program.salt;
	const ip = optionalText(input.ip, 'ip', 256);
	const device = optionalText(input.device, 'device', 4096);
	const userAgent = optionalText(input.userAgent, 'userAgent', 4096);
	return {
		ipHash: ip === undefined ? undefined : hashIdentifier('ip', ip, salt),
		// Only an explicit device id is a device; the user agent is kept apart as a weak signal.
		deviceHash: device === undefined ? undefined : hashIdentifier('device', device, salt),
		userAgentHash:
			userAgent === undefined ? undefined : hashIdentifier('user_agent', userAgent, salt),
	};
}

/**
 * Sign-up: enrol the participant (idempotent by email or external id), issue their code and
 * share link, and, when a referral code or referrer came with them, record the referral.
 */
export async function enrol(ctx: ReferralContext, input: SignUpInput): Promise<SignUpOutcome> {
	const hashes = signalHashes(ctx, input);
	const typedCode =
		input.referralCode === undefined || input.referralCode === null
			? ''
			: String(input.referralCode).trim();
	const visitorId = optionalText(input.visitorId, 'visitorId', 64);
	const key = signUpKey(ctx, input, typedCode, visitorId);
	const { participant, created } = await enrolOnly(ctx, input, hashes, key);
	const code = await codeOf(ctx, participant);
	const outcome: SignUpOutcome = {
		participant: participantView(ctx, participant, code.code),
		referral: null,
		warnings: [],
		enrolled: created || participant.metadata?.signUpKey === key,
	};
	if (ctx.oweWelcome) {
		outcome.messageKeys = welcomeMessageKeys(participant.id);
		const sms = welcomeSmsRecipient(participant.phone, input.smsConsent === true);
		if (created && sms.problem)
			outcome.warnings.push({ code: 'sms_not_sent', message: `No welcome text: ${sms.problem}` });
	}
	if (
		typedCode !== '' ||
		visitorId !== undefined ||
		!(input.referrerId === undefined || input.referrerId === null || input.referrerId === '')
	) {
		const recorded = await recordFor(
			ctx,
			participant,
			created,
			typedCode,
			input,
			hashes,
			visitorId,
		);
		outcome.referral = recorded.referral;
		outcome.warnings.push(...recorded.warnings);
		if (recorded.assessment) outcome.assessment = recorded.assessment;
	}
	// The same sign-up again (a retry, n8n re-running the execution, a racing copy) answers like the
	// first one, whatever the referral did since. The answer is kept without personal data: the
	// participant is shown as the ledger has them now (an erased one stays erased).
	const { participant: _shown, ...rest } = outcome;
	const kept = await ctx.ledger.keepAnswer({
		programId: ctx.programId,
		operation: 'signUp',
		key,
		answer: { participantId: participant.id, ...rest },
	});
	if (!kept.replayed) return outcome;
	const { participantId: _id, ...first } = kept.answer as unknown as Omit<
		SignUpOutcome,
		'participant'
	> & { participantId: number };
	return { participant: outcome.participant, ...first };
}

/**
 * A sign-up's key: the program's keyed hash of who signs up (email or external ID), with which
 * code or referrer, and when if the caller said so (a trusted system's `signedUpAt`: another time
 * is another touch). Nothing the server generates (its clock, ids, the request's ip) enters it.
 */
function signUpKey(
	ctx: ReferralContext,
	input: SignUpInput,
	typedCode: string,
	visitorId: string | undefined,
): string {
	const { email, externalId } = identity(input);
	const by =
		typedCode !== ''
			? `code:${canonicalCode(ctx, typedCode)}`
			: input.referrerId === undefined || input.referrerId === null || input.referrerId === ''
				? 'none'
				: `referrer:${String(input.referrerId)}`;
	// A time that does not parse is refused where it is used (with a referral), not here.
	let at: number | string | null = null;
	if (!(input.at === undefined || input.at === null || input.at === '')) {
		try {
			at = requireTime(input.at, 'signedUpAt');
		} catch {
			at = String(input.at);
		}
	}
	return createHmac('sha256', ctx.program.salt)
		.update(
			`sign_up\u0000${JSON.stringify(
				// The visitor id only when there is one: keys of sign-ups without it stay as they were.
				visitorId === undefined
					? [email ?? null, externalId ?? null, by, at]
					: [email ?? null, externalId ?? null, by, at, `visitor:${visitorId}`],
			)}`,
		)
		.digest('hex');
}

/** Record a referred sign-up: like `enrol`, but a code or a referrer is required. */
export async function recordReferral(
	ctx: ReferralContext,
	input: SignUpInput,
): Promise<SignUpOutcome> {
	const typed =
		input.referralCode === undefined || input.referralCode === null
			? ''
			: String(input.referralCode).trim();
	if (
		typed === '' &&
		(input.visitorId === undefined || input.visitorId === null || input.visitorId === '') &&
		(input.referrerId === undefined || input.referrerId === null || input.referrerId === '')
	) {
		throw new EngineError(
			'required',
			'A referral needs the referral code the referee used, the visitor id of their referral link click, or the referrer.',
			{ field: 'referralCode' },
		);
	}
	return await enrol(ctx, input);
}

export { canonicalCode };

async function recordFor(
	ctx: ReferralContext,
	referee: ParticipantRecord,
	created: boolean,
	typed: string,
	input: SignUpInput,
	hashes: Hashes,
	visitorId?: string,
): Promise<{ referral: ReferralSummary | null; warnings: Warning[]; assessment?: AssessmentView }> {
	const at =
		input.at === undefined || input.at === null || input.at === ''
			? ctx.now()
			: requireTime(input.at, 'signedUpAt');
	const warnings: Warning[] = [];
	let typedCode = typed;
	const byReferrer = !(
		input.referrerId === undefined ||
		input.referrerId === null ||
		input.referrerId === ''
	);
	// A tracked link click of the visitor (server-recorded): the referral's touch when no code came
	// with the sign-up; beside a typed code of another referrer, the program's model picks the click
	// (first-touch: it came first) or the typed code (last-touch: typed at sign-up).
	const click = byReferrer ? null : await clickForSignUp(ctx, visitorId, at);
	let clickId: number | undefined;
	let touchAt = at;
	if (click && click.code !== null) {
		const sameCode = typedCode !== '' && canonicalCode(ctx, typedCode) === click.code;
		if (typedCode === '' || sameCode || ctx.program.config.attribution.model === 'first_touch') {
			if (typedCode !== '' && !sameCode)
				warnings.push({
					code: 'attribution_click',
					message:
						'First-touch attribution: the referral link the referee clicked earlier takes precedence over the code typed at sign-up.',
				});
			typedCode = click.code;
			clickId = click.id;
			touchAt = Math.min(click.createdAt, at);
		}
	}
	if (typedCode === '' && !byReferrer) return { referral: null, warnings };
	let referrerId: number;
	let codeRecord: CodeRecord | null = null;
	if (typedCode !== '') {
		const code = canonicalCode(ctx, typedCode);
		codeRecord = await ctx.ledger.lookupCode({ programId: ctx.programId, code });
		const state =
			codeRecord === null
				? 'unknown'
				: codeRecord.expiresAt !== null && codeRecord.expiresAt <= at
					? 'expired'
					: codeRecord.state;
		// A code that cannot attribute anything is the documented "no referral, with a warning".
		if (state !== 'active') {
			const reason: ReasonCode =
				state === 'revoked'
					? 'code_revoked'
					: state === 'unknown'
						? 'unknown_code'
						: 'code_expired';
			const message =
				reason === 'unknown_code'
					? `The referral code "${typedCode.slice(0, 64)}" does not exist in program "${ctx.programId}".`
					: reason === 'code_revoked'
						? `The referral code "${codeRecord!.code}" was revoked.`
						: state === 'exhausted'
							? `The referral code "${codeRecord!.code}" has reached its maximum number of uses.`
							: `The referral code "${codeRecord!.code}" had expired at sign-up time.`;
			return { referral: null, warnings: [{ code: reason, message }] };
		}
		if (codeRecord!.ownerId === null) {
			return {
				referral: null,
				warnings: [
					{
						code: 'unknown_code',
						message: `The code "${codeRecord!.code}" is a campaign code with no owner; there is no referrer to credit.`,
					},
				],
			};
		}
		referrerId = codeRecord!.ownerId;
	} else {
		const referrer = await ctx.ledger.getParticipant({
			programId: ctx.programId,
			id: input.referrerId!,
		});
		if (!referrer)
			throw new EngineError(
				'unknown_participant',
				`The referrer ${describe(input.referrerId)} is not a participant of program "${ctx.programId}".`,
				{ field: 'referrerId' },
			);
		referrerId = referrer.id;
	}

	// A referee this sign-up just enrolled has no referral to look up; should a racing copy have
	// recorded one since, recordReferral below finds it by its natural key and the same repeat
	// arrival answers (issue #18: one statement less per new sign-up).
	const existing = created
		? null
		: await ctx.ledger.findReferralByReferee({
				programId: ctx.programId,
				refereeId: referee.id,
			});
	if (existing)
		return await repeatArrival(ctx, existing, referrerId, touchAt, codeRecord, warnings, {
			referee,
			hashes,
			source: input.source,
		});

	const referrer = await ctx.ledger.getParticipant({ programId: ctx.programId, id: referrerId });
	if (!referrer)
		throw new EngineError(
			'unknown_participant',
			`The owner of the code is no longer a participant of program "${ctx.programId}".`,
			{ field: 'referralCode' },
		);
	const referrerCode = codeRecord?.code ?? (await codeOf(ctx, referrer)).code;
	const assessment = await assess(
		ctx,
		referrer,
		referee,
		created,
		at,
		hashes,
		input.existingCustomer === true,
	);
	const target = statusForDecision(assessment.decision);
	const view = assessmentView(assessment);
	// Allowed referrals go straight to pending; flagged and blocked ones pass through `recorded`
	// so the flag or block is a transition of its own, with its event for the trigger.
	const { referral, created: isNew } = await ctx.ledger.recordReferral({
		programId: ctx.programId,
		referrerId,
		refereeId: referee.id,
		code: codeRecord?.code,
		source: optionalText(input.source, 'source'),
		touchedAt: touchAt,
		ipHash: hashes.ipHash,
		deviceHash: hashes.deviceHash,
		clickId,
		status: target === 'pending' ? 'pending' : 'recorded',
		reasons: assessment.reasonCodes,
		riskScore: assessment.riskScore,
		metadata: { assessment: view },
	});
	if (!isNew)
		return await repeatArrival(ctx, referral, referrerId, touchAt, codeRecord, warnings, {
			referee,
			hashes,
			source: input.source,
		});
	const final = referral.status === 'recorded' ? await completeAssessment(ctx, referral) : referral;
	return { referral: summary(ctx, final, referrerCode), warnings, assessment: view };
}

/** Moves a `recorded` referral on to the status its stored assessment decided (also after a crash in between). */
export async function completeAssessment(
	ctx: ReferralContext,
	referral: ReferralRecord,
): Promise<ReferralRecord> {
	const assessment = referral.metadata?.assessment;
	const decision =
		isRecord(assessment) && (assessment.decision === 'flag' || assessment.decision === 'block')
			? assessment.decision
			: 'allow';
	const to = statusForDecision(decision);
	assertTransition('recorded', to);
	const result = await ctx.ledger.transitionReferral({
		programId: ctx.programId,
		referralId: referral.id,
		from: 'recorded',
		to,
		reason: decision === 'allow' ? 'accepted' : referral.reasons.join(', '),
	});
	return result.record;
}

async function repeatArrival(
	ctx: ReferralContext,
	existing: ReferralRecord,
	referrerId: number,
	at: number,
	codeRecord: CodeRecord | null,
	warnings: Warning[],
	arrival: { referee: ParticipantRecord; hashes: Hashes; source?: unknown },
): Promise<{ referral: ReferralSummary; warnings: Warning[]; assessment?: AssessmentView }> {
	let current = existing;
	if (current.status === 'recorded') current = await completeAssessment(ctx, current);
	const referrerCode = await referrerCodeOf(ctx, current);
	const checks = storedChecks(current);
	const assessment =
		checks && isRecord(current.metadata.assessment)
			? (current.metadata.assessment as unknown as AssessmentView)
			: undefined;
	if (current.referrerId === referrerId)
		return { referral: summary(ctx, current, referrerCode), warnings, assessment };
	const status = parseReferralStatus(current.status);
	const decision = resolveRepeatArrival(
		{
			referralId: String(current.id),
			referrerId: String(current.referrerId),
			touchedAt: current.touchedAt,
			status,
		},
		{ referrerId: String(referrerId), touchedAt: at, code: codeRecord?.code },
		ctx.program.config.attribution,
	);
	if (decision.outcome === 'switch_to_incoming' && REASSIGNABLE.includes(current.status)) {
		// The new referrer must pass the same fraud checks a first arrival would; a blocked one keeps the old referrer.
		const newReferrer = await ctx.ledger.getParticipant({
			programId: ctx.programId,
			id: referrerId,
		});
		const assessment = newReferrer
			? await assess(ctx, newReferrer, arrival.referee, false, at, arrival.hashes, false)
			: undefined;
		if (newReferrer && assessment && assessment.decision !== 'block') {
			const moved = await ctx.ledger.reassignReferral({
				programId: ctx.programId,
				referralId: current.id,
				fromReferrerId: current.referrerId,
				toReferrerId: referrerId,
				code: codeRecord?.code,
				touchedAt: at,
				source: optionalText(arrival.source, 'source'),
				ipHash: arrival.hashes.ipHash,
				deviceHash: arrival.hashes.deviceHash,
				fromStatuses: REASSIGNABLE,
				reason: decision.reason,
			});
			if (moved.transitioned) {
				warnings.push({
					code: 'attribution_switched',
					message: `${decision.reason} Referral ${current.id} now credits the new referrer.`,
				});
				return {
					referral: summary(
						ctx,
						moved.record,
						codeRecord?.code ?? (await referrerCodeOf(ctx, moved.record)),
					),
					warnings,
					assessment: assessmentView(assessment),
				};
			}
			current = moved.record;
		}
		warnings.push({
			code: 'attribution_kept',
			message: `${decision.reason} The new referrer did not pass the fraud checks or the referral moved on meanwhile, so referral ${current.id} stays with its referrer.`,
		});
	} else if (decision.outcome === 'switch_to_incoming') {
		warnings.push({
			code: 'attribution_kept',
			message: `${decision.reason} Referral ${current.id} is ${current.status} and stays with its referrer; record the referee again after rejecting it to hand it over.`,
		});
	} else {
		warnings.push({
			code: 'duplicate_referee',
			message: `The referee already has referral ${current.id}. ${decision.reason}`,
		});
	}
	return { referral: summary(ctx, current, referrerCode), warnings };
}

/** Gathers the fraud checks' inputs from the ledger and runs them under the program's policy. */
async function assess(
	ctx: ReferralContext,
	referrer: ParticipantRecord,
	referee: ParticipantRecord,
	created: boolean,
	at: number,
	hashes: Hashes,
	existingCustomer: boolean,
): Promise<FraudAssessment> {
	const policy = ctx.program.config.fraudPolicy;
	const programId = ctx.programId;
	let sameIpSignUps: NearbySignUp[] = [];
	let sameDeviceSignUps: NearbySignUp[] = [];
	if (hashes.ipHash || hashes.deviceHash) {
		const reach = Math.max(policy.sameIpWindowHours, policy.sameDeviceWindowHours) * HOUR_MS;
		const rows = await ctx.ledger.referralsBySignal({
			programId,
			ipHash: hashes.ipHash,
			deviceHash: hashes.deviceHash,
			since: at - reach,
			until: at + reach + 1,
			limit: 1000,
		});
		const toSignUp = (r: ReferralRecord): NearbySignUp => ({
			referralId: String(r.id),
			referrerId: String(r.referrerId),
			at: r.touchedAt,
		});
		sameIpSignUps = rows
			.filter((r) => hashes.ipHash && r.ipHash === hashes.ipHash && r.refereeId !== referee.id)
			.map(toSignUp);
		sameDeviceSignUps = rows
			.filter(
				(r) =>
					hashes.deviceHash && r.deviceHash === hashes.deviceHash && r.refereeId !== referee.id,
			)
			.map(toSignUp);
	}
	const [lastHour, lastDay] = await ctx.ledger.countReferralsInWindows({
		programId,
		referrerId: referrer.id,
		since: [at - HOUR_MS, at - 24 * HOUR_MS],
		until: at + 1,
	});
	const graphEdges = await pathEdges(ctx, referee.id, referrer.id, policy.ringMaxDepth);
	const signal = (p: ParticipantRecord, key: string) =>
		typeof p.metadata?.[key] === 'string' ? p.metadata[key] : undefined;
	return assessReferral(
		{
			at,
			referrer: {
				id: String(referrer.id),
				email: referrer.email ?? undefined,
				name: referrer.name ?? undefined,
				ipHash: signal(referrer, 'signupIpHash'),
				deviceHash: signal(referrer, 'signupDeviceHash'),
				userAgentHash: signal(referrer, 'signupUserAgentHash'),
			},
			referee: {
				id: String(referee.id),
				email: referee.email ?? undefined,
				name: referee.name ?? undefined,
				ipHash: hashes.ipHash,
				deviceHash: hashes.deviceHash,
				userAgentHash: hashes.userAgentHash,
				existingCustomer:
					existingCustomer || (!created && referee.createdAt < at - SAME_SIGNUP_GRACE_MS),
			},
			refereePriorReferrals: [],
			sameIpSignUps,
			sameDeviceSignUps,
			referrerRecent: { lastHour, lastDay },
			graphEdges,
		},
		policy,
	);
}

/**
 * The edges a ring through the new edge referrer → referee can use: the referrer's chain of
 * referrers, walked up one hop at a time (at most `maxDepth`), stopping at the referee. A referee is
 * referred at most once per program, so every participant has at most one incoming edge and a path
 * referee → … → referrer, if there is one, is this chain: each hop is one lookup on the unique
 * (program, referee) index, whatever the size of the program or the referrer's fan-out.
 * Rejected referrals are not edges.
 */
async function pathEdges(
	ctx: ReferralContext,
	refereeId: number,
	referrerId: number,
	maxDepth: number,
): Promise<ReferralEdge[]> {
	const edges: ReferralEdge[] = [];
	const seen = new Set<number>([referrerId]);
	let at = referrerId;
	for (let depth = 0; depth < maxDepth && at !== refereeId; depth++) {
		const incoming = await ctx.ledger.findReferralByReferee({
			programId: ctx.programId,
			refereeId: at,
		});
		if (!incoming || incoming.status === 'rejected') break;
		edges.push({ referrerId: String(incoming.referrerId), refereeId: String(at) });
		if (seen.has(incoming.referrerId)) break;
		seen.add(incoming.referrerId);
		at = incoming.referrerId;
	}
	return edges;
}
