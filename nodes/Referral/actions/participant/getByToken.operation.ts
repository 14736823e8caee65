import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import { linkSecretsReader } from '../../../shared/linkSecret';
import {
	inputProperties,
	inputReader,
	inputSourceOf,
	inputSourceProperty,
	type InputParameter,
} from '../../../shared/inputs';
import { runPerItem } from '../../../shared/runner';
import { labelsOf, serviceReader } from '../common';

const tokenInput: InputParameter = {
	field: {
		displayName: 'Private Link Field',
		name: 'linkField',
		type: 'string',
		default: 'query.token',
		required: true,
		hint: 'The name of the input field holding the token of the private link, not the token itself (a Webhook node puts ?token=… into query.token)',
	},
	value: {
		name: 'token',
		displayName: 'Private Link Token',
		holding: 'the token of the private link (its ?token=… part)',
	},
};

const properties: INodeProperties[] = [inputSourceProperty, ...inputProperties(tokenInput)];

export const description = updateDisplayOptions(
	{ show: { resource: ['participant'], operation: ['getByToken'] } },
	properties,
);

/** What Get answers, for the holder of a private status link; a forged, changed or expired link is refused. */
export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	const { serviceFor } = await serviceReader(this);
	const secrets = linkSecretsReader(this);
	const source = inputSourceOf(this);
	const tokenFor = inputReader(this, tokenInput, source);
	return await runPerItem(
		this,
		async (item, itemIndex) =>
			await (
				await serviceFor(itemIndex)
			).getParticipantByLink(tokenFor(itemIndex, item.json), {
				secrets: await secrets(),
			}),
		{
			...labelsOf(source),
			token: source === 'values' ? 'Private Link Token' : 'Private Link Field',
			linkSecret: 'Credential to connect with',
		},
	);
}
