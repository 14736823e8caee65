import type { IDataObject, IExecuteFunctions, INodeProperties } from 'n8n-workflow';
import { EngineError } from '../../engine/shared/errors';
import { isYes } from '../../engine/shared/guards';
import { parameterReader, readField } from './parameters';
import {
	emptyValueError,
	inputSourceOf,
	inputSourceProperty,
	isEmptyInput,
	wrongValueError,
	type InputSource,
	type ValueTwin,
} from './inputs';

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

/** How a participant is found: by email, external ID or ledger ID, read from an input field or given as a value. */
export function participantLookupProperties(
	displayOptions?: INodeProperties['displayOptions'],
): INodeProperties[] {
	const shown = (show: Record<string, string[]>): INodeProperties['displayOptions'] => ({
		...displayOptions,
		show: { ...displayOptions?.show, ...show },
	});
	return [
		{ ...inputSourceProperty, ...(displayOptions ? { displayOptions } : {}) },
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
			displayOptions: {
				...displayOptions,
				hide: { ...displayOptions?.hide, inputSource: ['values'] },
			},
		},
		...(['email', 'externalId', 'participantId'] as const).map((by): INodeProperties => ({
			displayName: lookupValue(by).displayName,
			name: 'lookupValue',
			type: 'string',
			default: '',
			required: true,
			placeholder: by === 'email' ? 'e.g. ann@example.com' : undefined,
			description: `${lookupValue(by).holding.replace(/^the/, 'The')} itself, e.g. from an expression`,
			displayOptions: shown({ inputSource: ['values'], findBy: [by] }),
		})),
	];
}

/** The Value parameter that names the participant, by Find Participant By. */
function lookupValue(by: string): ValueTwin {
	const what = by === 'participantId' ? 'ID' : by === 'externalId' ? 'external ID' : 'email';
	return {
		name: 'lookupValue',
		displayName:
			by === 'participantId' ? 'Participant ID' : by === 'externalId' ? 'External ID' : 'Email',
		holding: `the participant's ${what}`,
	};
}

/** Reads Find Participant By and Lookup Field (or the lookup value) once; gives each item's participant query. */
export function participantLookupReader(
	ctx: IExecuteFunctions,
	source: InputSource = inputSourceOf(ctx),
): (json: IDataObject, itemIndex: number) => ParticipantQuery {
	const byFor = parameterReader<string>(ctx, 'findBy', 'email');
	if (source === 'values') {
		const valueFor = parameterReader<unknown>(ctx, 'lookupValue', '');
		return (_json, itemIndex) => {
			const by = byFor(itemIndex);
			const value = valueFor(itemIndex);
			const twin = lookupValue(by);
			if (isEmptyInput(value)) throw emptyValueError(twin, 'lookupValue');
			if (typeof value !== 'string' && typeof value !== 'number')
				throw wrongValueError(twin, value, 'lookupValue');
			if (by === 'participantId') return { participantId: value };
			const text = String(value).trim();
			return by === 'externalId' ? { externalId: text } : { email: text };
		};
	}
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
