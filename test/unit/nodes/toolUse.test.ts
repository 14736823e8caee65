/* Our nodes as tools of n8n's AI Agent (issue #19), without n8n: what a tool call answers (the result
 * only), what the model reads when a call fails (the argument to pass), which operations refuse,
 * the replay key of a retried call, and the action strings n8n turns into tool descriptions.
 * test/e2e/aiAgent.e2e.test.ts shows the same in a real n8n with the AI Agent. */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import type {
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	INodeProperties,
	INodeType,
	INodeTypeDescription,
} from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';
import { describe, expect, it } from 'vitest';
import { EngineError } from '../../../engine/shared/errors';
import { routerFor } from '../../../nodes/shared/router';
import { runPerItem, runPerItemRouted } from '../../../nodes/shared/runner';
import {
	toolArgumentsIn,
	toolCallKey,
	toolErrorMessage,
	toolResult,
	type ToolUse,
} from '../../../nodes/shared/tool';

const CODE_ARG =
	"={{ $fromAI('code', 'The referral code exactly as the person typed it', 'string') }}";

/** The item n8n hands a tool node: the agent's input item, the call's arguments, a toolCallId. */
function toolItem(args: IDataObject, toolCallId = 'call_1'): IDataObject {
	return {
		headers: { authorization: 'Bearer canary', cookie: 'sid=1' },
		body: { message: 'is it valid?' },
		...args,
		toolCallId,
	};
}

/** Just enough of n8n's execute context: a node (its type says whether this is a tool call), parameters, items. */
function context(options: {
	tool: boolean;
	parameters?: IDataObject;
	items?: IDataObject[];
	continueOnFail?: boolean;
	name?: string;
}): IExecuteFunctions {
	const parameters = options.parameters ?? {};
	const node = {
		id: 'n1',
		name: options.name ?? 'Check Referral Code',
		type: `n8n-nodes-referral-marketing.referralCode${options.tool ? 'Tool' : ''}`,
		typeVersion: 1,
		position: [0, 0],
		parameters,
	};
	return {
		getNode: () => node,
		getInputData: () => (options.items ?? []).map((json) => ({ json })),
		continueOnFail: () => options.continueOnFail ?? false,
		getNodeParameter: (name: string, _itemIndex: number, fallback?: unknown) =>
			name in parameters ? parameters[name] : fallback,
	} as unknown as IExecuteFunctions;
}

async function failure(run: Promise<unknown>): Promise<NodeOperationError> {
	const error = await run.then(
		() => undefined,
		(e: unknown) => e,
	);
	expect(error).toBeInstanceOf(NodeOperationError);
	return error as NodeOperationError;
}

describe('the $fromAI arguments of a tool node', () => {
	it('reads keys and descriptions at any depth, each key once; a default makes one optional', () => {
		expect(
			toolArgumentsIn({
				codeField: CODE_ARG,
				options: {
					email: `={{ $fromAI("email", "The person's email address") }}`,
					again: "={{ $fromAI('code') }}",
					count: "={{ $fromAI('count', 'How many', 'number', 1) }}",
				},
				plain: "$fromAI('not', 'an expression')",
			}),
		).toEqual([
			{
				key: 'code',
				description: 'The referral code exactly as the person typed it',
				optional: false,
			},
			{ key: 'email', description: "The person's email address", optional: false },
			{ key: 'count', description: 'How many', optional: true },
		]);
	});
});

describe('what a tool call answers', () => {
	it('leaves out everything copied from the input item: trigger headers, arguments, toolCallId', () => {
		const input = toolItem({ code: 'friend k7qm 3xh9' });
		const result = { ...input, codeCheck: { canonical: 'FRIEND-K7QM-3XH9', valid: true } };
		expect(toolResult(result, input)).toEqual({
			codeCheck: { canonical: 'FRIEND-K7QM-3XH9', valid: true },
		});
	});

	it('leaves out deep copies of input fields too, and keeps fields the node changed', () => {
		const input = toolItem({ code: 'friend k7qm 3xh9' });
		const result = {
			headers: structuredClone(input.headers),
			code: 'FRIEND-K7QM-3XH9',
			valid: true,
		};
		expect(toolResult(result, input)).toEqual({ code: 'FRIEND-K7QM-3XH9', valid: true });
	});

	it('runPerItem: a tool call gets the result only; an ordinary run keeps the item as the operation made it', async () => {
		const handle = (item: INodeExecutionData) => ({ ...item.json, codeCheck: { valid: true } });
		const items = [toolItem({ code: 'x' })];
		expect(await runPerItem(context({ tool: true, items }), handle)).toEqual([
			{ json: { codeCheck: { valid: true } }, pairedItem: { item: 0 } },
		]);
		expect(await runPerItem(context({ tool: false, items }), handle)).toEqual([
			{ json: { ...items[0], codeCheck: { valid: true } }, pairedItem: { item: 0 } },
		]);
	});

	it('runPerItemRouted: the same on every output, and Continue On Fail keeps no input data', async () => {
		const items = [toolItem({ code: 'x' }), toolItem({})];
		const ctx = context({
			tool: true,
			items,
			continueOnFail: true,
			parameters: { codeField: CODE_ARG },
		});
		const outputs = await runPerItemRouted(
			ctx,
			2,
			(item) => {
				if (item.json.code === undefined) throw new EngineError('required', 'code is required');
				return { output: 0, json: { ...item.json, sent: true } };
			},
			{ errorOutput: 1 },
		);
		expect(outputs[0]).toEqual([{ json: { sent: true }, pairedItem: { item: 0 } }]);
		expect(outputs[1]).toHaveLength(1);
		expect(Object.keys(outputs[1][0].json)).toEqual(['error']);
		expect(JSON.stringify(outputs[1])).not.toContain('canary');
	});
});

describe('what the model reads when a tool call fails', () => {
	const node = { parameters: { codeField: CODE_ARG } };

	it('names the argument the call left out and what to pass in it', () => {
		expect(toolErrorMessage(node, toolItem({}), new TypeError('x.replace is not a function'))).toBe(
			'Missing `code`: call the tool again and pass `code` (The referral code exactly as the person typed it).',
		);
	});

	it('gives the engine message and the argument to check when the failing parameter is one', () => {
		const error = new EngineError('invalid_code_input', 'The code must be text, got a list', {
			field: 'codeField',
		});
		expect(toolErrorMessage(node, toolItem({ code: ['a'] }), error)).toBe(
			'The code must be text, got a list Check `code` (The referral code exactly as the person typed it).',
		);
	});

	it('runPerItem: a tool call throws the caller-directed message, without the item suffix', async () => {
		const ctx = context({ tool: true, items: [toolItem({})], parameters: { codeField: CODE_ARG } });
		const error = await failure(
			runPerItem(ctx, () => {
				throw new EngineError('required', 'The input has no field "x"; set Code Field', {
					field: 'codeField',
				});
			}),
		);
		expect(error.message).toMatch(/^Missing `code`: call the tool again and pass `code`/);
		expect(error.message).not.toMatch(/Code Field|\[item 0\]/);
	});
});

describe('a retried tool call is a replay', () => {
	const parameters = {
		resource: 'participant',
		operation: 'enrol',
		email: "={{ $fromAI('email', 'Email') }}",
		name: "={{ $fromAI('name', 'Name', 'string', '') }}",
	};
	const keyOf = (json: IDataObject, overrides: IDataObject = {}, name?: string) =>
		toolCallKey(context({ tool: true, parameters: { ...parameters, ...overrides }, name }), json);

	it('has the same key for the same arguments, whatever the toolCallId and the agent input', () => {
		const first = keyOf(toolItem({ email: 'ann@example.com', name: 'Ann' }, 'call_1'));
		const again = keyOf({ name: 'Ann', email: 'ann@example.com', toolCallId: 'call_9', x: 1 });
		expect(again).toBe(first);
		expect(first).toMatch(/^tool:[0-9a-f]{40}$/);
	});

	it('has another key for other arguments, another operation or another tool', () => {
		const json = toolItem({ email: 'ann@example.com', name: 'Ann' });
		const first = keyOf(json);
		expect(keyOf(toolItem({ email: 'bob@example.com', name: 'Ann' }))).not.toBe(first);
		expect(keyOf(json, { operation: 'update' })).not.toBe(first);
		expect(keyOf(json, {}, 'Enrol Customer')).not.toBe(first);
	});
});

describe('operations an AI Agent may not run', () => {
	const run = async () => [{ json: { ran: true } }];
	const resources = {
		lead: {
			score: { execute: run },
			train: { execute: run, toolUse: { refuse: 'it needs many past leads' } as ToolUse },
		},
		reward: { evaluate: { execute: run, toolUse: { moneyMoving: true } as ToolUse } },
	};
	const router = routerFor(resources);

	it('refuses an operation that cannot work on one call, saying why', async () => {
		const error = await failure(
			router.call(context({ tool: true, parameters: { resource: 'lead', operation: 'train' } })),
		);
		expect(error.message).toBe('This tool cannot run "train": it needs many past leads');
		expect(
			await router.call(
				context({ tool: true, parameters: { resource: 'lead', operation: 'score' } }),
			),
		).toEqual([[{ json: { ran: true } }]]);
	});

	it('refuses a money-moving operation unless Allow as AI Tool is on, and says so', async () => {
		const parameters = { resource: 'reward', operation: 'evaluate' };
		const error = await failure(router.call(context({ tool: true, parameters })));
		expect(error.message).toMatch(/not allowed to run "evaluate": it moves money or points/);
		expect(error.message).toMatch(/Allow as AI Tool/);
		expect(
			await router.call(
				context({ tool: true, parameters: { ...parameters, allowAsAiTool: true } }),
			),
		).toEqual([[{ json: { ran: true } }]]);
	});

	it('runs them all in ordinary workflows', async () => {
		for (const [resource, operation] of [
			['lead', 'train'],
			['reward', 'evaluate'],
		])
			expect(
				await router.call(context({ tool: false, parameters: { resource, operation } })),
			).toEqual([[{ json: { ran: true } }]]);
	});
});

const ROOT = path.resolve(__dirname, '../../..');
const NODE_DIRS = readdirSync(path.join(ROOT, 'nodes'), { withFileTypes: true })
	.filter((entry) => entry.isDirectory() && entry.name !== 'shared')
	.map((entry) => entry.name);

async function descriptionOf(dir: string): Promise<INodeTypeDescription> {
	const module = (await import(path.join(ROOT, 'nodes', dir, `${dir}.node.ts`))) as Record<
		string,
		new () => INodeType
	>;
	return new module[dir]().description;
}

function actionsOf(description: INodeTypeDescription): Array<{ value: string; action: string }> {
	return description.properties
		.filter((p) => p.name === 'operation')
		.flatMap((p) => (p.options ?? []) as Array<{ value: string; action?: string }>)
		.filter((o): o is { value: string; action: string } => typeof o.action === 'string');
}

describe('the nodes as tools', () => {
	it('offers the nodes that work on one call, not Loyalty Insights or Shop Webhook', async () => {
		const offered: string[] = [];
		for (const dir of NODE_DIRS) if ((await descriptionOf(dir)).usableAsTool) offered.push(dir);
		expect(offered.sort()).toEqual(
			['LeadScore', 'Referral', 'ReferralCode', 'ReferralReward', 'TemplatedMessage'].sort(),
		);
	});

	it.each(NODE_DIRS)(
		'%s: every action (the tool description n8n makes) is a sentence that kept its apostrophes',
		async (dir) => {
			for (const { value, action } of actionsOf(await descriptionOf(dir))) {
				expect(action, value).toMatch(/^[A-Z][a-z]/);
				expect(action, value).not.toMatch(/\b[a-z]+ s\b|\s{2}|\.$/);
			}
		},
	);

	it('shows Allow as AI Tool, off by default, for exactly the operations that move money', async () => {
		const shownFor = async (dir: string) => {
			const option = (await descriptionOf(dir)).properties.find(
				(p: INodeProperties) => p.name === 'allowAsAiTool',
			)!;
			expect(option.default).toBe(false);
			return option.displayOptions?.show;
		};
		const referral = await shownFor('Referral');
		expect(referral?.resource).toEqual(['referral']);
		expect(new Set(referral!.operation)).toEqual(new Set(['qualify', 'approve', 'reverse']));
		expect(new Set((await shownFor('ReferralReward'))!.operation)).toEqual(
			new Set([
				'evaluate',
				'approveDue',
				'markFulfilled',
				'reverse',
				'loadCoupons',
				'redeemPoints',
			]),
		);
	});
});
