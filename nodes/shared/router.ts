import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';
import { checkToolUse, type ToolUse } from './tool';

/**
 * The one router every action node uses (the Airtable v2 layout): each operation is a file
 * `actions/<resource>/<operation>.operation.ts` exporting `execute` (and its form, `description`),
 * and the node's `router.ts` only lists them in a {@link ResourceMap}.
 *
 * An operation answers one list of items (everything on the first output) or one list per output
 * (nodes with several outputs, such as Sent / Skipped / Deferred / Failed).
 */
export interface OperationModule {
	execute(this: IExecuteFunctions): Promise<INodeExecutionData[] | INodeExecutionData[][]>;
	/** Whether an AI Agent may run it as a tool (issue #19); absent: it may. The router refuses before `execute`. */
	readonly toolUse?: ToolUse;
}

/** resource → operation → its file. A node without a Resource parameter has one resource, named by `defaultResource`. */
export type ResourceMap = Readonly<Record<string, Readonly<Record<string, OperationModule>>>>;

export interface RouterOptions {
	/** The resource when the node has no Resource parameter (or it is unset). */
	defaultResource?: string;
	/** How many outputs the node has (default 1); a single list goes to the first. */
	outputs?: number;
	/**
	 * The operation alone picks the file when the chosen resource has no such operation (names are
	 * unique across the node's resources). For nodes whose earlier router ignored the resource:
	 * their saved workflows may hold an operation without the resource it belongs to.
	 */
	operationDecides?: boolean;
}

/** The node's `execute`: reads resource and operation once and hands the execution to the operation's file. */
export function routerFor(
	resources: ResourceMap,
	{ defaultResource, outputs = 1, operationDecides = false }: RouterOptions = {},
) {
	return async function router(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const operation = String(this.getNodeParameter('operation', 0));
		let resource = String(
			defaultResource === undefined
				? this.getNodeParameter('resource', 0)
				: this.getNodeParameter('resource', 0, defaultResource),
		);
		if (
			operationDecides &&
			!(Object.hasOwn(resources, resource) && Object.hasOwn(resources[resource], operation))
		) {
			resource =
				Object.keys(resources).find((name) => Object.hasOwn(resources[name], operation)) ??
				resource;
		}
		const operations = Object.hasOwn(resources, resource) ? resources[resource] : undefined;
		if (!operations) {
			throw new NodeOperationError(
				this.getNode(),
				`The resource "${resource}" is not known to this node`,
				{
					description: `Choose one of: ${Object.keys(resources).join(', ')}`,
				},
			);
		}
		const handler = Object.hasOwn(operations, operation) ? operations[operation] : undefined;
		if (!handler) {
			throw new NodeOperationError(
				this.getNode(),
				`The operation "${operation}" is not known to this node`,
				{
					description: `For ${resource}, choose one of: ${Object.keys(operations).join(', ')}`,
				},
			);
		}
		checkToolUse(this, operation, handler.toolUse);
		return spread(await handler.execute.call(this), outputs);
	};
}

function spread(
	result: INodeExecutionData[] | INodeExecutionData[][],
	outputs: number,
): INodeExecutionData[][] {
	if (isPerOutput(result)) return result;
	return [result, ...Array.from({ length: outputs - 1 }, () => [])];
}

function isPerOutput(
	result: INodeExecutionData[] | INodeExecutionData[][],
): result is INodeExecutionData[][] {
	return result.length > 0 && Array.isArray(result[0]);
}
