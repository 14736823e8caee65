/* Issue #19 in a real n8n 2.40.7: the tools of the sample workflow workflows/ai-referral-assistant.json
 * (Referral Code › Normalize, Referral › Enrol and Get, Lead Score › Score Leads, Templated Message ›
 * Render, all in Values mode with `$fromAI`) attached to the AI Agent (Tools Agent 3, the sample's version) with the
 * OpenAI Chat Model (lmChatOpenAi 1.3, Responses API off) pointed at a loopback fake
 * (test/support/fakeOpenAI.ts) through the OpenAI credential's Base URL. A Webhook trigger stands in
 * for the Chat Trigger so the test can send a request header that must never reach the model; the
 * sample workflow itself is imported and published beside it (its Chat Trigger, unchanged).
 *
 * The fake plays the model: the user message names a case of the table below; the first answer calls
 * that case's tool with its arguments, the second (once n8n sends the tool result) quotes the result.
 * The assertions read what the model was sent, and the ledger. Cases run in beforeAll, one webhook
 * call each, in order (the retry comes after the first enrolment); the log prints every tool result. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CodeGenerator, parseCodeFormat } from '../../engine/codes';
import { closeAllLedgers, defaultSqlitePath, openLedger } from '../../engine/ledger';
import { n8nDataFolder } from '../../engine/shared/environment';
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

// Tool results are JSON checked field by field below; a loose type keeps those checks readable.
type Json = any;

const SAMPLE = path.join(n8n.ROOT, 'workflows', 'ai-referral-assistant.json');
const WORKFLOW_ID = 'rmAiAgentE2e0001';
const WEBHOOK_PATH = 'referral/ai-agent-e2e';
/** A secret the webhook caller sends; no tool result may carry it to the model (#19). */
const CANARY = `Bearer canary-${Math.random().toString(36).slice(2)}`;

interface WorkflowNode {
	id: string;
	name: string;
	type: string;
	typeVersion: number;
	position: number[];
	parameters: Record<string, any>;
	credentials?: Record<string, { id: string; name: string }>;
}
interface Workflow {
	id: string;
	name: string;
	nodes: WorkflowNode[];
	connections: Record<string, any>;
	[key: string]: unknown;
}

const sample = JSON.parse(readFileSync(SAMPLE, 'utf8')) as Workflow;
const CREDENTIAL = sample.nodes.find((n) => n.name === 'OpenAI Chat Model')!.credentials!.openAiApi;
const toolNodes = sample.nodes.filter((n) => n.type.endsWith('Tool'));
const FORMAT = toolNodes.find((n) => n.name === 'Check Referral Code')!.parameters.codeFormat as {
	pattern: string;
	prefix: string;
};

/** n8n's tool name for a node (nodeNameToToolName: non-word characters become '_'). */
const toolName = (node: string) => node.replace(/[^\w]/g, '_');

/** The sample's tools behind a Webhook instead of the Chat Trigger; the model on the fake's model id. */
function workflow(): Workflow {
	const agent = sample.nodes.find((n) => n.type === '@n8n/n8n-nodes-langchain.agent')!;
	const model = sample.nodes.find((n) => n.type === '@n8n/n8n-nodes-langchain.lmChatOpenAi')!;
	const connections: Record<string, any> = {
		'Chat Request': { main: [[{ node: agent.name, type: 'main', index: 0 }]] },
	};
	for (const [from, outputs] of Object.entries(sample.connections))
		if (from !== 'When Chat Message Received') connections[from] = outputs;
	return {
		id: WORKFLOW_ID,
		name: 'e2e (#19): the referral assistant tools behind a webhook',
		nodes: [
			{
				id: 'ai-e2e-webhook',
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
			} as WorkflowNode,
			{
				...agent,
				parameters: {
					...agent.parameters,
					promptType: 'define',
					text: '={{ $json.body.message }}',
				},
			},
			{
				...model,
				parameters: {
					...model.parameters,
					model: { __rl: true, mode: 'id', value: 'gpt-fake' },
					responsesApiEnabled: false,
					options: { maxRetries: 0 },
				},
			},
			...toolNodes.map((n) => ({ ...n, id: `${n.id}-e2e` })),
		],
		connections,
		active: false,
		settings: { executionOrder: 'v1' },
		pinData: {},
	};
}

interface Case {
	name: string;
	tool: string;
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
		return { toolCalls: [{ name: toolName(found.tool), arguments: found.arguments }] };
	};
}

const log = (message: string) => process.stdout.write(`[ai-agent e2e] ${message}\n`);

describe('the referral assistant tools in the AI Agent of a real n8n 2.40.7 (#19)', () => {
	const format = parseCodeFormat(FORMAT);
	const valid = new CodeGenerator(format).next();
	const typed = valid.toLowerCase().replace(/-/g, ' ');
	// One character changed: the check character catches it.
	const last = typed.at(-2) === 'a' ? 'b' : 'a';
	const typo = `${typed.slice(0, -2)}${last}${typed.slice(-1)}`;
	const ann = { email: 'ann@example.com', name: 'Ann' };
	const cases: Case[] = [
		{ name: 'code-valid', tool: 'Check Referral Code', arguments: { code: typed } },
		{ name: 'code-typo', tool: 'Check Referral Code', arguments: { code: typo } },
		{ name: 'code-missing', tool: 'Check Referral Code', arguments: {} },
		{ name: 'enrol-new', tool: 'Enrol Participant', arguments: ann },
		{ name: 'enrol-retry', tool: 'Enrol Participant', arguments: ann },
		{ name: 'status-existing', tool: 'Get Referral Status', arguments: { email: ann.email } },
		{
			name: 'status-unknown',
			tool: 'Get Referral Status',
			arguments: { email: 'zed@example.com' },
		},
		{
			name: 'lead-hot',
			tool: 'Score Lead',
			arguments: { employees: 200, title: 'VP Sales', country: 'US' },
		},
		{
			name: 'lead-cold',
			tool: 'Score Lead',
			arguments: { employees: 3, title: 'Student', country: 'BR' },
		},
		{
			name: 'invite',
			tool: 'Draft Invitation Email',
			arguments: { first_name: 'Bob', code: valid },
		},
	];
	let fake: FakeOpenAI;
	let userFolder: string;
	let server: { baseUrl: string; stop: () => Promise<void> } | undefined;
	/** Per case: what the webhook answered (the agent's output) and the tool result the model was sent. */
	const seen = new Map<
		string,
		{ status: number; answer: unknown; result?: ToolResult; firstRequest?: ChatCompletionRequest }
	>();
	const resultOf = (name: string): ToolResult => {
		const result = seen.get(name)?.result;
		expect(result, `case ${name}: a tool result`).toBeDefined();
		return result!;
	};
	const itemsOf = (name: string): Json[] => {
		const json = resultOf(name).json;
		expect(Array.isArray(json), `case ${name}: ${resultOf(name).content}`).toBe(true);
		return json as Json[];
	};

	beforeAll(async () => {
		fake = await startFakeOpenAI({ handler: modelFor(cases), apiKey: 'sk-fake-n8n' });
		userFolder = mkdtempSync(path.join(os.tmpdir(), 'rm-ai-e2e-'));
		const file = path.join(userFolder, 'ai-agent-e2e.json');
		writeFileSync(file, JSON.stringify(workflow(), null, '\t'));
		({ server } = await n8n.startInstance(userFolder, {
			// The sample as shipped, published beside the test's copy: it imports and activates.
			files: [file, SAMPLE],
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
				body: JSON.stringify({ message: `[${c.name}] ${JSON.stringify(c.arguments)}` }),
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
				`case ${c.name}: ${toolName(c.tool)}(${JSON.stringify(c.arguments)}) → HTTP ${response.status}; tool result: ${result?.content ?? '(none)'}`,
			);
		}
		const tools = fake.chatRequests()[0]?.tools ?? [];
		log(`tools offered to the model: ${JSON.stringify(tools)}`);
	});

	afterAll(async () => {
		await server?.stop();
		await fake?.close();
		await closeAllLedgers();
		if (userFolder) rmSync(userFolder, { recursive: true, force: true });
	});

	it('offers each tool node as a function whose parameters are its $fromAI arguments and whose description is its action', () => {
		const tools = seen.get('code-valid')?.firstRequest?.tools ?? [];
		expect(tools.map((t) => t.function.name).sort()).toEqual(
			toolNodes.map((n) => toolName(n.name)).sort(),
		);
		const check = tools.find((t) => t.function.name === 'Check_Referral_Code')!;
		expect(check.function.parameters).toMatchObject({
			type: 'object',
			properties: {
				code: { type: 'string', description: 'The referral code exactly as the person typed it' },
			},
			required: ['code'],
		});
		// descriptionType 'auto': "<operation action> in <defaults.name>" (n8n-workflow makeDescription).
		expect(check.function.description).toBe(
			'Check a referral code as someone typed it (canonical form, valid or not and why) in Referral Code',
		);
		const enrol = tools.find((t) => t.function.name === 'Enrol_Participant')!;
		expect(enrol.function.description).toMatch(/^Enrol a person by email or external ID/);
		expect((enrol.function.parameters as Json).required).toEqual(['email']);
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
				output: expect.stringContaining(`Tool ${toolName(c.tool)} returned:`),
			});
		}
	});

	// #19: tool results carry the node's result only; the trigger's item (headers, cookies, tokens) never reaches the model.
	it('sends the model no trigger data: no headers, no Authorization, no body, no toolCallId', () => {
		for (const c of cases) {
			const content = resultOf(c.name).content;
			expect(content, `case ${c.name}`).not.toContain(CANARY);
			expect(content, `case ${c.name}`).not.toMatch(/"webhookUrl"|"toolCallId"|"user-agent"/);
			expect(content, `case ${c.name}`).not.toContain(`[${c.name}]`);
			// The trigger's item (headers, params, query, body, executionMode) is not in the result; a
			// rendered email's own `headers` (its mail headers) is.
			const json = resultOf(c.name).json;
			for (const item of Array.isArray(json) ? (json as Json[]) : [])
				expect(Object.keys(item), `case ${c.name}`).not.toEqual(
					expect.arrayContaining(['headers', 'body']),
				);
		}
	});

	// #19: in Values mode the code $fromAI returns is the code, not a field path.
	it('checks the code the model passed: the canonical code for a valid one, the reason for a typo', () => {
		expect(itemsOf('code-valid')).toEqual([
			{ codeCheck: expect.objectContaining({ input: typed, canonical: valid, valid: true }) },
		]);
		const [typoCheck] = itemsOf('code-typo');
		expect(typoCheck.codeCheck).toMatchObject({ input: typo, valid: false });
		expect(typoCheck.codeCheck.reason ?? typoCheck.codeCheck.problem).toBeTruthy();
	});

	// #19: errors in tool mode speak to the caller (the argument's name), not to the workflow builder ("set Code Field").
	it('tells the model which argument is missing when it calls without `code`', () => {
		const content = resultOf('code-missing').content;
		expect(content).toMatch(/Missing `code`: call the tool again and pass `code`/);
		expect(content).not.toMatch(/Code Field|\[item 0\]/);
	});

	it('enrols a new participant once: the retry of the same call answers the same, and the ledger holds one participant', async () => {
		const [first] = itemsOf('enrol-new');
		expect(first).toMatchObject({ enrolled: true, participant: { email: ann.email } });
		expect(resultOf('enrol-retry').content).toBe(resultOf('enrol-new').content);
		const ledger = await openLedger({
			backend: 'sqlite',
			path: defaultSqlitePath(n8nDataFolder({ N8N_USER_FOLDER: userFolder })),
		});
		const participants = await ledger.listParticipants({ programId: 'default', limit: 100 });
		expect(participants.map((p) => p.email)).toEqual([ann.email]);
	});

	it("answers an existing participant's status, and for an unknown email no one else's data", () => {
		const [status] = itemsOf('status-existing');
		expect(JSON.stringify(status)).toContain(ann.email);
		expect(resultOf('status-unknown').content).not.toContain(ann.email);
	});

	it('scores a hot lead high and a cold lead low from the attributes the model passed', () => {
		const [hot] = itemsOf('lead-hot');
		const [cold] = itemsOf('lead-cold');
		expect(hot.leadScore.score).toBe(90);
		expect(cold.leadScore.score).toBe(0);
		expect(hot.leadScore.grade).not.toBe(cold.leadScore.grade);
	});

	it('renders the invitation with the values the model passed, sending nothing', () => {
		const content = resultOf('invite').content;
		expect(content).toContain('Bob, join me with my referral code');
		expect(content).toContain(valid);
	});
});
