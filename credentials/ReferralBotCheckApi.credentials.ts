import type {
	ICredentialDataDecryptedObject,
	ICredentialTestRequest,
	ICredentialType,
	IDataObject,
	IHttpRequestOptions,
	INodeProperties,
} from 'n8n-workflow';

/**
 * The secret key of a bot check (Cloudflare Turnstile or hCaptcha) for the Shop Webhook node's
 * Verify Bot Check. The secret goes into the siteverify form body, added here so it never reaches
 * the engine or an item.
 */
export class ReferralBotCheckApi implements ICredentialType {
	name = 'referralBotCheckApi';

	displayName = 'Bot Check (Turnstile, hCaptcha) API';

	icon = { light: 'file:webhookSecret.svg', dark: 'file:webhookSecret.dark.svg' } as const;

	documentationUrl =
		'https://github.com/n8n-nodes-referral-marketing/n8n-nodes-referral-marketing/blob/main/docs/nodes/shop-webhook.md';

	properties: INodeProperties[] = [
		{
			displayName: 'Provider',
			name: 'provider',
			type: 'options',
			options: [
				{ name: 'Cloudflare Turnstile', value: 'turnstile' },
				{ name: 'hCaptcha', value: 'hcaptcha' },
			],
			default: 'turnstile',
		},
		{
			displayName: 'Secret Key',
			name: 'secretKey',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			required: true,
			description:
				"Turnstile: the widget's secret key (Cloudflare dashboard › Turnstile). hCaptcha: your account's secret key (0x…). Never the site key, which is public.",
		},
		{
			displayName: 'hCaptcha Site',
			name: 'site',
			type: 'string',
			default: '',
			description:
				'hCaptcha: the public site key (sitekey) the token must belong to (recommended); Turnstile ignores it',
		},
		{
			displayName: 'Siteverify URL',
			name: 'verifyUrl',
			type: 'string',
			default: '',
			placeholder: 'https://challenges.cloudflare.com/turnstile/v0/siteverify',
			description: "Leave empty for the provider's own endpoint",
		},
	];

	async authenticate(
		credentials: ICredentialDataDecryptedObject,
		requestOptions: IHttpRequestOptions,
	): Promise<IHttpRequestOptions> {
		requestOptions.body = {
			...((requestOptions.body as IDataObject | undefined) ?? {}),
			secret: String(credentials.secretKey ?? ''),
		};
		return requestOptions;
	}

	// A made-up token: a right secret answers invalid-input-response, a wrong one invalid-input-secret.
	test: ICredentialTestRequest = {
		request: {
			method: 'POST',
			url: '={{$credentials.verifyUrl || ($credentials.provider === "hcaptcha" ? "https://api.hcaptcha.com/siteverify" : "https://challenges.cloudflare.com/turnstile/v0/siteverify")}}',
			headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
			body: { response: 'credential-test-token' },
		},
		rules: [
			{
				type: 'responseSuccessBody',
				properties: {
					key: 'error-codes[0]',
					value: 'invalid-input-secret',
					message: 'The provider does not know this secret key',
				},
			},
			{
				type: 'responseSuccessBody',
				properties: {
					key: 'error-codes[1]',
					value: 'invalid-input-secret',
					message: 'The provider does not know this secret key',
				},
			},
			{
				type: 'responseSuccessBody',
				properties: {
					key: 'error-codes[0]',
					value: 'missing-input-secret',
					message: 'The secret key is empty',
				},
			},
		],
	};
}
