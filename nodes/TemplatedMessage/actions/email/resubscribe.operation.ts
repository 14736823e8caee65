import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { resubscribeAddresses } from '../subscription';

/** Resubscribe (an email address): off the suppression list after a new opt-in. */
export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	return await resubscribeAddresses(this, 'email');
}
