/* The compiled rule set: scores one lead at a time, reading each field at most once per lead. */
import { EngineError } from '../shared/errors';
import { decayFactor } from './decay';
import {
	describeLead,
	describeValue,
	isMissing,
	parseDate,
	readPath,
	type PathSegment,
} from './fields';
import {
	engagementLevel,
	fitGrade,
	matrixCell,
	stageIndex,
	type CompiledStage,
	type EngagementThresholds,
	type FitGradeThresholds,
} from './grades';
import {
	MISSING,
	NO,
	NOT_DATE,
	REASONS,
	YES,
	type CompiledGroup,
	type BadInput,
	type CompiledRule,
	type ExplainLevel,
	type GroupExplanation,
	type LeadScore,
	type RuleExplanation,
	type RuleScorer,
	type TextCache,
} from './ruleTypes';

export class CompiledRuleSet implements RuleScorer, TextCache {
	readonly ruleCount: number;
	readonly groupNames: readonly string[];

	// Per-lead caches, reused across leads; a stamp equal to `generation` means "filled for this lead".
	private generation = 0;
	private lead: unknown = undefined;
	private readonly valueStamps: Uint32Array;
	private readonly values: unknown[];
	private readonly dateStamps: Uint32Array;
	private readonly dates: Float64Array;
	private readonly textStamps: Uint32Array;
	private readonly texts: string[];
	private readonly groupSums: Float64Array;

	constructor(
		private readonly rules: readonly CompiledRule[],
		private readonly groups: readonly CompiledGroup[],
		private readonly slotSegments: readonly PathSegment[][],
		private readonly floor: number,
		private readonly cap: number,
		readonly normalized: boolean,
		readonly fitGrades: FitGradeThresholds,
		readonly engagementLevels: EngagementThresholds,
		private readonly stages: readonly CompiledStage[],
		private readonly explain: ExplainLevel,
	) {
		this.ruleCount = rules.length;
		this.groupNames = groups.map((g) => g.name);
		const slots = slotSegments.length;
		this.valueStamps = new Uint32Array(slots);
		this.values = new Array<unknown>(slots).fill(undefined);
		this.dateStamps = new Uint32Array(slots);
		this.dates = new Float64Array(slots);
		this.textStamps = new Uint32Array(slots);
		this.texts = new Array<string>(slots).fill('');
		this.groupSums = new Float64Array(groups.length);
	}

	private value(slot: number): unknown {
		if (this.valueStamps[slot] !== this.generation) {
			this.values[slot] = readPath(this.lead, this.slotSegments[slot]);
			this.valueStamps[slot] = this.generation;
		}
		return this.values[slot];
	}

	/** Epoch ms of the slot's value, parsed once per lead; NaN when missing or unreadable. */
	private date(slot: number): number {
		if (this.dateStamps[slot] !== this.generation) {
			this.dates[slot] = parseDate(this.value(slot));
			this.dateStamps[slot] = this.generation;
		}
		return this.dates[slot];
	}

	/** Why a date slot gave NaN: missing (absent, null, blank) or unreadable. */
	private dateProblem(slot: number): number {
		const v = this.value(slot);
		return isMissing(v) || (typeof v === 'string' && v.trim() === '') ? MISSING : NOT_DATE;
	}

	lowered(slot: number, text: string): string {
		if (this.textStamps[slot] !== this.generation) {
			this.texts[slot] = text.toLowerCase();
			this.textStamps[slot] = this.generation;
		}
		return this.texts[slot];
	}

	score(lead: unknown, now: number | Date | string, leadLabel?: string | number): LeadScore {
		if (lead === null || typeof lead !== 'object') {
			throw new EngineError(
				'invalid_lead',
				`${describeLead(leadLabel)}: a lead must be an object of fields; got ${describeValue(lead)}.`,
				{
					details: { lead: leadLabel },
				},
			);
		}
		const nowMs = parseDate(now);
		if (nowMs !== nowMs) {
			throw new EngineError(
				'invalid_now',
				`"now" must be a date (epoch ms, Date or ISO 8601 text); got ${describeValue(now)}.`,
				{
					field: 'now',
				},
			);
		}
		this.lead = lead;
		if (this.generation === 0xffffffff) {
			this.valueStamps.fill(0);
			this.dateStamps.fill(0);
			this.textStamps.fill(0);
			this.generation = 0;
		}
		this.generation++;

		const sums = this.groupSums;
		sums.fill(0);
		const explain = this.explain;
		const explained: RuleExplanation[] = [];
		const rules = this.rules;
		for (let i = 0; i < rules.length; i++) {
			const rule = rules[i];
			let outcome: number;
			if (rule.dateOperator) {
				const at = this.date(rule.slot);
				if (at !== at) outcome = this.dateProblem(rule.slot);
				else {
					const age = nowMs - at;
					outcome = age >= 0 && age <= rule.windowMs ? YES : NO;
				}
			} else {
				outcome = rule.match(this.value(rule.slot), this, rule.slot);
			}

			let badInput: BadInput | undefined;
			if (outcome >= MISSING) {
				if (rule.policy === 'error') this.fail(rule, rule.slot, rule.field, outcome, leadLabel);
				badInput = { field: rule.field, reason: REASONS[outcome], policy: rule.policy };
				if (rule.policy === 'skip') outcome = NO;
				else if (rule.dateOperator) outcome = nowMs >= 0 && nowMs <= rule.windowMs ? YES : NO;
				else outcome = rule.zeroOutcome;
			}

			let factor = 1;
			if (outcome === YES && rule.decay !== undefined) {
				const at = this.date(rule.decaySlot);
				if (at !== at) {
					const problem = this.dateProblem(rule.decaySlot);
					if (rule.policy === 'error')
						this.fail(rule, rule.decaySlot, rule.decay.dateField, problem, leadLabel);
					badInput = { field: rule.decay.dateField, reason: REASONS[problem], policy: rule.policy };
					// zero: the event counts as infinitely old, so nothing of it survives.
					if (rule.policy === 'skip') outcome = NO;
					else factor = 0;
				} else {
					factor = decayFactor(rule.decay, nowMs - at);
				}
			}

			const matched = outcome === YES;
			const contribution = matched ? rule.points * factor : 0;
			sums[rule.groupIndex] += contribution;
			if (explain === 'all' || (explain === 'matched' && (matched || badInput !== undefined))) {
				const entry: RuleExplanation = {
					index: rule.index,
					rule: rule.label,
					group: rule.groupName,
					matched,
					points: rule.points,
					decayFactor: matched ? factor : 0,
					contribution,
				};
				if (badInput !== undefined) entry.badInput = badInput;
				explained.push(entry);
			}
		}

		const groups = this.groups;
		const groupOut: GroupExplanation[] = new Array(groups.length);
		let points = 0;
		let fit = 0;
		let engagement = 0;
		for (let g = 0; g < groups.length; g++) {
			const group = groups[g];
			const sum = sums[g];
			const value = sum < group.min ? group.min : sum > group.max ? group.max : sum;
			points += value;
			if (group.dimension === 'fit') fit += value;
			else if (group.dimension === 'engagement') engagement += value;
			groupOut[g] = {
				name: group.name,
				dimension: group.dimension,
				points: sum,
				min: group.min === -Infinity ? null : group.min,
				max: group.max === Infinity ? null : group.max,
				value,
				clipped: value - sum,
			};
		}
		const total = points < this.floor ? this.floor : points > this.cap ? this.cap : points;
		let score = total;
		if (this.normalized) {
			// Clamped because rounding can land a total at the cap on 100.00000000000001.
			score = (100 * (total - this.floor)) / (this.cap - this.floor);
			score = score < 0 ? 0 : score > 100 ? 100 : score;
		}
		const grade = fitGrade(this.fitGrades, fit);
		const level = engagementLevel(this.engagementLevels, engagement);
		const stageAt = stageIndex(this.stages, score);
		const next = this.stages[stageAt + 1];
		return {
			score,
			total,
			normalized: this.normalized,
			fit,
			engagement,
			grade,
			engagementLevel: level,
			matrix: matrixCell(grade, level),
			stage: stageAt < 0 ? null : this.stages[stageAt].name,
			nextStage: next === undefined ? null : next.name,
			pointsToNextStage: next === undefined ? null : next.minScore - score,
			explanation: {
				rules: explained,
				groups: groupOut,
				points,
				floor: this.floor === -Infinity ? null : this.floor,
				cap: this.cap === Infinity ? null : this.cap,
				clipped: total - points,
			},
		};
	}

	private fail(
		rule: CompiledRule,
		slot: number,
		field: string,
		outcome: number,
		leadLabel: string | number | undefined,
	): never {
		const value = this.value(slot);
		const reason = REASONS[outcome];
		const needs =
			reason === 'notNumber'
				? 'a number'
				: reason === 'notDate'
					? 'a date (ISO 8601 such as 2024-05-01 or 2024-05-01T10:00:00Z, epoch milliseconds, or a Date)'
					: reason === 'notText'
						? 'text, a number or true/false'
						: 'a value';
		const got = reason === 'missing' ? 'it is missing' : `it holds ${describeValue(value)}`;
		const code =
			reason === 'missing'
				? 'missing_field'
				: reason === 'notNumber'
					? 'not_a_number'
					: reason === 'notDate'
						? 'not_a_date'
						: 'not_text';
		throw new EngineError(
			code,
			`${describeLead(leadLabel)}: ${rule.where} needs ${needs} in field "${field}", but ${got}.`,
			{
				field,
				details: { lead: leadLabel, rule: rule.index + 1, ruleName: rule.label, reason },
			},
		);
	}
}
