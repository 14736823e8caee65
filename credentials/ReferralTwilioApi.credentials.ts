import type {
	ICredentialDataDecryptedObject,
	ICredentialTestRequest,
	ICredentialType,
	IHttpRequestOptions,
	INodeProperties,
} from 'n8n-workflow';

/** A Twilio account (Auth Token or API key) and its sender, for the Templated Message node. */
export class ReferralTwilioApi implements ICredentialType {
	name = 'referralTwilioApi';

	displayName = 'Referral Marketing Twilio API';

	icon = { light: 'file:messageSms.svg', dark: 'file:messageSms.dark.svg' } as const;

	documentationUrl =
		'https://github.com/n8n-nodes-referral-marketing/n8n-nodes-referral-marketing/blob/main/docs/nodes/templated-message.md';

	properties: INodeProperties[] = [
		{
			displayName: 'Auth Type',
			name: 'authType',
			type: 'options',
			options: [
				{ name: 'Auth Token', value: 'authToken' },
				{ name: 'API Key', value: 'apiKey' },
			],
			default: 'authToken',
		},
		{
			displayName: 'Account SID',
			name: 'accountSid',
			type: 'string',
			default: '',
			placeholder: 'AC0123456789abcdef0123456789abcdef',
			required: true,
		},
		{
			displayName: 'Auth Token',
			name: 'authToken',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			displayOptions: { show: { authType: ['authToken'] } },
		},
		{
			displayName: 'API Key SID',
			name: 'apiSid',
			type: 'string',
			default: '',
			placeholder: 'SK0123456789abcdef0123456789abcdef',
			displayOptions: { show: { authType: ['apiKey'] } },
		},
		{
			displayName: 'API Key Secret',
			name: 'apiKeySecret',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			displayOptions: { show: { authType: ['apiKey'] } },
		},
		{
			displayName: 'Messaging Service SID',
			name: 'messagingServiceSid',
			type: 'string',
			default: '',
			placeholder: 'MG0123456789abcdef0123456789abcdef',
			description:
				"Send through a Messaging Service (sender pool, queueing) instead of the node's From number",
		},
		{
			displayName: 'Status Callback URL',
			name: 'statusCallbackUrl',
			type: 'string',
			default: '',
			placeholder: 'e.g. https://n8n.example.com/webhook/sms-status',
			description: 'Where Twilio posts delivery status updates; empty for none',
		},
		{
			displayName: 'Base URL',
			name: 'baseUrl',
			type: 'string',
			default: 'https://api.twilio.com',
		},
	];

	// A function rather than a generic block: the Basic-auth user depends on the auth type.
	async authenticate(
		credentials: ICredentialDataDecryptedObject,
		requestOptions: IHttpRequestOptions,
	): Promise<IHttpRequestOptions> {
		const apiKey = credentials.authType === 'apiKey';
		requestOptions.auth = {
			username: String(apiKey ? credentials.apiSid : credentials.accountSid),
			password: String(apiKey ? credentials.apiKeySecret : credentials.authToken),
		};
		return requestOptions;
	}

	test: ICredentialTestRequest = {
		request: {
			baseURL: '={{$credentials.baseUrl}}',
			url: '=/2010-04-01/Accounts/{{$credentials.accountSid}}.json',
			method: 'GET',
		},
	};
}
