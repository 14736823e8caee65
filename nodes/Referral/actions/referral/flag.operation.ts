import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import { executeById, noteProperty, referralIdProperties } from './byId';

export const description = updateDisplayOptions(
	{ show: { resource: ['referral'], operation: ['flag'] } },
	[...referralIdProperties, noteProperty],
);

/** Hold a pending referral for a reviewer. */
export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	return await executeById(this, async (service, id, note) => await service.flag(id, note));
}
