import type { ToolUse } from '../../../shared/tool';
import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import { executeById, noteProperty, referralIdProperties } from './byId';

export const description = updateDisplayOptions(
	{ show: { resource: ['referral'], operation: ['approve'] } },
	[...referralIdProperties, noteProperty],
);

/** A reviewer clears a flagged referral: back to pending, or qualified when its order arrived during review. */
export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	return await executeById(this, async (service, id, note) => await service.approve(id, note));
}

/** Moves money or points: an AI Agent may run it only with Allow as AI Tool on (issue #19). */
export const toolUse: ToolUse = { moneyMoving: true };
