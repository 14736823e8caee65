import { describe, expect, it } from 'vitest';
import {
	compileRuleSet,
	type DecayConfig,
	type ScoringConfig,
	type ScoringRule,
} from '../../../engine/scoring';
import { DAY, NOW } from './helpers';
import { seededRandom } from './synthetic';

type Random = () => number;
const pick = <T>(random: Random, items: readonly T[]): T =>
	items[Math.floor(random() * items.length)];
const round2 = (x: number): number => Math.round(x * 100) / 100;

function randomDecay(random: Random): DecayConfig | undefined {
	const dateField = pick(random, ['seenAt', 'lastOpen', 'missingDate']);
	switch (pick(random, ['none', 'none', 'window', 'linear', 'exponential'] as const)) {
		case 'window':
			return { kind: 'window', dateField, days: Math.floor(random() * 60) };
		case 'linear':
			return {
				kind: 'linear',
				dateField,
				percentPerPeriod: 1 + Math.floor(random() * 99),
				periodDays: 1 + random() * 40,
				stepwise: random() < 0.5,
			};
		case 'exponential':
			return { kind: 'exponential', dateField, halfLifeDays: 0.5 + random() * 30 };
		default:
			return undefined;
	}
}

function randomRule(random: Random): ScoringRule {
	const group = pick(random, ['fit', 'engagement', 'referral', 'partner']);
	const points = round2((random() - 0.4) * 80);
	const base = {
		group,
		points,
		decay: randomDecay(random),
		onBadInput: pick(random, ['skip', 'zero'] as const),
	};
	switch (
		pick(random, [
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
		] as const)
	) {
		case 'equals':
			return {
				...base,
				field: 'industry',
				operator: 'equals',
				value: pick(random, ['saas', 'retail']),
			};
		case 'notEquals':
			return { ...base, field: 'company.size', operator: 'notEquals', value: 50 };
		case 'contains':
			return {
				...base,
				field: pick(random, ['title', 'tags']),
				operator: 'contains',
				value: pick(random, ['head', 'vip']),
			};
		case 'startsWith':
			return { ...base, field: 'title', operator: 'startsWith', value: 'vp' };
		case 'regex':
			return { ...base, field: 'email', operator: 'regex', pattern: '@(gmail|yahoo)\\.com$' };
		case 'inList':
			return { ...base, field: 'country', operator: 'inList', values: ['UK', 'IE', 'DE'] };
		case 'greaterThan':
			return {
				...base,
				field: 'company.size',
				operator: 'greaterThan',
				value: Math.floor(random() * 500),
			};
		case 'lessThan':
			return { ...base, field: 'visits', operator: 'lessThan', value: Math.floor(random() * 20) };
		case 'between': {
			const min = Math.floor(random() * 100);
			return {
				...base,
				field: 'company.size',
				operator: 'between',
				min,
				max: min + Math.floor(random() * 300),
			};
		}
		case 'exists':
			return { ...base, field: pick(random, ['phone', 'tags']), operator: 'exists' };
		case 'isEmpty':
			return { ...base, field: 'phone', operator: 'isEmpty' };
		case 'withinLastDays':
			return {
				...base,
				field: pick(random, ['seenAt', 'lastOpen']),
				operator: 'withinLastDays',
				days: Math.floor(random() * 90),
			};
	}
}

function randomConfig(random: Random): ScoringConfig {
	const rules = Array.from({ length: 1 + Math.floor(random() * 12) }, () => randomRule(random));
	const groups = ['fit', 'engagement', 'referral']
		.filter(() => random() < 0.6)
		.map((name) => {
			const min = random() < 0.5 ? undefined : round2(-random() * 40);
			const max = random() < 0.4 ? undefined : round2(random() * 60);
			return { name, min, max };
		});
	const floor = random() < 0.3 ? null : random() < 0.5 ? 0 : round2(-random() * 50);
	const cap = random() < 0.4 ? undefined : round2(10 + random() * 100);
	const normalize = floor !== null && cap !== undefined && random() < 0.5;
	return { rules, groups, total: { floor, cap, normalize }, explain: 'all' };
}

function randomLead(random: Random): Record<string, unknown> {
	const maybe = <T>(value: T): T | undefined => (random() < 0.8 ? value : undefined);
	const date = (): unknown =>
		pick(random, [
			new Date(NOW - random() * 120 * DAY).toISOString(),
			NOW - random() * 120 * DAY,
			NOW + DAY,
			'not a date',
			undefined,
		]);
	return {
		industry: maybe(pick(random, ['saas', 'Retail', 'SaaS', 42])),
		company: maybe({ size: pick(random, [10, 50, 120, '800', 'big', null]) }),
		title: maybe(pick(random, ['Head of Sales', 'VP Marketing', 'intern', { x: 1 }])),
		tags: maybe(pick(random, [['vip'], ['new', 'VIP'], [], 'vip'])),
		email: maybe(pick(random, ['a@gmail.com', 'b@acme.io', ''])),
		country: maybe(pick(random, ['uk', 'FR', 'de'])),
		visits: maybe(pick(random, [0, 3, 17, '5', 'lots'])),
		phone: maybe(pick(random, ['+44 1', '', '  '])),
		seenAt: date(),
		lastOpen: date(),
	};
}

describe('explanations add up to the score (random rule sets)', () => {
	it('holds for 400 random rule sets x 25 random leads', () => {
		const random = seededRandom(20240601);
		let checkedLeads = 0;
		const seen = {
			groupClipped: 0,
			totalClipped: 0,
			normalized: 0,
			skipped: 0,
			zeroed: 0,
			partlyDecayed: 0,
			matched: 0,
		};
		for (let s = 0; s < 400; s++) {
			const config = randomConfig(random);
			const scorer = compileRuleSet(config);
			const matchedOnly = compileRuleSet({ ...config, explain: 'matched' });
			const leads = Array.from({ length: 25 }, () => randomLead(random));
			const first = leads.map((lead) => scorer.score(lead, NOW));
			for (let l = 0; l < leads.length; l++) {
				const r = first[l];
				const ex = r.explanation;
				expect(ex.rules.length).toBe(config.rules.length);

				let sum = 0;
				const byGroup = new Map<string, number>();
				for (const rule of ex.rules) {
					expect(rule.decayFactor).toBeGreaterThanOrEqual(0);
					expect(rule.decayFactor).toBeLessThanOrEqual(1);
					expect(rule.contribution).toBeCloseTo(rule.points * rule.decayFactor, 12);
					if (!rule.matched) expect(rule.contribution).toBe(0);
					if (rule.matched) seen.matched++;
					if (rule.badInput?.policy === 'skip') seen.skipped++;
					if (rule.badInput?.policy === 'zero') seen.zeroed++;
					if (rule.decayFactor > 0 && rule.decayFactor < 1) seen.partlyDecayed++;
					sum += rule.contribution;
					byGroup.set(rule.group, (byGroup.get(rule.group) ?? 0) + rule.contribution);
				}
				let clippedByGroups = 0;
				let fit = 0;
				for (const g of ex.groups) {
					expect(g.points).toBeCloseTo(byGroup.get(g.name) ?? 0, 9);
					if (g.min !== null) expect(g.value).toBeGreaterThanOrEqual(g.min);
					if (g.max !== null) expect(g.value).toBeLessThanOrEqual(g.max);
					expect(g.value).toBeCloseTo(g.points + g.clipped, 9);
					clippedByGroups += g.clipped;
					if (g.clipped !== 0) seen.groupClipped++;
					if (g.dimension === 'fit') fit += g.value;
				}
				expect(r.fit).toBeCloseTo(fit, 9);
				expect(sum + clippedByGroups + ex.clipped).toBeCloseTo(r.total, 9);
				if (ex.clipped !== 0) seen.totalClipped++;
				if (r.normalized) seen.normalized++;
				if (ex.floor !== null) expect(r.total).toBeGreaterThanOrEqual(ex.floor);
				if (ex.cap !== null) expect(r.total).toBeLessThanOrEqual(ex.cap);
				if (r.normalized) {
					const floor = ex.floor as number;
					const cap = ex.cap as number;
					expect(r.score).toBeCloseTo((100 * (r.total - floor)) / (cap - floor), 9);
					expect(r.score).toBeGreaterThanOrEqual(0);
					expect(r.score).toBeLessThanOrEqual(100);
				} else {
					expect(r.score).toBe(r.total);
				}

				// Listing only matched and bad-input rules drops nothing that counted.
				const short = matchedOnly.score(leads[l], NOW);
				expect(short.total).toBe(r.total);
				const shortSum = short.explanation.rules.reduce((t, x) => t + x.contribution, 0);
				expect(shortSum).toBeCloseTo(sum, 9);
				checkedLeads++;
			}
			// Per-lead caches never leak between leads: a scorer that has seen only this lead agrees,
			// and scoring again in reverse order changes nothing.
			for (let l = leads.length - 1; l >= 0; l--) {
				expect(compileRuleSet(config).score(leads[l], NOW)).toEqual(first[l]);
				expect(scorer.score(leads[l], NOW)).toEqual(first[l]);
			}
		}
		expect(checkedLeads).toBe(10_000);
		// The generator really exercised every path the sum runs through.
		for (const [path, count] of Object.entries(seen)) expect(count, path).toBeGreaterThan(200);
	}, 240_000); // 10,000 scored leads: over 100 s at load 20 on 2 cores
});
