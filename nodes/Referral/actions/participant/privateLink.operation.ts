import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import { DEFAULT_PARTICIPANT_LINK_DAYS } from '../../../../engine/shared/links';
import { linkSecretsReader, statusPageUrlProperty } from '../../../shared/linkSecret';
import { parameterReader } from '../../../shared/parameters';
import { runPerItem } from '../../../shared/runner';
import { inputSourceOf } from '../../../shared/inputs';
import {
	labelsOf,
	participantLookupProperties,
	participantLookupReader,
	serviceReader,
} from '../common';

const properties: INodeProperties[] = [
	...participantLookupProperties(),
	statusPageUrlProperty({}),
	{
		displayName: 'Link Valid For (Days)',
		name: 'linkValidDays',
		type: 'number',
		typeOptions: { minValue: 1, maxValue: 3660 },
		default: DEFAULT_PARTICIPANT_LINK_DAYS,
		description:
			'After this the link answers "expired"; the participant asks for a new one with their email',
	},
	{
		displayName: 'If Not Enrolled',
		name: 'ifNotEnrolled',
		type: 'options',
		options: [
			{
				name: 'Fail the Item',
				value: 'error',
				description: 'An error with code unknown_participant',
			},
			{
				name: 'Output the Item Without a Link',
				value: 'noLink',
				description: 'Outputs privateLink: null, so a public webhook can answer everyone alike',
			},
		],
		default: 'error',
	},
];

export const description = updateDisplayOptions(
	{ show: { resource: ['participant'], operation: ['privateLink'] } },
	properties,
);

/** Adds `privateLink`, a signed, expiring link to the participant's own status page, to the item. */
export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	const { serviceFor } = await serviceReader(this);
	const secrets = linkSecretsReader(this);
	const source = inputSourceOf(this);
	const lookupFor = participantLookupReader(this, source);
	const baseUrlFor = parameterReader<string>(this, 'linkBaseUrl', '');
	const daysFor = parameterReader<number>(this, 'linkValidDays', DEFAULT_PARTICIPANT_LINK_DAYS);
	const ifNotEnrolledFor = parameterReader<string>(this, 'ifNotEnrolled', 'error');
	return await runPerItem(
		this,
		async (item, itemIndex) => {
			const service = await serviceFor(itemIndex);
			const ifNotEnrolled = ifNotEnrolledFor(itemIndex) === 'noLink' ? 'null' : 'error';
			const link = await service.privateLink(lookupFor(item.json, itemIndex), {
				baseUrl: baseUrlFor(itemIndex),
				validDays: daysFor(itemIndex),
				secrets: await secrets(),
				ifNotEnrolled,
			});
			return { ...item.json, privateLink: link };
		},
		{
			...labelsOf(source),
			baseUrl: 'Status Page URL',
			validDays: 'Link Valid For (Days)',
			linkSecret: 'Credential to connect with',
		},
	);
}
