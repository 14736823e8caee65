import { EngineError } from '../shared/errors';
import {
	addExclusion,
	checkFieldName,
	checkItems,
	ExclusionCounts,
	readNumber,
} from './transactions';

/**
 * Net Promoter Score: promoters answer 9–10, passives 7–8, detractors 0–6;
 * NPS = 100 × (promoters − detractors) / responses, from −100 to +100.
 * Standard error from the multinomial variance: 100 × √((p + d − (p − d)²) / n).
 */

export type NpsCategory = 'promoter' | 'passive' | 'detractor';

export interface NpsOptions {
	/** Field holding the 0–10 answer. */
	scoreField: string;
	/** Optional field to break the NPS down by (e.g. channel, campaign, country). */
	groupField?: string;
}

export interface NpsStatistics {
	responses: number;
	promoters: number;
	passives: number;
	detractors: number;
	promoterShare: number;
	passiveShare: number;
	detractorShare: number;
	nps: number;
	standardError: number;
	/** 95% Wald interval NPS ± 1.96·SE, clipped to [−100, 100]. */
	ci95: { low: number; high: number };
}

export interface NpsGroup extends NpsStatistics {
	group: string;
}

export interface NpsRow {
	/** Position of the item in the input (0-based). */
	index: number;
	score: number;
	category: NpsCategory;
	group?: string;
}

export interface NpsResult {
	rows: NpsRow[];
	summary: {
		overall: NpsStatistics;
		groupField?: string;
		groups: NpsGroup[];
		/** Items without an answer (blank score) are left out and counted here. */
		excluded: ExclusionCounts;
		warnings: string[];
	};
}

/** Below this many responses the Wald interval is rough; the usual dashboard convention. */
const FEW_RESPONSES = 30;
const Z95 = 1.959963984540054;
/** Group name for items whose group field is blank. */
export const NO_GROUP = '(none)';

export function classifyNps(score: number): NpsCategory {
	return score >= 9 ? 'promoter' : score >= 7 ? 'passive' : 'detractor';
}

/** NPS statistics from category counts; throws when there are no responses. */
export function npsStatistics(
	promoters: number,
	passives: number,
	detractors: number,
): NpsStatistics {
	const n = promoters + passives + detractors;
	if (n === 0)
		throw new EngineError('empty_input', 'There are no survey responses to compute an NPS from');
	const p = promoters / n;
	const d = detractors / n;
	const nps = 100 * (p - d);
	const standardError = 100 * Math.sqrt(Math.max(0, p + d - (p - d) * (p - d)) / n);
	return {
		responses: n,
		promoters,
		passives,
		detractors,
		promoterShare: p,
		passiveShare: passives / n,
		detractorShare: d,
		nps,
		standardError,
		ci95: {
			low: Math.max(-100, nps - Z95 * standardError),
			high: Math.min(100, nps + Z95 * standardError),
		},
	};
}

export function netPromoterScore(
	items: readonly Record<string, unknown>[],
	options: NpsOptions,
): NpsResult {
	checkItems(items, 'survey responses');
	const scoreField = checkFieldName(options.scoreField, 'scoreField');
	const groupField =
		options.groupField === undefined || options.groupField === ''
			? undefined
			: checkFieldName(options.groupField, 'groupField');
	const excluded: ExclusionCounts = {};
	const rows: NpsRow[] = [];
	const counts = new Map<string, [number, number, number]>();
	const overall: [number, number, number] = [0, 0, 0];

	items.forEach((item, index) => {
		const raw = item && typeof item === 'object' ? item[scoreField] : undefined;
		const score = readNumber(raw);
		if (score === undefined) {
			addExclusion(excluded, 'no_answer');
			return;
		}
		if (!Number.isInteger(score) || score < 0 || score > 10) {
			throw new EngineError(
				'invalid_nps_score',
				`Item ${index + 1}: the ${scoreField} must be a whole number from 0 to 10, got ${JSON.stringify(String(raw)).slice(0, 40)}`,
				{ field: scoreField, details: { index } },
			);
		}
		const category = classifyNps(score);
		const slot = category === 'promoter' ? 0 : category === 'passive' ? 1 : 2;
		overall[slot]++;
		const row: NpsRow = { index, score, category };
		if (groupField !== undefined) {
			const value = item[groupField];
			const group =
				value === undefined || value === null || String(value).trim() === ''
					? NO_GROUP
					: String(value);
			row.group = group;
			let groupCounts = counts.get(group);
			if (!groupCounts) counts.set(group, (groupCounts = [0, 0, 0]));
			groupCounts[slot]++;
		}
		rows.push(row);
	});

	if (rows.length === 0) {
		throw new EngineError(
			'no_valid_responses',
			`None of the ${items.length} items has an answer in "${scoreField}"; answers must be whole numbers from 0 to 10`,
			{ field: scoreField, details: { excluded } },
		);
	}
	const overallStatistics = npsStatistics(...overall);
	const groups = [...counts.entries()]
		.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
		.map(([group, c]) => ({ group, ...npsStatistics(...c) }));
	const warnings: string[] = [];
	if (overallStatistics.responses < FEW_RESPONSES) {
		warnings.push(
			`Only ${overallStatistics.responses} responses: the confidence interval is rough below ${FEW_RESPONSES}`,
		);
	}
	const small = groups.filter((g) => g.responses < FEW_RESPONSES).length;
	if (small > 0)
		warnings.push(`${small} of ${groups.length} groups have fewer than ${FEW_RESPONSES} responses`);
	return {
		rows,
		summary: { overall: overallStatistics, groupField, groups, excluded, warnings },
	};
}

/** Complementary error function (Numerical Recipes erfcc: relative error below 1.2e-7). */
function erfc(x: number): number {
	const z = Math.abs(x);
	const t = 1 / (1 + 0.5 * z);
	const r =
		t *
		Math.exp(
			-z * z -
				1.26551223 +
				t *
					(1.00002368 +
						t *
							(0.37409196 +
								t *
									(0.09678418 +
										t *
											(-0.18628806 +
												t *
													(0.27886807 +
														t *
															(-1.13520398 +
																t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
		);
	return x >= 0 ? r : 2 - r;
}

export interface NpsDifference {
	/** current NPS − previous NPS, in points. */
	difference: number;
	/** √(SE₁² + SE₂²), the two samples being independent. */
	standardError: number;
	/** 95% interval of the difference. */
	ci95: { low: number; high: number };
	/** difference / standardError. */
	zScore: number;
	/** Two-sided p-value of "no difference" (normal approximation). */
	pValue: number;
	/** Whether the difference is beyond 1.96 standard errors (5% level). */
	significant: boolean;
}

/**
 * Whether two NPS values differ at the 5% level (difference beyond 1.96·√(SE₁² + SE₂²)),
 * e.g. this quarter against the last.
 */
export function npsDifference(current: NpsStatistics, previous: NpsStatistics): NpsDifference {
	const difference = current.nps - previous.nps;
	const standardError = Math.sqrt(current.standardError ** 2 + previous.standardError ** 2);
	const zScore =
		standardError > 0
			? difference / standardError
			: difference === 0
				? 0
				: Math.sign(difference) * Infinity;
	return {
		difference,
		standardError,
		ci95: { low: difference - Z95 * standardError, high: difference + Z95 * standardError },
		zScore,
		pValue: Number.isFinite(zScore) ? erfc(Math.abs(zScore) / Math.SQRT2) : 0,
		significant: Math.abs(difference) > Z95 * standardError,
	};
}

export interface NpsComparison extends NpsDifference {
	groupField?: string;
	/** The first group (e.g. this quarter) and the second (e.g. the last); difference = A − B. */
	groupA: NpsGroup;
	groupB: NpsGroup;
}

/**
 * The difference test between two groups of an NPS result (two channels, or two periods when the
 * group field holds the period). Throws naming groupA or groupB when a group has no responses.
 */
export function compareNpsGroups(result: NpsResult, groupA: string, groupB: string): NpsComparison {
	const names = result.summary.groups.map((g) => g.group);
	const find = (name: string, field: 'groupA' | 'groupB'): NpsGroup => {
		const group = result.summary.groups.find((g) => g.group === name.trim());
		if (!group) {
			const list =
				names
					.slice(0, 10)
					.map((n) => `"${n}"`)
					.join(', ') + (names.length > 10 ? ', …' : '');
			throw new EngineError(
				'unknown_nps_group',
				`No response has "${name}" in the group field ${result.summary.groupField ? `"${result.summary.groupField}"` : ''}; ` +
					(names.length ? `the groups are ${list}` : 'set a group field to compare groups'),
				{ field, details: { groups: names } },
			);
		}
		return group;
	};
	const a = find(groupA, 'groupA');
	const b = find(groupB, 'groupB');
	if (a === b) {
		throw new EngineError(
			'invalid_nps_comparison',
			`Compare two different groups; both are "${a.group}"`,
			{ field: 'groupB' },
		);
	}
	return { groupField: result.summary.groupField, groupA: a, groupB: b, ...npsDifference(a, b) };
}
