import { emailDomain, isValidEmail, mailboxKey } from '../shared/email';
import { HOUR_MS } from '../shared/time';
import { disposableDomainOf, type DisposableOptions } from './disposable';
import type { ReasonCode, ReferralStatus } from './lifecycle';
import type { FraudCheck, FraudFinding, FraudPolicy } from './fraudPolicy';

/**
 * The individual fraud checks and the plain data they look at. Each returns a finding or null;
 * fraud.ts (assessReferral) runs the enabled ones and adds up their scores.
 */

// Input: plain data the service fetched. Ip and device values are HMAC hashes (see hashIdentifier).

export interface PartyIdentity {
	/** Participant id, when the person is already enrolled. */
	id?: string;
	email?: string;
	/** Full name as entered; compared case-, accent- and spacing-insensitively. */
	name?: string;
	ipHash?: string;
	/** Hash of an explicit device id (the page's fingerprint or a first-party cookie id), never of the user agent. */
	deviceHash?: string;
	/**
	 * Hash of the browser's user agent: a weak signal. Thousands of strangers share one browser
	 * version, so it never fires a check on its own; it only adds `userAgentWeight` to a `same_ip`
	 * finding against the referrer.
	 */
	userAgentHash?: string;
}

/** What a matching user agent adds to a same-ip finding against the referrer (never a finding by itself). */
export const USER_AGENT_WEIGHT = 10;

export interface NearbySignUp {
	referralId?: string;
	referrerId?: string;
	/** When that sign-up happened (epoch ms). */
	at: number;
}

export interface PriorReferral {
	referralId: string;
	referrerId: string;
	status: ReferralStatus;
}

export interface ReferralEdge {
	referrerId: string;
	refereeId: string;
}

export interface CodeState {
	status: 'active' | 'expired' | 'revoked' | 'exhausted' | 'unknown';
	expiresAt?: number;
}

export interface FraudInput {
	/** The referral being assessed, so it is not counted against itself. */
	referralId?: string;
	/** Sign-up time (epoch ms). */
	at: number;
	referrer: PartyIdentity & { id: string };
	referee: PartyIdentity & {
		/** The referee was already a customer before this referral (signed up or bought earlier). */
		existingCustomer?: boolean;
	};
	/** The code used, when the referral came by code; null when the code was not found. */
	code?: CodeState | null;
	/** Other referrals of the same referee in this program. */
	refereePriorReferrals?: PriorReferral[];
	/** Other sign-ups whose ip hash equals the referee's. */
	sameIpSignUps?: NearbySignUp[];
	/** Other sign-ups whose device hash equals the referee's. */
	sameDeviceSignUps?: NearbySignUp[];
	/** The referrer's referrals recorded in the last hour and day, not counting this one. */
	referrerRecent?: { lastHour: number; lastDay: number };
	/** Referral edges around the pair (the service loads a few hops out from the referee). */
	graphEdges?: ReferralEdge[];
}

function fired(
	check: FraudCheck,
	reason: ReasonCode,
	policy: FraudPolicy,
	detail: string,
): FraudFinding {
	return { check, reason, score: policy.checks[check].weight, detail };
}

function normalizeName(name: string | undefined): string {
	if (!name) return '';
	return name
		.normalize('NFKD')
		.replace(/\p{M}/gu, '')
		.toLowerCase()
		.replace(/[^\p{L}\p{N}]+/gu, ' ')
		.trim();
}

function canonicalOrNull(email: string | undefined, policy: FraudPolicy): string | null {
	if (!email || !isValidEmail(email)) return null;
	return mailboxKey(email, { stripTagsForAllDomains: policy.stripTagsForAllDomains });
}

/** Referrer and referee are one person: same id, same mailbox, or same name at the same email domain. */
export function checkSelfReferral(input: FraudInput, policy: FraudPolicy): FraudFinding | null {
	const { referrer, referee } = input;
	if (referee.id && referee.id === referrer.id) {
		return fired(
			'self_referral',
			'self_referral',
			policy,
			'The referee is the referrer (same participant id).',
		);
	}
	const a = canonicalOrNull(referrer.email, policy);
	const b = canonicalOrNull(referee.email, policy);
	if (a && b && a === b) {
		return fired(
			'self_referral',
			'self_referral',
			policy,
			'Referrer and referee emails reach the same mailbox (after ignoring case, dots and +tags where the provider does).',
		);
	}
	const nameA = normalizeName(referrer.name);
	const nameB = normalizeName(referee.name);
	if (nameA && nameA === nameB && a && b && emailDomain(a) === emailDomain(b)) {
		return fired(
			'self_referral',
			'self_referral',
			policy,
			'Referrer and referee have the same name and the same email domain.',
		);
	}
	return null;
}

const CONVERTED: ReadonlySet<ReferralStatus> = new Set(['qualified', 'reversed']);

/**
 * The referee is not a new customer: already a customer before, or already converted through
 * another referral. (A referee arriving twice while still pending is an attribution question,
 * see attribution.ts, not fraud.)
 */
export function checkDuplicateReferee(input: FraudInput, policy: FraudPolicy): FraudFinding | null {
	if (input.referee.existingCustomer === true) {
		return fired(
			'duplicate_referee',
			'duplicate_referee',
			policy,
			'The referee was already a customer before this referral.',
		);
	}
	const converted = (input.refereePriorReferrals ?? []).filter(
		(r) => r.referralId !== input.referralId && CONVERTED.has(r.status),
	);
	if (converted.length > 0) {
		return fired(
			'duplicate_referee',
			'duplicate_referee',
			policy,
			`The referee already converted through referral ${converted[0].referralId} (${converted[0].status}).`,
		);
	}
	return null;
}

export function checkDisposableEmail(input: FraudInput, policy: FraudPolicy): FraudFinding | null {
	const email = input.referee.email;
	if (!email || !isValidEmail(email)) return null;
	const options: DisposableOptions = policy.disposable;
	const listed = disposableDomainOf(emailDomain(email), options);
	if (!listed) return null;
	return fired(
		'disposable_email',
		'disposable_email',
		policy,
		`The referee's email domain is a disposable-email service (${listed}).`,
	);
}

function nearby(
	signUps: NearbySignUp[] | undefined,
	input: FraudInput,
	windowHours: number,
): NearbySignUp[] {
	const windowMs = windowHours * HOUR_MS;
	return (signUps ?? [])
		.filter((s) => s.referralId === undefined || s.referralId !== input.referralId)
		.filter((s) => Math.abs(s.at - input.at) <= windowMs);
}

function sameValue(a: string | undefined, b: string | undefined): boolean {
	return typeof a === 'string' && a !== '' && a === b;
}

/**
 * The referee signed up from the referrer's ip, or from an ip already used by other sign-ups in the
 * window. The same browser (user agent) as the referrer strengthens a same-ip finding a little; it
 * never fires one.
 */
export function checkSameIp(input: FraudInput, policy: FraudPolicy): FraudFinding | null {
	if (sameValue(input.referrer.ipHash, input.referee.ipHash)) {
		const finding = fired(
			'same_ip',
			'same_ip',
			policy,
			'The referee signed up from the same ip address as the referrer.',
		);
		if (sameValue(input.referrer.userAgentHash, input.referee.userAgentHash)) {
			finding.score = Math.min(100, finding.score + USER_AGENT_WEIGHT);
			finding.detail =
				'The referee signed up from the same ip address as the referrer, with the same browser (user agent).';
		}
		return finding;
	}
	const others = nearby(input.sameIpSignUps, input, policy.sameIpWindowHours);
	if (others.length > policy.sameIpAllowed) {
		return fired(
			'same_ip',
			'same_ip',
			policy,
			`${others.length} other sign-up(s) came from the same ip address within ${policy.sameIpWindowHours} h (allowed: ${policy.sameIpAllowed}).`,
		);
	}
	return null;
}

/**
 * Like same ip, for an explicit device id (the page's fingerprint or a first-party cookie id the
 * sign-up carried in *Device ID Field*). The user agent is not a device: it never counts here.
 */
export function checkSameDevice(input: FraudInput, policy: FraudPolicy): FraudFinding | null {
	if (sameValue(input.referrer.deviceHash, input.referee.deviceHash)) {
		return fired(
			'same_device',
			'same_device',
			policy,
			'The referee signed up from the same device as the referrer (same device id).',
		);
	}
	const others = nearby(input.sameDeviceSignUps, input, policy.sameDeviceWindowHours);
	if (others.length > policy.sameDeviceAllowed) {
		return fired(
			'same_device',
			'same_device',
			policy,
			`${others.length} other sign-up(s) came from the same device id within ${policy.sameDeviceWindowHours} h (allowed: ${policy.sameDeviceAllowed}).`,
		);
	}
	return null;
}

/** The referrer records more referrals per hour or day than the policy allows (this one included). */
export function checkVelocity(input: FraudInput, policy: FraudPolicy): FraudFinding | null {
	if (!input.referrerRecent) return null;
	const hour = input.referrerRecent.lastHour + 1;
	const day = input.referrerRecent.lastDay + 1;
	if (hour > policy.velocityPerHour) {
		return fired(
			'velocity',
			'velocity',
			policy,
			`The referrer recorded ${hour} referrals within an hour (limit ${policy.velocityPerHour}).`,
		);
	}
	if (day > policy.velocityPerDay) {
		return fired(
			'velocity',
			'velocity',
			policy,
			`The referrer recorded ${day} referrals within a day (limit ${policy.velocityPerDay}).`,
		);
	}
	return null;
}

/**
 * A path referee → … → referrer in the existing referral graph, so the new edge referrer → referee
 * closes a cycle (A→B→A, A→B→C→A, …). Breadth-first, so the shortest ring is reported; bounded by
 * `maxDepth` edges. Returns the ring as participant ids starting and ending with the referrer.
 */
export function findRing(
	edges: readonly ReferralEdge[],
	referrerId: string,
	refereeId: string,
	maxDepth: number,
): string[] | null {
	if (referrerId === refereeId) return null;
	const next = new Map<string, string[]>();
	for (const e of edges) {
		const list = next.get(e.referrerId);
		if (list) list.push(e.refereeId);
		else next.set(e.referrerId, [e.refereeId]);
	}
	const parent = new Map<string, string | null>([[refereeId, null]]);
	let frontier = [refereeId];
	for (let depth = 1; depth <= maxDepth && frontier.length > 0; depth++) {
		const upcoming: string[] = [];
		for (const node of frontier) {
			for (const child of next.get(node) ?? []) {
				if (parent.has(child)) continue;
				parent.set(child, node);
				if (child === referrerId) {
					const path: string[] = [];
					for (let at: string | null = child; at !== null; at = parent.get(at) ?? null)
						path.unshift(at);
					return [referrerId, ...path];
				}
				upcoming.push(child);
			}
		}
		frontier = upcoming;
	}
	return null;
}

export function checkRing(input: FraudInput, policy: FraudPolicy): FraudFinding | null {
	const refereeId = input.referee.id;
	if (!refereeId || !input.graphEdges?.length) return null;
	const ring = findRing(input.graphEdges, input.referrer.id, refereeId, policy.ringMaxDepth);
	if (!ring) return null;
	return fired(
		'ring',
		'ring',
		policy,
		`This referral closes a referral ring of ${ring.length - 1} participants: ${ring.join(' → ')}.`,
	);
}

/** A code that is unknown, revoked, expired or used up cannot attribute a referral. */
export function checkCode(code: CodeState | null | undefined, at: number): FraudFinding | null {
	if (code === undefined) return null;
	const hard = (reason: ReasonCode, detail: string): FraudFinding => ({
		check: 'code',
		reason,
		score: 0,
		detail,
		hard: true,
	});
	if (code === null || code.status === 'unknown')
		return hard('unknown_code', 'The referral code does not exist in this program.');
	if (code.status === 'revoked') return hard('code_revoked', 'The referral code was revoked.');
	if (code.status === 'expired' || (code.expiresAt !== undefined && code.expiresAt <= at)) {
		return hard('code_expired', 'The referral code had expired at sign-up time.');
	}
	// Used up counts as expired publicly: the contract has no separate reason for it.
	if (code.status === 'exhausted')
		return hard('code_expired', 'The referral code has reached its maximum number of uses.');
	return null;
}
