import type { INodeProperties } from 'n8n-workflow';
import * as leaderboard from './leaderboard.operation';
import * as save from './save.operation';
import * as stats from './stats.operation';

/** Program: create or update, stats per period, leaderboard. */
export const operations = { save, stats, leaderboard };

export const operationProperty: INodeProperties = {
	displayName: 'Operation',
	name: 'operation',
	type: 'options',
	noDataExpression: true,
	displayOptions: { show: { resource: ['program'] } },
	options: [
		{
			name: 'Create or Update',
			value: 'save',
			action: 'Create or update a program',
			description:
				'Code format, share link, attribution window and model, fraud policy, qualification and refund rules',
		},
		{
			name: 'Get Leaderboard',
			value: 'leaderboard',
			action: 'Get the leaderboard',
			description: 'Top participants by qualified referrals or points in a period, with ranks',
		},
		{
			name: 'Get Stats',
			value: 'stats',
			action: 'Get program stats',
			description:
				'Funnel, referral and conversion rates, K-factor, referred revenue, time to convert, referral CAC',
		},
	],
	default: 'stats',
};

export const description: INodeProperties[] = Object.values(operations).flatMap(
	(operation) => operation.description,
);
