/* Private links people receive by email: a participant's own status page and an unsubscribe link.
 * Each carries a signed, expiring token (./tokens) made with the link secret, which lives in the
 * credential "Referral Link Secret" and nowhere else. A link of one kind never opens the other
 * (the token's purpose), and a token that is forged, altered or expired opens nothing. */
import { EngineError } from './errors';
import { signToken, verifyToken } from './tokens';

export const PARTICIPANT_LINK_PURPOSE = 'participant-status';
export const UNSUBSCRIBE_LINK_PURPOSE = 'unsubscribe';
/** Shortest link secret accepted: 32 characters (e.g. 16 random bytes as hex). */
export const MIN_LINK_SECRET_LENGTH = 32;
const DAY = 24 * 60 * 60 * 1000;
/** A status link in an email works this long unless the node says otherwise. */
export const DEFAULT_PARTICIPANT_LINK_DAYS = 30;
/** An unsubscribe link must keep working long after the email was sent (CAN-SPAM asks for 30 days at least). */
export const DEFAULT_UNSUBSCRIBE_LINK_DAYS = 400;

export interface LinkSecrets {
	secret: unknown;
	/** Accepted while verifying only, during a rotation. */
	previousSecret?: unknown;
}

/** The secrets a token verifies with; refuses a missing or short current secret, naming the credential. */
export function linkSecrets(input: LinkSecrets): { signing: string; verifying: string[] } {
	const secret = typeof input.secret === 'string' ? input.secret : '';
	if (secret.length < MIN_LINK_SECRET_LENGTH) {
		throw new EngineError(
			'invalid_link_secret',
			`The Referral Link Secret must be at least ${MIN_LINK_SECRET_LENGTH} characters of random text (e.g. openssl rand -hex 32); it is ${secret === '' ? 'empty' : 'too short'}.`,
			{ field: 'linkSecret' },
		);
	}
	const previous =
		typeof input.previousSecret === 'string' &&
		input.previousSecret.length >= MIN_LINK_SECRET_LENGTH
			? [input.previousSecret]
			: [];
	return { signing: secret, verifying: [secret, ...previous] };
}

function validDays(days: unknown, field: string): number {
	const n = typeof days === 'string' && days.trim() !== '' ? Number(days) : days;
	if (typeof n !== 'number' || !Number.isFinite(n) || n <= 0 || n > 3660) {
		throw new EngineError(
			'invalid_days',
			`${field} must be a number of days between 0 and 3660 (got ${typeof days === 'string' ? `"${days.slice(0, 20)}"` : String(days)}).`,
			{ field },
		);
	}
	return n;
}

/** `baseUrl` with `token=<token>` added to its query; only http(s) URLs without a token of their own. */
export function linkWithToken(baseUrl: unknown, token: string, field = 'baseUrl'): string {
	const raw = typeof baseUrl === 'string' ? baseUrl.trim() : '';
	let url: URL;
	try {
		url = new URL(raw);
	} catch {
		throw new EngineError(
			'invalid_url',
			`${field} must be a full http(s) URL such as https://n8n.example.com/webhook/referral/participant; got "${raw.slice(0, 200)}".`,
			{ field },
		);
	}
	if (url.protocol !== 'https:' && url.protocol !== 'http:') {
		throw new EngineError(
			'invalid_url',
			`${field} must be an http(s) URL; got "${url.protocol}" (a private link must open a page).`,
			{ field },
		);
	}
	url.searchParams.delete('token');
	url.searchParams.append('token', token);
	return url.href;
}

function invalidLink(message: string, reason: string): EngineError {
	return new EngineError('invalid_link', message, { field: 'token', details: { reason } });
}

export interface PrivateLink {
	url: string;
	token: string;
	/** ISO 8601. */
	expiresAt: string;
}

/**
 * Checks a link's settings (secret, page URL, days) without a participant: call it before looking
 * anyone up, so a misconfigured node fails alike for people who are enrolled and people who are not.
 */
export function checkLinkOptions(
	input: { baseUrl: unknown; secrets: LinkSecrets; validDays?: unknown },
	defaultDays = DEFAULT_PARTICIPANT_LINK_DAYS,
): void {
	linkSecrets(input.secrets);
	validDays(input.validDays ?? defaultDays, 'validDays');
	linkWithToken(input.baseUrl, 'check');
}

/** A participant's private status link. The token names the program and the participant's ledger id, nothing personal. */
export function participantLink(input: {
	baseUrl: unknown;
	programId: string;
	participantId: number;
	secrets: LinkSecrets;
	validDays?: unknown;
	now?: number;
}): PrivateLink {
	const { signing } = linkSecrets(input.secrets);
	const days = validDays(input.validDays ?? DEFAULT_PARTICIPANT_LINK_DAYS, 'validDays');
	const expiresAt = (input.now ?? Date.now()) + days * DAY;
	const token = signToken({
		purpose: PARTICIPANT_LINK_PURPOSE,
		claims: { pg: input.programId, pid: input.participantId },
		secret: signing,
		expiresAt,
	});
	return {
		url: linkWithToken(input.baseUrl, token),
		token,
		expiresAt: new Date(Math.floor(expiresAt / 1000) * 1000).toISOString(),
	};
}

/** The participant a private status token opens; `invalid_link` (field token) when forged, altered, expired, of another kind or of another program. */
export function verifyParticipantLink(
	token: unknown,
	options: { programId: string; secrets: LinkSecrets; now?: number },
): { participantId: number; expiresAt: string } {
	const { verifying } = linkSecrets(options.secrets);
	const result = verifyToken(typeof token === 'string' ? token.trim() : token, {
		purpose: PARTICIPANT_LINK_PURPOSE,
		secrets: verifying,
		now: options.now,
	});
	if (!result.ok) throw invalidLink(result.message, result.reason);
	const { pg, pid } = result.claims;
	if (pg !== options.programId)
		throw invalidLink('The link is not valid for this program.', 'wrong_program');
	if (typeof pid !== 'number' || !Number.isSafeInteger(pid) || pid <= 0)
		throw invalidLink('The link is not valid: it is incomplete or was changed.', 'malformed');
	return { participantId: pid, expiresAt: new Date(result.expiresAt).toISOString() };
}

/** An unsubscribe link for one email address (or phone number): the token carries the channel and the address. */
export function unsubscribeLink(input: {
	baseUrl: unknown;
	channel: 'email' | 'sms';
	address: string;
	secrets: LinkSecrets;
	validDays?: unknown;
	now?: number;
}): PrivateLink {
	const { signing } = linkSecrets(input.secrets);
	const days = validDays(input.validDays ?? DEFAULT_UNSUBSCRIBE_LINK_DAYS, 'validDays');
	const expiresAt = (input.now ?? Date.now()) + days * DAY;
	const token = signToken({
		purpose: UNSUBSCRIBE_LINK_PURPOSE,
		claims: { ch: input.channel, a: input.address },
		secret: signing,
		expiresAt,
	});
	return {
		url: linkWithToken(input.baseUrl, token, 'unsubscribeUrl'),
		token,
		expiresAt: new Date(Math.floor(expiresAt / 1000) * 1000).toISOString(),
	};
}

/** The channel and address an unsubscribe token was made for; `invalid_link` (field token) otherwise. */
export function verifyUnsubscribeLink(
	token: unknown,
	options: { secrets: LinkSecrets; now?: number },
): { channel: 'email' | 'sms'; address: string } {
	const { verifying } = linkSecrets(options.secrets);
	const result = verifyToken(typeof token === 'string' ? token.trim() : token, {
		purpose: UNSUBSCRIBE_LINK_PURPOSE,
		secrets: verifying,
		now: options.now,
	});
	if (!result.ok) throw invalidLink(result.message, result.reason);
	const { ch, a } = result.claims;
	if ((ch !== 'email' && ch !== 'sms') || typeof a !== 'string' || a === '')
		throw invalidLink('The link is not valid: it is incomplete or was changed.', 'malformed');
	return { channel: ch, address: a };
}

/** `ann@example.com` → `a••@example.com`: enough for a person to recognise their address on a page, not to learn it. */
export function maskAddress(address: string): string {
	const at = address.lastIndexOf('@');
	if (at <= 0)
		return address.length <= 4 ? '••••' : `${'•'.repeat(address.length - 4)}${address.slice(-4)}`;
	return `${address[0]}••@${address.slice(at + 1)}`;
}
