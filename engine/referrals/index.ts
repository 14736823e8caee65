/**
 * The referrals domain as nodes, other domains, tests of nodes and the bench see it: the service of
 * one program (sign-up, conversion, review, participants, views), the program's settings, its
 * statistics and leaderboard. The rules behind them (lifecycle, fraud, attribution, conversion,
 * share, metrics) stay in their own modules; only what callers outside engine/referrals use is here.
 */
export { ReferralService, type ServiceOptions } from './service';
export type {
	AssessmentView,
	IdentityInput,
	ParticipantView,
	ReferralDetail,
	ReferralSummary,
	Warning,
} from './views';
export type { SignUpInput, SignUpOutcome } from './signUp';
export {
	VISITOR_COOKIE,
	visitorIdFromHeaders,
	type ClickOptions,
	type ClickOutcome,
	type ClickReason,
	type ClickRequest,
} from './clicks';
export type { LinkFunnel, ShareLinkStats } from './linkStats';
export type { ConversionInput, ConversionOutcome, TransitionOutcome } from './transitions';
export type { ParticipantStats, PrivateLinkView } from './participants';
export {
	loadReferralProgram,
	saveReferralProgram,
	type LoadedProgram,
	type ReferralProgramConfig,
	type ReferralProgramInput,
	type ReferralProgramView,
	type ShareSettings,
} from './programs';
export {
	referralLeaderboard,
	referralStats,
	type LeaderboardInput,
	type LeaderboardLine,
	type StatsInput,
	type StatsOutcome,
} from './stats';
export {
	issueReferralCode,
	CODE_OWNER_KINDS,
	type CodeOwnerKind,
	type IssueReferralCodeInput,
} from './issue';
export { FRAUD_CHECKS } from './fraud';
export type { CustomerRow } from './metrics';
// For engine/refunds, which composes referrals and rewards (see eslint.config.mjs: neither imports the other).
export { shouldReverse, type RefundPolicy } from './conversion';
export { parseReferralStatus, type PublicReferralStatus, type ReferralStatus } from './lifecycle';
