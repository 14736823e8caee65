import { createHash } from 'node:crypto';
import { EngineError } from '../shared/errors';
import {
	BatchConflict,
	type Id,
	type LedgerStore,
	type ReferralRecord,
	type RewardRecord,
} from '../ledger';
import { QUALIFIED, RewardAccount, type RewardAccountOptions } from './account';
import { AwardWriter, HELD_ELSEWHERE, skippedItem } from './award';
import { meta, type RewardItem, type SkippedReward } from './items';
import { KeyedMutex } from './keyedMutex';
import { type AwardIntent, planAwards, type ReferrerState } from './plan';
import type {
	RewardCap,
	RewardEventType,
	RewardProgram,
	RewardProgramConfig,
	UncheckedRewardProgram,
	RewardRule,
} from './program';
import { type ProgramNeeds, type ReferrerSnapshot, ruleTypeOf, SnapshotLoader } from './snapshot';
import { validateRewardProgram } from './validateProgram';

/**
 * The reward service: runs a validated reward program against the referral ledger.
 * `planAwards` decides; this file loads the state it needs (`SnapshotLoader`, snapshot.ts) and
 * writes each award with the intent's idempotency key (`AwardWriter`, award.ts: the ledger's unique
 * key, not our care, makes it exactly once).
 * What needs no rules (approve, fulfil, reverse, status, …) is the `RewardAccount` it extends.
 */

/** Referral statuses in which the referee has signed up (the referee_signup event happened). */
const SIGNED_UP: readonly string[] = ['pending', 'approved', 'qualified'];

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
	/**
	 * Read the referrer's state from their whole history (qualified referrals, rewards, points
	 * journal) instead of the ledger's running counters: the reference computation the counters are
	 * tested and benchmarked against (default false).
	 */
	evaluateFromHistory?: boolean;
}

const referrerLocks = new KeyedMutex();

export class RewardService extends RewardAccount {
	readonly program: RewardProgram;
	private readonly serialize: boolean;
	private readonly fromHistory: boolean;
	private readonly snapshots: SnapshotLoader;
	private readonly awards: AwardWriter;
	/** The program's referee_signup rules alone; undefined when it has none. */
	private readonly signupProgram?: RewardProgram;
	/**
	 * The rules a referral's rank among the referrer's qualified referrals decides (milestones, and
	 * levels by qualified referrals), for the referrals a late order moved up; undefined when none.
	 */
	private readonly historyProgram?: RewardProgram;
	private programDigest?: string;
	private readonly needs: ProgramNeeds;

	constructor(
		ledger: LedgerStore,
		program: RewardProgram | RewardProgramConfig | UncheckedRewardProgram,
		options: RewardServiceOptions = {},
	) {
		const validated = validateRewardProgram(program);
		super(ledger, validated.programId, options);
		this.program = validated;
		const lowStock = options.lowStockThreshold ?? 10;
		if (!Number.isInteger(lowStock) || lowStock < 0) {
			throw new EngineError(
				'invalid_value',
				'lowStockThreshold must be a whole number, 0 to never warn.',
				{ field: 'lowStockThreshold' },
			);
		}
		this.serialize = options.serializePerReferrer ?? true;
		this.fromHistory = options.evaluateFromHistory === true;
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
		this.snapshots = new SnapshotLoader(ledger, this.programId, this.program, this.needs);
		this.awards = new AwardWriter({
			ledger,
			programId: this.programId,
			program: this.program,
			lowStock,
			oweNotices: options.oweNotices === true,
			items: this.items,
			programKey: () => this.programKey,
			rewardsOf: (recipientId) => this.rewardsOf(recipientId),
			rewardItem: (record) => this.rewardItem(record),
		});
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
	 *
	 * `replayKey` names the request the evaluation answers (the order that qualified the referral):
	 * another evaluation with the same key answers like the first one did, even when the ledger
	 * moved on in between (a late order moved this referral up a rank, so a milestone it now reaches
	 * was written for it; a coupon pool was refilled). What was written meanwhile stands in the
	 * ledger, with its notices owed there. Without a key each evaluation answers what stands now.
	 */
	async evaluateReferral(
		referralId: Id,
		options: { replayKey?: string } = {},
	): Promise<EvaluationResult> {
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
				? this.ledger.withLease(lease, () => this.evaluateLoaded(referral, options.replayKey))
				: this.evaluateLoaded(referral, options.replayKey);
		if (!this.serialize) return await evaluate();
		// Inside a ledger batch (which holds the write lock) another evaluation of this referrer must
		// not be waited for: it may be waiting for that lock; the batch runs again instead.
		return await referrerLocks.run(
			`${this.programId}:${referral.referrerId}`,
			evaluate,
			this.ledger.inBatch() ? () => new BatchConflict('the referrer') : undefined,
		);
	}

	private async evaluateLoaded(
		referral: ReferralRecord,
		replayKey?: string,
	): Promise<EvaluationResult> {
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
		const ofReferral = await this.snapshots.rewardsOfReferral(referral.id);
		const snapshot: ReferrerSnapshot = (!this.fromHistory &&
			(await this.snapshots.fromCounters(
				referral,
				events.includes('referral_qualified'),
				ofReferral,
			))) || {
			qualified:
				this.needs.qualified || this.needs.revenue
					? await this.snapshots.qualifiedOf(referral.referrerId)
					: [],
			rewards: this.needs.rewards ? await this.rewardsOf(referral.referrerId) : [],
			ofReferral,
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
				const arrivals = await this.snapshots.arrivalsOf([referral.id, ...later.map((r) => r.id)]);
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
		return replayKey === undefined ? result : await this.asFirstAnswered(result, replayKey);
	}

	/** The answer the first evaluation with this replay key gave (kept now when this is the first). */
	private async asFirstAnswered(
		result: EvaluationResult,
		replayKey: string,
	): Promise<EvaluationResult> {
		const kept = await this.ledger.keepAnswer({
			programId: this.programId,
			operation: 'evaluation',
			key: `${result.referralId}:${result.events.join('+')}:${this.programKey}:${createHash('sha256').update(replayKey).digest('hex').slice(0, 32)}`,
			answer: {
				...result,
				rewards: result.rewards.map(({ email: _email, replayed: _replayed, ...rest }) => rest),
			},
		});
		return kept.replayed ? await this.fromKept(kept.answer) : result;
	}

	/** A milestone by qualified referrals (its award lists the referrals that reached it). */
	private countMilestone(intent: AwardIntent): boolean {
		if (intent.ruleType !== 'milestone') return false;
		const rule = this.program.rules.find((r) => r.id === intent.ruleId);
		return rule?.type === 'milestone' && rule.metric === 'qualified_referrals';
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
		// keepAnswer keeps the first answer (a later one writes nothing): no look-up first.
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
			type === 'referral_qualified' && this.needs.order
				? await this.snapshots.orderOf(referral)
				: undefined;
		const own = `${type}:${referral.id}`;
		const event = {
			type,
			referralId: String(referral.id),
			referrerId: String(referral.referrerId),
			refereeId: String(referral.refereeId),
			occurredAt,
			...(order ? { order } : {}),
		};
		const state: ReferrerState = await this.snapshots.stateFor(
			referral,
			type,
			occurredAt,
			snapshot,
		);
		let plan = planAwards(program, event, state);
		// From the counters the state has no list of the referrals up to this one: a milestone by
		// count that fires names the referrals that reached it, so it is planned again with them.
		if (
			state.qualifiedReferralIds === undefined &&
			[...plan.awards, ...plan.skipped].some((intent) => this.countMilestone(intent))
		) {
			state.qualifiedReferralIds = await this.snapshots.qualifiedIdsUpTo(referral);
			plan = planAwards(program, event, state);
		}
		if (result)
			for (const intent of plan.skipped)
				result.skipped.push(skippedItem(intent, intent.skipReason ?? 'skipped'));
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
				const held = await this.snapshots.heldByKey(snapshot, intent.idempotencyKey);
				if (held) {
					if (meta(held).evaluation === own && result)
						await this.answer(result, { ...(await this.rewardItem(held)), replayed: true }, held);
					continue;
				}
			}
			const written = await this.awards.write(referral, type, occurredAt, intent);
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
}
