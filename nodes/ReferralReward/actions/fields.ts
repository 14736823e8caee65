import type { IExecuteFunctions, INodeProperties } from 'n8n-workflow';
import { EngineError } from '../../../engine/shared/errors';
import type { LedgerStore } from '../../../engine/ledger';
import {
	findParticipant,
	findReferral,
	type ParticipantLookup,
	type ReferralLookup,
} from '../../../engine/rewards';
import { parameterReader, readField } from '../../shared/parameters';
import {
	emptyValueError,
	inputSourceOf,
	inputSourceProperty,
	isEmptyInput,
	wrongValueError,
	type ValueTwin,
} from '../../shared/inputs';

/** Parameters several operations share: the program, which referral, which participant. */

export const REFERRAL_OPERATIONS = ['evaluate', 'reverse'];
export const PARTICIPANT_OPERATIONS = ['getStatus', 'pointsHistory', 'redeemPoints'];

export const programProperty: INodeProperties = {
	displayName: 'Program',
	name: 'program',
	type: 'string',
	default: 'default',
	required: true,
	description: 'Key of the referral program; created on first use',
};

export const referralProperties: INodeProperties[] = [
	{ ...inputSourceProperty, displayOptions: { show: { operation: REFERRAL_OPERATIONS } } },
	{
		displayName: 'Find Referral By',
		name: 'referralBy',
		type: 'options',
		options: [
			{
				name: 'Order ID',
				value: 'orderId',
				description: 'The order that qualified it (e.g. from a refund webhook)',
			},
			{ name: 'Referee Email', value: 'refereeEmail' },
			{ name: 'Referral ID', value: 'id', description: 'The ledger ID the Referral node outputs' },
		],
		default: 'id',
		displayOptions: { show: { operation: REFERRAL_OPERATIONS } },
	},
	{
		displayName: 'Referral Field',
		name: 'referralField',
		type: 'string',
		default: 'referralId',
		required: true,
		placeholder: 'e.g. body.referral',
		hint: 'The name of the input field holding the referral ID, order ID or email, not the value itself',
		displayOptions: { show: { operation: REFERRAL_OPERATIONS }, hide: { inputSource: ['values'] } },
	},
	...(
		[
			['id', 'Referral ID', 'the referral ID'],
			['orderId', 'Order ID', 'the ID of the order that qualified the referral'],
			['refereeEmail', 'Referee Email', "the referee's email"],
		] as const
	).map(([by, displayName, holding]): INodeProperties => ({
		displayName,
		name: 'referralValue',
		type: 'string',
		default: '',
		required: true,
		description: `${holding.charAt(0).toUpperCase()}${holding.slice(1)} itself, e.g. from an expression`,
		displayOptions: {
			show: { operation: REFERRAL_OPERATIONS, inputSource: ['values'], referralBy: [by] },
		},
	})),
];

const REFERRAL_VALUE: Record<string, ValueTwin> = {
	id: { name: 'referralValue', displayName: 'Referral ID', holding: 'the referral ID' },
	orderId: {
		name: 'referralValue',
		displayName: 'Order ID',
		holding: 'the ID of the order that qualified the referral',
	},
	refereeEmail: {
		name: 'referralValue',
		displayName: 'Referee Email',
		holding: "the referee's email",
	},
};

const PARTICIPANT_VALUE: Record<string, ValueTwin> = {
	email: { name: 'participantValue', displayName: 'Email', holding: "the participant's email" },
	externalId: {
		name: 'participantValue',
		displayName: 'External ID',
		holding: "the participant's external ID",
	},
	id: { name: 'participantValue', displayName: 'Participant ID', holding: "the participant's ID" },
};

/** A Values-mode lookup value: text or a number; empty or another kind is an error naming the parameter. */
function lookupValue(value: unknown, twin: ValueTwin): string | number {
	if (isEmptyInput(value)) throw emptyValueError(twin);
	if (typeof value !== 'string' && typeof value !== 'number') throw wrongValueError(twin, value);
	return typeof value === 'string' ? value.trim() : value;
}

export function participantProperties(operations: string[]): INodeProperties[] {
	return [
		{ ...inputSourceProperty, displayOptions: { show: { operation: operations } } },
		{
			displayName: 'Find Participant By',
			name: 'participantBy',
			type: 'options',
			options: [
				{ name: 'Email', value: 'email' },
				{ name: 'External ID', value: 'externalId' },
				{ name: 'Participant ID', value: 'id' },
			],
			default: 'email',
			displayOptions: { show: { operation: operations } },
		},
		{
			displayName: 'Participant Field',
			name: 'participantField',
			type: 'string',
			default: 'email',
			required: true,
			hint: 'The name of the input field holding the email, external ID or participant ID',
			displayOptions: { show: { operation: operations }, hide: { inputSource: ['values'] } },
		},
		...Object.entries(PARTICIPANT_VALUE).map(([by, twin]): INodeProperties => ({
			displayName: twin.displayName,
			name: 'participantValue',
			type: 'string',
			default: '',
			required: true,
			description: `${twin.holding.charAt(0).toUpperCase()}${twin.holding.slice(1)} itself, e.g. from an expression`,
			displayOptions: {
				show: { operation: operations, inputSource: ['values'], participantBy: [by] },
			},
		})),
	];
}

export const fieldLabels: Record<string, string> = {
	program: 'Program',
	programId: 'Program',
	referralId: 'Referral Field',
	referralField: 'Referral Field',
	participant: 'Participant Field',
	participantId: 'Participant Field',
	participantField: 'Participant Field',
	rewardId: 'Reward ID Field',
	points: 'Points',
	reference: 'Reference Field',
	negativeBalancePolicy: 'Negative Balance',
	// Values mode (Read Inputs From › Values).
	referralValue: 'Referral ID, Order ID or Referee Email',
	participantValue: 'Email, External ID or Participant ID',
};

function present(value: unknown, field: string, what: string): string | number {
	if (value === undefined || value === null || value === '') {
		throw new EngineError('required', `The input has no ${what} in "${field}"`, {
			field: field === '' ? 'referralField' : field,
		});
	}
	if (typeof value !== 'string' && typeof value !== 'number')
		throw new EngineError('invalid_type', `"${field}" must hold the ${what} as text or a number`, {
			field,
		});
	return value;
}

/** Finds the referral an item names: by ledger ID, qualifying order ID or the referee's email (the engine's findReferral). */
export function referralReader(ctx: IExecuteFunctions, ledger: LedgerStore) {
	const byFor = parameterReader<string>(ctx, 'referralBy', 'id');
	if (inputSourceOf(ctx) === 'values') {
		const valueFor = parameterReader<unknown>(ctx, 'referralValue', '');
		return async (_json: unknown, itemIndex: number, programId: string): Promise<number> => {
			const by = byFor(itemIndex) as ReferralLookup;
			const value = lookupValue(valueFor(itemIndex), REFERRAL_VALUE[by] ?? REFERRAL_VALUE.id);
			return await findReferral(ledger, { programId, by, value }, 'referralValue');
		};
	}
	const fieldFor = parameterReader<string>(ctx, 'referralField', 'referralId');
	return async (json: unknown, itemIndex: number, programId: string): Promise<number> => {
		const by = byFor(itemIndex) as ReferralLookup;
		const field = fieldFor(itemIndex);
		const value = present(
			readField(json, field),
			field,
			by === 'id' ? 'referral ID' : by === 'orderId' ? 'order ID' : 'referee email',
		);
		return await findReferral(ledger, { programId, by, value }, 'referralField');
	};
}

/** Finds the participant an item names (never enrols one: a status for a stranger is an error; the engine's findParticipant). */
export function participantReader(ctx: IExecuteFunctions, ledger: LedgerStore) {
	const byFor = parameterReader<string>(ctx, 'participantBy', 'email');
	if (inputSourceOf(ctx) === 'values') {
		const valueFor = parameterReader<unknown>(ctx, 'participantValue', '');
		return async (_json: unknown, itemIndex: number, programId: string): Promise<number> => {
			const by = byFor(itemIndex) as ParticipantLookup;
			const twin = PARTICIPANT_VALUE[by] ?? PARTICIPANT_VALUE.email;
			const value = lookupValue(valueFor(itemIndex), twin);
			if (by === 'id' && !Number.isInteger(Number(value)))
				throw new EngineError(
					'invalid_type',
					`Participant ID must be a number: pass the participant's ID`,
					{ field: 'participantValue' },
				);
			return await findParticipant(ledger, { programId, by, value }, 'participantValue');
		};
	}
	const fieldFor = parameterReader<string>(ctx, 'participantField', 'email');
	return async (json: unknown, itemIndex: number, programId: string): Promise<number> => {
		const by = byFor(itemIndex) as ParticipantLookup;
		const field = fieldFor(itemIndex);
		const value = present(
			readField(json, field),
			field,
			by === 'id' ? 'participant ID' : by === 'email' ? 'email' : 'external ID',
		);
		if (by === 'id' && !Number.isInteger(Number(value)))
			throw new EngineError('invalid_type', `"${field}" must hold a participant ID (a number)`, {
				field: 'participantField',
			});
		return await findParticipant(ledger, { programId, by, value }, 'participantField');
	};
}
