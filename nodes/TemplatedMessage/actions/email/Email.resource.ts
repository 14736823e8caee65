import type { INodeProperties } from 'n8n-workflow';
import * as render from './render.operation';
import * as resubscribe from './resubscribe.operation';
import * as send from './send.operation';
import * as sendOwed from './sendOwed.operation';
import * as unsubscribe from './unsubscribe.operation';

/** Email: render, send, deliver what the ledger owes, and keep the suppression list. */
export const operations = { render, send, sendOwed, unsubscribe, resubscribe };

export const operationProperty: INodeProperties = {
	displayName: 'Operation',
	name: 'operation',
	type: 'options',
	noDataExpression: true,
	displayOptions: { show: { resource: ['email'] } },
	options: [
		{
			name: 'Render',
			value: 'render',
			action: 'Render an email from the template without sending it (subject and body)',
			description: 'Subject, HTML and plain text exactly as Send would build them, with warnings',
		},
		{
			name: 'Resubscribe',
			value: 'resubscribe',
			action: 'Resubscribe an email address',
			description: 'Remove an address from the suppression list after a new opt-in',
		},
		{
			name: 'Send',
			value: 'send',
			action: 'Send an email',
			description: 'Render and send once per recipient; outputs Sent, Skipped, Deferred and Failed',
		},
		{
			name: 'Send Owed Messages',
			value: 'sendOwed',
			action: 'Send the emails the ledger owes',
			description:
				'Deliver the emails recorded in the ledger with their cause (e.g. reward emails), each exactly once, even after a crash',
		},
		{
			name: 'Unsubscribe',
			value: 'unsubscribe',
			action: 'Unsubscribe an email address',
			description: 'Add an address to the suppression list; later sends to it are skipped',
		},
	],
	default: 'send',
};
