import { EngineError } from '../errors';
import { describe } from './validate';

/**
 * Email addresses: validation, the stored form, and the canonical form used to spot one person
 * behind two addresses (self-referral).
 *
 * Validation is a practical subset of RFC 5322 (what sign-up forms and mail providers accept):
 * - local part: dot-atom only (letters of any script as RFC 6531 allows, digits and
 *   ! # $ % & ' * + / = ? ^ _ ` { | } ~ -, dots not first, last or doubled), at most 64
 *   characters; quoted local parts ("john doe"@…) are refused;
 * - domain: at least two labels of letters (any script), digits and inner hyphens, each at most
 *   63 characters, a top-level label that is not all digits; IP-literal domains are refused;
 * - at most 254 characters in total.
 */

const LOCAL_PART = /^[\p{L}\p{N}!#$%&'*+/=?^_`{|}~-]+(?:\.[\p{L}\p{N}!#$%&'*+/=?^_`{|}~-]+)*$/u;
const DOMAIN_LABEL = /^[\p{L}\p{N}](?:[\p{L}\p{N}-]{0,61}[\p{L}\p{N}])?$/u;

export interface EmailParts {
	local: string;
	domain: string;
}

function split(email: string): EmailParts | null {
	const at = email.lastIndexOf('@');
	if (at <= 0 || at === email.length - 1) return null;
	return { local: email.slice(0, at), domain: email.slice(at + 1) };
}

/** Why an address is invalid, or null when it is valid. */
export function emailProblem(value: string): string | null {
	if (value.length > 254) return 'it is longer than 254 characters';
	const parts = split(value);
	if (!parts) return 'it needs one "@" with a name before it and a domain after it';
	if (parts.local.includes('@')) return 'it has more than one "@"';
	if (parts.local.length > 64) return 'the part before "@" is longer than 64 characters';
	if (!LOCAL_PART.test(parts.local)) {
		return 'the part before "@" may only hold letters, digits, single inner dots and ! # $ % & \' * + / = ? ^ _ ` { | } ~ -';
	}
	const labels = parts.domain.split('.');
	if (labels.length < 2) return 'the domain needs a dot, like example.com';
	if (!labels.every((l) => DOMAIN_LABEL.test(l))) {
		return 'the domain may only hold letters, digits and inner hyphens between dots';
	}
	if (/^\d+$/.test(labels[labels.length - 1])) return 'the domain cannot end in a number';
	return null;
}

export function isValidEmail(value: unknown): boolean {
	return typeof value === 'string' && emailProblem(value.trim()) === null;
}

/**
 * The stored form: trimmed and lower-cased (nearly every provider treats the local part
 * case-insensitively; keeping one spelling makes lookups and uniqueness simple).
 * Throws `invalid_email` naming the field.
 */
export function normaliseEmail(value: unknown, field = 'email'): string {
	if (typeof value !== 'string') {
		throw new EngineError('invalid_email', `${field} must be an email address such as ana@example.com (got ${describe(value)}).`, {
			field,
		});
	}
	const email = value.trim().toLowerCase();
	const problem = emailProblem(email);
	if (problem) {
		// The address is the caller's own input; echo it back only when short enough to help.
		const shown = email.length <= 80 ? ` "${email}"` : '';
		throw new EngineError('invalid_email', `${field}${shown} is not a valid email address: ${problem}.`, { field });
	}
	return email;
}

export function emailDomain(email: string): string {
	const parts = split(email.trim().toLowerCase());
	return parts ? parts.domain : '';
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

provider(['gmail.com', 'googlemail.com'], { canonicalDomain: 'gmail.com', ignoresDots: true, tagSeparators: '+' });
for (const d of ['outlook.com', 'hotmail.com', 'live.com', 'msn.com']) {
	provider([d], { canonicalDomain: d, ignoresDots: false, tagSeparators: '+' });
}
provider(['icloud.com', 'me.com', 'mac.com'], { canonicalDomain: 'icloud.com', ignoresDots: false, tagSeparators: '+' });
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

export interface CanonicalOptions {
	/**
	 * Also drop `+tag` for domains not in the table (company domains on Google Workspace or
	 * Microsoft 365 usually accept plus addressing). Default false: only documented providers.
	 */
	stripTagsForAllDomains?: boolean;
}

/**
 * The form two addresses share when they reach the same mailbox: `Ana.B+promo@GoogleMail.com`
 * and `anab@gmail.com` both become `anab@gmail.com`. Used for comparison only, never stored as
 * the participant's address. Throws `invalid_email` for an invalid address.
 */
export function canonicalEmail(value: unknown, options: CanonicalOptions = {}, field = 'email'): string {
	const email = normaliseEmail(value, field);
	const { local, domain } = split(email) as EmailParts;
	const rule = PROVIDERS[domain];
	let name = local;
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
export function sameMailbox(a: string, b: string, options: CanonicalOptions = {}): boolean {
	return canonicalEmail(a, options) === canonicalEmail(b, options);
}
