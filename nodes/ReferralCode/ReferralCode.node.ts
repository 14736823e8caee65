import type { IExecuteFunctions, INodeExecutionData, INodeType, INodeTypeDescription } from 'n8n-workflow';
import { NodeConnectionTypes } from 'n8n-workflow';
import { ledgerNotice, referralLedgerConnectionTest } from '../shared/ledger';
import { codeFormatProperty } from './actions/codeFormat';
import { programProperty } from './actions/ledgerFields';
import { operations, router } from './actions/router';

export class ReferralCode implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Referral Code',
		name: 'referralCode',
		icon: { light: 'file:referralCode.svg', dark: 'file:referralCode.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle: '={{ $parameter["operation"] + ": " + $parameter["resource"] }}',
		description: 'Generate, read and check referral codes: CSPRNG, check character, no rude words',
		defaults: { name: 'Referral Code' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: [
			{ name: 'referralLedgerApi', displayName: 'Ledger Database', required: false, testedBy: 'referralLedgerConnectionTest', displayOptions: { show: { resource: ['issuedCode'] } } },
		],
		properties: [
			{ ...ledgerNotice, displayOptions: { show: { resource: ['issuedCode'] } } },
			{
				displayName: 'Resource',
				name: 'resource',
				type: 'options',
				noDataExpression: true,
				options: [
					{ name: 'Code', value: 'code', description: 'Make and check codes; nothing is stored' },
					{ name: 'Issued Code', value: 'issuedCode', description: 'Codes kept in the referral ledger: issue, redeem, revoke, look up' },
				],
				default: 'code',
			},
			{
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
			{
				displayName: 'Operation',
				name: 'operation',
				type: 'options',
				noDataExpression: true,
				displayOptions: { show: { resource: ['issuedCode'] } },
				options: [
					{
						name: 'Issue',
						value: 'issue',
						action: 'Issue a code to a participant',
						description: 'Create a code in the ledger, owned by a participant, unique in its program',
					},
					{
						name: 'Look Up',
						value: 'lookup',
						action: 'Look up a code',
						description: 'Find a code in the ledger with its owner, uses and state',
					},
					{
						name: 'Redeem',
						value: 'redeem',
						action: 'Redeem a code',
						description: 'Use a code once: refused when revoked, expired or used up',
					},
					{
						name: 'Revoke',
						value: 'revoke',
						action: 'Revoke a code',
						description: 'Stop a code from working',
					},
				],
				default: 'issue',
			},
			programProperty,
			...Object.values(operations).flatMap((operation) => operation.description),
			codeFormatProperty,
		],
	};

	methods = { credentialTest: { referralLedgerConnectionTest } };

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return await router.call(this);
	}
}
