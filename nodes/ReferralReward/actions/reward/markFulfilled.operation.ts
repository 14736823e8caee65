import type { ToolUse } from '../../../shared/tool';
import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import { EngineError } from '../../../../engine/shared/errors';
import { ledgerFor } from '../../../shared/ledger';
import { parameterReader, readField } from '../../../shared/parameters';
import { runPerItem } from '../../../shared/runner';
import { programReader } from '../../../shared/program';
import { fieldLabels } from '../fields';
import { rewardAccountFor } from '../rules';

const properties: INodeProperties[] = [
	{
		displayName: 'Reward ID Field',
		name: 'rewardIdField',
		type: 'string',
		default: 'id',
		required: true,
		hint: 'The name of the input field holding the reward ID',
	},
	{
		displayName: 'Reference Field',
		name: 'referenceField',
		type: 'string',
		default: '',
		placeholder: 'e.g. messageId',
		description:
			'Optional: a field with what fulfilled it (a message or payout ID), kept in the reward history',
	},
];

export const description = updateDisplayOptions(
	{ show: { operation: ['markFulfilled'] } },
	properties,
);

export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	const ledger = await ledgerFor(this);
	const programFor = programReader(this, ledger);
	const serviceFor = rewardAccountFor(this, ledger);
	const idFieldFor = parameterReader<string>(this, 'rewardIdField', 'id');
	const referenceFieldFor = parameterReader<string>(this, 'referenceField', '');
	return await runPerItem(
		this,
		async (item, itemIndex) => {
			const service = serviceFor(await programFor(itemIndex));
			const field = idFieldFor(itemIndex);
			const id = readField(item.json, field);
			if (typeof id !== 'number' && (typeof id !== 'string' || id.trim() === '')) {
				throw new EngineError('required', `The input has no reward ID in "${field}"`, {
					field: 'rewardId',
				});
			}
			const referenceField = referenceFieldFor(itemIndex);
			const reference = referenceField ? readField(item.json, referenceField) : undefined;
			const reward = await service.markFulfilled(
				id,
				reference === undefined || reference === null ? undefined : String(reference),
			);
			return { ...item.json, ...reward };
		},
		{ ...fieldLabels, rewardId: 'Reward ID Field' },
	);
}

/** Moves money or points: an AI Agent may run it only with Allow as AI Tool on (issue #19). */
export const toolUse: ToolUse = { moneyMoving: true };
