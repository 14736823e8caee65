/* The OpenAI-compatible fake that the AI Agent e2e test points n8n at (test/support/fakeOpenAI.ts),
 * driven by the official `openai` client (the copy n8n 2.40.7 installs into .cache, when it is
 * there; this package does not depend on it) and by plain fetch. */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { callToolsThenEcho, startFakeOpenAI, type FakeOpenAI } from './fakeOpenAI';

const ROOT = path.resolve(__dirname, '../..');
const OPENAI_PACKAGE = path.join(ROOT, '.cache/n8n/2.40.7/node_modules/openai/package.json');

/** The parts of the openai client this test uses (the package's own types live in n8n's install). */
interface OpenAIClient {
	chat: { completions: { create(body: Record<string, unknown>): Promise<any> } };
	models: { list(): Promise<{ data: Array<{ id: string }> }> };
}
type OpenAIConstructor = new (options: {
	apiKey: string;
	baseURL: string;
	maxRetries?: number;
}) => OpenAIClient;

function loadOpenAI():
	{ OpenAI: OpenAIConstructor; APIError: new (...args: never[]) => Error } | undefined {
	if (!existsSync(OPENAI_PACKAGE)) return undefined;
	const module = createRequire(OPENAI_PACKAGE)('openai');
	return { OpenAI: module.OpenAI ?? module.default, APIError: module.APIError };
}
const openai = loadOpenAI();

const lookUp = { name: 'Referral_Code', arguments: { code: 'friend k7qm 3xh9' } };
const question = [
	{ role: 'system', content: 'You are a helpful assistant' },
	{ role: 'user', content: 'Is friend k7qm 3xh9 a valid code?' },
];
const tools = [
	{
		type: 'function',
		function: {
			name: 'Referral_Code',
			description: 'Normalize and validate a typed code in Referral Code',
			parameters: {
				type: 'object',
				properties: { code: { type: 'string', description: 'The code as typed' } },
				required: ['code'],
			},
		},
	},
];

let fake: FakeOpenAI | undefined;
afterEach(async () => {
	await fake?.close();
	fake = undefined;
});

async function post(url: string, body: unknown, apiKey = 'sk-test'): Promise<Response> {
	return await fetch(url, {
		method: 'POST',
		headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
		body: JSON.stringify(body),
	});
}

/** A response's JSON body, untyped for reading in assertions. */
async function json(response: Response): Promise<any> {
	return await response.json();
}

/** Reads an OpenAI server-sent-event stream into its JSON chunks (without the closing [DONE]). */
async function readEvents(response: Response): Promise<any[]> {
	const text = await response.text();
	expect(text.trimEnd().endsWith('data: [DONE]')).toBe(true);
	return text
		.split('\n\n')
		.filter((event) => event.startsWith('data: ') && event !== 'data: [DONE]')
		.map((event) => JSON.parse(event.slice('data: '.length)));
}

describe('fake OpenAI chat completions, over fetch', () => {
	it('calls the tool first, then echoes the tool result it was sent, and records both requests', async () => {
		fake = await startFakeOpenAI({ handler: callToolsThenEcho([lookUp]) });
		const first = await post(`${fake.baseURL}/chat/completions`, {
			model: 'gpt-fake',
			messages: question,
			tools,
		});
		expect(first.status).toBe(200);
		const firstJson = await json(first);
		expect(firstJson).toMatchObject({
			object: 'chat.completion',
			model: 'gpt-fake',
			choices: [
				{ index: 0, finish_reason: 'tool_calls', message: { role: 'assistant', content: null } },
			],
		});
		const [call] = firstJson.choices[0].message.tool_calls;
		expect(call).toEqual({
			id: expect.stringMatching(/^call_/),
			type: 'function',
			function: { name: 'Referral_Code', arguments: '{"code":"friend k7qm 3xh9"}' },
		});

		const toolResult = JSON.stringify([
			{ codeCheck: { valid: true, canonical: 'FRIEND-K7QM-3XH9' } },
		]);
		const second = await post(`${fake.baseURL}/chat/completions`, {
			model: 'gpt-fake',
			messages: [
				...question,
				firstJson.choices[0].message,
				{ role: 'tool', tool_call_id: call.id, content: toolResult },
			],
			tools,
		});
		const secondJson = await json(second);
		expect(secondJson.choices[0]).toMatchObject({
			finish_reason: 'stop',
			message: { role: 'assistant', content: `Tool Referral_Code returned: ${toolResult}` },
		});
		expect(secondJson.choices[0].message.tool_calls).toBeUndefined();

		expect(fake.chatRequests()).toHaveLength(2);
		expect(fake.chatRequests()[0].tools?.[0].function.name).toBe('Referral_Code');
		expect(fake.requests[0].headers.authorization).toBe('Bearer sk-test');
		expect(fake.toolResults()).toEqual([
			{
				toolCallId: call.id,
				name: 'Referral_Code',
				content: toolResult,
				json: [{ codeCheck: { valid: true, canonical: 'FRIEND-K7QM-3XH9' } }],
			},
		]);
	});

	it('answers from scripted turns first, in order, then from the handler', async () => {
		fake = await startFakeOpenAI({
			turns: [{ content: 'one' }],
			handler: () => ({ content: 'handler' }),
		});
		fake.script({
			toolCalls: [{ name: 'a', arguments: 'not json', id: 'call_given' }],
			content: 'thinking',
		});
		const answers = [];
		for (let i = 0; i < 3; i++)
			answers.push(
				(
					await json(
						await post(`${fake.baseURL}/chat/completions`, { model: 'm', messages: question }),
					)
				).choices[0],
			);
		expect(answers.map((a) => a.message.content)).toEqual(['one', 'thinking', 'handler']);
		expect(answers[1].message.tool_calls).toEqual([
			{ id: 'call_given', type: 'function', function: { name: 'a', arguments: 'not json' } },
		]);
		expect(answers[1].finish_reason).toBe('tool_calls');
	});

	it('answers errors in the documented OpenAI shape: scripted, wrong API key, unknown path, no messages', async () => {
		fake = await startFakeOpenAI({
			apiKey: 'sk-right',
			turns: [
				{
					error: {
						status: 429,
						message: 'Rate limit reached for gpt-fake',
						type: 'requests',
						code: 'rate_limit_exceeded',
					},
				},
			],
		});
		const limited = await post(
			`${fake.baseURL}/chat/completions`,
			{ model: 'm', messages: question },
			'sk-right',
		);
		expect(limited.status).toBe(429);
		expect(await limited.json()).toEqual({
			error: {
				message: 'Rate limit reached for gpt-fake',
				type: 'requests',
				param: null,
				code: 'rate_limit_exceeded',
			},
		});

		const wrongKey = await post(
			`${fake.baseURL}/chat/completions`,
			{ model: 'm', messages: question },
			'sk-wrong',
		);
		expect(wrongKey.status).toBe(401);
		expect((await json(wrongKey)).error).toMatchObject({
			type: 'invalid_request_error',
			code: 'invalid_api_key',
			param: null,
		});

		const unknown = await post(
			`${fake.baseURL}/responses`,
			{ model: 'm', input: 'hi' },
			'sk-right',
		);
		expect(unknown.status).toBe(404);
		expect((await json(unknown)).error.message).toContain('POST /v1/responses');

		const empty = await post(
			`${fake.baseURL}/chat/completions`,
			{ model: 'm', messages: [] },
			'sk-right',
		);
		expect(empty.status).toBe(400);
		expect((await json(empty)).error).toMatchObject({
			param: 'messages',
			code: 'missing_required_parameter',
		});
		expect(fake.requests).toHaveLength(4);
	});

	it('lists models at GET /v1/models (the credential test and the model list)', async () => {
		fake = await startFakeOpenAI({ models: ['gpt-fake', 'gpt-fake-mini'] });
		const response = await fetch(`${fake.baseURL}/models`, {
			headers: { authorization: 'Bearer x' },
		});
		expect(await response.json()).toMatchObject({
			object: 'list',
			data: [{ id: 'gpt-fake', object: 'model' }, { id: 'gpt-fake-mini' }],
		});
	});

	it('streams tool calls and the final answer as chat.completion.chunk events when asked to', async () => {
		fake = await startFakeOpenAI({ handler: callToolsThenEcho([lookUp]) });
		const toolEvents = await readEvents(
			await post(`${fake.baseURL}/chat/completions`, {
				model: 'm',
				messages: question,
				stream: true,
				stream_options: { include_usage: true },
			}),
		);
		expect(toolEvents.every((e) => e.object === 'chat.completion.chunk')).toBe(true);
		const deltas = toolEvents.flatMap((e) => e.choices.map((c: { delta: unknown }) => c.delta));
		const argumentsText = deltas
			.flatMap((d: any) => d.tool_calls ?? [])
			.map((t: any) => t.function?.arguments ?? '')
			.join('');
		expect(JSON.parse(argumentsText)).toEqual({ code: 'friend k7qm 3xh9' });
		expect(toolEvents.flatMap((e) => e.choices).at(-1).finish_reason).toBe('tool_calls');
		expect(toolEvents.at(-1).usage.total_tokens).toBeGreaterThan(0);

		const callId = deltas.flatMap((d: any) => d.tool_calls ?? []).find((t: any) => t.id).id;
		const finalEvents = await readEvents(
			await post(`${fake.baseURL}/chat/completions`, {
				model: 'm',
				stream: true,
				messages: [...question, { role: 'tool', tool_call_id: callId, content: '"ok"' }],
			}),
		);
		expect(
			finalEvents.flatMap((e) => e.choices.map((c: any) => c.delta.content ?? '')).join(''),
		).toBe(`Tool ${callId} returned: "ok"`);
		expect(finalEvents.at(-1).choices[0].finish_reason).toBe('stop');
	});
});

describe.skipIf(!openai)(
	'fake OpenAI chat completions, with the official openai client from n8n 2.40.7',
	() => {
		const client = (baseURL: string, apiKey = 'sk-test') =>
			new openai!.OpenAI({ apiKey, baseURL, maxRetries: 0 });

		it('runs a tool-call round trip as the OpenAI client sees it', async () => {
			fake = await startFakeOpenAI({ handler: callToolsThenEcho([lookUp]) });
			const ai = client(fake.baseURL);
			const first = await ai.chat.completions.create({
				model: 'gpt-fake',
				messages: question,
				tools,
			});
			expect(first.choices[0].finish_reason).toBe('tool_calls');
			const call = first.choices[0].message.tool_calls[0];
			expect(call.type).toBe('function');
			expect(JSON.parse(call.function.arguments)).toEqual({ code: 'friend k7qm 3xh9' });

			const final = await ai.chat.completions.create({
				model: 'gpt-fake',
				messages: [
					...question,
					first.choices[0].message,
					{ role: 'tool', tool_call_id: call.id, content: '[{"valid":true}]' },
				],
				tools,
			});
			expect(final.choices[0].message.content).toBe(
				'Tool Referral_Code returned: [{"valid":true}]',
			);
			expect(fake.toolResults()).toEqual([
				{
					toolCallId: call.id,
					name: 'Referral_Code',
					content: '[{"valid":true}]',
					json: [{ valid: true }],
				},
			]);
			expect(fake.requests.map((r) => r.headers['user-agent'])).toEqual([
				expect.stringMatching(/^OpenAI\/JS/),
				expect.stringMatching(/^OpenAI\/JS/),
			]);
		});

		it('streams to the client, which puts the tool call back together', async () => {
			fake = await startFakeOpenAI({ handler: callToolsThenEcho([lookUp]) });
			const stream = await client(fake.baseURL).chat.completions.create({
				model: 'gpt-fake',
				messages: question,
				tools,
				stream: true,
			});
			let name = '';
			let args = '';
			let finish: string | null = null;
			for await (const chunk of stream as AsyncIterable<any>) {
				for (const choice of chunk.choices) {
					for (const call of choice.delta.tool_calls ?? []) {
						name += call.function?.name ?? '';
						args += call.function?.arguments ?? '';
					}
					finish = choice.finish_reason ?? finish;
				}
			}
			expect({ name, args: JSON.parse(args), finish }).toEqual({
				name: 'Referral_Code',
				args: { code: 'friend k7qm 3xh9' },
				finish: 'tool_calls',
			});
		});

		it('gives the client an APIError with the status, type and code of a scripted error', async () => {
			fake = await startFakeOpenAI({
				turns: [
					{
						error: {
							status: 400,
							message: "Invalid 'messages[2].tool_call_id'",
							param: 'messages',
							code: 'invalid_value',
						},
					},
				],
			});
			const failure = await client(fake.baseURL)
				.chat.completions.create({ model: 'gpt-fake', messages: question })
				.then(
					() => undefined,
					(error: unknown) => error,
				);
			expect(failure).toBeInstanceOf(openai!.APIError);
			expect(failure).toMatchObject({
				status: 400,
				type: 'invalid_request_error',
				code: 'invalid_value',
				param: 'messages',
				message: "400 Invalid 'messages[2].tool_call_id'",
			});
		});

		it('gives the client a 401 AuthenticationError for a wrong API key, and lists models for the right one', async () => {
			fake = await startFakeOpenAI({ apiKey: 'sk-right' });
			const failure = await client(fake.baseURL, 'sk-wrong')
				.models.list()
				.then(
					() => undefined,
					(error: unknown) => error,
				);
			expect(failure).toMatchObject({ status: 401, code: 'invalid_api_key' });
			const listed = await client(fake.baseURL, 'sk-right').models.list();
			expect(listed.data.map((m) => m.id)).toEqual(['gpt-fake']);
		});
	},
);
