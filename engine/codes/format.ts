import { EngineError } from '../shared/errors';
import { type Alphabet, DEFAULT_ALPHABET, parseAlphabet, SEPARATORS } from './alphabet';
import { Blocklist, createBlocklist, letterClass } from './blocklist';
import { type CheckScheme, createCheckScheme } from './checkCharacter';

/** How codes look. Every field is optional; the defaults give `K7QM-3XH9`-like codes. */
export interface CodeFormatOptions {
	/** Symbols codes are drawn from; letters count without case. Default: no 0/O, 1/I/L. */
	alphabet?: string;
	/** Number of code characters (the check character included) when no pattern is given. Default 8. */
	length?: number;
	/** Layout with `X` for each code character and separators from `- _ . /` or space, e.g. `XXXX-XXXX`. */
	pattern?: string;
	prefix?: string;
	suffix?: string;
	case?: 'upper' | 'lower';
	/** Whether the last code character is a check character. Default true. */
	checkCharacter?: boolean;
	/** Whether to refuse codes that spell a blocked word. Default true. */
	blockRudeWords?: boolean;
	/** More words to block, on top of the built-in list. */
	extraBlockedWords?: string[];
}

export interface CodeFormat {
	alphabet: Alphabet;
	/** Code characters per code (check character included). */
	slots: number;
	/** Random characters per code. */
	randomSlots: number;
	/** The layout: for each position, -1 for a code character or the separator's char code. */
	layout: Int32Array;
	prefix: string;
	suffix: string;
	lowerCase: boolean;
	check?: CheckScheme;
	blocklist?: Blocklist;
	/** Letter class of each alphabet value, for the blocklist. */
	letterClassOfValue: Uint8Array;
	/** Upper bound on the number of distinct codes (before the blocklist removes a few). */
	space: number;
	/** Bits of entropy in one code. */
	entropyBits: number;
	/** The options, normalized, as they should be stored with a program. */
	options: Required<Omit<CodeFormatOptions, 'pattern' | 'extraBlockedWords'>> & {
		pattern: string;
		extraBlockedWords: string[];
	};
}

const MAX_SLOTS = 64;
const MAX_AFFIX = 32;
export const DEFAULT_LENGTH = 8;

function affix(value: unknown, field: string): string {
	if (value === undefined || value === null) return '';
	if (typeof value !== 'string')
		throw new EngineError('invalid_format', `The ${field} must be text`, { field });
	if (value.length > MAX_AFFIX) {
		throw new EngineError(
			'invalid_format',
			`The ${field} may have at most ${MAX_AFFIX} characters, got ${value.length}`,
			{ field },
		);
	}
	if (/[^\x21-\x7e]/.test(value)) {
		throw new EngineError(
			'invalid_format',
			`The ${field} may only hold printable ASCII characters without spaces`,
			{ field },
		);
	}
	return value;
}

export function parseCodeFormat(options: CodeFormatOptions = {}): CodeFormat {
	const alphabet = parseAlphabet(options.alphabet ?? DEFAULT_ALPHABET);
	const hasCheck = options.checkCharacter ?? true;

	let pattern: string;
	if (options.pattern !== undefined && options.pattern !== null && options.pattern !== '') {
		if (typeof options.pattern !== 'string') {
			throw new EngineError('invalid_pattern', 'The pattern must be text such as XXXX-XXXX', {
				field: 'pattern',
			});
		}
		pattern = options.pattern.toUpperCase();
		for (const ch of pattern) {
			if (ch !== 'X' && !SEPARATORS.includes(ch)) {
				throw new EngineError(
					'invalid_pattern',
					`The pattern may only hold X for a code character and the separators "-", "_", ".", "/" or space; "${ch}" is not allowed (put fixed text in Prefix or Suffix)`,
					{ field: 'pattern' },
				);
			}
		}
		if (!pattern.includes('X')) {
			throw new EngineError(
				'invalid_pattern',
				`The pattern "${options.pattern}" has no X slots; write one X per code character, e.g. XXXX-XXXX`,
				{
					field: 'pattern',
				},
			);
		}
	} else {
		const length = options.length ?? DEFAULT_LENGTH;
		if (
			typeof length !== 'number' ||
			!Number.isInteger(length) ||
			length < 1 ||
			length > MAX_SLOTS
		) {
			throw new EngineError(
				'invalid_length',
				`The length must be a whole number from 1 to ${MAX_SLOTS}, got ${String(length)}`,
				{
					field: 'length',
				},
			);
		}
		pattern = 'X'.repeat(length);
	}

	const layout = Int32Array.from([...pattern].map((ch) => (ch === 'X' ? -1 : ch.charCodeAt(0))));
	const slots = layout.filter((v) => v === -1).length;
	if (slots > MAX_SLOTS) {
		throw new EngineError(
			'invalid_pattern',
			`The pattern may have at most ${MAX_SLOTS} X slots, got ${slots}`,
			{ field: 'pattern' },
		);
	}
	const randomSlots = hasCheck ? slots - 1 : slots;
	if (randomSlots < 1) {
		throw new EngineError(
			'invalid_length',
			'A code with a check character needs at least 2 characters: one random and the check character',
			{ field: options.pattern ? 'pattern' : 'length' },
		);
	}

	const check = hasCheck ? createCheckScheme(alphabet.size, slots) : undefined;
	// With a non-prime alphabet a share of check values falls outside it and those codes are not issued.
	const checkShare = check ? alphabet.size / check.prime : 1;
	const space = Math.floor(Math.pow(alphabet.size, randomSlots) * checkShare);
	const entropyBits = randomSlots * Math.log2(alphabet.size) + Math.log2(checkShare);

	const blockRudeWords = options.blockRudeWords ?? true;
	const extraBlockedWords = (options.extraBlockedWords ?? [])
		.filter((w) => typeof w === 'string' && w.trim() !== '')
		.map((w) => w.trim());
	const lowerCase = (options.case ?? 'upper') === 'lower';
	if (options.case !== undefined && options.case !== 'upper' && options.case !== 'lower') {
		throw new EngineError(
			'invalid_case',
			`The case must be "upper" or "lower", got "${String(options.case)}"`,
			{ field: 'case' },
		);
	}

	return {
		alphabet,
		slots,
		randomSlots,
		layout,
		prefix: affix(options.prefix, 'prefix'),
		suffix: affix(options.suffix, 'suffix'),
		lowerCase,
		check,
		blocklist: blockRudeWords ? createBlocklist(extraBlockedWords) : undefined,
		letterClassOfValue: Uint8Array.from([...alphabet.symbols].map(letterClass)),
		space,
		entropyBits,
		options: {
			alphabet: alphabet.symbols,
			length: slots,
			pattern,
			prefix: affix(options.prefix, 'prefix'),
			suffix: affix(options.suffix, 'suffix'),
			case: lowerCase ? 'lower' : 'upper',
			checkCharacter: hasCheck,
			blockRudeWords,
			extraBlockedWords,
		},
	};
}

/**
 * Probability that `count` codes drawn at random from `space` contain at least one repeat
 * (birthday bound, 1 − e^(−n(n−1)/2N)); what a store-side uniqueness check has to catch.
 */
export function collisionProbability(count: number, space: number): number {
	if (count <= 1) return 0;
	if (count > space) return 1;
	return -Math.expm1((-count * (count - 1)) / (2 * space));
}
