import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import { runPerItem } from '../../../shared/runner';
import {
	fieldLabels,
	participantLookupProperties,
	participantLookupReader,
	serviceReader,
} from '../common';

export const description = updateDisplayOptions(
	{ show: { resource: ['participant'], operation: ['get'] } },
	participantLookupProperties(),
);

/** A participant with code, share link, referrals, points, tier, badges and rank. */
export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	const { serviceFor } = await serviceReader(this);
	const lookupFor = participantLookupReader(this);
	return await runPerItem(
		this,
		async (item, itemIndex) =>
			await (await serviceFor(itemIndex)).getParticipant(lookupFor(item.json, itemIndex)),
		fieldLabels,
	);
}
