/* A loopback HTTP server for provider fakes: records every request (JSON or form bodies parsed),
 * answers through a handler, and can be scripted to answer the next requests differently,
 * including never answering at all ('hang') so client timeouts can be tested. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
	method: string;
	/** Path and query, e.g. "/v3/mail/send". */
	path: string;
	/** Lower-cased header names. */
	headers: Record<string, string>;
	rawBody: string;
	/** Parsed body when it was JSON. */
	json?: unknown;
	/** Parsed fields when it was a form. */
	form?: Record<string, string>;
}

export interface FakeResponse {
	status: number;
	headers?: Record<string, string>;
	/** Objects are sent as JSON; strings as text. */
	body?: unknown;
}

export type Scripted = FakeResponse | 'hang';

export interface HttpFake {
	/** Base URL, e.g. http://127.0.0.1:41234 */
	url: string;
	requests: RecordedRequest[];
	/** Answers for the next requests, in order; afterwards the handler answers again. */
	script(...responses: Scripted[]): void;
	close(): Promise<void>;
}

function readBody(request: IncomingMessage): Promise<string> {
	return new Promise((resolve, reject) => {
		const chunks: Buffer[] = [];
		request.on('data', (chunk: Buffer) => chunks.push(chunk));
		request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
		request.on('error', reject);
	});
}

function send(response: ServerResponse, answer: FakeResponse): void {
	const headers: Record<string, string> = { ...(answer.headers ?? {}) };
	let payload = '';
	if (answer.body !== undefined) {
		if (typeof answer.body === 'string') {
			payload = answer.body;
			headers['content-type'] ??= 'text/plain';
		} else {
			payload = JSON.stringify(answer.body);
			headers['content-type'] ??= 'application/json';
		}
	}
	response.writeHead(answer.status, headers);
	response.end(payload);
}

export async function startHttpFake(
	handler: (request: RecordedRequest) => FakeResponse,
): Promise<HttpFake> {
	const requests: RecordedRequest[] = [];
	const scripted: Scripted[] = [];
	const server: Server = createServer(async (request, response) => {
		const rawBody = await readBody(request);
		const headers: Record<string, string> = {};
		for (const [name, value] of Object.entries(request.headers))
			headers[name] = Array.isArray(value) ? value.join(', ') : (value ?? '');
		const recorded: RecordedRequest = {
			method: request.method ?? '',
			path: request.url ?? '',
			headers,
			rawBody,
		};
		const contentType = headers['content-type'] ?? '';
		if (contentType.includes('application/json') && rawBody !== '')
			recorded.json = JSON.parse(rawBody);
		if (contentType.includes('application/x-www-form-urlencoded'))
			recorded.form = Object.fromEntries(new URLSearchParams(rawBody));
		requests.push(recorded);
		const next = scripted.shift();
		if (next === 'hang') return; // never answer; the client's timeout must fire
		send(response, next ?? handler(recorded));
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const { port } = server.address() as AddressInfo;
	return {
		url: `http://127.0.0.1:${port}`,
		requests,
		script: (...responses) => scripted.push(...responses),
		close: () =>
			new Promise<void>((resolve) => {
				server.closeAllConnections();
				server.close(() => resolve());
			}),
	};
}
