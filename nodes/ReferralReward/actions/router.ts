import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';
import * as approveDue from './approveDue.operation';
import * as evaluate from './evaluate.operation';
import * as getStatus from './getStatus.operation';
import * as listRewards from './listRewards.operation';
import * as loadCoupons from './loadCoupons.operation';
import * as markFulfilled from './markFulfilled.operation';
import * as pointsHistory from './pointsHistory.operation';
import * as redeemPoints from './redeemPoints.operation';
import * as reverse from './reverse.operation';

export const operations = { evaluate, approveDue, markFulfilled, reverse, getStatus, pointsHistory, listRewards, redeemPoints, loadCoupons };

/** The only switch: reads the operation once and hands the execution to its file. */
export async function router(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const operation = this.getNodeParameter('operation', 0) as keyof typeof operations;
	const handler = operations[operation];
	if (!handler) {
		throw new NodeOperationError(this.getNode(), `The operation "${operation}" is not known to this node`);
	}
	return [await handler.execute.call(this)];
}
