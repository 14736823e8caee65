import type {
	IAuthenticateGeneric,
	ICredentialTestRequest,
	ICredentialType,
	INodeProperties,
} from 'n8n-workflow';

/** A SendGrid API key with "Mail Send" access, for the Templated Message node. */
export class ReferralSendGridApi implements ICredentialType {
	name = 'referralSendGridApi';

	displayName = 'Referral Marketing SendGrid API';

	icon = { light: 'file:messageEmail.svg', dark: 'file:messageEmail.dark.svg' } as const;

	documentationUrl =
		'https://github.com/n8n-nodes-referral-marketing/n8n-nodes-referral-marketing/blob/main/docs/nodes/templated-message.md';

	properties: INodeProperties[] = [
		{
			displayName: 'API Key',
			name: 'apiKey',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			required: true,
		},
		{
			displayName: 'Base URL',
			name: 'baseUrl',
			type: 'string',
			default: 'https://api.sendgrid.com',
			description: 'https://api.eu.sendgrid.com for EU-pinned subusers',
		},
	];

	authenticate: IAuthenticateGeneric = {
		type: 'generic',
		properties: { headers: { Authorization: '=Bearer {{$credentials.apiKey}}' } },
	};

	// Lists the key's own scopes: any valid key may call it, whatever its permissions.
	test: ICredentialTestRequest = {
		request: { baseURL: '={{$credentials.baseUrl}}', url: '/v3/scopes', method: 'GET' },
	};
}
