import { describe, expect, it } from 'vitest';
import {
	backtest,
	compileModel,
	compileRuleSet,
	rawCoefficients,
	trainLogistic,
	type FeatureSpec,
	type LogisticModel,
	type ScoringConfig,
} from '../../engine/scoring';
import { loadPackage, runWorkflow, singleNodeWorkflow } from '../harness';
import { generateLeads } from '../unit/scoring/synthetic';
import { SUMMARY_PAIRING_LIMIT } from '../../nodes/shared/aggregate';

const rawCoefficientsOf = (model: LogisticModel): Record<string, number> =>
	rawCoefficients(model).coefficients;
const node = (parameters: Record<string, unknown>, continueOnFail = false) =>
	({ type: 'leadScore', parameters, continueOnFail }) as never;

const NOW = '2024-06-01T00:00:00Z';
const DAY = 86_400_000;
const daysAgo = (days: number): string => new Date(Date.parse(NOW) - days * DAY).toISOString();

/** A rule set as the form stores it ... */
const formRules = {
	rule: [
		{
			name: 'Company size',
			group: 'fit',
			field: 'company.employees',
			operator: 'between',
			min: 50,
			max: 1000,
			points: 25,
		},
		{
			name: 'Target industry',
			group: 'fit',
			field: 'company.industry',
			operator: 'inList',
			values: 'saas, fintech',
			points: 20,
		},
		{
			name: 'Free mail',
			group: 'fit',
			field: 'email',
			operator: 'regex',
			pattern: '@(gmail|yahoo)\\.',
			points: -15,
		},
		{
			name: 'Pricing views',
			group: 'engagement',
			field: 'pricingViews',
			operator: 'greaterThan',
			number: 2,
			points: 30,
			decay: 'exponential',
			decayDateField: 'lastVisitAt',
			halfLifeDays: 14,
		},
		{
			name: 'Recent visit',
			group: 'engagement',
			field: 'lastVisitAt',
			operator: 'withinLastDays',
			days: 30,
			points: 15,
			decay: 'linear',
			percentPerPeriod: 50,
			periodDays: 10,
		},
		{
			name: 'Webinar',
			group: 'engagement',
			field: 'webinar',
			operator: 'equals',
			value: 'true',
			points: 10,
			decay: 'window',
			decayDateField: 'webinarAt',
			windowDays: 60,
		},
		{ name: 'Referred', group: 'referral', field: 'referredBy', operator: 'exists', points: 20 },
		{
			name: 'Trial tag',
			group: 'custom',
			customGroup: 'intent',
			field: 'tags',
			operator: 'contains',
			value: 'Trial',
			points: 10,
		},
	],
};
const formGroups = { group: [{ name: 'engagement', dimension: 'auto', min: '', max: '40' }] };
const formTotal = { floor: 0, cap: 100, normalize: true };

/** ... and the same rule set written directly for the engine. */
const engineConfig: ScoringConfig = {
	rules: [
		{
			name: 'Company size',
			group: 'fit',
			field: 'company.employees',
			operator: 'between',
			min: 50,
			max: 1000,
			points: 25,
		},
		{
			name: 'Target industry',
			group: 'fit',
			field: 'company.industry',
			operator: 'inList',
			values: ['saas', 'fintech'],
			points: 20,
		},
		{
			name: 'Free mail',
			group: 'fit',
			field: 'email',
			operator: 'regex',
			pattern: '@(gmail|yahoo)\\.',
			points: -15,
		},
		{
			name: 'Pricing views',
			group: 'engagement',
			field: 'pricingViews',
			operator: 'greaterThan',
			value: 2,
			points: 30,
			decay: { kind: 'exponential', dateField: 'lastVisitAt', halfLifeDays: 14 },
		},
		{
			name: 'Recent visit',
			group: 'engagement',
			field: 'lastVisitAt',
			operator: 'withinLastDays',
			days: 30,
			points: 15,
			decay: { kind: 'linear', percentPerPeriod: 50, periodDays: 10 },
		},
		{
			name: 'Webinar',
			group: 'engagement',
			field: 'webinar',
			operator: 'equals',
			value: true,
			points: 10,
			decay: { kind: 'window', dateField: 'webinarAt', days: 60 },
		},
		{ name: 'Referred', group: 'referral', field: 'referredBy', operator: 'exists', points: 20 },
		{
			name: 'Trial tag',
			group: 'intent',
			field: 'tags',
			operator: 'contains',
			value: 'trial',
			points: 10,
		},
	],
	groups: [{ name: 'engagement', max: 40 }],
	total: { floor: 0, cap: 100, normalize: true },
	// The node's default stages.
	stages: [
		{ name: 'cold', minScore: 0 },
		{ name: 'warm', minScore: 25 },
		{ name: 'MQL', minScore: 50 },
		{ name: 'SQL', minScore: 75 },
	],
};

const leads = [
	{
		id: 'L-1',
		email: 'ana@acme.io',
		company: { employees: 120, industry: 'SaaS' },
		pricingViews: 4,
		lastVisitAt: daysAgo(3),
		webinar: true,
		webinarAt: daysAgo(20),
		referredBy: 'P-9',
		tags: ['trial', 'vip'],
	},
	{
		id: 'L-2',
		email: 'bo@gmail.com',
		company: { employees: 8, industry: 'retail' },
		pricingViews: 1,
		lastVisitAt: daysAgo(45),
	},
	{
		id: 'L-3',
		email: 'cy@bank.example',
		company: { employees: 5000, industry: 'fintech' },
		pricingViews: '7',
		lastVisitAt: daysAgo(28),
		webinar: 'TRUE',
		webinarAt: daysAgo(90),
		tags: 'Trial user',
	},
	{
		id: 'L-4',
		email: 'di@yahoo.com',
		company: { industry: 'saas' },
		pricingViews: 'lots',
		lastVisitAt: 'yesterday',
	},
];

const scoreParameters = (extra: Record<string, unknown> = {}) => ({
	operation: 'scoreLeads',
	rules: formRules,
	groups: formGroups,
	total: formTotal,
	options: { scoreAsOf: NOW },
	...extra,
});

describe('Lead Score node in the workflow harness', () => {
	it('is loaded from dist/ under the package type name', async () => {
		const { packageNodeNames } = await loadPackage();
		expect(packageNodeNames).toContain('leadScore');
	});

	describe('Score Leads', () => {
		it('gives each lead exactly what the engine gives for the same rules, keeping its fields and pairing', async () => {
			const result = await runWorkflow(singleNodeWorkflow(node(scoreParameters()), leads));
			const items = result.items('Node');
			const scorer = compileRuleSet(engineConfig);
			expect(items).toHaveLength(leads.length);
			items.forEach((item, i) => {
				expect(item.pairedItem).toEqual({ item: i });
				const { leadScore, ...own } = item.json;
				expect(own).toEqual(leads[i]);
				expect(leadScore).toEqual(scorer.score(leads[i], NOW, i));
			});
			// The numbers themselves, so a shared mistake in form and engine config cannot hide.
			const first = items[0].json.leadScore as {
				score: number;
				grade: string;
				matrix: string;
				stage: string;
				explanation: { groups: Array<{ name: string; clipped: number }> };
			};
			// fit 45; engagement 30*0.5^(3/14) + 15 + 10 = 50.8.. clipped to 40; referral 20; intent 10 => 115 capped at 100.
			expect(first.score).toBe(100);
			expect(first.grade).toBe('A');
			expect(first.matrix).toBe('A1');
			expect(first.stage).toBe('SQL');
			expect(first.explanation.groups.find((g) => g.name === 'engagement')?.clipped).toBeCloseTo(
				40 - (30 * 0.5 ** (3 / 14) + 15 + 10),
				10,
			);
		});

		it('explains each lead: matched rules, bad input skipped, decay factor and contribution', async () => {
			const result = await runWorkflow(singleNodeWorkflow(node(scoreParameters()), leads));
			const fourth = result.json('Node')[3].leadScore as {
				explanation: { rules: Array<Record<string, unknown>> };
			};
			const byRule = Object.fromEntries(fourth.explanation.rules.map((r) => [r.rule, r]));
			expect(byRule['Free mail']).toMatchObject({
				matched: true,
				points: -15,
				contribution: -15,
				decayFactor: 1,
			});
			expect(byRule['Pricing views']).toMatchObject({
				matched: false,
				badInput: { field: 'pricingViews', reason: 'notNumber', policy: 'skip' },
			});
			expect(byRule['Recent visit']).toMatchObject({
				matched: false,
				badInput: { field: 'lastVisitAt', reason: 'notDate', policy: 'skip' },
			});
			expect(byRule['Webinar']).toMatchObject({
				matched: false,
				contribution: 0,
				badInput: { field: 'webinar', reason: 'missing', policy: 'skip' },
			});
			// Non-matching rules without bad input stay out of the default explanation.
			expect(byRule['Referred']).toBeUndefined();
			// Every rule but "Referred" matched or met a missing or unreadable field.
			expect(fourth.explanation.rules.map((r) => r.rule)).toEqual([
				'Company size',
				'Target industry',
				'Free mail',
				'Pricing views',
				'Recent visit',
				'Webinar',
				'Trial tag',
			]);
		});

		it('Score Only leaves the explanation out; Every Rule lists all rules', async () => {
			const only = (
				await runWorkflow(singleNodeWorkflow(node(scoreParameters({ output: 'score' })), leads))
			).json('Node');
			const scorer = compileRuleSet(engineConfig);
			only.forEach((json, i) => {
				const full = scorer.score(leads[i], NOW, i);
				expect(json.leadScore).toEqual({
					score: full.score,
					total: full.total,
					fit: full.fit,
					engagement: full.engagement,
					grade: full.grade,
					engagementLevel: full.engagementLevel,
					matrix: full.matrix,
					stage: full.stage,
					nextStage: full.nextStage,
					pointsToNextStage: full.pointsToNextStage,
				});
			});
			const all = (
				await runWorkflow(singleNodeWorkflow(node(scoreParameters({ output: 'all' })), leads))
			).json('Node');
			expect(
				(all[1].leadScore as { explanation: { rules: unknown[] } }).explanation.rules,
			).toHaveLength(8);
		});

		it('applies grade thresholds, engagement levels and custom stages from the form', async () => {
			const parameters = scoreParameters({
				fitGrades: { A: 40, B: 30, C: 20, D: 5 },
				engagementLevels: { level1: 35, level2: 10 },
				stages: {
					stage: [
						{ name: 'nurture', minScore: 0 },
						{ name: 'sales', minScore: 60 },
					],
				},
				resultField: 'score',
			});
			const json = (await runWorkflow(singleNodeWorkflow(node(parameters), leads))).json('Node');
			const scorer = compileRuleSet({
				...engineConfig,
				fitGrades: { A: 40, B: 30, C: 20, D: 5 },
				engagementLevels: { level1: 35, level2: 10 },
				stages: [
					{ name: 'nurture', minScore: 0 },
					{ name: 'sales', minScore: 60 },
				],
			});
			json.forEach((j, i) => expect(j.score).toEqual(scorer.score(leads[i], NOW, i)));
			expect(json.map((j) => (j.score as { stage: string }).stage)).toEqual(
				leads.map((l, i) => (scorer.score(l, NOW, i).score >= 60 ? 'sales' : 'nurture')),
			);
		});

		it('evaluates expressions per item: points, result field and scoring time', async () => {
			const parameters = {
				operation: 'scoreLeads',
				output: 'score',
				rules: {
					rule: [
						{
							group: 'engagement',
							field: 'seenAt',
							operator: 'withinLastDays',
							days: 10,
							points: '={{ $json.weight }}',
						},
					],
				},
				resultField: '={{ $json.target }}',
				options: { scoreAsOf: '={{ $json.asOf }}' },
			};
			const items = [
				{ weight: 5, target: 'a', seenAt: '2024-05-25T00:00:00Z', asOf: NOW },
				{ weight: 7, target: 'b', seenAt: '2024-05-25T00:00:00Z', asOf: NOW },
				{ weight: 7, target: 'b', seenAt: '2024-05-25T00:00:00Z', asOf: '2024-07-01T00:00:00Z' },
			];
			const json = (await runWorkflow(singleNodeWorkflow(node(parameters), items))).json('Node');
			expect((json[0].a as { score: number }).score).toBe(5);
			expect((json[1].b as { score: number }).score).toBe(7);
			expect((json[2].b as { score: number }).score).toBe(0);
			expect(json[0].b).toBeUndefined();
		});

		it('reads omitted rule inputs from the form defaults (window 30 days, 10 points, skip)', async () => {
			const parameters = {
				operation: 'scoreLeads',
				output: 'score',
				rules: {
					rule: [
						{
							field: 'plan',
							operator: 'equals',
							value: 'pro',
							decay: 'window',
							decayDateField: 'planAt',
						},
					],
				},
				options: { scoreAsOf: NOW },
			};
			const json = (
				await runWorkflow(
					singleNodeWorkflow(node(parameters), [
						{ plan: 'Pro', planAt: daysAgo(29) },
						{ plan: 'pro', planAt: daysAgo(31) },
						{ plan: 'pro' },
					]),
				)
			).json('Node');
			expect(json.map((j) => (j.leadScore as { total: number }).total)).toEqual([10, 0, 0]);
		});
	});

	describe('Score Leads with bad input', () => {
		const rule = (extra: Record<string, unknown>) => ({
			operation: 'scoreLeads',
			rules: {
				rule: [
					{
						name: 'Size',
						field: 'employees',
						operator: 'greaterThan',
						number: 50,
						points: 10,
						...extra,
					},
				],
			},
			options: { scoreAsOf: NOW },
		});

		it('"Treat as Zero" tests the rule against 0 and says so', async () => {
			const parameters = {
				operation: 'scoreLeads',
				rules: {
					rule: [
						{
							name: 'Small',
							field: 'employees',
							operator: 'lessThan',
							number: 10,
							points: 5,
							onBadInput: 'zero',
						},
					],
				},
				options: { scoreAsOf: NOW },
			};
			const [json] = (
				await runWorkflow(singleNodeWorkflow(node(parameters), [{ employees: 'n/a' }]))
			).json('Node');
			const score = json.leadScore as {
				total: number;
				explanation: { rules: Array<{ matched: boolean; badInput: unknown }> };
			};
			expect(score.total).toBe(5);
			expect(score.explanation.rules[0]).toMatchObject({
				matched: true,
				badInput: { field: 'employees', reason: 'notNumber', policy: 'zero' },
			});
		});

		const stops: Array<[string, Record<string, unknown>, Record<string, unknown>, RegExp]> = [
			[
				'a non-numeric value under a numeric operator',
				rule({ onBadInput: 'error' }),
				{ employees: 'many' },
				/^Item 1: Rule 1 "Size" needs a number in field "employees", but it holds text "many"\. \[item 1\]$/,
			],
			[
				'a missing field',
				rule({ onBadInput: 'error' }),
				{},
				/^Item 1: Rule 1 "Size" needs a value in field "employees", but it is missing\. \[item 1\]$/,
			],
			[
				'an unparseable date',
				{
					operation: 'scoreLeads',
					rules: {
						rule: [
							{
								name: 'Recent',
								field: 'seenAt',
								operator: 'withinLastDays',
								days: 7,
								onBadInput: 'error',
							},
						],
					},
				},
				{ seenAt: '31/05/2024' },
				/^Item 1: Rule 1 "Recent" needs a date .* in field "seenAt", but it holds text "31\/05\/2024"\. \[item 1\]$/,
			],
			[
				'an unparseable decay date',
				rule({
					onBadInput: 'error',
					decay: 'exponential',
					decayDateField: 'sizeCheckedAt',
					halfLifeDays: 30,
				}),
				{ employees: 80, sizeCheckedAt: 'last spring' },
				/^Item 1: Rule 1 "Size" needs a date .* in field "sizeCheckedAt", but it holds text "last spring"\./,
			],
		];
		for (const [label, parameters, bad, message] of stops) {
			it(`"Stop With an Error" on ${label} names lead and field`, async () => {
				const result = await runWorkflow(
					singleNodeWorkflow(node(parameters), [
						{ employees: 100, seenAt: NOW, sizeCheckedAt: NOW },
						bad as never,
					]),
				);
				const error = result.error('Node');
				expect(error?.name).toBe('NodeOperationError');
				expect(error?.message).toMatch(message);
			});
		}

		it('names the lead by its ID field when one is set', async () => {
			const parameters = {
				...rule({ onBadInput: 'error' }),
				options: { scoreAsOf: NOW, leadIdField: 'id' },
			};
			const result = await runWorkflow(
				singleNodeWorkflow(node(parameters), [{ id: 'L-77', employees: 'many' }]),
			);
			expect(result.error('Node')?.message).toBe(
				'Lead "L-77" (item 0): Rule 1 "Size" needs a number in field "employees", but it holds text "many". [item 0]',
			);
			expect(result.error('Node')?.description).toContain('"employees"');
		});

		const broken: Array<[string, Record<string, unknown>, RegExp, string]> = [
			[
				'an invalid regex',
				{
					rules: { rule: [{ name: 'Mail', field: 'email', operator: 'regex', pattern: '(gmail' }] },
				},
				/Rule 1 "Mail": the regex pattern \/\(gmail\/ is not valid/,
				'Rules › Pattern',
			],
			['no rules', { rules: {} }, /Add at least one rule under "Rules"/, 'Rules'],
			[
				'a group maximum that is not a number',
				{ rules: formRules, groups: { group: [{ name: 'fit', max: 'lots' }] } },
				/Group "fit": "max" must be a number or left empty; got "lots"/,
				'Group Limits › Maximum',
			],
			[
				'normalizing without a cap',
				{ rules: formRules, total: { normalize: true } },
				/Normalizing to 0-100 needs a total floor and a total cap/,
				'Total › Normalize to 0–100',
			],
			[
				'stages out of order',
				{
					rules: formRules,
					stages: {
						stage: [
							{ name: 'hot', minScore: 50 },
							{ name: 'cold', minScore: 10 },
						],
					},
				},
				/Stages must be listed from lowest to highest/,
				'Stages › Minimum Score',
			],
		];
		for (const [label, parameters, message, parameter] of broken) {
			it(`${label} stops with a message naming the parameter`, async () => {
				const result = await runWorkflow(
					singleNodeWorkflow(node({ operation: 'scoreLeads', ...parameters }), [
						{ email: 'a@b.c' },
					]),
				);
				const error = result.error('Node');
				expect(error?.message).toMatch(message);
				expect(error?.message).toContain('[item 0]');
				expect(error?.description).toContain(parameter);
			});
		}

		it('with Continue On Fail the bad lead carries its error and the others are scored', async () => {
			const result = await runWorkflow(
				singleNodeWorkflow(node(rule({ onBadInput: 'error' }), true), [
					{ employees: 80 },
					{ employees: 'many' },
					{ employees: 10 },
				]),
			);
			const json = result.json('Node');
			expect(json).toHaveLength(3);
			expect((json[0].leadScore as { total: number }).total).toBe(10);
			expect(json[1]).toMatchObject({
				employees: 'many',
				error: { code: 'not_a_number', field: 'employees' },
			});
			expect((json[1].error as { message: string }).message).toContain('Item 1: Rule 1 "Size"');
			expect(json[1].leadScore).toBeUndefined();
			expect((json[2].leadScore as { total: number }).total).toBe(0);
			expect(result.items('Node').map((i) => i.pairedItem)).toEqual([
				{ item: 0 },
				{ item: 1 },
				{ item: 2 },
			]);
		});
	});

	describe('model operations', () => {
		const training = generateLeads(1_500, 5);
		const features: FeatureSpec[] = [
			{ field: 'seniority', type: 'numeric' },
			{ field: 'pricingViews', type: 'numeric' },
			{ field: 'referred', type: 'boolean' },
			{ field: 'industry', type: 'categorical', name: 'Industry' },
		];
		const formFeatures = {
			feature: features.map((f) => ({ field: f.field, type: f.type, name: f.name ?? '' })),
		};
		const trainParameters = {
			operation: 'train',
			label: 'converted',
			features: formFeatures,
			trainOptions: { lambda: 0.5 },
		};

		it('Train Model turns all leads into one model item, paired with its first 1,000 inputs (a summary), equal to the engine', async () => {
			const result = await runWorkflow(
				singleNodeWorkflow(node(trainParameters), training as never),
			);
			const items = result.items('Node');
			expect(items).toHaveLength(1);
			expect(items[0].pairedItem).toEqual(
				training.slice(0, SUMMARY_PAIRING_LIMIT).map((_, item) => ({ item })),
			);
			const expected = trainLogistic(training, { label: 'converted', features, lambda: 0.5 });
			expect(items[0].json.model).toEqual(expected);
			expect(items[0].json.training).toEqual(expected.training);
			// True effect of a seniority step is 0.9 on the log-odds; the fit should be near it.
			expect(
				(items[0].json.effectsPerUnit as { coefficients: Record<string, number> }).coefficients
					.seniority,
			).toBeGreaterThan(0.6);
		});

		it('Train Model stops on an unreadable outcome naming the item, or with Continue On Fail returns one error item', async () => {
			const bad = training.slice(0, 20).map((l, i) => (i === 7 ? { ...l, converted: 'maybe' } : l));
			const stopped = await runWorkflow(singleNodeWorkflow(node(trainParameters), bad as never));
			expect(stopped.error('Node')?.message).toBe(
				'Item 7: the outcome field "converted" needs true/false, yes/no or 1/0, but it holds text "maybe". [item 7]',
			);
			// The message is about the lead's own field, so the hint points at it.
			expect(stopped.error('Node')?.description).toBe('Check "converted" for item 7.');
			const continued = await runWorkflow(
				singleNodeWorkflow(node(trainParameters, true), bad as never),
			);
			const items = continued.items('Node');
			expect(items).toHaveLength(1);
			expect(items[0].json.error).toMatchObject({
				code: 'invalid_label',
				field: 'converted',
				item: 7,
			});
			expect(items[0].pairedItem).toEqual({ item: 7 });
		});

		it('Train Model with Regularization 0 and a Category feature drops a reference level and fits the maximum-likelihood model', async () => {
			const result = await runWorkflow(
				singleNodeWorkflow(
					node({ ...trainParameters, trainOptions: { lambda: 0 } }),
					training as never,
				),
			);
			const json = result.json('Node')[0] as {
				model: LogisticModel;
				effectsPerUnit: { coefficients: Record<string, number> };
			};
			const industry = json.model.features.find((f) => f.name === 'Industry')!;
			// The most frequent industry is the reference: no column of its own, effect 0.
			const counts = new Map<string, number>();
			for (const lead of training) counts.set(lead.industry, (counts.get(lead.industry) ?? 0) + 1);
			const mostFrequent = [...counts.entries()].sort((a, b) => b[1] - a[1])[0][0];
			expect(industry).toMatchObject({ type: 'categorical', reference: mostFrequent });
			expect(industry.type === 'categorical' && industry.categories).toHaveLength(counts.size - 1);
			expect(json.model.columns).not.toContain(`Industry=${mostFrequent}`);
			expect(json.effectsPerUnit.coefficients[`Industry=${mostFrequent}`]).toBe(0);
			expect(json.model.training.converged).toBe(true);
			// Unpenalised maximum likelihood: predicted conversions equal actual ones overall, per
			// industry (every level, the reference too) and weighted by every numeric feature.
			const scorer = compileModel(json.model);
			const residuals = training.map((lead) => Number(lead.converted) - scorer.probability(lead));
			const sum = (weights: (lead: (typeof training)[number]) => number) =>
				residuals.reduce((total, r, i) => total + r * weights(training[i]), 0);
			expect(Math.abs(sum(() => 1))).toBeLessThan(1e-6);
			for (const level of counts.keys())
				expect(Math.abs(sum((lead) => (lead.industry === level ? 1 : 0))), level).toBeLessThan(
					1e-6,
				);
			expect(Math.abs(sum((lead) => lead.seniority))).toBeLessThan(1e-5);
			expect(Math.abs(sum((lead) => lead.pricingViews))).toBeLessThan(1e-5);
			expect(Math.abs(sum((lead) => Number(lead.referred)))).toBeLessThan(1e-6);
			// Contrasts between industries are what they were with one column per category.
			const contrasts = trainLogistic(training, { label: 'converted', features, lambda: 1e-9 });
			const raw = (m: LogisticModel) => rawCoefficientsOf(m);
			const a = raw(json.model);
			const b = raw(contrasts);
			for (const level of counts.keys()) {
				expect(a[`Industry=${level}`] - a[`Industry=${mostFrequent}`]).toBeCloseTo(
					b[`Industry=${level}`] - b[`Industry=${mostFrequent}`],
					4,
				);
			}
		});

		it('Train Model with Regularization 0 names the feature that makes the design singular', async () => {
			const withCopies = training
				.slice(0, 300)
				.map((lead) => ({ ...lead, views: lead.pricingViews, sector: `s-${lead.industry}` }));
			const duplicate = [
				...formFeatures.feature,
				{ field: 'views', type: 'numeric', name: 'Views again' },
			];
			const stopped = await runWorkflow(
				singleNodeWorkflow(
					node({
						...trainParameters,
						features: { feature: duplicate },
						trainOptions: { lambda: 0 },
					}),
					withCopies as never,
				),
			);
			expect(stopped.error('Node')?.message).toMatch(
				/^Without regularization the model cannot tell feature "Views again" \(field "views"\) apart: it is constant or determined by the features before it/,
			);
			expect(stopped.error('Node')?.description).toBe('Check "Features".');
			const sameCategories = [
				...formFeatures.feature,
				{ field: 'sector', type: 'categorical', name: 'Sector' },
			];
			const again = await runWorkflow(
				singleNodeWorkflow(
					node({
						...trainParameters,
						features: { feature: sameCategories },
						trainOptions: { lambda: 0 },
					}),
					withCopies as never,
				),
			);
			expect(again.error('Node')?.message).toMatch(
				/^Without regularization the model cannot tell feature "Sector" \(field "sector"\) apart: its category "s-\w+" always goes with/,
			);
			// Regularization above 0 fits the same features.
			const fitted = await runWorkflow(
				singleNodeWorkflow(
					node({
						...trainParameters,
						features: { feature: sameCategories },
						trainOptions: { lambda: 0.5 },
					}),
					withCopies as never,
				),
			);
			expect(fitted.json('Node')[0].model).toBeDefined();
		});

		const model = trainLogistic(training, { label: 'converted', features, lambda: 0.5 });
		const fresh = generateLeads(40, 99).map(
			({ converted: _c, trueProbability: _p, ...lead }) => lead,
		);

		it("Score With Model from pasted JSON gives the engine's probability, score and factors", async () => {
			const parameters = {
				operation: 'scoreWithModel',
				model: JSON.stringify(model),
				options: { topFactors: 2 },
			};
			const result = await runWorkflow(singleNodeWorkflow(node(parameters), fresh as never));
			const scorer = compileModel(model, { topFactors: 2 });
			result.items('Node').forEach((item, i) => {
				expect(item.pairedItem).toEqual({ item: i });
				expect(item.json.modelScore).toEqual(JSON.parse(JSON.stringify(scorer.score(fresh[i], i))));
				expect(item.json.id).toBe(fresh[i].id);
			});
			const first = result.json('Node')[0].modelScore as {
				positiveFactors: unknown[];
				probability: number;
				score: number;
			};
			expect(first.positiveFactors.length).toBeLessThanOrEqual(2);
			expect(first.score).toBeCloseTo(100 * first.probability, 12);
		});

		it('Score With Model reads the model from a field of each lead; Score Only leaves the factors out', async () => {
			const withModel = fresh.slice(0, 5).map((lead) => ({ ...lead, trained: { model } }));
			const parameters = {
				operation: 'scoreWithModel',
				modelSource: 'field',
				modelField: 'trained.model',
				output: 'score',
				resultField: 'p',
			};
			const json = (
				await runWorkflow(singleNodeWorkflow(node(parameters), withModel as never))
			).json('Node');
			const scorer = compileModel(model);
			json.forEach((j, i) => {
				const probability = scorer.probability(fresh[i]);
				expect(j.p).toEqual({ probability, score: 100 * probability });
			});
		});

		it('Score With Model names the lead and the field of a bad feature value, and a broken model', async () => {
			const parameters = { operation: 'scoreWithModel', model: JSON.stringify(model) };
			const bad = await runWorkflow(
				singleNodeWorkflow(node(parameters), [
					fresh[0],
					{ ...fresh[1], pricingViews: 'often' },
				] as never),
			);
			expect(bad.error('Node')?.message).toBe(
				'Item 1: model feature "pricingViews" needs a number in field "pricingViews", but it holds text "often". [item 1]',
			);
			const broken = await runWorkflow(
				singleNodeWorkflow(node({ operation: 'scoreWithModel', model: '{"kind": "tree"}' }), [
					fresh[0],
				] as never),
			);
			expect(broken.error('Node')?.message).toMatch(
				/The saved model cannot be used: its kind is "tree"/,
			);
			expect(broken.error('Node')?.description).toContain('Model');
			const missing = await runWorkflow(
				singleNodeWorkflow(node({ operation: 'scoreWithModel', modelSource: 'field' }, true), [
					fresh[0],
				] as never),
			);
			expect(missing.json('Node')[0].error).toMatchObject({
				code: 'missing_model',
				parameter: 'Model Field',
			});
		});
	});

	describe('Backtest', () => {
		const history = generateLeads(3_000, 11);
		const features: FeatureSpec[] = [
			{ field: 'seniority', type: 'numeric' },
			{ field: 'pricingViews', type: 'numeric' },
			{ field: 'daysSinceLastVisit', type: 'numeric' },
			{ field: 'referred', type: 'boolean' },
			{ field: 'industry', type: 'categorical' },
		];
		const parameters = {
			operation: 'backtest',
			label: 'converted',
			dateField: 'createdAt',
			trainFraction: 0.7,
			rules: {
				rule: [
					{ group: 'fit', field: 'seniority', operator: 'greaterThan', number: 3, points: 30 },
					{ group: 'fit', field: 'industry', operator: 'equals', value: 'saas', points: 15 },
					{
						group: 'engagement',
						field: 'pricingViews',
						operator: 'greaterThan',
						number: 2,
						points: 25,
					},
					{
						group: 'engagement',
						field: 'daysSinceLastVisit',
						operator: 'lessThan',
						number: 14,
						points: 20,
					},
					{ group: 'referral', field: 'referred', operator: 'equals', value: 'true', points: 10 },
				],
			},
			total: { floor: 0, cap: 100, normalize: true },
			features: { feature: features.map((f) => ({ field: f.field, type: f.type })) },
			backtestOptions: { samples: 200, seed: 3 },
		};
		const engineReport = backtest(history, {
			label: 'converted',
			dateField: 'createdAt',
			trainFraction: 0.7,
			rules: {
				rules: [
					{ group: 'fit', field: 'seniority', operator: 'greaterThan', value: 3, points: 30 },
					{ group: 'fit', field: 'industry', operator: 'equals', value: 'saas', points: 15 },
					{
						group: 'engagement',
						field: 'pricingViews',
						operator: 'greaterThan',
						value: 2,
						points: 25,
					},
					{
						group: 'engagement',
						field: 'daysSinceLastVisit',
						operator: 'lessThan',
						value: 14,
						points: 20,
					},
					{ group: 'referral', field: 'referred', operator: 'equals', value: true, points: 10 },
				],
				total: { floor: 0, cap: 100, normalize: true },
			},
			model: { features },
			bootstrap: { samples: 200, seed: 3 },
		});

		it('reports rules and model side by side on the later leads, as the engine does', async () => {
			const result = await runWorkflow(singleNodeWorkflow(node(parameters), history as never));
			const items = result.items('Node');
			expect(items).toHaveLength(1);
			expect(items[0].pairedItem).toEqual(
				history.slice(0, SUMMARY_PAIRING_LIMIT).map((_, item) => ({ item })),
			);
			const report = items[0].json as Record<string, any>;
			expect(report.split).toEqual(engineReport.split);
			expect(report.split.testLeads).toBe(900);
			const { model: trained, ...modelMetrics } = engineReport.model as NonNullable<
				typeof engineReport.model
			>;
			expect(report.rules).toEqual(engineReport.rules);
			expect(report.model).toEqual(modelMetrics);
			expect(report.trainedModel).toEqual(trained as LogisticModel);
			const row = (metric: string) =>
				report.comparison.find((r: { metric: string }) => r.metric === metric);
			expect(row('AUC')).toEqual({
				metric: 'AUC',
				rules: engineReport.rules?.auc,
				model: engineReport.model?.auc,
			});
			expect(row('Top-decile lift').model).toBe(engineReport.model?.topDecileLift);
			expect(row('Brier score').rules).toBe(engineReport.rules?.brier);
			// Nine fixed metrics plus lift and capture at the Lift Share (default 0.1: the top decile again).
			expect(report.comparison).toHaveLength(11);
			expect(row('Lift, top 10%').model).toBe(engineReport.model?.topDecileLift);
			expect(report.model.auc).toBeGreaterThan(report.rules.auc);
		});

		it('measures lift and capture at the chosen Lift Share (top 25%) on the test leads', async () => {
			const modelOnly = {
				...parameters,
				evaluate: 'model',
				backtestOptions: { ...parameters.backtestOptions, liftFraction: 0.25 },
			};
			const report = (
				await runWorkflow(singleNodeWorkflow(node(modelOnly), history as never))
			).json('Node')[0] as Record<string, any>;
			// Independently: score the test leads with the trained model, take the top quarter by probability.
			const scorer = compileModel(report.trainedModel as LogisticModel);
			const test = history.filter((lead) => lead.createdAt >= report.split.cutoff);
			expect(test).toHaveLength(900);
			const ranked = test
				.map((lead) => ({ p: scorer.probability(lead), converted: lead.converted ? 1 : 0 }))
				.sort((a, b) => b.p - a.p);
			const top = ranked.slice(0, Math.ceil(test.length * 0.25));
			const converters = ranked.reduce((sum, r) => sum + r.converted, 0);
			const found = top.reduce((sum, r) => sum + r.converted, 0);
			expect(report.model.lift).toEqual({
				fraction: 0.25,
				leads: 225,
				lift: expect.any(Number),
				capture: expect.any(Number),
			});
			expect(report.model.lift.lift).toBeCloseTo(
				found / top.length / (converters / test.length),
				12,
			);
			expect(report.model.lift.capture).toBeCloseTo(found / converters, 12);
			const row = report.comparison.find((r: { metric: string }) => r.metric === 'Lift, top 25%');
			expect(row).toEqual({ metric: 'Lift, top 25%', rules: null, model: report.model.lift.lift });
			const bad = await runWorkflow(
				singleNodeWorkflow(
					node({ ...modelOnly, backtestOptions: { liftFraction: 1.5 } }),
					history.slice(0, 300) as never,
				),
			);
			expect(bad.error('Node')?.message).toMatch(
				/^The lift fraction is the share of top-scored leads, above 0 and at most 1/,
			);
			expect(bad.error('Node')?.description).toBe('Check "Options › Lift Share".');
		});

		it('evaluates the rules alone with a cutoff date, and says when the test period lacks converters', async () => {
			const rulesOnly = {
				...parameters,
				evaluate: 'rules',
				splitBy: 'cutoff',
				cutoff: history[2_000].createdAt,
			};
			const report = (
				await runWorkflow(singleNodeWorkflow(node(rulesOnly), history as never))
			).json('Node')[0] as Record<string, any>;
			expect(report.split.trainLeads).toBe(2_000);
			expect(report.model).toBeUndefined();
			expect(report.comparison[0]).toMatchObject({ metric: 'AUC', model: null });
			const noConverters = history.map((l, i) => (i >= 2_000 ? { ...l, converted: false } : l));
			const failed = await runWorkflow(singleNodeWorkflow(node(rulesOnly), noConverters as never));
			expect(failed.error('Node')?.message).toMatch(
				/^The test period \(from .*\) needs both converted and not converted leads; it has 0 converted out of 1000\. Move the cutoff earlier\.$/,
			);
			expect(failed.error('Node')?.description).toContain('Cutoff');
		});

		it('names the lead whose date cannot be read', async () => {
			const bad = history
				.slice(0, 50)
				.map((l, i) => (i === 12 ? { ...l, createdAt: 'last Tuesday' } : l));
			const result = await runWorkflow(
				singleNodeWorkflow(node({ ...parameters, evaluate: 'rules' }, true), bad as never),
			);
			const [item] = result.items('Node');
			expect(item.json.error).toMatchObject({ code: 'not_a_date', field: 'createdAt', item: 12 });
			expect((item.json.error as { message: string }).message).toMatch(
				/^Item 12: the backtest needs a date .* in field "createdAt", but it holds text "last Tuesday"\. \[item 12\]$/,
			);
			expect(item.pairedItem).toEqual({ item: 12 });
		});
	});
});
