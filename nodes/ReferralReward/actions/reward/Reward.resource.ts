import type { INodeProperties } from 'n8n-workflow';
import * as approveDue from './approveDue.operation';
import * as evaluate from './evaluate.operation';
import * as listRewards from './listRewards.operation';
import * as loadCoupons from './loadCoupons.operation';
import * as markFulfilled from './markFulfilled.operation';
import * as reverse from './reverse.operation';

/** Reward: award, approve, fulfil, reverse and list rewards; load coupon pools. Operation names are unique in the node, so their forms show by operation alone. */
export const operations = {
	evaluate,
	approveDue,
	markFulfilled,
	reverse,
	listRewards,
	loadCoupons,
};

export const operationProperty: INodeProperties = {
	displayName: 'Operation',
	name: 'operation',
	type: 'options',
	noDataExpression: true,
	displayOptions: { show: { resource: ['reward'] } },
	options: [
		{
			name: 'Approve Due Rewards',
			value: 'approveDue',
			action: 'Approve rewards whose holding period ended',
			description: 'Release pending rewards after the refund window; run from a Schedule Trigger',
		},
		{
			name: 'Evaluate and Award',
			value: 'evaluate',
			action: 'Evaluate and award rewards for a referral',
			description: 'Apply the reward rules to a referral and write what it earned, exactly once',
		},
		{
			name: 'List Rewards',
			value: 'listRewards',
			action: 'List rewards',
			description: 'Rewards of the program or of one participant',
		},
		{
			name: 'Load Coupon Pool',
			value: 'loadCoupons',
			action: 'Load coupon codes into a pool',
			description:
				'Add codes made in your shop to a pool that coupon rules take from; loading them again adds nothing',
		},
		{
			name: 'Mark Fulfilled',
			value: 'markFulfilled',
			action: 'Mark a reward fulfilled',
			description: 'Record that an approved reward was handed out (coupon sent, cash paid)',
		},
		{
			name: 'Reverse',
			value: 'reverse',
			action: "Reverse a referral's rewards",
			description:
				"Take back what is left of the rewards of a reversed referral; for a refund use the Referral node's Reverse (Refund), which does both",
		},
	],
	default: 'evaluate',
};

export const description: INodeProperties[] = Object.values(operations).flatMap(
	(operation) => operation.description,
);
