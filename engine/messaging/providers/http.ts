/* What the HTTP providers share: calling the injected transport, reading headers, and the default
 * classification of HTTP statuses (429 rate-limited, 408 and 5xx retryable, other 4xx permanent). */
import { EngineError } from '../../shared/errors';
import { parseRetryAfter } from '../reliability';
import { DeliveryError, type HttpRequest, type HttpResponse, type HttpTransport } from '../types';

export const DEFAULT_TIMEOUT_MS = 15_000;

export interface HttpProviderOptions {
	/** Overrides the provider's API origin, e.g. an EU region or a loopback fake in tests. */
	baseUrl?: string;
	timeoutMs?: number;
}

export function header(response: HttpResponse, name: string): string | undefined {
	const wanted = name.toLowerCase();
	for (const [key, value] of Object.entries(response.headers ?? {})) {
		if (key.toLowerCase() === wanted) return Array.isArray(value) ? value[0] : value;
	}
	return undefined;
}

export function joinUrl(baseUrl: string, path: string): string {
	return baseUrl.replace(/\/+$/, '') + path;
}

export function basicAuth(user: string, password: string): string {
	return 'Basic ' + Buffer.from(`${user}:${password}`, 'utf8').toString('base64');
}

export function requireCredential(
	credentials: object | undefined,
	name: string,
	provider: string,
	label: string,
): string {
	const value = (credentials as Record<string, unknown> | undefined)?.[name];
	if (typeof value !== 'string' || value.trim() === '') {
		throw new EngineError('missing_credentials', `${provider} credentials need ${label}.`, {
			field: name,
		});
	}
	return value.trim();
}

export function checkBaseUrl(baseUrl: string, provider: string): string {
	let url: URL;
	try {
		url = new URL(baseUrl);
	} catch {
		throw new EngineError(
			'invalid_base_url',
			`${provider} base URL "${baseUrl}" is not a URL such as https://api.example.com.`,
			{ field: 'baseUrl' },
		);
	}
	if (url.protocol !== 'https:' && url.protocol !== 'http:') {
		throw new EngineError(
			'invalid_base_url',
			`${provider} base URL must use https (or http for a local test server).`,
			{ field: 'baseUrl' },
		);
	}
	return baseUrl;
}

/** Calls the transport; a rejection (no response at all) becomes a retryable DeliveryError. */
export async function exchange(
	provider: string,
	transport: HttpTransport,
	request: HttpRequest,
): Promise<HttpResponse> {
	try {
		return await transport(request);
	} catch (error) {
		const reason =
			(error as Error)?.name === 'TimeoutError'
				? `no answer within ${request.timeoutMs} ms`
				: ((error as Error)?.message ?? String(error));
		throw new DeliveryError('retryable', provider, `${provider} could not be reached: ${reason}`, {
			cause: error,
		});
	}
}

export function isSuccess(response: HttpResponse): boolean {
	return response.status >= 200 && response.status < 300;
}

/** Shortens a provider's error text for messages; it never contains our credentials. */
export function providerText(text: unknown): string {
	const value =
		typeof text === 'string'
			? text
			: text === undefined || text === null
				? ''
				: JSON.stringify(text);
	const single = value.replace(/\s+/g, ' ').trim();
	return single.length > 300 ? single.slice(0, 300) + '…' : single;
}

/** The default classification of a failed HTTP answer; providers handle their own codes first. */
export function httpFailure(
	provider: string,
	response: HttpResponse,
	detail: string,
	options: { providerCode?: string; retryAfterMs?: number } = {},
): DeliveryError {
	const status = response.status;
	const said = detail ? `: ${detail}` : '';
	if (status === 429) {
		const retryAfterMs = options.retryAfterMs ?? parseRetryAfter(header(response, 'retry-after'));
		return new DeliveryError(
			'rate_limited',
			provider,
			`${provider} is rate limiting (HTTP 429)${said}`,
			{ status, providerCode: options.providerCode, retryAfterMs },
		);
	}
	if (status === 408 || status >= 500) {
		return new DeliveryError(
			'retryable',
			provider,
			`${provider} had a temporary failure (HTTP ${status})${said}`,
			{
				status,
				providerCode: options.providerCode,
				retryAfterMs: parseRetryAfter(header(response, 'retry-after')),
			},
		);
	}
	const hint = status === 401 || status === 403 ? ' Check the credentials.' : '';
	return new DeliveryError(
		'permanent',
		provider,
		`${provider} rejected the message (HTTP ${status})${said}${hint}`,
		{
			status,
			providerCode: options.providerCode,
		},
	);
}
