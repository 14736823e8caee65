import type { INodeProperties } from 'n8n-workflow';
import * as generate from './generate.operation';
import * as normalize from './normalize.operation';
import * as validateVanity from './validateVanity.operation';

/** Code: make and check codes; nothing is stored. Operation names are unique in the node, so their forms show by operation alone. */
export const operations = { generate, normalize, validateVanity };

export const operationProperty: INodeProperties = {
	displayName: 'Operation',
	name: 'operation',
	type: 'options',
	noDataExpression: true,
	displayOptions: { show: { resource: ['code'] } },
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
			action: 'Check a referral code as someone typed it (canonical form, valid or not and why)',
			description: 'Read a code as people type it and check its format and check character',
		},
		{
			name: 'Validate Vanity Code',
			value: 'validateVanity',
			action: 'Check whether a requested vanity code can be used',
			description: 'Check a custom code someone asked for against the alphabet and blocklist',
		},
	],
	default: 'generate',
};

export const description: INodeProperties[] = Object.values(operations).flatMap(
	(operation) => operation.description,
);
