import type { IExecuteFunctions, INodeExecutionData, INodeType, INodeTypeDescription } from 'n8n-workflow';
import { NodeConnectionTypes } from 'n8n-workflow';
import * as clv from './actions/clv.operation';
import { inputProperties } from './actions/common';
import * as loyaltyIndex from './actions/loyaltyIndex.operation';
import * as nps from './actions/nps.operation';
import * as rfm from './actions/rfm.operation';
import { router } from './actions/router';

export class LoyaltyInsights implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Loyalty Insights',
		name: 'loyaltyInsights',
		icon: { light: 'file:loyaltyInsights.svg', dark: 'file:loyaltyInsights.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle: '={{ $parameter["operation"] }}',
		description: 'RFM segments, Net Promoter Score, customer lifetime value and a 0–100 loyalty index from all input items',
		defaults: { name: 'Loyalty Insights' },
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
						name: 'Customer Lifetime Value',
						value: 'clv',
						action: 'Predict customer lifetime value',
						description: 'Historical value, BG/NBD purchases and churn risk, Gamma-Gamma spend, discounted CLV',
					},
					{
						name: 'Loyalty Index',
						value: 'loyaltyIndex',
						action: 'Compute a loyalty index',
						description: 'A 0–100 index from weighted indicators, with coverage and each indicator’s part',
					},
					{
						name: 'Net Promoter Score',
						value: 'nps',
						action: 'Compute the net promoter score',
						description: 'NPS from 0–10 answers, overall and by group, with a 95% interval',
					},
					{
						name: 'RFM Analysis',
						value: 'rfm',
						action: 'Score customers by recency frequency and monetary value',
						description: 'Recency, frequency and monetary scores and named segments per customer',
					},
				],
				default: 'rfm',
			},
			...inputProperties,
			...rfm.description,
			...nps.description,
			...clv.description,
			...loyaltyIndex.description,
		],
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return await router.call(this);
	}
}
