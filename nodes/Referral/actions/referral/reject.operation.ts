import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import { executeById, noteProperty, referralIdProperties } from './byId';

export const description = updateDisplayOptions(
	{ show: { resource: ['referral'], operation: ['reject'] } },
	[...referralIdProperties, noteProperty],
);

/** Reject a flagged or pending referral. */
export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	return await executeById(this, async (service, id, note) => await service.reject(id, note));
}
