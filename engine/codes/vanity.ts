import { SEPARATORS } from './alphabet';
import type { CodeFormat } from './format';

export interface VanityCheck {
	/** The code as it would be stored (upper or lower case as the format says), or null. */
	canonical: string | null;
	valid: boolean;
	/** Every rule the requested code breaks, in plain words. */
	reasons: string[];
}

export const VANITY_MIN_LENGTH = 4;
export const VANITY_MAX_LENGTH = 32;

/**
 * A code someone picks themselves (e.g. "ANNA2026"). It keeps the format's characters and
 * blocklist but not its length or check character: a vanity code is looked up exactly, not typed
 * from a random string.
 */
export function checkVanityCode(format: CodeFormat, input: unknown): VanityCheck {
	if (typeof input !== 'string')
		return {
			canonical: null,
			valid: false,
			reasons: [`A vanity code must be text, got ${typeof input}`],
		};
	const text = input.trim().toUpperCase();
	const reasons: string[] = [];
	const body = [...text].filter((ch) => !SEPARATORS.includes(ch));
	if (body.length < VANITY_MIN_LENGTH || body.length > VANITY_MAX_LENGTH) {
		reasons.push(
			`A vanity code needs ${VANITY_MIN_LENGTH} to ${VANITY_MAX_LENGTH} characters (separators not counted); this one has ${body.length}`,
		);
	}
	const bad = [
		...new Set(
			body.filter(
				(ch) => ch.charCodeAt(0) > 127 || format.alphabet.valueOf[ch.charCodeAt(0)] === -1,
			),
		),
	];
	if (bad.length > 0)
		reasons.push(
			`These characters are not allowed: ${bad.map((c) => `"${c}"`).join(', ')}; use only ${format.alphabet.symbols}`,
		);
	if (/^[-_ ./]|[-_ ./]$/.test(text) || /[-_ ./]{2}/.test(text))
		reasons.push('Separators may only stand singly between characters');
	const blocked = format.blocklist?.contains(body.join(''));
	if (blocked) reasons.push(`The code contains a blocked word (${blocked})`);
	const canonical = reasons.length === 0 ? (format.lowerCase ? text.toLowerCase() : text) : null;
	return { canonical, valid: reasons.length === 0, reasons };
}
