import type { ICredentialType, INodeProperties } from 'n8n-workflow';

/**
 * The secret a webhook sender signs with: our X-Referral-Signature scheme, or the signing secret
 * Stripe, Shopify, WooCommerce or Paddle shows for the endpoint. Tested by the Shop Webhook node
 * (`testedBy: 'webhookSecretTest'`): the test signs and verifies a sample with it and catches the
 * usual mix-up of pasting an API key instead of the webhook's signing secret.
 */
export class ReferralWebhookSecretApi implements ICredentialType {
	name = 'referralWebhookSecretApi';

	displayName = 'Webhook Signing Secret API';

	icon = { light: 'file:webhookSecret.svg', dark: 'file:webhookSecret.dark.svg' } as const;

	documentationUrl =
		'https://github.com/n8n-nodes-referral-marketing/n8n-nodes-referral-marketing/blob/main/docs/nodes/shop-webhook.md';

	properties: INodeProperties[] = [
		{
			displayName:
				"Stripe: the endpoint's signing secret (whsec_…). Shopify: the app's client secret, or the key shown under Settings › Notifications › Webhooks. WooCommerce: the webhook's Secret. Paddle: the notification destination's secret key (pdl_ntfset_…). Our own X-Referral-Signature: any long random string, shared with your shop back-end.",
			name: 'notice',
			type: 'notice',
			default: '',
		},
		{
			displayName: 'Signing Secret',
			name: 'secret',
			type: 'string',
			typeOptions: { password: true },
			required: true,
			default: '',
		},
		{
			displayName: 'Previous Secret',
			name: 'previousSecret',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			description:
				'While you rotate the secret, requests signed with the previous one are still accepted; empty it once every sender uses the new one',
		},
	];
}
