/* DRAFT for issue #19: the Referral Code node as a tool of n8n 2.40.7's AI Agent (Tools Agent v3.1),
 * with the OpenAI Chat Model (lmChatOpenAi 1.3, Responses API off) pointed at a loopback fake
 * (test/support/fakeOpenAI.ts) through the OpenAI credential's Base URL. A Webhook trigger stands in
 * for the Chat Trigger so the test can send a request header that must never reach the model.
 *
 * The fake plays the model: first it calls one of the attached tools with the arguments of the case,
 * then, once n8n sends it the tool result (a role 'tool' message), it answers with a final message
 * that quotes that result. The assertions read what the model was sent.
 *
 * Today's nodes fail the #19 assertions (marked it.fails): Code Field names a field, so the code
 * `$fromAI` returns is read as a field path; and tool results echo the agent's input item (the
 * webhook's headers included). What passes today documents n8n's side (tool name, argument schema)
 * and the trick expression that works around the field path. Cases run in beforeAll, one webhook
 * call each; the log prints every tool result the fake received. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CodeGenerator, parseCodeFormat } from '../../engine/codes';
// @ts-expect-error plain ESM script without types
import * as n8n from '../../scripts/n8n.mjs';
import {
	messageText,
	startFakeOpenAI,
	toolResultsOf,
	echoContent,
	type ChatCompletionRequest,
	type FakeOpenAI,
	type ToolResult,
	type Turn,
} from '../support/fakeOpenAI';

const WORKFLOW_ID = 'rmAiAgentDraft01';
const CREDENTIAL = { id: 'rmFakeOpenAi0001', name: 'Fake OpenAI' };
const WEBHOOK_PATH = 'referral/ai-agent-draft';
/** A secret the webhook caller sends; no tool result may carry it to the model (#19). */
const CANARY = `Bearer canary-${Math.random().toString(36).slice(2)}`;
const FORMAT = { pattern: 'XXXX-XXXX', prefix: 'FRIEND-' };
const ARGUMENT = "$fromAI('code', 'The referral code exactly as the person typed it', 'string')";

/** Tool nodes: their names become the tool names the model calls (nodeNameToToolName: non-word characters to '_'). */
const TOOLS = {
	/** What n8n's docs and the editor's ✨ button produce: the argument straight in Code Field. */
	direct: {
		node: 'Check Referral Code',
		tool: 'Check_Referral_Code',
		codeField: `={{ ${ARGUMENT} }}`,
	},
	/** The workaround of issue #19: the argument only declares the schema; the field path stays "code" (n8n merges tool arguments into the item). */
	trick: {
		node: 'Check Code Workaround',
		tool: 'Check_Code_Workaround',
		codeField: `={{ ${ARGUMENT} ? 'code' : 'code' }}`,
	},
};

function workflow() {
	const toolNode = (key: keyof typeof TOOLS, y: number) => ({
		id: `ai-draft-${key}`,
		name: TOOLS[key].node,
		type: 'n8n-nodes-referral-marketing.referralCodeTool',
		typeVersion: 1,
		position: [480, y],
		parameters: {
			resource: 'code',
			operation: 'normalize',
			codeField: TOOLS[key].codeField,
			resultField: 'codeCheck',
			codeFormat: FORMAT,
		},
	});
	return {
		id: WORKFLOW_ID,
		name: 'Draft (#19): Referral Code as an AI Agent tool',
		nodes: [
			{
				id: 'ai-draft-webhook',
				name: 'Chat Request',
				type: 'n8n-nodes-base.webhook',
				typeVersion: 2.1,
				position: [0, 0],
				webhookId: '7d1e5a40-19ab-4c3e-8f00-00000000a119',
				parameters: {
					httpMethod: 'POST',
					path: WEBHOOK_PATH,
					responseMode: 'lastNode',
					options: {},
				},
			},
			{
				id: 'ai-draft-agent',
				name: 'AI Agent',
				type: '@n8n/n8n-nodes-langchain.agent',
				typeVersion: 3.1,
				position: [240, 0],
				parameters: {
					promptType: 'define',
					text: '={{ $json.body.message }}',
					options: { systemMessage: 'You help with referral codes. Use the tools.' },
				},
			},
			{
				id: 'ai-draft-model',
				name: 'OpenAI Chat Model',
				type: '@n8n/n8n-nodes-langchain.lmChatOpenAi',
				typeVersion: 1.3,
				position: [160, 240],
				parameters: {
					model: { __rl: true, mode: 'id', value: 'gpt-fake' },
					responsesApiEnabled: false,
					options: { maxRetries: 0 },
				},
				credentials: { openAiApi: CREDENTIAL },
			},
			toolNode('direct', 240),
			toolNode('trick', 400),
		],
		connections: {
			'Chat Request': { main: [[{ node: 'AI Agent', type: 'main', index: 0 }]] },
			'OpenAI Chat Model': {
				ai_languageModel: [[{ node: 'AI Agent', type: 'ai_languageModel', index: 0 }]],
			},
			[TOOLS.direct.node]: { ai_tool: [[{ node: 'AI Agent', type: 'ai_tool', index: 0 }]] },
			[TOOLS.trick.node]: { ai_tool: [[{ node: 'AI Agent', type: 'ai_tool', index: 0 }]] },
		},
		active: false,
		settings: { executionOrder: 'v1' },
		pinData: {},
	};
}

interface Case {
	name: string;
	tool: keyof typeof TOOLS;
	arguments: Record<string, unknown>;
}

/** The model's part: the user message names the case; the first answer calls its tool, the second quotes the result. */
function modelFor(cases: Case[]): (request: ChatCompletionRequest) => Turn {
	return (request) => {
		const results = toolResultsOf(request);
		if (results.length > 0) return { content: echoContent(results) };
		const user = [...request.messages].reverse().find((m) => m.role === 'user');
		const text = user ? messageText(user) : '';
		const found = cases.find((c) => text.startsWith(`[${c.name}]`));
		if (!found) return { content: `(the fake has no case for "${text}")` };
		return { toolCalls: [{ name: TOOLS[found.tool].tool, arguments: found.arguments }] };
	};
}

const log = (message: string) => process.stdout.write(`[ai-agent e2e] ${message}\n`);

describe('Referral Code as a tool of the AI Agent in real n8n 2.40.7 (draft, #19)', () => {
	const format = parseCodeFormat(FORMAT);
	const valid = new CodeGenerator(format).next();
	const typed = valid.toLowerCase().replace(/-/g, ' ');
	const cases: Case[] = [
		{ name: 'direct', tool: 'direct', arguments: { code: typed } },
		{ name: 'workaround', tool: 'trick', arguments: { code: typed } },
		{ name: 'missing', tool: 'direct', arguments: {} },
	];
	let fake: FakeOpenAI;
	let userFolder: string;
	let server: { baseUrl: string; stop: () => Promise<void> } | undefined;
	/** Per case: what the webhook answered (the agent's output) and the tool result the model was sent. */
	const seen = new Map<
		string,
		{ status: number; answer: unknown; result?: ToolResult; firstRequest?: ChatCompletionRequest }
	>();

	beforeAll(async () => {
		fake = await startFakeOpenAI({ handler: modelFor(cases), apiKey: 'sk-fake-n8n' });
		userFolder = mkdtempSync(path.join(os.tmpdir(), 'rm-ai-e2e-'));
		const file = path.join(userFolder, 'ai-agent-draft.json');
		writeFileSync(file, JSON.stringify(workflow(), null, '\t'));
		({ server } = await n8n.startInstance(userFolder, {
			files: [file],
			credentials: [
				{
					...CREDENTIAL,
					type: 'openAiApi',
					data: { apiKey: 'sk-fake-n8n', organizationId: '', url: fake.baseURL, header: false },
				},
			],
		}));
		const url = `${server!.baseUrl}/webhook/${WEBHOOK_PATH}`;
		for (const c of cases) {
			const before = fake.chatRequests().length;
			const init = {
				method: 'POST',
				headers: { 'content-type': 'application/json', authorization: CANARY },
				body: JSON.stringify({ message: `[${c.name}] Is ${typed} a valid referral code?` }),
			};
			const response = await n8n.waitForWebhook(url, init);
			const text = await response.text();
			let answer: unknown = text;
			try {
				answer = JSON.parse(text);
			} catch {
				/* kept as text */
			}
			const requests = fake.chatRequests().slice(before);
			const result = requests.flatMap((r) => toolResultsOf(r))[0];
			seen.set(c.name, { status: response.status, answer, result, firstRequest: requests[0] });
			log(
				`case ${c.name}: tool ${TOOLS[c.tool].tool}(${JSON.stringify(c.arguments)}) → HTTP ${response.status}; ${requests.length} model requests`,
			);
			log(`case ${c.name}: tool result the model was sent: ${result?.content ?? '(none)'}`);
			log(`case ${c.name}: agent answer: ${text.slice(0, 2000)}`);
		}
		const tools = fake.chatRequests()[0]?.tools ?? [];
		log(`tools offered to the model: ${JSON.stringify(tools)}`);
		const { tools: _tools, ...second } = fake.chatRequests()[1] ?? {};
		log(
			`the model request that carries the tool result (tools left out): ${JSON.stringify(second)}`,
		);
	});

	afterAll(async () => {
		await server?.stop();
		await fake?.close();
		if (userFolder) rmSync(userFolder, { recursive: true, force: true });
	});

	// n8n's side, true today: the tool is offered under its node name with the $fromAI argument as its schema.
	it('offers each tool node as a function whose parameters are the $fromAI arguments', () => {
		const tools = seen.get('direct')?.firstRequest?.tools ?? [];
		expect(tools.map((t) => t.function.name).sort()).toEqual(
			[TOOLS.trick.tool, TOOLS.direct.tool].sort(),
		);
		const direct = tools.find((t) => t.function.name === TOOLS.direct.tool)!;
		expect(direct.function.parameters).toMatchObject({
			type: 'object',
			properties: {
				code: { type: 'string', description: 'The referral code exactly as the person typed it' },
			},
			required: ['code'],
		});
		// descriptionType 'auto': "<operation action> in <defaults.name>" (n8n-workflow makeDescription).
		expect(direct.function.description).toBe(
			'Normalize and validate a typed code in Referral Code',
		);
	});

	it('calls the model without streaming behind a Webhook that answers with its last node', () => {
		for (const request of fake.chatRequests()) expect(request.stream ?? false).toBe(false);
	});

	it('sends every tool result back to the model and answers the webhook with the agent output', () => {
		for (const c of cases) {
			const s = seen.get(c.name)!;
			expect(s.status, `case ${c.name}`).toBe(200);
			expect(s.result, `case ${c.name}: a tool result`).toBeDefined();
			expect(s.answer, `case ${c.name}`).toMatchObject({
				output: expect.stringContaining(`Tool ${TOOLS[c.tool].tool} returned:`),
			});
		}
	});

	it('works today only through the workaround expression: the check is in the tool result', () => {
		const json = seen.get('workaround')!.result!.json as Array<Record<string, any>>;
		expect(json[0].codeCheck).toMatchObject({ canonical: valid, valid: true });
	});

	// #19: in Value mode the code $fromAI returns is the code, not a field path.
	// Observed 2026-12-03: [{"error":"The input has no field \"friend mxbt ze9n\"; set Code Field to the name of the field that holds the code [item 0]"}]
	it.fails('checks the code the model passed with $fromAI straight in the parameter', () => {
		const json = seen.get('direct')!.result!.json as Array<Record<string, any>>;
		expect(json[0].error).toBeUndefined();
		expect(json.some((item) => JSON.stringify(item).includes(`"canonical":"${valid}"`))).toBe(true);
	});

	// #19: tool results carry the node's result only; the trigger's item (headers, cookies, tokens) never reaches the model.
	// Observed 2026-12-03 (workaround case): [{"headers":{…,"authorization":"Bearer canary-…",…},"params":{},"query":{},"body":{…},
	// "webhookUrl":"…","executionMode":"production","code":"friend mxbt ze9n","toolCallId":"call_fake_2","codeCheck":{…,"valid":true}}]
	it.fails('sends the model no trigger data: no headers, no Authorization', () => {
		for (const c of cases) {
			const content = seen.get(c.name)!.result!.content;
			expect(content, `case ${c.name}`).not.toContain(CANARY);
			expect(content, `case ${c.name}`).not.toMatch(/"headers"/);
		}
	});

	// #19: errors in tool mode speak to the caller (the argument's name), not to the workflow builder ("set Code Field").
	// Observed 2026-12-03 (tool called with {}): [{"error":"Cannot read properties of undefined (reading 'replace') [item 0]"}]
	it.fails('tells the model which argument is missing when it calls without `code`', () => {
		const content = seen.get('missing')!.result!.content;
		expect(content).toMatch(/`code`|"code"|'code'/);
		expect(content).not.toMatch(/Code Field/);
	});
});
