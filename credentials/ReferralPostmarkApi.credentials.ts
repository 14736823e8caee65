import type {
	IAuthenticateGeneric,
	ICredentialTestRequest,
	ICredentialType,
	INodeProperties,
} from 'n8n-workflow';

/** A Postmark server token, for the Templated Message node. */
export class ReferralPostmarkApi implements ICredentialType {
	name = 'referralPostmarkApi';

	displayName = 'Referral Marketing Postmark API';

	icon = { light: 'file:messageEmail.svg', dark: 'file:messageEmail.dark.svg' } as const;

	documentationUrl =
		'https://github.com/n8n-nodes-referral-marketing/n8n-nodes-referral-marketing/blob/main/docs/nodes/templated-message.md';

	properties: INodeProperties[] = [
		{
			displayName: 'Server Token',
			name: 'serverToken',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			required: true,
		},
		{
			displayName: 'Message Stream',
			name: 'messageStream',
			type: 'string',
			default: '',
			placeholder: 'e.g. broadcast',
			description:
				'Stream ID; empty uses "outbound" (transactional). Commercial email belongs on a broadcast stream.',
		},
		{
			displayName: 'Base URL',
			name: 'baseUrl',
			type: 'string',
			default: 'https://api.postmarkapp.com',
		},
	];

	authenticate: IAuthenticateGeneric = {
		type: 'generic',
		properties: { headers: { 'X-Postmark-Server-Token': '={{$credentials.serverToken}}' } },
	};

	test: ICredentialTestRequest = {
		request: { baseURL: '={{$credentials.baseUrl}}', url: '/server', method: 'GET' },
	};
}
