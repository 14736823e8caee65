/* Postmark: POST /email with X-Postmark-Server-Token, 200 {ErrorCode: 0, MessageID}; failures carry
 * an ErrorCode (406: the recipient is inactive after a bounce, complaint or manual suppression). */
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
	httpFailure,
	isSuccess,
	joinUrl,
	providerText,
	requireCredential,
	type HttpProviderOptions,
} from './http';

export const POSTMARK = 'Postmark';
export const POSTMARK_BASE_URL = 'https://api.postmarkapp.com';
export const POSTMARK_INACTIVE_RECIPIENT = 406;

export interface PostmarkCredentials {
	serverToken: string;
	/** Message stream id; Postmark uses "outbound" when absent. Commercial mail belongs on a broadcast stream. */
	messageStream?: string;
}

export function buildPostmarkRequest(
	message: OutgoingEmail,
	credentials: PostmarkCredentials,
	options: HttpProviderOptions = {},
): HttpRequest {
	const serverToken = requireCredential(credentials, 'serverToken', POSTMARK, 'a server token');
	const body: Record<string, unknown> = {
		From: formatEmailAddress(message.from),
		To: formatEmailAddress(message.to),
		Subject: message.subject,
		HtmlBody: message.html,
		TextBody: message.text,
	};
	if (message.replyTo) body.ReplyTo = formatEmailAddress(message.replyTo);
	const headers = Object.entries(message.headers);
	if (headers.length > 0) body.Headers = headers.map(([Name, Value]) => ({ Name, Value }));
	if (credentials.messageStream) body.MessageStream = credentials.messageStream;
	if (message.idempotencyKey) body.Metadata = { message_key: message.idempotencyKey };
	return {
		method: 'POST',
		url: joinUrl(checkBaseUrl(options.baseUrl ?? POSTMARK_BASE_URL, POSTMARK), '/email'),
		headers: { 'X-Postmark-Server-Token': serverToken, Accept: 'application/json' },
		body,
		timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
	};
}

export function readPostmarkResponse(response: HttpResponse): ProviderAccepted {
	const body = response.body as
		{ ErrorCode?: number; Message?: string; MessageID?: string } | undefined;
	const errorCode = typeof body === 'object' && body !== null ? body.ErrorCode : undefined;
	if (isSuccess(response) && (errorCode === undefined || errorCode === 0)) {
		return { provider: POSTMARK, providerMessageId: body?.MessageID };
	}
	const detail = providerText(body?.Message ?? body);
	const providerCode = errorCode === undefined ? undefined : String(errorCode);
	if (errorCode === POSTMARK_INACTIVE_RECIPIENT) {
		throw new DeliveryError(
			'suppressed',
			POSTMARK,
			`${POSTMARK} refuses this recipient (inactive after a bounce, complaint or suppression): ${detail}`,
			{
				status: response.status,
				providerCode,
			},
		);
	}
	// A 200 carrying a non-zero ErrorCode is still a refusal; treat it like Postmark's usual 422.
	throw httpFailure(
		POSTMARK,
		isSuccess(response) ? { ...response, status: 422 } : response,
		detail,
		{ providerCode },
	);
}

export async function sendPostmark(
	message: OutgoingEmail,
	credentials: PostmarkCredentials,
	transport: HttpTransport,
	options: HttpProviderOptions = {},
): Promise<ProviderAccepted> {
	return readPostmarkResponse(
		await exchange(POSTMARK, transport, buildPostmarkRequest(message, credentials, options)),
	);
}
