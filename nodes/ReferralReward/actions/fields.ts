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

/** Parameters several operations share: the program, which referral, which participant. */

export const programProperty: INodeProperties = {
	displayName: 'Program',
	name: 'program',
	type: 'string',
	default: 'default',
	required: true,
	description: 'Key of the referral program; created on first use',
};

export const referralProperties: INodeProperties[] = [
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
	},
	{
		displayName: 'Referral Field',
		name: 'referralField',
		type: 'string',
		default: 'referralId',
		required: true,
		placeholder: 'e.g. body.referral',
		hint: 'The name of the input field holding the referral ID, order ID or email, not the value itself',
	},
];

/** How the participant is found; each operation shows these with updateDisplayOptions. */
export function participantProperties(): INodeProperties[] {
	return [
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
		},
		{
			displayName: 'Participant Field',
			name: 'participantField',
			type: 'string',
			default: 'email',
			required: true,
			hint: 'The name of the input field holding the email, external ID or participant ID',
		},
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
