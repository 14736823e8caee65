import { createHmac } from 'node:crypto';

import { EngineError } from '../shared/errors';
import { emailDomain, isValidEmail, mailboxKey } from '../shared/email';
import { disposableDomainOf, type DisposableOptions } from './disposable';
import type { ReasonCode, ReferralStatus } from './lifecycle';
import {
	describe,
	isRecord,
	requireInteger,
	requireRange,
	requireRecord,
	requireText,
	requireTime,
} from '../shared/guards';
import { HOUR_MS } from '../shared/time';

/**
 * Explainable fraud checks for one referral. Each check is a small named function that looks at
 * plain data the service fetched from the ledger and returns a finding (check, reason code, score
 * contribution, a sentence saying why) or null. `assessReferral` adds the contributions into a
 * 0–100 risk score and the program's policy turns it into allow, flag or block.
 *
 * Code problems (unknown, expired, revoked) are not risk: a referral without a usable code cannot
 * be attributed, so they always block, whatever the weights.
 */

export const FRAUD_CHECKS = [
	'self_referral',
	'duplicate_referee',
	'disposable_email',
	'same_ip',
	'same_device',
	'velocity',
	'ring',
] as const;
export type FraudCheck = (typeof FRAUD_CHECKS)[number];

export type FraudDecision = 'allow' | 'flag' | 'block';

export interface FraudFinding {
	check: FraudCheck | 'code';
	/** The public reason code (each check reports its own; code problems report the code's). */
	reason: ReasonCode;
	/** Contribution to the risk score (the check's weight). */
	score: number;
	/** One sentence a reviewer can act on. Holds ids and counts, never raw personal data. */
	detail: string;
	/** Blocks regardless of score (code problems). */
	hard?: boolean;
}

export interface CheckSetting {
	enabled: boolean;
	/** Score contribution 0–100 when the check fires. */
	weight: number;
}

export interface FraudPolicy {
	checks: Record<FraudCheck, CheckSetting>;
	/** Risk score at or above which a referral is held for review. */
	flagThreshold: number;
	/** Risk score at or above which a referral is rejected. */
	blockThreshold: number;
	/** How close in time (either side) another sign-up from the same ip hash counts. */
	sameIpWindowHours: number;
	/** How many other sign-ups from one ip hash in the window are tolerated (offices, dorms, cafés share ips). */
	sameIpAllowed: number;
	sameDeviceWindowHours: number;
	sameDeviceAllowed: number;
	/** Most referrals one referrer may record in any hour / day, this one included. */
	velocityPerHour: number;
	velocityPerDay: number;
	/** Longest chain (in referrals) searched from the referee back to the referrer; a ring has one participant more. */
	ringMaxDepth: number;
	/** Fold `+tag` for every domain when comparing emails, not only for documented providers. */
	stripTagsForAllDomains: boolean;
	disposable: { extraDomains: string[]; allowDomains: string[] };
}

export type FraudPolicyInput = Partial<Omit<FraudPolicy, 'checks' | 'disposable'>> & {
	checks?: Partial<Record<FraudCheck, Partial<CheckSetting>>>;
	disposable?: Partial<FraudPolicy['disposable']>;
};

/** Defaults: certain self-referrals and repeat customers block; softer signals flag for review. */
export const DEFAULT_FRAUD_POLICY: FraudPolicy = Object.freeze({
	checks: Object.freeze({
		self_referral: { enabled: true, weight: 100 },
		duplicate_referee: { enabled: true, weight: 100 },
		disposable_email: { enabled: true, weight: 40 },
		same_ip: { enabled: true, weight: 30 },
		same_device: { enabled: true, weight: 50 },
		velocity: { enabled: true, weight: 40 },
		ring: { enabled: true, weight: 60 },
	}),
	flagThreshold: 30,
	blockThreshold: 80,
	sameIpWindowHours: 24,
	sameIpAllowed: 0,
	sameDeviceWindowHours: 24 * 7,
	sameDeviceAllowed: 0,
	velocityPerHour: 10,
	velocityPerDay: 50,
	ringMaxDepth: 6,
	stripTagsForAllDomains: false,
	disposable: Object.freeze({ extraDomains: [], allowDomains: [] }),
});

const VALIDATED = new WeakSet<object>();

/** Checks a policy from the node form and fills in defaults. Throws `invalid_fraud_policy` naming the field. */
export function validateFraudPolicy(input: unknown = {}): FraudPolicy {
	const raw = input === undefined || input === null ? {} : requireRecord(input, 'fraudPolicy');
	const fail = (field: string, message: string): never => {
		throw new EngineError('invalid_fraud_policy', message, { field });
	};
	const wrap = <T>(fn: () => T, field: string): T => {
		try {
			return fn();
		} catch (error) {
			if (error instanceof EngineError) fail(field, error.message);
			throw error;
		}
	};
	const pick = <K extends keyof FraudPolicy>(key: K): FraudPolicy[K] =>
		(raw[key] === undefined ? DEFAULT_FRAUD_POLICY[key] : raw[key]) as FraudPolicy[K];

	const checks = {} as Record<FraudCheck, CheckSetting>;
	const rawChecks =
		raw.checks === undefined ? {} : wrap(() => requireRecord(raw.checks, 'checks'), 'checks');
	for (const key of Object.keys(rawChecks)) {
		if (!(FRAUD_CHECKS as readonly string[]).includes(key)) {
			fail(
				'checks',
				`checks has an unknown check "${key}"; known checks are ${FRAUD_CHECKS.join(', ')}.`,
			);
		}
	}
	for (const check of FRAUD_CHECKS) {
		const given = rawChecks[check];
		if (given !== undefined && !isRecord(given))
			fail(`checks.${check}`, `checks.${check} must be an object with enabled and weight.`);
		const g = (given ?? {}) as Partial<CheckSetting>;
		const enabled = g.enabled ?? DEFAULT_FRAUD_POLICY.checks[check].enabled;
		if (typeof enabled !== 'boolean')
			fail(
				`checks.${check}.enabled`,
				`checks.${check}.enabled must be true or false (got ${describe(enabled)}).`,
			);
		const weight = wrap(
			() =>
				requireRange(
					g.weight ?? DEFAULT_FRAUD_POLICY.checks[check].weight,
					`checks.${check}.weight`,
					0,
					100,
				),
			`checks.${check}.weight`,
		);
		checks[check] = { enabled, weight };
	}

	const flagThreshold = wrap(
		() => requireRange(pick('flagThreshold'), 'flagThreshold', 1, 100),
		'flagThreshold',
	);
	const blockThreshold = wrap(
		() => requireRange(pick('blockThreshold'), 'blockThreshold', 1, 100),
		'blockThreshold',
	);
	if (blockThreshold < flagThreshold) {
		fail(
			'blockThreshold',
			`blockThreshold (${blockThreshold}) must be at least flagThreshold (${flagThreshold}); otherwise nothing would ever be flagged.`,
		);
	}
	const hours = (key: 'sameIpWindowHours' | 'sameDeviceWindowHours') =>
		wrap(() => requireRange(pick(key), key, 0.1, 24 * 365), key);
	const count = (key: 'sameIpAllowed' | 'sameDeviceAllowed', min: number) =>
		wrap(() => requireInteger(pick(key), key, min, 1_000_000), key);
	const velocityPerHour = wrap(
		() => requireInteger(pick('velocityPerHour'), 'velocityPerHour', 1, 1_000_000),
		'velocityPerHour',
	);
	const velocityPerDay = wrap(
		() => requireInteger(pick('velocityPerDay'), 'velocityPerDay', 1, 1_000_000),
		'velocityPerDay',
	);
	if (velocityPerDay < velocityPerHour) {
		fail(
			'velocityPerDay',
			`velocityPerDay (${velocityPerDay}) must be at least velocityPerHour (${velocityPerHour}).`,
		);
	}
	const stripTags = pick('stripTagsForAllDomains');
	if (typeof stripTags !== 'boolean')
		fail(
			'stripTagsForAllDomains',
			`stripTagsForAllDomains must be true or false (got ${describe(stripTags)}).`,
		);

	const rawDisposable =
		raw.disposable === undefined
			? {}
			: wrap(() => requireRecord(raw.disposable, 'disposable'), 'disposable');
	const domains = (key: 'extraDomains' | 'allowDomains'): string[] => {
		const list = rawDisposable[key] ?? [];
		if (!Array.isArray(list))
			fail(`disposable.${key}`, `disposable.${key} must be a list of domains.`);
		return (list as unknown[]).map((d, i) => {
			const text = wrap(
				() => requireText(d, `disposable.${key}[${i}]`, 253),
				`disposable.${key}`,
			).toLowerCase();
			if (!/^[a-z0-9-]+(\.[a-z0-9-]+)+$/.test(text)) {
				fail(
					`disposable.${key}`,
					`disposable.${key} holds "${text}", which is not a domain like example.com.`,
				);
			}
			return text;
		});
	};

	const policy: FraudPolicy = {
		checks,
		flagThreshold,
		blockThreshold,
		sameIpWindowHours: hours('sameIpWindowHours'),
		sameIpAllowed: count('sameIpAllowed', 0),
		sameDeviceWindowHours: hours('sameDeviceWindowHours'),
		sameDeviceAllowed: count('sameDeviceAllowed', 0),
		velocityPerHour,
		velocityPerDay,
		ringMaxDepth: wrap(
			() => requireInteger(pick('ringMaxDepth'), 'ringMaxDepth', 1, 12),
			'ringMaxDepth',
		),
		stripTagsForAllDomains: stripTags,
		disposable: { extraDomains: domains('extraDomains'), allowDomains: domains('allowDomains') },
	};
	VALIDATED.add(policy);
	return policy;
}

// ---------------------------------------------------------------------------------------------
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

function normaliseName(name: string | undefined): string {
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
	const nameA = normaliseName(referrer.name);
	const nameB = normaliseName(referee.name);
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

const CHECK_FUNCTIONS: Record<
	FraudCheck,
	(input: FraudInput, policy: FraudPolicy) => FraudFinding | null
> = {
	self_referral: checkSelfReferral,
	duplicate_referee: checkDuplicateReferee,
	disposable_email: checkDisposableEmail,
	same_ip: checkSameIp,
	same_device: checkSameDevice,
	velocity: checkVelocity,
	ring: checkRing,
};

export interface FraudAssessment {
	/** 0–100: the sum of the findings' scores, capped at 100. */
	riskScore: number;
	decision: FraudDecision;
	/** Every finding, in check order, each with its reason and score. */
	reasons: FraudFinding[];
	/** The distinct public reason codes, for the webhook and the ledger row. */
	reasonCodes: ReasonCode[];
}

function validateInput(input: unknown): FraudInput {
	const raw = requireRecord(input, 'referral');
	requireTime(raw.at, 'at');
	const referrer = requireRecord(raw.referrer, 'referrer');
	requireText(referrer.id, 'referrer.id');
	requireRecord(raw.referee, 'referee');
	if (raw.referrerRecent !== undefined) {
		const recent = requireRecord(raw.referrerRecent, 'referrerRecent');
		requireInteger(recent.lastHour, 'referrerRecent.lastHour', 0);
		requireInteger(recent.lastDay, 'referrerRecent.lastDay', 0);
	}
	for (const key of [
		'refereePriorReferrals',
		'sameIpSignUps',
		'sameDeviceSignUps',
		'graphEdges',
	] as const) {
		if (raw[key] !== undefined && !Array.isArray(raw[key])) {
			throw new EngineError('invalid_input', `${key} must be a list (got ${describe(raw[key])}).`, {
				field: key,
			});
		}
	}
	return { ...(raw as unknown as FraudInput), at: requireTime(raw.at, 'at') };
}

/** Runs every enabled check and decides. The policy should come from validateFraudPolicy (done here if not). */
export function assessReferral(
	input: FraudInput,
	policy: FraudPolicy | FraudPolicyInput = DEFAULT_FRAUD_POLICY,
): FraudAssessment {
	// Nodes validate once per execution; a policy that already passed is not checked again per item.
	const p =
		policy === DEFAULT_FRAUD_POLICY || VALIDATED.has(policy)
			? (policy as FraudPolicy)
			: validateFraudPolicy(policy);
	const data = validateInput(input);
	const reasons: FraudFinding[] = [];
	const code = checkCode(data.code, data.at);
	if (code) reasons.push(code);
	for (const check of FRAUD_CHECKS) {
		if (!p.checks[check].enabled) continue;
		const finding = CHECK_FUNCTIONS[check](data, p);
		if (finding) reasons.push(finding);
	}
	const riskScore = Math.min(
		100,
		reasons.reduce((sum, r) => sum + r.score, 0),
	);
	let decision: FraudDecision = 'allow';
	if (reasons.some((r) => r.hard) || riskScore >= p.blockThreshold) decision = 'block';
	else if (riskScore >= p.flagThreshold) decision = 'flag';
	return { riskScore, decision, reasons, reasonCodes: [...new Set(reasons.map((r) => r.reason))] };
}

// ---------------------------------------------------------------------------------------------
// Hashing: ip addresses and user agents are stored only as keyed hashes.

export type IdentifierKind = 'ip' | 'user_agent' | 'device';

/** Canonical text for an ip so one address hashes one way (IPv4-mapped IPv6 and zone ids removed). */
export function normaliseIp(ip: string): string {
	let text = ip.trim().toLowerCase();
	if (text.startsWith('[') && text.endsWith(']')) text = text.slice(1, -1);
	const zone = text.indexOf('%');
	if (zone >= 0) text = text.slice(0, zone);
	const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(text);
	return mapped ? mapped[1] : text;
}

/**
 * HMAC-SHA256 of an identifier with a per-program or per-ledger salt (hex). The kind is mixed in
 * so an ip and a user agent with the same text never hash alike. Without the salt the hash
 * cannot be reversed by trying all 2^32 IPv4 addresses, which a plain SHA-256 would allow.
 */
export function hashIdentifier(kind: IdentifierKind, value: string, salt: string): string {
	if (typeof salt !== 'string' || salt.length < 16) {
		throw new EngineError(
			'weak_salt',
			'salt must be a secret text of at least 16 characters (set it once per program or ledger and keep it).',
			{
				field: 'salt',
			},
		);
	}
	const text = requireText(
		value,
		kind === 'ip' ? 'ip' : kind === 'user_agent' ? 'userAgent' : 'device',
		4096,
	);
	const canonical = kind === 'ip' ? normaliseIp(text) : text;
	return createHmac('sha256', salt).update(`${kind}\u0000${canonical}`).digest('hex');
}

export function hashIp(ip: string, salt: string): string {
	return hashIdentifier('ip', ip, salt);
}

export function hashUserAgent(userAgent: string, salt: string): string {
	return hashIdentifier('user_agent', userAgent, salt);
}
