/* Twilio Programmable Messaging: POST /2010-04-01/Accounts/{AccountSid}/Messages.json as a form, Basic
 * auth (Account SID + Auth Token, or API key SID + secret), 201 {sid}. Errors are {code, message, status};
 * 21610 means the recipient replied STOP, 20429 (HTTP 429) means too many concurrent requests. */
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

export const TWILIO = 'Twilio';
export const TWILIO_BASE_URL = 'https://api.twilio.com';
export const TWILIO_UNSUBSCRIBED_RECIPIENT = 21610;
export const TWILIO_TOO_MANY_REQUESTS = 20429;

export interface TwilioCredentials {
	accountSid: string;
	authToken?: string;
	/** An API key pair may replace the Auth Token. */
	apiKeySid?: string;
	apiKeySecret?: string;
	/** Send through a Messaging Service (sender pool, queueing) instead of a From number. */
	messagingServiceSid?: string;
	statusCallbackUrl?: string;
}

export function buildTwilioRequest(
	message: OutgoingSms,
	credentials: TwilioCredentials,
	options: HttpProviderOptions = {},
): HttpRequest {
	const accountSid = requireCredential(credentials, 'accountSid', TWILIO, 'an Account SID');
	const useApiKey =
		typeof credentials.apiKeySid === 'string' && credentials.apiKeySid.trim() !== '';
	const user = useApiKey ? credentials.apiKeySid!.trim() : accountSid;
	const password = useApiKey
		? requireCredential(credentials, 'apiKeySecret', TWILIO, 'the API key secret')
		: requireCredential(
				credentials,
				'authToken',
				TWILIO,
				'an Auth Token (or an API key SID and secret)',
			);
	const form: Record<string, string> = { To: message.to, Body: message.text };
	if (credentials.messagingServiceSid) form.MessagingServiceSid = credentials.messagingServiceSid;
	else if (message.from) form.From = message.from;
	else
		throw new EngineError(
			'missing_sender',
			'Twilio needs a From number or a Messaging Service SID in the credentials.',
			{ field: 'from' },
		);
	if (credentials.statusCallbackUrl) form.StatusCallback = credentials.statusCallbackUrl;
	return {
		method: 'POST',
		url: joinUrl(
			checkBaseUrl(options.baseUrl ?? TWILIO_BASE_URL, TWILIO),
			`/2010-04-01/Accounts/${encodeURIComponent(accountSid)}/Messages.json`,
		),
		headers: { Authorization: basicAuth(user, password), Accept: 'application/json' },
		form,
		timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
	};
}

export function readTwilioResponse(response: HttpResponse): ProviderAccepted {
	const body = response.body as { sid?: string; code?: number; message?: string } | undefined;
	if (isSuccess(response)) return { provider: TWILIO, providerMessageId: body?.sid };
	const code = typeof body === 'object' && body !== null ? body.code : undefined;
	const detail = providerText(typeof body === 'object' && body !== null ? body.message : body);
	const providerCode = code === undefined ? undefined : String(code);
	if (code === TWILIO_UNSUBSCRIBED_RECIPIENT) {
		throw new DeliveryError(
			'suppressed',
			TWILIO,
			`${TWILIO} refuses this recipient: they replied STOP (${code}): ${detail}`,
			{ status: response.status, providerCode },
		);
	}
	if (code === TWILIO_TOO_MANY_REQUESTS) {
		throw httpFailure(TWILIO, { ...response, status: 429 }, detail, { providerCode });
	}
	throw httpFailure(TWILIO, response, providerCode ? `${detail} (code ${providerCode})` : detail, {
		providerCode,
	});
}

export async function sendTwilio(
	message: OutgoingSms,
	credentials: TwilioCredentials,
	transport: HttpTransport,
	options: HttpProviderOptions = {},
): Promise<ProviderAccepted> {
	return readTwilioResponse(
		await exchange(TWILIO, transport, buildTwilioRequest(message, credentials, options)),
	);
}
