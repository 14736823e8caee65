import { describe, expect, it } from 'vitest';
import { compileRuleSet, type ScoringConfig, type ScoringRule } from '../../../engine/scoring';
import { engineError, NOW } from './helpers';

const good: ScoringRule = {
	name: 'Big company',
	group: 'fit',
	field: 'company.size',
	operator: 'greaterThan',
	value: 100,
	points: 10,
};

/** Compiles a rule set whose second rule is `rule`, returning the error. */
function ruleError(rule: Record<string, unknown>) {
	return engineError(() =>
		compileRuleSet({
			rules: [good, { ...good, name: 'Broken', ...rule } as unknown as ScoringRule],
		}),
	);
}

describe('compile-time validation names the rule and the parameter', () => {
	it.each<[Record<string, unknown>, string, string, string]>([
		[{ operator: 'biggerThan' }, 'unknown_operator', 'operator', 'greaterThan'],
		[{ operator: 'regex', pattern: '([a-z' }, 'invalid_regex', 'pattern', '/([a-z/'],
		[{ operator: 'regex', pattern: 'a', flags: 'g' }, 'invalid_regex', 'flags', 'g and y'],
		[{ operator: 'regex', pattern: undefined }, 'invalid_regex', 'pattern', 'needs a "pattern"'],
		[{ operator: 'between', min: 10, max: 5 }, 'invalid_rule', 'min', 'min <= max'],
		[{ operator: 'between', min: 'ten', max: 5 }, 'invalid_rule', 'min', 'needs a number'],
		[{ operator: 'greaterThan', value: 'lots' }, 'invalid_rule', 'value', 'needs a number'],
		[{ operator: 'inList', values: [] }, 'invalid_rule', 'values', 'accepted values'],
		[{ operator: 'equals', value: undefined }, 'invalid_rule', 'value', 'needs a text'],
		[{ operator: 'withinLastDays', days: -1 }, 'invalid_rule', 'days', '0 or more'],
		[{ points: Number.NaN }, 'invalid_rule', 'points', 'must be a number'],
		[{ group: ' ' }, 'invalid_rule', 'group', 'fit, engagement, referral'],
		[{ field: 'company..size' }, 'invalid_field_path', 'field', 'empty name'],
		[{ field: 'tags[x]' }, 'invalid_field_path', 'field', 'list position'],
		[{ field: '__proto__.polluted' }, 'invalid_field_path', 'field', 'cannot be read'],
		// A Field parameter filled by an expression that returns a number (it crashed with path.trim is not a function).
		[{ field: 42 }, 'invalid_field_path', 'field', 'needs a field path'],
		[{ onBadInput: 'ignore' }, 'invalid_rule', 'onBadInput', 'skip, zero or error'],
		[
			{ decay: { kind: 'exponential', dateField: 'at', halfLifeDays: -3 } },
			'invalid_decay',
			'halfLifeDays',
			'greater than 0',
		],
		[
			{ decay: { kind: 'exponential', dateField: 'at', halfLifeDays: 0 } },
			'invalid_decay',
			'halfLifeDays',
			'greater than 0',
		],
		[
			{ decay: { kind: 'linear', dateField: 'at', percentPerPeriod: 150, periodDays: 30 } },
			'invalid_decay',
			'percentPerPeriod',
			'between 0 and 100',
		],
		[
			{ decay: { kind: 'linear', dateField: 'at', percentPerPeriod: 50, periodDays: 0 } },
			'invalid_decay',
			'periodDays',
			'greater than 0',
		],
		[{ decay: { kind: 'window', days: 7 } }, 'invalid_decay', 'decay.dateField', 'dateField'],
		[
			{ decay: { kind: 'sigmoid', dateField: 'at' } },
			'invalid_decay',
			'decay.kind',
			'window, linear',
		],
	])('%j -> %s on %s', (rule, code, field, hint) => {
		const error = ruleError(rule);
		expect(error.code).toBe(code);
		expect(error.field).toBe(field);
		expect(error.message).toContain('Rule 2 "Broken"');
		expect(error.message).toContain(hint);
	});

	it.each<[Partial<ScoringConfig>, string, string]>([
		[{ total: { floor: 50, cap: 10 } }, 'floor', 'above the total cap'],
		[{ total: { cap: 100, floor: null, normalize: true } }, 'normalize', 'floor and a total cap'],
		[{ groups: [{ name: 'fit', min: 10, max: 5 }] }, 'min', 'above the maximum'],
		[{ groups: [{ name: 'fit' }, { name: 'Fit' }] }, 'groups', 'listed twice'],
		[
			{ groups: { fit: { max: 10 } } as unknown as ScoringConfig['groups'] },
			'groups',
			'must be a list',
		],
		[
			{ groups: [{ name: 'fit', dimension: 'fitness' as 'fit' }] },
			'dimension',
			'fit, engagement or none',
		],
		[{ explain: 'verbose' as 'all' }, 'explain', 'none, matched or all'],
		[{ onBadInput: 'ignore' as 'skip' }, 'onBadInput', 'skip, zero or error'],
		[{ fitGrades: { A: 50, B: 60 } }, 'fitGrades', 'A > B > C > D'],
		[{ engagementLevels: { level1: 10, level2: 10 } }, 'engagementLevels', 'above level 2'],
		[
			{ stages: [{ name: 'cold' }, { name: 'warm', minScore: 50 }, { name: 'MQL', minScore: 40 }] },
			'minScore',
			'lowest to highest',
		],
		[{ stages: [{ name: 'cold' }, { name: 'cold', minScore: 50 }] }, 'stages', 'listed twice'],
		[{ stages: [{ name: 'cold' }, { name: 'warm' }] }, 'minScore', 'only the first stage'],
	])('%j is refused on %s', (extra, field, hint) => {
		const error = engineError(() => compileRuleSet({ rules: [good], ...extra }));
		expect(error.field).toBe(field);
		expect(error.message).toContain(hint);
	});

	it('accepts a valid rule set using every operator', () => {
		const scorer = compileRuleSet({
			rules: [
				{ group: 'fit', field: 'a', operator: 'equals', value: 'x', points: 1 },
				{ group: 'fit', field: 'a', operator: 'notEquals', value: 2, points: 1 },
				{ group: 'fit', field: 'a', operator: 'contains', value: 'x', points: 1 },
				{ group: 'fit', field: 'a', operator: 'startsWith', value: 'x', points: 1 },
				{ group: 'fit', field: 'a', operator: 'regex', pattern: '^x', flags: 'mu', points: 1 },
				{ group: 'fit', field: 'a', operator: 'inList', values: 'x,y', points: 1 },
				{ group: 'fit', field: 'a', operator: 'greaterThan', value: '3', points: 1 },
				{ group: 'fit', field: 'a', operator: 'lessThan', value: 3, points: 1 },
				{ group: 'fit', field: 'a', operator: 'between', min: 3, max: 3, points: 1 },
				{ group: 'fit', field: 'a', operator: 'exists', points: 1 },
				{ group: 'fit', field: 'a', operator: 'isEmpty', points: 1 },
				{ group: 'fit', field: 'a', operator: 'withinLastDays', days: 0, points: 1 },
			],
		});
		expect(scorer.ruleCount).toBe(12);
		expect(scorer.groupNames).toEqual(['fit']);
	});
});

describe('bad input policies', () => {
	const rule: ScoringRule = {
		name: 'Many visits',
		group: 'engagement',
		field: 'stats.visits',
		operator: 'lessThan',
		value: 3,
		points: -5,
	};

	it('skip: the rule does not apply and the explanation says why', () => {
		const scorer = compileRuleSet({ rules: [rule], total: { floor: null } });
		const r = scorer.score({ stats: { visits: 'several' } }, NOW);
		expect(r.total).toBe(0);
		expect(r.explanation.rules).toEqual([
			{
				index: 0,
				rule: 'Many visits',
				group: 'engagement',
				matched: false,
				points: -5,
				decayFactor: 0,
				contribution: 0,
				badInput: { field: 'stats.visits', reason: 'notNumber', policy: 'skip' },
			},
		]);
	});

	it('zero: the missing or unreadable value counts as 0 (or empty text)', () => {
		const scorer = compileRuleSet({ rules: [rule], total: { floor: null }, onBadInput: 'zero' });
		const r = scorer.score({}, NOW);
		expect(r.total).toBe(-5);
		expect(r.explanation.rules[0]).toMatchObject({
			matched: true,
			contribution: -5,
			badInput: { reason: 'missing', policy: 'zero' },
		});
		const text = compileRuleSet({
			rules: [
				{
					group: 'fit',
					field: 'title',
					operator: 'notEquals',
					value: 'CEO',
					points: 7,
					onBadInput: 'zero',
				},
			],
		});
		expect(text.score({}, NOW).total).toBe(7);
	});

	it('error: names the lead, the rule and the field, and says what would be valid', () => {
		const scorer = compileRuleSet({ rules: [{ ...rule, onBadInput: 'error' }] });
		const notNumber = engineError(() => scorer.score({ stats: { visits: 'several' } }, NOW, 4));
		expect(notNumber.code).toBe('not_a_number');
		expect(notNumber.field).toBe('stats.visits');
		expect(notNumber.message).toBe(
			'Item 4: Rule 1 "Many visits" needs a number in field "stats.visits", but it holds text "several".',
		);
		expect(notNumber.details).toMatchObject({ lead: 4, rule: 1, reason: 'notNumber' });

		const missing = engineError(() => scorer.score({}, NOW, 'lead ana@example.com'));
		expect(missing.code).toBe('missing_field');
		expect(missing.message).toBe(
			'lead ana@example.com: Rule 1 "Many visits" needs a value in field "stats.visits", but it is missing.',
		);
	});

	it('a rule policy overrides the rule set default', () => {
		const scorer = compileRuleSet({
			rules: [{ ...rule, onBadInput: 'skip' }],
			onBadInput: 'error',
		});
		expect(scorer.score({}, NOW).total).toBe(0);
	});

	it('refuses leads that are not objects and a bad "now"', () => {
		const scorer = compileRuleSet({ rules: [rule] });
		expect(engineError(() => scorer.score('ana', NOW, 2)).code).toBe('invalid_lead');
		expect(engineError(() => scorer.score({}, 'next tuesday')).field).toBe('now');
	});
});
