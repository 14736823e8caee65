/* Signed, expiring tokens for links people receive (a private status page, an unsubscribe link):
 * `<base64url JSON claims>.<base64url HMAC-SHA256>`. The claims are readable, not secret; the
 * signature makes them unforgeable, the purpose keeps a token of one kind from opening another,
 * and the expiry bounds how long a forwarded link works. Several secrets verify during a rotation. */
import { base64url, hmacSha256, safeEqual } from './hmac';

export type TokenClaimValue = string | number | boolean | null;
export type TokenClaims = Record<string, TokenClaimValue>;

/** Longest token verifyToken reads; anything longer is refused before any work. */
export const MAX_TOKEN_LENGTH = 2048;
const VERSION = 'rm1';

export interface SignTokenInput {
	/** What the token opens, e.g. `participant-status` or `unsubscribe`; checked on verify. */
	purpose: string;
	claims: TokenClaims;
	secret: string;
	/** Epoch milliseconds after which the token no longer verifies. */
	expiresAt: number;
}

export type VerifyTokenResult =
	| { ok: true; claims: TokenClaims; purpose: string; expiresAt: number }
	| {
			ok: false;
			reason: 'malformed' | 'bad_signature' | 'wrong_purpose' | 'expired';
			message: string;
	  };

function mac(secret: string, payload: string): Buffer {
	return hmacSha256(secret, `${VERSION}.`, payload);
}

export function signToken(input: SignTokenInput): string {
	if (typeof input.secret !== 'string' || input.secret.length < 16)
		throw new Error('signToken needs a secret of at least 16 characters');
	if (!Number.isFinite(input.expiresAt))
		throw new Error('signToken needs expiresAt (epoch milliseconds)');
	const body = { ...input.claims, _p: input.purpose, _e: Math.floor(input.expiresAt / 1000) };
	const payload = base64url(JSON.stringify(body));
	return `${payload}.${base64url(mac(input.secret, payload))}`;
}

export function verifyToken(
	token: unknown,
	options: { purpose: string; secrets: string[]; now?: number },
): VerifyTokenResult {
	const malformed = {
		ok: false as const,
		reason: 'malformed' as const,
		message: 'The link is not valid: it is incomplete or was changed.',
	};
	if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_LENGTH)
		return malformed;
	const dot = token.indexOf('.');
	if (dot <= 0 || dot !== token.lastIndexOf('.')) return malformed;
	const payload = token.slice(0, dot);
	const signature = Buffer.from(token.slice(dot + 1), 'base64url');
	if (!options.secrets.some((secret) => secret && safeEqual(mac(secret, payload), signature))) {
		return {
			ok: false,
			reason: 'bad_signature',
			message: 'The link is not valid: its signature does not match.',
		};
	}
	let body: Record<string, TokenClaimValue>;
	try {
		body = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
	} catch {
		return malformed;
	}
	if (!body || typeof body !== 'object' || Array.isArray(body)) return malformed;
	const { _p: purpose, _e: expires, ...claims } = body;
	if (purpose !== options.purpose)
		return { ok: false, reason: 'wrong_purpose', message: 'The link is not valid for this page.' };
	if (typeof expires !== 'number') return malformed;
	const expiresAt = expires * 1000;
	if ((options.now ?? Date.now()) >= expiresAt)
		return { ok: false, reason: 'expired', message: 'The link has expired; ask for a new one.' };
	return { ok: true, claims, purpose, expiresAt };
}
