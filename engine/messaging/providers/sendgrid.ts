/* SendGrid v3 Mail Send: POST /v3/mail/send, Bearer API key, 202 with the id in X-Message-Id.
 * SendGrid accepts no idempotency key; our key travels in custom_args for webhook correlation. */
import type {
	HttpRequest,
	HttpResponse,
	HttpTransport,
	OutgoingEmail,
	ProviderAccepted,
} from '../types';
import {
	DEFAULT_TIMEOUT_MS,
	checkBaseUrl,
	exchange,
	header,
	httpFailure,
	isSuccess,
	joinUrl,
	providerText,
	requireCredential,
	type HttpProviderOptions,
} from './http';
import { parseRetryAfter } from '../reliability';

export const SENDGRID = 'SendGrid';
/** EU-pinned subusers use https://api.eu.sendgrid.com. */
export const SENDGRID_BASE_URL = 'https://api.sendgrid.com';

export interface SendGridCredentials {
	apiKey: string;
}

function person(address: { address: string; name?: string }): { email: string; name?: string } {
	return address.name ? { email: address.address, name: address.name } : { email: address.address };
}

export function buildSendGridRequest(
	message: OutgoingEmail,
	credentials: SendGridCredentials,
	options: HttpProviderOptions = {},
): HttpRequest {
	const apiKey = requireCredential(credentials, 'apiKey', SENDGRID, 'an API key');
	const body: Record<string, unknown> = {
		personalizations: [{ to: [person(message.to)] }],
		from: person(message.from),
		subject: message.subject,
		// SendGrid requires text/plain before text/html.
		content: [
			{ type: 'text/plain', value: message.text },
			{ type: 'text/html', value: message.html },
		],
	};
	if (message.replyTo) body.reply_to = person(message.replyTo);
	if (Object.keys(message.headers).length > 0) body.headers = message.headers;
	if (message.idempotencyKey) body.custom_args = { message_key: message.idempotencyKey };
	return {
		method: 'POST',
		url: joinUrl(checkBaseUrl(options.baseUrl ?? SENDGRID_BASE_URL, SENDGRID), '/v3/mail/send'),
		headers: { Authorization: `Bearer ${apiKey}`, Accept: 'application/json' },
		body,
		timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
	};
}

export function readSendGridResponse(
	response: HttpResponse,
	now: number = Date.now(),
): ProviderAccepted {
	if (isSuccess(response))
		return { provider: SENDGRID, providerMessageId: header(response, 'x-message-id') };
	const errors = (
		response.body as { errors?: Array<{ message?: string; field?: string | null }> } | undefined
	)?.errors;
	const detail = Array.isArray(errors)
		? errors.map((e) => providerText(e.field ? `${e.message} (${e.field})` : e.message)).join('; ')
		: providerText(response.body);
	let retryAfterMs: number | undefined;
	if (response.status === 429) {
		// SendGrid announces the end of the window as a Unix time in X-RateLimit-Reset.
		const reset = Number(header(response, 'x-ratelimit-reset'));
		retryAfterMs =
			parseRetryAfter(header(response, 'retry-after'), now) ??
			(Number.isFinite(reset) && reset > 0 ? Math.max(0, reset * 1000 - now) : undefined);
	}
	throw httpFailure(SENDGRID, response, detail, { retryAfterMs });
}

export async function sendSendGrid(
	message: OutgoingEmail,
	credentials: SendGridCredentials,
	transport: HttpTransport,
	options: HttpProviderOptions = {},
): Promise<ProviderAccepted> {
	return readSendGridResponse(
		await exchange(SENDGRID, transport, buildSendGridRequest(message, credentials, options)),
	);
}
