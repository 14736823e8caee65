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

/* Not an AI Agent tool: it analyses a population of customers, and a tool call brings one item (issue #19). n8n's type has no `usableAsTool: false`, so the property is left out. */
// eslint-disable-next-line @n8n/community-nodes/node-usable-as-tool
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
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		properties: [customer.operationProperty, ...inputProperties, ...customer.description],
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return await router.call(this);
	}
}
