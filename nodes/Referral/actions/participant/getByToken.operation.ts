import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import { linkSecretsReader } from '../../../shared/linkSecret';
import { parameterReader, readField } from '../../../shared/parameters';
import { runPerItem } from '../../../shared/runner';
import { fieldLabels, serviceReader } from '../common';

const properties: INodeProperties[] = [
	{
		displayName: 'Private Link Field',
		name: 'linkField',
		type: 'string',
		default: 'query.token',
		required: true,
		hint: 'The name of the input field holding the token of the private link, not the token itself (a Webhook node puts ?token=… into query.token)',
	},
];

export const description = updateDisplayOptions(
	{ show: { resource: ['participant'], operation: ['getByToken'] } },
	properties,
);

/** What Get answers, for the holder of a private status link; a forged, changed or expired link is refused. */
export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	const { serviceFor } = await serviceReader(this);
	const secrets = linkSecretsReader(this);
	const tokenFieldFor = parameterReader<string>(this, 'linkField', 'query.token');
	return await runPerItem(
		this,
		async (item, itemIndex) =>
			await (
				await serviceFor(itemIndex)
			).getParticipantByLink(readField(item.json, tokenFieldFor(itemIndex)), {
				secrets: await secrets(),
			}),
		{ ...fieldLabels, token: 'Private Link Field', linkSecret: 'Credential to connect with' },
	);
}
