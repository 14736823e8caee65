import type {
	ICredentialDataDecryptedObject,
	ICredentialTestRequest,
	ICredentialType,
	IDataObject,
	IHttpRequestOptions,
	INodeProperties,
} from 'n8n-workflow';

/** A Vonage (Nexmo) API key and secret for the SMS API, for the Templated Message node. */
export class ReferralVonageApi implements ICredentialType {
	name = 'referralVonageApi';

	displayName = 'Referral Marketing Vonage API';

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
			displayName: 'API Secret',
			name: 'apiSecret',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			required: true,
		},
		{
			displayName: 'Base URL',
			name: 'baseUrl',
			type: 'string',
			default: 'https://rest.nexmo.com',
		},
	];

	// Vonage reads the key and secret from the form body of a send and from the query of a GET.
	async authenticate(
		credentials: ICredentialDataDecryptedObject,
		requestOptions: IHttpRequestOptions,
	): Promise<IHttpRequestOptions> {
		const auth = { api_key: String(credentials.apiKey), api_secret: String(credentials.apiSecret) };
		if ((requestOptions.method ?? 'GET') === 'GET')
			requestOptions.qs = { ...(requestOptions.qs ?? {}), ...auth };
		else
			requestOptions.body = {
				...((requestOptions.body as IDataObject | undefined) ?? {}),
				...auth,
			};
		return requestOptions;
	}

	test: ICredentialTestRequest = {
		request: { baseURL: '={{$credentials.baseUrl}}', url: '/account/get-balance', method: 'GET' },
	};
}
