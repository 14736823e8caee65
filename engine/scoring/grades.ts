/* Fit grade (A-F), engagement level (1-3), their matrix cell (A1...F3) and the score's stage. */
import { EngineError } from '../shared/errors';
import { numberOrNaN } from '../shared/guards';

export type FitGrade = 'A' | 'B' | 'C' | 'D' | 'F';
export type EngagementLevel = 1 | 2 | 3;

/** Minimum fit points for each grade; below D is F. Must fall strictly from A to D. */
export interface FitGradeThresholds {
	A: number;
	B: number;
	C: number;
	D: number;
}

/** Minimum engagement points for level 1 (most engaged) and level 2; below level 2 is level 3. */
export interface EngagementThresholds {
	level1: number;
	level2: number;
}

/** A stage such as cold, warm, MQL, SQL; listed from lowest to highest. */
export interface StageConfig {
	name: string;
	/** Lowest score in this stage. The first stage may leave it out to catch every lower score. */
	minScore?: number;
}

export interface CompiledStage {
	readonly name: string;
	readonly minScore: number;
}

const GRADE_SHARES: FitGradeThresholds = { A: 0.8, B: 0.6, C: 0.4, D: 0.2 };
const LEVEL_SHARES: EngagementThresholds = { level1: 0.6, level2: 0.3 };
/** Used when no positive points can reach the dimension, so shares of it would all be 0. */
const FALLBACK_REACH = 100;

function finite(value: unknown, field: string, where: string): number {
	const n = numberOrNaN(value);
	if (!Number.isFinite(n)) {
		throw new EngineError(
			'invalid_thresholds',
			`${where} "${field}" must be a number; got ${JSON.stringify(value) ?? 'nothing'}.`,
			{
				field,
			},
		);
	}
	return n;
}

/**
 * Grade thresholds: what the marketer set, with defaults of 80/60/40/20 % of `reachable`, the most
 * fit points any lead can earn after group limits (so defaults suit any point scale).
 */
export function compileFitGrades(
	config: Partial<FitGradeThresholds> | undefined,
	reachable: number,
): FitGradeThresholds {
	const reach = reachable > 0 ? reachable : FALLBACK_REACH;
	const out = {} as FitGradeThresholds;
	for (const letter of ['A', 'B', 'C', 'D'] as const) {
		const given = config?.[letter];
		out[letter] =
			given === undefined || given === null
				? GRADE_SHARES[letter] * reach
				: finite(given, letter, 'Fit grade threshold');
	}
	if (!(out.A > out.B && out.B > out.C && out.C > out.D)) {
		throw new EngineError(
			'invalid_thresholds',
			`Fit grade thresholds must fall strictly from A to D (A > B > C > D); got A ${out.A}, B ${out.B}, C ${out.C}, D ${out.D}.`,
			{ field: 'fitGrades', details: { ...out } },
		);
	}
	return out;
}

/** Engagement thresholds with defaults of 60/30 % of the most engagement points any lead can earn. */
export function compileEngagementLevels(
	config: Partial<EngagementThresholds> | undefined,
	reachable: number,
): EngagementThresholds {
	const reach = reachable > 0 ? reachable : FALLBACK_REACH;
	const level1 =
		config?.level1 === undefined || config.level1 === null
			? LEVEL_SHARES.level1 * reach
			: finite(config.level1, 'level1', 'Engagement level threshold');
	const level2 =
		config?.level2 === undefined || config.level2 === null
			? LEVEL_SHARES.level2 * reach
			: finite(config.level2, 'level2', 'Engagement level threshold');
	if (!(level1 > level2)) {
		throw new EngineError(
			'invalid_thresholds',
			`The engagement threshold for level 1 (most engaged) must be above level 2; got level 1 ${level1}, level 2 ${level2}.`,
			{ field: 'engagementLevels', details: { level1, level2 } },
		);
	}
	return { level1, level2 };
}

export function fitGrade(thresholds: FitGradeThresholds, fit: number): FitGrade {
	if (fit >= thresholds.A) return 'A';
	if (fit >= thresholds.B) return 'B';
	if (fit >= thresholds.C) return 'C';
	if (fit >= thresholds.D) return 'D';
	return 'F';
}

export function engagementLevel(
	thresholds: EngagementThresholds,
	engagement: number,
): EngagementLevel {
	if (engagement >= thresholds.level1) return 1;
	if (engagement >= thresholds.level2) return 2;
	return 3;
}

/** The matrix cell, e.g. `A1` (best fit, most engaged) to `F3`. */
export function matrixCell(grade: FitGrade, level: EngagementLevel): string {
	return grade + level;
}

/** Stages checked once: names present and unique, thresholds strictly ascending. */
export function compileStages(config: readonly StageConfig[] | undefined): CompiledStage[] {
	if (config === undefined || config === null) return [];
	if (!Array.isArray(config)) {
		throw new EngineError(
			'invalid_stages',
			'Stages must be a list of { name, minScore }, lowest first.',
			{
				field: 'stages',
			},
		);
	}
	const seen = new Set<string>();
	const out: CompiledStage[] = [];
	config.forEach((stage, i) => {
		const name = typeof stage?.name === 'string' ? stage.name.trim() : '';
		if (name === '') {
			throw new EngineError('invalid_stages', `Stage ${i + 1} needs a name, e.g. "MQL".`, {
				field: 'stages',
			});
		}
		if (seen.has(name)) {
			throw new EngineError(
				'invalid_stages',
				`Stage "${name}" is listed twice; each stage needs its own name.`,
				{
					field: 'stages',
				},
			);
		}
		seen.add(name);
		let minScore: number;
		if (stage.minScore === undefined || stage.minScore === null) {
			if (i > 0) {
				throw new EngineError(
					'invalid_stages',
					`Stage "${name}" needs a minimum score; only the first stage may leave it out.`,
					{
						field: 'minScore',
					},
				);
			}
			minScore = -Infinity;
		} else {
			minScore = finite(stage.minScore, 'minScore', `Stage "${name}"`);
		}
		const previous = out[i - 1];
		if (previous !== undefined && !(minScore > previous.minScore)) {
			throw new EngineError(
				'invalid_stages',
				`Stages must be listed from lowest to highest score: "${name}" starts at ${minScore}, which is not above "${previous.name}" (${previous.minScore}).`,
				{ field: 'minScore' },
			);
		}
		out.push({ name, minScore });
	});
	return out;
}

/** Index of the highest stage whose minimum the score reaches; -1 when below the first. */
export function stageIndex(stages: readonly CompiledStage[], score: number): number {
	let found = -1;
	for (let i = 0; i < stages.length; i++) {
		if (score >= stages[i].minScore) found = i;
		else break;
	}
	return found;
}
