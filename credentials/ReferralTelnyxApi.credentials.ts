import type {
	IAuthenticateGeneric,
	ICredentialTestRequest,
	ICredentialType,
	INodeProperties,
} from 'n8n-workflow';

/** A Telnyx API key (v2) and, optionally, a messaging profile, for the Templated Message node. */
export class ReferralTelnyxApi implements ICredentialType {
	name = 'referralTelnyxApi';

	displayName = 'Referral Marketing Telnyx API';

	icon = { light: 'file:messageSms.svg', dark: 'file:messageSms.dark.svg' } as const;

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
			displayName: 'Messaging Profile ID',
			name: 'messagingProfileId',
			type: 'string',
			default: '',
			description:
				"Send from the profile's number pool or alphanumeric sender instead of the node's From number",
		},
		{
			displayName: 'Webhook URL',
			name: 'webhookUrl',
			type: 'string',
			default: '',
			placeholder: 'e.g. https://n8n.example.com/webhook/sms-status',
			description: "Where Telnyx posts delivery events; empty uses the profile's webhook",
		},
		{
			displayName: 'Base URL',
			name: 'baseUrl',
			type: 'string',
			default: 'https://api.telnyx.com',
		},
	];

	authenticate: IAuthenticateGeneric = {
		type: 'generic',
		properties: { headers: { Authorization: '=Bearer {{$credentials.apiKey}}' } },
	};

	test: ICredentialTestRequest = {
		request: { baseURL: '={{$credentials.baseUrl}}', url: '/v2/balance', method: 'GET' },
	};
}
