import { randomBytes } from 'node:crypto';
import { base64url, hmacSha256, safeEqual } from '../../shared/hmac';

/**
 * CSRF protection of the review queue's Approve and Reject forms: each form carries an HMAC of
 * (session, program, referral, action, expiry) under the program's secret, which never leaves the
 * server. The session is the reviewer's login (a hash of the Authorization header n8n's Basic or
 * Header Auth checked), else a random cookie (HttpOnly, SameSite=Strict). A forged cross-site POST
 * carries the browser's ambient login but cannot read the page, so it has no token; a token copied
 * from one form does not fit another referral, action or login, and it expires.
 *
 * Why the login and not only a cookie: n8n 2 serves webhook HTML under a `sandbox` CSP, which gives
 * the page an opaque origin, so the browser treats its own form POST as cross-site: SameSite cookies
 * are not sent and `Origin` is `null`. The Authorization header of Basic Auth is sent either way.
 */

export const SESSION_COOKIE = 'rm_review_sid';
const TOKEN_TTL_MS = 2 * 60 * 60 * 1000;

export interface FormBinding {
	sessionId: string;
	programId: string;
	referralId: string;
	action: 'approve' | 'reject';
}

export function newSessionId(): string {
	return base64url(randomBytes(24));
}

/** The reviewer's session: their login (hashed) when the request has an Authorization header, else the session cookie, else null. */
export function sessionOf(headers: Record<string, unknown>): string | null {
	const auth = headers.authorization;
	if (typeof auth === 'string' && auth.trim() !== '')
		return `login-${base64url(hmacSha256('review-session', auth.trim())).slice(0, 32)}`;
	return sessionFromCookie(headers.cookie);
}

/** The session cookie's value from a Cookie header, or null. */
export function sessionFromCookie(cookieHeader: unknown): string | null {
	if (typeof cookieHeader !== 'string') return null;
	for (const part of cookieHeader.split(';')) {
		const [name, ...rest] = part.trim().split('=');
		if (name === SESSION_COOKIE) {
			const value = rest.join('=');
			return /^[A-Za-z0-9_-]{16,64}$/.test(value) ? value : null;
		}
	}
	return null;
}

export function sessionCookie(sessionId: string, path = '/'): string {
	return `${SESSION_COOKIE}=${sessionId}; Path=${path}; HttpOnly; SameSite=Strict; Max-Age=28800`;
}

function mac(secret: string, b: FormBinding, expires: number): string {
	return base64url(
		hmacSha256(
			secret,
			'review-form\n',
			[b.sessionId, b.programId, b.referralId, b.action, String(expires)].join('\n'),
		),
	);
}

export function formToken(secret: string, binding: FormBinding, now: number): string {
	const expires = now + TOKEN_TTL_MS;
	return `${expires}.${mac(secret, binding, expires)}`;
}

export type TokenCheck =
	{ ok: true } | { ok: false; reason: 'missing' | 'malformed' | 'expired' | 'bad_signature' };

export function checkFormToken(
	secret: string,
	binding: FormBinding,
	token: unknown,
	now: number,
): TokenCheck {
	if (typeof token !== 'string' || token === '' || binding.sessionId === '')
		return { ok: false, reason: 'missing' };
	const match = /^(\d{1,16})\.([A-Za-z0-9_-]{43})$/.exec(token);
	if (!match) return { ok: false, reason: 'malformed' };
	const expires = Number(match[1]);
	if (expires < now || expires > now + TOKEN_TTL_MS + 60_000)
		return { ok: false, reason: 'expired' };
	const expected = Buffer.from(mac(secret, binding, expires));
	return safeEqual(expected, Buffer.from(match[2]))
		? { ok: true }
		: { ok: false, reason: 'bad_signature' };
}

/**
 * A POST from a page of another origin, by its Origin header. `Origin: null` (the sandboxed page
 * n8n 2 serves, also a sandboxed attacker frame) and Sec-Fetch-Site say nothing reliable here, so
 * they are left to the form token; this only turns away what is plainly foreign.
 */
export function isCrossSite(headers: Record<string, unknown>): boolean {
	const origin = headers.origin;
	const host = headers['x-forwarded-host'] ?? headers.host;
	if (typeof origin === 'string' && origin !== 'null' && typeof host === 'string') {
		try {
			return new URL(origin).host !== host.split(',')[0].trim();
		} catch {
			return true;
		}
	}
	return false;
}
