import { fromMinorUnits, roundToCurrency, toMinorUnits } from '../shared/money';
import { canonical } from './identity';
import type { PaidAward, PlanState } from './plan';
import {
	admit,
	againAfterLoss,
	applySpec,
	baseIntent,
	holdFor,
	type Planner,
	push,
	rewardIdempotencyKey,
} from './planner';
import type { AwardKind, MilestoneRule, PerReferralRule, StatusLevel, StatusRule } from './program';
import { milestoneSnapshot, statusSnapshot } from './standing';

/**
 * The planners of each kind of rule, run by `planAwards` (plan.ts) in this order: per-referral
 * rules (reconciled with what the referral was already paid), milestones, then status levels.
 */

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

export function planPerReferral(p: Planner, state: PlanState): void {
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

export function planMilestones(p: Planner, rule: MilestoneRule, state: PlanState): void {
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

export function planStatus(p: Planner, rule: StatusRule, state: PlanState): void {
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
