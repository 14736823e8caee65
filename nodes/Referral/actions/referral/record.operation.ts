import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import { inputSourceProperty } from '../../../shared/inputs';
import { executeSignUp, signUpCallerProperties, signUpFieldsProperty } from '../signUp';

export const description = updateDisplayOptions(
	{ show: { resource: ['referral'], operation: ['record'] } },
	[inputSourceProperty, ...signUpCallerProperties(), ...signUpFieldsProperty()],
);

/** Enrol the referee and record the referral by code or referrer, with fraud checks. */
export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	return await executeSignUp(this, 'record');
}
