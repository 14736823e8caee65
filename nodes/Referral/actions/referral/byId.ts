import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import type { ReferralService } from '../../../../engine/referrals';
import { parameterReader } from '../../../shared/parameters';
import { runPerItem } from '../../../shared/runner';
import { requiredField } from '../../../shared/fields';
import { labelsOf, serviceReader } from '../common';
import {
	emptyValueError,
	inputProperties,
	inputReader,
	inputSourceOf,
	inputSourceProperty,
	isEmptyInput,
	wrongValueError,
	type InputParameter,
} from '../../../shared/inputs';

const referralIdInput: InputParameter = {
	field: {
		displayName: 'Referral ID Field',
		name: 'referralIdField',
		type: 'string',
		default: 'referralId',
		required: true,
		hint: 'The name of the input field holding the referral ID',
	},
	value: { name: 'referralId', displayName: 'Referral ID', holding: 'the referral ID' },
};

/** Get, Approve, Reject and Flag find the referral by the ID in an input field, or given as a value. */
export const referralIdProperties: INodeProperties[] = [
	inputSourceProperty,
	...inputProperties(referralIdInput),
];

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
	const source = inputSourceOf(ctx);
	const idFieldFor = parameterReader<string>(ctx, 'referralIdField', 'referralId');
	const idValueFor = inputReader(ctx, referralIdInput, 'values');
	return await runPerItem(
		ctx,
		async (item, itemIndex) => {
			const id =
				source === 'values'
					? idValue(idValueFor(itemIndex, item.json))
					: (requiredField(item.json, idFieldFor(itemIndex), {
							field: 'referralId',
							parameter: 'Referral ID Field',
							holding: 'the referral ID',
						}) as string | number);
			return await act(await serviceFor(itemIndex), id, noteFor(itemIndex) || undefined);
		},
		labelsOf(source),
	);
}

function idValue(value: unknown): string | number {
	if (isEmptyInput(value)) throw emptyValueError(referralIdInput.value, 'referralId');
	if (typeof value !== 'string' && typeof value !== 'number')
		throw wrongValueError(referralIdInput.value, value, 'referralId');
	return typeof value === 'string' ? value.trim() : value;
}
