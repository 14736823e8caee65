/* The rule form's mapping: form values → ScoringConfig → a compiled rule set, once per distinct rule set. */
import type { IDataObject, IExecuteFunctions } from 'n8n-workflow';
import { EngineError } from '../../../engine/shared/errors';
import {
	compileRuleSet,
	type BadInputPolicy,
	type DecayConfig,
	type ExplainLevel,
	type RuleOperator,
	type RuleScorer,
	type ScoringConfig,
	type ScoringGroup,
	type ScoringRule,
	type StageConfig,
} from '../../../engine/scoring';
import { parameterReader } from '../../shared/parameters';
import { CASE_OPERATORS } from './ruleSet.description';

/** One rule as the form stores it. */
export interface RuleEntry {
	name?: string;
	group?: string;
	customGroup?: string;
	field?: string;
	operator?: string;
	value?: string | number | boolean;
	number?: number;
	values?: string;
	pattern?: string;
	min?: number;
	max?: number;
	days?: number;
	caseSensitive?: boolean;
	points?: number | string;
	decay?: string;
	decayDateField?: string;
	windowDays?: number;
	percentPerPeriod?: number;
	periodDays?: number;
	stepwise?: boolean;
	halfLifeDays?: number;
	onBadInput?: string;
}

interface GroupEntry {
	name?: string;
	dimension?: string;
	min?: string | number;
	max?: string | number;
}

/** The form's parameters, as read from the node. */
export interface RuleSetParameters {
	rules?: { rule?: RuleEntry[] };
	groups?: { group?: GroupEntry[] };
	total?: { floor?: number; cap?: number; normalize?: boolean };
	fitGrades?: ScoringConfig['fitGrades'];
	engagementLevels?: ScoringConfig['engagementLevels'];
	stages?: { stage?: StageConfig[] };
}

function numeric(value: unknown): unknown {
	// Expressions may hand numbers over as text; the engine names anything that still is not one.
	return typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))
		? Number(value)
		: value;
}

function decayOf(entry: RuleEntry): DecayConfig | undefined {
	const dateField = entry.decayDateField?.trim() || undefined;
	switch (entry.decay ?? 'none') {
		case 'window':
			return { kind: 'window', dateField, days: entry.windowDays as number };
		case 'linear':
			return {
				kind: 'linear',
				dateField,
				percentPerPeriod: entry.percentPerPeriod as number,
				periodDays: entry.periodDays as number,
				stepwise: entry.stepwise ?? true,
			};
		case 'exponential':
			return { kind: 'exponential', dateField, halfLifeDays: entry.halfLifeDays as number };
		case 'none':
			return undefined;
		default:
			// Not one of the form's kinds (a hand-edited workflow): the engine names it and lists the kinds.
			return { kind: entry.decay } as DecayConfig;
	}
}

/** A rule from the form, with only the inputs its operator uses. */
export function ruleFromEntry(entry: RuleEntry): ScoringRule {
	const operator = (entry.operator ?? 'equals') as RuleOperator;
	const rule: ScoringRule = {
		group: entry.group === 'custom' ? (entry.customGroup ?? '') : (entry.group ?? 'fit'),
		field: entry.field ?? '',
		operator,
		points: numeric(entry.points ?? 10) as number,
		onBadInput: (entry.onBadInput ?? 'skip') as BadInputPolicy,
	};
	const name = entry.name?.trim();
	if (name) rule.name = name;
	if (CASE_OPERATORS.includes(operator)) rule.caseSensitive = entry.caseSensitive ?? false;
	switch (operator) {
		case 'equals':
		case 'notEquals':
		case 'contains':
		case 'startsWith':
			rule.value = entry.value ?? '';
			break;
		case 'greaterThan':
		case 'lessThan':
			rule.value = numeric(entry.number) as number;
			break;
		case 'between':
			rule.min = numeric(entry.min) as number;
			rule.max = numeric(entry.max) as number;
			break;
		case 'inList':
			rule.values = entry.values ?? '';
			break;
		case 'regex':
			rule.pattern = entry.pattern ?? '';
			break;
		case 'withinLastDays':
			rule.days = numeric(entry.days) as number;
			break;
		case 'exists':
		case 'isEmpty':
			break; // nothing to compare with
	}
	const decay = decayOf(entry);
	if (decay) rule.decay = decay;
	return rule;
}

/** The engine's rule-set config from the form. */
export function scoringConfigFrom(
	parameters: RuleSetParameters,
	explain: ExplainLevel,
): ScoringConfig {
	const rules = (parameters.rules?.rule ?? []).map(ruleFromEntry);
	if (rules.length === 0) {
		throw new EngineError(
			'invalid_rule',
			'Add at least one rule under "Rules": a field, an operator and the points it is worth.',
			{
				field: 'rules',
			},
		);
	}
	const groups: ScoringGroup[] = (parameters.groups?.group ?? []).map((g) => ({
		name: g.name ?? '',
		dimension:
			g.dimension === 'auto' || g.dimension === undefined
				? undefined
				: (g.dimension as ScoringGroup['dimension']),
		min: g.min as number | undefined,
		max: g.max as number | undefined,
	}));
	const stages = parameters.stages?.stage ?? [];
	return {
		rules,
		groups,
		total: {
			floor: parameters.total?.floor,
			cap: parameters.total?.cap,
			normalize: parameters.total?.normalize ?? false,
		},
		fitGrades: parameters.fitGrades,
		engagementLevels: parameters.engagementLevels,
		stages: stages.length === 0 ? undefined : stages,
		explain,
	};
}

const PARTS: ReadonlyArray<[keyof RuleSetParameters, IDataObject]> = [
	['rules', {}],
	['groups', {}],
	['total', {}],
	['fitGrades', {}],
	['engagementLevels', {}],
	['stages', {}],
];

/**
 * The compiled rule set for an item. Compiled once per execution when no part of the form holds
 * an expression (the common case, and why scoring 50,000 leads is fast); with expressions, once
 * per distinct rule set. A broken rule set fails every item with the same message.
 */
export function ruleScorerReader(
	ctx: IExecuteFunctions,
	explain: ExplainLevel,
): (itemIndex: number) => RuleScorer {
	const readers = PARTS.map(([name, fallback]) => parameterReader<unknown>(ctx, name, fallback));
	type Compiled = { values: unknown[]; scorer?: RuleScorer; error?: unknown };
	const byKey = new Map<string, Compiled>();
	const current = new Array<unknown>(readers.length);
	let last: Compiled | undefined;
	return (itemIndex) => {
		// Unchanged parameter objects (no expressions) mean the same rule set: no key, no allocation.
		let changed = last === undefined;
		for (let i = 0; i < readers.length; i++) {
			current[i] = readers[i](itemIndex);
			if (!changed && current[i] !== last?.values[i]) changed = true;
		}
		if (changed) {
			const values = current.slice();
			const key = JSON.stringify(values);
			let fresh = byKey.get(key);
			if (fresh === undefined) {
				fresh = { values };
				const parameters = Object.fromEntries(
					PARTS.map(([name], i) => [name, values[i]]),
				) as RuleSetParameters;
				try {
					fresh.scorer = compileRuleSet(scoringConfigFrom(parameters, explain));
				} catch (error) {
					fresh.error = error;
				}
				if (byKey.size > 1000) byKey.clear();
				byKey.set(key, fresh);
			}
			last = fresh;
		}
		const compiled = last as Compiled;
		if (compiled.error !== undefined) throw compiled.error;
		return compiled.scorer as RuleScorer;
	};
}
