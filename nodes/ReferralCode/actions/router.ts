import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';
import * as generate from './generate.operation';
import * as issue from './issue.operation';
import * as lookup from './lookup.operation';
import * as normalize from './normalize.operation';
import * as redeem from './redeem.operation';
import * as revoke from './revoke.operation';
import * as validateVanity from './validateVanity.operation';

export const operations = { generate, normalize, validateVanity, issue, redeem, revoke, lookup };

/** The only switch: reads the operation once and hands the execution to its file. */
export async function router(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const operation = this.getNodeParameter('operation', 0) as keyof typeof operations;
	const handler = operations[operation];
	if (!handler) {
		throw new NodeOperationError(this.getNode(), `The operation "${operation}" is not known to this node`);
	}
	return [await handler.execute.call(this)];
}
