import { EngineError } from '../shared/errors';
import { SEPARATORS } from './alphabet';
import { checkHolds } from './checkCharacter';
import type { CodeFormat } from './format';

export type CodeProblem =
	| 'empty'
	| 'not_text'
	| 'too_long'
	| 'invalid_character'
	| 'wrong_length'
	| 'check_character_mismatch';

export interface NormalizedCode {
	/** The code as the store keeps it and as it should be shown, or null when the input is no code. */
	canonical: string | null;
	/** Whether the input is a well-formed code of this format (check character included). */
	valid: boolean;
	/** Whether the check character holds; null when the format has none or the input is malformed. */
	checkCharacterValid: boolean | null;
	problem?: CodeProblem;
	/** Human-readable reason when not valid. */
	reason?: string;
}

const MAX_INPUT = 256;
const SEPARATOR_OR_SPACE = new RegExp(
	`[${SEPARATORS.replace('-', '\\-').replace('.', '\\.').replace('/', '\\/')}\\s]`,
	'g',
);

function stripAffix(text: string, affix: string, atStart: boolean): string {
	if (affix === '') return text;
	const a = affix.toUpperCase().replace(SEPARATOR_OR_SPACE, '');
	if (a === '') return text;
	if (atStart && text.startsWith(a)) return text.slice(a.length);
	if (!atStart && text.endsWith(a)) return text.slice(0, text.length - a.length);
	return text;
}

/**
 * Reads a code as people type it: any case, spaces and dashes anywhere, with or without the
 * prefix and suffix, look-alike characters mapped where only one reading fits the alphabet.
 */
export function normalizeCode(format: CodeFormat, input: unknown): NormalizedCode {
	if (typeof input === 'number' && Number.isFinite(input)) input = String(input);
	if (typeof input !== 'string') {
		return invalid(
			'not_text',
			`A code must be text, got ${input === null ? 'null' : typeof input}`,
		);
	}
	if (input.length > MAX_INPUT)
		return invalid(
			'too_long',
			`A code has at most ${MAX_INPUT} characters; this input has ${input.length}`,
		);
	let text = input.toUpperCase().replace(SEPARATOR_OR_SPACE, '');
	if (text === '') return invalid('empty', 'The code is empty');
	text = stripAffix(text, format.prefix, true);
	text = stripAffix(text, format.suffix, false);

	const { alphabet, slots } = format;
	const values = new Array<number>(text.length);
	for (let i = 0; i < text.length; i++) {
		const code = text.charCodeAt(i);
		const value = code < 128 ? alphabet.lenientValueOf[code] : -1;
		if (value === -1) {
			return invalid(
				'invalid_character',
				`"${text[i]}" (character ${i + 1}) is not used in these codes; codes use only ${alphabet.symbols}`,
			);
		}
		values[i] = value;
	}
	if (values.length !== slots) {
		return invalid(
			'wrong_length',
			`These codes have ${slots} characters (without separators, prefix and suffix); this one has ${values.length}`,
		);
	}
	const canonical = formatValues(format, values);
	if (format.check) {
		const holds = checkHolds(format.check, values);
		if (!holds) {
			return {
				canonical,
				valid: false,
				checkCharacterValid: false,
				problem: 'check_character_mismatch',
				reason:
					'The check character does not match: a character was probably mistyped or two were swapped',
			};
		}
		return { canonical, valid: true, checkCharacterValid: true };
	}
	return { canonical, valid: true, checkCharacterValid: null };
}

/** Canonical code text for alphabet values laid out in the format's pattern. */
export function formatValues(format: CodeFormat, values: ArrayLike<number>): string {
	const symbols = format.lowerCase
		? format.alphabet.symbols.toLowerCase()
		: format.alphabet.symbols;
	let out = format.prefix;
	let slot = 0;
	for (const position of format.layout)
		out += position === -1 ? symbols[values[slot++]] : String.fromCharCode(position);
	return out + format.suffix;
}

/** The canonical form or an EngineError naming the field: for operations that need a valid code. */
export function requireCode(format: CodeFormat, input: unknown, field = 'code'): string {
	const result = normalizeCode(format, input);
	if (!result.valid || result.canonical === null) {
		throw new EngineError(
			result.problem ?? 'invalid_code',
			`The ${field} is not a valid code: ${result.reason}`,
			{ field },
		);
	}
	return result.canonical;
}

function invalid(problem: CodeProblem, reason: string): NormalizedCode {
	return { canonical: null, valid: false, checkCharacterValid: null, problem, reason };
}
