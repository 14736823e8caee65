import type { INodeProperties } from 'n8n-workflow';
import * as enrol from './enrol.operation';
import * as erase from './erase.operation';
import * as get from './get.operation';
import * as getByToken from './getByToken.operation';
import * as list from './list.operation';
import * as privateLink from './privateLink.operation';
import * as update from './update.operation';

/** Participant: enrol, get, update, list, erase, and the private status link. */
export const operations = { enrol, erase, get, getByToken, privateLink, list, update };

export const operationProperty: INodeProperties = {
	displayName: 'Operation',
	name: 'operation',
	type: 'options',
	noDataExpression: true,
	displayOptions: { show: { resource: ['participant'] } },
	options: [
		{
			name: 'Enrol',
			value: 'enrol',
			action:
				'Enrol a person by email or external ID, once (the participant and their referral code)',
			description:
				'Enrol by email or external ID (idempotent), issue their code and share link, and record the referral when a code came with them',
		},
		{
			name: 'Erase',
			value: 'erase',
			action: "Erase a participant's personal data",
			description: 'GDPR erasure: personal data removed, referrals, points and counts kept',
		},
		{
			name: 'Get',
			value: 'get',
			action: "Get a participant's referral status by email, external ID or participant ID",
			description:
				'A participant with code, share link, referrals, qualified referrals, points, tier, badges and rank',
		},
		{
			name: 'Get by Private Link',
			value: 'getByToken',
			action: 'Get a participant by their private link',
			description:
				'What Get answers, for the holder of a private status link; a forged, changed or expired link is refused (code invalid_link)',
		},
		{
			name: 'Get Private Link',
			value: 'privateLink',
			action: 'Get a private link for a participant',
			description:
				"A signed, expiring link to the participant's own status page, to email to them; names nobody else",
		},
		{
			name: 'List',
			value: 'list',
			action: 'List participants',
			description: 'Participants page by page',
		},
		{
			name: 'Update',
			value: 'update',
			action: 'Update a participant',
			description: 'Change email, external ID, name, phone or metadata',
		},
	],
	default: 'enrol',
};

export const description: INodeProperties[] = Object.values(operations).flatMap(
	(operation) => operation.description,
);
