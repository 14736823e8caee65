import type { INodeProperties } from 'n8n-workflow';
import * as clv from './clv.operation';
import * as loyaltyIndex from './loyaltyIndex.operation';
import * as nps from './nps.operation';
import * as rfm from './rfm.operation';

/** Customer analytics over all input items: RFM, NPS, CLV and the loyalty index. */
export const operations = { rfm, nps, clv, loyaltyIndex };

export const operationProperty: INodeProperties = {
	displayName: 'Operation',
	name: 'operation',
	type: 'options',
	noDataExpression: true,
	options: [
		{
			name: 'Customer Lifetime Value',
			value: 'clv',
			action: 'Predict customer lifetime value',
			description:
				'Historical value, BG/NBD purchases and churn risk, Gamma-Gamma spend, discounted CLV',
		},
		{
			name: 'Loyalty Index',
			value: 'loyaltyIndex',
			action: 'Compute a loyalty index',
			description:
				'A 0–100 index from weighted indicators, with coverage and each indicator’s part',
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
};

export const description: INodeProperties[] = [
	...rfm.description,
	...nps.description,
	...clv.description,
	...loyaltyIndex.description,
];
