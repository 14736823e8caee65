import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import { EngineError } from '../../../../engine/shared/errors';
import { ledgerFor } from '../../../shared/ledger';
import { parameterReader, readField } from '../../../shared/parameters';
import { runPerItem } from '../../../shared/runner';
import { programReader } from '../../../shared/program';
import { fieldLabels, participantProperties, participantReader } from '../fields';
import { rewardAccountFor } from '../rules';

const properties: INodeProperties[] = [
	...participantProperties(),
	{
		displayName: 'Points',
		name: 'points',
		type: 'number',
		default: 100,
		description: 'Points to spend; an expression can read them from the item',
	},
	{
		displayName: 'Reference Field',
		name: 'referenceField',
		type: 'string',
		default: 'orderId',
		required: true,
		hint: 'The name of the input field with what the points pay for (e.g. an order ID); the same reference never spends twice',
	},
];

export const description = updateDisplayOptions(
	{ show: { operation: ['redeemPoints'] } },
	properties,
);

export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	const ledger = await ledgerFor(this);
	const programFor = programReader(this, ledger);
	const participantFor = participantReader(this, ledger);
	const serviceFor = rewardAccountFor(this, ledger);
	const pointsFor = parameterReader<number>(this, 'points', 0);
	const referenceFieldFor = parameterReader<string>(this, 'referenceField', 'orderId');
	return await runPerItem(
		this,
		async (item, itemIndex) => {
			const program = await programFor(itemIndex);
			const participantId = await participantFor(item.json, itemIndex, program);
			const field = referenceFieldFor(itemIndex);
			const reference = readField(item.json, field);
			if (reference === undefined || reference === null || reference === '') {
				throw new EngineError(
					'required',
					`The input has no reference in "${field}"; a redemption needs one so a retry does not spend twice`,
					{ field: 'reference' },
				);
			}
			const points = pointsFor(itemIndex);
			const result = await serviceFor(program).redeemPoints({
				participantId,
				points,
				reference: String(reference),
			});
			return {
				...item.json,
				redemption: {
					participantId,
					points,
					reference: String(reference),
					balance: result.balance,
					replayed: result.replayed,
				},
			};
		},
		{ ...fieldLabels, reference: 'Reference Field' },
	);
}
