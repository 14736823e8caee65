import type {
	IExecuteFunctions,
	INodeExecutionData,
	INodeType,
	INodeTypeDescription,
} from 'n8n-workflow';
import { NodeConnectionTypes } from 'n8n-workflow';
import { inputProperties } from './actions/common';
import * as customer from './actions/customer/Customer.resource';
import { router } from './actions/router';

export class LoyaltyInsights implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Loyalty Insights',
		name: 'loyaltyInsights',
		icon: { light: 'file:loyaltyInsights.svg', dark: 'file:loyaltyInsights.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle: '={{ $parameter["operation"] }}',
		description:
			'RFM segments, Net Promoter Score, customer lifetime value and a 0–100 loyalty index from all input items',
		defaults: { name: 'Loyalty Insights' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		properties: [customer.operationProperty, ...inputProperties, ...customer.description],
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return await router.call(this);
	}
}
