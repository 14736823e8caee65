import { createHmac } from 'node:crypto';
import { normalizeCode } from '../codes';
import { normaliseEmail } from '../shared/email';
import { checkLinkOptions, type LinkSecrets, participantLink, verifyParticipantLink } from '../shared/links';
import { greetingName } from '../shared/plainText';
import { EngineError } from '../shared/errors';
import { orderConflict } from '../ledger/validate';
import type { CodeRecord, Id, LedgerStore, ParticipantRecord, ReferralRecord } from '../ledger/store';
import { resolveRepeatArrival } from './attribution';
import { HELD_FOR_REVIEW, qualificationFor, validateConversion } from './conversion';
import { assessReferral, hashIdentifier, type FraudAssessment, type FraudFinding, type NearbySignUp, type ReferralEdge } from './fraud';
import {
	afterApproval,
	assertTransition,
	internalStatusesFor,
	parseReferralStatus,
	PUBLIC_REFERRAL_STATUSES,
	publicStatus,
	statusForDecision,
	type PublicReferralStatus,
	type ReasonCode,
	type ReferralStatus,
} from './lifecycle';
import { refundReferral, type RefundContext, type RefundInput, type RefundOutcome } from './refund';
import { buildShareUrl } from './share';
import { welcomeMessageKeys, welcomeMessages, welcomeSmsRecipient } from './welcome';

export type { RefundInput, RefundOutcome } from './refund';
import { loadReferralProgram, type LoadedProgram } from './programs';
import { describe, isRecord, requireText, requireTime } from '../shared/guards';

/**
 * The referral service: the orchestration behind the Referral node and the sample webhooks.
 * Every rule lives in the pure modules (lifecycle, fraud, attribution, conversion, share); this
 * file fetches what they need from the ledger, asks them, and writes the outcome back. Exactly
 * once comes from the ledger's keys (one referral per referee, one conversion per order id,
 * compare-and-set transitions), so concurrent executions and replays need no lock here.
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

export interface ConversionInput {
	/** Find the referee by email, external id or ledger id, or name the referral directly. */
	email?: string;
	externalId?: string;
	participantId?: Id;
	referralId?: Id;
	orderId: string;
	amount: number;
	currency: string;
	at?: number | string | Date;
}

export interface ConversionOutcome {
	referral: { id: number; status: PublicReferralStatus } | null;
	/** True when this order qualified the referral (also on a replay of that order). */
	qualified: boolean;
	/** What happened: qualified, held (referral under review), ignored, replayed, not_referred, not_a_participant. */
	outcome: string;
	reason: string;
	replayed: boolean;
	orderId: string;
}


export interface TransitionOutcome {
	referral: ReferralDetail;
	/**
	 * True when this request moved the referral (a replay of it says so too: it answers from the
	 * referral's history like the first call); false when it was already there for another reason.
	 */
	changed: boolean;
	/** The status the request found (a replay: the one its first call found, from the history). */
	from: ReferralStatus;
	reason: string;
	/** True when an earlier call (a retry, a re-run, a racing copy) made the change this one answers with. */
	replayed: boolean;
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

/** Keyed hashes of a sign-up's signals (see fraud.ts): ip, explicit device id, user agent. */
interface Hashes {
	ipHash?: string;
	deviceHash?: string;
	userAgentHash?: string;
}

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
/** A participant enrolled this recently is the same sign-up arriving twice (retry, race), not a returning customer. */
const SAME_SIGNUP_GRACE_MS = 10 * MINUTE_MS;
const HELD_EVENT = 'referral.conversion_held';
/** No referral is ever in this status: the ledger stores the order without qualifying anything. */
const NO_STATUS = ['never_qualifies'];
const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

function optionalText(value: unknown, field: string, max = 256): string | undefined {
	if (value === undefined || value === null || value === '') return undefined;
	return requireText(value, field, max);
}

function identity(input: IdentityInput): { email?: string; externalId?: string } {
	const email = input.email === undefined || input.email === null || input.email === '' ? undefined : normaliseEmail(input.email, 'email');
	const externalId = optionalText(input.externalId, 'externalId');
	if (email === undefined && externalId === undefined) {
		throw new EngineError('required', 'email is required (or an external ID) to identify the participant.', { field: 'email' });
	}
	return { email, externalId };
}

function assessmentView(a: FraudAssessment): AssessmentView {
	return { decision: a.decision, riskScore: a.riskScore, checks: a.reasons.map(({ check, reason, score, detail }) => ({ check, reason, score, detail })) };
}

function storedChecks(referral: ReferralRecord): AssessmentView['checks'] | undefined {
	const assessment = referral.metadata?.assessment;
	return isRecord(assessment) && Array.isArray(assessment.checks) ? (assessment.checks as AssessmentView['checks']) : undefined;
}

/** Statuses in which a referee may still move to another referrer (nothing was earned yet). */
const REASSIGNABLE = ['pending', 'flagged'];

export class ReferralService {
	readonly programId: string;
	private readonly now: () => number;
	private readonly oweWelcome: boolean;
	private readonly codeCache = new Map<number, CodeRecord | null>();

	constructor(
		readonly ledger: LedgerStore,
		readonly program: LoadedProgram,
		options: ServiceOptions = {},
	) {
		this.programId = program.config.programId;
		this.now = options.now ?? Date.now;
		this.oweWelcome = options.oweWelcome === true;
	}

	/** Loads the program's settings from the ledger (creating defaults if it has none). */
	static async open(ledger: LedgerStore, programId: string, options: ServiceOptions = {}): Promise<ReferralService> {
		return new ReferralService(ledger, await loadReferralProgram(ledger, programId), options);
	}

	// ---------------------------------------------------------------- participants

	private shareUrl(code: string | null): string | null {
		const { baseUrl, ...options } = this.program.config.share;
		return code && baseUrl ? buildShareUrl(baseUrl, code, options) : null;
	}

	private participantView(p: ParticipantRecord, code: string | null): ParticipantView {
		return { id: p.id, email: p.email, externalId: p.externalId, name: p.name, greetingName: greetingName(p.name), code, shareUrl: this.shareUrl(code) };
	}

	/** The participant's own code: issued once per owner (the ledger's default key), so replays get the same one. */
	private async codeOf(participant: ParticipantRecord): Promise<CodeRecord> {
		const cached = this.codeCache.get(participant.id);
		if (cached) return cached;
		const { code } = await this.ledger.issueCode({
			programId: this.programId,
			ownerId: participant.id,
			generate: () => this.program.generator.next(),
		});
		this.codeCache.set(participant.id, code);
		return code;
	}

	private async enrolOnly(input: IdentityInput & { smsConsent?: boolean }, hashes: Hashes, signUpKey: string) {
		const { email, externalId } = identity(input);
		const metadata = input.metadata === undefined ? {} : { ...input.metadata };
		if (!isRecord(metadata)) throw new EngineError('invalid_object', 'metadata must be an object.', { field: 'metadata' });
		// Which sign-up created the participant: its replays (also racing ones) answer `enrolled: true` like it.
		metadata.signUpKey = signUpKey;
		// The sign-up's hashes let a later referral detect "same ip/device as the referrer".
		if (hashes.ipHash) metadata.signupIpHash = hashes.ipHash;
		if (hashes.deviceHash) metadata.signupDeviceHash = hashes.deviceHash;
		if (hashes.userAgentHash) metadata.signupUserAgentHash = hashes.userAgentHash;
		const result = await this.ledger.enrolParticipant({
			programId: this.programId,
			email,
			externalId,
			name: optionalText(input.name, 'name'),
			phone: optionalText(input.phone, 'phone', 32),
			metadata,
			// The new participant's code in the same transaction, so their welcome can carry it.
			issueCode: { generate: () => this.program.generator.next() },
			...(this.oweWelcome
				? {
						welcomeMessages: ({ participant, code }: { participant: ParticipantRecord; code: CodeRecord | null }) =>
							welcomeMessages({ participant, code, shareUrl: this.shareUrl(code?.code ?? null), smsConsent: input.smsConsent === true, ipHash: hashes.ipHash }),
					}
				: {}),
		});
		if (result.code) this.codeCache.set(result.participant.id, result.code);
		return result;
	}

	private hashes(input: SignUpInput): Hashes {
		const salt = this.program.salt;
		const ip = optionalText(input.ip, 'ip', 256);
		const device = optionalText(input.device, 'device', 4096);
		const userAgent = optionalText(input.userAgent, 'userAgent', 4096);
		return {
			ipHash: ip === undefined ? undefined : hashIdentifier('ip', ip, salt),
			// Only an explicit device id is a device; the user agent is kept apart as a weak signal.
			deviceHash: device === undefined ? undefined : hashIdentifier('device', device, salt),
			userAgentHash: userAgent === undefined ? undefined : hashIdentifier('user_agent', userAgent, salt),
		};
	}

	/**
	 * Sign-up: enrol the participant (idempotent by email or external id), issue their code and
	 * share link, and, when a referral code or referrer came with them, record the referral.
	 */
	async enrol(input: SignUpInput): Promise<SignUpOutcome> {
		const hashes = this.hashes(input);
		const typedCode = input.referralCode === undefined || input.referralCode === null ? '' : String(input.referralCode).trim();
		const key = this.signUpKey(input, typedCode);
		const { participant, created } = await this.enrolOnly(input, hashes, key);
		const code = await this.codeOf(participant);
		const outcome: SignUpOutcome = {
			participant: this.participantView(participant, code.code),
			referral: null,
			warnings: [],
			enrolled: created || participant.metadata?.signUpKey === key,
		};
		if (this.oweWelcome) {
			outcome.messageKeys = welcomeMessageKeys(participant.id);
			const sms = welcomeSmsRecipient(participant.phone, input.smsConsent === true);
			if (created && sms.problem) outcome.warnings.push({ code: 'sms_not_sent', message: `No welcome text: ${sms.problem}` });
		}
		if (typedCode !== '' || !(input.referrerId === undefined || input.referrerId === null || input.referrerId === '')) {
			const recorded = await this.recordFor(participant, created, typedCode, input, hashes);
			outcome.referral = recorded.referral;
			outcome.warnings.push(...recorded.warnings);
			if (recorded.assessment) outcome.assessment = recorded.assessment;
		}
		// The same sign-up again (a retry, n8n re-running the execution, a racing copy) answers like the
		// first one, whatever the referral did since. The answer is kept without personal data: the
		// participant is shown as the ledger has them now (an erased one stays erased).
		const { participant: _shown, ...rest } = outcome;
		const kept = await this.ledger.keepAnswer({ programId: this.programId, operation: 'signUp', key, answer: { participantId: participant.id, ...rest } });
		if (!kept.replayed) return outcome;
		const { participantId: _id, ...first } = kept.answer as unknown as Omit<SignUpOutcome, 'participant'> & { participantId: number };
		return { participant: outcome.participant, ...first };
	}

	/**
	 * A sign-up's key: the program's keyed hash of who signs up (email or external ID), with which
	 * code or referrer, and when if the caller said so (a trusted system's `signedUpAt`: another time
	 * is another touch). Nothing the server generates (its clock, ids, the request's ip) enters it.
	 */
	private signUpKey(input: SignUpInput, typedCode: string): string {
		const { email, externalId } = identity(input);
		const by = typedCode !== '' ? `code:${this.canonicalCode(typedCode)}` : input.referrerId === undefined || input.referrerId === null || input.referrerId === '' ? 'none' : `referrer:${String(input.referrerId)}`;
		// A time that does not parse is refused where it is used (with a referral), not here.
		let at: number | string | null = null;
		if (!(input.at === undefined || input.at === null || input.at === '')) {
			try {
				at = requireTime(input.at, 'signedUpAt');
			} catch {
				at = String(input.at);
			}
		}
		return createHmac('sha256', this.program.salt).update(`sign_up\u0000${JSON.stringify([email ?? null, externalId ?? null, by, at])}`).digest('hex');
	}

	/** Record a referred sign-up: like `enrol`, but a code or a referrer is required. */
	async recordReferral(input: SignUpInput): Promise<SignUpOutcome> {
		const typed = input.referralCode === undefined || input.referralCode === null ? '' : String(input.referralCode).trim();
		if (typed === '' && (input.referrerId === undefined || input.referrerId === null || input.referrerId === '')) {
			throw new EngineError('required', 'A referral needs the referral code the referee used, or the referrer.', { field: 'referralCode' });
		}
		return await this.enrol(input);
	}

	/** The code as stored: generated codes in canonical form, vanity codes in the format's letter case. */
	canonicalCode(value: string): string {
		const format = this.program.generator.format;
		const normalized = normalizeCode(format, value);
		if (normalized.valid && normalized.canonical) return normalized.canonical;
		const trimmed = value.trim();
		return format.lowerCase ? trimmed.toLowerCase() : trimmed.toUpperCase();
	}

	private async recordFor(
		referee: ParticipantRecord,
		created: boolean,
		typedCode: string,
		input: SignUpInput,
		hashes: Hashes,
	): Promise<{ referral: ReferralSummary | null; warnings: Warning[]; assessment?: AssessmentView }> {
		const at = input.at === undefined || input.at === null || input.at === '' ? this.now() : requireTime(input.at, 'signedUpAt');
		const warnings: Warning[] = [];
		let referrerId: number;
		let codeRecord: CodeRecord | null = null;
		if (typedCode !== '') {
			const code = this.canonicalCode(typedCode);
			codeRecord = await this.ledger.lookupCode({ programId: this.programId, code });
			const state = codeRecord === null ? 'unknown' : codeRecord.expiresAt !== null && codeRecord.expiresAt <= at ? 'expired' : codeRecord.state;
			// A code that cannot attribute anything is the documented "no referral, with a warning".
			if (state !== 'active') {
				const reason: ReasonCode = state === 'revoked' ? 'code_revoked' : state === 'unknown' ? 'unknown_code' : 'code_expired';
				const message =
					reason === 'unknown_code'
						? `The referral code "${typedCode.slice(0, 64)}" does not exist in program "${this.programId}".`
						: reason === 'code_revoked'
							? `The referral code "${codeRecord!.code}" was revoked.`
							: state === 'exhausted'
								? `The referral code "${codeRecord!.code}" has reached its maximum number of uses.`
								: `The referral code "${codeRecord!.code}" had expired at sign-up time.`;
				return { referral: null, warnings: [{ code: reason, message }] };
			}
			if (codeRecord!.ownerId === null) {
				return { referral: null, warnings: [{ code: 'unknown_code', message: `The code "${codeRecord!.code}" is a campaign code with no owner; there is no referrer to credit.` }] };
			}
			referrerId = codeRecord!.ownerId;
		} else {
			const referrer = await this.ledger.getParticipant({ programId: this.programId, id: input.referrerId! });
			if (!referrer) throw new EngineError('unknown_participant', `The referrer ${describe(input.referrerId)} is not a participant of program "${this.programId}".`, { field: 'referrerId' });
			referrerId = referrer.id;
		}

		const existing = await this.ledger.findReferralByReferee({ programId: this.programId, refereeId: referee.id });
		if (existing) return await this.repeatArrival(existing, referrerId, at, codeRecord, warnings, { referee, hashes, source: input.source });

		const referrer = await this.ledger.getParticipant({ programId: this.programId, id: referrerId });
		if (!referrer) throw new EngineError('unknown_participant', `The owner of the code is no longer a participant of program "${this.programId}".`, { field: 'referralCode' });
		const referrerCode = codeRecord?.code ?? (await this.codeOf(referrer)).code;
		const assessment = await this.assess(referrer, referee, created, at, hashes, input.existingCustomer === true);
		const target = statusForDecision(assessment.decision);
		const view = assessmentView(assessment);
		// Allowed referrals go straight to pending; flagged and blocked ones pass through `recorded`
		// so the flag or block is a transition of its own, with its event for the trigger.
		const { referral, created: isNew } = await this.ledger.recordReferral({
			programId: this.programId,
			referrerId,
			refereeId: referee.id,
			code: codeRecord?.code,
			source: optionalText(input.source, 'source'),
			touchedAt: at,
			ipHash: hashes.ipHash,
			deviceHash: hashes.deviceHash,
			status: target === 'pending' ? 'pending' : 'recorded',
			reasons: assessment.reasonCodes,
			riskScore: assessment.riskScore,
			metadata: { assessment: view },
		});
		if (!isNew) return await this.repeatArrival(referral, referrerId, at, codeRecord, warnings, { referee, hashes, source: input.source });
		const final = referral.status === 'recorded' ? await this.completeAssessment(referral) : referral;
		return { referral: this.summary(final, referrerCode), warnings, assessment: view };
	}

	/** Moves a `recorded` referral on to the status its stored assessment decided (also after a crash in between). */
	private async completeAssessment(referral: ReferralRecord): Promise<ReferralRecord> {
		const assessment = referral.metadata?.assessment;
		const decision = isRecord(assessment) && (assessment.decision === 'flag' || assessment.decision === 'block') ? assessment.decision : 'allow';
		const to = statusForDecision(decision);
		assertTransition('recorded', to);
		const result = await this.ledger.transitionReferral({
			programId: this.programId,
			referralId: referral.id,
			from: 'recorded',
			to,
			reason: decision === 'allow' ? 'accepted' : referral.reasons.join(', '),
		});
		return result.record;
	}

	private async repeatArrival(
		existing: ReferralRecord,
		referrerId: number,
		at: number,
		codeRecord: CodeRecord | null,
		warnings: Warning[],
		arrival: { referee: ParticipantRecord; hashes: Hashes; source?: unknown },
	): Promise<{ referral: ReferralSummary; warnings: Warning[]; assessment?: AssessmentView }> {
		let current = existing;
		if (current.status === 'recorded') current = await this.completeAssessment(current);
		const referrerCode = await this.referrerCodeOf(current);
		const checks = storedChecks(current);
		const assessment = checks && isRecord(current.metadata.assessment) ? (current.metadata.assessment as unknown as AssessmentView) : undefined;
		if (current.referrerId === referrerId) return { referral: this.summary(current, referrerCode), warnings, assessment };
		const status = parseReferralStatus(current.status);
		const decision = resolveRepeatArrival(
			{ referralId: String(current.id), referrerId: String(current.referrerId), touchedAt: current.touchedAt, status },
			{ referrerId: String(referrerId), touchedAt: at, code: codeRecord?.code },
			this.program.config.attribution,
		);
		if (decision.outcome === 'switch_to_incoming' && REASSIGNABLE.includes(current.status)) {
			// The new referrer must pass the same fraud checks a first arrival would; a blocked one keeps the old referrer.
			const newReferrer = await this.ledger.getParticipant({ programId: this.programId, id: referrerId });
			const assessment = newReferrer ? await this.assess(newReferrer, arrival.referee, false, at, arrival.hashes, false) : undefined;
			if (newReferrer && assessment && assessment.decision !== 'block') {
				const moved = await this.ledger.reassignReferral({
					programId: this.programId,
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
					warnings.push({ code: 'attribution_switched', message: `${decision.reason} Referral ${current.id} now credits the new referrer.` });
					return { referral: this.summary(moved.record, codeRecord?.code ?? (await this.referrerCodeOf(moved.record))), warnings, assessment: assessmentView(assessment) };
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
			warnings.push({ code: 'duplicate_referee', message: `The referee already has referral ${current.id}. ${decision.reason}` });
		}
		return { referral: this.summary(current, referrerCode), warnings };
	}

	private async referrerCodeOf(referral: ReferralRecord): Promise<string | null> {
		if (referral.codeId !== null) {
			const codes = await this.ledger.listCodes({ programId: this.programId, ownerId: referral.referrerId, limit: 100 });
			const used = codes.find((c) => c.id === referral.codeId);
			if (used) return used.code;
		}
		const referrer = await this.ledger.getParticipant({ programId: this.programId, id: referral.referrerId });
		if (!referrer || referrer.erasedAt !== null) return null;
		const codes = await this.ledger.listCodes({ programId: this.programId, ownerId: referral.referrerId, limit: 1 });
		return codes[0]?.code ?? null;
	}

	/** Gathers the fraud checks' inputs from the ledger and runs them under the program's policy. */
	private async assess(
		referrer: ParticipantRecord,
		referee: ParticipantRecord,
		created: boolean,
		at: number,
		hashes: Hashes,
		existingCustomer: boolean,
	): Promise<FraudAssessment> {
		const policy = this.program.config.fraudPolicy;
		const programId = this.programId;
		let sameIpSignUps: NearbySignUp[] = [];
		let sameDeviceSignUps: NearbySignUp[] = [];
		if (hashes.ipHash || hashes.deviceHash) {
			const reach = Math.max(policy.sameIpWindowHours, policy.sameDeviceWindowHours) * HOUR_MS;
			const rows = await this.ledger.referralsBySignal({ programId, ipHash: hashes.ipHash, deviceHash: hashes.deviceHash, since: at - reach, until: at + reach + 1, limit: 1000 });
			const toSignUp = (r: ReferralRecord): NearbySignUp => ({ referralId: String(r.id), referrerId: String(r.referrerId), at: r.touchedAt });
			sameIpSignUps = rows.filter((r) => hashes.ipHash && r.ipHash === hashes.ipHash && r.refereeId !== referee.id).map(toSignUp);
			sameDeviceSignUps = rows.filter((r) => hashes.deviceHash && r.deviceHash === hashes.deviceHash && r.refereeId !== referee.id).map(toSignUp);
		}
		const [lastHour, lastDay] = await Promise.all([
			this.ledger.countReferrals({ programId, referrerId: referrer.id, since: at - HOUR_MS, until: at + 1 }),
			this.ledger.countReferrals({ programId, referrerId: referrer.id, since: at - 24 * HOUR_MS, until: at + 1 }),
		]);
		const graphEdges = await this.pathEdges(referee.id, referrer.id, policy.ringMaxDepth);
		const signal = (p: ParticipantRecord, key: string) => (typeof p.metadata?.[key] === 'string' ? (p.metadata[key] as string) : undefined);
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
					existingCustomer: existingCustomer || (!created && referee.createdAt < at - SAME_SIGNUP_GRACE_MS),
				},
				refereePriorReferrals: [],
				sameIpSignUps,
				sameDeviceSignUps,
				referrerRecent: { lastHour: lastHour.total, lastDay: lastDay.total },
				graphEdges,
			},
			policy,
		);
	}

	/** The referral edges reachable from the referee, hop by hop, stopping once the referrer is reached. */
	private async pathEdges(refereeId: number, referrerId: number, maxDepth: number): Promise<ReferralEdge[]> {
		const edges: ReferralEdge[] = [];
		const seen = new Set<number>([refereeId]);
		let frontier = [refereeId];
		for (let depth = 0; depth < maxDepth && frontier.length > 0; depth++) {
			const rows = await this.ledger.referralEdges({ programId: this.programId, participantIds: frontier, limit: 10_000 });
			const from = new Set(frontier);
			const next: number[] = [];
			for (const e of rows) {
				if (!from.has(e.referrerId) || e.status === 'rejected') continue;
				edges.push({ referrerId: String(e.referrerId), refereeId: String(e.refereeId) });
				if (!seen.has(e.refereeId)) {
					seen.add(e.refereeId);
					next.push(e.refereeId);
				}
			}
			if (seen.has(referrerId)) break;
			frontier = next;
		}
		return edges;
	}

	private summary(referral: ReferralRecord, referrerCode: string | null): ReferralSummary {
		return {
			id: referral.id,
			status: publicStatus(parseReferralStatus(referral.status)),
			referrerCode,
			reasons: [...referral.reasons],
		};
	}

	// ---------------------------------------------------------------- conversions

	private async refereeOf(input: { email?: string; externalId?: string; participantId?: Id }): Promise<ParticipantRecord | null> {
		if (input.participantId !== undefined && input.participantId !== null && input.participantId !== '') {
			return await this.ledger.getParticipant({ programId: this.programId, id: input.participantId });
		}
		const email = input.email === undefined || input.email === null || input.email === '' ? undefined : normaliseEmail(input.email, 'email');
		if (email !== undefined) return await this.ledger.getParticipant({ programId: this.programId, email });
		const externalId = optionalText(input.externalId, 'externalId');
		if (externalId !== undefined) return await this.ledger.getParticipant({ programId: this.programId, externalId });
		throw new EngineError('required', 'email is required (or an external ID, participant ID or referral ID) to find whose order it is.', { field: 'email' });
	}

	/**
	 * A referee's order: qualifies the referral once (idempotent by order id), is held while the
	 * referral is under review, and is ignored for referrals that already qualified.
	 */
	async qualify(input: ConversionInput): Promise<ConversionOutcome> {
		const timed = !(input.at === undefined || input.at === null || input.at === '');
		const conversion = validateConversion({
			orderId: input.orderId,
			amount: input.amount,
			currency: input.currency,
			occurredAt: timed ? input.at : this.now(),
		}, this.program.config.qualification);
		const none = (outcome: string, reason: string): ConversionOutcome => ({ referral: null, qualified: false, outcome, reason, replayed: false, orderId: conversion.orderId });
		let referral: ReferralRecord | null;
		if (input.referralId !== undefined && input.referralId !== null && input.referralId !== '') {
			referral = await this.ledger.getReferral({ programId: this.programId, id: input.referralId });
			if (!referral) throw new EngineError('unknown_referral', `Referral ${describe(input.referralId)} is not in program "${this.programId}".`, { field: 'referralId' });
		} else {
			const referee = await this.refereeOf(input);
			if (!referee) return none('not_a_participant', 'Nobody with this email is enrolled in the program.');
			referral = await this.ledger.findReferralByReferee({ programId: this.programId, refereeId: referee.id });
			if (!referral) return none('not_referred', 'The customer was not referred.');
		}
		if (referral.status === 'recorded') referral = await this.completeAssessment(referral);
		const status = parseReferralStatus(referral.status);
		const verdict = qualificationFor(status, referral.touchedAt, conversion, this.program.config.qualification);
		if (verdict.outcome === 'hold') {
			// Kept as an event, not a conversion row, so approval can still qualify with this order id.
			// Only what the caller sent goes in: an order without a time is dated by the event's own
			// creation (the first arrival), so the server's clock never enters the request's fingerprint.
			const payload = { referralId: referral.id, orderId: conversion.orderId, amount: conversion.amount, currency: conversion.currency, ...(timed ? { occurredAt: conversion.occurredAt } : {}) };
			let replayed: boolean;
			try {
				({ replayed } = await this.ledger.appendEvent({ programId: this.programId, type: HELD_EVENT, payload, idempotencyKey: `conversion_held:${referral.id}:${conversion.orderId}` }));
			} catch (error) {
				if (!(error instanceof EngineError && error.code === 'idempotency_key_reused')) throw error;
				const held = await this.heldConversion(referral.id, conversion.orderId);
				if (held) orderConflict(conversion.orderId, held, conversion.amount, conversion.currency);
				throw error;
			}
			return { referral: { id: referral.id, status: publicStatus(status) }, qualified: false, outcome: 'held', reason: verdict.reason, replayed, orderId: conversion.orderId };
		}
		// An order held under review answers "held" again whatever the review decided (a rejection
		// writes no order row, so that replay is caught here; an approval's is caught below).
		if (status === 'rejected') {
			const again = await this.heldReplay(referral.id, conversion);
			if (again) return again;
		}
		const result = await this.ledger.qualifyReferral({
			programId: this.programId,
			referralId: referral.id,
			orderId: conversion.orderId,
			amount: conversion.amount,
			currency: conversion.currency,
			occurredAt: conversion.occurredAt,
			fromStatuses: verdict.outcome === 'qualify' ? ['pending', 'approved'] : NO_STATUS,
			toStatus: 'qualified',
			reason: `order ${conversion.orderId}`,
		});
		const view = { id: result.referral.id, status: publicStatus(parseReferralStatus(result.referral.status)) };
		if (result.replayed) {
			// The same order again answers like its first request, from what the ledger stored with the
			// order (the referral's status then; the order's own time), whatever the referral did since.
			// An order first held under review, which its approval then qualified, answered "held".
			const held = await this.heldReplay(result.referral.id, conversion);
			if (held) return held;
			const then = result.conversion.referralStatus;
			if (then === null) {
				return { referral: view, qualified: result.qualified, outcome: 'replayed', reason: 'This order was already recorded; nothing changed.', replayed: true, orderId: conversion.orderId };
			}
			const status = parseReferralStatus(then);
			const stored = { ...conversion, occurredAt: result.conversion.occurredAt };
			const first = qualificationFor(status, result.referral.touchedAt, stored, this.program.config.qualification);
			const id = result.referral.id;
			if (result.qualified) return { referral: { id, status: 'qualified' }, qualified: true, outcome: 'qualified', reason: first.reason, replayed: true, orderId: conversion.orderId };
			const reason = first.outcome === 'ignore' ? first.reason : `The referral is ${then}; it cannot qualify.`;
			return { referral: { id, status: publicStatus(status) }, qualified: false, outcome: 'ignored', reason, replayed: true, orderId: conversion.orderId };
		}
		if (result.qualified) return { referral: view, qualified: true, outcome: 'qualified', reason: verdict.reason, replayed: false, orderId: conversion.orderId };
		const reason = verdict.outcome === 'ignore' ? verdict.reason : `The referral is ${result.referral.status}; it cannot qualify.`;
		return { referral: view, qualified: false, outcome: 'ignored', reason, replayed: false, orderId: conversion.orderId };
	}

	// ---------------------------------------------------------------- review and reversal

	private async requireReferral(referralId: Id | undefined): Promise<ReferralRecord> {
		if (referralId === undefined || referralId === null || referralId === '') {
			throw new EngineError('required', 'The referral ID is empty; give the ID of the referral to change.', { field: 'referralId' });
		}
		const referral = await this.ledger.getReferral({ programId: this.programId, id: referralId });
		if (!referral) throw new EngineError('unknown_referral', `Referral ${describe(referralId)} is not in program "${this.programId}".`, { field: 'referralId' });
		return referral;
	}

	/**
	 * One checked step: the lifecycle says whether from → to is legal (an illegal one throws
	 * `illegal_transition`), the ledger's compare-and-set makes it happen once. Asking for the
	 * status the referral already has is a replay, not an error.
	 */
	private async move(referral: ReferralRecord, to: ReferralStatus, reason: string, reasons?: string[]): Promise<{ record: ReferralRecord; changed: boolean }> {
		const from = parseReferralStatus(referral.status);
		if (from === to) return { record: referral, changed: false };
		assertTransition(from, to);
		const result = await this.ledger.transitionReferral({ programId: this.programId, referralId: referral.id, from, to, reason, reasons });
		if (!result.transitioned) {
			if (result.status === to) return { record: result.record, changed: false };
			throw new EngineError('status_changed', `Referral ${referral.id} changed from "${from}" to "${result.status}" meanwhile; read it again and retry.`, {
				field: 'referralId',
				details: { from, now: result.status },
			});
		}
		return { record: result.record, changed: true };
	}

	/**
	 * The answer an order held under review got, for a replay of it (null when this order was not
	 * held); the same order id with another amount or currency is a conflict naming orderId.
	 */
	private async heldReplay(referralId: number, conversion: { orderId: string; amount: number; currency: string }): Promise<ConversionOutcome | null> {
		const held = await this.heldConversion(referralId, conversion.orderId);
		if (!held) return null;
		orderConflict(conversion.orderId, held, conversion.amount, conversion.currency);
		return { referral: { id: referralId, status: publicStatus('flagged') }, qualified: false, outcome: 'held', reason: HELD_FOR_REVIEW, replayed: true, orderId: conversion.orderId };
	}

	/** The order held while the referral was under review (the first, or the one with this order id); dated by its arrival when the order had no time. */
	private async heldConversion(referralId: number, orderId?: string): Promise<{ orderId: string; amount: number; currency: string; occurredAt: number } | null> {
		let afterId = 0;
		for (;;) {
			const page = await this.ledger.readEvents({ afterId, types: [HELD_EVENT], programId: this.programId, limit: 1000 });
			const found = page.events.find((e) => e.payload.referralId === referralId && (orderId === undefined || e.payload.orderId === orderId));
			if (found) {
				const held = found.payload as unknown as { orderId: string; amount: number; currency: string; occurredAt?: number };
				return { ...held, occurredAt: held.occurredAt ?? found.createdAt };
			}
			if (page.events.length < 1000) return null;
			afterId = page.cursor;
		}
	}

	/** A reviewer clears a flagged referral: back to pending, or straight to qualified when its order arrived meanwhile. */
	async approve(referralId: Id, note?: string): Promise<TransitionOutcome> {
		const referral = await this.requireReferral(referralId);
		const from = parseReferralStatus(referral.status);
		if (from !== 'flagged' && from !== 'approved') {
			// Already approved and moved on is a replay: it answers like the approval did; anything else is not reviewable.
			if ((from === 'pending' || from === 'qualified' || from === 'rewarded') && (await this.reviewStep(referral.id, 'approved'))) return await this.approvalAnswer(referral, null);
			assertTransition(from, 'approved');
		}
		let step: { record: ReferralRecord; changed: boolean };
		try {
			step = await this.move(referral, 'approved', note || 'approved by reviewer');
		} catch (error) {
			// A racing copy of this request approved it and moved it on meanwhile: answer like it.
			if (error instanceof EngineError && error.code === 'status_changed' && (await this.reviewStep(referral.id, 'approved'))) return await this.approvalAnswer(await this.requireReferral(referral.id), null);
			throw error;
		}
		const held = await this.heldConversion(referral.id);
		const next = afterApproval(held !== null);
		let record = step.record;
		if (held) {
			const result = await this.ledger.qualifyReferral({
				programId: this.programId,
				referralId: referral.id,
				orderId: held.orderId,
				amount: held.amount,
				currency: held.currency,
				occurredAt: held.occurredAt,
				fromStatuses: ['approved'],
				toStatus: 'qualified',
				reason: `order ${held.orderId} (held for review)`,
			});
			record = result.referral;
		} else if (parseReferralStatus(record.status) === 'approved') {
			record = (await this.move(record, next, 'resumed after approval')).record;
		}
		return await this.approvalAnswer(record, step.changed ? from : null);
	}

	/** The approval's answer: `from` when this call approved, else (a replay) as the history has it. */
	private async approvalAnswer(record: ReferralRecord, from: ReferralStatus | null): Promise<TransitionOutcome> {
		const step = from === null ? await this.reviewStep(record.id, 'approved') : { from };
		const held = await this.heldConversion(record.id);
		const reason = held ? `Approved; order ${held.orderId} arrived during review, so it qualified.` : 'Approved; waiting for the referee\'s order.';
		if (!step) return { referral: await this.detail(record), changed: false, from: parseReferralStatus(record.status), reason: 'The referral was already approved.', replayed: true };
		return { referral: await this.detail(record), changed: true, from: step.from, reason, replayed: from === null };
	}

	/**
	 * The reviewer's step to `to` as the referral's history has it (the last one; steps the sign-up's
	 * fraud check made from `recorded` are not a reviewer's): what a replay of the request answers from.
	 */
	private async reviewStep(referralId: number, to: ReferralStatus): Promise<{ from: ReferralStatus } | null> {
		const history = await this.ledger.referralHistory({ programId: this.programId, referralId });
		for (let i = history.length - 1; i >= 0; i--) {
			const h = history[i];
			if (h.to === to && h.from !== null && h.from !== 'recorded') return { from: parseReferralStatus(h.from) };
		}
		return null;
	}

	/** Reject and Flag for Review: one checked step; a replay (also a racing copy) answers like the call that made it. */
	private async review(referralId: Id, to: 'rejected' | 'flagged', note: string, done: string, already: string): Promise<TransitionOutcome> {
		const referral = await this.requireReferral(referralId);
		const from = parseReferralStatus(referral.status);
		const step = await this.move(referral, to, note);
		if (step.changed) return { referral: await this.detail(step.record), changed: true, from, reason: done, replayed: false };
		const earlier = await this.reviewStep(referral.id, to);
		if (earlier) return { referral: await this.detail(step.record), changed: true, from: earlier.from, reason: done, replayed: true };
		return { referral: await this.detail(step.record), changed: false, from, reason: already, replayed: true };
	}

	async reject(referralId: Id, note?: string): Promise<TransitionOutcome> {
		return await this.review(referralId, 'rejected', note || 'rejected by reviewer', 'Rejected.', 'The referral was already rejected.');
	}

	async flag(referralId: Id, note?: string): Promise<TransitionOutcome> {
		return await this.review(referralId, 'flagged', note || 'flagged for review', 'Held for review.', 'The referral was already flagged.');
	}

	/**
	 * A refund or cancellation: ONE operation decides what it reverses and writes it in ONE ledger
	 * transaction (see refund.ts): nothing for a refund of 0, the referral and all its per-referral
	 * rewards together when the refund policy says so, else only percent-of-order rewards scaled to
	 * what is left. A replay answers like the first call.
	 */
	async reverse(input: RefundInput): Promise<RefundOutcome> {
		return await refundReferral(this.refundContext(), input);
	}

	private refundContext(): RefundContext {
		return {
			ledger: this.ledger,
			programId: this.programId,
			refundPolicy: this.program.config.refundPolicy,
			minOrderAmount: this.program.config.qualification.minOrderAmount,
			detail: (referral) => this.detail(referral),
			requireReferral: (id) => this.requireReferral(id),
		};
	}

	// ---------------------------------------------------------------- reading

	async detail(referral: ReferralRecord, withHistory = false): Promise<ReferralDetail> {
		const status = parseReferralStatus(referral.status);
		const out: ReferralDetail = {
			...this.summary(referral, await this.referrerCodeOf(referral)),
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
			const history = await this.ledger.referralHistory({ programId: this.programId, referralId: referral.id });
			out.history = history.map((h) => ({ from: h.from, to: h.to, reason: h.reason, at: iso(h.at)! }));
		}
		return out;
	}

	async getReferral(referralId: Id): Promise<ReferralDetail> {
		return await this.detail(await this.requireReferral(referralId), true);
	}

	/** Referrals by filters; a public status (pending) covers the internal ones behind it (recorded, pending, approved). */
	async listReferrals(filter: { status?: string; referrerId?: Id; refereeId?: Id; since?: number | string; until?: number | string; afterId?: Id; limit?: number }): Promise<ReferralDetail[]> {
		const limit = filter.limit ?? 100;
		let statuses: Array<string | undefined> = [undefined];
		if (filter.status) {
			const wanted = filter.status.trim().toLowerCase();
			const isPublic = (PUBLIC_REFERRAL_STATUSES as readonly string[]).includes(wanted);
			statuses = isPublic ? internalStatusesFor(wanted as PublicReferralStatus) : [parseReferralStatus(wanted)];
		}
		const pages = await Promise.all(
			statuses.map((status) =>
				this.ledger.listReferrals({
					programId: this.programId,
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
		const rows = pages.flat().sort((a, b) => a.id - b.id).slice(0, limit);
		return await Promise.all(rows.map((r) => this.detail(r)));
	}

	// ---------------------------------------------------------------- participants

	private async requireParticipant(query: { email?: string; externalId?: string; participantId?: Id }): Promise<ParticipantRecord> {
		const participant = await this.refereeOf(query);
		if (!participant) throw new EngineError('unknown_participant', `No participant of program "${this.programId}" matches.`, { field: query.participantId ? 'participantId' : query.email ? 'email' : 'externalId' });
		return participant;
	}

	/** The participant with their code and standing: referrals, qualified ones, points, tier, badges and leaderboard rank. */
	async getParticipant(query: { email?: string; externalId?: string; participantId?: Id }): Promise<{ participant: ParticipantView; stats: ParticipantStats }> {
		const participant = await this.requireParticipant(query);
		const codes = await this.ledger.listCodes({ programId: this.programId, ownerId: participant.id, limit: 1 });
		const programId = this.programId;
		const [counts, points, rewards, board] = await Promise.all([
			this.ledger.countReferrals({ programId, referrerId: participant.id }),
			this.ledger.pointsBalance({ programId, participantId: participant.id }),
			this.ledger.listRewards({ programId, recipientId: participant.id, limit: 10_000 }),
			this.ledger.leaderboard({ programId, by: 'qualifiedReferrals', excludeStatuses: ['reversed'], limit: 10_000 }),
		]);
		const by = counts.byStatus;
		const kept = rewards.filter((r) => r.status !== 'reversed');
		const label = (r: (typeof rewards)[number], key: string) => (typeof r.metadata?.[key] === 'string' ? (r.metadata[key] as string) : r.rule);
		const tiers = kept.filter((r) => r.kind === 'tier');
		return {
			participant: this.participantView(participant, codes[0]?.code ?? null),
			stats: {
				referrals: counts.total,
				qualified: (by.qualified ?? 0) + (by.rewarded ?? 0),
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
	async privateLink(
		query: { email?: string; externalId?: string; participantId?: Id },
		options: { baseUrl: unknown; secrets: LinkSecrets; validDays?: unknown; now?: number },
	): Promise<PrivateLinkView>;
	/** With `ifNotEnrolled: 'null'`: null for nobody enrolled, instead of `unknown_participant`. */
	async privateLink(
		query: { email?: string; externalId?: string; participantId?: Id },
		options: { baseUrl: unknown; secrets: LinkSecrets; validDays?: unknown; now?: number; ifNotEnrolled: 'null' | 'error' },
	): Promise<PrivateLinkView | null>;
	async privateLink(
		query: { email?: string; externalId?: string; participantId?: Id },
		options: { baseUrl: unknown; secrets: LinkSecrets; validDays?: unknown; now?: number; ifNotEnrolled?: 'null' | 'error' },
	): Promise<PrivateLinkView | null> {
		checkLinkOptions(options);
		const found = options.ifNotEnrolled === 'null' ? await this.refereeOf(query) : await this.requireParticipant(query);
		if (!found) return null;
		const participant = found;
		const link = participantLink({ ...options, programId: this.programId, participantId: participant.id });
		return { ...link, participantId: participant.id, email: participant.email, name: participant.name, greetingName: greetingName(participant.name) };
	}

	/** getParticipant for the holder of a private status link; `invalid_link` (field token) when it is forged, altered, expired or of another program. */
	async getParticipantByLink(token: unknown, options: { secrets: LinkSecrets; now?: number }): Promise<{ participant: ParticipantView; stats: ParticipantStats; link: { expiresAt: string } }> {
		const { participantId, expiresAt } = verifyParticipantLink(token, { ...options, programId: this.programId });
		return { ...(await this.getParticipant({ participantId })), link: { expiresAt } };
	}

	async updateParticipant(query: { email?: string; externalId?: string; participantId?: Id }, changes: IdentityInput): Promise<ParticipantView> {
		const participant = await this.requireParticipant(query);
		const update: Parameters<LedgerStore['updateParticipant']>[0] = { programId: this.programId, participantId: participant.id };
		if (changes.email !== undefined && changes.email !== '') update.email = normaliseEmail(changes.email, 'newEmail');
		if (changes.externalId !== undefined && changes.externalId !== '') update.externalId = requireText(changes.externalId, 'newExternalId');
		if (changes.name !== undefined && changes.name !== '') update.name = requireText(changes.name, 'name');
		if (changes.phone !== undefined && changes.phone !== '') update.phone = requireText(changes.phone, 'phone', 32);
		if (changes.metadata !== undefined) {
			if (!isRecord(changes.metadata)) throw new EngineError('invalid_object', 'metadata must be an object.', { field: 'metadata' });
			// The sign-up hashes stay: they are the fraud checks' memory, not the user's metadata.
			const kept = Object.fromEntries(Object.entries(participant.metadata).filter(([k]) => k === 'signupIpHash' || k === 'signupDeviceHash' || k === 'signupUserAgentHash' || k === 'signUpKey'));
			update.metadata = { ...changes.metadata, ...kept };
		}
		const { participant: updated } = await this.ledger.updateParticipant(update);
		const codes = await this.ledger.listCodes({ programId: this.programId, ownerId: updated.id, limit: 1 });
		return this.participantView(updated, codes[0]?.code ?? null);
	}

	async listParticipants(filter: { afterId?: Id; limit?: number; createdSince?: number | string; createdUntil?: number | string }): Promise<ParticipantView[]> {
		const rows = await this.ledger.listParticipants({
			programId: this.programId,
			afterId: filter.afterId === '' ? undefined : filter.afterId,
			limit: filter.limit,
			createdSince: filter.createdSince === '' ? undefined : filter.createdSince,
			createdUntil: filter.createdUntil === '' ? undefined : filter.createdUntil,
		});
		return rows.map((p) => this.participantView(p, null));
	}

	/** GDPR erasure: personal data and ip/device hashes go, referrals, points and counts stay. */
	async eraseParticipant(query: { email?: string; externalId?: string; participantId?: Id }): Promise<{ participantId: number; erased: true; erasedAt: string }> {
		const participant = await this.requireParticipant(query);
		const { participant: erased } = await this.ledger.eraseParticipant({ programId: this.programId, participantId: participant.id });
		this.codeCache.delete(participant.id);
		return { participantId: erased.id, erased: true, erasedAt: iso(erased.erasedAt)! };
	}
}

export interface ParticipantStats {
	referrals: number;
	qualified: number;
	points: number;
	tier: string | null;
	badges: string[];
	rank: number | null;
}
