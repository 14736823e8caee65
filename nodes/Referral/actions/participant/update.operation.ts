import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import { runPerItem } from '../../../shared/runner';
import {
	inputCollectionProperties,
	inputCollectionReader,
	inputSourceOf,
} from '../../../shared/inputs';
import {
	fieldOption,
	labelsOf,
	participantLookupProperties,
	participantLookupReader,
	serviceReader,
	toText,
} from '../common';

const properties: INodeProperties[] = [
	...participantLookupProperties(),
	...inputCollectionProperties({
		name: 'updateValues',
		displayName: 'New Values',
		description:
			'The new values themselves, e.g. from expressions; only the values given are changed',
		field: {
			displayName: 'Update Fields',
			name: 'updateFields',
			type: 'collection',
			placeholder: 'Change Field Name',
			default: {},
			description:
				'Names of the input fields holding the new values; only fields present in the item are changed',
			options: [
				fieldOption('External ID Field', 'externalId', 'newExternalId'),
				fieldOption(
					'Metadata Field',
					'metadata',
					'metadata',
					"Name of the field holding an object that replaces the participant's metadata",
				),
				fieldOption('Name Field', 'name', 'name'),
				fieldOption('New Email Field', 'email', 'newEmail'),
				fieldOption('Phone Field', 'phone', 'phone'),
			],
		},
	}),
];

export const description = updateDisplayOptions(
	{ show: { resource: ['participant'], operation: ['update'] } },
	properties,
);

/** Change email, external ID, name, phone or metadata; only fields present in the item change. */
export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	const { serviceFor } = await serviceReader(this);
	const source = inputSourceOf(this);
	const lookupFor = participantLookupReader(this, source);
	const updateFor = inputCollectionReader(
		this,
		{ field: 'updateFields', value: 'updateValues' },
		{
			email: 'newEmail',
			externalId: 'newExternalId',
			name: 'name',
			phone: 'phone',
			metadata: 'metadata',
		},
		source,
	);
	return await runPerItem(
		this,
		async (item, itemIndex) => {
			const f = updateFor(item.json, itemIndex);
			const participant = await (
				await serviceFor(itemIndex)
			).updateParticipant(lookupFor(item.json, itemIndex), {
				email: toText(f.email),
				externalId: toText(f.externalId),
				name: toText(f.name),
				phone: toText(f.phone),
				metadata: f.metadata as Record<string, unknown> | undefined,
			});
			return { participant };
		},
		labelsOf(source),
	);
}
