/* A loopback OpenAI-compatible chat-completions server for driving n8n's AI Agent (issue #19).
 *
 * n8n's OpenAI credential takes a Base URL (field `url`, e.g. http://127.0.0.1:PORT/v1); the
 * OpenAI Chat Model node (lmChatOpenAi, with "Use Responses API" off) then sends
 * `POST {url}/chat/completions`, and the credential test and the editor's model list send
 * `GET {url}/models`. This fake answers both, records every request, and answers chat requests
 * from scripted turns, first-in first-out, then from a handler (by default: call the scripted tool
 * while the conversation has no tool result yet, then echo the tool results back as the final
 * answer). Answers follow the documented OpenAI shapes: `choices[0].message.tool_calls[]` with
 * `{ id, type: 'function', function: { name, arguments } }` (arguments a JSON string) and
 * finish_reason 'tool_calls'; errors as `{ error: { message, type, param, code } }`. A request
 * with `stream: true` (n8n's agent streams when its trigger answers in streaming mode) is answered
 * as server-sent `chat.completion.chunk` events ending in `data: [DONE]`. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ChatToolCall {
	id: string;
	type: 'function';
	function: { name: string; arguments: string };
}

export interface ChatMessage {
	role: 'system' | 'developer' | 'user' | 'assistant' | 'tool' | string;
	/** Text, or content parts ({ type: 'text', text }) as some clients send them. */
	content?: string | null | Array<{ type: string; text?: string }>;
	tool_calls?: ChatToolCall[];
	tool_call_id?: string;
	name?: string;
}

export interface ChatTool {
	type: 'function';
	function: {
		name: string;
		description?: string;
		parameters?: Record<string, unknown>;
		strict?: boolean;
	};
}

export interface ChatCompletionRequest {
	model: string;
	messages: ChatMessage[];
	tools?: ChatTool[];
	tool_choice?: unknown;
	stream?: boolean;
	stream_options?: { include_usage?: boolean };
	[key: string]: unknown;
}

export interface RecordedOpenAIRequest {
	method: string;
	/** Path and query, e.g. "/v1/chat/completions". */
	path: string;
	/** Lower-cased header names. */
	headers: Record<string, string>;
	rawBody: string;
	/** The parsed body of a chat-completions request. */
	body?: ChatCompletionRequest;
}

/** A tool the model calls: `arguments` objects are sent as their JSON text, strings as they are (to test malformed JSON). */
export interface ScriptedToolCall {
	name: string;
	arguments: Record<string, unknown> | string;
	id?: string;
}

/** One answer of the model. */
export type Turn =
	| { toolCalls: ScriptedToolCall[]; content?: string | null }
	| { content: string }
	| {
			error: {
				status: number;
				message: string;
				type?: string;
				param?: string | null;
				code?: string | null;
			};
	  };

export type TurnHandler = (request: ChatCompletionRequest, recorded: RecordedOpenAIRequest) => Turn;

export interface ToolResult {
	toolCallId: string;
	/** The name of the tool the assistant called with this id, when the request carries that call. */
	name?: string;
	/** The tool message's content as the model received it. */
	content: string;
	/** `content` parsed as JSON, when it is JSON (n8n sends the tool's output items as a JSON array). */
	json?: unknown;
}

export interface FakeOpenAIOptions {
	/** Answers for the first chat requests, in order; afterwards `handler` answers. */
	turns?: Turn[];
	/** Answers chat requests once the scripted turns are used up. Default: an echo of the tool results, or "(no tool result)". */
	handler?: TurnHandler;
	/** When set, requests without `Authorization: Bearer <apiKey>` get OpenAI's 401 (invalid_api_key). */
	apiKey?: string;
	/** Model ids GET /models lists. Default ['gpt-fake']. */
	models?: string[];
}

export interface FakeOpenAI {
	/** Base URL for n8n's OpenAI credential (its `url` field) or the openai client's `baseURL`: http://127.0.0.1:PORT/v1 */
	baseURL: string;
	/** Every request, in arrival order (models listings and rejected requests included). */
	requests: RecordedOpenAIRequest[];
	/** The parsed bodies of the chat-completions requests, in order. */
	chatRequests(): ChatCompletionRequest[];
	/** Every tool result the model was sent (role 'tool' messages), once per tool_call_id, in order. */
	toolResults(): ToolResult[];
	/** Queues answers for the next chat requests, after those still queued; the handler answers once they are used up. */
	script(...turns: Turn[]): void;
	close(): Promise<void>;
}

const CHAT_PATH = /\/chat\/completions(?:\?.*)?$/;
const MODELS_PATH = /\/models(?:\?.*)?$/;

/** A message's text, whether sent as a string or as content parts. */
export function messageText(message: ChatMessage): string {
	if (typeof message.content === 'string') return message.content;
	if (Array.isArray(message.content))
		return message.content.map((part) => part.text ?? '').join('');
	return '';
}

/** Tool results in one request: its role 'tool' messages, named after the assistant tool call they answer. */
export function toolResultsOf(request: ChatCompletionRequest): ToolResult[] {
	const names = new Map<string, string>();
	for (const message of request.messages ?? [])
		for (const call of message.tool_calls ?? []) names.set(call.id, call.function.name);
	return (request.messages ?? [])
		.filter((message) => message.role === 'tool')
		.map((message) => {
			const content = messageText(message);
			const result: ToolResult = { toolCallId: message.tool_call_id ?? '', content };
			const name = names.get(result.toolCallId);
			if (name !== undefined) result.name = name;
			try {
				result.json = JSON.parse(content);
			} catch {
				/* not JSON: content says it */
			}
			return result;
		});
}

/**
 * The handler of a one-tool conversation: while the request carries no tool result, call `calls`;
 * once it does, answer with a final message that quotes every tool result (so an e2e test can read
 * what the model was given in the agent's output as well as in `toolResults()`).
 */
export function callToolsThenEcho(calls: ScriptedToolCall[]): TurnHandler {
	return (request) => {
		const results = toolResultsOf(request);
		if (results.length === 0) return { toolCalls: calls };
		return { content: echoContent(results) };
	};
}

export function echoContent(results: ToolResult[]): string {
	return results
		.map((result) => `Tool ${result.name ?? result.toolCallId} returned: ${result.content}`)
		.join('\n');
}

const defaultHandler: TurnHandler = (request) => {
	const results = toolResultsOf(request);
	return { content: results.length > 0 ? echoContent(results) : '(no tool result)' };
};

function readBody(request: IncomingMessage): Promise<string> {
	return new Promise((resolve, reject) => {
		const chunks: Buffer[] = [];
		request.on('data', (chunk: Buffer) => chunks.push(chunk));
		request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
		request.on('error', reject);
	});
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
	const payload = JSON.stringify(body);
	response.writeHead(status, {
		'content-type': 'application/json',
		'content-length': Buffer.byteLength(payload),
	});
	response.end(payload);
}

function sendError(
	response: ServerResponse,
	status: number,
	message: string,
	type: string,
	code: string | null = null,
	param: string | null = null,
): void {
	sendJson(response, status, { error: { message, type, param, code } });
}

/** A rough token count for `usage` (clients only read it; nothing depends on it). */
function tokens(text: string): number {
	return Math.max(1, Math.ceil(text.length / 4));
}

export async function startFakeOpenAI(options: FakeOpenAIOptions = {}): Promise<FakeOpenAI> {
	const requests: RecordedOpenAIRequest[] = [];
	const scripted: Turn[] = [...(options.turns ?? [])];
	const handler = options.handler ?? defaultHandler;
	const models = options.models ?? ['gpt-fake'];
	let completions = 0;
	let callIds = 0;

	function answer(response: ServerResponse, body: ChatCompletionRequest, turn: Turn): void {
		if ('error' in turn) {
			const {
				status,
				message,
				type = 'invalid_request_error',
				param = null,
				code = null,
			} = turn.error;
			sendError(response, status, message, type, code, param);
			return;
		}
		completions += 1;
		const id = `chatcmpl-fake-${completions}`;
		const created = Math.floor(Date.now() / 1000);
		const model = typeof body.model === 'string' ? body.model : models[0];
		const toolCalls: ChatToolCall[] | undefined =
			'toolCalls' in turn
				? turn.toolCalls.map((call) => ({
						id: call.id ?? `call_fake_${++callIds}`,
						type: 'function' as const,
						function: {
							name: call.name,
							arguments:
								typeof call.arguments === 'string'
									? call.arguments
									: JSON.stringify(call.arguments),
						},
					}))
				: undefined;
		const content = 'toolCalls' in turn ? (turn.content ?? null) : turn.content;
		const finishReason = toolCalls ? 'tool_calls' : 'stop';
		const promptTokens = tokens(JSON.stringify(body.messages ?? []));
		const completionTokens = tokens((content ?? '') + JSON.stringify(toolCalls ?? []));
		const usage = {
			prompt_tokens: promptTokens,
			completion_tokens: completionTokens,
			total_tokens: promptTokens + completionTokens,
		};

		if (body.stream !== true) {
			sendJson(response, 200, {
				id,
				object: 'chat.completion',
				created,
				model,
				choices: [
					{
						index: 0,
						message: {
							role: 'assistant',
							content,
							refusal: null,
							...(toolCalls ? { tool_calls: toolCalls } : {}),
						},
						logprobs: null,
						finish_reason: finishReason,
					},
				],
				usage,
				system_fingerprint: null,
			});
			return;
		}
		// Server-sent events, as OpenAI streams: role first, then content, then each tool call (name and arguments), then the finish reason.
		response.writeHead(200, {
			'content-type': 'text/event-stream',
			'cache-control': 'no-cache',
			connection: 'keep-alive',
		});
		const chunk = (delta: Record<string, unknown>, finish: string | null) =>
			response.write(
				`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, system_fingerprint: null, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] })}\n\n`,
			);
		chunk({ role: 'assistant', content: toolCalls ? null : '' }, null);
		if (content) chunk({ content }, null);
		toolCalls?.forEach((call, index) => {
			chunk(
				{
					tool_calls: [
						{
							index,
							id: call.id,
							type: 'function',
							function: { name: call.function.name, arguments: '' },
						},
					],
				},
				null,
			);
			chunk({ tool_calls: [{ index, function: { arguments: call.function.arguments } }] }, null);
		});
		chunk({}, finishReason);
		if (body.stream_options?.include_usage)
			response.write(
				`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [], usage })}\n\n`,
			);
		response.end('data: [DONE]\n\n');
	}

	const server: Server = createServer(async (request, response) => {
		const rawBody = await readBody(request);
		const headers: Record<string, string> = {};
		for (const [name, value] of Object.entries(request.headers))
			headers[name] = Array.isArray(value) ? value.join(', ') : (value ?? '');
		const recorded: RecordedOpenAIRequest = {
			method: request.method ?? '',
			path: request.url ?? '',
			headers,
			rawBody,
		};
		requests.push(recorded);

		if (options.apiKey !== undefined && headers.authorization !== `Bearer ${options.apiKey}`) {
			sendError(
				response,
				401,
				'Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.',
				'invalid_request_error',
				'invalid_api_key',
			);
			return;
		}
		if (request.method === 'GET' && MODELS_PATH.test(recorded.path)) {
			sendJson(response, 200, {
				object: 'list',
				data: models.map((id) => ({
					id,
					object: 'model',
					created: 1_700_000_000,
					owned_by: 'fake-openai',
				})),
			});
			return;
		}
		if (request.method !== 'POST' || !CHAT_PATH.test(recorded.path)) {
			sendError(
				response,
				404,
				`Unknown request URL: ${request.method} ${recorded.path}. This fake answers POST /v1/chat/completions and GET /v1/models.`,
				'invalid_request_error',
				'unknown_url',
			);
			return;
		}
		let body: ChatCompletionRequest;
		try {
			body = JSON.parse(rawBody) as ChatCompletionRequest;
		} catch {
			sendError(
				response,
				400,
				'We could not parse the JSON body of your request.',
				'invalid_request_error',
			);
			return;
		}
		recorded.body = body;
		if (!Array.isArray(body.messages) || body.messages.length === 0) {
			sendError(
				response,
				400,
				"Missing required parameter: 'messages'.",
				'invalid_request_error',
				'missing_required_parameter',
				'messages',
			);
			return;
		}
		let turn: Turn;
		try {
			turn = scripted.shift() ?? handler(body, recorded);
		} catch (error) {
			sendError(
				response,
				500,
				`The fake's handler failed: ${error instanceof Error ? error.message : String(error)}`,
				'server_error',
			);
			return;
		}
		answer(response, body, turn);
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const { port } = server.address() as AddressInfo;

	const chatRequests = () => requests.flatMap((r) => (r.body ? [r.body] : []));
	return {
		baseURL: `http://127.0.0.1:${port}/v1`,
		requests,
		chatRequests,
		toolResults: () => {
			const seen = new Set<string>();
			const results: ToolResult[] = [];
			for (const body of chatRequests())
				for (const result of toolResultsOf(body)) {
					const key = result.toolCallId || `${results.length}`;
					if (seen.has(key)) continue;
					seen.add(key);
					results.push(result);
				}
			return results;
		},
		script: (...turns) => scripted.push(...turns),
		close: () =>
			new Promise<void>((resolve) => {
				server.closeAllConnections();
				server.close(() => resolve());
			}),
	};
}
