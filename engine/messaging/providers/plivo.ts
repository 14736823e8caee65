/* Plivo Message API: POST /v1/Account/{auth_id}/Message/ with JSON, Basic auth (Auth ID + Auth Token),
 * 202 {api_id, message, message_uuid: [...]}; errors are {api_id, error}. */
import { EngineError } from '../../shared/errors';
import type {
	HttpRequest,
	HttpResponse,
	HttpTransport,
	OutgoingSms,
	ProviderAccepted,
} from '../types';
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

export const PLIVO = 'Plivo';
export const PLIVO_BASE_URL = 'https://api.plivo.com';

export interface PlivoCredentials {
	authId: string;
	authToken: string;
	/** Send from a Powerpack number pool instead of a src number. */
	powerpackUuid?: string;
	statusCallbackUrl?: string;
}

export function buildPlivoRequest(
	message: OutgoingSms,
	credentials: PlivoCredentials,
	options: HttpProviderOptions = {},
): HttpRequest {
	const authId = requireCredential(credentials, 'authId', PLIVO, 'an Auth ID');
	const authToken = requireCredential(credentials, 'authToken', PLIVO, 'an Auth Token');
	const body: Record<string, unknown> = { dst: message.to, text: message.text, type: 'sms' };
	if (credentials.powerpackUuid) body.powerpack_uuid = credentials.powerpackUuid;
	else if (message.from) body.src = message.from;
	else
		throw new EngineError(
			'missing_sender',
			'Plivo needs a From number or a Powerpack UUID in the credentials.',
			{ field: 'from' },
		);
	if (credentials.statusCallbackUrl) {
		body.url = credentials.statusCallbackUrl;
		body.method = 'POST';
	}
	return {
		method: 'POST',
		url: joinUrl(
			checkBaseUrl(options.baseUrl ?? PLIVO_BASE_URL, PLIVO),
			`/v1/Account/${encodeURIComponent(authId)}/Message/`,
		),
		headers: { Authorization: basicAuth(authId, authToken), Accept: 'application/json' },
		body,
		timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
	};
}

export function readPlivoResponse(response: HttpResponse): ProviderAccepted {
	const body = response.body as { message_uuid?: string[]; error?: unknown } | undefined;
	if (isSuccess(response)) {
		const ids = typeof body === 'object' && body !== null ? body.message_uuid : undefined;
		return { provider: PLIVO, providerMessageId: Array.isArray(ids) ? ids[0] : undefined };
	}
	throw httpFailure(
		PLIVO,
		response,
		providerText(
			typeof body === 'object' && body !== null && body.error !== undefined ? body.error : body,
		),
	);
}

export async function sendPlivo(
	message: OutgoingSms,
	credentials: PlivoCredentials,
	transport: HttpTransport,
	options: HttpProviderOptions = {},
): Promise<ProviderAccepted> {
	return readPlivoResponse(
		await exchange(PLIVO, transport, buildPlivoRequest(message, credentials, options)),
	);
}
