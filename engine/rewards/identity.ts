import { createHash } from 'node:crypto';

import { isRecord } from '../shared/guards';
import type { PerReferralRule, RewardRule } from './program';

/**
 * Reward rule identity, decided here and nowhere else (the node's form only maps its fields).
 *
 * - A rule's name (`id`) is a label: the one the configuration gives (text, trimmed; blank means
 *   none), else one made up from what the rule is ("referrer-points", then
 *   "referrer-points-2"; "milestones", "revenue-milestones"; "tiers-by-referrals", …).
 * - A per-referral rule's identity (`key`) is a hash of what it gives (side, event, reward, minimum
 *   order; not its name, label, holding period or position), with `#2`, `#3` for identical rules.
 *
 * Names are decided before validation (a validation error names the rule), keys after it (they hash
 * the validated content: currencies upper-cased, defaults filled). `identifyRules` does both.
 */

export const present = (v: unknown) => v !== undefined && v !== null && v !== '';

/** A rule's own name as the configuration gives it (text, trimmed), or undefined when blank or absent. */
function givenName(rule: Record<string, unknown>): string | undefined {
	return typeof rule.id === 'string' && rule.id.trim() !== '' ? rule.id.trim() : undefined;
}

/** How each configured rule is named before validation: its own name, or one the engine makes up. */
export interface RuleName {
	/** The name to validate the rule under; undefined when the rule has none and none can be made up (an invalid rule). */
	id: unknown;
	/** True when the configuration named the rule (a made-up name says nothing about identity). */
	named: boolean;
}

/**
 * The names of a program's configured rules, in order: a named rule keeps its name (trimmed), an
 * unnamed one gets one after its recipient and reward, metric or award, never one another rule holds.
 */
export function ruleNames(rules: readonly unknown[]): RuleName[] {
	const taken = new Set(
		rules.map((r) => (isRecord(r) ? (givenName(r) ?? '') : '')).filter(Boolean),
	);
	const seen = new Map<string, number>();
	return rules.map((r): RuleName => {
		if (!isRecord(r)) return { id: undefined, named: false };
		const given = givenName(r);
		// A validated program validated again (the service's subsets) keeps which names were made up.
		if (given !== undefined) return { id: given, named: r.named !== false };
		// Something that is not a name (a number, an object): validation refuses it as it stands.
		if (present(r.id) && typeof r.id !== 'string') return { id: r.id, named: true };
		let base: string;
		if (r.type === 'per_referral') {
			const kind =
				isRecord(r.reward) && typeof r.reward.kind === 'string' ? r.reward.kind : 'reward';
			base = `${typeof r.side === 'string' ? r.side : 'referrer'}-${kind}`;
		} else if (r.type === 'milestone')
			base = r.metric === 'referred_revenue' ? 'revenue-milestones' : 'milestones';
		else if (r.type === 'status')
			base = `${r.award === 'badge' ? 'badges' : 'tiers'}-by-${r.metric === 'points' ? 'points' : 'referrals'}`;
		else return { id: undefined, named: false };
		for (;;) {
			const count = (seen.get(base) ?? 0) + 1;
			seen.set(base, count);
			const id = count === 1 ? base : `${base}-${count}`;
			if (!taken.has(id)) {
				taken.add(id);
				return { id, named: false };
			}
		}
	});
}

/** Canonical JSON: object keys sorted, so equal content gives equal text. */
export function canonical(value: unknown): string {
	return JSON.stringify(value, (_k, v: unknown) =>
		v && typeof v === 'object' && !Array.isArray(v)
			? Object.fromEntries(
					Object.entries(v as Record<string, unknown>).sort(([a], [b]) =>
						a < b ? -1 : a > b ? 1 : 0,
					),
				)
			: v,
	);
}

/** A per-referral rule's content key: what it gives, not its name, label, holding period or position. */
export function ruleContentKey(rule: PerReferralRule): string {
	const { label: _label, ...reward } = rule.reward;
	const content = {
		side: rule.side,
		on: rule.on,
		reward,
		minOrderAmount: rule.minOrderAmount ?? 0,
	};
	return `pr_${createHash('sha256').update(canonical(content)).digest('hex').slice(0, 24)}`;
}

/**
 * Sets each validated per-referral rule's `key`. Identical rules are told apart by their rank among
 * themselves only, so reordering, renaming or adding other rules changes no rule's key.
 */
export function assignRuleKeys(rules: readonly RewardRule[]): void {
	const occurrences = new Map<string, number>();
	for (const rule of rules) {
		if (rule.type !== 'per_referral') continue;
		const base = ruleContentKey(rule);
		const count = (occurrences.get(base) ?? 0) + 1;
		occurrences.set(base, count);
		rule.key = count === 1 ? base : `${base}#${count}`;
	}
}

/**
 * A program's rule identities in one call: names the configured rules, validates each under its
 * name (`validate`, which throws naming the rule), and keys the validated per-referral rules.
 */
export function identifyRules<R extends RewardRule>(
	rules: readonly unknown[],
	validate: (rule: unknown, index: number, name: RuleName) => R,
): R[] {
	const names = ruleNames(rules);
	const validated = rules.map((rule, i) => validate(rule, i, names[i]));
	assignRuleKeys(validated);
	return validated;
}
