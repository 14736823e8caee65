import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';
import * as backtest from './backtest.operation';
import * as scoreLeads from './scoreLeads.operation';
import * as scoreWithModel from './scoreWithModel.operation';
import * as train from './train.operation';

export const operations = { scoreLeads, scoreWithModel, train, backtest };

/** The only switch: reads the operation once and hands the execution to its file. */
export async function router(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const operation = this.getNodeParameter('operation', 0) as keyof typeof operations;
	const handler = operations[operation];
	if (!handler) {
		throw new NodeOperationError(this.getNode(), `The operation "${operation}" is not known to this node`);
	}
	return [await handler.execute.call(this)];
}
