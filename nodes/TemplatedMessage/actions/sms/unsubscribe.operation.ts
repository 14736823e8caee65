import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { unsubscribeAddresses } from '../subscription';

/** Unsubscribe (a phone number): later texts to it are skipped. */
export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	return await unsubscribeAddresses(this, 'sms');
}
