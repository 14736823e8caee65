import { createHash } from 'node:crypto';

import { DAY_MS } from '../shared/time';
import { roundToCurrency, toMinorUnits } from '../shared/money';
import type { AwardIntent, RewardEvent } from './plan';
import type {
	AwardKind,
	MilestoneRule,
	PerReferralRule,
	RewardCap,
	RewardProgram,
	RewardRule,
	RuleSide,
	RewardSpec,
} from './program';
import { recognitionKey } from './standing';

/**
 * What the rule planners (`planRules.ts`) share while `planAwards` (plan.ts) decides one event:
 * the award key, the intent every award starts from, its reward, its hold, and the caps it must fit.
 */

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

/** The earning event of a badge or tier: the first time as always, again after each loss with `#<n>`. */
export function againAfterLoss(
	earning: string,
	st: { lost: Record<string, number> },
	ruleId: string,
	name: string,
): string {
	const times = st.lost[recognitionKey(ruleId, name)] ?? 0;
	return times === 0 ? earning : `${earning}#${times + 1}`;
}

export interface Planner {
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

export function holdFor(
	p: Planner,
	rule: PerReferralRule | MilestoneRule,
	intent: AwardIntent,
): void {
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
export function admit(p: Planner, intent: AwardIntent): boolean {
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

export function push(p: Planner, intent: AwardIntent): void {
	if (intent.status === 'skipped') p.skipped.push(intent);
	else if (admit(p, intent)) p.awards.push(intent);
	else p.skipped.push(intent);
}

export function baseIntent(
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

export function applySpec(p: Planner, intent: AwardIntent, spec: RewardSpec): void {
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
