import { EngineError } from '../shared/errors';

/** Digits and capitals without the characters people confuse: no 0/O, no 1/I/L. 31 symbols, a prime. */
export const DEFAULT_ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';

/** Characters that may separate groups in a pattern and that people type between groups. */
export const SEPARATORS = '-_ ./';

/** Look-alike groups; a typed character outside the alphabet maps to the one member that is in it. */
const CONFUSABLE_GROUPS = ['0O', '1IL', '2Z', '5S', '8B'];

export interface Alphabet {
	/** Canonical (upper-case) symbols in value order. */
	symbols: string;
	size: number;
	/** Character code (upper-case) → value, or -1. */
	valueOf: Int16Array;
	/** Typed character code (upper-case) → value, after mapping confusables where unambiguous, or -1. */
	lenientValueOf: Int16Array;
}

export function parseAlphabet(alphabet: unknown = DEFAULT_ALPHABET, field = 'alphabet'): Alphabet {
	if (typeof alphabet !== 'string') {
		throw new EngineError('invalid_alphabet', `The ${field} must be text, got ${typeof alphabet}`, {
			field,
		});
	}
	const symbols = alphabet.toUpperCase();
	if (symbols.length < 2) {
		throw new EngineError(
			'invalid_alphabet',
			`The ${field} needs at least 2 different characters, got ${symbols.length}`,
			{ field },
		);
	}
	const valueOf = new Int16Array(128).fill(-1);
	for (let i = 0; i < symbols.length; i++) {
		const code = symbols.charCodeAt(i);
		const ch = symbols[i];
		if (code <= 32 || code >= 127 || SEPARATORS.includes(ch)) {
			throw new EngineError(
				'invalid_alphabet',
				`The ${field} may only hold printable ASCII letters, digits and symbols other than the separators "${SEPARATORS.trim()}" and space; "${ch}" at position ${i + 1} is not allowed`,
				{ field },
			);
		}
		if (valueOf[code] !== -1) {
			throw new EngineError(
				'invalid_alphabet',
				`The ${field} has "${ch}" more than once (letters count without case); each character may appear once`,
				{ field },
			);
		}
		valueOf[code] = i;
	}
	const lenientValueOf = Int16Array.from(valueOf);
	for (const group of CONFUSABLE_GROUPS) {
		const inAlphabet = [...group].filter((c) => valueOf[c.charCodeAt(0)] !== -1);
		if (inAlphabet.length !== 1) continue; // none present, or ambiguous
		const target = valueOf[inAlphabet[0].charCodeAt(0)];
		for (const c of group)
			if (valueOf[c.charCodeAt(0)] === -1) lenientValueOf[c.charCodeAt(0)] = target;
	}
	return { symbols, size: symbols.length, valueOf, lenientValueOf };
}
