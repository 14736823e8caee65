/* A plain fetch-based HttpTransport for tests against loopback fakes. In n8n the node supplies one
 * built on httpRequestWithAuthentication; this one follows the same contract: resolve for every
 * HTTP status, reject only when no answer arrived (here: timeout or connection failure). */
import type { HttpTransport } from '../../engine/messaging';

export function fetchTransport(): HttpTransport {
	return async (request) => {
		const headers: Record<string, string> = { ...request.headers };
		let body: string | undefined;
		if (request.form !== undefined) {
			body = new URLSearchParams(request.form).toString();
			headers['Content-Type'] = 'application/x-www-form-urlencoded';
		} else if (request.body !== undefined) {
			body = JSON.stringify(request.body);
			headers['Content-Type'] = 'application/json';
		}
		const response = await fetch(request.url, {
			method: request.method,
			headers,
			body,
			signal: AbortSignal.timeout(request.timeoutMs),
		});
		const text = await response.text();
		const isJson = (response.headers.get('content-type') ?? '').includes('json') && text !== '';
		return {
			status: response.status,
			headers: Object.fromEntries(response.headers),
			body: isJson ? JSON.parse(text) : text,
		};
	};
}
