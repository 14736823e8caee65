import { createHash } from 'node:crypto';

import { EngineError } from '../shared/errors';
import { assertTimeZone, periodWindow, type TimeWindow, type WindowMode } from '../shared/periods';
import { DAY_MS } from '../shared/time';
import {
	describe,
	isRecord,
	requireInteger,
	requireNumber,
	requireOneOf,
	requireRange,
	requireRecord,
	requireText,
	requireTime,
} from '../shared/guards';
import { milestoneSnapshot, recognitionKey, type StandingSnapshot, statusSnapshot } from './standing';
import { fromMinorUnits, parseCurrency, requireAmount, requireOrderAmount, roundToCurrency, toMinorUnits } from '../shared/money';

/**
 * Reward program configuration (what the Referral Reward node's form produces), its validation,
 * and `planAwards`: the pure decision of which rewards an event earns.
 *
 * Three rule types:
 * - `per_referral`: a reward for one side (referrer or referee) on one event (the referee's
 *   sign-up, or the referral qualifying): points, a coupon, a cash amount or a custom reward.
 * - `milestone`: rewards, badges or tiers when the referrer's lifetime qualified referrals (or
 *   referred revenue) reach a threshold, once, or again every N after it.
 * - `status`: badge or VIP tier levels (Bronze, Silver, Gold, …) from lifetime qualified
 *   referrals or lifetime points, as non-overlapping ranges.
 * Caps limit the referrer's value rewards per day, week, month or lifetime, in count and value.
 * A holding period keeps value rewards `pending` for N days after they are earned (the refund
 * window); badges and tiers are recognition, not value, and are granted at once.
 */

export const VALUE_KINDS = ['points', 'coupon', 'cash', 'custom'] as const;
export type ValueKind = (typeof VALUE_KINDS)[number];
export type AwardKind = ValueKind | 'badge' | 'tier';
export const REWARD_SIDES = ['referrer', 'referee'] as const;
export type RewardSide = (typeof REWARD_SIDES)[number];
export const REWARD_EVENTS = ['referee_signup', 'referral_qualified'] as const;
export type RewardEventType = (typeof REWARD_EVENTS)[number];
export const RULE_TYPES = ['per_referral', 'milestone', 'status'] as const;
export type RuleType = (typeof RULE_TYPES)[number];
export const CAP_PERIODS = ['day', 'week', 'month', 'lifetime'] as const;
export type CapPeriod = (typeof CAP_PERIODS)[number];
/** What a badge or tier does when the value that earned it falls below its minimum (a refund). */
export const WHEN_BELOW_MINIMUM = ['demote', 'keep'] as const;
export type WhenBelowMinimum = (typeof WHEN_BELOW_MINIMUM)[number];

export interface RewardSpec {
	kind: ValueKind;
	/** points: a whole number of points. */
	points?: number;
	/** cash, or a fixed-amount coupon, in major units of `currency` (20 = 20.00 EUR). */
	amount?: number;
	/** cash only, per-referral rules only: this share of the qualifying order instead of a fixed amount. */
	percentOfOrder?: number;
	/** coupon only: percent off instead of an amount. */
	percentOff?: number;
	/** Defaults to the program currency. */
	currency?: string;
	/** coupon: a new unique code from the code engine, or one taken from a pre-loaded pool. */
	couponSource?: 'generate' | 'pool';
	couponPrefix?: string;
	couponPoolId?: string;
	/** coupon: days the code stays valid after it is issued (earned, or released after the holding period). */
	couponValidDays?: number;
	/** custom: what the workflow should hand out (e.g. "free_month", "tshirt"). */
	customType?: string;
	customValue?: string;
	/** Shown to the participant. */
	label?: string;
}

export interface PerReferralRule {
	/**
	 * A name for the output and for caps' ruleIds; optional in a configuration (the engine names an
	 * unnamed rule after its recipient and reward, e.g. "referrer-points"). Not its identity: see `key`.
	 */
	id: string;
	/**
	 * The rule's identity, decided by the engine (`validateRewardProgram`): a hash of what it gives
	 * (side, event, reward, minimum order; not its name, label or position), with `#2`, `#3` for
	 * identical rules. Stored with each award so a re-evaluation after an edit of the program
	 * recognises what the referral was already paid (see `planAwards`).
	 */
	key?: string;
	/** True when the configuration named the rule (a name the engine made up says nothing about identity). */
	named?: boolean;
	type: 'per_referral';
	side: RewardSide;
	on: RewardEventType;
	reward: RewardSpec;
	/** referral_qualified only: orders below this amount (order currency) earn nothing. */
	minOrderAmount?: number;
	holdingDays?: number;
}

export interface Milestone {
	threshold: number;
	/** Fire again every N after the threshold (threshold, threshold + N, threshold + 2N, …). */
	repeatEvery?: number;
	/** Exactly one of reward, badge, tier. */
	reward?: RewardSpec;
	badge?: string;
	tier?: string;
	/** Badges and tiers: lose it when the value falls below the threshold (`demote`, the default) or keep it. */
	whenBelowMinimum?: WhenBelowMinimum;
}

export interface MilestoneRule {
	id: string;
	type: 'milestone';
	metric: 'qualified_referrals' | 'referred_revenue';
	/** referred_revenue: the currency thresholds are written in (defaults to the program's). */
	currency?: string;
	milestones: Milestone[];
	holdingDays?: number;
}

export interface StatusLevel {
	name: string;
	min: number;
	/** Inclusive; defaults to just below the next level's min. */
	max?: number;
	/** Lose the level when the value falls below min (`demote`, the default) or keep it once reached. */
	whenBelowMinimum?: WhenBelowMinimum;
}

export interface StatusRule {
	id: string;
	type: 'status';
	/** badge: every level reached is kept; tier: the participant holds the highest level reached (VIP). */
	award: 'badge' | 'tier';
	metric: 'qualified_referrals' | 'points';
	levels: StatusLevel[];
}

export type RewardRule = PerReferralRule | MilestoneRule | StatusRule;

export interface RewardCap {
	id: string;
	period: CapPeriod;
	maxCount?: number;
	maxValue?: number;
	/** The unit maxValue is counted in: 'points' or a currency code. */
	unit?: string;
	/** Only these rules count against the cap (default: every referrer-side value reward). */
	ruleIds?: string[];
}

export interface RewardProgramConfig {
	programId: string;
	currency?: string;
	holdingDays?: number;
	/** Calendar cap windows start at midnight in this zone (default UTC). */
	timeZone?: string;
	capWindowMode?: WindowMode;
	rules: RewardRule[];
	caps?: RewardCap[];
}

/** A validated program: defaults filled, currencies upper-cased, levels sorted. */
export type RewardProgram = Required<Pick<RewardProgramConfig, 'programId' | 'holdingDays' | 'timeZone' | 'capWindowMode'>> & {
	currency?: string;
	rules: RewardRule[];
	caps: RewardCap[];
};

const VALIDATED = new WeakSet<object>();

// ---------------------------------------------------------------------------------------------
// Validation

class RuleContext {
	constructor(
		readonly ruleId: string,
		readonly path: string,
	) {}

	fail(code: string, field: string, message: string): never {
		throw new EngineError(code, `Rule "${this.ruleId}": ${message}`, {
			field,
			details: { rule: this.ruleId, path: `${this.path}.${field}` },
		});
	}

	/** Runs a generic guard and re-throws its error with the rule named. */
	check<T>(fn: () => T): T {
		try {
			return fn();
		} catch (error) {
			if (error instanceof EngineError && !String(error.message).startsWith('Rule "')) {
				const field = error.field ?? 'rule';
				throw new EngineError(error.code, `Rule "${this.ruleId}": ${error.message}`, {
					field,
					details: { rule: this.ruleId, path: `${this.path}.${field}` },
				});
			}
			throw error;
		}
	}
}

function validateRewardSpec(raw: unknown, ctx: RuleContext, programCurrency: string | undefined, allowPercentOfOrder: boolean): RewardSpec {
	if (!isRecord(raw)) ctx.fail('invalid_reward', 'reward', `reward must be an object with a kind (got ${describe(raw)}).`);
	const r = raw as Record<string, unknown>;
	if (typeof r.kind !== 'string' || !(VALUE_KINDS as readonly string[]).includes(r.kind)) {
		ctx.fail('unknown_kind', 'kind', `kind must be one of ${VALUE_KINDS.join(', ')} (got ${describe(r.kind)}).`);
	}
	const kind = r.kind as ValueKind;
	const spec: RewardSpec = { kind };
	const has = (key: string) => r[key] !== undefined && r[key] !== null && r[key] !== '';
	const currency = (): string => {
		if (has('currency')) return ctx.check(() => parseCurrency(r.currency));
		if (programCurrency) return programCurrency;
		return ctx.fail('missing_currency', 'currency', `a ${kind} amount needs a currency; set one on the reward or the program.`);
	};
	const amount = (key: string): number => {
		const value = ctx.check(() => requireAmount(r[key], key));
		spec.currency = currency();
		ctx.check(() => toMinorUnits(value, spec.currency as string, key));
		return value;
	};
	const forbid = (...keys: string[]) => {
		for (const key of keys) if (has(key)) ctx.fail('invalid_reward', key, `${key} does not apply to a ${kind} reward.`);
	};
	switch (kind) {
		case 'points':
			forbid('amount', 'percentOff', 'percentOfOrder', 'couponSource', 'couponPoolId');
			spec.points = ctx.check(() => {
				if (typeof r.points === 'number' && r.points <= 0) throw new EngineError('invalid_amount', `points must be greater than zero (got ${r.points}).`, { field: 'points' });
				return requireInteger(r.points, 'points', 1);
			});
			break;
		case 'cash':
			forbid('points', 'percentOff', 'couponSource', 'couponPoolId');
			if (has('amount') === has('percentOfOrder')) {
				ctx.fail('invalid_reward', 'amount', 'a cash reward needs exactly one of amount or percentOfOrder.');
			}
			if (has('amount')) spec.amount = amount('amount');
			else {
				if (!allowPercentOfOrder) ctx.fail('invalid_reward', 'percentOfOrder', 'percentOfOrder is only for per-referral rules on referral_qualified.');
				spec.percentOfOrder = ctx.check(() => {
					requireAmount(r.percentOfOrder, 'percentOfOrder');
					return requireRange(r.percentOfOrder, 'percentOfOrder', 0, 100);
				});
				if (has('currency')) spec.currency = ctx.check(() => parseCurrency(r.currency));
			}
			break;
		case 'coupon': {
			forbid('points', 'percentOfOrder');
			if (has('amount') === has('percentOff')) {
				ctx.fail('invalid_reward', 'amount', 'a coupon needs exactly one of amount (fixed amount off) or percentOff.');
			}
			if (has('amount')) spec.amount = amount('amount');
			else {
				spec.percentOff = ctx.check(() => {
					requireAmount(r.percentOff, 'percentOff');
					return requireRange(r.percentOff, 'percentOff', 0, 100);
				});
			}
			spec.couponSource = has('couponSource')
				? ctx.check(() => requireOneOf(r.couponSource, 'couponSource', ['generate', 'pool'] as const))
				: 'generate';
			if (spec.couponSource === 'pool') spec.couponPoolId = ctx.check(() => requireText(r.couponPoolId, 'couponPoolId', 128));
			else forbid('couponPoolId');
			if (has('couponPrefix')) {
				const prefix = ctx.check(() => requireText(r.couponPrefix, 'couponPrefix', 20));
				if (!/^[A-Za-z0-9_-]+$/.test(prefix)) ctx.fail('invalid_reward', 'couponPrefix', 'couponPrefix may only hold letters, digits, "-" and "_".');
				spec.couponPrefix = prefix;
			}
			if (has('couponValidDays')) {
				spec.couponValidDays = ctx.check(() => {
					requireAmount(r.couponValidDays, 'couponValidDays');
					return requireRange(r.couponValidDays, 'couponValidDays', 0, 3650);
				});
			}
			break;
		}
		case 'custom':
			forbid('points', 'percentOff', 'percentOfOrder', 'couponSource', 'couponPoolId');
			spec.customType = ctx.check(() => requireText(r.customType, 'customType', 64));
			if (has('customValue')) spec.customValue = ctx.check(() => requireText(String(r.customValue), 'customValue', 1024));
			if (has('amount')) spec.amount = amount('amount');
			break;
	}
	if (has('label')) spec.label = ctx.check(() => requireText(r.label, 'label', 256));
	return spec;
}

/** Extended Euclid on BigInt: [g, x] with a·x ≡ g (mod b). */
function egcd(a: bigint, b: bigint): [bigint, bigint] {
	let [oldR, r] = [a, b];
	let [oldS, sCoef] = [1n, 0n];
	while (r !== 0n) {
		const q = oldR / r;
		[oldR, r] = [r, oldR - q * r];
		[oldS, sCoef] = [sCoef, oldS - q * sCoef];
	}
	return [oldR, oldS];
}

const mod = (a: bigint, m: bigint): bigint => ((a % m) + m) % m;

/**
 * The first value at which two milestones of one rule would both fire, or null if never
 * (values are integers: counts, or minor units for revenue). Two milestones firing together
 * are a configuration mistake.
 */
export function firstCollision(a: { at: number; every?: number }, b: { at: number; every?: number }): number | null {
	if (!a.every && !b.every) return a.at === b.at ? a.at : null;
	if (!a.every || !b.every) {
		const once = a.every ? b : a;
		const repeat = a.every ? a : b;
		return once.at >= repeat.at && (once.at - repeat.at) % (repeat.every as number) === 0 ? once.at : null;
	}
	// a.at + i·a.every = b.at + j·b.every: solvable iff gcd divides the gap (Chinese remainder theorem).
	const [A, B, ea, eb] = [BigInt(a.at), BigInt(b.at), BigInt(a.every), BigInt(b.every)];
	const [g, inv] = egcd(ea, eb);
	if ((B - A) % g !== 0n) return null;
	const m = eb / g;
	const i = mod(((B - A) / g) * inv, m);
	const lcm = ea * m;
	let v = A + i * ea;
	const floor = A > B ? A : B;
	if (v < floor) v += ((floor - v + lcm - 1n) / lcm) * lcm;
	return Number(v);
}

function validateHoldingDays(value: unknown, field: string): number {
	return requireInteger(value, field, 0, 365);
}

const present = (v: unknown) => v !== undefined && v !== null && v !== '';

/**
 * The name of a rule without one: per-referral rules after recipient and reward ("referrer-points",
 * then "referrer-points-2" for a second unnamed one), milestones and levels after their metric. A
 * name is a label; a per-referral rule's identity is its `key`, which does not depend on it.
 */
function defaultRuleIds(rules: unknown[]): Array<string | undefined> {
	const taken = new Set(rules.map((r) => (isRecord(r) && typeof r.id === 'string' ? r.id.trim() : '')).filter(Boolean));
	const seen = new Map<string, number>();
	return rules.map((r) => {
		if (!isRecord(r) || present(r.id)) return undefined;
		let base: string;
		if (r.type === 'per_referral') {
			const kind = isRecord(r.reward) && typeof r.reward.kind === 'string' ? r.reward.kind : 'reward';
			base = `${typeof r.side === 'string' ? r.side : 'referrer'}-${kind}`;
		} else if (r.type === 'milestone') base = r.metric === 'referred_revenue' ? 'revenue-milestones' : 'milestones';
		else if (r.type === 'status') base = `${r.award === 'badge' ? 'badges' : 'tiers'}-by-${r.metric === 'points' ? 'points' : 'referrals'}`;
		else return undefined;
		for (;;) {
			const count = (seen.get(base) ?? 0) + 1;
			seen.set(base, count);
			const id = count === 1 ? base : `${base}-${count}`;
			if (!taken.has(id)) {
				taken.add(id);
				return id;
			}
		}
	});
}

/** Canonical JSON: object keys sorted, so equal content gives equal text. */
function canonical(value: unknown): string {
	return JSON.stringify(value, (_k, v: unknown) =>
		v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
	);
}

/** A per-referral rule's identity: what it gives, not its name, label, holding period or position. */
function contentKey(rule: PerReferralRule): string {
	const { label: _label, ...reward } = rule.reward;
	const content = { side: rule.side, on: rule.on, reward, minOrderAmount: rule.minOrderAmount ?? 0 };
	return `pr_${createHash('sha256').update(canonical(content)).digest('hex').slice(0, 24)}`;
}

function validateRule(input: unknown, index: number, program: { currency?: string }, ids: Set<string>, defaultId?: string): RewardRule {
	if (!isRecord(input)) {
		throw new EngineError('invalid_rule', `rules[${index}] must be an object (got ${describe(input)}).`, { field: 'rules' });
	}
	const raw: Record<string, unknown> = defaultId === undefined ? input : { ...input, id: defaultId };
	const id = (() => {
		try {
			return requireText(raw.id, 'id', 64);
		} catch {
			throw new EngineError('invalid_rule', `rules[${index}] needs an id (a short name such as "referrer-coupon").`, {
				field: 'id',
				details: { path: `rules[${index}].id` },
			});
		}
	})();
	if (ids.has(id)) {
		throw new EngineError('duplicate_rule_id', `Two rules are named "${id}"; rule ids must be unique (they are part of each reward's idempotency key).`, {
			field: 'id',
			details: { rule: id },
		});
	}
	ids.add(id);
	const ctx = new RuleContext(id, `rules[${index}]`);
	if (typeof raw.type !== 'string' || !(RULE_TYPES as readonly string[]).includes(raw.type)) {
		ctx.fail('unknown_rule_type', 'type', `type must be one of ${RULE_TYPES.join(', ')} (got ${describe(raw.type)}).`);
	}
	const holding = raw.holdingDays === undefined ? undefined : ctx.check(() => validateHoldingDays(raw.holdingDays, 'holdingDays'));
	if (holding !== undefined && raw.type === 'status') {
		ctx.fail('invalid_rule', 'holdingDays', 'holdingDays does not apply to status rules (badges and tiers are granted at once).');
	}

	if (raw.type === 'per_referral') {
		const side = ctx.check(() => requireOneOf(raw.side, 'side', REWARD_SIDES));
		const on = ctx.check(() => requireOneOf(raw.on, 'on', REWARD_EVENTS));
		const rule: PerReferralRule = {
			id,
			type: 'per_referral',
			side,
			on,
			reward: validateRewardSpec(raw.reward, ctx, program.currency, on === 'referral_qualified'),
		};
		// A validated program validated again (the service's sign-up subset) keeps which names were made up.
		rule.named = defaultId === undefined && raw.named !== false;
		if (raw.minOrderAmount !== undefined) {
			if (on !== 'referral_qualified') ctx.fail('invalid_rule', 'minOrderAmount', 'minOrderAmount only applies on referral_qualified (there is no order at sign-up).');
			rule.minOrderAmount = ctx.check(() => requireAmount(raw.minOrderAmount, 'minOrderAmount', { allowZero: true }));
		}
		if (holding !== undefined) rule.holdingDays = holding;
		return rule;
	}

	if (raw.type === 'milestone') {
		const metric = ctx.check(() => requireOneOf(raw.metric, 'metric', ['qualified_referrals', 'referred_revenue'] as const));
		const byCount = metric === 'qualified_referrals';
		const rule: MilestoneRule = { id, type: 'milestone', metric, milestones: [] };
		if (!byCount) {
			if (raw.currency !== undefined) rule.currency = ctx.check(() => parseCurrency(raw.currency));
			else if (program.currency) rule.currency = program.currency;
			else ctx.fail('missing_currency', 'currency', 'revenue milestones need a currency; set one on the rule or the program.');
		}
		if (!Array.isArray(raw.milestones) || raw.milestones.length === 0) {
			ctx.fail('invalid_rule', 'milestones', 'milestones must list at least one threshold.');
		}
		// Revenue thresholds compare in minor units so 0.1 + 0.2 style drift cannot create or hide a collision.
		const scale = (v: number, field: string) => (byCount ? v : ctx.check(() => toMinorUnits(v, rule.currency as string, field)));
		const seen: Array<{ at: number; every?: number; threshold: number }> = [];
		(raw.milestones as unknown[]).forEach((m, i) => {
			if (!isRecord(m)) ctx.fail('invalid_rule', 'milestones', `milestones[${i}] must be an object with a threshold.`);
			const mm = m as Record<string, unknown>;
			const threshold = byCount
				? ctx.check(() => requireInteger(mm.threshold, 'threshold', 1))
				: ctx.check(() => requireAmount(mm.threshold, 'threshold'));
			const milestone: Milestone = { threshold };
			if (mm.repeatEvery !== undefined) {
				const every = ctx.check(() => requireNumber(mm.repeatEvery, 'repeatEvery'));
				if (every <= 0 || (byCount && !Number.isInteger(every))) {
					ctx.fail('invalid_repeat', 'repeatEvery', `repeatEvery must be a ${byCount ? 'whole number of referrals' : 'positive amount'} greater than zero (got ${every}).`);
				}
				milestone.repeatEvery = every;
			}
			const targets = ['reward', 'badge', 'tier'].filter((k) => mm[k] !== undefined && mm[k] !== null && mm[k] !== '');
			if (targets.length !== 1) {
				ctx.fail('invalid_rule', 'reward', `milestone ${threshold} needs exactly one of reward, badge or tier.`);
			}
			if (mm.reward !== undefined) milestone.reward = validateRewardSpec(mm.reward, ctx, program.currency, false);
			if (mm.badge !== undefined) milestone.badge = ctx.check(() => requireText(mm.badge, 'badge', 64));
			if (mm.tier !== undefined) milestone.tier = ctx.check(() => requireText(mm.tier, 'tier', 64));
			if (present(mm.whenBelowMinimum)) {
				if (milestone.reward) ctx.fail('invalid_rule', 'whenBelowMinimum', `milestone ${threshold}: whenBelowMinimum applies to badges and tiers only.`);
				milestone.whenBelowMinimum = ctx.check(() => requireOneOf(mm.whenBelowMinimum, 'whenBelowMinimum', WHEN_BELOW_MINIMUM));
			}
			const scaled = { at: scale(threshold, 'threshold'), every: milestone.repeatEvery === undefined ? undefined : scale(milestone.repeatEvery, 'repeatEvery'), threshold };
			for (const other of seen) {
				if (other.at === scaled.at) {
					ctx.fail('duplicate_threshold', 'threshold', `two milestones use the threshold ${threshold}; merge them or use separate rules.`);
				}
				const clash = firstCollision(other, scaled);
				if (clash !== null) {
					const value = byCount ? clash : fromMinorUnits(clash, rule.currency as string);
					ctx.fail(
						'overlapping_tiers',
						'threshold',
						`milestones ${other.threshold} and ${threshold} would both fire at ${value}; give them distinct thresholds or put them in separate rules.`,
					);
				}
			}
			seen.push(scaled);
			rule.milestones.push(milestone);
		});
		if (holding !== undefined) rule.holdingDays = holding;
		return rule;
	}

	// status
	const award = ctx.check(() => requireOneOf(raw.award, 'award', ['badge', 'tier'] as const));
	const metric = ctx.check(() => requireOneOf(raw.metric, 'metric', ['qualified_referrals', 'points'] as const));
	if (!Array.isArray(raw.levels) || raw.levels.length === 0) ctx.fail('invalid_rule', 'levels', 'levels must list at least one level.');
	const names = new Set<string>();
	const levels = (raw.levels as unknown[]).map((l, i) => {
		if (!isRecord(l)) ctx.fail('invalid_rule', 'levels', `levels[${i}] must be an object with a name and a min.`);
		const ll = l as Record<string, unknown>;
		const name = ctx.check(() => requireText(ll.name, 'name', 64));
		if (names.has(name.toLowerCase())) ctx.fail('duplicate_level', 'name', `two levels are named "${name}".`);
		names.add(name.toLowerCase());
		const level: StatusLevel = { name, min: ctx.check(() => requireInteger(ll.min, 'min', 0)) };
		if (ll.max !== undefined) {
			level.max = ctx.check(() => requireInteger(ll.max, 'max', 0));
			if (level.max < level.min) ctx.fail('invalid_level', 'max', `level "${name}" has max ${level.max} below its min ${level.min}.`);
		}
		if (present(ll.whenBelowMinimum)) level.whenBelowMinimum = ctx.check(() => requireOneOf(ll.whenBelowMinimum, 'whenBelowMinimum', WHEN_BELOW_MINIMUM));
		return level;
	});
	levels.sort((a, b) => a.min - b.min);
	for (let i = 1; i < levels.length; i++) {
		const prev = levels[i - 1];
		const cur = levels[i];
		if (cur.min === prev.min) {
			ctx.fail('overlapping_tiers', 'min', `levels "${prev.name}" and "${cur.name}" both start at ${cur.min}.`);
		}
		if (prev.max !== undefined && prev.max >= cur.min) {
			ctx.fail('overlapping_tiers', 'max', `level "${prev.name}" (${prev.min}–${prev.max}) overlaps "${cur.name}" (from ${cur.min}).`);
		}
	}
	return { id, type: 'status', award, metric, levels };
}

function validateCap(raw: unknown, index: number, ruleIds: Set<string>, capIds: Set<string>, programCurrency?: string): RewardCap {
	const fail = (field: string, message: string): never => {
		throw new EngineError('invalid_cap', `Cap ${index + 1}: ${message}`, { field, details: { path: `caps[${index}].${field}` } });
	};
	if (!isRecord(raw)) return fail('caps', `must be an object with a period and a maxCount or maxValue (got ${describe(raw)}).`);
	const wrap = <T>(fn: () => T): T => {
		try {
			return fn();
		} catch (error) {
			if (error instanceof EngineError) return fail(error.field ?? 'caps', error.message);
			throw error;
		}
	};
	const id = raw.id === undefined ? `cap-${index + 1}` : wrap(() => requireText(raw.id, 'id', 64));
	if (capIds.has(id)) fail('id', `two caps are named "${id}".`);
	capIds.add(id);
	const cap: RewardCap = { id, period: wrap(() => requireOneOf(raw.period, 'period', CAP_PERIODS)) };
	if (raw.maxCount === undefined && raw.maxValue === undefined) fail('maxCount', 'needs a maxCount, a maxValue, or both.');
	if (raw.maxCount !== undefined) {
		if (raw.maxCount === 0) fail('maxCount', 'maxCount is 0, which would block every reward; remove the rule or set at least 1.');
		cap.maxCount = wrap(() => requireInteger(raw.maxCount, 'maxCount', 1));
	}
	if (raw.maxValue !== undefined) {
		if (raw.maxValue === 0) fail('maxValue', 'maxValue is 0, which would block every reward; remove the rule or set a positive value.');
		cap.maxValue = wrap(() => requireAmount(raw.maxValue, 'maxValue'));
		const unit = raw.unit ?? programCurrency;
		if (unit === undefined) fail('unit', 'a maxValue needs a unit: "points" or a currency such as EUR.');
		cap.unit = typeof unit === 'string' && unit.trim().toLowerCase() === 'points' ? 'points' : wrap(() => parseCurrency(unit, 'unit'));
		if (cap.unit === 'points' && !Number.isInteger(cap.maxValue)) fail('maxValue', 'a points cap must be a whole number.');
		if (cap.unit !== 'points') wrap(() => toMinorUnits(cap.maxValue as number, cap.unit as string, 'maxValue'));
	} else if (raw.unit !== undefined) {
		fail('unit', 'unit only applies with maxValue.');
	}
	if (raw.ruleIds !== undefined) {
		if (!Array.isArray(raw.ruleIds) || raw.ruleIds.length === 0) fail('ruleIds', 'ruleIds must be a non-empty list of rule ids.');
		cap.ruleIds = (raw.ruleIds as unknown[]).map((r) => {
			const ruleId = wrap(() => requireText(r, 'ruleIds', 64));
			if (!ruleIds.has(ruleId)) fail('ruleIds', `refers to an unknown rule "${ruleId}".`);
			return ruleId;
		});
	}
	return cap;
}

/**
 * Checks a reward program at configuration time and returns it with defaults filled in. Throws
 * an EngineError naming the rule and the field: negative or zero amounts, missing currencies,
 * overlapping or duplicate thresholds, a cap of zero, repeatEvery ≤ 0, unknown kinds, …
 */
export function validateRewardProgram(config: unknown): RewardProgram {
	const raw = requireRecord(config, 'rewardProgram');
	const programId = requireText(raw.programId, 'programId', 256);
	const currency = raw.currency === undefined || raw.currency === '' ? undefined : parseCurrency(raw.currency);
	const holdingDays = raw.holdingDays === undefined ? 0 : validateHoldingDays(raw.holdingDays, 'holdingDays');
	const timeZone = raw.timeZone === undefined ? 'UTC' : assertTimeZone(requireText(raw.timeZone, 'timeZone', 64));
	const capWindowMode = raw.capWindowMode === undefined ? 'calendar' : requireOneOf(raw.capWindowMode, 'capWindowMode', ['calendar', 'rolling'] as const);
	if (!Array.isArray(raw.rules) || raw.rules.length === 0) {
		throw new EngineError('no_rules', 'rules must list at least one reward rule.', { field: 'rules' });
	}
	const ids = new Set<string>();
	const defaults = defaultRuleIds(raw.rules);
	const rules = raw.rules.map((r, i) => validateRule(r, i, { currency }, ids, defaults[i]));
	// Identity: identical per-referral rules are told apart by their rank among themselves only, so
	// reordering, renaming or adding other rules changes no rule's key.
	const occurrences = new Map<string, number>();
	for (const rule of rules) {
		if (rule.type !== 'per_referral') continue;
		const base = contentKey(rule);
		const count = (occurrences.get(base) ?? 0) + 1;
		occurrences.set(base, count);
		rule.key = count === 1 ? base : `${base}#${count}`;
	}
	if (raw.caps !== undefined && !Array.isArray(raw.caps)) {
		throw new EngineError('invalid_cap', 'caps must be a list.', { field: 'caps' });
	}
	const capIds = new Set<string>();
	const caps = ((raw.caps as unknown[] | undefined) ?? []).map((c, i) => validateCap(c, i, ids, capIds, currency));
	const program: RewardProgram = { programId, holdingDays, timeZone, capWindowMode, rules, caps };
	if (currency) program.currency = currency;
	VALIDATED.add(program);
	return program;
}

function ensureValidated(program: RewardProgram | RewardProgramConfig): RewardProgram {
	return VALIDATED.has(program) ? (program as RewardProgram) : validateRewardProgram(program);
}

// ---------------------------------------------------------------------------------------------
// Planning

export interface RewardEvent {
	type: RewardEventType;
	referralId: string;
	referrerId: string;
	refereeId: string;
	/** The referee's sign-up time, or the qualification time (qualifiedAt), in epoch ms or ISO. */
	occurredAt: number | string;
	/** The qualifying order, on referral_qualified. */
	order?: { id?: string; amount: number; currency: string };
}

export interface CapUsage {
	/** Value rewards already counted against the cap in its current window. */
	count: number;
	/** Their value in the cap's unit (points, or major units of its currency). */
	value: number;
}

export interface ReferrerState {
	/** Lifetime qualified referrals, this one included when the event is referral_qualified. */
	qualifiedCount: number;
	/** Lifetime referred revenue per currency, this order included. */
	referredRevenue?: Record<string, number>;
	/** Lifetime points earned (not the spendable balance), before this event. */
	lifetimePoints?: number;
	/** Badges already held. */
	badges?: string[];
	/** The VIP tier currently held, per status rule id or as a single name. */
	tier?: string | null;
	/** How many times each badge or tier was lost, by `<rule>|<name>`: a badge or tier reached again after a loss is a new award. */
	lost?: Record<string, number>;
	/** Usage per cap id in the window `capWindow` gives for the event time. */
	capUsage?: Record<string, CapUsage>;
	/** The referrer's qualified referral ids, oldest first; lets milestone rewards list what earned them. */
	qualifiedReferralIds?: string[];
	/**
	 * The per-referral awards this referral already has (any status, reversed included), from
	 * earlier evaluations under this or an earlier version of the program: what `planAwards`
	 * reconciles the current rules against so an edited program never pays a rule slot twice.
	 */
	paid?: PaidAward[];
}

/** A per-referral award already in the ledger, as `planAwards` needs it. */
export interface PaidAward {
	rewardId: string;
	idempotencyKey: string;
	recipientId: string;
	side: RewardSide;
	/** The earning event: `referral_qualified:<referralId>` or `referee_signup:<referralId>`. */
	evaluation: string;
	kind: AwardKind;
	/** The rule's name when it was written. */
	rule: string;
	/** The rule's identity when it was written; absent on awards written before rule keys. */
	ruleKey?: string;
	/** Its slot number within recipient, event and kind; absent on awards written before slots. */
	slot?: number;
	points?: number;
	amount?: number;
	currency?: string;
	percentOff?: number;
	customType?: string;
}

export type SkipReason = 'cap_reached' | 'below_min_order' | 'no_order_amount' | 'currency_mismatch' | 'zero_amount';

export interface AwardIntent {
	/** Stable hash of (programId, recipientId, ruleId, earning event); unique in the ledger. */
	idempotencyKey: string;
	programId: string;
	recipientId: string;
	side: RewardSide;
	ruleId: string;
	ruleType: RuleType;
	kind: AwardKind;
	points?: number;
	amount?: number;
	currency?: string;
	percentOff?: number;
	coupon?: { source: 'generate' | 'pool'; prefix?: string; poolId?: string; expiresAt?: number };
	customType?: string;
	customValue?: string;
	badge?: string;
	tier?: string;
	/** Badges and tiers: what a refund needs to decide whether it is lost (stored with the award). */
	standing?: StandingSnapshot;
	label?: string;
	status: 'pending' | 'approved' | 'skipped';
	/** Pending value rewards become due for approval at this time. */
	holdUntil?: number;
	skipReason?: SkipReason;
	/** The cap that stopped this award. */
	capId?: string;
	/** Per-referral rules: the rule's identity (`PerReferralRule.key`), stored with the award. */
	ruleKey?: string;
	/** Per-referral rules: the slot number of a new award within recipient, event and kind. */
	slot?: number;
	/** Set when the referral already has this award (`ReferrerState.paid`): nothing is written, the stored one is the answer. */
	existingRewardId?: string;
	earnedBy: {
		rule: string;
		event: RewardEventType;
		referralIds: string[];
		/** The milestone value reached (count, or revenue in the rule currency), for milestone awards. */
		milestone?: number;
		level?: string;
	};
}

export interface AwardPlan {
	awards: AwardIntent[];
	skipped: AwardIntent[];
}

/** `rw_` + 40 hex characters of SHA-256 over the four parts; the parts are JSON-encoded so no separator can collide. */
export function rewardIdempotencyKey(programId: string, recipientId: string, ruleId: string, earningEventId: string): string {
	const digest = createHash('sha256').update(JSON.stringify([programId, recipientId, ruleId, earningEventId])).digest('hex');
	return `rw_${digest.slice(0, 40)}`;
}

/** The window whose usage the service must load for a cap at an event time. */
export function capWindow(program: RewardProgram, cap: RewardCap, at: number | string): TimeWindow {
	return periodWindow(cap.period, at, { timeZone: program.timeZone, mode: program.capWindowMode });
}

function validateEvent(raw: unknown): RewardEvent & { occurredAt: number } {
	const e = requireRecord(raw, 'event');
	const type = requireOneOf(e.type, 'event.type', REWARD_EVENTS);
	const event: RewardEvent & { occurredAt: number } = {
		type,
		referralId: requireText(e.referralId, 'referralId'),
		referrerId: requireText(e.referrerId, 'referrerId'),
		refereeId: requireText(e.refereeId, 'refereeId'),
		occurredAt: requireTime(e.occurredAt, 'occurredAt'),
	};
	if (event.referrerId === event.refereeId) {
		throw new EngineError('self_referral', 'referrerId and refereeId are the same participant; such a referral earns no reward.', { field: 'refereeId' });
	}
	if (e.order !== undefined && e.order !== null) {
		const o = requireRecord(e.order, 'order');
		const currency = parseCurrency(o.currency, 'order.currency');
		// The program's maximum was checked when the order qualified; here the amount must be a real one.
		event.order = { amount: requireOrderAmount(o.amount, currency, 'order.amount', Number.MAX_SAFE_INTEGER), currency };
		if (o.id !== undefined) event.order.id = requireText(o.id, 'order.id');
	}
	return event;
}

function paidAwards(raw: unknown): PaidAward[] {
	if (raw === undefined || raw === null) return [];
	if (!Array.isArray(raw)) throw new EngineError('invalid_state', 'paid must be a list.', { field: 'paid' });
	return raw.map((a, i) => {
		const r = requireRecord(a, `paid[${i}]`);
		const award: PaidAward = {
			rewardId: requireText(String(r.rewardId ?? ''), `paid[${i}].rewardId`),
			idempotencyKey: requireText(r.idempotencyKey, `paid[${i}].idempotencyKey`),
			recipientId: requireText(String(r.recipientId ?? ''), `paid[${i}].recipientId`),
			side: requireOneOf(r.side, `paid[${i}].side`, REWARD_SIDES),
			evaluation: requireText(r.evaluation, `paid[${i}].evaluation`),
			kind: requireOneOf(r.kind, `paid[${i}].kind`, [...VALUE_KINDS, 'badge', 'tier'] as const),
			rule: requireText(r.rule, `paid[${i}].rule`),
		};
		if (typeof r.ruleKey === 'string') award.ruleKey = r.ruleKey;
		if (typeof r.slot === 'number') award.slot = r.slot;
		for (const key of ['points', 'amount', 'percentOff'] as const) if (typeof r[key] === 'number') award[key] = r[key] as number;
		for (const key of ['currency', 'customType'] as const) if (typeof r[key] === 'string') award[key] = r[key] as string;
		return award;
	});
}

function lostOf(raw: unknown): Record<string, number> {
	if (raw === undefined || raw === null) return {};
	const out: Record<string, number> = {};
	for (const [key, value] of Object.entries(requireRecord(raw, 'lost'))) out[key] = requireInteger(value, `lost.${key}`, 0);
	return out;
}

/** The earning event of a badge or tier: the first time as always, again after each loss with `#<n>`. */
function againAfterLoss(earning: string, st: { lost: Record<string, number> }, ruleId: string, name: string): string {
	const times = st.lost[recognitionKey(ruleId, name)] ?? 0;
	return times === 0 ? earning : `${earning}#${times + 1}`;
}

function validateState(raw: unknown, event: RewardEvent): Required<Omit<ReferrerState, 'tier' | 'qualifiedReferralIds'>> & Pick<ReferrerState, 'tier' | 'qualifiedReferralIds'> {
	const s = requireRecord(raw, 'state');
	const qualifiedCount = requireInteger(s.qualifiedCount, 'qualifiedCount', 0);
	if (event.type === 'referral_qualified' && qualifiedCount < 1) {
		throw new EngineError('invalid_state', 'qualifiedCount must include the referral that just qualified (at least 1).', { field: 'qualifiedCount' });
	}
	const revenue: Record<string, number> = {};
	if (s.referredRevenue !== undefined) {
		for (const [cur, value] of Object.entries(requireRecord(s.referredRevenue, 'referredRevenue'))) {
			revenue[parseCurrency(cur, 'referredRevenue')] = requireAmount(value, `referredRevenue.${cur}`, { allowZero: true });
		}
	}
	const usage: Record<string, CapUsage> = {};
	if (s.capUsage !== undefined) {
		for (const [capId, u] of Object.entries(requireRecord(s.capUsage, 'capUsage'))) {
			const uu = requireRecord(u, `capUsage.${capId}`);
			usage[capId] = {
				count: requireInteger(uu.count ?? 0, `capUsage.${capId}.count`, 0),
				value: requireAmount(uu.value ?? 0, `capUsage.${capId}.value`, { allowZero: true }),
			};
		}
	}
	const list = (key: 'badges' | 'qualifiedReferralIds'): string[] | undefined => {
		if (s[key] === undefined) return undefined;
		if (!Array.isArray(s[key])) throw new EngineError('invalid_state', `${key} must be a list.`, { field: key });
		return (s[key] as unknown[]).map((v, i) => requireText(v, `${key}[${i}]`));
	};
	return {
		qualifiedCount,
		referredRevenue: revenue,
		lifetimePoints: s.lifetimePoints === undefined ? 0 : requireInteger(s.lifetimePoints, 'lifetimePoints', 0),
		badges: list('badges') ?? [],
		tier: s.tier === undefined || s.tier === null ? null : requireText(s.tier, 'tier'),
		lost: lostOf(s.lost),
		capUsage: usage,
		qualifiedReferralIds: list('qualifiedReferralIds'),
		paid: paidAwards(s.paid),
	};
}

interface Planner {
	program: RewardProgram;
	event: RewardEvent & { occurredAt: number };
	usage: Map<string, { count: number; valueMinor: number }>;
	awards: AwardIntent[];
	skipped: AwardIntent[];
}

function capValueMinor(cap: RewardCap, intent: AwardIntent): number | null {
	if (cap.unit === undefined) return null;
	if (cap.unit === 'points') return intent.kind === 'points' ? (intent.points as number) : null;
	if (intent.amount !== undefined && intent.currency === cap.unit && intent.kind !== 'points') return toMinorUnits(intent.amount, cap.unit);
	return null;
}

function holdFor(p: Planner, rule: PerReferralRule | MilestoneRule, intent: AwardIntent): void {
	const days = rule.holdingDays ?? p.program.holdingDays;
	if (days > 0) {
		intent.status = 'pending';
		intent.holdUntil = p.event.occurredAt + days * DAY_MS;
		// The code is issued when the hold ends, so its validity starts then, not at earning time.
		if (intent.coupon?.expiresAt !== undefined) intent.coupon.expiresAt += days * DAY_MS;
	} else {
		intent.status = 'approved';
	}
}

/** Applies caps to a referrer-side value award; on success counts it against every matching cap. */
function admit(p: Planner, intent: AwardIntent): boolean {
	if (intent.side !== 'referrer' || intent.kind === 'badge' || intent.kind === 'tier') return true;
	const matching = p.program.caps.filter((c) => !c.ruleIds || c.ruleIds.includes(intent.ruleId));
	for (const cap of matching) {
		// An award already written stands: it counts, but no cap takes it back.
		if (intent.existingRewardId !== undefined) break;
		const used = p.usage.get(cap.id) as { count: number; valueMinor: number };
		const value = capValueMinor(cap, intent);
		const countFull = cap.maxCount !== undefined && used.count + 1 > cap.maxCount;
		const maxMinor = cap.maxValue === undefined ? undefined : cap.unit === 'points' ? cap.maxValue : toMinorUnits(cap.maxValue, cap.unit as string);
		const valueFull = maxMinor !== undefined && value !== null && used.valueMinor + value > maxMinor;
		if (countFull || valueFull) {
			intent.status = 'skipped';
			intent.skipReason = 'cap_reached';
			intent.capId = cap.id;
			delete intent.holdUntil;
			return false;
		}
	}
	for (const cap of matching) {
		const used = p.usage.get(cap.id) as { count: number; valueMinor: number };
		used.count += 1;
		used.valueMinor += capValueMinor(cap, intent) ?? 0;
	}
	return true;
}

function push(p: Planner, intent: AwardIntent): void {
	if (intent.status === 'skipped') p.skipped.push(intent);
	else if (admit(p, intent)) p.awards.push(intent);
	else p.skipped.push(intent);
}

function baseIntent(
	p: Planner,
	rule: RewardRule,
	recipientId: string,
	side: RewardSide,
	kind: AwardKind,
	earningEventId: string,
	referralIds: string[],
): AwardIntent {
	return {
		idempotencyKey: rewardIdempotencyKey(p.program.programId, recipientId, rule.id, earningEventId),
		programId: p.program.programId,
		recipientId,
		side,
		ruleId: rule.id,
		ruleType: rule.type,
		kind,
		status: 'approved',
		earnedBy: { rule: rule.id, event: p.event.type, referralIds },
	};
}

function applySpec(p: Planner, intent: AwardIntent, spec: RewardSpec): void {
	intent.kind = spec.kind;
	if (spec.label) intent.label = spec.label;
	switch (spec.kind) {
		case 'points':
			intent.points = spec.points;
			break;
		case 'cash':
			if (spec.amount !== undefined) {
				intent.amount = spec.amount;
				intent.currency = spec.currency;
			} else {
				const order = p.event.order;
				if (!order) {
					intent.status = 'skipped';
					intent.skipReason = 'no_order_amount';
					return;
				}
				if (spec.currency && spec.currency !== order.currency) {
					intent.status = 'skipped';
					intent.skipReason = 'currency_mismatch';
					return;
				}
				intent.currency = order.currency;
				intent.amount = roundToCurrency((order.amount * (spec.percentOfOrder as number)) / 100, order.currency);
				if (intent.amount === 0) {
					intent.status = 'skipped';
					intent.skipReason = 'zero_amount';
				}
			}
			break;
		case 'coupon':
			if (spec.amount !== undefined) {
				intent.amount = spec.amount;
				intent.currency = spec.currency;
			} else intent.percentOff = spec.percentOff;
			intent.coupon = { source: spec.couponSource ?? 'generate' };
			if (spec.couponPrefix) intent.coupon.prefix = spec.couponPrefix;
			if (spec.couponPoolId) intent.coupon.poolId = spec.couponPoolId;
			if (spec.couponValidDays !== undefined) intent.coupon.expiresAt = p.event.occurredAt + Math.round(spec.couponValidDays * DAY_MS);
			break;
		case 'custom':
			intent.customType = spec.customType;
			if (spec.customValue !== undefined) intent.customValue = spec.customValue;
			if (spec.amount !== undefined) {
				intent.amount = spec.amount;
				intent.currency = spec.currency;
			}
			break;
	}
}

/** What an award gives, to pair an award with a rule whose key changed (see `reconcile`). */
function specSignature(kind: AwardKind, v: { points?: number; amount?: number; currency?: string; percentOff?: number; customType?: string }): string {
	return canonical([kind, v.points ?? null, v.amount ?? null, v.currency ?? null, v.percentOff ?? null, v.customType ?? null]);
}

/**
 * Which award already paid each rule, per recipient, event and kind (a "group"): first the award
 * written for the same rule key (the rule is unchanged: reordered, renamed, or others added);
 * then, for awards whose rule was edited or written before rule keys existed, the rule with the
 * same name, else the same reward, else the next in program order. A group never holds more
 * awards than it had rules at once, so an edit never pays a referral twice for one slot, and a
 * rule left without an award is new and is paid.
 */
function reconcile(rules: PerReferralRule[], paid: PaidAward[]): Map<PerReferralRule, PaidAward> {
	const matched = new Map<PerReferralRule, PaidAward>();
	const left = [...paid].sort((a, b) => Number(a.rewardId) - Number(b.rewardId));
	for (const rule of rules) {
		const i = left.findIndex((a) => a.ruleKey !== undefined && a.ruleKey === rule.key);
		if (i !== -1) matched.set(rule, left.splice(i, 1)[0]);
	}
	const open = rules.filter((r) => !matched.has(r));
	for (const award of left) {
		if (open.length === 0) break;
		const signature = specSignature(award.kind, award);
		const score = (r: PerReferralRule) => (r.named && r.id === award.rule ? 0 : 2) + (specSignature(r.reward.kind, r.reward) === signature ? 0 : 1);
		let best = 0;
		for (let j = 1; j < open.length; j++) if (score(open[j]) < score(open[best])) best = j;
		matched.set(open[best], award);
		open.splice(best, 1);
	}
	return matched;
}

function planPerReferral(p: Planner, state: ReturnType<typeof validateState>): void {
	const rules = p.program.rules.filter((r): r is PerReferralRule => r.type === 'per_referral' && r.on === p.event.type);
	const evaluation = `${p.event.type}:${p.event.referralId}`;
	const groups = new Map<string, { rules: PerReferralRule[]; paid: PaidAward[] }>();
	const groupOf = (side: string, kind: string) => {
		const name = `${side}:${kind}`;
		let group = groups.get(name);
		if (!group) groups.set(name, (group = { rules: [], paid: [] }));
		return group;
	};
	for (const rule of rules) groupOf(rule.side, rule.reward.kind).rules.push(rule);
	for (const award of state.paid) if (award.evaluation === evaluation) groupOf(award.side, award.kind).paid.push(award);
	const existing = new Map<PerReferralRule, PaidAward>();
	const nextSlot = new Map<PerReferralRule, () => number>();
	for (const group of groups.values()) {
		for (const [rule, award] of reconcile(group.rules, group.paid)) existing.set(rule, award);
		// New awards take slots above every slot the group used, so a slot is never written twice.
		let top = Math.max(group.paid.length, ...group.paid.map((a) => a.slot ?? 0));
		for (const rule of group.rules) nextSlot.set(rule, () => ++top);
	}
	for (const rule of rules) {
		const recipientId = rule.side === 'referrer' ? p.event.referrerId : p.event.refereeId;
		const intent = baseIntent(p, rule, recipientId, rule.side, rule.reward.kind, evaluation, [p.event.referralId]);
		intent.ruleKey = rule.key;
		const award = existing.get(rule);
		if (award) {
			// Paid already (by this rule, or by the rule it was edited from): the stored award is the answer.
			intent.idempotencyKey = award.idempotencyKey;
			intent.existingRewardId = award.rewardId;
			intent.kind = award.kind;
			for (const key of ['points', 'amount', 'currency', 'percentOff', 'customType'] as const) if (award[key] !== undefined) (intent as unknown as Record<string, unknown>)[key] = award[key];
			push(p, intent);
			continue;
		}
		applySpec(p, intent, rule.reward);
		if (rule.minOrderAmount !== undefined && (!p.event.order || p.event.order.amount < rule.minOrderAmount)) {
			intent.status = 'skipped';
			intent.skipReason = p.event.order ? 'below_min_order' : 'no_order_amount';
			p.skipped.push(intent);
			continue;
		}
		if (intent.status !== 'skipped') holdFor(p, rule, intent);
		if (intent.status === 'skipped') {
			p.skipped.push(intent);
			continue;
		}
		if (!admit(p, intent)) {
			p.skipped.push(intent);
			continue;
		}
		intent.slot = nextSlot.get(rule)!();
		intent.idempotencyKey = rewardIdempotencyKey(p.program.programId, recipientId, `slot:${rule.side}:${rule.reward.kind}#${intent.slot}`, evaluation);
		p.awards.push(intent);
	}
}

/** Values a milestone fires at within (previous, current]. Bounded so a huge jump cannot loop for long. */
function firingValues(m: { at: number; every?: number }, previous: number, current: number): number[] {
	if (current < m.at) return [];
	if (!m.every) return previous < m.at ? [m.at] : [];
	const values: number[] = [];
	const firstK = previous < m.at ? 0 : Math.floor((previous - m.at) / m.every) + 1;
	for (let k = firstK, guard = 0; guard < 1000; k++, guard++) {
		const v = m.at + k * m.every;
		if (v > current) break;
		values.push(v);
	}
	return values;
}

function planMilestones(p: Planner, rule: MilestoneRule, state: ReturnType<typeof validateState>): void {
	if (p.event.type !== 'referral_qualified') return;
	const byCount = rule.metric === 'qualified_referrals';
	let previous: number;
	let current: number;
	if (byCount) {
		current = state.qualifiedCount;
		previous = current - 1;
	} else {
		const currency = rule.currency as string;
		current = toMinorUnits(roundToCurrency(state.referredRevenue[currency] ?? 0, currency), currency);
		// Only an order in the rule's currency moves this rule's revenue.
		const contribution = p.event.order && p.event.order.currency === currency ? toMinorUnits(p.event.order.amount, currency) : 0;
		previous = current - contribution;
	}
	rule.milestones.forEach((m) => {
		const scaled = byCount
			? { at: m.threshold, every: m.repeatEvery }
			: {
					at: toMinorUnits(m.threshold, rule.currency as string),
					every: m.repeatEvery === undefined ? undefined : toMinorUnits(m.repeatEvery, rule.currency as string),
				};
		for (const value of firingValues(scaled, previous, current)) {
			const reached = byCount ? value : fromMinorUnits(value, rule.currency as string);
			let referralIds = [p.event.referralId];
			if (byCount && state.qualifiedReferralIds && state.qualifiedReferralIds.length >= value) {
				// The referrals that completed this step: all up to the first threshold, then the last N.
				const from = m.repeatEvery !== undefined && value > m.threshold ? value - m.repeatEvery : 0;
				referralIds = state.qualifiedReferralIds.slice(from, value);
			}
			const kind: AwardKind = m.reward ? m.reward.kind : m.badge ? 'badge' : 'tier';
			const earning = `milestone:${m.threshold}:${reached}`;
			const name = m.badge ?? m.tier;
			const intent = baseIntent(p, rule, p.event.referrerId, 'referrer', kind, name === undefined ? earning : againAfterLoss(earning, state, rule.id, name), referralIds);
			intent.earnedBy.milestone = reached;
			if (m.reward) {
				applySpec(p, intent, m.reward);
				if (intent.status !== 'skipped') holdFor(p, rule, intent);
			} else if (m.badge) {
				if (state.badges.includes(m.badge)) continue;
				intent.badge = m.badge;
			} else {
				if (state.tier === m.tier) continue;
				intent.tier = m.tier;
			}
			if (!m.reward) {
				const snapshot = milestoneSnapshot(rule, m.threshold);
				if (snapshot) intent.standing = snapshot;
			}
			push(p, intent);
		}
	});
}

function levelFor(levels: StatusLevel[], value: number): StatusLevel[] {
	return levels.filter((l) => value >= l.min && (l.max === undefined || value <= l.max));
}

function planStatus(p: Planner, rule: StatusRule, state: ReturnType<typeof validateState>): void {
	const pointsThisEvent = p.awards
		.filter((a) => a.recipientId === p.event.referrerId && a.kind === 'points')
		.reduce((sum, a) => sum + (a.points as number), 0);
	const value = rule.metric === 'qualified_referrals' ? state.qualifiedCount : state.lifetimePoints + pointsThisEvent;
	const reached = rule.levels.filter((l) => value >= l.min);
	const grant = (level: StatusLevel) => {
		const intent = baseIntent(p, rule, p.event.referrerId, 'referrer', rule.award, againAfterLoss(`level:${level.name}`, state, rule.id, level.name), [p.event.referralId]);
		intent.earnedBy.level = level.name;
		intent.standing = statusSnapshot(rule, level.name);
		if (rule.award === 'badge') intent.badge = level.name;
		else intent.tier = level.name;
		push(p, intent);
	};
	if (rule.award === 'badge') {
		// Badges are achievements: every level passed is earned once, even when one event passes several.
		for (const level of reached) if (!state.badges.includes(level.name)) grant(level);
		return;
	}
	// A tier is a standing: the level the value sits in now (a gap between explicit ranges holds none).
	const current = levelFor(rule.levels, value).at(-1);
	if (current && current.name !== state.tier) {
		const heldIndex = rule.levels.findIndex((l) => l.name === state.tier);
		// Tiers only go up here; a downgrade (after clawbacks) is the service's explicit decision.
		if (heldIndex === -1 || rule.levels.indexOf(current) > heldIndex) grant(current);
	}
}

/**
 * Decides every award an event earns. Pure and deterministic: the same program, event and state
 * always give the same intents with the same idempotency keys, so the service can run it inside
 * a ledger transaction and a replay (n8n retry, duplicate webhook) inserts nothing new.
 *
 * Order: per-referral rules, then milestones, then status levels (which see the points just
 * planned), each in configuration order; caps are applied in that order too.
 */
export function planAwards(program: RewardProgram | RewardProgramConfig, event: RewardEvent, state: ReferrerState): AwardPlan {
	const prog = ensureValidated(program);
	const ev = validateEvent(event);
	const st = validateState(state, ev);
	const usage = new Map<string, { count: number; valueMinor: number }>();
	for (const cap of prog.caps) {
		const u = st.capUsage[cap.id] ?? { count: 0, value: 0 };
		usage.set(cap.id, {
			count: u.count,
			valueMinor: cap.unit === undefined ? 0 : cap.unit === 'points' ? u.value : toMinorUnits(roundToCurrency(u.value, cap.unit), cap.unit),
		});
	}
	const planner: Planner = { program: prog, event: ev, usage, awards: [], skipped: [] };
	planPerReferral(planner, st);
	for (const rule of prog.rules) if (rule.type === 'milestone') planMilestones(planner, rule, st);
	for (const rule of prog.rules) if (rule.type === 'status') planStatus(planner, rule, st);
	return { awards: planner.awards, skipped: planner.skipped };
}
