import type {
	IAuthenticateGeneric,
	ICredentialTestRequest,
	ICredentialType,
	INodeProperties,
} from 'n8n-workflow';

/** A Plivo Auth ID and Auth Token, for the Templated Message node. */
export class ReferralPlivoApi implements ICredentialType {
	name = 'referralPlivoApi';

	displayName = 'Referral Marketing Plivo API';

	icon = { light: 'file:messageSms.svg', dark: 'file:messageSms.dark.svg' } as const;

	documentationUrl =
		'https://github.com/n8n-nodes-referral-marketing/n8n-nodes-referral-marketing/blob/main/docs/nodes/templated-message.md';

	properties: INodeProperties[] = [
		{
			displayName: 'Auth ID',
			name: 'authId',
			type: 'string',
			default: '',
			required: true,
		},
		{
			displayName: 'Auth Token',
			name: 'authToken',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			required: true,
		},
		{
			displayName: 'Powerpack UUID',
			name: 'powerpackUuid',
			type: 'string',
			default: '',
			description: "Send from a Powerpack number pool instead of the node's From number",
		},
		{
			displayName: 'Status Callback URL',
			name: 'statusCallbackUrl',
			type: 'string',
			default: '',
			placeholder: 'e.g. https://n8n.example.com/webhook/sms-status',
			description: 'Where Plivo posts delivery status updates; empty for none',
		},
		{
			displayName: 'Base URL',
			name: 'baseUrl',
			type: 'string',
			default: 'https://api.plivo.com',
		},
	];

	authenticate: IAuthenticateGeneric = {
		type: 'generic',
		properties: {
			auth: { username: '={{$credentials.authId}}', password: '={{$credentials.authToken}}' },
		},
	};

	test: ICredentialTestRequest = {
		request: {
			baseURL: '={{$credentials.baseUrl}}',
			url: '=/v1/Account/{{$credentials.authId}}/',
			method: 'GET',
		},
	};
}
