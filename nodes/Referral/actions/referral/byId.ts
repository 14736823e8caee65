import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import type { ReferralService } from '../../../../engine/referrals';
import { parameterReader } from '../../../shared/parameters';
import { runPerItem } from '../../../shared/runner';
import { requiredField } from '../../../shared/fields';
import { fieldLabels, serviceReader } from '../common';

/** Get, Approve, Reject and Flag find the referral by the ID in an input field. */
export const referralIdProperty: INodeProperties = {
	displayName: 'Referral ID Field',
	name: 'referralIdField',
	type: 'string',
	default: 'referralId',
	required: true,
	hint: 'The name of the input field holding the referral ID',
};

export const noteProperty: INodeProperties = {
	displayName: 'Note',
	name: 'note',
	type: 'string',
	default: '',
	description: "Why, for the referral's history (e.g. the reviewer's finding)",
};

/** One loop for the operations on a referral named by its ID: `act` gets the service, the ID and the note. */
export async function executeById(
	ctx: IExecuteFunctions,
	act: (service: ReferralService, id: string | number, note: string | undefined) => Promise<object>,
): Promise<INodeExecutionData[]> {
	const { serviceFor } = await serviceReader(ctx);
	const noteFor = parameterReader<string>(ctx, 'note', '');
	const idFieldFor = parameterReader<string>(ctx, 'referralIdField', 'referralId');
	return await runPerItem(
		ctx,
		async (item, itemIndex) => {
			const id = requiredField(item.json, idFieldFor(itemIndex), {
				field: 'referralId',
				parameter: 'Referral ID Field',
				holding: 'the referral ID',
			}) as string | number;
			return await act(await serviceFor(itemIndex), id, noteFor(itemIndex) || undefined);
		},
		fieldLabels,
	);
}
