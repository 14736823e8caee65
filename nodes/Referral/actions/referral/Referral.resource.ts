import type { INodeProperties } from 'n8n-workflow';
import * as approve from './approve.operation';
import * as flag from './flag.operation';
import * as get from './get.operation';
import * as list from './list.operation';
import * as qualify from './qualify.operation';
import * as record from './record.operation';
import * as reject from './reject.operation';
import * as reverse from './reverse.operation';

/** Referral: record, qualify, approve, reject, flag, reverse, get, list. */
export const operations = { record, qualify, approve, reject, flag, get, reverse, list };

export const operationProperty: INodeProperties = {
	displayName: 'Operation',
	name: 'operation',
	type: 'options',
	noDataExpression: true,
	displayOptions: { show: { resource: ['referral'] } },
	options: [
		{
			name: 'Approve',
			value: 'approve',
			action: 'Approve a flagged referral',
			description:
				'A reviewer clears a flagged referral: back to pending, or qualified when its order arrived during review',
		},
		{
			name: 'Flag for Review',
			value: 'flag',
			action: 'Flag a referral for review',
			description: 'Hold a pending referral for a reviewer',
		},
		{
			name: 'Get',
			value: 'get',
			action: 'Get a referral',
			description: 'A referral with its fraud checks and status history',
		},
		{
			name: 'List',
			value: 'list',
			action: 'List referrals',
			description: 'Referrals by status, referrer, referee and time',
		},
		{
			name: 'Qualify',
			value: 'qualify',
			action: 'Qualify a referral on a conversion (an order)',
			description: "The referee's order qualifies the referral, once per order ID",
		},
		{
			name: 'Record',
			value: 'record',
			action: 'Record a referred sign-up (the email and the referral code used)',
			description:
				'Enrol the referee and record the referral by code or referrer, with fraud checks',
		},
		{
			name: 'Reject',
			value: 'reject',
			action: 'Reject a referral',
			description: 'Reject a flagged or pending referral',
		},
		{
			name: 'Reverse (Refund)',
			value: 'reverse',
			action: 'Reverse a referral and its rewards on refund',
			description:
				'A refund or cancellation: reverses the referral and its rewards together as the refund policy says, in one step; a refund of 0 changes nothing',
		},
	],
	default: 'record',
};

export const description: INodeProperties[] = Object.values(operations).flatMap(
	(operation) => operation.description,
);
