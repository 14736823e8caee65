import { EngineError } from '../shared/errors';
import {
	describe,
	isRecord,
	requireInteger,
	requireRange,
	requireRecord,
	requireText,
} from '../shared/guards';
import type { ReasonCode } from './lifecycle';

/**
 * The fraud checks' vocabulary and the program's fraud policy: which checks run, their weights,
 * thresholds and windows, with the defaults and the validation of the node form's input.
 * The checks are in fraudChecks.ts; fraud.ts runs them and decides.
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

/** Policies that passed validateFraudPolicy, so assessReferral does not check them again. */
export const VALIDATED = new WeakSet<object>();

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
