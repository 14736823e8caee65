import { createHash } from 'node:crypto';

import { EngineError } from '../shared/errors';
import { periodWindow, type TimeWindow } from '../shared/periods';
import { DAY_MS } from '../shared/time';
import {
	requireInteger,
	requireOneOf,
	requireRecord,
	requireText,
	requireTime,
} from '../shared/guards';
import {
	fromMinorUnits,
	parseCurrency,
	requireAmount,
	requireOrderAmount,
	roundToCurrency,
	toMinorUnits,
} from '../shared/money';
import { canonical } from './identity';
import type {
	AwardKind,
	MilestoneRule,
	PerReferralRule,
	RewardCap,
	RewardEventType,
	RewardProgram,
	RewardProgramConfig,
	RewardRule,
	RuleSide,
	RewardSpec,
	RuleType,
	StatusLevel,
	StatusRule,
} from './program';
import { REWARD_EVENTS, RULE_SIDES, VALUE_KINDS } from './program';
import {
	milestoneSnapshot,
	recognitionKey,
	type StandingSnapshot,
	statusSnapshot,
} from './standing';
import { ensureValidated } from './validateProgram';

/**
 * `planAwards`: the pure decision of which rewards an event earns under a validated program
 * (types in `program.ts`, validation in `validateProgram.ts`).
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

/** `rw_` + 40 hex characters of SHA-256 over the four parts; the parts are JSON-encoded so no separator can collide. */
export function rewardIdempotencyKey(
	programId: string,
	recipientId: string,
	ruleId: string,
	earningEventId: string,
): string {
	const digest = createHash('sha256')
		.update(JSON.stringify([programId, recipientId, ruleId, earningEventId]))
		.digest('hex');
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

/** The earning event of a badge or tier: the first time as always, again after each loss with `#<n>`. */
function againAfterLoss(
	earning: string,
	st: { lost: Record<string, number> },
	ruleId: string,
	name: string,
): string {
	const times = st.lost[recognitionKey(ruleId, name)] ?? 0;
	return times === 0 ? earning : `${earning}#${times + 1}`;
}

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
	if (intent.amount !== undefined && intent.currency === cap.unit && intent.kind !== 'points')
		return toMinorUnits(intent.amount, cap.unit);
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
		const maxMinor =
			cap.maxValue === undefined
				? undefined
				: cap.unit === 'points'
					? cap.maxValue
					: toMinorUnits(cap.maxValue, cap.unit as string);
		const valueFull =
			maxMinor !== undefined && value !== null && used.valueMinor + value > maxMinor;
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
	side: RuleSide,
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
				intent.amount = roundToCurrency(
					(order.amount * (spec.percentOfOrder as number)) / 100,
					order.currency,
				);
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
			if (spec.couponValidDays !== undefined)
				intent.coupon.expiresAt = p.event.occurredAt + Math.round(spec.couponValidDays * DAY_MS);
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
function specSignature(
	kind: AwardKind,
	v: {
		points?: number;
		amount?: number;
		currency?: string;
		percentOff?: number;
		customType?: string;
	},
): string {
	return canonical([
		kind,
		v.points ?? null,
		v.amount ?? null,
		v.currency ?? null,
		v.percentOff ?? null,
		v.customType ?? null,
	]);
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
		const score = (r: PerReferralRule) =>
			(r.named && r.id === award.rule ? 0 : 2) +
			(specSignature(r.reward.kind, r.reward) === signature ? 0 : 1);
		let best = 0;
		for (let j = 1; j < open.length; j++) if (score(open[j]) < score(open[best])) best = j;
		matched.set(open[best], award);
		open.splice(best, 1);
	}
	return matched;
}

function planPerReferral(p: Planner, state: ReturnType<typeof validateState>): void {
	const rules = p.program.rules.filter(
		(r): r is PerReferralRule => r.type === 'per_referral' && r.on === p.event.type,
	);
	const evaluation = `${p.event.type}:${p.event.referralId}`;
	const groups = new Map<string, { rules: PerReferralRule[]; paid: PaidAward[] }>();
	const groupOf = (side: string, kind: string) => {
		const name = `${side}:${kind}`;
		let group = groups.get(name);
		if (!group) groups.set(name, (group = { rules: [], paid: [] }));
		return group;
	};
	for (const rule of rules) groupOf(rule.side, rule.reward.kind).rules.push(rule);
	for (const award of state.paid)
		if (award.evaluation === evaluation) groupOf(award.side, award.kind).paid.push(award);
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
		const intent = baseIntent(p, rule, recipientId, rule.side, rule.reward.kind, evaluation, [
			p.event.referralId,
		]);
		intent.ruleKey = rule.key;
		const award = existing.get(rule);
		if (award) {
			// Paid already (by this rule, or by the rule it was edited from): the stored award is the answer.
			intent.idempotencyKey = award.idempotencyKey;
			intent.existingRewardId = award.rewardId;
			intent.kind = award.kind;
			for (const key of ['points', 'amount', 'currency', 'percentOff', 'customType'] as const)
				if (award[key] !== undefined)
					(intent as unknown as Record<string, unknown>)[key] = award[key];
			push(p, intent);
			continue;
		}
		applySpec(p, intent, rule.reward);
		if (
			rule.minOrderAmount !== undefined &&
			(!p.event.order || p.event.order.amount < rule.minOrderAmount)
		) {
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
		intent.idempotencyKey = rewardIdempotencyKey(
			p.program.programId,
			recipientId,
			`slot:${rule.side}:${rule.reward.kind}#${intent.slot}`,
			evaluation,
		);
		p.awards.push(intent);
	}
}

/** Values a milestone fires at within (previous, current]. Bounded so a huge jump cannot loop for long. */
function firingValues(
	m: { at: number; every?: number },
	previous: number,
	current: number,
): number[] {
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

function planMilestones(
	p: Planner,
	rule: MilestoneRule,
	state: ReturnType<typeof validateState>,
): void {
	if (p.event.type !== 'referral_qualified') return;
	const byCount = rule.metric === 'qualified_referrals';
	let previous: number;
	let current: number;
	if (byCount) {
		current = state.qualifiedCount;
		previous = current - 1;
	} else {
		const currency = rule.currency as string;
		current = toMinorUnits(
			roundToCurrency(state.referredRevenue[currency] ?? 0, currency),
			currency,
		);
		// Only an order in the rule's currency moves this rule's revenue.
		const contribution =
			p.event.order && p.event.order.currency === currency
				? toMinorUnits(p.event.order.amount, currency)
				: 0;
		previous = current - contribution;
	}
	rule.milestones.forEach((m) => {
		const scaled = byCount
			? { at: m.threshold, every: m.repeatEvery }
			: {
					at: toMinorUnits(m.threshold, rule.currency as string),
					every:
						m.repeatEvery === undefined
							? undefined
							: toMinorUnits(m.repeatEvery, rule.currency as string),
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
			const intent = baseIntent(
				p,
				rule,
				p.event.referrerId,
				'referrer',
				kind,
				name === undefined ? earning : againAfterLoss(earning, state, rule.id, name),
				referralIds,
			);
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
	const value =
		rule.metric === 'qualified_referrals'
			? state.qualifiedCount
			: state.lifetimePoints + pointsThisEvent;
	const reached = rule.levels.filter((l) => value >= l.min);
	const grant = (level: StatusLevel) => {
		const intent = baseIntent(
			p,
			rule,
			p.event.referrerId,
			'referrer',
			rule.award,
			againAfterLoss(`level:${level.name}`, state, rule.id, level.name),
			[p.event.referralId],
		);
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
