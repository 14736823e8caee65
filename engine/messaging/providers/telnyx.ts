/* Telnyx Messaging v2: POST /v2/messages with JSON and a Bearer API key, 200 {data: {id, parts, encoding}}.
 * Errors are {errors: [{code, title, detail}]}; 40300 means the recipient texted STOP to this sender. */
import { EngineError } from '../../shared/errors';
import {
	DeliveryError,
	type HttpRequest,
	type HttpResponse,
	type HttpTransport,
	type OutgoingSms,
	type ProviderAccepted,
} from '../types';
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

export const TELNYX = 'Telnyx';
export const TELNYX_BASE_URL = 'https://api.telnyx.com';
export const TELNYX_BLOCKED_BY_STOP = '40300';

export interface TelnyxCredentials {
	apiKey: string;
	/** Send from the profile's number pool or alphanumeric sender instead of a from number. */
	messagingProfileId?: string;
	webhookUrl?: string;
}

export function buildTelnyxRequest(
	message: OutgoingSms,
	credentials: TelnyxCredentials,
	options: HttpProviderOptions = {},
): HttpRequest {
	const apiKey = requireCredential(credentials, 'apiKey', TELNYX, 'an API key');
	const body: Record<string, unknown> = { to: message.to, text: message.text };
	if (message.from) body.from = message.from;
	if (credentials.messagingProfileId) body.messaging_profile_id = credentials.messagingProfileId;
	if (!message.from && !credentials.messagingProfileId) {
		throw new EngineError(
			'missing_sender',
			'Telnyx needs a From number or a messaging profile ID in the credentials.',
			{ field: 'from' },
		);
	}
	if (credentials.webhookUrl) body.webhook_url = credentials.webhookUrl;
	return {
		method: 'POST',
		url: joinUrl(checkBaseUrl(options.baseUrl ?? TELNYX_BASE_URL, TELNYX), '/v2/messages'),
		headers: { Authorization: `Bearer ${apiKey}`, Accept: 'application/json' },
		body,
		timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
	};
}

export function readTelnyxResponse(response: HttpResponse): ProviderAccepted {
	const body = response.body as
		| {
				data?: { id?: string };
				errors?: Array<{ code?: string | number; title?: string; detail?: string }>;
		  }
		| undefined;
	if (isSuccess(response))
		return {
			provider: TELNYX,
			providerMessageId: typeof body === 'object' && body !== null ? body.data?.id : undefined,
		};
	const errors =
		typeof body === 'object' && body !== null && Array.isArray(body.errors) ? body.errors : [];
	const detail =
		errors.length > 0
			? errors.map((e) => providerText(e.detail ?? e.title)).join('; ')
			: providerText(body);
	const codes = errors.map((e) => String(e.code));
	if (codes.includes(TELNYX_BLOCKED_BY_STOP)) {
		throw new DeliveryError(
			'suppressed',
			TELNYX,
			`${TELNYX} refuses this recipient: they texted STOP (40300): ${detail}`,
			{
				status: response.status,
				providerCode: TELNYX_BLOCKED_BY_STOP,
			},
		);
	}
	throw httpFailure(TELNYX, response, detail, { providerCode: codes[0] });
}

export async function sendTelnyx(
	message: OutgoingSms,
	credentials: TelnyxCredentials,
	transport: HttpTransport,
	options: HttpProviderOptions = {},
): Promise<ProviderAccepted> {
	return readTelnyxResponse(
		await exchange(TELNYX, transport, buildTelnyxRequest(message, credentials, options)),
	);
}
