/* The rule set's vocabulary: what a marketer configures, what a lead's score reports, and the compiled shapes the compiler and scorer share. */
import type { CompiledDecay, DecayConfig } from './decay';
import type {
	EngagementLevel,
	EngagementThresholds,
	FitGrade,
	FitGradeThresholds,
	StageConfig,
} from './grades';

export const RULE_OPERATORS = [
	'equals',
	'notEquals',
	'contains',
	'startsWith',
	'regex',
	'inList',
	'greaterThan',
	'lessThan',
	'between',
	'exists',
	'isEmpty',
	'withinLastDays',
] as const;
export type RuleOperator = (typeof RULE_OPERATORS)[number];

/** What a rule does when its field is missing or cannot be read as the operator needs. */
export type BadInputPolicy = 'skip' | 'zero' | 'error';
export type BadInputReason = 'missing' | 'notNumber' | 'notDate' | 'notText';

/** Which axis of the fit x engagement matrix a group feeds; `none` counts only in the total. */
export type GroupDimension = 'fit' | 'engagement' | 'none';
export type ExplainLevel = 'none' | 'matched' | 'all';

export type RuleValue = string | number | boolean;

export interface ScoringRule {
	/** Shown in explanations and messages; defaults to "Rule <n>". */
	name?: string;
	/** fit, engagement, referral or any name the marketer chooses. */
	group: string;
	/** Dot path into the lead, e.g. `company.size`, `tags[0]`. */
	field: string;
	operator: RuleOperator;
	/** equals, notEquals, contains, startsWith (text, number or true/false); greaterThan, lessThan (number). */
	value?: RuleValue;
	/** inList: the accepted values, as a list or comma-separated text. */
	values?: readonly RuleValue[] | string;
	/** regex: the pattern and its flags (i, m, s, u); g and y are refused because they make tests stateful. */
	pattern?: string;
	flags?: string;
	/** between: inclusive bounds. */
	min?: number;
	max?: number;
	/** withinLastDays: the window in days. */
	days?: number;
	/** Text comparisons ignore case unless this is true. */
	caseSensitive?: boolean;
	/** Points added when the rule matches; negative to subtract. */
	points: number;
	decay?: DecayConfig;
	/** Defaults to the rule set's `onBadInput`, which defaults to `skip`. */
	onBadInput?: BadInputPolicy;
}

export interface ScoringGroup {
	name: string;
	/** Defaults: `fit` for fit, `engagement` for engagement and referral, `none` otherwise. */
	dimension?: GroupDimension;
	/** The group's points are clamped to [min, max] after decay, before the total. */
	min?: number | null;
	max?: number | null;
}

export interface ScoringConfig {
	rules: readonly ScoringRule[];
	/** Limits and dimensions; groups used by rules but not listed here have no limits. */
	groups?: readonly ScoringGroup[];
	total?: {
		/** Lowest total; default 0 so decay and negative rules cannot bury a lead that re-engages. `null`: no floor. */
		floor?: number | null;
		/** Highest total; default none. */
		cap?: number | null;
		/** Report the score as 0-100 between floor and cap (both needed). */
		normalize?: boolean;
	};
	fitGrades?: Partial<FitGradeThresholds>;
	engagementLevels?: Partial<EngagementThresholds>;
	stages?: readonly StageConfig[];
	onBadInput?: BadInputPolicy;
	/** Which rules each lead's explanation lists: matched and bad-input ones (default), all, or none. */
	explain?: ExplainLevel;
}

export interface BadInput {
	/** The lead field that was missing or unreadable (the rule's field or its decay date field). */
	field: string;
	reason: BadInputReason;
	policy: 'skip' | 'zero';
}

export interface RuleExplanation {
	/** Position in the rule list, from 0. */
	index: number;
	rule: string;
	group: string;
	matched: boolean;
	/** The rule's configured points. */
	points: number;
	/**
	 * The share of points surviving decay: 1 without decay, 0 when the rule did not match or its
	 * decay date was unreadable under the `zero` policy, so contribution = points x decayFactor always.
	 */
	decayFactor: number;
	/** points x decayFactor when matched, else 0: what the rule adds before limits. */
	contribution: number;
	badInput?: BadInput;
}

export interface GroupExplanation {
	name: string;
	dimension: GroupDimension;
	/** Sum of the group's rule contributions. */
	points: number;
	min: number | null;
	max: number | null;
	/** points clamped to [min, max]. */
	value: number;
	/** value - points: negative when the maximum cut points off, positive when the minimum lifted them. */
	clipped: number;
}

export interface LeadScore {
	/** The final score: 0-100 when normalized, else equal to `total`. */
	score: number;
	/** Points after group limits and the total floor and cap. */
	total: number;
	normalized: boolean;
	/** Sum of fit groups after their limits. */
	fit: number;
	/** Sum of engagement groups after their limits. */
	engagement: number;
	grade: FitGrade;
	engagementLevel: EngagementLevel;
	/** e.g. `A1` (best fit, most engaged) ... `F3`. */
	matrix: string;
	/** null when the score is below the first stage's minimum or no stages are set. */
	stage: string | null;
	nextStage: string | null;
	/** Score still needed to reach `nextStage`. */
	pointsToNextStage: number | null;
	/**
	 * Adds up: sum(rules.contribution) + sum(groups.clipped) + clipped = total
	 * (rules not listed contributed 0).
	 */
	explanation: {
		rules: RuleExplanation[];
		groups: GroupExplanation[];
		/** Sum of group values, before the total floor and cap. */
		points: number;
		floor: number | null;
		cap: number | null;
		/** total - points. */
		clipped: number;
	};
}

export interface RuleScorer {
	readonly ruleCount: number;
	readonly groupNames: readonly string[];
	readonly normalized: boolean;
	readonly fitGrades: Readonly<FitGradeThresholds>;
	readonly engagementLevels: Readonly<EngagementThresholds>;
	/**
	 * Scores one lead as of `now` (epoch ms, Date or ISO text). `leadLabel` (item index or the
	 * caller's label) names the lead in errors raised by the `error` policy.
	 */
	score(lead: unknown, now: number | Date | string, leadLabel?: string | number): LeadScore;
}

// Internal to engine/scoring (not re-exported by its index): outcome codes and compiled shapes.

// Outcome codes of a rule test; codes from MISSING up are bad input.
export const NO = 0;
export const YES = 1;
export const MISSING = 2;
export const NOT_NUMBER = 3;
export const NOT_DATE = 4;
export const NOT_TEXT = 5;

export const REASONS: readonly BadInputReason[] = [
	'missing',
	'missing',
	'missing',
	'notNumber',
	'notDate',
	'notText',
];

export interface TextCache {
	/** The lowercased text of the current lead's value in `slot`, computed at most once per lead. */
	lowered(slot: number, text: string): string;
}

export type Matcher = (value: unknown, cache: TextCache, slot: number) => number;

export interface CompiledRule {
	readonly index: number;
	readonly label: string;
	readonly where: string;
	readonly groupIndex: number;
	readonly groupName: string;
	readonly points: number;
	readonly field: string;
	readonly slot: number;
	/** withinLastDays reads the slot as a date instead of calling `match`. */
	readonly windowMs: number;
	readonly dateOperator: boolean;
	readonly match: Matcher;
	/** Outcome when bad input is replaced by zero (0, empty text); fixed, so computed once. */
	readonly zeroOutcome: number;
	readonly decay: CompiledDecay | undefined;
	readonly decaySlot: number;
	readonly policy: BadInputPolicy;
}

export interface CompiledGroup {
	readonly name: string;
	readonly dimension: GroupDimension;
	readonly min: number;
	readonly max: number;
}
