import { describe, expect, it } from 'vitest';
import {
	auc,
	backtest,
	brierScore,
	compileRuleSet,
	type FeatureSpec,
	type ScoringConfig,
} from '../../../engine/scoring';
import { engineError } from './helpers';
import { generateLeads } from './synthetic';

const leads = generateLeads(6_000, 21);

/** A marketer's hand-tuned points for the same signals the true model uses. */
const rules: ScoringConfig = {
	rules: [
		{ group: 'fit', field: 'seniority', operator: 'greaterThan', value: 3, points: 30 },
		{ group: 'fit', field: 'industry', operator: 'equals', value: 'saas', points: 15 },
		{ group: 'fit', field: 'industry', operator: 'equals', value: 'retail', points: -10 },
		{ group: 'engagement', field: 'pricingViews', operator: 'greaterThan', value: 2, points: 25 },
		{
			group: 'engagement',
			field: 'daysSinceLastVisit',
			operator: 'lessThan',
			value: 14,
			points: 20,
		},
		{ group: 'referral', field: 'referred', operator: 'equals', value: true, points: 15 },
	],
	total: { floor: 0, cap: 100, normalize: true },
};

const features: FeatureSpec[] = [
	{ field: 'seniority', type: 'numeric' },
	{ field: 'pricingViews', type: 'numeric' },
	{ field: 'daysSinceLastVisit', type: 'numeric' },
	{ field: 'companySizeLog10', type: 'numeric' },
	{ field: 'referred', type: 'boolean' },
	{ field: 'industry', type: 'categorical' },
];

describe('backtest on synthetic leads', () => {
	const report = backtest(leads, {
		label: 'converted',
		dateField: 'createdAt',
		trainFraction: 0.7,
		rules,
		model: { features },
		bootstrap: { samples: 200, seed: 9 },
	});
	const test = leads.filter((l) => Date.parse(l.createdAt) >= Date.parse(report.split.cutoff));
	const testLabels: number[] = test.map((l) => (l.converted ? 1 : 0));

	it('splits by time: every training lead is older than every test lead', () => {
		expect(report.split.trainLeads).toBe(4_200);
		expect(report.split.testLeads).toBe(1_800);
		expect(report.split.cutoff).toBe(leads[4_200].createdAt);
		expect(report.split.testConverters).toBe(testLabels.reduce((a, b) => a + b, 0));
		expect(report.split.trainConverters + report.split.testConverters).toBe(
			leads.filter((l) => l.converted).length,
		);
	});

	it('reports the rule score on the test leads, as the scorer would score them', () => {
		const scorer = compileRuleSet(rules);
		const scores = test.map((l) => scorer.score(l, l.createdAt).score);
		const r = report.rules;
		expect(r).toBeDefined();
		expect(r?.auc).toBe(auc(scores, testLabels));
		expect(r?.leads).toBe(1_800);
		expect(r?.probability).toBe('platt');
		expect(r?.aucInterval.lower).toBeLessThan(r?.auc as number);
		expect(r?.aucInterval.upper).toBeGreaterThan(r?.auc as number);
		expect(r?.calibration).toHaveLength(10);
	});

	it('puts the trained model beside the rules; it ranks better and lands near the oracle', () => {
		const m = report.model;
		expect(m).toBeDefined();
		const oracle = auc(
			test.map((l) => l.trueProbability),
			testLabels,
		);
		expect(m?.auc).toBeGreaterThan(report.rules?.auc as number);
		expect(Math.abs((m?.auc as number) - oracle)).toBeLessThan(0.02);
		expect(m?.brier).toBeLessThan(report.rules?.brier as number);
		expect(m?.ece).toBeLessThan(0.05);
		expect(m?.topDecileLift).toBeGreaterThan(2);
		expect(m?.model.training.rows).toBe(4_200);
	});

	it('Platt-calibrates the rule score better than reading it as score/100', () => {
		const scaled = backtest(leads, {
			label: 'converted',
			dateField: 'createdAt',
			trainFraction: 0.7,
			rules,
			ruleProbability: 'scaled',
			bootstrap: { samples: 10 },
		});
		const scorer = compileRuleSet(rules);
		const probabilities = test.map((l) => scorer.score(l, l.createdAt).score / 100);
		expect(scaled.rules?.brier).toBeCloseTo(brierScore(probabilities, testLabels), 12);
		expect(scaled.rules?.auc).toBe(report.rules?.auc);
		expect(report.rules?.ece).toBeLessThan(scaled.rules?.ece as number);
	});

	it('splits at a cutoff date', () => {
		const r = backtest(leads, {
			label: 'converted',
			dateField: 'createdAt',
			cutoff: '2023-07-01',
			rules,
			bootstrap: { samples: 10 },
		});
		const before = leads.filter((l) => l.createdAt < '2023-07-01').length;
		expect(r.split).toMatchObject({
			cutoff: '2023-07-01T00:00:00.000Z',
			trainLeads: before,
			testLeads: leads.length - before,
		});
		expect(r.model).toBeUndefined();
	});
});

describe('backtest scoring time', () => {
	it('scores each lead as of its own date unless told otherwise', () => {
		const items = Array.from({ length: 200 }, (_, i) => ({
			createdAt: new Date(Date.UTC(2024, 0, 1) + i * 86_400_000).toISOString(),
			lastVisitAt: new Date(
				Date.UTC(2024, 0, 1) + i * 86_400_000 - (i % 2) * 20 * 86_400_000,
			).toISOString(),
			won: i % 2 === 0,
		}));
		const recent: ScoringConfig = {
			rules: [
				{
					group: 'engagement',
					field: 'lastVisitAt',
					operator: 'withinLastDays',
					days: 7,
					points: 10,
				},
			],
		};
		const atLeadDate = backtest(items, {
			label: 'won',
			dateField: 'createdAt',
			rules: recent,
			bootstrap: { samples: 10 },
		});
		expect(atLeadDate.rules?.auc).toBe(1);
		const muchLater = backtest(items, {
			label: 'won',
			dateField: 'createdAt',
			rules: recent,
			scoreAt: '2030-01-01',
			bootstrap: { samples: 10 },
		});
		expect(muchLater.rules?.auc).toBe(0.5);
	});
});

describe('backtest input errors', () => {
	const small = leads.slice(0, 300);
	it.each<[string, unknown[], Record<string, unknown>, string, string]>([
		['a missing date', [...small, { converted: true }], {}, 'createdAt', 'Item 300'],
		[
			'an unreadable label',
			[...small, { createdAt: '2024-01-01', converted: 'maybe' }],
			{},
			'converted',
			'Item 300',
		],
		[
			'both cutoff and fraction',
			small,
			{ cutoff: '2023-01-02', trainFraction: 0.5 },
			'cutoff',
			'not both',
		],
		[
			'a test period with one class',
			small,
			{ cutoff: '2030-01-01' },
			'cutoff',
			'both converted and not converted',
		],
		['nothing to evaluate', small, { rules: undefined }, 'rules', '"rules", "model" or both'],
		[
			'scaled without normalizing',
			small,
			{ rules: { rules: rules.rules }, ruleProbability: 'scaled' },
			'ruleProbability',
			'normalized',
		],
	])('refuses %s', (_, items, extra, field, hint) => {
		const error = engineError(() =>
			backtest(items, {
				label: 'converted',
				dateField: 'createdAt',
				rules,
				bootstrap: { samples: 5 },
				...extra,
			}),
		);
		expect(error.field).toBe(field);
		expect(error.message).toContain(hint);
	});
});
