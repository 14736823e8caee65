/*
 * Rule scoring: a rule set is validated and compiled once (`compileRuleSet`), then scores each lead
 * with `scorer.score(lead, now)`. Points flow rule -> decay -> group limits -> total floor/cap ->
 * optional 0-100 normalisation, and every lead carries the explanation of how it got there.
 */
import { EngineError } from '../shared/errors';
import { compileDecay } from './decay';
import { DAY_MS, parseFieldPath, type PathSegment } from './fields';
import { compileEngagementLevels, compileFitGrades, compileStages } from './grades';
import { buildMatcher, numberParam, UNCACHED_TEXT } from './operators';
import {
	NO,
	RULE_OPERATORS,
	type BadInputPolicy,
	type CompiledGroup,
	type CompiledRule,
	type GroupDimension,
	type RuleOperator,
	type RuleScorer,
	type ScoringConfig,
	type ScoringRule,
} from './ruleTypes';
import { CompiledRuleSet } from './scorer';

function ruleWhere(index: number, name: string | undefined): string {
	return name === undefined ? `Rule ${index + 1}` : `Rule ${index + 1} "${name}"`;
}

function optionalLimit(value: unknown, param: string, where: string): number | undefined {
	if (value === undefined || value === null || value === '') return undefined;
	const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : NaN;
	if (!Number.isFinite(n)) {
		throw new EngineError(
			'invalid_limits',
			`${where}: "${param}" must be a number or left empty; got ${JSON.stringify(value)}.`,
			{
				field: param,
			},
		);
	}
	return n;
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
		throw new EngineError('invalid_rule', 'The rule set needs "rules": a list of scoring rules.', {
			field: 'rules',
		});
	}
	const defaultPolicy =
		config.onBadInput === undefined ? 'skip' : checkPolicy(config.onBadInput, 'The rule set');
	const explain = config.explain ?? 'matched';
	if (explain !== 'none' && explain !== 'matched' && explain !== 'all') {
		throw new EngineError(
			'invalid_rule',
			`"explain" must be none, matched or all; got ${JSON.stringify(explain)}.`,
			{
				field: 'explain',
			},
		);
	}

	if (config.groups !== undefined && !Array.isArray(config.groups)) {
		throw new EngineError(
			'invalid_limits',
			'"groups" must be a list of { name, dimension, min, max }.',
			{ field: 'groups' },
		);
	}
	// Groups: declared ones first, with their limits; names match case-insensitively.
	const groups: CompiledGroup[] = [];
	const groupByKey = new Map<string, number>();
	for (const [i, g] of (config.groups ?? []).entries()) {
		const name = typeof g?.name === 'string' ? g.name.trim() : '';
		const where = name === '' ? `Group ${i + 1}` : `Group "${name}"`;
		if (name === '')
			throw new EngineError('invalid_limits', `${where} needs a name, e.g. "fit".`, {
				field: 'groups',
			});
		if (groupByKey.has(name.toLowerCase())) {
			throw new EngineError('invalid_limits', `${where} is listed twice; list each group once.`, {
				field: 'groups',
			});
		}
		const dimension = g.dimension ?? defaultDimension(name);
		if (dimension !== 'fit' && dimension !== 'engagement' && dimension !== 'none') {
			throw new EngineError(
				'invalid_limits',
				`${where}: "dimension" must be fit, engagement or none; got ${JSON.stringify(dimension)}.`,
				{
					field: 'dimension',
				},
			);
		}
		const min = optionalLimit(g.min, 'min', where) ?? -Infinity;
		const max = optionalLimit(g.max, 'max', where) ?? Infinity;
		if (min > max) {
			throw new EngineError(
				'invalid_limits',
				`${where}: the minimum (${min}) is above the maximum (${max}).`,
				{
					field: 'min',
					details: { min, max },
				},
			);
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
			throw new EngineError(
				'invalid_rule',
				`Rule ${index + 1} must be an object with field, operator, points and group.`,
				{
					field: 'rules',
				},
			);
		}
		const name =
			typeof rule.name === 'string' && rule.name.trim() !== '' ? rule.name.trim() : undefined;
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
			throw new EngineError(
				'invalid_rule',
				`${where} needs a "group": fit, engagement, referral or a name of your own.`,
				{
					field: 'group',
				},
			);
		}
		if (typeof rule.points !== 'number' || !Number.isFinite(rule.points)) {
			throw new EngineError(
				'invalid_rule',
				`${where}: "points" must be a number (negative to subtract); got ${JSON.stringify(rule.points) ?? 'nothing'}.`,
				{
					field: 'points',
				},
			);
		}
		const slot = slotFor(rule.field, 'field', where);
		const dateOperator = rule.operator === 'withinLastDays';
		const windowMs = dateOperator
			? numberParam(rule.days, 'days', where, rule.operator) * DAY_MS
			: 0;
		if (windowMs < 0) {
			throw new EngineError('invalid_rule', `${where}: "days" must be 0 or more.`, {
				field: 'days',
			});
		}
		const match = buildMatcher(rule, where);
		const decay = compileDecay(rule.decay, where, dateOperator ? rule.field : undefined);
		const decaySlot = decay === undefined ? -1 : slotFor(decay.dateField, 'decay.dateField', where);
		const policy =
			rule.onBadInput === undefined ? defaultPolicy : checkPolicy(rule.onBadInput, where);

		let groupIndex = groupByKey.get(groupName.toLowerCase());
		if (groupIndex === undefined) {
			groupIndex = groups.length;
			groupByKey.set(groupName.toLowerCase(), groupIndex);
			groups.push({
				name: groupName,
				dimension: defaultDimension(groupName),
				min: -Infinity,
				max: Infinity,
			});
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
	const floor =
		total.floor === null ? -Infinity : (optionalLimit(total.floor, 'floor', 'The total') ?? 0);
	const cap = optionalLimit(total.cap, 'cap', 'The total') ?? Infinity;
	if (floor > cap) {
		throw new EngineError(
			'invalid_limits',
			`The total floor (${floor}) is above the total cap (${cap}).`,
			{
				field: 'floor',
				details: { floor, cap },
			},
		);
	}
	const normalize = total.normalize === true;
	if (normalize && !(Number.isFinite(floor) && Number.isFinite(cap) && cap > floor)) {
		throw new EngineError(
			'invalid_limits',
			'Normalizing to 0-100 needs a total floor and a total cap, with the cap above the floor.',
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

	return new CompiledRuleSet(
		rules,
		groups,
		slotSegments,
		floor,
		cap,
		normalize,
		fitGrades,
		engagementLevels,
		stages,
		explain,
	);
}
