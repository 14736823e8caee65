import { domainToASCII, domainToUnicode } from 'node:url';

import { EngineError } from './errors';
import { describe } from './describe';

/**
 * Email addresses: the one rule for the whole engine. Referrals (sign-ups, lookups, fraud checks),
 * the ledger (participants, owed messages, suppressions, the message log), messaging (From, To,
 * Reply-To, unsubscribe mailbox) and webhooks all accept and refuse the same addresses, and store
 * the same form.
 *
 * Valid: a practical subset of RFC 5321/5322 with RFC 6531 (internationalised) addresses:
 * - local part: dot-atom only: letters of any script, digits and ! # $ % & ' * + / = ? ^ _ ` { | } ~ -,
 *   dots neither first, last nor doubled, at most 64 bytes (UTF-8); quoted local parts
 *   ("john doe"@…) are refused;
 * - domain: a DNS host name, internationalised names allowed. Its ASCII form (IDNA/UTS #46 through
 *   node's `url.domainToASCII`) has at least two labels of letters, digits and inner hyphens, each
 *   at most 63 characters, and ends in a top-level label of at least two letters (or an `xn--`
 *   label); IP-address domains ([127.0.0.1], 10.0.0.1), `localhost` and one-letter endings are refused;
 * - at most 254 bytes in the stored form.
 *
 * The stored (canonical) form: trimmed; the local part in Unicode NFC, lower-cased (nearly every
 * provider treats it case-insensitively); the domain in its ASCII form, lower-case. So
 * `Ann@Bücher.de`, `ann@BÜCHER.DE` and `ann@xn--bcher-kva.de` are one address, stored as
 * `ann@xn--bcher-kva.de` (the form DNS and every mail server accept).
 *
 * Ledgers written before this rule stored the address lower-cased as typed, so an internationalised
 * domain may be stored in its Unicode spelling; `emailSpellings` lists both spellings so that
 * lookups still find those participants, suppressions and messages.
 */

const LOCAL_PART =
	/^[\p{L}\p{M}\p{N}!#$%&'*+/=?^_`{|}~-]+(?:\.[\p{L}\p{M}\p{N}!#$%&'*+/=?^_`{|}~-]+)*$/u;
const LDH_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const TOP_LEVEL = /^(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$/;
// Whitespace and control characters (C0, DEL, C1) anywhere in the address.
// eslint-disable-next-line no-control-regex
const SPACE_OR_CONTROL = /[\s\u0000-\u001f\u007f-\u009f]/;

const bytes = (text: string): number => Buffer.byteLength(text, 'utf8');

type Parsed = { stored: string; local: string; domain: string } | { problem: string };

/**
 * The last addresses parsed: one sign-up checks its address several times (identity, the ledger's
 * input, the fraud checks' mailbox and domain), and the parse is a pure function of the text.
 * Results are frozen and never changed by a caller. Bounded: emptied when full.
 */
const PARSED = new Map<string, Parsed>();
const PARSED_MAX = 1024;

function parse(value: string): Parsed {
	let parsed = PARSED.get(value);
	if (parsed === undefined) {
		parsed = Object.freeze(parseUncached(value));
		if (PARSED.size >= PARSED_MAX) PARSED.clear();
		PARSED.set(value, parsed);
	}
	return parsed;
}

function parseUncached(value: string): Parsed {
	const email = value.trim();
	if (email === '') return { problem: 'it is empty; give an address such as name@example.com' };
	if (SPACE_OR_CONTROL.test(email))
		return { problem: 'it may not contain spaces, tabs or line breaks' };
	const at = email.lastIndexOf('@');
	if (at <= 0 || at === email.length - 1)
		return { problem: 'it needs one "@" with a name before it and a domain after it' };
	const local = email.slice(0, at).normalize('NFC').toLowerCase();
	const typedDomain = email.slice(at + 1);
	if (local.includes('@')) return { problem: 'it has more than one "@"' };
	if (bytes(local) > 64) return { problem: 'the part before "@" is longer than 64 characters' };
	if (!LOCAL_PART.test(local)) {
		return {
			problem:
				'the part before "@" may only hold letters, digits, single inner dots and ! # $ % & \' * + / = ? ^ _ ` { | } ~ -',
		};
	}
	if (typedDomain.startsWith('['))
		return { problem: 'the domain must be a name like example.com, not an IP address' };
	const domain = domainToASCII(typedDomain);
	if (domain === '')
		return {
			problem:
				'the domain is not a valid domain name (letters, digits and inner hyphens between dots, like example.com or bücher.de)',
		};
	if (bytes(domain) > 253) return { problem: 'the domain is longer than 253 characters' };
	const labels = domain.split('.');
	if (labels.length < 2) return { problem: 'the domain needs a dot, like example.com' };
	if (!labels.every((l) => LDH_LABEL.test(l))) {
		return {
			problem:
				'the domain may only hold letters, digits and inner hyphens between single dots, at most 63 characters each',
		};
	}
	// An `xn--` label must be real punycode (Node versions differ on refusing bad ones in domainToASCII).
	if (labels.some((l) => l.startsWith('xn--') && domainToUnicode(l) === l))
		return { problem: 'the domain holds an "xn--" part that is not valid punycode' };
	if (!TOP_LEVEL.test(labels[labels.length - 1]))
		return {
			problem: 'the domain must end in a top-level domain of two or more letters, like .com or .de',
		};
	const stored = `${local}@${domain}`;
	if (bytes(stored) > 254) return { problem: 'it is longer than 254 characters' };
	return { stored, local, domain };
}

/** Why an address is invalid, or null when it is valid. */
export function emailProblem(value: string): string | null {
	const parsed = parse(value);
	return 'problem' in parsed ? parsed.problem : null;
}

export function isValidEmail(value: unknown): boolean {
	return typeof value === 'string' && !('problem' in parse(value));
}

/** The stored form of a valid address, or null for anything else. */
export function storedEmailOrNull(value: unknown): string | null {
	if (typeof value !== 'string') return null;
	const parsed = parse(value);
	return 'problem' in parsed ? null : parsed.stored;
}

/**
 * The stored form (see above). Throws `code` (default `invalid_email`) naming the field and saying
 * what is wrong and what is valid; the address itself is never echoed (it is personal data).
 */
export function normalizeEmail(value: unknown, field = 'email', code = 'invalid_email'): string {
	if (typeof value !== 'string') {
		throw new EngineError(
			code,
			`${field} must be an email address such as ana@example.com (got ${describe(value)}).`,
			{ field },
		);
	}
	const parsed = parse(value);
	if ('problem' in parsed) {
		throw new EngineError(code, `${field} is not a valid email address: ${parsed.problem}.`, {
			field,
		});
	}
	return parsed.stored;
}

/**
 * Every spelling under which a ledger may hold this (stored-form) address: the stored form first,
 * then the Unicode spelling of an internationalised domain that ledgers written before this rule
 * kept (`ann@bücher.de` for `ann@xn--bcher-kva.de`). One element for plain ASCII domains.
 */
export function emailSpellings(stored: string): string[] {
	const at = stored.lastIndexOf('@');
	if (at < 0) return [stored];
	const domain = stored.slice(at + 1);
	if (!domain.split('.').some((l) => l.startsWith('xn--'))) return [stored];
	const unicode = domainToUnicode(domain);
	const legacy = `${stored.slice(0, at)}@${unicode}`;
	return unicode === '' || legacy === stored ? [stored] : [stored, legacy];
}

/** The stored form of an address read back from a ledger (old rows may hold another spelling); as it is when it is not valid. */
export function storedForm(value: string): string {
	return storedEmailOrNull(value) ?? value;
}

/** The domain of an address in its stored (ASCII) form; '' when the address is not valid. */
export function emailDomain(email: string): string {
	const parsed = parse(email);
	return 'problem' in parsed ? '' : parsed.domain;
}

interface ProviderRule {
	/** The domain all aliases of this provider are written as. */
	canonicalDomain: string;
	/** Dots in the local part are ignored by the provider. */
	ignoresDots: boolean;
	/** Characters after which the provider ignores the rest of the local part. */
	tagSeparators: string;
}

/**
 * Providers whose delivery rules are documented. Only documented behaviour is listed, because a
 * wrong rule merges two different people:
 * - Gmail / Googlemail: dots ignored, `+tag` ignored, googlemail.com is the same mailbox.
 * - Outlook.com family (outlook, hotmail, live, msn): `+tag` ignored (plus addressing); the
 *   domains are separate mailboxes, so they are not merged.
 * - iCloud (icloud, me, mac): `+tag` ignored; me.com and mac.com are aliases of the iCloud address.
 * - Fastmail, Proton (proton.me, protonmail.com/.ch, pm.me are one account), Yandex, Zoho:
 *   `+tag` ignored.
 * Yahoo's "-keyword" addresses use a separate base name, so they cannot be folded and are not.
 */
const PROVIDERS: Record<string, ProviderRule> = {};

function provider(domains: string[], rule: ProviderRule): void {
	for (const d of domains) PROVIDERS[d] = rule;
}

provider(['gmail.com', 'googlemail.com'], {
	canonicalDomain: 'gmail.com',
	ignoresDots: true,
	tagSeparators: '+',
});
for (const d of ['outlook.com', 'hotmail.com', 'live.com', 'msn.com']) {
	provider([d], { canonicalDomain: d, ignoresDots: false, tagSeparators: '+' });
}
provider(['icloud.com', 'me.com', 'mac.com'], {
	canonicalDomain: 'icloud.com',
	ignoresDots: false,
	tagSeparators: '+',
});
provider(['proton.me', 'protonmail.com', 'protonmail.ch', 'pm.me'], {
	canonicalDomain: 'proton.me',
	ignoresDots: false,
	tagSeparators: '+',
});
for (const d of ['fastmail.com', 'fastmail.fm', 'yandex.com', 'yandex.ru', 'zoho.com']) {
	provider([d], { canonicalDomain: d, ignoresDots: false, tagSeparators: '+' });
}

/** The documented provider table, for display in node help and tests. */
export function knownProviderDomains(): string[] {
	return Object.keys(PROVIDERS).sort();
}

export interface MailboxOptions {
	/**
	 * Also drop `+tag` for domains not in the table (company domains on Google Workspace or
	 * Microsoft 365 usually accept plus addressing). Default false: only documented providers.
	 */
	stripTagsForAllDomains?: boolean;
}

/**
 * The form two addresses share when they reach the same mailbox: `Ana.B+promo@GoogleMail.com`
 * and `anab@gmail.com` both become `anab@gmail.com`; `ann@bücher.de` and `ann@xn--bcher-kva.de`
 * both `ann@xn--bcher-kva.de`. Used for comparison only (self-referral), never stored as the
 * participant's address. Throws `invalid_email` for an invalid address.
 */
export function mailboxKey(value: unknown, options: MailboxOptions = {}, field = 'email'): string {
	const email = normalizeEmail(value, field);
	const at = email.lastIndexOf('@');
	const domain = email.slice(at + 1);
	const rule = PROVIDERS[domain];
	let name = email.slice(0, at);
	const separators = rule ? rule.tagSeparators : options.stripTagsForAllDomains ? '+' : '';
	for (const sep of separators) {
		const cut = name.indexOf(sep);
		// A leading separator is the whole name, not a tag.
		if (cut > 0) name = name.slice(0, cut);
	}
	if (rule?.ignoresDots) name = name.replace(/\./g, '');
	return `${name}@${rule ? rule.canonicalDomain : domain}`;
}

/** True when both addresses reach the same mailbox by the rules above. */
export function sameMailbox(a: string, b: string, options: MailboxOptions = {}): boolean {
	return mailboxKey(a, options) === mailboxKey(b, options);
}
