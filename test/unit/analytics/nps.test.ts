import { describe, expect, it } from 'vitest';
import {
	classifyNps,
	netPromoterScore,
	npsDifference,
	npsStatistics,
} from '../../../engine/analytics/nps';
import { EngineError } from '../../../engine/shared/errors';
import { seededRandom } from './fixtures';

const answers = (
	scores: unknown[],
	extra: Record<string, unknown>[] = [],
): Record<string, unknown>[] => scores.map((score, i) => ({ score, ...(extra[i] ?? {}) }));

describe('NPS', () => {
	it('classifies 9–10 promoters, 7–8 passives, 0–6 detractors', () => {
		expect([0, 6, 7, 8, 9, 10].map(classifyNps)).toEqual([
			'detractor',
			'detractor',
			'passive',
			'passive',
			'promoter',
			'promoter',
		]);
	});

	it('computes NPS, its standard error and a 95% interval', () => {
		// 50 promoters, 30 passives, 20 detractors.
		const scores = [...Array(50).fill(10), ...Array(30).fill(7), ...Array(20).fill('3')];
		const { overall } = netPromoterScore(answers(scores), { scoreField: 'score' }).summary;
		expect(overall).toMatchObject({
			responses: 100,
			promoters: 50,
			passives: 30,
			detractors: 20,
			nps: 30,
		});
		const se = 100 * Math.sqrt((0.5 + 0.2 - 0.3 ** 2) / 100);
		expect(overall.standardError).toBeCloseTo(se, 12);
		expect(overall.ci95.low).toBeCloseTo(30 - 1.959964 * se, 5);
		expect(overall.ci95.high).toBeCloseTo(30 + 1.959964 * se, 5);
	});

	it('breaks down by a grouping field, blank groups as "(none)"', () => {
		const { summary, rows } = netPromoterScore(
			answers(
				[10, 0, 9, 8, '', 10],
				[{ ch: 'email' }, { ch: 'email' }, { ch: 'sms' }, { ch: 'sms' }, { ch: 'sms' }, {}],
			),
			{ scoreField: 'score', groupField: 'ch' },
		);
		expect(summary.groups.map((g) => [g.group, g.responses, g.nps])).toEqual([
			['(none)', 1, 100],
			['email', 2, 0],
			['sms', 2, 50],
		]);
		expect(summary.excluded).toEqual({ no_answer: 1 });
		expect(rows.map((r) => r.index)).toEqual([0, 1, 2, 3, 5]);
		expect(summary.warnings.length).toBeGreaterThan(0);
	});

	it('rejects scores outside 0–10 with an error naming the item and the field', () => {
		for (const bad of [11, -1, 7.5, 'great', true]) {
			try {
				netPromoterScore(answers([9, bad]), { scoreField: 'score' });
				expect.unreachable();
			} catch (error) {
				expect(error).toBeInstanceOf(EngineError);
				expect((error as EngineError).field).toBe('score');
				expect((error as EngineError).message).toMatch(
					/Item 2: the score must be a whole number from 0 to 10/,
				);
			}
		}
		expect(() => netPromoterScore([], { scoreField: 'score' })).toThrow(/no items/);
		expect(() => netPromoterScore(answers(['', null]), { scoreField: 'score' })).toThrow(
			/None of the 2 items/,
		);
	});

	it('the 95% interval covers the true NPS in about 95% of simulated surveys', () => {
		const random = seededRandom(2024);
		const [p, d] = [0.45, 0.2];
		const truth = 100 * (p - d);
		let covered = 0;
		const surveys = 2000;
		for (let s = 0; s < surveys; s++) {
			const counts = [0, 0, 0];
			for (let i = 0; i < 200; i++) {
				const u = random();
				counts[u < p ? 0 : u < p + d ? 2 : 1]++;
			}
			const stats = npsStatistics(counts[0], counts[1], counts[2]);
			if (stats.ci95.low <= truth && truth <= stats.ci95.high) covered++;
		}
		// Binomial sd of the coverage over 2000 surveys is about 0.5 points.
		expect(covered / surveys).toBeGreaterThan(0.93);
		expect(covered / surveys).toBeLessThan(0.97);
	});

	it('tests the difference between two periods', () => {
		const before = npsStatistics(40, 30, 30);
		const after = npsStatistics(60, 25, 15);
		const result = npsDifference(after, before);
		expect(result.difference).toBeCloseTo(35, 10);
		expect(result.significant).toBe(true);
		expect(npsDifference(npsStatistics(41, 30, 29), before).significant).toBe(false);
	});
});
