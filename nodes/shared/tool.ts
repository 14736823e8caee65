import { createHash } from 'node:crypto';
import type { IDataObject, IExecuteFunctions, INode, INodeProperties } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';
import { isEngineError } from '../../engine/shared/errors';

/**
 * A node run as a tool of n8n's AI Agent (issue #19). n8n offers each `usableAsTool` node as a
 * second node type whose name ends in `Tool` (`referralCodeTool`); `isToolExecution()` is false
 * there in n8n 2.40.7, so the type is what tells. In a tool call n8n hands the node one item: the
 * agent's own input item (a Webhook trigger's headers, Authorization included) merged with the
 * tool's arguments and a `toolCallId`; the arguments are the `$fromAI('key', 'description')` calls
 * in the node's parameters.
 */
export function isToolCall(ctx: Pick<IExecuteFunctions, 'getNode'>): boolean {
	return ctx.getNode().type.endsWith('Tool');
}

/** One `$fromAI(…)` argument of a tool node: its key and what the builder told the model to pass. */
export interface ToolArgument {
	key: string;
	description: string;
	/** The builder gave a default (fourth argument): the call may leave it out. */
	optional: boolean;
}

const QUOTED = String.raw`(?:'((?:\\.|[^'\\])*)'|"((?:\\.|[^"\\])*)"|\x60((?:\\.|[^\x60\\])*)\x60)`;
const FROM_AI = new RegExp(
	String.raw`\$from[Aa][Ii]\(\s*` +
		QUOTED +
		String.raw`\s*(?:,\s*` +
		QUOTED +
		String.raw`)?([^)]*)\)`,
	'g',
);

/** The `$fromAI` arguments in a parameter value (any depth), in order of appearance, each key once. */
export function toolArgumentsIn(value: unknown): ToolArgument[] {
	const found = new Map<string, ToolArgument>();
	const visit = (v: unknown) => {
		if (typeof v === 'string') {
			if (!v.startsWith('=')) return;
			for (const m of v.matchAll(FROM_AI)) {
				const key = m[1] ?? m[2] ?? m[3] ?? '';
				if (key === '' || found.has(key)) continue;
				const description = (m[4] ?? m[5] ?? m[6] ?? '').replace(/\\(.)/g, '$1');
				// After key and description come the type and the default: a fourth argument makes it optional.
				const rest = m[7] ?? '';
				const optional = /^\s*,[^,]*,\s*\S/.test(rest);
				found.set(key, { key, description, optional });
			}
		} else if (Array.isArray(v)) v.forEach(visit);
		else if (v !== null && typeof v === 'object') Object.values(v).forEach(visit);
	};
	visit(value);
	return [...found.values()];
}

/** The node's tool arguments: every `$fromAI` call in its parameters. */
export function toolArguments(node: Pick<INode, 'parameters'>): ToolArgument[] {
	return toolArgumentsIn(node.parameters);
}

/** The parameter named `name` (at any depth: collections and fixed collections included). */
function parameterNamed(parameters: unknown, name: string): unknown {
	if (parameters === null || typeof parameters !== 'object') return undefined;
	if (Object.hasOwn(parameters, name)) return (parameters as Record<string, unknown>)[name];
	for (const value of Object.values(parameters)) {
		const found = parameterNamed(value, name);
		if (found !== undefined) return found;
	}
	return undefined;
}

const isEmpty = (value: unknown) => value === undefined || value === null || value === '';

function describeArgument(argument: ToolArgument): string {
	const what = argument.description.trim().replace(/\.$/, '');
	return what === '' ? `\`${argument.key}\`` : `\`${argument.key}\` (${what})`;
}

/**
 * What the model reads when a tool call fails: the caller's words, not the workflow builder's.
 * A required argument the call left out is named first ("pass `code`: the referral code …");
 * otherwise the engine's message, with the argument to check when the failing parameter is one.
 */
export function toolErrorMessage(
	node: Pick<INode, 'parameters'>,
	json: IDataObject,
	error: unknown,
): string {
	const args = toolArguments(node);
	const missing = args.filter((a) => !a.optional && isEmpty(json[a.key]));
	if (missing.length > 0) {
		return `Missing ${missing.map((a) => `\`${a.key}\``).join(', ')}: call the tool again and pass ${missing.map(describeArgument).join(', ')}.`;
	}
	const message = (error instanceof Error ? error.message : String(error)).replace(
		/ \[item \d+\]$/,
		'',
	);
	if (isEngineError(error) && error.field) {
		const inParameter = toolArgumentsIn(parameterNamed(node.parameters, error.field));
		if (inParameter.length > 0)
			return `${message} Check ${inParameter.map(describeArgument).join(', ')}.`;
	}
	if (args.length > 0)
		return `${message} This tool takes ${args.map(describeArgument).join(', ')}.`;
	return message;
}

/** A tool call's error: the caller-directed message, for the item. */
export function toolError(
	ctx: Pick<IExecuteFunctions, 'getNode'>,
	json: IDataObject,
	error: unknown,
	itemIndex: number,
): NodeOperationError {
	return new NodeOperationError(ctx.getNode(), toolErrorMessage(ctx.getNode(), json, error), {
		itemIndex,
	});
}

const same = (a: unknown, b: unknown) =>
	a === b || (typeof a === 'object' && a !== null && JSON.stringify(a) === JSON.stringify(b));

/**
 * A tool call answers its result only: every field the node copied from its input item (the
 * agent's item with the trigger's headers, the call's own arguments, `toolCallId`) is left out;
 * fields the node set or changed stay.
 */
export function toolResult(result: object, input: IDataObject): IDataObject {
	const out: IDataObject = {};
	for (const [key, value] of Object.entries(result)) {
		if (Object.hasOwn(input, key) && same(value, input[key])) continue;
		out[key] = value as IDataObject[string];
	}
	return out;
}

/**
 * A retry of the same tool call is a replay: the key a write operation uses when the builder named
 * none. It is made of what the model sent (node, resource, operation, the call's arguments), never
 * of server times or ids (the `toolCallId` differs between retries and is left out).
 */
export function toolCallKey(ctx: Pick<IExecuteFunctions, 'getNode'>, json: IDataObject): string {
	const node = ctx.getNode();
	const args = toolArguments(node)
		.map((a) => a.key)
		.sort()
		.map((key) => [key, json[key] ?? null]);
	const call = [
		node.name,
		node.parameters.resource ?? null,
		node.parameters.operation ?? null,
		args,
	];
	return `tool:${createHash('sha256').update(JSON.stringify(call)).digest('hex').slice(0, 40)}`;
}

/** How an operation may be used as a tool. */
export type ToolUse =
	/** It cannot work on one call (it analyses a population, trains, backtests): never as a tool. */
	| { refuse: string }
	/** It moves money (awards, reversals, approvals, redemptions): only with Allow as AI Tool on. */
	| { moneyMoving: true };

export const ALLOW_AS_AI_TOOL = 'allowAsAiTool';

/** The option that lets an AI Agent run a money-moving operation; off by default. */
export function allowAsAiToolProperty(
	displayOptions: INodeProperties['displayOptions'],
): INodeProperties {
	return {
		displayName: 'Allow as AI Tool',
		name: ALLOW_AS_AI_TOOL,
		type: 'boolean',
		default: false,
		noDataExpression: true,
		description:
			'Whether an AI Agent may run this operation when the node is attached to it as a tool. It moves money or points, so it is off by default: an agent then gets a refusal.',
		displayOptions,
	};
}

/** Throws the refusal when the operation may not run in this tool call; does nothing outside tool calls. */
export function checkToolUse(
	ctx: Pick<IExecuteFunctions, 'getNode' | 'getNodeParameter'>,
	operation: string,
	use: ToolUse | undefined,
): void {
	if (use === undefined || !isToolCall(ctx)) return;
	const node = ctx.getNode();
	if ('refuse' in use) {
		throw new NodeOperationError(node, `This tool cannot run "${operation}": ${use.refuse}`, {
			description: `Use another operation for the AI Agent, or run "${operation}" in an ordinary workflow.`,
		});
	}
	if (ctx.getNodeParameter(ALLOW_AS_AI_TOOL, 0, false) !== true) {
		throw new NodeOperationError(
			node,
			`This tool is not allowed to run "${operation}": it moves money or points, and the workflow builder has not turned on Allow as AI Tool for the "${node.name}" node. Tell the person it needs a staff member.`,
			{
				description: `Turn on Allow as AI Tool in "${node.name}" to let an AI Agent run it.`,
			},
		);
	}
}

/** The operations of a resource that move money: where Allow as AI Tool shows. */
export function moneyMovingOperations(operations: Readonly<Record<string, object>>): string[] {
	return Object.keys(operations).filter((name) => {
		const use = (operations[name] as { toolUse?: ToolUse }).toolUse;
		return use !== undefined && 'moneyMoving' in use;
	});
}
