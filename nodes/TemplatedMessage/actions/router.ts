import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';
import { OUTPUT_NAMES } from './delivery';
import * as render from './render.operation';
import * as resubscribe from './resubscribe.operation';
import * as sendEmail from './sendEmail.operation';
import * as sendOwed from './sendOwed.operation';
import * as sendSms from './sendSms.operation';
import * as unsubscribe from './unsubscribe.operation';

/** Render, Unsubscribe and Resubscribe have one kind of result: everything goes to the first output. */
function onFirstOutput(items: INodeExecutionData[]): INodeExecutionData[][] {
	return [items, ...OUTPUT_NAMES.slice(1).map(() => [])];
}

/** The only switch: reads resource (the channel) and operation once and hands the execution to its file. */
export async function router(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const channel = this.getNodeParameter('resource', 0) as 'email' | 'sms';
	const operation = this.getNodeParameter('operation', 0) as string;
	if (channel !== 'email' && channel !== 'sms') {
		throw new NodeOperationError(this.getNode(), `The resource "${String(channel)}" is not known to this node; choose Email or SMS`);
	}
	switch (operation) {
		case 'render':
			return onFirstOutput(await render.execute.call(this, channel));
		case 'send':
			return channel === 'email' ? await sendEmail.execute.call(this) : await sendSms.execute.call(this);
		case 'sendOwed':
			return await sendOwed.execute.call(this, channel);
		case 'unsubscribe':
			return onFirstOutput(await unsubscribe.execute.call(this, channel));
		case 'resubscribe':
			return onFirstOutput(await resubscribe.execute.call(this, channel));
		default:
			throw new NodeOperationError(this.getNode(), `The operation "${operation}" is not known to this node`);
	}
}
