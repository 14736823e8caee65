import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import { limitProperty } from '../../../shared/fields';
import { parameterReader } from '../../../shared/parameters';
import { runPerItem } from '../../../shared/runner';
import { fieldLabels, serviceReader } from '../common';

const properties: INodeProperties[] = [
	limitProperty,
	{
		displayName: 'Options',
		name: 'listOptions',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		options: [
			{
				displayName: 'After ID',
				name: 'afterId',
				type: 'number',
				default: 0,
				description: 'Only participants with a larger ID (the last ID of the previous page)',
			},
			{ displayName: 'Created Since', name: 'createdSince', type: 'dateTime', default: '' },
			{ displayName: 'Created Until', name: 'createdUntil', type: 'dateTime', default: '' },
		],
	},
];

export const description = updateDisplayOptions(
	{ show: { resource: ['participant'], operation: ['list'] } },
	properties,
);

/** Participants page by page. */
export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	const { serviceFor } = await serviceReader(this);
	const limitFor = parameterReader<number>(this, 'limit', 50);
	const optionsFor = parameterReader<{
		afterId?: number;
		createdSince?: string;
		createdUntil?: string;
	}>(this, 'listOptions', {});
	return await runPerItem(
		this,
		async (_item, itemIndex) => {
			const options = optionsFor(itemIndex);
			const rows = await (
				await serviceFor(itemIndex)
			).listParticipants({
				limit: limitFor(itemIndex),
				afterId: options.afterId ? options.afterId : undefined,
				createdSince: options.createdSince || undefined,
				createdUntil: options.createdUntil || undefined,
			});
			return rows.map((participant) => ({ participant }));
		},
		fieldLabels,
	);
}
