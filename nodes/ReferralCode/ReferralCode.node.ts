import type { IExecuteFunctions, INodeExecutionData, INodeType, INodeTypeDescription } from 'n8n-workflow';
import { NodeConnectionTypes } from 'n8n-workflow';
import { codeFormatProperty } from './actions/codeFormat';
import * as generate from './actions/generate.operation';
import * as normalize from './actions/normalize.operation';
import { router } from './actions/router';
import * as validateVanity from './actions/validateVanity.operation';

export class ReferralCode implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Referral Code',
		name: 'referralCode',
		icon: { light: 'file:referralCode.svg', dark: 'file:referralCode.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle: '={{ $parameter["operation"] }}',
		description: 'Generate, read and check referral codes: CSPRNG, check character, no rude words',
		defaults: { name: 'Referral Code' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		properties: [
			{
				displayName: 'Operation',
				name: 'operation',
				type: 'options',
				noDataExpression: true,
				options: [
					{
						name: 'Generate',
						value: 'generate',
						action: 'Generate referral codes',
						description: 'Make new random codes from a secure random source',
					},
					{
						name: 'Normalize and Validate',
						value: 'normalize',
						action: 'Normalize and validate a typed code',
						description: 'Read a code as people type it and check its format and check character',
					},
					{
						name: 'Validate Vanity Code',
						value: 'validateVanity',
						action: 'Validate a requested vanity code',
						description: 'Check a custom code someone asked for against the alphabet and blocklist',
					},
				],
				default: 'generate',
			},
			...generate.description,
			...normalize.description,
			...validateVanity.description,
			codeFormatProperty,
		],
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return await router.call(this);
	}
}
