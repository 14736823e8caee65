/* Vonage SMS API: POST /sms/json as a form with api_key/api_secret in the body. It answers HTTP 200
 * even on failure: each part in `messages` has a `status`, "0" meaning accepted. Non-GSM text must be
 * sent with type=unicode, or handsets show "????". */
import {
	DeliveryError,
	type HttpRequest,
	type HttpResponse,
	type HttpTransport,
	type OutgoingSms,
	type ProviderAccepted,
} from '../types';
import { EngineError } from '../../shared/errors';
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

export const VONAGE = 'Vonage';
export const VONAGE_BASE_URL = 'https://rest.nexmo.com';
const CLIENT_REF_LIMIT = 40;

export interface VonageCredentials {
	apiKey: string;
	apiSecret: string;
}

/** Vonage status codes (developer.vonage.com/en/api-errors/sms) that are not permanent failures. */
const THROTTLED = '1';
const INTERNAL_ERROR = '5';
const NUMBER_BARRED = '7';

export function buildVonageRequest(
	message: OutgoingSms,
	credentials: VonageCredentials,
	options: HttpProviderOptions = {},
): HttpRequest {
	const apiKey = requireCredential(credentials, 'apiKey', VONAGE, 'an API key');
	const apiSecret = requireCredential(credentials, 'apiSecret', VONAGE, 'an API secret');
	if (!message.from)
		throw new EngineError(
			'missing_sender',
			'Vonage needs a From number or alphanumeric sender ID.',
			{ field: 'from' },
		);
	const form: Record<string, string> = {
		api_key: apiKey,
		api_secret: apiSecret,
		// Vonage wants numbers without the leading "+".
		from: message.from.replace(/^\+/, ''),
		to: message.to.replace(/^\+/, ''),
		text: message.text,
		type: message.encoding === 'UCS-2' ? 'unicode' : 'text',
	};
	if (message.idempotencyKey)
		form['client-ref'] = message.idempotencyKey.slice(0, CLIENT_REF_LIMIT);
	return {
		method: 'POST',
		url: joinUrl(checkBaseUrl(options.baseUrl ?? VONAGE_BASE_URL, VONAGE), '/sms/json'),
		headers: { Accept: 'application/json' },
		form,
		timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
	};
}

interface VonagePart {
	status?: string;
	'message-id'?: string;
	'error-text'?: string;
}

export function readVonageResponse(response: HttpResponse): ProviderAccepted {
	const parts = (response.body as { messages?: VonagePart[] } | undefined)?.messages;
	if (!isSuccess(response) || !Array.isArray(parts) || parts.length === 0) {
		throw httpFailure(
			VONAGE,
			isSuccess(response) ? { ...response, status: 502 } : response,
			providerText(response.body),
		);
	}
	const failed = parts.find((part) => String(part.status) !== '0');
	if (failed === undefined) return { provider: VONAGE, providerMessageId: parts[0]['message-id'] };
	const status = String(failed.status);
	const detail = `${providerText(failed['error-text'])} (status ${status})`;
	const kind =
		status === THROTTLED
			? 'rate_limited'
			: status === INTERNAL_ERROR
				? 'retryable'
				: status === NUMBER_BARRED
					? 'suppressed'
					: 'permanent';
	const prefix = {
		rate_limited: 'is throttling',
		retryable: 'had an internal error',
		suppressed: 'refuses this recipient (number barred)',
		permanent: 'rejected the message',
	}[kind];
	throw new DeliveryError(kind, VONAGE, `${VONAGE} ${prefix}: ${detail}`, {
		status: response.status,
		providerCode: status,
	});
}

export async function sendVonage(
	message: OutgoingSms,
	credentials: VonageCredentials,
	transport: HttpTransport,
	options: HttpProviderOptions = {},
): Promise<ProviderAccepted> {
	return readVonageResponse(
		await exchange(VONAGE, transport, buildVonageRequest(message, credentials, options)),
	);
}
