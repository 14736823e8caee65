import type { INodeProperties } from 'n8n-workflow';
import * as trackClick from './trackClick.operation';

/** Referral Link: tracked share links (`/r/<code>`) that count clicks and redirect (issue #17). */
export const operations = { trackClick };

export const operationProperty: INodeProperties = {
	displayName: 'Operation',
	name: 'operation',
	type: 'options',
	noDataExpression: true,
	displayOptions: { show: { resource: ['referralLink'] } },
	options: [
		{
			name: 'Track Click',
			value: 'trackClick',
			action: 'Track a click of a referral link and redirect',
			description:
				"Record a click of /r/<code> (not bots, link previews, HEAD or rate-limited repeats) and answer the landing URL with the code and the visitor cookie, for a Respond to Webhook node's 302",
		},
	],
	default: 'trackClick',
};

export const description: INodeProperties[] = Object.values(operations).flatMap(
	(operation) => operation.description,
);
