import type {
	IAuthenticateGeneric,
	ICredentialTestRequest,
	ICredentialType,
	INodeProperties,
} from 'n8n-workflow';

/** A Mailgun API key and sending domain, for the Templated Message node. */
export class ReferralMailgunApi implements ICredentialType {
	name = 'referralMailgunApi';

	displayName = 'Referral Marketing Mailgun API';

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
			description:
				'An account API key. A domain sending key can send, but cannot pass the Test button (it may only post messages).',
		},
		{
			displayName: 'Sending Domain',
			name: 'domain',
			type: 'string',
			default: '',
			placeholder: 'mg.example.com',
			required: true,
		},
		{
			displayName: 'Base URL',
			name: 'baseUrl',
			type: 'string',
			default: 'https://api.mailgun.net',
			description: 'https://api.eu.mailgun.net for domains in the EU region',
		},
	];

	authenticate: IAuthenticateGeneric = {
		type: 'generic',
		properties: { auth: { username: 'api', password: '={{$credentials.apiKey}}' } },
	};

	// Reads the sending domain, which checks the key and the domain together.
	test: ICredentialTestRequest = {
		request: {
			baseURL: '={{$credentials.baseUrl}}',
			url: '=/v4/domains/{{$credentials.domain}}',
			method: 'GET',
		},
	};
}
