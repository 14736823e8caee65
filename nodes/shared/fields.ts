import type { IDataObject, IExecuteFunctions, INodeProperties } from 'n8n-workflow';
import { EngineError } from '../../engine/shared/errors';
import { isYes } from '../../engine/shared/guards';
import { parameterReader, readField } from './parameters';

/** Reading values out of input items, written once for every node: required fields, yes/no flags, participant lookup. */

/** Whether an input field says yes: the engine's one rule (true, "true", "yes"). */
export const yesNo = isYes;

export interface RequiredFieldLabels {
	/** The engine's name for the value, for the error's `field`. */
	field: string;
	/** The parameter the user sets, e.g. "Referral ID Field". */
	parameter: string;
	/** What the field holds, e.g. "the referral ID". */
	holding: string;
}

/** The value of the named input field; an error naming the parameter to fix when it is absent or empty. */
export function requiredField(
	json: IDataObject,
	name: string,
	labels: RequiredFieldLabels,
): NonNullable<unknown> {
	const value = readField(json, name);
	if (value === undefined || value === null || value === '') {
		throw new EngineError('required', `${name} is required`, {
			field: labels.field,
			hint: `The input has no value in "${name}": set ${labels.parameter} to the field holding ${labels.holding}`,
		});
	}
	return value;
}

export type ParticipantQuery =
	{ email: string } | { externalId: string } | { participantId: string | number };

/** How a participant is found: by email, external ID or ledger ID, read from an input field. */
export function participantLookupProperties(
	displayOptions?: INodeProperties['displayOptions'],
): INodeProperties[] {
	return [
		{
			displayName: 'Find Participant By',
			name: 'findBy',
			type: 'options',
			options: [
				{ name: 'Email', value: 'email' },
				{ name: 'External ID', value: 'externalId' },
				{ name: 'Participant ID', value: 'participantId' },
			],
			default: 'email',
			...(displayOptions ? { displayOptions } : {}),
		},
		{
			displayName: 'Lookup Field',
			name: 'lookupField',
			type: 'string',
			default: 'email',
			required: true,
			hint: 'The name of the input field holding the email, external ID or participant ID',
			...(displayOptions ? { displayOptions } : {}),
		},
	];
}

/** Reads Find Participant By and Lookup Field once; gives each item's participant query. */
export function participantLookupReader(
	ctx: IExecuteFunctions,
): (json: IDataObject, itemIndex: number) => ParticipantQuery {
	const byFor = parameterReader<string>(ctx, 'findBy', 'email');
	const fieldFor = parameterReader<string>(ctx, 'lookupField', 'email');
	return (json, itemIndex) => {
		const by = byFor(itemIndex);
		const value = requiredField(json, fieldFor(itemIndex), {
			field: 'lookupField',
			parameter: 'Lookup Field',
			holding: `the participant's ${by === 'participantId' ? 'ID' : by}`,
		});
		if (by === 'participantId') return { participantId: value as string | number };
		return by === 'externalId' ? { externalId: String(value) } : { email: String(value) };
	};
}

/** Limit: how many results a list operation returns (n8n's wording and default). */
export const limitProperty: INodeProperties = {
	displayName: 'Limit',
	name: 'limit',
	type: 'number',
	typeOptions: { minValue: 1 },
	default: 50,
	description: 'Max number of results to return',
};

/**
 * Negative Balance: what a reversal does when the points it claws back exceed the balance. One
 * form for Referral › Reverse (Refund) and Referral Reward › Reverse; `description` says when
 * points are clawed back there, `refuse` what Refuse leaves unchanged.
 */
export function negativeBalanceProperty(description: string, refuse: string): INodeProperties {
	return {
		displayName: 'Negative Balance',
		name: 'negativeBalancePolicy',
		type: 'options',
		options: [
			{
				name: 'Allow Negative Balance',
				value: 'allow_negative',
				description: 'Take back all points; the participant owes the rest',
			},
			{
				name: 'Clamp at Zero',
				value: 'clamp_at_zero',
				description: 'Take back what is left; the rest is reported as shortfall',
			},
			{ name: 'Refuse', value: 'refuse', description: refuse },
		],
		default: 'allow_negative',
		description,
	};
}
