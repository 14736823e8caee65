import type {
	IExecuteFunctions,
	INodeExecutionData,
	INodeType,
	INodeTypeDescription,
} from 'n8n-workflow';
import { NodeConnectionTypes } from 'n8n-workflow';
import * as lead from './actions/lead/Lead.resource';
import { router } from './actions/router';
import { referralLedgerConnectionTest } from '../shared/ledger';

export class LeadScore implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Lead Score',
		name: 'leadScore',
		icon: { light: 'file:leadScore.svg', dark: 'file:leadScore.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle: '={{ $parameter["operation"] }}',
		description:
			'Score leads with explainable rules (decay, grades, stages) or a trained model, and backtest both',
		defaults: { name: 'Lead Score' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: [
			{
				name: 'referralLedgerApi',
				displayName: 'Ledger Database',
				required: false,
				testedBy: 'referralLedgerConnectionTest',
			},
		],
		properties: [lead.operationProperty, ...lead.description],
	};

	methods = { credentialTest: { referralLedgerConnectionTest } };

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return await router.call(this);
	}
}
