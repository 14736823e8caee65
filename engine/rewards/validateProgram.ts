import { EngineError } from '../shared/errors';
import { assertTimeZone } from '../shared/periods';
import {
	describe,
	isRecord,
	requireInteger,
	requireNumber,
	requireOneOf,
	requireRange,
	requireRecord,
	requireText,
} from '../shared/guards';
import { fromMinorUnits, parseCurrency, requireAmount, toMinorUnits } from '../shared/money';
import { identifyRules, present, type RuleName } from './identity';
import {
	CAP_PERIODS,
	type Milestone,
	type MilestoneRule,
	type PerReferralRule,
	REWARD_EVENTS,
	RULE_SIDES,
	type RewardCap,
	type RewardProgram,
	type RewardProgramConfig,
	type RewardRule,
	type RewardSpec,
	RULE_TYPES,
	type StatusLevel,
	type ValueKind,
	VALUE_KINDS,
	WHEN_BELOW_MINIMUM,
} from './program';

/**
 * Checks a reward program's configuration (what the Referral Reward node's form produces) and
 * fills its defaults; rule names and identities come from `identity.ts`.
 */

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

function validateRewardSpec(
	raw: unknown,
	ctx: RuleContext,
	programCurrency: string | undefined,
	allowPercentOfOrder: boolean,
): RewardSpec {
	if (!isRecord(raw))
		ctx.fail(
			'invalid_reward',
			'reward',
			`reward must be an object with a kind (got ${describe(raw)}).`,
		);
	const r = raw;
	if (typeof r.kind !== 'string' || !(VALUE_KINDS as readonly string[]).includes(r.kind)) {
		ctx.fail(
			'unknown_kind',
			'kind',
			`kind must be one of ${VALUE_KINDS.join(', ')} (got ${describe(r.kind)}).`,
		);
	}
	const kind = r.kind as ValueKind;
	const spec: RewardSpec = { kind };
	const has = (key: string) => r[key] !== undefined && r[key] !== null && r[key] !== '';
	const currency = (): string => {
		if (has('currency')) return ctx.check(() => parseCurrency(r.currency));
		if (programCurrency) return programCurrency;
		return ctx.fail(
			'missing_currency',
			'currency',
			`a ${kind} amount needs a currency; set one on the reward or the program.`,
		);
	};
	const amount = (key: string): number => {
		const value = ctx.check(() => requireAmount(r[key], key));
		spec.currency = currency();
		ctx.check(() => toMinorUnits(value, spec.currency as string, key));
		return value;
	};
	const forbid = (...keys: string[]) => {
		for (const key of keys)
			if (has(key)) ctx.fail('invalid_reward', key, `${key} does not apply to a ${kind} reward.`);
	};
	switch (kind) {
		case 'points':
			forbid('amount', 'percentOff', 'percentOfOrder', 'couponSource', 'couponPoolId');
			spec.points = ctx.check(() => {
				if (typeof r.points === 'number' && r.points <= 0)
					throw new EngineError(
						'invalid_amount',
						`points must be greater than zero (got ${r.points}).`,
						{ field: 'points' },
					);
				return requireInteger(r.points, 'points', 1);
			});
			break;
		case 'cash':
			forbid('points', 'percentOff', 'couponSource', 'couponPoolId');
			if (has('amount') === has('percentOfOrder')) {
				ctx.fail(
					'invalid_reward',
					'amount',
					'a cash reward needs exactly one of amount or percentOfOrder.',
				);
			}
			if (has('amount')) spec.amount = amount('amount');
			else {
				if (!allowPercentOfOrder)
					ctx.fail(
						'invalid_reward',
						'percentOfOrder',
						'percentOfOrder is only for per-referral rules on referral_qualified.',
					);
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
				ctx.fail(
					'invalid_reward',
					'amount',
					'a coupon needs exactly one of amount (fixed amount off) or percentOff.',
				);
			}
			if (has('amount')) spec.amount = amount('amount');
			else {
				spec.percentOff = ctx.check(() => {
					requireAmount(r.percentOff, 'percentOff');
					return requireRange(r.percentOff, 'percentOff', 0, 100);
				});
			}
			spec.couponSource = has('couponSource')
				? ctx.check(() =>
						requireOneOf(r.couponSource, 'couponSource', ['generate', 'pool'] as const),
					)
				: 'generate';
			if (spec.couponSource === 'pool')
				spec.couponPoolId = ctx.check(() => requireText(r.couponPoolId, 'couponPoolId', 128));
			else forbid('couponPoolId');
			if (has('couponPrefix')) {
				const prefix = ctx.check(() => requireText(r.couponPrefix, 'couponPrefix', 20));
				if (!/^[A-Za-z0-9_-]+$/.test(prefix))
					ctx.fail(
						'invalid_reward',
						'couponPrefix',
						'couponPrefix may only hold letters, digits, "-" and "_".',
					);
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
			if (has('customValue'))
				spec.customValue = ctx.check(() => requireText(String(r.customValue), 'customValue', 1024));
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
export function firstCollision(
	a: { at: number; every?: number },
	b: { at: number; every?: number },
): number | null {
	if (!a.every && !b.every) return a.at === b.at ? a.at : null;
	if (!a.every || !b.every) {
		const once = a.every ? b : a;
		const repeat = a.every ? a : b;
		return once.at >= repeat.at && (once.at - repeat.at) % (repeat.every as number) === 0
			? once.at
			: null;
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

function validateRule(
	input: unknown,
	index: number,
	program: { currency?: string },
	ids: Set<string>,
	name: RuleName,
): RewardRule {
	if (!isRecord(input)) {
		throw new EngineError(
			'invalid_rule',
			`rules[${index}] must be an object (got ${describe(input)}).`,
			{ field: 'rules' },
		);
	}
	const raw: Record<string, unknown> = { ...input, id: name.id };
	const id = (() => {
		try {
			return requireText(raw.id, 'id', 64);
		} catch {
			throw new EngineError(
				'invalid_rule',
				`rules[${index}] needs an id (a short name such as "referrer-coupon").`,
				{
					field: 'id',
					details: { path: `rules[${index}].id` },
				},
			);
		}
	})();
	if (ids.has(id)) {
		throw new EngineError(
			'duplicate_rule_id',
			`Two rules are named "${id}"; rule ids must be unique (they are part of each reward's idempotency key).`,
			{
				field: 'id',
				details: { rule: id },
			},
		);
	}
	ids.add(id);
	const ctx = new RuleContext(id, `rules[${index}]`);
	if (typeof raw.type !== 'string' || !(RULE_TYPES as readonly string[]).includes(raw.type)) {
		ctx.fail(
			'unknown_rule_type',
			'type',
			`type must be one of ${RULE_TYPES.join(', ')} (got ${describe(raw.type)}).`,
		);
	}
	const holding =
		raw.holdingDays === undefined
			? undefined
			: ctx.check(() => validateHoldingDays(raw.holdingDays, 'holdingDays'));
	if (holding !== undefined && raw.type === 'status') {
		ctx.fail(
			'invalid_rule',
			'holdingDays',
			'holdingDays does not apply to status rules (badges and tiers are granted at once).',
		);
	}

	if (raw.type === 'per_referral') {
		const side = ctx.check(() => requireOneOf(raw.side, 'side', RULE_SIDES));
		const on = ctx.check(() => requireOneOf(raw.on, 'on', REWARD_EVENTS));
		const rule: PerReferralRule = {
			id,
			type: 'per_referral',
			side,
			on,
			reward: validateRewardSpec(raw.reward, ctx, program.currency, on === 'referral_qualified'),
		};
		rule.named = name.named;
		if (raw.minOrderAmount !== undefined) {
			if (on !== 'referral_qualified')
				ctx.fail(
					'invalid_rule',
					'minOrderAmount',
					'minOrderAmount only applies on referral_qualified (there is no order at sign-up).',
				);
			rule.minOrderAmount = ctx.check(() =>
				requireAmount(raw.minOrderAmount, 'minOrderAmount', { allowZero: true }),
			);
		}
		if (holding !== undefined) rule.holdingDays = holding;
		return rule;
	}

	if (raw.type === 'milestone') {
		const metric = ctx.check(() =>
			requireOneOf(raw.metric, 'metric', ['qualified_referrals', 'referred_revenue'] as const),
		);
		const byCount = metric === 'qualified_referrals';
		const rule: MilestoneRule = { id, type: 'milestone', metric, milestones: [] };
		if (!byCount) {
			if (raw.currency !== undefined) rule.currency = ctx.check(() => parseCurrency(raw.currency));
			else if (program.currency) rule.currency = program.currency;
			else
				ctx.fail(
					'missing_currency',
					'currency',
					'revenue milestones need a currency; set one on the rule or the program.',
				);
		}
		if (!Array.isArray(raw.milestones) || raw.milestones.length === 0) {
			ctx.fail('invalid_rule', 'milestones', 'milestones must list at least one threshold.');
		}
		// Revenue thresholds compare in minor units so 0.1 + 0.2 style drift cannot create or hide a collision.
		const scale = (v: number, field: string) =>
			byCount ? v : ctx.check(() => toMinorUnits(v, rule.currency as string, field));
		const seen: Array<{ at: number; every?: number; threshold: number }> = [];
		(raw.milestones as unknown[]).forEach((m, i) => {
			if (!isRecord(m))
				ctx.fail(
					'invalid_rule',
					'milestones',
					`milestones[${i}] must be an object with a threshold.`,
				);
			const mm = m as Record<string, unknown>;
			const threshold = byCount
				? ctx.check(() => requireInteger(mm.threshold, 'threshold', 1))
				: ctx.check(() => requireAmount(mm.threshold, 'threshold'));
			const milestone: Milestone = { threshold };
			if (mm.repeatEvery !== undefined) {
				const every = ctx.check(() => requireNumber(mm.repeatEvery, 'repeatEvery'));
				if (every <= 0 || (byCount && !Number.isInteger(every))) {
					ctx.fail(
						'invalid_repeat',
						'repeatEvery',
						`repeatEvery must be a ${byCount ? 'whole number of referrals' : 'positive amount'} greater than zero (got ${every}).`,
					);
				}
				milestone.repeatEvery = every;
			}
			const targets = ['reward', 'badge', 'tier'].filter(
				(k) => mm[k] !== undefined && mm[k] !== null && mm[k] !== '',
			);
			if (targets.length !== 1) {
				ctx.fail(
					'invalid_rule',
					'reward',
					`milestone ${threshold} needs exactly one of reward, badge or tier.`,
				);
			}
			if (mm.reward !== undefined)
				milestone.reward = validateRewardSpec(mm.reward, ctx, program.currency, false);
			if (mm.badge !== undefined)
				milestone.badge = ctx.check(() => requireText(mm.badge, 'badge', 64));
			if (mm.tier !== undefined) milestone.tier = ctx.check(() => requireText(mm.tier, 'tier', 64));
			if (present(mm.whenBelowMinimum)) {
				if (milestone.reward)
					ctx.fail(
						'invalid_rule',
						'whenBelowMinimum',
						`milestone ${threshold}: whenBelowMinimum applies to badges and tiers only.`,
					);
				milestone.whenBelowMinimum = ctx.check(() =>
					requireOneOf(mm.whenBelowMinimum, 'whenBelowMinimum', WHEN_BELOW_MINIMUM),
				);
			}
			const scaled = {
				at: scale(threshold, 'threshold'),
				every:
					milestone.repeatEvery === undefined
						? undefined
						: scale(milestone.repeatEvery, 'repeatEvery'),
				threshold,
			};
			for (const other of seen) {
				if (other.at === scaled.at) {
					ctx.fail(
						'duplicate_threshold',
						'threshold',
						`two milestones use the threshold ${threshold}; merge them or use separate rules.`,
					);
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
	const metric = ctx.check(() =>
		requireOneOf(raw.metric, 'metric', ['qualified_referrals', 'points'] as const),
	);
	if (!Array.isArray(raw.levels) || raw.levels.length === 0)
		ctx.fail('invalid_rule', 'levels', 'levels must list at least one level.');
	const names = new Set<string>();
	const levels = (raw.levels as unknown[]).map((l, i) => {
		if (!isRecord(l))
			ctx.fail('invalid_rule', 'levels', `levels[${i}] must be an object with a name and a min.`);
		const ll = l as Record<string, unknown>;
		const name = ctx.check(() => requireText(ll.name, 'name', 64));
		if (names.has(name.toLowerCase()))
			ctx.fail('duplicate_level', 'name', `two levels are named "${name}".`);
		names.add(name.toLowerCase());
		const level: StatusLevel = { name, min: ctx.check(() => requireInteger(ll.min, 'min', 0)) };
		if (ll.max !== undefined) {
			level.max = ctx.check(() => requireInteger(ll.max, 'max', 0));
			if (level.max < level.min)
				ctx.fail(
					'invalid_level',
					'max',
					`level "${name}" has max ${level.max} below its min ${level.min}.`,
				);
		}
		if (present(ll.whenBelowMinimum))
			level.whenBelowMinimum = ctx.check(() =>
				requireOneOf(ll.whenBelowMinimum, 'whenBelowMinimum', WHEN_BELOW_MINIMUM),
			);
		return level;
	});
	levels.sort((a, b) => a.min - b.min);
	for (let i = 1; i < levels.length; i++) {
		const prev = levels[i - 1];
		const cur = levels[i];
		if (cur.min === prev.min) {
			ctx.fail(
				'overlapping_tiers',
				'min',
				`levels "${prev.name}" and "${cur.name}" both start at ${cur.min}.`,
			);
		}
		if (prev.max !== undefined && prev.max >= cur.min) {
			ctx.fail(
				'overlapping_tiers',
				'max',
				`level "${prev.name}" (${prev.min}–${prev.max}) overlaps "${cur.name}" (from ${cur.min}).`,
			);
		}
	}
	return { id, type: 'status', award, metric, levels };
}

function validateCap(
	raw: unknown,
	index: number,
	ruleIds: Set<string>,
	capIds: Set<string>,
	programCurrency?: string,
): RewardCap {
	const fail = (field: string, message: string): never => {
		throw new EngineError('invalid_cap', `Cap ${index + 1}: ${message}`, {
			field,
			details: { path: `caps[${index}].${field}` },
		});
	};
	if (!isRecord(raw))
		return fail(
			'caps',
			`must be an object with a period and a maxCount or maxValue (got ${describe(raw)}).`,
		);
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
	const cap: RewardCap = {
		id,
		period: wrap(() => requireOneOf(raw.period, 'period', CAP_PERIODS)),
	};
	if (raw.maxCount === undefined && raw.maxValue === undefined)
		fail('maxCount', 'needs a maxCount, a maxValue, or both.');
	if (raw.maxCount !== undefined) {
		if (raw.maxCount === 0)
			fail(
				'maxCount',
				'maxCount is 0, which would block every reward; remove the rule or set at least 1.',
			);
		cap.maxCount = wrap(() => requireInteger(raw.maxCount, 'maxCount', 1));
	}
	if (raw.maxValue !== undefined) {
		if (raw.maxValue === 0)
			fail(
				'maxValue',
				'maxValue is 0, which would block every reward; remove the rule or set a positive value.',
			);
		cap.maxValue = wrap(() => requireAmount(raw.maxValue, 'maxValue'));
		const unit = raw.unit ?? programCurrency;
		if (unit === undefined)
			fail('unit', 'a maxValue needs a unit: "points" or a currency such as EUR.');
		cap.unit =
			typeof unit === 'string' && unit.trim().toLowerCase() === 'points'
				? 'points'
				: wrap(() => parseCurrency(unit, 'unit'));
		if (cap.unit === 'points' && !Number.isInteger(cap.maxValue))
			fail('maxValue', 'a points cap must be a whole number.');
		if (cap.unit !== 'points')
			wrap(() => toMinorUnits(cap.maxValue as number, cap.unit as string, 'maxValue'));
	} else if (raw.unit !== undefined) {
		fail('unit', 'unit only applies with maxValue.');
	}
	if (raw.ruleIds !== undefined) {
		if (!Array.isArray(raw.ruleIds) || raw.ruleIds.length === 0)
			fail('ruleIds', 'ruleIds must be a non-empty list of rule ids.');
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
	const currency =
		raw.currency === undefined || raw.currency === '' ? undefined : parseCurrency(raw.currency);
	const holdingDays =
		raw.holdingDays === undefined ? 0 : validateHoldingDays(raw.holdingDays, 'holdingDays');
	const timeZone =
		raw.timeZone === undefined ? 'UTC' : assertTimeZone(requireText(raw.timeZone, 'timeZone', 64));
	const capWindowMode =
		raw.capWindowMode === undefined
			? 'calendar'
			: requireOneOf(raw.capWindowMode, 'capWindowMode', ['calendar', 'rolling'] as const);
	if (!Array.isArray(raw.rules) || raw.rules.length === 0) {
		throw new EngineError('no_rules', 'rules must list at least one reward rule.', {
			field: 'rules',
		});
	}
	const ids = new Set<string>();
	const rules = identifyRules(raw.rules, (r, i, name) =>
		validateRule(r, i, { currency }, ids, name),
	);
	if (raw.caps !== undefined && !Array.isArray(raw.caps)) {
		throw new EngineError('invalid_cap', 'caps must be a list.', { field: 'caps' });
	}
	const capIds = new Set<string>();
	const caps = ((raw.caps as unknown[] | undefined) ?? []).map((c, i) =>
		validateCap(c, i, ids, capIds, currency),
	);
	const program: RewardProgram = { programId, holdingDays, timeZone, capWindowMode, rules, caps };
	if (currency) program.currency = currency;
	VALIDATED.add(program);
	return program;
}

export function ensureValidated(program: RewardProgram | RewardProgramConfig): RewardProgram {
	return VALIDATED.has(program) ? (program as RewardProgram) : validateRewardProgram(program);
}
