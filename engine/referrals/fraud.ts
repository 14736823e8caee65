import { createHmac } from 'node:crypto';

import { EngineError } from '../shared/errors';
import {
	describe,
	requireInteger,
	requireRecord,
	requireText,
	requireTime,
} from '../shared/guards';
import type { ReasonCode } from './lifecycle';
import {
	checkCode,
	checkDisposableEmail,
	checkDuplicateReferee,
	checkRing,
	checkSameDevice,
	checkSameIp,
	checkSelfReferral,
	checkVelocity,
	type FraudInput,
} from './fraudChecks';
import {
	DEFAULT_FRAUD_POLICY,
	FRAUD_CHECKS,
	VALIDATED,
	validateFraudPolicy,
	type FraudCheck,
	type FraudDecision,
	type FraudFinding,
	type FraudPolicy,
	type FraudPolicyInput,
} from './fraudPolicy';

/**
 * Explainable fraud checks for one referral. Each check is a small named function that looks at
 * plain data the service fetched from the ledger and returns a finding (check, reason code, score
 * contribution, a sentence saying why) or null. `assessReferral` adds the contributions into a
 * 0–100 risk score and the program's policy turns it into allow, flag or block.
 *
 * Code problems (unknown, expired, revoked) are not risk: a referral without a usable code cannot
 * be attributed, so they always block, whatever the weights.
 */

export {
	DEFAULT_FRAUD_POLICY,
	FRAUD_CHECKS,
	validateFraudPolicy,
	type CheckSetting,
	type FraudCheck,
	type FraudDecision,
	type FraudFinding,
	type FraudPolicy,
	type FraudPolicyInput,
} from './fraudPolicy';
export * from './fraudChecks';

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
export function normalizeIp(ip: string): string {
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
	const canonical = kind === 'ip' ? normalizeIp(text) : text;
	return createHmac('sha256', salt).update(`${kind}\u0000${canonical}`).digest('hex');
}

export function hashIp(ip: string, salt: string): string {
	return hashIdentifier('ip', ip, salt);
}

export function hashUserAgent(userAgent: string, salt: string): string {
	return hashIdentifier('user_agent', userAgent, salt);
}
