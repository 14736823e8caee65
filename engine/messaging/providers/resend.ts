/* Resend: POST /emails, Bearer key, 200 {id}. Resend honours an Idempotency-Key header (24 h), so a
 * retry after a lost answer cannot send twice. Errors are {statusCode, name, message}. */
import {
	DeliveryError,
	type HttpRequest,
	type HttpResponse,
	type HttpTransport,
	type OutgoingEmail,
	type ProviderAccepted,
} from '../types';
import { formatEmailAddress } from '../email';
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

export const RESEND = 'Resend';
export const RESEND_BASE_URL = 'https://api.resend.com';
const MAX_IDEMPOTENCY_KEY = 256;

export interface ResendCredentials {
	apiKey: string;
}

export function buildResendRequest(
	message: OutgoingEmail,
	credentials: ResendCredentials,
	options: HttpProviderOptions = {},
): HttpRequest {
	const apiKey = requireCredential(credentials, 'apiKey', RESEND, 'an API key');
	const body: Record<string, unknown> = {
		from: formatEmailAddress(message.from),
		to: [formatEmailAddress(message.to)],
		subject: message.subject,
		html: message.html,
		text: message.text,
	};
	if (message.replyTo) body.reply_to = formatEmailAddress(message.replyTo);
	if (Object.keys(message.headers).length > 0) body.headers = message.headers;
	const headers: Record<string, string> = {
		Authorization: `Bearer ${apiKey}`,
		Accept: 'application/json',
	};
	if (message.idempotencyKey)
		headers['Idempotency-Key'] = message.idempotencyKey.slice(0, MAX_IDEMPOTENCY_KEY);
	return {
		method: 'POST',
		url: joinUrl(checkBaseUrl(options.baseUrl ?? RESEND_BASE_URL, RESEND), '/emails'),
		headers,
		body,
		timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
	};
}

export function readResendResponse(response: HttpResponse): ProviderAccepted {
	const body = response.body as { id?: string; name?: string; message?: string } | undefined;
	if (isSuccess(response)) return { provider: RESEND, providerMessageId: body?.id };
	const name = typeof body === 'object' && body !== null ? body.name : undefined;
	const detail = providerText(
		typeof body === 'object' && body !== null ? (body.message ?? name) : body,
	);
	if (name === 'daily_quota_exceeded' || name === 'monthly_quota_exceeded') {
		// Waiting seconds does not refill a daily or monthly quota.
		throw new DeliveryError(
			'permanent',
			RESEND,
			`${RESEND} sending quota is used up (${name}): ${detail}`,
			{ status: response.status, providerCode: name },
		);
	}
	if (name === 'concurrent_idempotent_requests') {
		throw new DeliveryError(
			'retryable',
			RESEND,
			`${RESEND} is still processing a request with this idempotency key: ${detail}`,
			{
				status: response.status,
				providerCode: name,
				retryAfterMs: parseRetryAfter(header(response, 'retry-after')),
			},
		);
	}
	throw httpFailure(RESEND, response, detail, { providerCode: name });
}

export async function sendResend(
	message: OutgoingEmail,
	credentials: ResendCredentials,
	transport: HttpTransport,
	options: HttpProviderOptions = {},
): Promise<ProviderAccepted> {
	return readResendResponse(
		await exchange(RESEND, transport, buildResendRequest(message, credentials, options)),
	);
}
