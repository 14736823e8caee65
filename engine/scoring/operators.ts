/* The operators: each rule's test is built once into a Matcher that returns an outcome code (NO, YES or a bad-input reason). */
import { RE2JS } from 're2js';
import { EngineError } from '../shared/errors';
import { numberOrNaN } from '../shared/guards';
import { isBlank, isMissing, toNumber, toText } from './fields';
import {
	MISSING,
	NO,
	NOT_NUMBER,
	NOT_TEXT,
	RULE_OPERATORS,
	YES,
	type Matcher,
	type ScoringRule,
	type TextCache,
} from './ruleTypes';

export const UNCACHED_TEXT: TextCache = { lowered: (_slot, text) => text.toLowerCase() };

export function numberParam(
	value: unknown,
	param: string,
	where: string,
	operator: string,
): number {
	const n = numberOrNaN(value);
	if (!Number.isFinite(n)) {
		throw new EngineError(
			'invalid_rule',
			`${where}: operator "${operator}" needs a number in "${param}"; got ${JSON.stringify(value) ?? 'nothing'}.`,
			{ field: param },
		);
	}
	return n;
}

/** Why a value is not a number: missing (absent, null, blank text, as CSV imports leave) or not numeric. */
export function notNumber(value: unknown): number {
	return isMissing(value) || (typeof value === 'string' && value.trim() === '')
		? MISSING
		: NOT_NUMBER;
}

export function buildMatcher(rule: ScoringRule, where: string): Matcher {
	const operator = rule.operator;
	const caseSensitive = rule.caseSensitive === true;
	if (rule.caseSensitive !== undefined && typeof rule.caseSensitive !== 'boolean') {
		throw new EngineError('invalid_rule', `${where}: "caseSensitive" must be true or false.`, {
			field: 'caseSensitive',
		});
	}

	const textTarget = (param: 'value'): string => {
		const v = rule[param];
		if (typeof v === 'string') return caseSensitive ? v : v.toLowerCase();
		if (typeof v === 'number' && Number.isFinite(v)) return String(v);
		if (typeof v === 'boolean') return String(v);
		throw new EngineError(
			'invalid_rule',
			`${where}: operator "${operator}" needs a text, number or true/false "value"; got ${JSON.stringify(v) ?? 'nothing'}.`,
			{ field: param },
		);
	};
	// Text of a lead value as the rule compares it: lowercased unless case-sensitive.
	const compareText = (value: unknown, cache: TextCache, slot: number): string | null => {
		const text = toText(value);
		if (text === null || caseSensitive) return text;
		return cache.lowered(slot, text);
	};

	switch (operator) {
		case 'equals':
		case 'notEquals': {
			const negate = operator === 'notEquals';
			const target = rule.value;
			let test: Matcher;
			if (typeof target === 'number') {
				if (!Number.isFinite(target)) numberParam(target, 'value', where, operator);
				test = (value) => {
					const n = toNumber(value);
					if (n !== n) return notNumber(value);
					return n === target ? YES : NO;
				};
			} else if (typeof target === 'boolean') {
				const wanted = String(target);
				test = (value, cache, slot) => {
					if (isMissing(value)) return MISSING;
					if (typeof value === 'boolean') return value === target ? YES : NO;
					const text = toText(value);
					if (text === null) return NOT_TEXT;
					return cache.lowered(slot, text).trim() === wanted ? YES : NO;
				};
			} else {
				const wanted = textTarget('value');
				test = (value, cache, slot) => {
					if (isMissing(value)) return MISSING;
					const text = compareText(value, cache, slot);
					if (text === null) return NOT_TEXT;
					return text === wanted ? YES : NO;
				};
			}
			if (!negate) return test;
			return (value, cache, slot) => {
				const outcome = test(value, cache, slot);
				return outcome === YES ? NO : outcome === NO ? YES : outcome;
			};
		}
		case 'contains': {
			const wanted = textTarget('value');
			return (value, cache, slot) => {
				if (isMissing(value)) return MISSING;
				// On a list, contains means one of its items equals the value (tags contains "vip").
				if (Array.isArray(value)) {
					for (let i = 0; i < value.length; i++) {
						const item = toText(value[i]);
						if (item !== null && (caseSensitive ? item : item.toLowerCase()) === wanted) return YES;
					}
					return NO;
				}
				const text = compareText(value, cache, slot);
				if (text === null) return NOT_TEXT;
				return text.includes(wanted) ? YES : NO;
			};
		}
		case 'startsWith': {
			const wanted = textTarget('value');
			return (value, cache, slot) => {
				if (isMissing(value)) return MISSING;
				const text = compareText(value, cache, slot);
				if (text === null) return NOT_TEXT;
				return text.startsWith(wanted) ? YES : NO;
			};
		}
		case 'regex': {
			if (typeof rule.pattern !== 'string' || rule.pattern === '') {
				throw new EngineError(
					'invalid_regex',
					`${where}: operator "regex" needs a "pattern", e.g. "@(gmail|yahoo)\\.com$".`,
					{
						field: 'pattern',
					},
				);
			}
			const flags = rule.flags ?? '';
			if (typeof flags !== 'string' || /[gy]/.test(flags)) {
				throw new EngineError(
					'invalid_regex',
					`${where}: regex flags may use i, m, s and u; g and y are not allowed because they make each test depend on the previous one.`,
					{ field: 'flags' },
				);
			}
			// RE2 semantics (re2js): matching time grows linearly with the text, whatever the pattern, so a
			// pattern such as ^(a+)+$ cannot stall the node. Backreferences and lookarounds, which need
			// backtracking, are refused with the reason.
			let re: RE2JS;
			try {
				let bits = 0;
				if (!caseSensitive || flags.includes('i')) bits |= RE2JS.CASE_INSENSITIVE;
				if (flags.includes('m')) bits |= RE2JS.MULTILINE;
				if (flags.includes('s')) bits |= RE2JS.DOTALL;
				if (/[^imsu]/.test(flags)) throw new Error(`unknown flag in "${flags}"`);
				re = RE2JS.compile(RE2JS.translateRegExp(rule.pattern), bits);
			} catch (error) {
				const why = (error as Error).message;
				const hint = /\\[1-9]|\(\?<?[=!]/.test(rule.pattern)
					? ' Backreferences and lookarounds are not supported: regex rules run in linear time (RE2 syntax).'
					: '';
				throw new EngineError(
					'invalid_regex',
					`${where}: the regex pattern /${rule.pattern}/${flags} is not valid: ${why}.${hint}`,
					{
						field: 'pattern',
						cause: error,
					},
				);
			}
			return (value) => {
				if (isMissing(value)) return MISSING;
				const text = toText(value);
				if (text === null) return NOT_TEXT;
				return re.test(text) ? YES : NO;
			};
		}
		case 'inList': {
			let list: readonly unknown[];
			if (typeof rule.values === 'string')
				list = rule.values
					.split(',')
					.map((v) => v.trim())
					.filter((v) => v !== '');
			else if (Array.isArray(rule.values)) list = rule.values;
			else list = [];
			if (list.length === 0) {
				throw new EngineError(
					'invalid_rule',
					`${where}: operator "inList" needs "values": a list or comma-separated text of accepted values.`,
					{
						field: 'values',
					},
				);
			}
			const accepted = new Set<string>();
			for (const item of list) {
				const text = toText(item);
				if (text === null) {
					throw new EngineError(
						'invalid_rule',
						`${where}: "values" may hold only text, numbers or true/false; got ${JSON.stringify(item)}.`,
						{
							field: 'values',
						},
					);
				}
				accepted.add(caseSensitive ? text : text.toLowerCase());
			}
			return (value, cache, slot) => {
				if (isMissing(value)) return MISSING;
				// A list value matches when any of its items is accepted.
				if (Array.isArray(value)) {
					for (let i = 0; i < value.length; i++) {
						const item = toText(value[i]);
						if (item !== null && accepted.has(caseSensitive ? item : item.toLowerCase()))
							return YES;
					}
					return NO;
				}
				const text = compareText(value, cache, slot);
				if (text === null) return NOT_TEXT;
				return accepted.has(text) ? YES : NO;
			};
		}
		case 'greaterThan':
		case 'lessThan': {
			const target = numberParam(rule.value, 'value', where, operator);
			const greater = operator === 'greaterThan';
			return (value) => {
				const n = toNumber(value);
				if (n !== n) return notNumber(value);
				return (greater ? n > target : n < target) ? YES : NO;
			};
		}
		case 'between': {
			const min = numberParam(rule.min, 'min', where, operator);
			const max = numberParam(rule.max, 'max', where, operator);
			if (min > max) {
				throw new EngineError(
					'invalid_rule',
					`${where}: "between" needs min <= max; got min ${min} and max ${max}.`,
					{
						field: 'min',
						details: { min, max },
					},
				);
			}
			return (value) => {
				const n = toNumber(value);
				if (n !== n) return notNumber(value);
				return n >= min && n <= max ? YES : NO;
			};
		}
		case 'exists':
			return (value) => (isBlank(value) ? NO : YES);
		case 'isEmpty':
			return (value) => (isBlank(value) ? YES : NO);
		case 'withinLastDays':
			// Dates go through the per-lead date cache in the scorer, never through this matcher.
			return () => NO;
		default:
			throw new EngineError(
				'unknown_operator',
				`${where}: operator ${JSON.stringify(operator)} is not known; use one of ${RULE_OPERATORS.join(', ')}.`,
				{ field: 'operator' },
			);
	}
}
