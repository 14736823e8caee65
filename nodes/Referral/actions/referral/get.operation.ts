import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import { executeById, referralIdProperties } from './byId';

export const description = updateDisplayOptions(
	{ show: { resource: ['referral'], operation: ['get'] } },
	[...referralIdProperties],
);

/** A referral with its fraud checks and status history. */
export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	return await executeById(this, async (service, id) => ({
		referral: await service.getReferral(id),
	}));
}
