/* Words from a public caller are data, never message content: a sign-up's `name` goes into an
 * outgoing email or text only when it is plainly a name. Anything that could carry a link, a phone
 * number, an address or markup (the text of a spam or SMS-pumping message) is left out instead. */

/** Longest name placed into a message. */
export const MAX_GREETING_NAME = 40;

/** Letters (any script), combining marks, spaces, apostrophes, hyphens and dots: nothing else. */
const NAME_CHARACTERS = /^[\p{L}\p{M}][\p{L}\p{M} '’.-]*$/u;
/** A dot followed by two or more letters reads as a domain ("win.example", "bit.ly"). */
const DOMAIN_LIKE = /\.\p{L}{2,}/u;

/**
 * The name as a greeting may use it, or null when it must not go into a message: longer than 40
 * characters, or holding digits (phone numbers, amounts), a URL or domain, an @, markup or any
 * other symbol. Spaces are collapsed; nothing else is changed.
 */
export function greetingName(name: unknown): string | null {
	if (typeof name !== 'string') return null;
	const text = name.normalize('NFC').replace(/\s+/gu, ' ').trim();
	if (text === '' || [...text].length > MAX_GREETING_NAME) return null;
	if (!NAME_CHARACTERS.test(text) || DOMAIN_LIKE.test(text)) return null;
	return text;
}
