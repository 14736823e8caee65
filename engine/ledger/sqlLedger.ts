/* The ledger both backends run: one LedgerStore made of the tables (tables/*.ts) over one core
 * (core.ts: driver, clock, writes, idempotency). Each method is its table's; this class only
 * composes them, so a new operation goes into its table and gets one line here. */
import { type BatchItem, LedgerCore } from './core';
import type { Driver } from './sql';
import type {
	AppendEventInput,
	AppendPointsInput,
	AwardRewardInput,
	ClaimCouponInput,
	ClaimMessagesInput,
	ClaimNonceInput,
	ClickStatsQuery,
	CodeQuery,
	CompleteMessageInput,
	ConversionsQuery,
	CountReferralsQuery,
	ReferrerWindowsQuery,
	DashboardQuery,
	DueRewardsQuery,
	EdgesQuery,
	EnrolParticipantInput,
	EnsureProgramInput,
	EraseParticipantInput,
	Id,
	IssueCodeInput,
	IssueCodesInput,
	JournalQuery,
	KeepAnswerInput,
	LeaderboardQuery,
	ReferralStatsQuery,
	LeaseInput,
	LedgerStore,
	ListCodesQuery,
	ListMessagesQuery,
	ListParticipantsQuery,
	ListReferralsQuery,
	ListRewardsQuery,
	LoadCouponsInput,
	ParticipantQuery,
	PointsQuery,
	QualifyReferralInput,
	ReadEventsQuery,
	ReassignReferralInput,
	RecordClickInput,
	RecordReferralInput,
	RedeemCodeInput,
	RefundReferralInput,
	RemoveSuppressionInput,
	ReserveMessageInput,
	RevokeCodeInput,
	SaveScoringModelInput,
	SignalQuery,
	SuppressionInput,
	SuppressionKey,
	PruneLedgerInput,
	Time,
	TransitionReferralInput,
	TransitionRewardInput,
	UpdateParticipantInput,
	VisitorClickQuery,
} from './store';
import { ProgramsTable } from './tables/programs';
import { ParticipantsTable } from './tables/participants';
import { CodesTable } from './tables/codes';
import { ReferralsTable } from './tables/referrals';
import { ReferralQueriesTable } from './tables/referralQueries';
import { RewardsTable } from './tables/rewards';
import { RefundsTable } from './tables/refunds';
import { PointsTable } from './tables/points';
import { CountersTable } from './tables/counters';
import { CouponsTable } from './tables/coupons';
import { OutboxTable } from './tables/outbox';
import { MessagesTable } from './tables/messages';
import { ClicksTable } from './tables/clicks';
import { RetentionTable } from './tables/retention';

export class SqlLedger implements LedgerStore {
	readonly backend: 'sqlite' | 'postgres';
	private readonly core: LedgerCore;
	private readonly programs: ProgramsTable;
	private readonly participants: ParticipantsTable;
	private readonly codes: CodesTable;
	private readonly referrals: ReferralsTable;
	private readonly referralQueries: ReferralQueriesTable;
	private readonly rewards: RewardsTable;
	private readonly refunds: RefundsTable;
	private readonly points: PointsTable;
	private readonly counters: CountersTable;
	private readonly coupons: CouponsTable;
	private readonly outbox: OutboxTable;
	private readonly messages: MessagesTable;
	private readonly clicks: ClicksTable;
	private readonly retention: RetentionTable;
	private isClosed = false;

	constructor(driver: Driver, now: () => number = Date.now) {
		this.core = new LedgerCore(driver, now);
		this.backend = this.core.backend;
		this.programs = new ProgramsTable(this.core);
		this.participants = new ParticipantsTable(this.core);
		this.codes = new CodesTable(this.core);
		this.referrals = new ReferralsTable(this.core);
		this.referralQueries = new ReferralQueriesTable(this.core);
		this.rewards = new RewardsTable(this.core);
		this.refunds = new RefundsTable(this.core);
		this.points = new PointsTable(this.core);
		this.counters = new CountersTable(this.core);
		this.coupons = new CouponsTable(this.core);
		this.outbox = new OutboxTable(this.core);
		this.messages = new MessagesTable(this.core);
		this.clicks = new ClicksTable(this.core);
		this.retention = new RetentionTable(this.core);
	}

	// programs (never deleted)
	ensureProgram(input: EnsureProgramInput) {
		return this.programs.ensureProgram(input);
	}
	getProgram(id: string) {
		return this.programs.getProgram(id);
	}
	listPrograms(query?: { search?: string; limit?: number }) {
		return this.programs.listPrograms(query);
	}
	claimProgramSecret(input: { programId: string; name: string; candidate: string }) {
		return this.programs.claimProgramSecret(input);
	}
	getProgramSecret(query: { programId: string; name: string }) {
		return this.programs.getProgramSecret(query);
	}
	withLease<T>(input: LeaseInput, fn: () => Promise<T>): Promise<T> {
		return this.programs.withLease(input, fn);
	}
	batch<T>(fn: (item: BatchItem) => Promise<T>): Promise<T> {
		return this.core.batch(fn);
	}
	inBatch(): boolean {
		return this.core.inBatch();
	}
	claimNonce(input: ClaimNonceInput) {
		return this.programs.claimNonce(input);
	}

	// participants
	enrolParticipant(input: EnrolParticipantInput) {
		return this.participants.enrolParticipant(input);
	}
	getParticipant(query: ParticipantQuery) {
		return this.participants.getParticipant(query);
	}
	updateParticipant(input: UpdateParticipantInput) {
		return this.participants.updateParticipant(input);
	}
	listParticipants(query: ListParticipantsQuery) {
		return this.participants.listParticipants(query);
	}
	eraseParticipant(input: EraseParticipantInput) {
		return this.participants.eraseParticipant(input);
	}

	// codes
	issueCode(input: IssueCodeInput) {
		return this.codes.issueCode(input);
	}
	issueCodes(count: number, input: IssueCodesInput) {
		return this.codes.issueCodes(count, input);
	}
	redeemCode(input: RedeemCodeInput) {
		return this.codes.redeemCode(input);
	}
	revokeCode(input: RevokeCodeInput) {
		return this.codes.revokeCode(input);
	}
	lookupCode(query: CodeQuery) {
		return this.codes.lookupCode(query);
	}
	listCodes(query: ListCodesQuery) {
		return this.codes.listCodes(query);
	}

	// referrals
	recordReferral(input: RecordReferralInput) {
		return this.referrals.recordReferral(input);
	}
	getReferral(query: { programId: string; id: Id }) {
		return this.referrals.getReferral(query);
	}
	findReferralByReferee(query: { programId: string; refereeId: Id }) {
		return this.referrals.findReferralByReferee(query);
	}
	findReferralByOrderId(query: { programId: string; orderId: string }) {
		return this.referrals.findReferralByOrderId(query);
	}
	transitionReferral(input: TransitionReferralInput) {
		return this.referrals.transitionReferral(input);
	}
	reassignReferral(input: ReassignReferralInput) {
		return this.referrals.reassignReferral(input);
	}
	referralHistory(query: { programId: string; referralId: Id }) {
		return this.referrals.referralHistory(query);
	}
	qualifyReferral(input: QualifyReferralInput) {
		return this.referrals.qualifyReferral(input);
	}
	listReferrals(query: ListReferralsQuery) {
		return this.referralQueries.listReferrals(query);
	}
	countReferrals(query: CountReferralsQuery) {
		return this.referralQueries.countReferrals(query);
	}
	countReferralsInWindows(query: ReferrerWindowsQuery) {
		return this.referralQueries.countReferralsInWindows(query);
	}
	referralsBySignal(query: SignalQuery) {
		return this.referralQueries.referralsBySignal(query);
	}
	referralEdges(query: EdgesQuery) {
		return this.referralQueries.referralEdges(query);
	}
	listConversions(query: ConversionsQuery) {
		return this.referralQueries.listConversions(query);
	}
	leaderboard(query: LeaderboardQuery) {
		return this.referralQueries.leaderboard(query);
	}
	referralStatsTotals(query: ReferralStatsQuery) {
		return this.referralQueries.referralStatsTotals(query);
	}
	dashboardTotals(query: DashboardQuery) {
		return this.referralQueries.dashboardTotals(query);
	}

	// tracked referral link clicks
	recordClick(input: RecordClickInput) {
		return this.clicks.recordClick(input);
	}
	visitorClick(query: VisitorClickQuery) {
		return this.clicks.visitorClick(query);
	}
	clickStats(query: ClickStatsQuery) {
		return this.clicks.clickStats(query);
	}

	// rewards
	awardReward(input: AwardRewardInput) {
		return this.rewards.awardReward(input);
	}
	getReward(query: { programId: string; id: Id }) {
		return this.rewards.getReward(query);
	}
	listRewards(query: ListRewardsQuery) {
		return this.rewards.listRewards(query);
	}
	transitionReward(input: TransitionRewardInput) {
		return this.rewards.transitionReward(input);
	}
	refundReferral(input: RefundReferralInput) {
		return this.refunds.refundReferral(input);
	}
	rewardHistory(query: { programId: string; rewardId: Id }) {
		return this.rewards.rewardHistory(query);
	}
	rewardsDueForApproval(query: DueRewardsQuery) {
		return this.rewards.rewardsDueForApproval(query);
	}

	// points
	appendPoints(input: AppendPointsInput) {
		return this.points.appendPoints(input);
	}
	pointsBalance(query: PointsQuery) {
		return this.points.pointsBalance(query);
	}
	pointsJournal(query: JournalQuery) {
		return this.points.pointsJournal(query);
	}
	rewardCounters(query: { programId: string; participantId: Id; upToReferralId?: Id }) {
		return this.counters.rewardCounters(query);
	}
	qualifiedReferralsAfter(query: { programId: string; referrerId: Id; referralId: Id }) {
		return this.counters.qualifiedReferralsAfter(query);
	}
	capUsage(query: {
		programId: string;
		participantId: Id;
		start: number | null;
		end: number | null;
	}) {
		return this.counters.capUsage(query);
	}
	rewardsByKeys(query: { programId: string; keys: string[] }) {
		return this.counters.rewardsByKeys(query);
	}
	pointsOfRewards(query: { programId: string; rewardIds: Id[] }) {
		return this.counters.pointsOfRewards(query);
	}

	// coupon pools
	loadCoupons(input: LoadCouponsInput) {
		return this.coupons.loadCoupons(input);
	}
	claimCoupon(input: ClaimCouponInput) {
		return this.coupons.claimCoupon(input);
	}
	countCoupons(query: { programId: string; pool: string }) {
		return this.coupons.countCoupons(query);
	}
	listCouponPools(query: { programId: string; search?: string; limit?: number }) {
		return this.coupons.listCouponPools(query);
	}

	// outbox (for the trigger node)
	appendEvent(input: AppendEventInput) {
		return this.outbox.appendEvent(input);
	}
	readEvents(query: ReadEventsQuery) {
		return this.outbox.readEvents(query);
	}
	latestEventId() {
		return this.outbox.latestEventId();
	}
	pruneEvents(query: { before: Time }) {
		return this.retention.pruneEvents(query);
	}

	// suppression list (global: an opt-out holds across programs)
	addSuppression(input: SuppressionInput) {
		return this.messages.addSuppression(input);
	}
	removeSuppression(input: RemoveSuppressionInput) {
		return this.messages.removeSuppression(input);
	}
	getSuppression(query: SuppressionKey) {
		return this.messages.getSuppression(query);
	}
	suppressedAddresses(query: { channel: string; addresses: string[] }) {
		return this.messages.suppressedAddresses(query);
	}

	// message log
	reserveMessage(input: ReserveMessageInput) {
		return this.messages.reserveMessage(input);
	}
	completeMessage(input: CompleteMessageInput) {
		return this.messages.completeMessage(input);
	}
	getMessage(idempotencyKey: string) {
		return this.messages.getMessage(idempotencyKey);
	}
	listMessages(query: ListMessagesQuery) {
		return this.messages.listMessages(query);
	}
	claimMessages(input: ClaimMessagesInput) {
		return this.messages.claimMessages(input);
	}
	renewMessageClaims(input: { token: string; ttlMs?: number }) {
		return this.messages.renewMessageClaims(input);
	}
	handOverMessage(input: { idempotencyKey: string; token: string }, onCommitted?: () => void) {
		return this.messages.handOverMessage(input, onCommitted);
	}

	// lead scoring models
	saveScoringModel(input: SaveScoringModelInput) {
		return this.programs.saveScoringModel(input);
	}
	loadScoringModel(name: string) {
		return this.programs.loadScoringModel(name);
	}

	// maintenance
	keepAnswer(input: KeepAnswerInput) {
		return this.programs.keepAnswer(input);
	}
	keptAnswer(query: { programId: string; operation: string; key: string }) {
		return this.programs.keptAnswer(query);
	}
	pruneIdempotencyKeys(query: { before: Time }) {
		return this.retention.pruneIdempotencyKeys(query);
	}
	pruneLedger(input: PruneLedgerInput) {
		return this.retention.pruneLedger(input);
	}
	schemaVersion() {
		return this.programs.schemaVersion();
	}

	/** True once close() was called; the cache in index.ts then opens a fresh one. */
	get closed(): boolean {
		return this.isClosed;
	}

	close(): Promise<void> {
		this.isClosed = true;
		return this.core.driver.close();
	}
}
