import { compileRuleSet, type LeadScore, type ScoringRule } from '../../../engine/scoring';
export { engineError } from '../../support/engineError';

export const DAY = 86_400_000;
export const NOW = Date.parse('2024-06-01T12:00:00Z');

/** ISO time `days` before NOW. */
export function daysAgo(days: number): string {
	return new Date(NOW - days * DAY).toISOString();
}

/** Scores a lead with a single rule worth 10 points, no floor, explaining every rule. */
export function scoreWith(
	rule: Omit<ScoringRule, 'group' | 'points'> & Partial<ScoringRule>,
	lead: object,
	now: number = NOW,
): LeadScore {
	const scorer = compileRuleSet({
		rules: [{ group: 'fit', points: 10, ...rule } as ScoringRule],
		total: { floor: null },
		explain: 'all',
	});
	return scorer.score(lead, now, 'test lead');
}

/** Whether the single rule matched the lead. */
export function matches(
	rule: Omit<ScoringRule, 'group' | 'points'> & Partial<ScoringRule>,
	lead: object,
): boolean {
	return scoreWith(rule, lead).explanation.rules[0].matched;
}
