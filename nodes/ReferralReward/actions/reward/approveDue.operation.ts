import type { ToolUse } from '../../../shared/tool';
import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import { ledgerFor } from '../../../shared/ledger';
import { toJson, toNodeError } from '../../../shared/runner';
import { programReader } from '../../../shared/program';
import { fieldLabels } from '../fields';
import { rewardAccountFor } from '../rules';

const properties: INodeProperties[] = [
	{
		displayName: 'Max Rewards per Run',
		name: 'approveLimit',
		type: 'number',
		typeOptions: { minValue: 1 },
		default: 1000,
		description: 'Rewards approved in one run; the next scheduled run takes the rest',
	},
];

export const description = updateDisplayOptions(
	{ show: { operation: ['approveDue'] } },
	properties,
);

/** Runs once per execution (not per item): it is what a Schedule Trigger calls. One output item per approved reward. */
export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	try {
		const ledger = await ledgerFor(this);
		const program = await programReader(this, ledger)(0);
		const service = rewardAccountFor(this, ledger)(program);
		const approved = await service.approveDue({
			limit: this.getNodeParameter('approveLimit', 0, 1000) as number,
		});
		return approved.map((reward) => ({ json: toJson(reward), pairedItem: { item: 0 } }));
	} catch (error) {
		throw toNodeError(this, error, 0, fieldLabels);
	}
}

/** Moves money or points: an AI Agent may run it only with Allow as AI Tool on (issue #19). */
export const toolUse: ToolUse = { moneyMoving: true };
