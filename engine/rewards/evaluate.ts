import { createHash } from 'node:crypto';
import { CodeGenerator } from '../codes';
import { EngineError } from '../shared/errors';
import {
	allPages,
	type Id,
	type LedgerStore,
	type OweMessageInput,
	type PointsEntry,
	type ReferralRecord,
	type RewardRecord,
} from '../ledger';
import { PAGE, QUALIFIED, RewardAccount, type RewardAccountOptions } from './account';
import { meta, type RewardItem, type SkippedReward } from './items';
import { KeyedMutex } from './keyedMutex';
import { describeReward, REWARD_NOTICE_TOPIC, rewardNoticeKey } from './notices';
import { type AwardIntent, capWindow, type PaidAward, planAwards } from './plan';
import type {
	RewardCap,
	RewardEventType,
	RewardProgram,
	RewardProgramConfig,
	RewardRule,
	RuleType,
} from './program';
import { lostCounts } from './standing';
import { validateRewardProgram } from './validateProgram';

/**
 * The reward service: runs a validated reward program against the referral ledger.
 * `planAwards` decides; this file loads the state it needs and writes each award with the
 * intent's idempotency key (the ledger's unique key, not our care, makes it exactly once).
 * What needs no rules (approve, fulfil, reverse, status, …) is the `RewardAccount` it extends.
 */

/** Referral statuses in which the referee has signed up (the referee_signup event happened). */
const SIGNED_UP: readonly string[] = ['pending', 'approved', 'qualified'];
/** A milestone or level another referral's evaluation already holds: not this evaluation's, not a skip. */
const HELD_ELSEWHERE = 'held_by_another_referral';

export interface EvaluationResult {
	referralId: number;
	referralStatus: string;
	events: RewardEventType[];
	rewards: RewardItem[];
	skipped: SkippedReward[];
	/** The rewards the answer's notices are about: written by this evaluation or an earlier run of it (not by another program). */
	noticeRewardIds?: number[];
}

export interface RewardServiceOptions extends RewardAccountOptions {
	/** Emit `coupon.pool_low` when a pool claim leaves fewer than this many coupons (default 10; 0 = never). */
	lowStockThreshold?: number;
	/**
	 * Evaluate one referrer's referrals one at a time in this process (default true), so they need
	 * not contend for the ledger's lease. Correctness never depends on it: the ledger's unique keys
	 * make each award once, and with caps the ledger's lease orders evaluations across processes
	 * (tests switch it off to race the ledger directly, as separate workers would).
	 */
	serializePerReferrer?: boolean;
	/**
	 * Owe each rewarded person an email in the award's own transaction (topic `reward.earned`, key
	 * `referral-<referral>-rewarded-<person>`, one per person and evaluation, its `lines` and `rewards`
	 * collected over the evaluation's awards), for a message step to deliver from the ledger.
	 */
	oweNotices?: boolean;
}

interface ReferrerSnapshot {
	qualified: ReferralRecord[];
	rewards: RewardRecord[];
	/** The referral's own rewards (both sides), for reconciling per-referral rules after program edits. */
	ofReferral: RewardRecord[];
	/** The evaluated referral. */
	referralId: number;
}

const referrerLocks = new KeyedMutex();

/** The kind of rule that wrote a reward (rewards written before `ruleType` was stored: from what earned them). */
function ruleTypeOf(record: RewardRecord): RuleType {
	const m = meta(record);
	const by = m.earnedBy as AwardIntent['earnedBy'] | undefined;
	return (
		(m.ruleType as RuleType | undefined) ??
		(by?.milestone !== undefined
			? 'milestone'
			: by?.level !== undefined
				? 'status'
				: 'per_referral')
	);
}

function sortQualified(list: ReferralRecord[]): ReferralRecord[] {
	return list.sort(
		(a, b) => (a.qualifiedAt ?? a.updatedAt) - (b.qualifiedAt ?? b.updatedAt) || a.id - b.id,
	);
}

export class RewardService extends RewardAccount {
	readonly program: RewardProgram;
	private readonly lowStock: number;
	private readonly serialize: boolean;
	private readonly oweNotices: boolean;
	private readonly generators = new Map<string, CodeGenerator>();
	/** The program's referee_signup rules alone; undefined when it has none. */
	private readonly signupProgram?: RewardProgram;
	/**
	 * The rules a referral's rank among the referrer's qualified referrals decides (milestones, and
	 * levels by qualified referrals), for the referrals a late order moved up; undefined when none.
	 */
	private readonly historyProgram?: RewardProgram;
	private programDigest?: string;
	private readonly needs: {
		qualified: boolean;
		revenue: boolean;
		order: boolean;
		lifetimePoints: boolean;
		rewards: boolean;
	};

	constructor(
		ledger: LedgerStore,
		program: RewardProgram | RewardProgramConfig,
		options: RewardServiceOptions = {},
	) {
		const validated = validateRewardProgram(program);
		super(ledger, validated.programId, options);
		this.program = validated;
		this.lowStock = options.lowStockThreshold ?? 10;
		if (!Number.isInteger(this.lowStock) || this.lowStock < 0) {
			throw new EngineError(
				'invalid_value',
				'lowStockThreshold must be a whole number, 0 to never warn.',
				{ field: 'lowStockThreshold' },
			);
		}
		this.serialize = options.serializePerReferrer ?? true;
		this.oweNotices = options.oweNotices === true;
		const rules = this.program.rules;
		// A sign-up moves no count: only its own rules run on it, never milestones or status levels.
		const signupRules = rules.filter((r) => r.type === 'per_referral' && r.on === 'referee_signup');
		if (signupRules.length) {
			this.signupProgram = validateRewardProgram({
				...this.program,
				rules: signupRules,
				caps: this.subsetCaps(signupRules),
			});
		}
		const historyRules = rules.filter(
			(r) => r.type === 'milestone' || (r.type === 'status' && r.metric === 'qualified_referrals'),
		);
		if (historyRules.length)
			this.historyProgram = validateRewardProgram({
				...this.program,
				rules: historyRules,
				caps: this.subsetCaps(historyRules),
			});
		// Load only the state some rule reads: a program of per-referral points needs none of it.
		this.needs = {
			qualified: rules.some((r) => r.type !== 'per_referral'),
			revenue: rules.some((r) => r.type === 'milestone' && r.metric === 'referred_revenue'),
			order: rules.some(
				(r) =>
					(r.type === 'milestone' && r.metric === 'referred_revenue') ||
					(r.type === 'per_referral' &&
						(r.minOrderAmount !== undefined || r.reward.percentOfOrder !== undefined)),
			),
			lifetimePoints: rules.some((r) => r.type === 'status' && r.metric === 'points'),
			rewards: this.program.caps.length > 0 || rules.some((r) => r.type !== 'per_referral'),
		};
	}

	/** The caps that still apply to a subset of the rules (a cap naming only other rules is dropped). */
	private subsetCaps(subset: RewardRule[]): RewardCap[] {
		const ids = new Set(subset.map((r) => r.id));
		return this.program.caps
			.map((c) => (c.ruleIds ? { ...c, ruleIds: c.ruleIds.filter((id) => ids.has(id)) } : c))
			.filter((c) => !c.ruleIds || c.ruleIds.length > 0);
	}

	// ------------------------------------------------------------------ evaluate and award

	/**
	 * Plans and writes every reward a referral has earned so far: the referee_signup rules once
	 * the referee signed up, the referral_qualified rules (and milestones, status levels) once it
	 * qualified. Safe to repeat: each award's idempotency key makes a replay write nothing.
	 */
	async evaluateReferral(referralId: Id): Promise<EvaluationResult> {
		const referral = await this.ledger.getReferral({ programId: this.programId, id: referralId });
		if (!referral) {
			throw new EngineError(
				'unknown_referral',
				`No referral ${String(referralId)} in program "${this.programId}".`,
				{ field: 'referralId' },
			);
		}
		// Caps count what the referrer already got, and milestones and levels go by the referral's
		// rank among the referrer's qualified referrals (a late order moves the later ones up), so two
		// evaluations of one referrer must not interleave, not even in two n8n workers: the ledger's
		// lease orders them across processes.
		const lease = { programId: this.programId, name: `rewards:referrer:${referral.referrerId}` };
		const leased = this.program.caps.length > 0 || this.historyProgram !== undefined;
		const evaluate = () =>
			leased
				? this.ledger.withLease(lease, () => this.evaluateLoaded(referral))
				: this.evaluateLoaded(referral);
		if (!this.serialize) return await evaluate();
		return await referrerLocks.run(`${this.programId}:${referral.referrerId}`, evaluate);
	}

	private async evaluateLoaded(referral: ReferralRecord): Promise<EvaluationResult> {
		const result: EvaluationResult = {
			referralId: referral.id,
			referralStatus: referral.status,
			events: [],
			rewards: [],
			skipped: [],
		};
		if (referral.refereeId === null) return result;
		const events: RewardEventType[] = [];
		if (this.signupProgram && SIGNED_UP.includes(referral.status)) events.push('referee_signup');
		if (QUALIFIED.includes(referral.status)) events.push('referral_qualified');
		if (events.length === 0) {
			// A refund reversed the referral since it was evaluated: the same evaluation again (a retry,
			// n8n re-running the execution) answers like the first did. List Rewards shows what stands now.
			if (referral.status === 'reversed') {
				const kept = await this.ledger.keptAnswer({
					programId: this.programId,
					operation: 'evaluation',
					key: this.evaluationKey(referral.id),
				});
				if (kept) return await this.fromKept(kept);
			}
			return result;
		}
		result.events = events;
		const snapshot: ReferrerSnapshot = {
			qualified:
				this.needs.qualified || this.needs.revenue
					? await this.qualifiedOf(referral.referrerId)
					: [],
			rewards: this.needs.rewards ? await this.rewardsOf(referral.referrerId) : [],
			ofReferral: await this.rewardsOfReferral(referral.id),
			referralId: referral.id,
		};
		for (const type of events) {
			await this.planAndWrite(
				referral,
				type,
				type === 'referee_signup' ? (this.signupProgram as RewardProgram) : this.program,
				snapshot,
				result,
			);
		}
		// The milestones and levels this referral reached at an earlier rank are still its own: a late
		// order moved it up, but what it earned stands and a replay answers with it.
		const listed = new Set(result.rewards.map((r) => r.id));
		for (const record of snapshot.rewards) {
			const m = meta(record);
			if (
				listed.has(record.id) ||
				ruleTypeOf(record) === 'per_referral' ||
				!events.some((type) => m.evaluation === `${type}:${referral.id}`)
			)
				continue;
			await this.answer(result, { ...(await this.rewardItem(record)), replayed: true }, record);
		}
		// A late order (one that qualified before referrals already evaluated) moves every later
		// referral one rank up: the milestones and levels they reach at their new rank are written
		// now, each for the referral that reaches it, so the rewards do not depend on arrival order.
		if (events.includes('referral_qualified') && this.historyProgram) {
			// Only referrals already evaluated at their old rank need it: those with rewards of their
			// own, or whose conversion arrived before this one (two workers may commit conversions in
			// another order than their dates). One not evaluated yet reaches its rank in its own evaluation.
			const rank = snapshot.qualified.findIndex((r) => r.id === referral.id);
			const later = rank === -1 ? [] : snapshot.qualified.slice(rank + 1);
			if (later.length) {
				const arrivals = await this.arrivalsOf([referral.id, ...later.map((r) => r.id)]);
				const mine = arrivals.get(referral.id) ?? Infinity;
				const evaluated = new Set(snapshot.rewards.map((r) => meta(r).evaluation));
				for (const moved of later) {
					if (moved.refereeId === null) continue;
					if (
						evaluated.has(`referral_qualified:${moved.id}`) ||
						(arrivals.get(moved.id) ?? -Infinity) < mine
					) {
						await this.planAndWrite(
							moved,
							'referral_qualified',
							this.historyProgram,
							snapshot,
							null,
						);
					}
				}
			}
		}
		if (result.rewards.length > 0) await this.keepEvaluation(result);
		return result;
	}

	/** The program's rules as evaluated, hashed: an evaluation under an edited program is another request. */
	private get programKey(): string {
		this.programDigest ??= createHash('sha256')
			.update(JSON.stringify(this.program))
			.digest('hex')
			.slice(0, 40);
		return this.programDigest;
	}

	/** An evaluation's key: the referral and the program it was evaluated under. */
	private evaluationKey(referralId: number): string {
		return `${referralId}:${this.programKey}`;
	}

	/**
	 * Adds a reward to the evaluation's answer. It is in the answer's notices when this evaluation
	 * wrote it, or an earlier run of the same evaluation (same referral, same program) did: a replay
	 * notifies like the first run, while a reward written under another program is not news.
	 */
	private async answer(
		result: EvaluationResult,
		item: RewardItem,
		record: RewardRecord,
	): Promise<void> {
		result.rewards.push(item);
		if (!item.replayed || meta(record).programKey === this.programKey)
			(result.noticeRewardIds ??= []).push(item.id);
	}

	/** Keeps the first answer of an evaluation that rewarded something, without the email addresses (read again on a replay). */
	private async keepEvaluation(result: EvaluationResult): Promise<void> {
		const where = {
			programId: this.programId,
			operation: 'evaluation',
			key: this.evaluationKey(result.referralId),
		};
		if (await this.ledger.keptAnswer(where)) return;
		const rewards = result.rewards.map(({ email: _email, replayed: _replayed, ...rest }) => rest);
		await this.ledger.keepAnswer({ ...where, answer: { ...result, rewards } });
	}

	private async fromKept(kept: Record<string, unknown>): Promise<EvaluationResult> {
		const first = kept as unknown as EvaluationResult;
		const rewards: RewardItem[] = [];
		for (const r of first.rewards)
			rewards.push({
				...r,
				email: (await this.items.participant(r.recipientId))?.email ?? null,
				replayed: true,
			});
		return { ...first, rewards };
	}

	/**
	 * Plans one event of one referral and writes what it earned. `result` receives what this
	 * referral's own evaluation answers (null for a catch-up of a later referral). A milestone or
	 * level is the referrer's once: when the ledger holds it already, for whichever referral reached
	 * it first, nothing is issued or written (no coupon, no award) and it is answered only by the
	 * evaluation it belongs to.
	 */
	private async planAndWrite(
		referral: ReferralRecord,
		type: RewardEventType,
		program: RewardProgram,
		snapshot: ReferrerSnapshot,
		result: EvaluationResult | null,
	): Promise<void> {
		const occurredAt =
			type === 'referral_qualified'
				? (referral.qualifiedAt ?? referral.updatedAt)
				: referral.touchedAt;
		const order =
			type === 'referral_qualified' && this.needs.order ? await this.orderOf(referral) : undefined;
		const own = `${type}:${referral.id}`;
		const plan = planAwards(
			program,
			{
				type,
				referralId: String(referral.id),
				referrerId: String(referral.referrerId),
				refereeId: String(referral.refereeId),
				occurredAt,
				...(order ? { order } : {}),
			},
			await this.stateFor(referral, type, occurredAt, snapshot),
		);
		if (result)
			for (const intent of plan.skipped)
				result.skipped.push(this.skippedItem(intent, intent.skipReason ?? 'skipped'));
		for (const intent of plan.awards) {
			const stored =
				intent.existingRewardId === undefined
					? undefined
					: snapshot.ofReferral.find((r) => String(r.id) === intent.existingRewardId);
			if (stored) {
				// Already paid (a replay, or a rule edited since): the stored award answers, nothing is written.
				if (result)
					await this.answer(result, { ...(await this.rewardItem(stored)), replayed: true }, stored);
				continue;
			}
			if (intent.ruleType !== 'per_referral') {
				const held = snapshot.rewards.find((r) => r.idempotencyKey === intent.idempotencyKey);
				if (held) {
					if (meta(held).evaluation === own && result)
						await this.answer(result, { ...(await this.rewardItem(held)), replayed: true }, held);
					continue;
				}
			}
			const written = await this.write(referral, type, occurredAt, intent);
			if ('reason' in written) {
				if (written.reason !== HELD_ELSEWHERE) result?.skipped.push(written);
				continue;
			}
			if (result) await this.answer(result, written.item, written.record);
			if (!snapshot.rewards.some((r) => r.id === written.record.id))
				snapshot.rewards.push(written.record);
			if (
				written.record.referralId === snapshot.referralId &&
				!snapshot.ofReferral.some((r) => r.id === written.record.id)
			)
				snapshot.ofReferral.push(written.record);
		}
	}

	private async qualifiedOf(referrerId: number): Promise<ReferralRecord[]> {
		const all: ReferralRecord[] = [];
		for (const status of QUALIFIED) {
			all.push(
				...(await allPages(
					(afterId, limit) =>
						this.ledger.listReferrals({
							programId: this.programId,
							referrerId,
							status,
							afterId,
							limit,
						}),
					PAGE,
				)),
			);
		}
		return sortQualified(all);
	}

	private async rewardsOfReferral(referralId: number): Promise<RewardRecord[]> {
		return await allPages(
			(afterId, limit) =>
				this.ledger.listRewards({ programId: this.programId, referralId, afterId, limit }),
			PAGE,
		);
	}

	/** The referral's per-referral awards (every status) as `planAwards` reconciles them. */
	private paidOf(records: RewardRecord[]): PaidAward[] {
		const paid: PaidAward[] = [];
		for (const r of records) {
			const m = meta(r);
			if (
				ruleTypeOf(r) !== 'per_referral' ||
				r.side === 'participant' ||
				typeof m.evaluation !== 'string'
			)
				continue;
			const award: PaidAward = {
				rewardId: String(r.id),
				idempotencyKey: r.idempotencyKey,
				recipientId: String(r.recipientId),
				side: r.side,
				evaluation: m.evaluation,
				kind: r.kind,
				rule: r.rule,
			};
			if (typeof m.ruleKey === 'string') award.ruleKey = m.ruleKey;
			if (typeof m.slot === 'number') award.slot = m.slot;
			if (r.kind === 'points' && r.amount !== null) award.points = r.amount;
			else if (r.amount !== null) award.amount = r.amount;
			if (r.currency) award.currency = r.currency;
			if (typeof m.percentOff === 'number') award.percentOff = m.percentOff;
			if (typeof m.customType === 'string') award.customType = m.customType;
			paid.push(award);
		}
		return paid;
	}

	/** The qualifying order, less what a partial refund that left the referral standing took back. */
	private async orderOf(
		referral: ReferralRecord,
	): Promise<{ id?: string; amount: number; currency: string } | undefined> {
		const order = await this.qualifyingOrderOf(referral);
		const refunded = (referral.metadata?.refund as { refundedAmount?: unknown } | undefined)
			?.refundedAmount;
		if (!order || typeof refunded !== 'number' || refunded <= 0) return order;
		return { ...order, amount: Math.max(0, Number((order.amount - refunded).toFixed(6))) };
	}

	/** The qualifying order: from the referral's metadata, else the ledger's conversions. */
	private async qualifyingOrderOf(
		referral: ReferralRecord,
	): Promise<{ id?: string; amount: number; currency: string } | undefined> {
		const fromMeta = referral.metadata?.order as
			{ id?: string; amount?: number; currency?: string } | undefined;
		if (fromMeta && typeof fromMeta.amount === 'number' && typeof fromMeta.currency === 'string') {
			return {
				amount: fromMeta.amount,
				currency: fromMeta.currency,
				...(fromMeta.id ? { id: String(fromMeta.id) } : {}),
			};
		}
		return (await this.ordersOf([referral.id])).get(referral.id);
	}

	/** When each referral's qualifying conversion arrived, as the ledger's conversion id (ids only grow). */
	private async arrivalsOf(referralIds: number[]): Promise<Map<number, number>> {
		const arrivals = new Map<number, number>();
		for (let i = 0; i < referralIds.length; i += PAGE) {
			for (const c of await this.ledger.listConversions({
				programId: this.programId,
				referralIds: referralIds.slice(i, i + PAGE),
				qualifiedOnly: true,
			})) {
				arrivals.set(c.referralId, Math.min(arrivals.get(c.referralId) ?? Infinity, c.id));
			}
		}
		return arrivals;
	}

	/** Qualifying orders already found, by referral: a referral's qualifying order never changes. */
	private readonly orders = new Map<number, { id?: string; amount: number; currency: string }>();

	/** The order that qualified each of these referrals (with amount and currency), from the ledger's conversions. */
	private async ordersOf(
		referralIds: number[],
	): Promise<Map<number, { id?: string; amount: number; currency: string }>> {
		const missing = referralIds.filter((id) => !this.orders.has(id));
		for (let i = 0; i < missing.length; i += PAGE) {
			const chunk = missing.slice(i, i + PAGE);
			for (const c of await this.ledger.listConversions({
				programId: this.programId,
				referralIds: chunk,
				qualifiedOnly: true,
			})) {
				if (c.amount !== null && c.currency)
					this.orders.set(c.referralId, { id: c.orderId, amount: c.amount, currency: c.currency });
			}
		}
		return this.orders;
	}

	private async stateFor(
		referral: ReferralRecord,
		type: RewardEventType,
		occurredAt: number,
		snapshot: ReferrerSnapshot,
	) {
		const ownEvaluation = `${type}:${referral.id}`;
		// Rank, not today's total: the Nth referral to qualify is the one that reaches milestone N, whenever it is evaluated.
		const rank = snapshot.qualified.findIndex((r) => r.id === referral.id);
		const upTo =
			type === 'referral_qualified'
				? rank === -1
					? [...snapshot.qualified, referral]
					: snapshot.qualified.slice(0, rank + 1)
				: snapshot.qualified;
		const referredRevenue: Record<string, number> = {};
		if (this.needs.revenue) {
			const orders = await this.ordersOf(upTo.map((r) => r.id));
			for (const r of upTo) {
				const order = orders.get(r.id);
				if (order)
					referredRevenue[order.currency] = (referredRevenue[order.currency] ?? 0) + order.amount;
			}
		}
		const held = snapshot.rewards.filter((r) => r.status !== 'reversed');
		// This evaluation's own badges and tier are not "already held", or its replay would not list them.
		const before = held.filter((r) => meta(r).evaluation !== ownEvaluation);
		const badges = before.filter((r) => r.kind === 'badge').map((r) => String(meta(r).badge));
		const tierReward = before.filter((r) => r.kind === 'tier').at(-1);
		const capUsage: Record<string, { count: number; value: number }> = {};
		for (const cap of this.program.caps) {
			const window = capWindow(this.program, cap, occurredAt);
			const usage = { count: 0, value: 0 };
			for (const r of held) {
				const m = meta(r);
				if (r.side !== 'referrer' || r.kind === 'badge' || r.kind === 'tier') continue;
				// This evaluation's own earlier awards are replays, not usage, or a retry would cap itself.
				if (m.evaluation === ownEvaluation) continue;
				if (cap.ruleIds && !cap.ruleIds.includes(r.rule)) continue;
				const earnedAt = typeof m.earnedAt === 'number' ? m.earnedAt : r.createdAt;
				if (
					(window.start !== null && earnedAt < window.start) ||
					(window.end !== null && earnedAt >= window.end)
				)
					continue;
				usage.count += 1;
				if (cap.unit === 'points' && r.kind === 'points') usage.value += r.amount ?? 0;
				else if (cap.unit && r.kind !== 'points' && r.currency === cap.unit && r.amount !== null) {
					usage.value += r.amount;
				}
			}
			if (cap.unit && cap.unit !== 'points') usage.value = Number(usage.value.toFixed(6));
			capUsage[cap.id] = usage;
		}
		let lifetimePoints = 0;
		if (this.needs.lifetimePoints && type === 'referral_qualified') {
			for (const entry of await this.journalOf(referral.referrerId)) {
				// Credits, less what claw-backs took back (a refunded referral's points no longer count toward a level).
				if (
					(entry.delta > 0 || entry.reason === 'clawback') &&
					!(
						entry.rewardId !== null &&
						snapshot.rewards.some(
							(r) => r.id === entry.rewardId && meta(r).evaluation === ownEvaluation,
						)
					)
				) {
					lifetimePoints += entry.delta;
				}
			}
		}
		return {
			qualifiedCount: type === 'referral_qualified' ? upTo.length : snapshot.qualified.length,
			referredRevenue,
			lifetimePoints: Math.max(0, lifetimePoints),
			badges,
			tier: tierReward ? String(meta(tierReward).tier) : null,
			lost: lostCounts(snapshot.rewards),
			capUsage,
			qualifiedReferralIds: upTo.map((r) => String(r.id)),
			paid: this.paidOf(snapshot.ofReferral),
		};
	}

	private async journalOf(participantId: number): Promise<PointsEntry[]> {
		return await allPages(
			(afterId, limit) =>
				this.ledger.pointsJournal({ programId: this.programId, participantId, afterId, limit }),
			PAGE,
		);
	}

	private skippedItem(intent: AwardIntent, reason: string): SkippedReward {
		const item: SkippedReward = {
			rule: intent.ruleId,
			recipient: intent.side,
			recipientId: Number(intent.recipientId),
			kind: intent.kind,
			reason,
		};
		if (intent.capId) item.capId = intent.capId;
		return item;
	}

	private generatorFor(prefix: string | undefined): CodeGenerator {
		const key = prefix ?? '';
		let generator = this.generators.get(key);
		if (!generator) {
			generator = new CodeGenerator({
				length: 10,
				...(prefix ? { prefix: prefix.endsWith('-') ? prefix : `${prefix}-` } : {}),
			});
			this.generators.set(key, generator);
		}
		return generator;
	}

	/** The coupon code for an award: the same one for every replay, because the ledger remembers it by key. */
	private async couponCode(intent: AwardIntent, referral: ReferralRecord): Promise<string | null> {
		const coupon = intent.coupon!;
		const key = `${intent.idempotencyKey}:coupon`;
		if (coupon.source === 'pool') {
			const claim = await this.ledger.claimCoupon({
				programId: this.programId,
				pool: coupon.poolId!,
				participantId: intent.recipientId,
				idempotencyKey: key,
				...(this.lowStock > 0 ? { lowStockThreshold: this.lowStock } : {}),
			});
			if (claim.coupon) return claim.coupon.code;
			await this.ledger.appendEvent({
				programId: this.programId,
				type: 'coupon.pool_empty',
				payload: {
					pool: coupon.poolId,
					rule: intent.ruleId,
					referralId: referral.id,
					recipientId: Number(intent.recipientId),
				},
			});
			return null;
		}
		const generator = this.generatorFor(coupon.prefix);
		// Issued in the ledger's code table so it is unique in the program and can be revoked on reversal.
		const issued = await this.ledger.issueCode({
			programId: this.programId,
			ownerId: intent.recipientId,
			generate: () => generator.next(),
			maxUses: 1,
			...(coupon.expiresAt !== undefined ? { expiresAt: coupon.expiresAt } : {}),
			idempotencyKey: key,
		});
		return issued.code.code;
	}

	private async write(
		referral: ReferralRecord,
		type: RewardEventType,
		occurredAt: number,
		intent: AwardIntent,
	): Promise<{ item: RewardItem; record: RewardRecord } | SkippedReward> {
		let code: string | null = null;
		if (intent.kind === 'coupon') {
			code = await this.couponCode(intent, referral);
			if (code === null) return this.skippedItem(intent, 'coupon_pool_empty');
		}
		const metadata: Record<string, unknown> = {
			ruleType: intent.ruleType,
			earnedBy: intent.earnedBy,
			evaluation: `${type}:${referral.id}`,
			// The program (rules) it was written under: a replay of that evaluation notifies again.
			programKey: this.programKey,
			earnedAt: occurredAt,
			...(intent.ruleKey !== undefined ? { ruleKey: intent.ruleKey } : {}),
			...(intent.slot !== undefined ? { slot: intent.slot } : {}),
		};
		for (const key of [
			'points',
			'percentOff',
			'badge',
			'tier',
			'customType',
			'customValue',
			'label',
			'standing',
		] as const) {
			if (intent[key] !== undefined) metadata[key] = intent[key];
		}
		// A percent-of-order reward remembers its percentage: a partial refund scales it to what is left.
		const rule = this.program.rules.find((r) => r.id === intent.ruleId);
		if (
			rule?.type === 'per_referral' &&
			rule.reward.percentOfOrder !== undefined &&
			intent.kind === 'cash'
		)
			metadata.percentOfOrder = rule.reward.percentOfOrder;
		if (intent.kind === 'coupon') {
			const c = intent.coupon!;
			metadata.coupon = {
				code,
				source: c.source,
				...(c.poolId ? { pool: c.poolId } : {}),
				...(c.expiresAt !== undefined ? { expiresAt: c.expiresAt } : {}),
			};
		}
		const events = [];
		if (intent.kind === 'tier')
			events.push({
				type: 'tier.reached',
				payload: {
					participantId: Number(intent.recipientId),
					tier: intent.tier,
					rule: intent.ruleId,
				},
			});
		if (intent.kind === 'badge')
			events.push({
				type: 'badge.earned',
				payload: {
					participantId: Number(intent.recipientId),
					badge: intent.badge,
					rule: intent.ruleId,
				},
			});
		const input = {
			programId: this.programId,
			recipientId: intent.recipientId,
			referralId: referral.id,
			side: intent.side,
			rule: intent.ruleId,
			kind: intent.kind,
			...(intent.kind === 'points'
				? { amount: intent.points }
				: intent.amount !== undefined
					? { amount: intent.amount, currency: intent.currency }
					: {}),
			status: intent.status === 'pending' ? ('pending' as const) : ('approved' as const),
			...(intent.holdUntil !== undefined ? { holdUntil: intent.holdUntil } : {}),
			metadata,
			// Points enter the balance when the reward is approved: now, or when its hold ends.
			...(intent.kind === 'points' && intent.status === 'approved'
				? { points: { delta: intent.points as number, reason: 'reward' } }
				: {}),
			...(events.length ? { events } : {}),
			...(this.oweNotices ? { messages: await this.notice(referral, intent, code) } : {}),
			idempotencyKey: intent.idempotencyKey,
		};
		let record: RewardRecord;
		let replayed: boolean;
		try {
			const awarded = await this.ledger.awardReward(input);
			record = awarded.reward;
			replayed = awarded.replayed;
		} catch (error) {
			// Refunded while this evaluation ran: the reversed referral earns nothing (the ledger refused it).
			if (error instanceof EngineError && error.code === 'referral_reversed')
				return this.skippedItem(intent, 'referral_reversed');
			// The rule changed since this reward was written: the reward stands as it was first written.
			if (!(error instanceof EngineError && error.code === 'idempotency_key_reused')) throw error;
			const existing = (await this.rewardsOf(Number(intent.recipientId))).find(
				(r) => r.idempotencyKey === intent.idempotencyKey,
			);
			if (!existing) throw error;
			record = existing;
			replayed = true;
		}
		// A concurrent evaluation of another referral reached this milestone or level first: it is theirs.
		if (
			replayed &&
			intent.ruleType !== 'per_referral' &&
			meta(record).evaluation !== `${type}:${referral.id}`
		)
			return this.skippedItem(intent, HELD_ELSEWHERE);
		const item = await this.rewardItem(record);
		item.replayed = replayed;
		return { item, record };
	}

	/** The email this award owes its recipient (none without an address), written with the award. */
	private async notice(
		referral: ReferralRecord,
		intent: AwardIntent,
		code: string | null,
	): Promise<OweMessageInput[]> {
		const recipientId = Number(intent.recipientId);
		const person = await this.items.participant(recipientId);
		if (!person?.email) return [];
		const reward: Partial<RewardItem> = {
			recipient: intent.side,
			recipientId,
			kind: intent.kind,
			rule: intent.ruleId,
			status: intent.status === 'pending' ? 'pending' : 'approved',
		};
		for (const key of [
			'points',
			'amount',
			'currency',
			'percentOff',
			'badge',
			'tier',
			'customType',
			'customValue',
			'label',
		] as const) {
			if (intent[key] !== undefined) (reward as Record<string, unknown>)[key] = intent[key];
		}
		// A pending coupon may still be reversed: its code follows once it is approved.
		if (code !== null && reward.status === 'approved') reward.code = code;
		return [
			{
				key: rewardNoticeKey(referral.id, recipientId),
				channel: 'email',
				recipient: person.email,
				topic: REWARD_NOTICE_TOPIC,
				participantId: recipientId,
				data: {
					recipient: intent.side,
					recipientId,
					email: person.email,
					name: person.name ?? null,
					referralId: referral.id,
					lines: [describeReward(reward as RewardItem)],
					rewards: [reward],
				},
				collect: ['lines', 'rewards'],
			},
		];
	}
}
