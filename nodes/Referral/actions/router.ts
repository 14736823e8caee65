import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';
import * as participant from './participant.operations';
import * as program from './program.operations';
import * as referral from './referral.operations';

export const resources = { participant, referral, program };

/** The only switch: reads resource and operation once and hands the execution to its file. */
export async function router(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const resource = this.getNodeParameter('resource', 0) as keyof typeof resources;
	const operation = this.getNodeParameter('operation', 0) as string;
	const handler = resources[resource];
	if (!handler) throw new NodeOperationError(this.getNode(), `The resource "${resource}" is not known to this node`);
	return [await handler.execute.call(this, operation)];
}
