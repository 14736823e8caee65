import type { PointsEntry, RewardRecord } from '../ledger/store';
import type { RewardProgram, StatusRule, MilestoneRule, WhenBelowMinimum } from './program';

/**
 * A participant's standing: which badges and tiers they hold, and which they must lose when the
 * value that earned them (lifetime points, lifetime qualified referrals) falls below the minimum.
 *
 * Every badge or tier award written by this release carries a `standing` snapshot in its metadata:
 * the metric, the minimum and what happens below it (`whenBelowMinimum`: `demote`, the default, or
 * `keep`), and for tiers the ladder of the rule (every tier of it with its minimum), so a refund
 * (the Referral node, which does not know the reward program) can decide alone:
 * - a badge or tier whose value is now below its minimum is lost (`demote`) or kept (`keep`);
 * - after a tier is lost, the highest tier of the same rule still reached is held instead (granted
 *   when the participant does not hold it already).
 * Awards written before the snapshot existed, and revenue milestones, are kept (their minimum is not
 * known to the refund).
 */

export type StandingMetric = 'qualified_referrals' | 'points';

export interface StandingLevel {
	name: string;
	min: number;
	whenBelowMinimum: WhenBelowMinimum;
}

/** Stored in a badge or tier award's metadata as `standing`. */
export interface StandingSnapshot {
	metric: StandingMetric;
	min: number;
	whenBelowMinimum: WhenBelowMinimum;
	/** The kind of rule that gave it. */
	ruleType?: 'status' | 'milestone';
	/** Tiers: every tier of the rule, lowest first (for the tier held after a loss). */
	ladder?: StandingLevel[];
}

/** A badge or tier the participant holds (a non-reversed badge or tier award). */
export interface HeldRecognition {
	rewardId: number;
	ruleId: string;
	kind: 'badge' | 'tier';
	name: string;
	status: string;
	standing?: StandingSnapshot;
}

export interface StandingValues {
	qualified_referrals: number;
	points: number;
}

export interface LostRecognition {
	rewardId: number;
	ruleId: string;
	kind: 'badge' | 'tier';
	name: string;
	/** The status it was in (compare-and-set). */
	from: string;
	metric: StandingMetric;
	value: number;
	min: number;
}

export interface GrantedTier {
	ruleId: string;
	name: string;
	metric: StandingMetric;
	value: number;
	min: number;
	standing: StandingSnapshot;
}

export interface StandingPlan {
	lost: LostRecognition[];
	/** Lower tiers still reached that the participant does not hold yet. */
	granted: GrantedTier[];
	/** The tier and badges held afterwards. */
	tier: string | null;
	badges: string[];
}

/** `<rule>|<name>`: how many times a badge or tier of a rule was lost, for the key of its next award. */
export function recognitionKey(ruleId: string, name: string): string {
	return `${ruleId}|${name}`;
}

/** A status level's snapshot (with the ladder for tiers). */
export function statusSnapshot(rule: StatusRule, levelName: string): StandingSnapshot {
	const level = rule.levels.find((l) => l.name === levelName)!;
	const snapshot: StandingSnapshot = {
		ruleType: 'status',
		metric: rule.metric,
		min: level.min,
		whenBelowMinimum: level.whenBelowMinimum ?? 'demote',
	};
	if (rule.award === 'tier')
		snapshot.ladder = rule.levels.map((l) => ({
			name: l.name,
			min: l.min,
			whenBelowMinimum: l.whenBelowMinimum ?? 'demote',
		}));
	return snapshot;
}

/** A milestone badge or tier's snapshot; none for revenue milestones or repeating ones (kept). */
export function milestoneSnapshot(
	rule: MilestoneRule,
	threshold: number,
): StandingSnapshot | undefined {
	if (rule.metric !== 'qualified_referrals') return undefined;
	const m = rule.milestones.find((x) => x.threshold === threshold);
	if (!m || m.repeatEvery !== undefined || (m.badge === undefined && m.tier === undefined))
		return undefined;
	const snapshot: StandingSnapshot = {
		ruleType: 'milestone',
		metric: 'qualified_referrals',
		min: threshold,
		whenBelowMinimum: m.whenBelowMinimum ?? 'demote',
	};
	if (m.tier !== undefined) {
		snapshot.ladder = rule.milestones
			.filter((x) => x.tier !== undefined && x.repeatEvery === undefined)
			.sort((a, b) => a.threshold - b.threshold)
			.map((x) => ({
				name: x.tier as string,
				min: x.threshold,
				whenBelowMinimum: x.whenBelowMinimum ?? 'demote',
			}));
	}
	return snapshot;
}

/** The snapshot for a badge or tier a rule of this program gives (undefined when the program has none for it). */
export function snapshotFor(
	program: RewardProgram,
	ruleId: string,
	kind: 'badge' | 'tier',
	name: string,
): StandingSnapshot | undefined {
	const rule = program.rules.find((r) => r.id === ruleId);
	if (rule?.type === 'status' && rule.award === kind && rule.levels.some((l) => l.name === name))
		return statusSnapshot(rule, name);
	if (rule?.type === 'milestone') {
		const m = rule.milestones.find((x) => (kind === 'badge' ? x.badge : x.tier) === name);
		if (m) return milestoneSnapshot(rule, m.threshold);
	}
	return undefined;
}

function isSnapshot(value: unknown): value is StandingSnapshot {
	if (!value || typeof value !== 'object') return false;
	const s = value as Record<string, unknown>;
	return (
		(s.metric === 'points' || s.metric === 'qualified_referrals') &&
		typeof s.min === 'number' &&
		(s.whenBelowMinimum === 'demote' || s.whenBelowMinimum === 'keep')
	);
}

/** The badges and tiers a participant holds, from their reward records (oldest first). */
export function heldRecognitions(rewards: RewardRecord[]): HeldRecognition[] {
	const out: HeldRecognition[] = [];
	for (const r of [...rewards].sort((a, b) => a.id - b.id)) {
		if (r.status === 'reversed' || (r.kind !== 'badge' && r.kind !== 'tier')) continue;
		const m = r.metadata ?? {};
		const name = r.kind === 'badge' ? m.badge : m.tier;
		if (typeof name !== 'string') continue;
		out.push({
			rewardId: r.id,
			ruleId: r.rule,
			kind: r.kind,
			name,
			status: r.status,
			...(isSnapshot(m.standing) ? { standing: m.standing } : {}),
		});
	}
	return out;
}

/** How many times each badge or tier was lost (reversed), by `recognitionKey`. */
export function lostCounts(rewards: RewardRecord[]): Record<string, number> {
	const out: Record<string, number> = {};
	for (const r of rewards) {
		if (r.status !== 'reversed' || (r.kind !== 'badge' && r.kind !== 'tier')) continue;
		const name = r.kind === 'badge' ? r.metadata?.badge : r.metadata?.tier;
		if (typeof name !== 'string') continue;
		const key = recognitionKey(r.rule, name);
		out[key] = (out[key] ?? 0) + 1;
	}
	return out;
}

/**
 * Lifetime points for standing: every credit, less what claw-backs took back (a refund takes the
 * points a referral earned out of the lifetime total); spending points (redemptions) does not lower it.
 */
export function lifetimePointsOf(journal: PointsEntry[]): number {
	let total = 0;
	for (const entry of journal)
		if (entry.delta > 0 || entry.reason === 'clawback') total += entry.delta;
	return Math.max(0, total);
}

/** Which held badges and tiers stay, which are lost, and which lower tier is held instead. Pure. */
export function planStanding(held: HeldRecognition[], values: StandingValues): StandingPlan {
	const lost: LostRecognition[] = [];
	const keep: HeldRecognition[] = [];
	for (const h of held) {
		const s = h.standing;
		const value = s ? values[s.metric] : 0;
		if (s && s.whenBelowMinimum === 'demote' && value < s.min) {
			lost.push({
				rewardId: h.rewardId,
				ruleId: h.ruleId,
				kind: h.kind,
				name: h.name,
				from: h.status,
				metric: s.metric,
				value,
				min: s.min,
			});
		} else keep.push(h);
	}
	const granted: GrantedTier[] = [];
	const lostTierRules = new Map<string, StandingSnapshot>();
	for (const l of lost) {
		const h = held.find((x) => x.rewardId === l.rewardId)!;
		if (l.kind === 'tier' && h.standing?.ladder && !lostTierRules.has(l.ruleId))
			lostTierRules.set(l.ruleId, h.standing);
	}
	for (const [ruleId, s] of lostTierRules) {
		const value = values[s.metric];
		const reached = (s.ladder ?? []).filter((level) => level.min <= value).at(-1);
		if (!reached) continue;
		if (keep.some((k) => k.kind === 'tier' && k.ruleId === ruleId && k.name === reached.name))
			continue;
		// Another tier of the rule still held (a kept one above it) stands; nothing to grant.
		if (
			keep.some(
				(k) => k.kind === 'tier' && k.ruleId === ruleId && (k.standing?.min ?? -1) > reached.min,
			)
		)
			continue;
		granted.push({
			ruleId,
			name: reached.name,
			metric: s.metric,
			value,
			min: reached.min,
			standing: {
				...(s.ruleType ? { ruleType: s.ruleType } : {}),
				metric: s.metric,
				min: reached.min,
				whenBelowMinimum: reached.whenBelowMinimum,
				ladder: s.ladder,
			},
		});
	}
	const tiers = [
		...keep.filter((k) => k.kind === 'tier').map((k) => k.name),
		...granted.map((g) => g.name),
	];
	return {
		lost,
		granted,
		tier: tiers.at(-1) ?? null,
		badges: [...new Set(keep.filter((k) => k.kind === 'badge').map((k) => k.name))],
	};
}
