/* Mailgun Messages API: POST /v3/{domain}/messages as a form, Basic auth "api:<key>", 200 {id, message}.
 * Mailgun documents no idempotency key; ours travels as the user variable v:message-key. */
import type {
	HttpRequest,
	HttpResponse,
	HttpTransport,
	OutgoingEmail,
	ProviderAccepted,
} from '../types';
import { formatEmailAddress } from '../email';
import {
	DEFAULT_TIMEOUT_MS,
	basicAuth,
	checkBaseUrl,
	exchange,
	httpFailure,
	isSuccess,
	joinUrl,
	providerText,
	requireCredential,
	type HttpProviderOptions,
} from './http';

export const MAILGUN = 'Mailgun';
/** EU domains use https://api.eu.mailgun.net. */
export const MAILGUN_BASE_URL = 'https://api.mailgun.net';

export interface MailgunCredentials {
	apiKey: string;
	/** The sending domain, e.g. "mg.example.com". */
	domain: string;
}

export function buildMailgunRequest(
	message: OutgoingEmail,
	credentials: MailgunCredentials,
	options: HttpProviderOptions = {},
): HttpRequest {
	const apiKey = requireCredential(credentials, 'apiKey', MAILGUN, 'an API key');
	const domain = requireCredential(credentials, 'domain', MAILGUN, 'the sending domain');
	const form: Record<string, string> = {
		from: formatEmailAddress(message.from),
		to: formatEmailAddress(message.to),
		subject: message.subject,
		text: message.text,
		html: message.html,
	};
	if (message.replyTo) form['h:Reply-To'] = formatEmailAddress(message.replyTo);
	for (const [name, value] of Object.entries(message.headers)) form[`h:${name}`] = value;
	if (message.idempotencyKey) form['v:message-key'] = message.idempotencyKey;
	return {
		method: 'POST',
		url: joinUrl(
			checkBaseUrl(options.baseUrl ?? MAILGUN_BASE_URL, MAILGUN),
			`/v3/${encodeURIComponent(domain)}/messages`,
		),
		headers: { Authorization: basicAuth('api', apiKey), Accept: 'application/json' },
		form,
		timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
	};
}

export function readMailgunResponse(response: HttpResponse): ProviderAccepted {
	const body = response.body as { id?: string; message?: string } | string | undefined;
	if (isSuccess(response))
		return {
			provider: MAILGUN,
			providerMessageId: typeof body === 'object' ? body?.id : undefined,
		};
	throw httpFailure(
		MAILGUN,
		response,
		providerText(typeof body === 'object' && body?.message !== undefined ? body.message : body),
	);
}

export async function sendMailgun(
	message: OutgoingEmail,
	credentials: MailgunCredentials,
	transport: HttpTransport,
	options: HttpProviderOptions = {},
): Promise<ProviderAccepted> {
	return readMailgunResponse(
		await exchange(MAILGUN, transport, buildMailgunRequest(message, credentials, options)),
	);
}
