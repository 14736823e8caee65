import type { INodeProperties } from 'n8n-workflow';
import * as issue from './issue.operation';
import * as lookup from './lookup.operation';
import * as redeem from './redeem.operation';
import * as revoke from './revoke.operation';

/** Issued Code: codes kept in the referral ledger. Operation names are unique in the node, so their forms show by operation alone. */
export const operations = { issue, lookup, redeem, revoke };

export const operationProperty: INodeProperties = {
	displayName: 'Operation',
	name: 'operation',
	type: 'options',
	noDataExpression: true,
	displayOptions: { show: { resource: ['issuedCode'] } },
	options: [
		{
			name: 'Issue',
			value: 'issue',
			action: 'Issue a code to a participant',
			description: 'Create a code in the ledger, owned by a participant, unique in its program',
		},
		{
			name: 'Look Up',
			value: 'lookup',
			action: 'Look up an issued code (its owner and status)',
			description: 'Find a code in the ledger with its owner, uses and state',
		},
		{
			name: 'Redeem',
			value: 'redeem',
			action: 'Redeem a code',
			description: 'Use a code once: refused when revoked, expired or used up',
		},
		{
			name: 'Revoke',
			value: 'revoke',
			action: 'Revoke a code',
			description: 'Stop a code from working',
		},
	],
	default: 'issue',
};

export const description: INodeProperties[] = Object.values(operations).flatMap(
	(operation) => operation.description,
);
