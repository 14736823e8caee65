import type { INodeProperties } from 'n8n-workflow';
import * as dashboardPage from './dashboardPage.operation';
import * as reportCharts from './reportCharts.operation';
import * as reviewDecision from './reviewDecision.operation';
import * as reviewQueuePage from './reviewQueuePage.operation';

/** The marketer's pages (served through Webhook → Referral Dashboard → Respond to Webhook) and the report charts. */
export const operations = { dashboardPage, reviewQueuePage, reviewDecision, reportCharts };

export const operationProperty: INodeProperties = {
	displayName: 'Operation',
	name: 'operation',
	type: 'options',
	noDataExpression: true,
	options: [
		{
			name: 'Dashboard Page',
			value: 'dashboardPage',
			action: 'Render the dashboard page',
			description:
				'Funnel over time, K-factor, referral rate and CAC, top referrers, rewards owed and paid, coupon pools, loyalty mix as HTML',
		},
		{
			name: 'Report Charts',
			value: 'reportCharts',
			action: 'Render the report charts',
			description: "The dashboard's charts as PNG and SVG files, for an email",
		},
		{
			name: 'Review Decision',
			value: 'reviewDecision',
			action: 'Approve or reject a flagged referral from the review queue',
			description:
				'Checks the form token, approves or rejects like the Referral node does, and redirects back to the queue',
		},
		{
			name: 'Review Queue Page',
			value: 'reviewQueuePage',
			action: 'Render the review queue page',
			description:
				'Flagged referrals with their reasons and evidence, and Approve and Reject buttons',
		},
	],
	default: 'dashboardPage',
};

export const description: INodeProperties[] = [
	...dashboardPage.description,
	...reportCharts.description,
	...reviewQueuePage.description,
	...reviewDecision.description,
];
