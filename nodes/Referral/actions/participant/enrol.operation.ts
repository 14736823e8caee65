import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import { inputProperties, inputSourceProperty } from '../../../shared/inputs';
import {
	executeSignUp,
	signUpCallerProperties,
	signUpFieldsProperty,
	smsConsentInput,
} from '../signUp';

const properties: INodeProperties[] = [
	inputSourceProperty,
	{
		displayName: 'Record Referral From Code',
		name: 'recordReferral',
		type: 'boolean',
		default: true,
		description:
			'Whether to also record the referral (with its fraud checks) when the input carries a referral code or referrer ID',
	},
	{
		displayName: 'Owe Welcome Messages',
		name: 'oweWelcome',
		type: 'boolean',
		default: false,
		description:
			'Whether to record, in the same ledger transaction as the enrolment and only for a participant it creates, the welcome email (and a welcome text when a phone number and SMS consent came) owed to them (topic welcome). A Templated Message node set to Send Owed Messages delivers them from the ledger, so a crash neither loses nor repeats one and a repeated sign-up sends nothing again; messageKeys lists their keys.',
	},
	...inputProperties(smsConsentInput),
	...signUpCallerProperties(),
	...signUpFieldsProperty(),
];

export const description = updateDisplayOptions(
	{ show: { resource: ['participant'], operation: ['enrol'] } },
	properties,
);

/** Enrol by email or external ID (idempotent), optionally recording the referral that came with them. */
export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	return await executeSignUp(this, 'enrol');
}
