import { EngineError } from '../shared/errors';
import { periodWindow, type TimeWindow } from '../shared/periods';
import {
	requireInteger,
	requireOneOf,
	requireRecord,
	requireText,
	requireTime,
} from '../shared/guards';
import {
	parseCurrency,
	requireAmount,
	requireOrderAmount,
	roundToCurrency,
	toMinorUnits,
} from '../shared/money';
import type {
	AwardKind,
	RewardCap,
	RewardEventType,
	RewardProgram,
	RewardProgramConfig,
	RuleSide,
	RuleType,
} from './program';
import { REWARD_EVENTS, RULE_SIDES, VALUE_KINDS } from './program';
import type { StandingSnapshot } from './standing';
import type { Planner } from './planner';
import { planMilestones, planPerReferral, planStatus } from './planRules';
import { ensureValidated } from './validateProgram';

export { rewardIdempotencyKey } from './planner';

/**
 * `planAwards`: the pure decision of which rewards an event earns under a validated program
 * (types in `program.ts`, validation in `validateProgram.ts`; each kind of rule is planned in
 * `planRules.ts`, with the award key, hold and cap helpers of `planner.ts`).
 */

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
	side: RuleSide;
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

export type SkipReason =
	'cap_reached' | 'below_min_order' | 'no_order_amount' | 'currency_mismatch' | 'zero_amount';

export interface AwardIntent {
	/** Stable hash of (programId, recipientId, ruleId, earning event); unique in the ledger. */
	idempotencyKey: string;
	programId: string;
	recipientId: string;
	side: RuleSide;
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
		throw new EngineError(
			'self_referral',
			'referrerId and refereeId are the same participant; such a referral earns no reward.',
			{ field: 'refereeId' },
		);
	}
	if (e.order !== undefined && e.order !== null) {
		const o = requireRecord(e.order, 'order');
		const currency = parseCurrency(o.currency, 'order.currency');
		// The program's maximum was checked when the order qualified; here the amount must be a real one.
		event.order = {
			amount: requireOrderAmount(o.amount, currency, 'order.amount', Number.MAX_SAFE_INTEGER),
			currency,
		};
		if (o.id !== undefined) event.order.id = requireText(o.id, 'order.id');
	}
	return event;
}

function paidAwards(raw: unknown): PaidAward[] {
	if (raw === undefined || raw === null) return [];
	if (!Array.isArray(raw))
		throw new EngineError('invalid_state', 'paid must be a list.', { field: 'paid' });
	return raw.map((a, i) => {
		const r = requireRecord(a, `paid[${i}]`);
		const award: PaidAward = {
			rewardId: requireText(String(r.rewardId ?? ''), `paid[${i}].rewardId`),
			idempotencyKey: requireText(r.idempotencyKey, `paid[${i}].idempotencyKey`),
			recipientId: requireText(String(r.recipientId ?? ''), `paid[${i}].recipientId`),
			side: requireOneOf(r.side, `paid[${i}].side`, RULE_SIDES),
			evaluation: requireText(r.evaluation, `paid[${i}].evaluation`),
			kind: requireOneOf(r.kind, `paid[${i}].kind`, [...VALUE_KINDS, 'badge', 'tier'] as const),
			rule: requireText(r.rule, `paid[${i}].rule`),
		};
		if (typeof r.ruleKey === 'string') award.ruleKey = r.ruleKey;
		if (typeof r.slot === 'number') award.slot = r.slot;
		for (const key of ['points', 'amount', 'percentOff'] as const)
			if (typeof r[key] === 'number') award[key] = r[key];
		for (const key of ['currency', 'customType'] as const)
			if (typeof r[key] === 'string') award[key] = r[key];
		return award;
	});
}

function lostOf(raw: unknown): Record<string, number> {
	if (raw === undefined || raw === null) return {};
	const out: Record<string, number> = {};
	for (const [key, value] of Object.entries(requireRecord(raw, 'lost')))
		out[key] = requireInteger(value, `lost.${key}`, 0);
	return out;
}

/** The referrer's state as the rule planners (`planRules.ts`) read it, validated. */
export type PlanState = ReturnType<typeof validateState>;

function validateState(
	raw: unknown,
	event: RewardEvent,
): Required<Omit<ReferrerState, 'tier' | 'qualifiedReferralIds'>> &
	Pick<ReferrerState, 'tier' | 'qualifiedReferralIds'> {
	const s = requireRecord(raw, 'state');
	const qualifiedCount = requireInteger(s.qualifiedCount, 'qualifiedCount', 0);
	if (event.type === 'referral_qualified' && qualifiedCount < 1) {
		throw new EngineError(
			'invalid_state',
			'qualifiedCount must include the referral that just qualified (at least 1).',
			{ field: 'qualifiedCount' },
		);
	}
	const revenue: Record<string, number> = {};
	if (s.referredRevenue !== undefined) {
		for (const [cur, value] of Object.entries(
			requireRecord(s.referredRevenue, 'referredRevenue'),
		)) {
			revenue[parseCurrency(cur, 'referredRevenue')] = requireAmount(
				value,
				`referredRevenue.${cur}`,
				{ allowZero: true },
			);
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
		if (!Array.isArray(s[key]))
			throw new EngineError('invalid_state', `${key} must be a list.`, { field: key });
		return (s[key] as unknown[]).map((v, i) => requireText(v, `${key}[${i}]`));
	};
	return {
		qualifiedCount,
		referredRevenue: revenue,
		lifetimePoints:
			s.lifetimePoints === undefined ? 0 : requireInteger(s.lifetimePoints, 'lifetimePoints', 0),
		badges: list('badges') ?? [],
		tier: s.tier === undefined || s.tier === null ? null : requireText(s.tier, 'tier'),
		lost: lostOf(s.lost),
		capUsage: usage,
		qualifiedReferralIds: list('qualifiedReferralIds'),
		paid: paidAwards(s.paid),
	};
}

/**
 * Decides every award an event earns. Pure and deterministic: the same program, event and state
 * always give the same intents with the same idempotency keys, so the service can run it inside
 * a ledger transaction and a replay (n8n retry, duplicate webhook) inserts nothing new.
 *
 * Order: per-referral rules, then milestones, then status levels (which see the points just
 * planned), each in configuration order; caps are applied in that order too.
 */
export function planAwards(
	program: RewardProgram | RewardProgramConfig,
	event: RewardEvent,
	state: ReferrerState,
): AwardPlan {
	const prog = ensureValidated(program);
	const ev = validateEvent(event);
	const st = validateState(state, ev);
	const usage = new Map<string, { count: number; valueMinor: number }>();
	for (const cap of prog.caps) {
		const u = st.capUsage[cap.id] ?? { count: 0, value: 0 };
		usage.set(cap.id, {
			count: u.count,
			valueMinor:
				cap.unit === undefined
					? 0
					: cap.unit === 'points'
						? u.value
						: toMinorUnits(roundToCurrency(u.value, cap.unit), cap.unit),
		});
	}
	const planner: Planner = { program: prog, event: ev, usage, awards: [], skipped: [] };
	planPerReferral(planner, st);
	for (const rule of prog.rules) if (rule.type === 'milestone') planMilestones(planner, rule, st);
	for (const rule of prog.rules) if (rule.type === 'status') planStatus(planner, rule, st);
	return { awards: planner.awards, skipped: planner.skipped };
}
