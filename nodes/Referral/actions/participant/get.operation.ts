import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import { runPerItem } from '../../../shared/runner';
import { inputSourceOf } from '../../../shared/inputs';
import {
	labelsOf,
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
	const source = inputSourceOf(this);
	const lookupFor = participantLookupReader(this, source);
	return await runPerItem(
		this,
		async (item, itemIndex) =>
			await (await serviceFor(itemIndex)).getParticipant(lookupFor(item.json, itemIndex)),
		labelsOf(source),
	);
}
