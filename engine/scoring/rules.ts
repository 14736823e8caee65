/*
 * Rule scoring: a rule set is validated and compiled once (`compileRuleSet`), then scores each lead
 * with `scorer.score(lead, now)`. Points flow rule -> decay -> group limits -> total floor/cap ->
 * optional 0-100 normalisation, and every lead carries the explanation of how it got there.
 */
import { RE2JS } from 're2js';
import { EngineError } from '../shared/errors';
import { compileDecay, decayFactor, type CompiledDecay, type DecayConfig } from './decay';
import {
	DAY_MS,
	describeLead,
	describeValue,
	isBlank,
	isMissing,
	parseDate,
	parseFieldPath,
	readPath,
	toNumber,
	toText,
	type PathSegment,
} from './fields';
import {
	compileEngagementLevels,
	compileFitGrades,
	compileStages,
	engagementLevel,
	fitGrade,
	matrixCell,
	stageIndex,
	type CompiledStage,
	type EngagementLevel,
	type EngagementThresholds,
	type FitGrade,
	type FitGradeThresholds,
	type StageConfig,
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
export const BAD_INPUT_POLICIES: readonly BadInputPolicy[] = ['skip', 'zero', 'error'];
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
	/** The final score: 0-100 when normalised, else equal to `total`. */
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

// Outcome codes of a rule test; codes from MISSING up are bad input.
const NO = 0;
const YES = 1;
const MISSING = 2;
const NOT_NUMBER = 3;
const NOT_DATE = 4;
const NOT_TEXT = 5;

const REASONS: readonly BadInputReason[] = ['missing', 'missing', 'missing', 'notNumber', 'notDate', 'notText'];

interface TextCache {
	/** The lowercased text of the current lead's value in `slot`, computed at most once per lead. */
	lowered(slot: number, text: string): string;
}

type Matcher = (value: unknown, cache: TextCache, slot: number) => number;

interface CompiledRule {
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

interface CompiledGroup {
	readonly name: string;
	readonly dimension: GroupDimension;
	readonly min: number;
	readonly max: number;
}

const UNCACHED_TEXT: TextCache = { lowered: (_slot, text) => text.toLowerCase() };

function ruleWhere(index: number, name: string | undefined): string {
	return name === undefined ? `Rule ${index + 1}` : `Rule ${index + 1} "${name}"`;
}

function numberParam(value: unknown, param: string, where: string, operator: string): number {
	const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
	if (!Number.isFinite(n)) {
		throw new EngineError(
			'invalid_rule',
			`${where}: operator "${operator}" needs a number in "${param}"; got ${JSON.stringify(value) ?? 'nothing'}.`,
			{ field: param },
		);
	}
	return n;
}

function optionalLimit(value: unknown, param: string, where: string): number | undefined {
	if (value === undefined || value === null || value === '') return undefined;
	const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : NaN;
	if (!Number.isFinite(n)) {
		throw new EngineError('invalid_limits', `${where}: "${param}" must be a number or left empty; got ${JSON.stringify(value)}.`, {
			field: param,
		});
	}
	return n;
}

/** Why a value is not a number: missing (absent, null, blank text, as CSV imports leave) or not numeric. */
function notNumber(value: unknown): number {
	return isMissing(value) || (typeof value === 'string' && value.trim() === '') ? MISSING : NOT_NUMBER;
}

function buildMatcher(rule: ScoringRule, where: string): Matcher {
	const operator = rule.operator;
	const caseSensitive = rule.caseSensitive === true;
	if (rule.caseSensitive !== undefined && typeof rule.caseSensitive !== 'boolean') {
		throw new EngineError('invalid_rule', `${where}: "caseSensitive" must be true or false.`, { field: 'caseSensitive' });
	}

	const textTarget = (param: 'value'): string => {
		const v = rule[param];
		if (typeof v === 'string') return caseSensitive ? v : v.toLowerCase();
		if (typeof v === 'number' && Number.isFinite(v)) return String(v);
		if (typeof v === 'boolean') return String(v);
		throw new EngineError(
			'invalid_rule',
			`${where}: operator "${operator}" needs a text, number or true/false "value"; got ${JSON.stringify(v) ?? 'nothing'}.`,
			{ field: param },
		);
	};
	// Text of a lead value as the rule compares it: lowercased unless case-sensitive.
	const compareText = (value: unknown, cache: TextCache, slot: number): string | null => {
		const text = toText(value);
		if (text === null || caseSensitive) return text;
		return cache.lowered(slot, text);
	};

	switch (operator) {
		case 'equals':
		case 'notEquals': {
			const negate = operator === 'notEquals';
			const target = rule.value;
			let test: Matcher;
			if (typeof target === 'number') {
				if (!Number.isFinite(target)) numberParam(target, 'value', where, operator);
				test = (value) => {
					const n = toNumber(value);
					if (n !== n) return notNumber(value);
					return n === target ? YES : NO;
				};
			} else if (typeof target === 'boolean') {
				const wanted = String(target);
				test = (value, cache, slot) => {
					if (isMissing(value)) return MISSING;
					if (typeof value === 'boolean') return value === target ? YES : NO;
					const text = toText(value);
					if (text === null) return NOT_TEXT;
					return cache.lowered(slot, text).trim() === wanted ? YES : NO;
				};
			} else {
				const wanted = textTarget('value');
				test = (value, cache, slot) => {
					if (isMissing(value)) return MISSING;
					const text = compareText(value, cache, slot);
					if (text === null) return NOT_TEXT;
					return text === wanted ? YES : NO;
				};
			}
			if (!negate) return test;
			return (value, cache, slot) => {
				const outcome = test(value, cache, slot);
				return outcome === YES ? NO : outcome === NO ? YES : outcome;
			};
		}
		case 'contains': {
			const wanted = textTarget('value');
			return (value, cache, slot) => {
				if (isMissing(value)) return MISSING;
				// On a list, contains means one of its items equals the value (tags contains "vip").
				if (Array.isArray(value)) {
					for (let i = 0; i < value.length; i++) {
						const item = toText(value[i]);
						if (item !== null && (caseSensitive ? item : item.toLowerCase()) === wanted) return YES;
					}
					return NO;
				}
				const text = compareText(value, cache, slot);
				if (text === null) return NOT_TEXT;
				return text.includes(wanted) ? YES : NO;
			};
		}
		case 'startsWith': {
			const wanted = textTarget('value');
			return (value, cache, slot) => {
				if (isMissing(value)) return MISSING;
				const text = compareText(value, cache, slot);
				if (text === null) return NOT_TEXT;
				return text.startsWith(wanted) ? YES : NO;
			};
		}
		case 'regex': {
			if (typeof rule.pattern !== 'string' || rule.pattern === '') {
				throw new EngineError('invalid_regex', `${where}: operator "regex" needs a "pattern", e.g. "@(gmail|yahoo)\\.com$".`, {
					field: 'pattern',
				});
			}
			const flags = rule.flags ?? '';
			if (typeof flags !== 'string' || /[gy]/.test(flags)) {
				throw new EngineError(
					'invalid_regex',
					`${where}: regex flags may use i, m, s and u; g and y are not allowed because they make each test depend on the previous one.`,
					{ field: 'flags' },
				);
			}
			// RE2 semantics (re2js): matching time grows linearly with the text, whatever the pattern, so a
			// pattern such as ^(a+)+$ cannot stall the node. Backreferences and lookarounds, which need
			// backtracking, are refused with the reason.
			let re: RE2JS;
			try {
				let bits = 0;
				if (!caseSensitive || flags.includes('i')) bits |= RE2JS.CASE_INSENSITIVE;
				if (flags.includes('m')) bits |= RE2JS.MULTILINE;
				if (flags.includes('s')) bits |= RE2JS.DOTALL;
				if (/[^imsu]/.test(flags)) throw new Error(`unknown flag in "${flags}"`);
				re = RE2JS.compile(RE2JS.translateRegExp(rule.pattern), bits);
			} catch (error) {
				const why = (error as Error).message;
				const hint = /\\[1-9]|\(\?<?[=!]/.test(rule.pattern)
					? ' Backreferences and lookarounds are not supported: regex rules run in linear time (RE2 syntax).'
					: '';
				throw new EngineError('invalid_regex', `${where}: the regex pattern /${rule.pattern}/${flags} is not valid: ${why}.${hint}`, {
					field: 'pattern',
					cause: error,
				});
			}
			return (value) => {
				if (isMissing(value)) return MISSING;
				const text = toText(value);
				if (text === null) return NOT_TEXT;
				return re.test(text) ? YES : NO;
			};
		}
		case 'inList': {
			let list: readonly unknown[];
			if (typeof rule.values === 'string') list = rule.values.split(',').map((v) => v.trim()).filter((v) => v !== '');
			else if (Array.isArray(rule.values)) list = rule.values;
			else list = [];
			if (list.length === 0) {
				throw new EngineError('invalid_rule', `${where}: operator "inList" needs "values": a list or comma-separated text of accepted values.`, {
					field: 'values',
				});
			}
			const accepted = new Set<string>();
			for (const item of list) {
				const text = toText(item);
				if (text === null) {
					throw new EngineError('invalid_rule', `${where}: "values" may hold only text, numbers or true/false; got ${JSON.stringify(item)}.`, {
						field: 'values',
					});
				}
				accepted.add(caseSensitive ? text : text.toLowerCase());
			}
			return (value, cache, slot) => {
				if (isMissing(value)) return MISSING;
				// A list value matches when any of its items is accepted.
				if (Array.isArray(value)) {
					for (let i = 0; i < value.length; i++) {
						const item = toText(value[i]);
						if (item !== null && accepted.has(caseSensitive ? item : item.toLowerCase())) return YES;
					}
					return NO;
				}
				const text = compareText(value, cache, slot);
				if (text === null) return NOT_TEXT;
				return accepted.has(text) ? YES : NO;
			};
		}
		case 'greaterThan':
		case 'lessThan': {
			const target = numberParam(rule.value, 'value', where, operator);
			const greater = operator === 'greaterThan';
			return (value) => {
				const n = toNumber(value);
				if (n !== n) return notNumber(value);
				return (greater ? n > target : n < target) ? YES : NO;
			};
		}
		case 'between': {
			const min = numberParam(rule.min, 'min', where, operator);
			const max = numberParam(rule.max, 'max', where, operator);
			if (min > max) {
				throw new EngineError('invalid_rule', `${where}: "between" needs min <= max; got min ${min} and max ${max}.`, {
					field: 'min',
					details: { min, max },
				});
			}
			return (value) => {
				const n = toNumber(value);
				if (n !== n) return notNumber(value);
				return n >= min && n <= max ? YES : NO;
			};
		}
		case 'exists':
			return (value) => (isBlank(value) ? NO : YES);
		case 'isEmpty':
			return (value) => (isBlank(value) ? YES : NO);
		case 'withinLastDays':
			// Dates go through the per-lead date cache in the scorer, never through this matcher.
			return () => NO;
		default:
			throw new EngineError(
				'unknown_operator',
				`${where}: operator ${JSON.stringify(operator)} is not known; use one of ${RULE_OPERATORS.join(', ')}.`,
				{ field: 'operator' },
			);
	}
}

function zeroValueOf(operator: RuleOperator, rule: ScoringRule): unknown {
	switch (operator) {
		case 'greaterThan':
		case 'lessThan':
		case 'between':
			return 0;
		case 'equals':
		case 'notEquals':
			return typeof rule.value === 'number' ? 0 : typeof rule.value === 'boolean' ? false : '';
		default:
			return '';
	}
}

function defaultDimension(name: string): GroupDimension {
	const key = name.toLowerCase();
	if (key === 'fit') return 'fit';
	if (key === 'engagement' || key === 'referral') return 'engagement';
	return 'none';
}

function checkPolicy(value: unknown, where: string): BadInputPolicy {
	if (value === 'skip' || value === 'zero' || value === 'error') return value;
	throw new EngineError(
		'invalid_rule',
		`${where}: "onBadInput" ${JSON.stringify(value)} is not known; use skip, zero or error.`,
		{ field: 'onBadInput' },
	);
}

/** Validates the whole rule set once and returns a scorer; every mistake is an EngineError naming the rule and parameter. */
export function compileRuleSet(config: ScoringConfig): RuleScorer {
	if (config === null || typeof config !== 'object' || !Array.isArray(config.rules)) {
		throw new EngineError('invalid_rule', 'The rule set needs "rules": a list of scoring rules.', { field: 'rules' });
	}
	const defaultPolicy = config.onBadInput === undefined ? 'skip' : checkPolicy(config.onBadInput, 'The rule set');
	const explain = config.explain ?? 'matched';
	if (explain !== 'none' && explain !== 'matched' && explain !== 'all') {
		throw new EngineError('invalid_rule', `"explain" must be none, matched or all; got ${JSON.stringify(explain)}.`, {
			field: 'explain',
		});
	}

	if (config.groups !== undefined && !Array.isArray(config.groups)) {
		throw new EngineError('invalid_limits', '"groups" must be a list of { name, dimension, min, max }.', { field: 'groups' });
	}
	// Groups: declared ones first, with their limits; names match case-insensitively.
	const groups: CompiledGroup[] = [];
	const groupByKey = new Map<string, number>();
	for (const [i, g] of (config.groups ?? []).entries()) {
		const name = typeof g?.name === 'string' ? g.name.trim() : '';
		const where = name === '' ? `Group ${i + 1}` : `Group "${name}"`;
		if (name === '') throw new EngineError('invalid_limits', `${where} needs a name, e.g. "fit".`, { field: 'groups' });
		if (groupByKey.has(name.toLowerCase())) {
			throw new EngineError('invalid_limits', `${where} is listed twice; list each group once.`, { field: 'groups' });
		}
		const dimension = g.dimension ?? defaultDimension(name);
		if (dimension !== 'fit' && dimension !== 'engagement' && dimension !== 'none') {
			throw new EngineError('invalid_limits', `${where}: "dimension" must be fit, engagement or none; got ${JSON.stringify(dimension)}.`, {
				field: 'dimension',
			});
		}
		const min = optionalLimit(g.min, 'min', where) ?? -Infinity;
		const max = optionalLimit(g.max, 'max', where) ?? Infinity;
		if (min > max) {
			throw new EngineError('invalid_limits', `${where}: the minimum (${min}) is above the maximum (${max}).`, {
				field: 'min',
				details: { min, max },
			});
		}
		groupByKey.set(name.toLowerCase(), groups.length);
		groups.push({ name, dimension, min, max });
	}

	// Field slots: each distinct path is read once per lead, whichever rules use it.
	const slotByPath = new Map<string, number>();
	const slotSegments: PathSegment[][] = [];
	const slotFor = (path: string, param: string, where: string): number => {
		// Parsed first: a path that is not text (an expression returning a number) gets the clear error.
		const segments = parseFieldPath(path, param, where);
		const key = path.trim();
		let slot = slotByPath.get(key);
		if (slot === undefined) {
			slotSegments.push(segments);
			slot = slotSegments.length - 1;
			slotByPath.set(key, slot);
		}
		return slot;
	};

	const rules: CompiledRule[] = config.rules.map((rule, index): CompiledRule => {
		if (rule === null || typeof rule !== 'object') {
			throw new EngineError('invalid_rule', `Rule ${index + 1} must be an object with field, operator, points and group.`, {
				field: 'rules',
			});
		}
		const name = typeof rule.name === 'string' && rule.name.trim() !== '' ? rule.name.trim() : undefined;
		const where = ruleWhere(index, name);
		if (!(RULE_OPERATORS as readonly string[]).includes(rule.operator as string)) {
			throw new EngineError(
				'unknown_operator',
				`${where}: operator ${JSON.stringify(rule.operator) ?? '(none)'} is not known; use one of ${RULE_OPERATORS.join(', ')}.`,
				{ field: 'operator', details: { rule: index + 1, ruleName: name } },
			);
		}
		const groupName = typeof rule.group === 'string' ? rule.group.trim() : '';
		if (groupName === '') {
			throw new EngineError('invalid_rule', `${where} needs a "group": fit, engagement, referral or a name of your own.`, {
				field: 'group',
			});
		}
		if (typeof rule.points !== 'number' || !Number.isFinite(rule.points)) {
			throw new EngineError('invalid_rule', `${where}: "points" must be a number (negative to subtract); got ${JSON.stringify(rule.points) ?? 'nothing'}.`, {
				field: 'points',
			});
		}
		const slot = slotFor(rule.field, 'field', where);
		const dateOperator = rule.operator === 'withinLastDays';
		const windowMs = dateOperator ? numberParam(rule.days, 'days', where, rule.operator) * DAY_MS : 0;
		if (windowMs < 0) {
			throw new EngineError('invalid_rule', `${where}: "days" must be 0 or more.`, { field: 'days' });
		}
		const match = buildMatcher(rule, where);
		const decay = compileDecay(rule.decay, where, dateOperator ? rule.field : undefined);
		const decaySlot = decay === undefined ? -1 : slotFor(decay.dateField, 'decay.dateField', where);
		const policy = rule.onBadInput === undefined ? defaultPolicy : checkPolicy(rule.onBadInput, where);

		let groupIndex = groupByKey.get(groupName.toLowerCase());
		if (groupIndex === undefined) {
			groupIndex = groups.length;
			groupByKey.set(groupName.toLowerCase(), groupIndex);
			groups.push({ name: groupName, dimension: defaultDimension(groupName), min: -Infinity, max: Infinity });
		}
		return {
			index,
			label: name ?? `Rule ${index + 1}`,
			where,
			groupIndex,
			groupName: groups[groupIndex].name,
			points: rule.points,
			field: rule.field.trim(),
			slot,
			windowMs,
			dateOperator,
			match,
			zeroOutcome: dateOperator ? NO : match(zeroValueOf(rule.operator, rule), UNCACHED_TEXT, 0),
			decay,
			decaySlot,
			policy,
		};
	});

	const total = config.total ?? {};
	const floor = total.floor === null ? -Infinity : optionalLimit(total.floor, 'floor', 'The total') ?? 0;
	const cap = optionalLimit(total.cap, 'cap', 'The total') ?? Infinity;
	if (floor > cap) {
		throw new EngineError('invalid_limits', `The total floor (${floor}) is above the total cap (${cap}).`, {
			field: 'floor',
			details: { floor, cap },
		});
	}
	const normalize = total.normalize === true;
	if (normalize && !(Number.isFinite(floor) && Number.isFinite(cap) && cap > floor)) {
		throw new EngineError(
			'invalid_limits',
			'Normalising to 0-100 needs a total floor and a total cap, with the cap above the floor.',
			{ field: 'normalize', details: { floor, cap } },
		);
	}

	// The most points each dimension can reach sets the default grade and level thresholds.
	const reach = { fit: 0, engagement: 0, none: 0 };
	groups.forEach((g, gi) => {
		let positive = 0;
		for (const r of rules) if (r.groupIndex === gi && r.points > 0) positive += r.points;
		reach[g.dimension] += Math.max(g.min, Math.min(g.max, positive));
	});
	const fitGrades = compileFitGrades(config.fitGrades, reach.fit);
	const engagementLevels = compileEngagementLevels(config.engagementLevels, reach.engagement);
	const stages = compileStages(config.stages);

	return new CompiledRuleSet(rules, groups, slotSegments, floor, cap, normalize, fitGrades, engagementLevels, stages, explain);
}

class CompiledRuleSet implements RuleScorer, TextCache {
	readonly ruleCount: number;
	readonly groupNames: readonly string[];

	// Per-lead caches, reused across leads; a stamp equal to `generation` means "filled for this lead".
	private generation = 0;
	private lead: unknown = undefined;
	private readonly valueStamps: Uint32Array;
	private readonly values: unknown[];
	private readonly dateStamps: Uint32Array;
	private readonly dates: Float64Array;
	private readonly textStamps: Uint32Array;
	private readonly texts: string[];
	private readonly groupSums: Float64Array;

	constructor(
		private readonly rules: readonly CompiledRule[],
		private readonly groups: readonly CompiledGroup[],
		private readonly slotSegments: readonly PathSegment[][],
		private readonly floor: number,
		private readonly cap: number,
		readonly normalized: boolean,
		readonly fitGrades: FitGradeThresholds,
		readonly engagementLevels: EngagementThresholds,
		private readonly stages: readonly CompiledStage[],
		private readonly explain: ExplainLevel,
	) {
		this.ruleCount = rules.length;
		this.groupNames = groups.map((g) => g.name);
		const slots = slotSegments.length;
		this.valueStamps = new Uint32Array(slots);
		this.values = new Array<unknown>(slots).fill(undefined);
		this.dateStamps = new Uint32Array(slots);
		this.dates = new Float64Array(slots);
		this.textStamps = new Uint32Array(slots);
		this.texts = new Array<string>(slots).fill('');
		this.groupSums = new Float64Array(groups.length);
	}

	private value(slot: number): unknown {
		if (this.valueStamps[slot] !== this.generation) {
			this.values[slot] = readPath(this.lead, this.slotSegments[slot]);
			this.valueStamps[slot] = this.generation;
		}
		return this.values[slot];
	}

	/** Epoch ms of the slot's value, parsed once per lead; NaN when missing or unreadable. */
	private date(slot: number): number {
		if (this.dateStamps[slot] !== this.generation) {
			this.dates[slot] = parseDate(this.value(slot));
			this.dateStamps[slot] = this.generation;
		}
		return this.dates[slot];
	}

	/** Why a date slot gave NaN: missing (absent, null, blank) or unreadable. */
	private dateProblem(slot: number): number {
		const v = this.value(slot);
		return isMissing(v) || (typeof v === 'string' && v.trim() === '') ? MISSING : NOT_DATE;
	}

	lowered(slot: number, text: string): string {
		if (this.textStamps[slot] !== this.generation) {
			this.texts[slot] = text.toLowerCase();
			this.textStamps[slot] = this.generation;
		}
		return this.texts[slot];
	}

	score(lead: unknown, now: number | Date | string, leadLabel?: string | number): LeadScore {
		if (lead === null || typeof lead !== 'object') {
			throw new EngineError('invalid_lead', `${describeLead(leadLabel)}: a lead must be an object of fields; got ${describeValue(lead)}.`, {
				details: { lead: leadLabel },
			});
		}
		const nowMs = parseDate(now);
		if (nowMs !== nowMs) {
			throw new EngineError('invalid_now', `"now" must be a date (epoch ms, Date or ISO 8601 text); got ${describeValue(now)}.`, {
				field: 'now',
			});
		}
		this.lead = lead;
		if (this.generation === 0xffffffff) {
			this.valueStamps.fill(0);
			this.dateStamps.fill(0);
			this.textStamps.fill(0);
			this.generation = 0;
		}
		this.generation++;

		const sums = this.groupSums;
		sums.fill(0);
		const explain = this.explain;
		const explained: RuleExplanation[] = [];
		const rules = this.rules;
		for (let i = 0; i < rules.length; i++) {
			const rule = rules[i];
			let outcome: number;
			if (rule.dateOperator) {
				const at = this.date(rule.slot);
				if (at !== at) outcome = this.dateProblem(rule.slot);
				else {
					const age = nowMs - at;
					outcome = age >= 0 && age <= rule.windowMs ? YES : NO;
				}
			} else {
				outcome = rule.match(this.value(rule.slot), this, rule.slot);
			}

			let badInput: BadInput | undefined;
			if (outcome >= MISSING) {
				if (rule.policy === 'error') this.fail(rule, rule.slot, rule.field, outcome, leadLabel);
				badInput = { field: rule.field, reason: REASONS[outcome], policy: rule.policy as 'skip' | 'zero' };
				if (rule.policy === 'skip') outcome = NO;
				else if (rule.dateOperator) outcome = nowMs >= 0 && nowMs <= rule.windowMs ? YES : NO;
				else outcome = rule.zeroOutcome;
			}

			let factor = 1;
			if (outcome === YES && rule.decay !== undefined) {
				const at = this.date(rule.decaySlot);
				if (at !== at) {
					const problem = this.dateProblem(rule.decaySlot);
					if (rule.policy === 'error') this.fail(rule, rule.decaySlot, rule.decay.dateField, problem, leadLabel);
					badInput = { field: rule.decay.dateField, reason: REASONS[problem], policy: rule.policy as 'skip' | 'zero' };
					// zero: the event counts as infinitely old, so nothing of it survives.
					if (rule.policy === 'skip') outcome = NO;
					else factor = 0;
				} else {
					factor = decayFactor(rule.decay, nowMs - at);
				}
			}

			const matched = outcome === YES;
			const contribution = matched ? rule.points * factor : 0;
			sums[rule.groupIndex] += contribution;
			if (explain === 'all' || (explain === 'matched' && (matched || badInput !== undefined))) {
				const entry: RuleExplanation = {
					index: rule.index,
					rule: rule.label,
					group: rule.groupName,
					matched,
					points: rule.points,
					decayFactor: matched ? factor : 0,
					contribution,
				};
				if (badInput !== undefined) entry.badInput = badInput;
				explained.push(entry);
			}
		}

		const groups = this.groups;
		const groupOut: GroupExplanation[] = new Array(groups.length);
		let points = 0;
		let fit = 0;
		let engagement = 0;
		for (let g = 0; g < groups.length; g++) {
			const group = groups[g];
			const sum = sums[g];
			const value = sum < group.min ? group.min : sum > group.max ? group.max : sum;
			points += value;
			if (group.dimension === 'fit') fit += value;
			else if (group.dimension === 'engagement') engagement += value;
			groupOut[g] = {
				name: group.name,
				dimension: group.dimension,
				points: sum,
				min: group.min === -Infinity ? null : group.min,
				max: group.max === Infinity ? null : group.max,
				value,
				clipped: value - sum,
			};
		}
		const total = points < this.floor ? this.floor : points > this.cap ? this.cap : points;
		let score = total;
		if (this.normalized) {
			// Clamped because rounding can land a total at the cap on 100.00000000000001.
			score = (100 * (total - this.floor)) / (this.cap - this.floor);
			score = score < 0 ? 0 : score > 100 ? 100 : score;
		}
		const grade = fitGrade(this.fitGrades, fit);
		const level = engagementLevel(this.engagementLevels, engagement);
		const stageAt = stageIndex(this.stages, score);
		const next = this.stages[stageAt + 1];
		return {
			score,
			total,
			normalized: this.normalized,
			fit,
			engagement,
			grade,
			engagementLevel: level,
			matrix: matrixCell(grade, level),
			stage: stageAt < 0 ? null : this.stages[stageAt].name,
			nextStage: next === undefined ? null : next.name,
			pointsToNextStage: next === undefined ? null : next.minScore - score,
			explanation: {
				rules: explained,
				groups: groupOut,
				points,
				floor: this.floor === -Infinity ? null : this.floor,
				cap: this.cap === Infinity ? null : this.cap,
				clipped: total - points,
			},
		};
	}

	private fail(rule: CompiledRule, slot: number, field: string, outcome: number, leadLabel: string | number | undefined): never {
		const value = this.value(slot);
		const reason = REASONS[outcome];
		const needs =
			reason === 'notNumber'
				? 'a number'
				: reason === 'notDate'
					? 'a date (ISO 8601 such as 2024-05-01 or 2024-05-01T10:00:00Z, epoch milliseconds, or a Date)'
					: reason === 'notText'
						? 'text, a number or true/false'
						: 'a value';
		const got = reason === 'missing' ? 'it is missing' : `it holds ${describeValue(value)}`;
		const code = reason === 'missing' ? 'missing_field' : reason === 'notNumber' ? 'not_a_number' : reason === 'notDate' ? 'not_a_date' : 'not_text';
		throw new EngineError(code, `${describeLead(leadLabel)}: ${rule.where} needs ${needs} in field "${field}", but ${got}.`, {
			field,
			details: { lead: leadLabel, rule: rule.index + 1, ruleName: rule.label, reason },
		});
	}
}
