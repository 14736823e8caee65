import type { ICredentialType, INodeProperties } from 'n8n-workflow';

/**
 * Where the referral ledger keeps its data. Without this credential the nodes use an SQLite file
 * in the n8n data folder; choose PostgreSQL when n8n runs in queue mode with several workers.
 * Tested by the nodes that use it (`testedBy: 'referralLedgerConnectionTest'`): the test really
 * connects and applies the schema.
 */
export class ReferralLedgerApi implements ICredentialType {
	name = 'referralLedgerApi';

	displayName = 'Referral Ledger API';

	icon = { light: 'file:referralLedger.svg', dark: 'file:referralLedger.dark.svg' } as const;

	documentationUrl =
		'https://github.com/n8n-nodes-referral-marketing/n8n-nodes-referral-marketing/blob/main/docs/ledger.md';

	properties: INodeProperties[] = [
		{
			displayName: 'Database',
			name: 'backend',
			type: 'options',
			options: [
				{ name: 'SQLite (File on This Machine)', value: 'sqlite' },
				{ name: 'PostgreSQL (Queue Mode, Several Workers)', value: 'postgres' },
			],
			default: 'sqlite',
		},
		{
			displayName: 'File Path',
			name: 'path',
			type: 'string',
			default: '',
			placeholder: '/home/node/.n8n/referral-ledger.sqlite',
			description:
				'SQLite database file; created if missing. Empty: referral-ledger.sqlite in the n8n data folder.',
			displayOptions: { show: { backend: ['sqlite'] } },
		},
		{
			displayName: 'Connect With',
			name: 'connection',
			type: 'options',
			options: [
				{ name: 'Host and Credentials', value: 'fields' },
				{ name: 'Connection String', value: 'url' },
			],
			default: 'fields',
			displayOptions: { show: { backend: ['postgres'] } },
		},
		{
			displayName: 'Connection String',
			name: 'connectionStringSecret',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			placeholder: 'postgres://user:password@db.example.com:5432/referrals',
			displayOptions: { show: { backend: ['postgres'], connection: ['url'] } },
		},
		{
			displayName: 'Host',
			name: 'host',
			type: 'string',
			default: 'localhost',
			displayOptions: { show: { backend: ['postgres'], connection: ['fields'] } },
		},
		{
			displayName: 'Port',
			name: 'port',
			type: 'number',
			default: 5432,
			displayOptions: { show: { backend: ['postgres'], connection: ['fields'] } },
		},
		{
			displayName: 'Database Name',
			name: 'database',
			type: 'string',
			default: 'postgres',
			displayOptions: { show: { backend: ['postgres'], connection: ['fields'] } },
		},
		{
			displayName: 'User',
			name: 'user',
			type: 'string',
			default: 'postgres',
			displayOptions: { show: { backend: ['postgres'], connection: ['fields'] } },
		},
		{
			displayName: 'Password',
			name: 'password',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			displayOptions: { show: { backend: ['postgres'], connection: ['fields'] } },
		},
		{
			displayName: 'SSL',
			name: 'ssl',
			type: 'options',
			options: [
				{ name: 'Disable', value: 'disable' },
				{ name: 'Require (Verify Certificate)', value: 'require' },
				{ name: 'Require (Do Not Verify Certificate)', value: 'allowUnauthorized' },
			],
			default: 'disable',
			displayOptions: { show: { backend: ['postgres'] } },
		},
		{
			displayName: 'Schema',
			name: 'schema',
			type: 'string',
			default: 'referral_ledger',
			description: 'PostgreSQL schema that holds the ledger tables; created if missing',
			displayOptions: { show: { backend: ['postgres'] } },
		},
	];
}
