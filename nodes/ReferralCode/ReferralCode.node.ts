import type {
	IExecuteFunctions,
	INodeExecutionData,
	INodeType,
	INodeTypeDescription,
} from 'n8n-workflow';
import { NodeConnectionTypes, updateDisplayOptions } from 'n8n-workflow';
import { ledgerNotice, referralLedgerConnectionTest } from '../shared/ledger';
import { codeFormatProperty } from './actions/codeFormat';
import { programProperty, searchPrograms } from '../shared/program';
import * as code from './actions/code/Code.resource';
import * as issuedCode from './actions/issuedCode/IssuedCode.resource';
import { router } from './actions/router';

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
			{
				name: 'referralLedgerApi',
				displayName: 'Ledger Database',
				required: false,
				testedBy: 'referralLedgerConnectionTest',
				displayOptions: { show: { resource: ['issuedCode'] } },
			},
		],
		properties: [
			...updateDisplayOptions({ show: { resource: ['issuedCode'] } }, [ledgerNotice]),
			{
				displayName: 'Resource',
				name: 'resource',
				type: 'options',
				noDataExpression: true,
				options: [
					{ name: 'Code', value: 'code', description: 'Make and check codes; nothing is stored' },
					{
						name: 'Issued Code',
						value: 'issuedCode',
						description: 'Codes kept in the referral ledger: issue, redeem, revoke, look up',
					},
				],
				default: 'code',
			},
			code.operationProperty,
			issuedCode.operationProperty,
			...updateDisplayOptions({ show: { operation: Object.keys(issuedCode.operations) } }, [
				programProperty('Key of the referral program the codes belong to; created on first use'),
			]),
			...code.description,
			...issuedCode.description,
			codeFormatProperty,
		],
	};

	methods = {
		credentialTest: { referralLedgerConnectionTest },
		listSearch: { searchPrograms },
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return await router.call(this);
	}
}
