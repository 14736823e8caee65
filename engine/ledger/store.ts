/* The referral ledger's one interface. Two implementations (SQLite, PostgreSQL) pass the same
 * contract suite (test/ledger/contract.ts). Nodes call it per item; bad input throws
 * EngineError naming the field, and writes nothing.
 *
 * Conventions:
 * - Times are epoch milliseconds. Inputs also accept a Date or an ISO-8601 string.
 * - Ids of rows the ledger creates are numbers; inputs also accept them as numeric strings.
 * - Every mutating method takes `idempotencyKey`. With the same key the second call returns the
 *   first call's result (`replayed: true`) and writes nothing, also when both calls race. Without
 *   a key a default is derived from the inputs (each method says which); methods that set state
 *   (upserts, removals, compare-and-set transitions) are idempotent by their own natural key.
 *   Reusing an explicit key with different input is refused (`idempotency_key_reused`).
 * - `events` on a mutating method are appended to the outbox in the same transaction, only when
 *   the call is not a replay. `messages` (on the methods that take them) are owed to people in
 *   the same way: written into the message log in the cause's transaction, delivered from there
 *   (`claimMessages`, `handOverMessage`, `completeMessage`).
 *
 * The records and inputs of each table are in types/<table>.ts, re-exported here: import them from
 * this file (or from the ledger's index.ts). */
import type {
	Id,
	PruneLedgerInput,
	PruneLedgerResult,
	Replayable,
	StatusChange,
	Time,
	TransitionResult,
} from './types/common';
import type { BatchItem } from './core';
import type { CapUsageRow, RewardCounters } from './tables/counters';
export type { CapUsageRow, RewardCounters } from './tables/counters';
import type {
	ClaimNonceInput,
	EnsureProgramInput,
	KeepAnswerInput,
	LeaseInput,
	ProgramRecord,
	SaveScoringModelInput,
	SaveScoringModelResult,
	ScoringModelRecord,
} from './types/programs';
import type {
	EnrolParticipantInput,
	EnrolParticipantResult,
	EraseParticipantInput,
	ListParticipantsQuery,
	ParticipantQuery,
	ParticipantRecord,
	UpdateParticipantInput,
} from './types/participants';
import type {
	CodeQuery,
	CodeRecord,
	IssueCodeInput,
	IssueCodeResult,
	IssueCodesInput,
	IssueCodesResult,
	ListCodesQuery,
	RedeemCodeInput,
	RedeemCodeResult,
	RevokeCodeInput,
	RevokeCodeResult,
} from './types/codes';
import type {
	ConversionRecord,
	ConversionsQuery,
	CountReferralsQuery,
	ReferrerWindowsQuery,
	DashboardQuery,
	DashboardTotals,
	EdgesQuery,
	LeaderboardQuery,
	LeaderboardRow,
	ListReferralsQuery,
	QualifyReferralInput,
	QualifyReferralResult,
	ReassignReferralInput,
	RecordReferralInput,
	RecordReferralResult,
	ReferralCounts,
	ReferralEdge,
	ReferralRecord,
	ReferralStatsQuery,
	ReferralStatsTotals,
	SignalQuery,
	TransitionReferralInput,
} from './types/referrals';
import type {
	AwardRewardInput,
	AwardRewardResult,
	DueRewardsQuery,
	ListRewardsQuery,
	RefundReferralInput,
	RefundReferralResult,
	RewardRecord,
	TransitionRewardInput,
	TransitionRewardResult,
} from './types/rewards';
import type {
	AppendPointsInput,
	AppendPointsResult,
	JournalQuery,
	PointsEntry,
	PointsQuery,
} from './types/points';
import type {
	ClaimCouponInput,
	ClaimCouponResult,
	CouponCounts,
	CouponPoolSummary,
	LoadCouponsInput,
	LoadCouponsResult,
} from './types/coupons';
import type {
	AppendEventInput,
	AppendEventResult,
	ReadEventsQuery,
	ReadEventsResult,
} from './types/outbox';
import type {
	ClickRecord,
	ClickStatsQuery,
	ClickStatsTotals,
	RecordClickInput,
	RecordClickResult,
	VisitorClickQuery,
} from './types/clicks';
import type {
	ClaimMessagesInput,
	ClaimMessagesResult,
	CompleteMessageInput,
	ListMessagesQuery,
	MessageRecord,
	RemoveSuppressionInput,
	ReserveMessageInput,
	ReserveMessageResult,
	SuppressionInput,
	SuppressionKey,
	SuppressionRecord,
} from './types/messages';

export * from './types/common';
export * from './types/programs';
export * from './types/participants';
export * from './types/codes';
export * from './types/referrals';
export * from './types/rewards';
export * from './types/points';
export * from './types/coupons';
export * from './types/outbox';
export * from './types/messages';
export * from './types/clicks';

export interface LedgerStore {
	readonly backend: 'sqlite' | 'postgres';

	// programs (never deleted)
	ensureProgram(input: EnsureProgramInput): Promise<ProgramRecord>;
	getProgram(id: string): Promise<ProgramRecord | null>;
	/** Programs for a picker, by id, those whose id or name contains `search` (any case); at most `limit` (default 100). */
	listPrograms(query?: {
		search?: string;
		limit?: number;
	}): Promise<Array<{ id: string; name: string }>>;
	/**
	 * A write-once secret of a program (e.g. the hash salt): stores `candidate` if the program has no
	 * secret of that name yet, and returns the stored one either way (the first writer wins).
	 */
	claimProgramSecret(input: {
		programId: string;
		name: string;
		candidate: string;
	}): Promise<string>;
	/** A program's write-once secret, or null when none was claimed yet (a read: no write lock). */
	getProgramSecret(query: { programId: string; name: string }): Promise<string | null>;
	/**
	 * Runs `fn` while holding the program's lease `name`, exclusive across every process on this
	 * ledger (n8n workers included). Waits up to `waitMs` (default 30 s) for the lease, then fails
	 * with `lease_timeout`. The lease is renewed while `fn` runs and expires on its own
	 * (`ttlMs`, default 30 s) if the holder dies. Not re-entrant: do not nest the same name.
	 */
	withLease<T>(input: LeaseInput, fn: () => Promise<T>): Promise<T>;
	/**
	 * Runs `fn` in one write transaction that every call on this ledger inside it joins, so many
	 * items' writes commit at once (n8n hands a node many items). `item(work)` runs one item's work
	 * in a savepoint: if it throws, only that item's writes are undone and the others still commit.
	 * Run as a whole again on a lock conflict, so `fn` should only collect results. Nested: joins.
	 */
	batch<T>(fn: (item: BatchItem) => Promise<T>): Promise<T>;
	/** True inside `batch` on this ledger. */
	inBatch(): boolean;
	/**
	 * Claims a one-time key across every process on the ledger: true for the first claim (or the
	 * first after the earlier claim expired), false while it is held. Not tied to a program.
	 */
	claimNonce(input: ClaimNonceInput): Promise<boolean>;

	// participants
	enrolParticipant(input: EnrolParticipantInput): Promise<EnrolParticipantResult>;
	getParticipant(query: ParticipantQuery): Promise<ParticipantRecord | null>;
	updateParticipant(
		input: UpdateParticipantInput,
	): Promise<{ participant: ParticipantRecord } & Replayable>;
	listParticipants(query: ListParticipantsQuery): Promise<ParticipantRecord[]>;
	/** GDPR erasure: personal fields nulled, rows and aggregates kept, event payloads scrubbed. */
	eraseParticipant(
		input: EraseParticipantInput,
	): Promise<{ participant: ParticipantRecord } & Replayable>;

	// codes
	issueCode(input: IssueCodeInput): Promise<IssueCodeResult>;
	/** `count` codes in one transaction (all or none). */
	issueCodes(count: number, input: IssueCodesInput): Promise<IssueCodesResult>;
	redeemCode(input: RedeemCodeInput): Promise<RedeemCodeResult>;
	revokeCode(input: RevokeCodeInput): Promise<RevokeCodeResult>;
	lookupCode(query: CodeQuery): Promise<CodeRecord | null>;
	listCodes(query: ListCodesQuery): Promise<CodeRecord[]>;

	// referrals
	recordReferral(input: RecordReferralInput): Promise<RecordReferralResult>;
	getReferral(query: { programId: string; id: Id }): Promise<ReferralRecord | null>;
	findReferralByReferee(query: {
		programId: string;
		refereeId: Id;
	}): Promise<ReferralRecord | null>;
	findReferralByOrderId(query: {
		programId: string;
		orderId: string;
	}): Promise<ReferralRecord | null>;
	/** Compare-and-set on the status; the change is appended to the history. */
	transitionReferral(input: TransitionReferralInput): Promise<TransitionResult<ReferralRecord>>;
	/** Compare-and-set on referrer and status; the change is appended to the history. */
	reassignReferral(input: ReassignReferralInput): Promise<TransitionResult<ReferralRecord>>;
	referralHistory(query: { programId: string; referralId: Id }): Promise<StatusChange[]>;
	qualifyReferral(input: QualifyReferralInput): Promise<QualifyReferralResult>;
	listReferrals(query: ListReferralsQuery): Promise<ReferralRecord[]>;
	countReferrals(query: CountReferralsQuery): Promise<ReferralCounts>;
	/**
	 * How many referrals of a referrer were touched in each window [since[i], until), in one
	 * index range (the fraud checks' velocity over the last hour and day, issue #18).
	 */
	countReferralsInWindows(query: ReferrerWindowsQuery): Promise<number[]>;
	/** Referrals sharing an ip or device hash in a window (either matches). */
	referralsBySignal(query: SignalQuery): Promise<ReferralRecord[]>;
	/** Referrer → referee edges for ring detection. */
	referralEdges(query: EdgesQuery): Promise<ReferralEdge[]>;
	/** The orders recorded against these referrals (by Qualify), in id order. */
	listConversions(query: ConversionsQuery): Promise<ConversionRecord[]>;
	leaderboard(query: LeaderboardQuery): Promise<LeaderboardRow[]>;
	/** Get Stats' figures for one period, by aggregate queries (never a row per referral in memory). */
	referralStatsTotals(query: ReferralStatsQuery): Promise<ReferralStatsTotals>;
	/** The marketer dashboard's series, reward liability, points and coupon pools, by aggregate queries. */
	dashboardTotals(query: DashboardQuery): Promise<DashboardTotals>;

	// tracked referral link clicks (issue #17)
	/**
	 * Records one click of a referral link (an event: every call is a new click, no idempotency key),
	 * unless `rateLimit` finds the ip hash at its limit: then nothing is written (`limited: true`).
	 */
	recordClick(input: RecordClickInput): Promise<RecordClickResult>;
	/** A visitor's first or last click in a window (by default only clicks that can credit a referrer). */
	visitorClick(query: VisitorClickQuery): Promise<ClickRecord | null>;
	/** The share-link figures of a period (clicks, sign-ups, qualified; per referrer and per channel), by aggregate queries. */
	clickStats(query: ClickStatsQuery): Promise<ClickStatsTotals>;

	// rewards
	awardReward(input: AwardRewardInput): Promise<AwardRewardResult>;
	getReward(query: { programId: string; id: Id }): Promise<RewardRecord | null>;
	listRewards(query: ListRewardsQuery): Promise<RewardRecord[]>;
	transitionReward(input: TransitionRewardInput): Promise<TransitionRewardResult>;
	/** A refund's changes to a referral and its rewards, in one transaction (see RefundReferralInput). */
	refundReferral(input: RefundReferralInput): Promise<RefundReferralResult>;
	rewardHistory(query: { programId: string; rewardId: Id }): Promise<StatusChange[]>;
	/** Pending rewards whose hold has ended (hold_until <= now), oldest first. */
	rewardsDueForApproval(query: DueRewardsQuery): Promise<RewardRecord[]>;

	// points
	appendPoints(input: AppendPointsInput): Promise<AppendPointsResult>;
	pointsBalance(query: PointsQuery): Promise<number>;
	pointsJournal(query: JournalQuery): Promise<PointsEntry[]>;

	// running counters for reward evaluation (tables/counters.ts, migration 10)
	/**
	 * The participant's qualified referrals, referred revenue per currency and lifetime points, kept in
	 * each event's transaction. With `upToReferralId` (a qualified referral of theirs) the count and
	 * revenue are those of their referrals ranked up to it (qualified time, then id), in one snapshot
	 * (all of them when it is not, or no longer, one of their qualified referrals).
	 */
	rewardCounters(query: {
		programId: string;
		participantId: Id;
		upToReferralId?: Id;
	}): Promise<RewardCounters>;
	/** The referrer's qualified referrals ranked after this one (oldest first); null when it is not a qualified referral of theirs. */
	qualifiedReferralsAfter(query: {
		programId: string;
		referrerId: Id;
		referralId: Id;
	}): Promise<ReferralRecord[] | null>;
	/**
	 * What reward caps count of the participant's rewards earned in [start, end) (null: unbounded;
	 * ms since the epoch), per (rule, unit): referrer-side rewards other than badges and tiers, not
	 * reversed; their count, and their points (unit `points`) or money (unit: the currency). Read
	 * from running counters (migration 13): a few index ranges, whatever the participant's history.
	 */
	capUsage(query: {
		programId: string;
		participantId: Id;
		start: number | null;
		end: number | null;
	}): Promise<CapUsageRow[]>;
	/** The rewards holding these idempotency keys. */
	rewardsByKeys(query: { programId: string; keys: string[] }): Promise<RewardRecord[]>;
	/** The points journal entries of these rewards. */
	pointsOfRewards(query: { programId: string; rewardIds: Id[] }): Promise<PointsEntry[]>;

	// coupon pools
	loadCoupons(input: LoadCouponsInput): Promise<LoadCouponsResult>;
	/** Atomically claims one available coupon; two claims never get the same one. */
	claimCoupon(input: ClaimCouponInput): Promise<ClaimCouponResult>;
	countCoupons(query: { programId: string; pool: string }): Promise<CouponCounts>;
	/** A program's coupon pools for a picker, by name, those whose name contains `search` (any case); at most `limit` (default 100). */
	listCouponPools(query: {
		programId: string;
		search?: string;
		limit?: number;
	}): Promise<CouponPoolSummary[]>;

	// outbox (for the trigger node)
	appendEvent(input: AppendEventInput): Promise<AppendEventResult>;
	readEvents(query: ReadEventsQuery): Promise<ReadEventsResult>;
	/** The id a new poller should start after (only events from now on). */
	latestEventId(): Promise<number>;
	/** Deletes events created before `before`; returns how many. */
	pruneEvents(query: { before: Time }): Promise<number>;

	// suppression list (global: an opt-out holds across programs)
	addSuppression(
		input: SuppressionInput,
	): Promise<{ suppression: SuppressionRecord; created: boolean } & Replayable>;
	removeSuppression(input: RemoveSuppressionInput): Promise<{ removed: boolean } & Replayable>;
	getSuppression(query: SuppressionKey): Promise<SuppressionRecord | null>;
	/** Which of these addresses are suppressed on the channel (returned normalized as stored). */
	suppressedAddresses(query: { channel: string; addresses: string[] }): Promise<string[]>;

	// message log
	/** Atomically reserves the key before sending: exactly one racing caller gets `reserved: true`. */
	reserveMessage(input: ReserveMessageInput): Promise<ReserveMessageResult>;
	completeMessage(input: CompleteMessageInput): Promise<MessageRecord>;
	getMessage(idempotencyKey: string): Promise<MessageRecord | null>;
	listMessages(query: ListMessagesQuery): Promise<MessageRecord[]>;
	/**
	 * Claims owed messages for delivery: those of `keys` that are owed and due, and, with
	 * `overdueAfterMs`, other overdue ones. A claim lapses after `ttlMs` unless renewed; a lapsed claim
	 * whose holder never handed the message over is claimed again, one that was handed over becomes
	 * `unconfirmed` and is not sent again.
	 */
	claimMessages(input: ClaimMessagesInput): Promise<ClaimMessagesResult>;
	/** Extends every claim of this token by `ttlMs`; returns how many messages it still holds. */
	renewMessageClaims(input: { token: string; ttlMs?: number }): Promise<number>;
	/**
	 * Records that this attempt is about to pass the provider's point of no return, while the claim
	 * is still this token's. Returns false (and records nothing) when the claim was lost. `onCommitted`
	 * runs synchronously as soon as the record is committed (SQLite) or its commit has been sent
	 * (PostgreSQL), before anything else can run: the sender finishes the hand-over there.
	 */
	handOverMessage(
		input: { idempotencyKey: string; token: string },
		onCommitted?: () => void,
	): Promise<boolean>;

	// lead scoring models
	saveScoringModel(input: SaveScoringModelInput): Promise<SaveScoringModelResult>;
	loadScoringModel(name: string): Promise<ScoringModelRecord | null>;

	// maintenance
	/**
	 * Keeps the answer of a request under its key (made of the request alone, never of anything the
	 * server generated) and returns the answer kept: the first one stored. So a replay of the request,
	 * also one racing it, answers like the first (`replayed: true`). Pruned with the idempotency keys.
	 */
	keepAnswer(
		input: KeepAnswerInput,
	): Promise<{ answer: Record<string, unknown>; replayed: boolean }>;
	/** The answer kept under the key, or null. */
	keptAnswer(query: {
		programId: string;
		operation: string;
		key: string;
	}): Promise<Record<string, unknown> | null>;
	/** Forgets idempotency keys older than `before` (natural unique keys still hold); returns how many. */
	pruneIdempotencyKeys(query: { before: Time }): Promise<number>;
	/**
	 * Retention: deletes what is delivered or answered and older than `before`, in short batches:
	 * trigger events, the message log's final rows (sent, failed, skipped; never owed, reserved or
	 * unconfirmed) and idempotency keys with their kept answers. Money (referrals, rewards, points,
	 * coupons, conversions) is never pruned.
	 */
	pruneLedger(input: PruneLedgerInput): Promise<PruneLedgerResult>;
	schemaVersion(): Promise<number>;
	/** Closes the connection/pool. Nodes should not call this on a cached ledger. */
	close(): Promise<void>;
}
