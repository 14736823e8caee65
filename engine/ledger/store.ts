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
 *   (`claimMessages`, `handOverMessage`, `completeMessage`). */

export type Time = number | Date | string;
export type Id = number | string;

export type LedgerConfig = SqliteLedgerConfig | PostgresLedgerConfig;

export interface SqliteLedgerConfig {
	backend: 'sqlite';
	/** Database file; created if missing. `defaultSqlitePath(userFolder)` gives the usual one. */
	path: string;
	/** How long SQLite itself waits for a lock before our own retry loop takes over (default 50 ms). */
	busyTimeoutMs?: number;
	/** Total time to keep retrying a locked write before giving up (default 30 s). */
	lockWaitMs?: number;
	/** `normal` (default) survives a process crash; `full` also survives power loss, slower. */
	synchronous?: 'normal' | 'full';
}

export interface PostgresLedgerConfig {
	backend: 'postgres';
	connectionString?: string;
	host?: string;
	port?: number;
	database?: string;
	user?: string;
	password?: string;
	ssl?: boolean | { rejectUnauthorized?: boolean; ca?: string };
	/** Schema holding the ledger's tables, created if missing (default `referral_ledger`). */
	schema?: string;
	/** Connections in this process's pool (default 10). */
	poolSize?: number;
}

export interface OpenOptions {
	/** Clock for tests; defaults to Date.now. */
	now?: () => number;
}

export interface EventInput {
	type: string;
	payload?: Record<string, unknown>;
}

interface Mutation {
	idempotencyKey?: string;
	events?: EventInput[];
}

/** A message owed to a person because of this write (a reward notice, a welcome email or text). */
export interface OweMessageInput {
	/**
	 * The message's key, unique in the whole ledger: the message is owed (and sent) once, e.g.
	 * `referral-12-rewarded-34`. 1 to 190 visible ASCII characters.
	 */
	key: string;
	channel: 'email' | 'sms';
	/** Email address, or phone number in E.164. */
	recipient: string;
	/** What kind of message it is, e.g. `reward.earned` or `welcome`: the sender picks its templates by it. */
	topic: string;
	participantId?: Id;
	/** The data the templates render (at most 64 KiB as JSON). */
	data?: Record<string, unknown>;
	/**
	 * List fields of `data` that a later write adds to while the message is still owed (one notice
	 * for every reward of an evaluation). Once the message is claimed, a later write owes a new part
	 * (`<key>~1`, `~2`…), delivered with its group.
	 */
	collect?: string[];
	/** Not to be sent before this time (default: now). */
	dueAt?: Time;
}

interface OwesMessages {
	/** Messages this write owes to people, written in its transaction (not on a replay). */
	messages?: OweMessageInput[];
}

interface Replayable {
	/** True when this result was stored by an earlier call with the same idempotency key. */
	replayed: boolean;
}

// ---------- records ----------

export interface ProgramRecord {
	id: string;
	name: string;
	settings: Record<string, unknown>;
	createdAt: number;
	updatedAt: number;
}

export interface ParticipantRecord {
	id: number;
	programId: string;
	externalId: string | null;
	/** Normalised: trimmed, lower-case. */
	email: string | null;
	phone: string | null;
	name: string | null;
	metadata: Record<string, unknown>;
	/** Set when the participant was erased (GDPR); personal fields are then null. */
	erasedAt: number | null;
	createdAt: number;
	updatedAt: number;
}

export type CodeStatus = 'active' | 'revoked';
/** `status` plus what time and use count say: what a redemption right now would meet. */
export type CodeState = 'active' | 'revoked' | 'expired' | 'exhausted';

export interface CodeRecord {
	id: number;
	programId: string;
	code: string;
	ownerId: number | null;
	status: CodeStatus;
	state: CodeState;
	expiresAt: number | null;
	maxUses: number | null;
	uses: number;
	revokedReason: string | null;
	createdAt: number;
	updatedAt: number;
}

export interface ReferralRecord {
	id: number;
	programId: string;
	referrerId: number;
	refereeId: number | null;
	codeId: number | null;
	source: string | null;
	touchedAt: number;
	ipHash: string | null;
	deviceHash: string | null;
	status: string;
	reasons: string[];
	riskScore: number | null;
	metadata: Record<string, unknown>;
	qualifiedAt: number | null;
	createdAt: number;
	updatedAt: number;
}

export interface StatusChange {
	id: number;
	from: string | null;
	to: string;
	reason: string | null;
	at: number;
}

export interface KeepAnswerInput {
	programId: string;
	/** What kind of request (e.g. `signUp`); 1 to 64 characters. */
	operation: string;
	/** The request's key, derived from the request alone. */
	key: string;
	/** The answer to keep (a JSON object). */
	answer: Record<string, unknown>;
}

export interface ConversionRecord {
	id: number;
	programId: string;
	referralId: number;
	orderId: string;
	amount: number | null;
	currency: string | null;
	occurredAt: number;
	createdAt: number;
	/** The referral's status when the order arrived (null for orders recorded by versions before 6 of the schema). */
	referralStatus: string | null;
}

export const REWARD_KINDS = ['points', 'coupon', 'cash', 'badge', 'tier', 'custom'] as const;
export type RewardKind = (typeof REWARD_KINDS)[number];
export const REWARD_STATUSES = ['pending', 'approved', 'fulfilled', 'reversed'] as const;
export type RewardStatus = (typeof REWARD_STATUSES)[number];
export const REWARD_SIDES = ['referrer', 'referee', 'participant'] as const;
export type RewardSide = (typeof REWARD_SIDES)[number];

export interface RewardRecord {
	id: number;
	programId: string;
	recipientId: number;
	referralId: number | null;
	side: RewardSide;
	rule: string;
	kind: RewardKind;
	/** Points for `points`, major currency units for `cash` (e.g. 10.5), else as the rule says. */
	amount: number | null;
	currency: string | null;
	status: RewardStatus;
	holdUntil: number | null;
	idempotencyKey: string;
	metadata: Record<string, unknown>;
	createdAt: number;
	updatedAt: number;
}

export interface PointsEntry {
	id: number;
	programId: string;
	participantId: number;
	delta: number;
	balanceAfter: number;
	reason: string | null;
	rewardId: number | null;
	idempotencyKey: string;
	createdAt: number;
}

export interface CouponRecord {
	id: number;
	programId: string;
	pool: string;
	code: string;
	status: 'available' | 'claimed';
	claimedBy: number | null;
	rewardId: number | null;
	claimedAt: number | null;
	createdAt: number;
}

export interface LedgerEvent {
	id: number;
	programId: string | null;
	type: string;
	payload: Record<string, unknown>;
	createdAt: number;
}

export interface SuppressionRecord {
	channel: string;
	address: string;
	reason: string | null;
	createdAt: number;
}

/**
 * `owed`: recorded with its cause, waiting for a sender. `reserved`: a sender has it (a claim with
 * an expiry, or a plain Send reservation). `sent`: the provider accepted it. `failed`: refused for
 * good. `skipped`: never to be sent (suppressed, participant erased). `unconfirmed`: the sender died
 * after handing it to the provider and before recording the answer; it is not sent again.
 */
export type MessageStatus = 'owed' | 'reserved' | 'sent' | 'failed' | 'skipped' | 'unconfirmed';

export interface MessageRecord {
	id: number;
	idempotencyKey: string;
	programId: string | null;
	participantId: number | null;
	channel: string;
	recipient: string;
	status: MessageStatus;
	providerId: string | null;
	error: string | null;
	attempts: number;
	createdAt: number;
	updatedAt: number;
	/** Owed messages: what kind (`reward.earned`, `welcome`), null for plain sends. */
	topic: string | null;
	/** Owed messages: the key of the first part of the message (the key itself for that part). */
	group: string | null;
	/** Owed messages: the template data. */
	data: Record<string, unknown> | null;
	/** Owed messages: not to be sent before this time. */
	dueAt: number | null;
	/** While claimed: when the claim lapses unless renewed. */
	claimedUntil: number | null;
	/** When the current attempt reached the provider's point of no return (null before). */
	handedOverAt: number | null;
}

export interface ScoringModelRecord {
	name: string;
	model: unknown;
	version: number;
	updatedAt: number;
}

export interface LeaderboardRow {
	/** Ties share a rank (1, 1, 3). */
	rank: number;
	participantId: number;
	externalId: string | null;
	name: string | null;
	score: number;
}

export interface ReferralEdge {
	referralId: number;
	referrerId: number;
	refereeId: number;
	status: string;
}

// ---------- inputs and results ----------

export interface EnsureProgramInput {
	/** The program's key as users type it, e.g. `default` or `spring-2026`. */
	id: string;
	name?: string;
	settings?: Record<string, unknown>;
}

export interface EnrolParticipantInput extends Mutation, OwesMessages {
	programId: string;
	/** At least one of externalId and email is required; they are the natural keys. */
	externalId?: string;
	email?: string;
	phone?: string;
	name?: string;
	metadata?: Record<string, unknown>;
	/**
	 * Issue the new participant's own code in the enrolment's transaction (the same code a later
	 * issueCode with this ownerId returns). Only when this call creates the participant.
	 */
	issueCode?: { generate: () => string };
	/**
	 * Messages owed to the participant this call creates (a welcome email or text), built with the
	 * new participant and the code issued with them, written in the enrolment's transaction; nothing
	 * when the participant existed already or on a replay.
	 */
	welcomeMessages?: (enrolled: { participant: ParticipantRecord; code: CodeRecord | null }) => OweMessageInput[];
}
export interface EnrolParticipantResult extends Replayable {
	participant: ParticipantRecord;
	/** False when a participant with that external id or email already existed. */
	created: boolean;
	/** The code issued with the new participant (issueCode); absent when none was issued by this call. */
	code?: CodeRecord;
}

export interface ParticipantQuery {
	programId: string;
	id?: Id;
	externalId?: string;
	email?: string;
}

export interface UpdateParticipantInput extends Mutation {
	programId: string;
	participantId: Id;
	/** Fields to change; `null` clears one. `metadata` replaces the whole object. */
	externalId?: string | null;
	email?: string | null;
	phone?: string | null;
	name?: string | null;
	metadata?: Record<string, unknown>;
}

export interface ListParticipantsQuery {
	programId: string;
	/** Keyset pagination: ids greater than this. */
	afterId?: Id;
	limit?: number;
	createdSince?: Time;
	createdUntil?: Time;
}

export interface EraseParticipantInput extends Mutation {
	programId: string;
	participantId: Id;
}

export interface IssueCodeInput extends Mutation, OwesMessages {
	programId: string;
	ownerId?: Id;
	/** Candidate generator (engine/codes). Called again on a collision. Give this or `code`. */
	generate?: () => string;
	/** A chosen (vanity) code in canonical form; refused with `code_taken` if it exists. */
	code?: string;
	expiresAt?: Time;
	maxUses?: number;
}
/* Default key of issueCode: the owner (one code per owner unless you pass keys), else the
 * vanity code, else expiry and max uses. */
export interface IssueCodeResult extends Replayable {
	code: CodeRecord;
}

export interface IssueCodesInput {
	programId: string;
	generate: () => string;
	ownerId?: Id;
	expiresAt?: Time;
	maxUses?: number;
	/** Default: derived from count, owner, expiry and max uses. */
	idempotencyKey?: string;
}
export interface IssueCodesResult extends Replayable {
	programId: string;
	codes: string[];
}

export interface RedeemCodeInput extends Mutation {
	programId: string;
	code: string;
	participantId?: Id;
	/** What the redemption is for, e.g. an order id; part of the default key. */
	reference?: string;
}
export type RedeemRefusal = 'revoked' | 'expired' | 'exhausted';
export interface RedeemCodeResult extends Replayable {
	redeemed: boolean;
	reason: RedeemRefusal | null;
	code: CodeRecord;
}

export interface RevokeCodeInput extends Mutation {
	programId: string;
	code: string;
	reason?: string;
}
export interface RevokeCodeResult extends Replayable {
	/** False when the code was already revoked. */
	revoked: boolean;
	code: CodeRecord;
}

export interface CodeQuery {
	programId: string;
	code: string;
}

export interface ListCodesQuery {
	programId: string;
	ownerId?: Id;
	afterId?: Id;
	limit?: number;
}

export interface RecordReferralInput extends Mutation {
	programId: string;
	/** Optional when `code` has an owner: the owner is the referrer. */
	referrerId?: Id;
	refereeId?: Id;
	code?: string;
	source?: string;
	touchedAt?: Time;
	ipHash?: string;
	deviceHash?: string;
	/** Initial status (default `pending`); the lifecycle rules live in engine/referrals. */
	status?: string;
	reasons?: string[];
	riskScore?: number;
	metadata?: Record<string, unknown>;
}
/* A referee is referred at most once per program. Default key: the referee, else all inputs. */
export interface RecordReferralResult extends Replayable {
	referral: ReferralRecord;
	/** False when the referee already had a referral in this program (that one is returned). */
	created: boolean;
}

export interface TransitionReferralInput extends Mutation {
	programId: string;
	referralId: Id;
	from: string;
	to: string;
	reason?: string;
	/** Replace the referral's reasons / risk score in the same step (e.g. when flagging). */
	reasons?: string[];
	riskScore?: number;
}
export interface TransitionResult<T> extends Replayable {
	/** True for the one caller whose compare-and-set won (and for its replays). */
	transitioned: boolean;
	/** The status the record has now. */
	status: string;
	record: T;
}

/**
 * Hands a not-yet-converted referral to another referrer (last-touch attribution, or a first touch
 * that arrives late). Compare-and-set on the current referrer and on the statuses it may move from.
 */
export interface ReassignReferralInput extends Mutation {
	programId: string;
	referralId: Id;
	fromReferrerId: Id;
	toReferrerId: Id;
	/** The code the new touch came through, in canonical form (must exist in the program). */
	code?: string;
	touchedAt?: Time;
	source?: string;
	ipHash?: string;
	deviceHash?: string;
	/** Statuses the referral may be reassigned in. */
	fromStatuses: string[];
	reason?: string;
}

export interface QualifyReferralInput extends Mutation {
	programId: string;
	referralId: Id;
	/** Unique per program: the same order never qualifies twice. It is also the default key. */
	orderId: string;
	amount?: number;
	currency?: string;
	occurredAt?: Time;
	/** Statuses the referral may be qualified from (the lifecycle lives in engine/referrals). */
	fromStatuses: string[];
	/** Default `qualified`. */
	toStatus?: string;
	reason?: string;
}
export interface QualifyReferralResult extends Replayable {
	/** False when the referral's status was not in `fromStatuses` (the order is still recorded). */
	qualified: boolean;
	referral: ReferralRecord;
	conversion: ConversionRecord;
}

export interface ListReferralsQuery {
	programId: string;
	referrerId?: Id;
	refereeId?: Id;
	status?: string;
	since?: Time;
	until?: Time;
	afterId?: Id;
	limit?: number;
}

export interface CountReferralsQuery {
	programId: string;
	referrerId?: Id;
	/** Period on touch time, `since` inclusive, `until` exclusive. */
	since?: Time;
	until?: Time;
}
export interface ReferralCounts {
	total: number;
	byStatus: Record<string, number>;
}

export interface SignalQuery {
	programId: string;
	ipHash?: string;
	deviceHash?: string;
	since: Time;
	until?: Time;
	excludeReferralId?: Id;
	limit?: number;
}

export interface EdgesQuery {
	programId: string;
	/** Edges touching these participants; all edges of the program when omitted. */
	participantIds?: Id[];
	limit?: number;
}

export interface ConversionsQuery {
	programId: string;
	/** The conversions (orders) of these referrals (at most 10,000 ids). */
	referralIds: Id[];
	/** Only the order that qualified each referral, not its later orders (default false). */
	qualifiedOnly?: boolean;
}

export interface LeaderboardQuery {
	programId: string;
	/** `qualifiedReferrals`: referrals qualified in the period, per referrer; `points`: net points in the period. */
	by: 'qualifiedReferrals' | 'points';
	since?: Time;
	until?: Time;
	limit?: number;
	/** For `qualifiedReferrals`: statuses not to count (e.g. `reversed`). */
	excludeStatuses?: string[];
}

export interface PointsChange {
	delta: number;
	reason?: string;
	/** Allow the balance to go below zero (default false: refused with `insufficient_points`). */
	allowNegative?: boolean;
}

export interface AwardRewardInput extends Mutation, OwesMessages {
	programId: string;
	recipientId: Id;
	referralId?: Id;
	side: RewardSide;
	/** The rule that granted it, e.g. `signup-bonus`. */
	rule: string;
	kind: RewardKind;
	amount?: number;
	currency?: string;
	status?: RewardStatus;
	holdUntil?: Time;
	metadata?: Record<string, unknown>;
	/** Credit (or debit) the recipient's points in the same transaction. */
	points?: PointsChange;
}
/* Default key of awardReward: referral + recipient + side + rule. */
export interface AwardRewardResult extends Replayable {
	reward: RewardRecord;
	/** The points entry written with the reward, if `points` was given. */
	pointsEntry: PointsEntry | null;
}

export interface TransitionRewardInput extends Mutation, OwesMessages {
	programId: string;
	rewardId: Id;
	from: RewardStatus;
	to: RewardStatus;
	reason?: string;
	/** Points to credit/debit the recipient if (and only if) this transition wins. */
	points?: PointsChange;
}
export interface TransitionRewardResult extends TransitionResult<RewardRecord> {
	pointsEntry: PointsEntry | null;
}

/** One reward's part in a refund: reversed (points taken back with it), or its amount lowered. */
export interface RefundRewardStep {
	rewardId: Id;
	/** Compare-and-set: the status and amount the refund was planned from. */
	from: RewardStatus;
	fromAmount: number | null;
	/** `reversed`; absent: the reward keeps its status and takes `amount`. */
	to?: 'reversed';
	/** The reward's new amount (a percent-of-order reward scaled to what is left of the order). */
	amount?: number;
	/** Points taken back from the recipient with this step (a negative delta). */
	points?: PointsChange;
	/** Merged into the reward's metadata (e.g. the refunded amount it was scaled by). */
	metadata?: Record<string, unknown>;
	/** A generated coupon code revoked with the reversal, so it cannot be used after the refund. */
	revokeCode?: string;
}

/**
 * A refund, written in one transaction: the referral's move (or none) and every reward step, or
 * nothing. Compare-and-set on the referral's status, on each step's reward status and amount, and
 * on the referral's set of rewards (`rewardIds`: all its rewards the plan saw): when any of them
 * changed meanwhile, nothing is written and `status_changed` is thrown (plan again). The key is
 * required: a second call with it returns the first call's `answer` and writes nothing.
 */
export interface RefundReferralInput {
	programId: string;
	referralId: Id;
	idempotencyKey: string;
	/** The referral's status the refund was planned from. */
	referralFrom: string;
	/** `reversed`; absent: the referral keeps its status. */
	referralTo?: string;
	reason?: string;
	/** Merged into the referral's metadata (e.g. the amount refunded so far, for later reward evaluations). */
	referralMetadata?: Record<string, unknown>;
	/** Compare-and-set on the referral's metadata: each key must still hold this value (null: absent), or `status_changed`. */
	referralMetadataExpected?: Record<string, unknown>;
	/** Every reward of the referral the plan saw (reversed ones included). */
	rewardIds: Id[];
	rewards: RefundRewardStep[];
	/** The caller's answer to this refund (at most 64 KiB as JSON), stored with it and returned to replays. */
	answer: Record<string, unknown>;
	events?: EventInput[];
	/** The referrer's badges and tiers the refund takes away (below their minimum) or gives (a lower tier still reached). */
	standing?: RefundStanding;
}

/**
 * A participant's badges and tiers changed by a refund, in its transaction. Compare-and-set: every
 * badge or tier the participant holds (not reversed) must be one of `heldIds`, and each lost one
 * still in its `from` status, or `status_changed` is thrown and nothing is written.
 */
export interface RefundStanding {
	participantId: Id;
	heldIds: Id[];
	/** Reversed (lost). */
	lose: Array<{ rewardId: Id; from: RewardStatus }>;
	/** New approved badge or tier awards (side referrer, no referral), by their idempotency key. */
	grant: Array<{ rule: string; kind: 'badge' | 'tier'; metadata: Record<string, unknown>; idempotencyKey: string }>;
	/** Emitted for the participant (e.g. `tier.lost`, `badge.lost`). */
	events?: EventInput[];
}
export interface RefundReferralResult extends Replayable {
	answer: Record<string, unknown>;
}

export interface ListRewardsQuery {
	programId: string;
	recipientId?: Id;
	referralId?: Id;
	status?: RewardStatus;
	kind?: RewardKind;
	side?: RewardSide;
	afterId?: Id;
	limit?: number;
}

export interface DueRewardsQuery {
	programId: string;
	/** Default: now. */
	now?: Time;
	limit?: number;
}

export interface AppendPointsInput extends Mutation, PointsChange {
	programId: string;
	participantId: Id;
	rewardId?: Id;
}
/* Default key of appendPoints: participant + delta + reason + reward. */
export interface AppendPointsResult extends Replayable {
	entry: PointsEntry;
	balance: number;
}

export interface PointsQuery {
	programId: string;
	participantId: Id;
}

export interface JournalQuery extends PointsQuery {
	afterId?: Id;
	limit?: number;
}

export interface LoadCouponsInput extends Mutation {
	programId: string;
	pool: string;
	codes: string[];
}
export interface LoadCouponsResult extends Replayable {
	added: number;
	/** Codes already in the pool (skipped). */
	duplicates: number;
	available: number;
}

export interface ClaimCouponInput extends Mutation {
	programId: string;
	pool: string;
	participantId?: Id;
	rewardId?: Id;
	/** Emit `coupon.pool_low` when a claim leaves fewer than this many available. */
	lowStockThreshold?: number;
}
/* Default key of claimCoupon: the reward, else participant + pool. */
export interface ClaimCouponResult extends Replayable {
	/** Null when the pool is empty. */
	coupon: CouponRecord | null;
	available: number;
}

export interface CouponCounts {
	available: number;
	claimed: number;
}

export interface AppendEventInput {
	programId?: string;
	type: string;
	payload?: Record<string, unknown>;
	/** Default: derived from program, type and payload (the same event twice is stored once). */
	idempotencyKey?: string;
}
export interface AppendEventResult extends Replayable {
	event: LedgerEvent;
}

export interface ReadEventsQuery {
	/** Return events with id greater than this (0 for all). */
	afterId: number;
	types?: string[];
	programId?: string;
	limit?: number;
}
export interface ReadEventsResult {
	events: LedgerEvent[];
	/** Where the next poll should start; never past an event that could still appear. */
	cursor: number;
}

export interface SuppressionKey {
	channel: string;
	address: string;
}
export interface SuppressionInput extends Mutation, SuppressionKey {
	reason?: string;
}
export interface RemoveSuppressionInput extends Mutation, SuppressionKey {}

export interface ReserveMessageInput {
	/** Default: channel + recipient + template + reference. */
	idempotencyKey?: string;
	channel: string;
	recipient: string;
	programId?: string;
	participantId?: Id;
	templateId?: string;
	reference?: string;
	/** Take the key over again when the earlier attempt failed (default false). */
	retryFailed?: boolean;
	/** Take the key over when a reservation is older than this and never completed (a crashed sender). */
	staleAfterMs?: number;
}
export interface ReserveMessageResult {
	/** True: you own the send. False: someone already sent, is sending, or failed (see `message.status`). */
	reserved: boolean;
	message: MessageRecord;
}

export interface CompleteMessageInput {
	idempotencyKey: string;
	/**
	 * `sent`, `failed`; for a claimed owed message also `skipped`, `unconfirmed`, or `owed` (give it
	 * back: deferred by quiet hours, or retried after a temporary failure, from `dueAt`).
	 */
	status: 'sent' | 'failed' | 'skipped' | 'unconfirmed' | 'owed';
	/** The claim's token: only the holder of the claim completes a claimed message. */
	token?: string;
	providerId?: string;
	error?: string;
	/** With status `owed`: not before this time (default now). */
	dueAt?: Time;
}

export interface ClaimMessagesInput {
	channel: 'email' | 'sms';
	/** Only messages of this kind (required with `overdueAfterMs`). */
	topic?: string;
	programId?: string;
	/** The messages with these keys, and the later parts of each (at most 1,000 keys). */
	keys?: string[];
	/**
	 * Also other owed messages of this channel and topic that have waited this long (left by an
	 * execution that died before delivering them), and claims whose holder died before handing over.
	 */
	overdueAfterMs?: number;
	/** Most overdue messages to take (default 100, at most 1,000); messages of `keys` are all taken. */
	limit?: number;
	/** How long the claim lasts unless renewed (default 30,000 ms; 1,000 to 600,000). */
	ttlMs?: number;
}

export interface ClaimMessagesResult {
	/** Pass it to renewMessageClaims, handOverMessage and completeMessage. */
	token: string;
	/** Messages now held by this claim, oldest first. */
	claimed: MessageRecord[];
	/** Messages of `keys` not claimed: already sent, skipped, failed, unconfirmed, or being sent by another execution. */
	others: MessageRecord[];
}

export interface ListMessagesQuery {
	programId?: string;
	status?: MessageStatus;
	topic?: string;
	channel?: string;
	participantId?: Id;
	afterId?: Id;
	limit?: number;
}

export interface SaveScoringModelInput extends Mutation {
	name: string;
	model: unknown;
}
export interface SaveScoringModelResult extends Replayable {
	model: ScoringModelRecord;
	/** False when the stored model was already identical (version unchanged). */
	changed: boolean;
}

export interface LeaseInput {
	programId: string;
	/** What the lease guards, e.g. `referrer:42`. */
	name: string;
	/** How long a lease lives without renewal (default 30,000 ms; 1,000 to 600,000). */
	ttlMs?: number;
	/** How long to wait for a held lease (default 30,000 ms; 0 to 600,000). */
	waitMs?: number;
}

export interface ClaimNonceInput {
	/** What the key belongs to, e.g. `webhook:stripe`; expired keys are swept per scope. */
	scope: string;
	/** The one-time key (up to 256 characters), e.g. a hash of a signed delivery. */
	nonce: string;
	/** Until when a second claim is refused; after it the key may be claimed again. */
	expiresAt: Time;
}

/** A coupon pool of a program, for a picker. */
export interface CouponPoolSummary {
	pool: string;
	available: number;
	total: number;
}

export interface LedgerStore {
	readonly backend: 'sqlite' | 'postgres';

	// programs (never deleted)
	ensureProgram(input: EnsureProgramInput): Promise<ProgramRecord>;
	getProgram(id: string): Promise<ProgramRecord | null>;
	/** Programs for a picker, by id, those whose id or name contains `search` (any case); at most `limit` (default 100). */
	listPrograms(query?: { search?: string; limit?: number }): Promise<Array<{ id: string; name: string }>>;
	/**
	 * A write-once secret of a program (e.g. the hash salt): stores `candidate` if the program has no
	 * secret of that name yet, and returns the stored one either way (the first writer wins).
	 */
	claimProgramSecret(input: { programId: string; name: string; candidate: string }): Promise<string>;
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
	 * Claims a one-time key across every process on the ledger: true for the first claim (or the
	 * first after the earlier claim expired), false while it is held. Not tied to a program.
	 */
	claimNonce(input: ClaimNonceInput): Promise<boolean>;

	// participants
	enrolParticipant(input: EnrolParticipantInput): Promise<EnrolParticipantResult>;
	getParticipant(query: ParticipantQuery): Promise<ParticipantRecord | null>;
	updateParticipant(input: UpdateParticipantInput): Promise<{ participant: ParticipantRecord } & Replayable>;
	listParticipants(query: ListParticipantsQuery): Promise<ParticipantRecord[]>;
	/** GDPR erasure: personal fields nulled, rows and aggregates kept, event payloads scrubbed. */
	eraseParticipant(input: EraseParticipantInput): Promise<{ participant: ParticipantRecord } & Replayable>;

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
	findReferralByReferee(query: { programId: string; refereeId: Id }): Promise<ReferralRecord | null>;
	findReferralByOrderId(query: { programId: string; orderId: string }): Promise<ReferralRecord | null>;
	/** Compare-and-set on the status; the change is appended to the history. */
	transitionReferral(input: TransitionReferralInput): Promise<TransitionResult<ReferralRecord>>;
	/** Compare-and-set on referrer and status; the change is appended to the history. */
	reassignReferral(input: ReassignReferralInput): Promise<TransitionResult<ReferralRecord>>;
	referralHistory(query: { programId: string; referralId: Id }): Promise<StatusChange[]>;
	qualifyReferral(input: QualifyReferralInput): Promise<QualifyReferralResult>;
	listReferrals(query: ListReferralsQuery): Promise<ReferralRecord[]>;
	countReferrals(query: CountReferralsQuery): Promise<ReferralCounts>;
	/** Referrals sharing an ip or device hash in a window (either matches). */
	referralsBySignal(query: SignalQuery): Promise<ReferralRecord[]>;
	/** Referrer → referee edges for ring detection. */
	referralEdges(query: EdgesQuery): Promise<ReferralEdge[]>;
	/** The orders recorded against these referrals (by Qualify), in id order. */
	listConversions(query: ConversionsQuery): Promise<ConversionRecord[]>;
	leaderboard(query: LeaderboardQuery): Promise<LeaderboardRow[]>;

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

	// coupon pools
	loadCoupons(input: LoadCouponsInput): Promise<LoadCouponsResult>;
	/** Atomically claims one available coupon; two claims never get the same one. */
	claimCoupon(input: ClaimCouponInput): Promise<ClaimCouponResult>;
	countCoupons(query: { programId: string; pool: string }): Promise<CouponCounts>;
	/** A program's coupon pools for a picker, by name, those whose name contains `search` (any case); at most `limit` (default 100). */
	listCouponPools(query: { programId: string; search?: string; limit?: number }): Promise<CouponPoolSummary[]>;

	// outbox (for the trigger node)
	appendEvent(input: AppendEventInput): Promise<AppendEventResult>;
	readEvents(query: ReadEventsQuery): Promise<ReadEventsResult>;
	/** The id a new poller should start after (only events from now on). */
	latestEventId(): Promise<number>;
	/** Deletes events created before `before`; returns how many. */
	pruneEvents(query: { before: Time }): Promise<number>;

	// suppression list (global: an opt-out holds across programs)
	addSuppression(input: SuppressionInput): Promise<{ suppression: SuppressionRecord; created: boolean } & Replayable>;
	removeSuppression(input: RemoveSuppressionInput): Promise<{ removed: boolean } & Replayable>;
	getSuppression(query: SuppressionKey): Promise<SuppressionRecord | null>;
	/** Which of these addresses are suppressed on the channel (returned normalised as stored). */
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
	handOverMessage(input: { idempotencyKey: string; token: string }, onCommitted?: () => void): Promise<boolean>;

	// lead scoring models
	saveScoringModel(input: SaveScoringModelInput): Promise<SaveScoringModelResult>;
	loadScoringModel(name: string): Promise<ScoringModelRecord | null>;

	// maintenance
	/**
	 * Keeps the answer of a request under its key (made of the request alone, never of anything the
	 * server generated) and returns the answer kept: the first one stored. So a replay of the request,
	 * also one racing it, answers like the first (`replayed: true`). Pruned with the idempotency keys.
	 */
	keepAnswer(input: KeepAnswerInput): Promise<{ answer: Record<string, unknown>; replayed: boolean }>;
	/** The answer kept under the key, or null. */
	keptAnswer(query: { programId: string; operation: string; key: string }): Promise<Record<string, unknown> | null>;
	/** Forgets idempotency keys older than `before` (natural unique keys still hold); returns how many. */
	pruneIdempotencyKeys(query: { before: Time }): Promise<number>;
	schemaVersion(): Promise<number>;
	/** Closes the connection/pool. Nodes should not call this on a cached ledger. */
	close(): Promise<void>;
}
