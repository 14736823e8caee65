import type { INodeProperties } from 'n8n-workflow';
import * as prune from './prune.operation';

/** Ledger: housekeeping of the whole ledger (every program on it). */
export const operations = { prune };

export const operationProperty: INodeProperties = {
	displayName: 'Operation',
	name: 'operation',
	type: 'options',
	noDataExpression: true,
	displayOptions: { show: { resource: ['ledger'] } },
	options: [
		{
			name: 'Prune Old Records',
			value: 'prune',
			action: 'Prune delivered messages, old events and old idempotency keys',
			description:
				'Forget what is delivered or answered and older than the retention: sent, failed and skipped messages, trigger events, idempotency keys. Never referrals, rewards, points or coupons.',
		},
	],
	default: 'prune',
};

export const description: INodeProperties[] = Object.values(operations).flatMap(
	(operation) => operation.description,
);
