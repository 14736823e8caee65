import type { INodeProperties } from 'n8n-workflow';
import * as participantPage from './participantPage.operation';

/** Pages served from n8n (Webhook → Referral Portal → Respond to Webhook). */
export const operations = { participantPage };

export const operationProperty: INodeProperties = {
	displayName: 'Operation',
	name: 'operation',
	type: 'options',
	noDataExpression: true,
	options: [
		{
			name: 'Participant Page',
			value: 'participantPage',
			action: "Render a participant's referral page from their private link",
			description:
				"HTML of the participant's own page (code, link, QR code, share buttons, progress, rewards, referrals) for a Respond to Webhook node; a bad or expired link gives a 404 page naming nobody",
		},
	],
	default: 'participantPage',
};

export const description: INodeProperties[] = Object.values(operations).flatMap(
	(operation) => operation.description,
);
