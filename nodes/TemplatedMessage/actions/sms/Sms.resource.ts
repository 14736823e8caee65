import type { INodeProperties } from 'n8n-workflow';
import * as render from './render.operation';
import * as resubscribe from './resubscribe.operation';
import * as send from './send.operation';
import * as sendOwed from './sendOwed.operation';
import * as unsubscribe from './unsubscribe.operation';

/** SMS: render, send, deliver what the ledger owes, and keep the suppression list. */
export const operations = { render, send, sendOwed, unsubscribe, resubscribe };

export const operationProperty: INodeProperties = {
	displayName: 'Operation',
	name: 'operation',
	type: 'options',
	noDataExpression: true,
	displayOptions: { show: { resource: ['sms'] } },
	options: [
		{
			name: 'Render',
			value: 'render',
			action: 'Render an SMS from the template without sending it (text and segments)',
			description:
				'Text, encoding, characters and segments exactly as Send would build them, with warnings',
		},
		{
			name: 'Resubscribe',
			value: 'resubscribe',
			action: 'Resubscribe a phone number',
			description: 'Remove a number from the suppression list after a new opt-in',
		},
		{
			name: 'Send',
			value: 'send',
			action: 'Send an SMS',
			description: 'Render and send once per recipient; outputs Sent, Skipped, Deferred and Failed',
		},
		{
			name: 'Send Owed Messages',
			value: 'sendOwed',
			action: 'Send the SMS the ledger owes',
			description:
				'Deliver the texts recorded in the ledger with their cause, each exactly once, even after a crash',
		},
		{
			name: 'Unsubscribe',
			value: 'unsubscribe',
			action: 'Unsubscribe a phone number',
			description: 'Add a number to the suppression list; later sends to it are skipped',
		},
	],
	default: 'send',
};
