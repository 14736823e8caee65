/* Server-side verification of a bot-check token (Cloudflare Turnstile, hCaptcha): the form's widget
 * gives the page a one-time token, the page posts it with the sign-up, and the server asks the
 * provider's siteverify endpoint whether it is good. Only the request and the reading of the answer
 * live here; the HTTP call goes through n8n with the credential's secret. Documented shapes:
 *  - Turnstile: POST https://challenges.cloudflare.com/turnstile/v0/siteverify, form fields secret,
 *    response, remoteip, idempotency_key; answer {success, challenge_ts, hostname, "error-codes",
 *    action, cdata}.
 *  - hCaptcha: POST https://api.hcaptcha.com/siteverify, form fields secret, response, remoteip,
 *    sitekey; answer {success, challenge_ts, hostname, credit, "error-codes", score, score_reason}. */

export type BotCheckProvider = 'turnstile' | 'hcaptcha';

export const SITEVERIFY_URLS: Record<BotCheckProvider, string> = {
	turnstile: 'https://challenges.cloudflare.com/turnstile/v0/siteverify',
	hcaptcha: 'https://api.hcaptcha.com/siteverify',
};

/** Tokens are at most 2,048 characters (Turnstile's documented limit); hCaptcha's are shorter. */
export const MAX_TOKEN_LENGTH = 2048;

export interface SiteverifyInput {
	provider: BotCheckProvider;
	token: unknown;
	/** The client's IP as n8n received it, when known. */
	remoteIp?: string;
	/** hCaptcha: the site key the token must belong to. */
	siteKey?: string;
	/** Overrides the provider's URL (a proxy, or a loopback fake in tests). */
	url?: string;
}

export interface BotCheckResult {
	success: boolean;
	/** The provider's error codes (e.g. invalid-input-response, timeout-or-duplicate), or ours: missing-input-response, hostname-mismatch, action-mismatch. */
	errorCodes: string[];
	hostname?: string;
	challengeTs?: string;
	action?: string;
	/** Why it failed, in words. */
	message?: string;
}

/** The form request to the provider (without the secret, which the credential adds), or a failure when there is no usable token. */
export function siteverifyRequest(
	input: SiteverifyInput,
): { url: string; form: Record<string, string> } | BotCheckResult {
	const token = typeof input.token === 'string' ? input.token.trim() : '';
	if (token === '')
		return {
			success: false,
			errorCodes: ['missing-input-response'],
			message: 'The request carries no bot-check token.',
		};
	if (token.length > MAX_TOKEN_LENGTH)
		return {
			success: false,
			errorCodes: ['invalid-input-response'],
			message: `The bot-check token is longer than ${MAX_TOKEN_LENGTH} characters.`,
		};
	const form: Record<string, string> = { response: token };
	if (input.remoteIp) form.remoteip = input.remoteIp;
	if (input.provider === 'hcaptcha' && input.siteKey) form.sitekey = input.siteKey;
	return { url: input.url || SITEVERIFY_URLS[input.provider], form };
}

const MESSAGES: Record<string, string> = {
	'missing-input-secret': 'The credential has no secret key.',
	'invalid-input-secret': "The credential's secret key is wrong (the provider does not know it).",
	'missing-input-response': 'The request carries no bot-check token.',
	'invalid-input-response': 'The bot-check token is invalid or expired.',
	'expired-input-response': 'The bot-check token has expired.',
	'timeout-or-duplicate': 'The bot-check token was already used, or has expired.',
	'already-seen-response': 'The bot-check token was already used.',
	'sitekey-secret-mismatch': 'The site key and the secret key belong to different sites.',
	'bad-request': 'The provider could not read the request.',
	'internal-error': 'The provider failed; try again.',
};

/**
 * Reads the provider's answer. Success needs `success: true`, and, when asked, the expected
 * hostname (the page the widget ran on) and Turnstile action.
 */
export function readSiteverifyAnswer(
	status: number,
	body: unknown,
	expect: { hostname?: string; action?: string } = {},
): BotCheckResult {
	if (
		status < 200 ||
		status >= 300 ||
		body === null ||
		typeof body !== 'object' ||
		typeof (body as { success?: unknown }).success !== 'boolean'
	) {
		return {
			success: false,
			errorCodes: ['provider-error'],
			message: `The bot-check provider answered HTTP ${status} without a verdict.`,
		};
	}
	const answer = body as {
		success: boolean;
		'error-codes'?: unknown;
		hostname?: unknown;
		challenge_ts?: unknown;
		action?: unknown;
	};
	const errorCodes = Array.isArray(answer['error-codes'])
		? answer['error-codes'].filter((c): c is string => typeof c === 'string')
		: [];
	const result: BotCheckResult = { success: answer.success, errorCodes };
	if (typeof answer.hostname === 'string') result.hostname = answer.hostname;
	if (typeof answer.challenge_ts === 'string') result.challengeTs = answer.challenge_ts;
	if (typeof answer.action === 'string') result.action = answer.action;
	if (!answer.success) {
		return {
			...result,
			message: errorCodes.map((c) => MESSAGES[c] ?? c).join(' ') || 'The bot check failed.',
		};
	}
	if (expect.hostname && result.hostname !== expect.hostname.trim().toLowerCase()) {
		return {
			...result,
			success: false,
			errorCodes: ['hostname-mismatch'],
			message: 'The bot check was solved on another site.',
		};
	}
	if (expect.action && result.action !== expect.action) {
		return {
			...result,
			success: false,
			errorCodes: ['action-mismatch'],
			message: 'The bot check was solved for another form (action).',
		};
	}
	return result;
}
