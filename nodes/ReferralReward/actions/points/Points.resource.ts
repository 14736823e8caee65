import type { INodeProperties } from 'n8n-workflow';
import * as getStatus from './getStatus.operation';
import * as pointsHistory from './pointsHistory.operation';
import * as redeemPoints from './redeemPoints.operation';

/** Points and Status: a participant's balance, tier, badges, history and redemptions. Operation names are unique in the node, so their forms show by operation alone. */
export const operations = { getStatus, pointsHistory, redeemPoints };

export const operationProperty: INodeProperties = {
	displayName: 'Operation',
	name: 'operation',
	type: 'options',
	noDataExpression: true,
	displayOptions: { show: { resource: ['points'] } },
	options: [
		{
			name: 'Get Status',
			value: 'getStatus',
			action: "Get a participant's points, tier and badges",
			description: 'Points balance, current VIP tier, badges and qualified referrals',
		},
		{
			name: 'Points History',
			value: 'pointsHistory',
			action: "Get a participant's points history",
			description: 'Points balance and journal entries',
		},
		{
			name: 'Redeem Points',
			value: 'redeemPoints',
			action: 'Redeem points',
			description: 'Spend points once per reference; refused when the balance is too small',
		},
	],
	default: 'getStatus',
};

export const description: INodeProperties[] = Object.values(operations).flatMap(
	(operation) => operation.description,
);
