import { describe, expect, it } from 'vitest';
import { compileRuleSet, type ScoringRule } from '../../../engine/scoring';
import { NOW } from './helpers';

/** Rules that fire when the lead has the flag of the same name. */
function flagRule(flag: string, group: string, points: number): ScoringRule {
	return { name: flag, group, field: flag, operator: 'equals', value: true, points };
}

describe('group limits', () => {
	const scorer = compileRuleSet({
		rules: [
			flagRule('bigCompany', 'fit', 30),
			flagRule('rightIndustry', 'fit', 30),
			flagRule('competitor', 'fit', -50),
			flagRule('webinar', 'engagement', 25),
			flagRule('demo', 'engagement', 25),
		],
		groups: [
			{ name: 'fit', min: -20, max: 40 },
			{ name: 'engagement', max: 30 },
		],
		total: { floor: null },
	});

	it('clip a group at its maximum and report what was cut', () => {
		const r = scorer.score(
			{ bigCompany: true, rightIndustry: true, webinar: true, demo: true },
			NOW,
		);
		expect(r.explanation.groups).toEqual([
			{ name: 'fit', dimension: 'fit', points: 60, min: -20, max: 40, value: 40, clipped: -20 },
			{
				name: 'engagement',
				dimension: 'engagement',
				points: 50,
				min: null,
				max: 30,
				value: 30,
				clipped: -20,
			},
		]);
		expect(r.total).toBe(70);
	});

	it('lift a group to its minimum', () => {
		const r = scorer.score({ competitor: true }, NOW);
		expect(r.explanation.groups[0]).toMatchObject({ points: -50, value: -20, clipped: 30 });
		expect(r.total).toBe(-20);
		expect(r.fit).toBe(-20);
	});
});

describe('total floor, cap and normalisation', () => {
	const rules = [
		flagRule('a', 'fit', 60),
		flagRule('b', 'engagement', 60),
		flagRule('c', 'engagement', -200),
	];

	it('floors at 0 by default and allows negatives with floor null', () => {
		const byDefault = compileRuleSet({ rules });
		expect(byDefault.score({ c: true }, NOW)).toMatchObject({
			total: 0,
			explanation: { points: -200, floor: 0, clipped: 200 },
		});
		const negative = compileRuleSet({ rules, total: { floor: null } });
		expect(negative.score({ c: true }, NOW).total).toBe(-200);
	});

	it('caps the total and reports the cut', () => {
		const scorer = compileRuleSet({ rules, total: { cap: 100 } });
		expect(scorer.score({ a: true, b: true }, NOW)).toMatchObject({
			total: 100,
			score: 100,
			explanation: { points: 120, cap: 100, clipped: -20 },
		});
		expect(scorer.score({ a: true }, NOW).total).toBe(60);
	});

	it('normalizes to 0-100 between floor and cap', () => {
		const scorer = compileRuleSet({ rules, total: { floor: -50, cap: 150, normalize: true } });
		expect(scorer.score({ a: true }, NOW)).toMatchObject({
			total: 60,
			score: 55,
			normalized: true,
		});
		expect(scorer.score({ c: true }, NOW).score).toBe(0);
		expect(scorer.score({ a: true, b: true, x: 1 }, NOW).score).toBe(85);
		expect(scorer.score({ a: true, b: true }, NOW).score).toBeLessThanOrEqual(100);
	});
});

describe('fit grade, engagement level and matrix', () => {
	const scorer = compileRuleSet({
		rules: [
			flagRule('fit10', 'fit', 10),
			flagRule('fit20', 'fit', 20),
			flagRule('fit40', 'fit', 40),
			flagRule('eng10', 'engagement', 10),
			flagRule('eng25', 'engagement', 25),
			flagRule('ref15', 'referral', 15),
			flagRule('other50', 'partner', 50),
		],
		fitGrades: { A: 60, B: 45, C: 30, D: 15 },
		engagementLevels: { level1: 40, level2: 20 },
	});

	it.each([
		[{}, 'F', 3],
		[{ fit10: true }, 'F', 3],
		[{ fit20: true }, 'D', 3],
		[{ fit10: true, fit20: true }, 'C', 3],
		[{ fit10: true, fit40: true }, 'B', 3],
		[{ fit20: true, fit40: true }, 'A', 3],
		[{ eng25: true }, 'F', 2],
		[{ eng25: true, ref15: true }, 'F', 1],
		[{ fit20: true, fit40: true, eng10: true, eng25: true }, 'A', 2],
	])('lead %j is %s%s', (lead, grade, level) => {
		const r = scorer.score(lead, NOW);
		expect(r.grade).toBe(grade);
		expect(r.engagementLevel).toBe(level);
		expect(r.matrix).toBe(`${grade}${level}`);
	});

	it('counts referral groups as engagement and other named groups in the total only', () => {
		const r = scorer.score({ ref15: true, other50: true }, NOW);
		expect(r.engagement).toBe(15);
		expect(r.fit).toBe(0);
		expect(r.total).toBe(65);
	});

	it('defaults thresholds to shares of the most points a lead can reach', () => {
		const defaults = compileRuleSet({
			rules: [
				flagRule('f', 'fit', 300),
				flagRule('g', 'fit', 300),
				flagRule('e', 'engagement', 50),
			],
			groups: [{ name: 'fit', max: 500 }],
		});
		expect(defaults.fitGrades).toEqual({ A: 400, B: 300, C: 200, D: 100 });
		expect(defaults.engagementLevels).toEqual({ level1: 30, level2: 15 });
		expect(defaults.score({ f: true, g: true, e: true }, NOW).matrix).toBe('A1');
		expect(defaults.score({ f: true }, NOW).matrix).toBe('B3');
	});
});

describe('stages', () => {
	const scorer = compileRuleSet({
		rules: [
			flagRule('a', 'fit', 30),
			flagRule('b', 'engagement', 30),
			flagRule('c', 'engagement', 30),
		],
		stages: [
			{ name: 'cold' },
			{ name: 'warm', minScore: 25 },
			{ name: 'MQL', minScore: 60 },
			{ name: 'SQL', minScore: 90 },
		],
	});

	it.each([
		[{}, 'cold', 'warm', 25],
		[{ a: true }, 'warm', 'MQL', 30],
		[{ a: true, b: true }, 'MQL', 'SQL', 30],
		[{ a: true, b: true, c: true }, 'SQL', null, null],
	])('lead %j is %s', (lead, stage, next, toNext) => {
		const r = scorer.score(lead, NOW);
		expect(r.stage).toBe(stage);
		expect(r.nextStage).toBe(next);
		expect(r.pointsToNextStage).toBe(toNext);
	});

	it('gives no stage below a first stage that sets a minimum', () => {
		const strict = compileRuleSet({
			rules: [flagRule('a', 'fit', 30)],
			stages: [{ name: 'warm', minScore: 20 }],
		});
		expect(strict.score({}, NOW)).toMatchObject({
			stage: null,
			nextStage: 'warm',
			pointsToNextStage: 20,
		});
		expect(strict.score({ a: true }, NOW).stage).toBe('warm');
	});

	it('compares stages with the normalized score when normalizing', () => {
		const normalized = compileRuleSet({
			rules: [flagRule('a', 'fit', 30)],
			total: { cap: 40, normalize: true },
			stages: [{ name: 'cold' }, { name: 'MQL', minScore: 70 }],
		});
		expect(normalized.score({ a: true }, NOW)).toMatchObject({
			total: 30,
			score: 75,
			stage: 'MQL',
		});
	});
});
