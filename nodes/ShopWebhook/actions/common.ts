import type {
	ICredentialDataDecryptedObject,
	ICredentialsDecrypted,
	ICredentialTestFunctions,
	INodeCredentialTestResult,
	INodeProperties,
} from 'n8n-workflow';
import { signWebhook, verifyWebhookSignature } from '../../../engine/webhooks/signatures';

export const SECRET_CREDENTIAL = 'referralWebhookSecretApi';

export const SOURCE_OPTIONS = [
	{
		name: 'Referral Signature (X-Referral-Signature)',
		value: 'referral',
		description:
			'Our scheme for your own shop back-end: t=&lt;unix seconds&gt;,v1=&lt;hex HMAC-SHA256 of "&lt;t&gt;.&lt;raw body&gt;"&gt;',
	},
	{ name: 'Stripe', value: 'stripe', description: 'Stripe-Signature header' },
	{ name: 'Shopify', value: 'shopify', description: 'X-Shopify-Hmac-Sha256 header' },
	{ name: 'WooCommerce', value: 'woocommerce', description: 'X-WC-Webhook-Signature header' },
	{ name: 'Paddle Billing', value: 'paddle', description: 'Paddle-Signature header' },
];

export const show = (operation: string[], extra: Record<string, unknown[]> = {}) => ({
	show: { operation, ...extra },
});

export const headersFieldProperty: INodeProperties = {
	displayName: 'Headers Field',
	name: 'headersField',
	type: 'string',
	default: 'headers',
	description:
		'Name of the field holding the request headers (the Webhook node puts them in "headers")',
};

/** Which sender signed the body: Verify and Sign ask the same. */
export const signatureSourceProperty: INodeProperties = {
	displayName: 'Source',
	name: 'source',
	type: 'options',
	noDataExpression: true,
	options: SOURCE_OPTIONS,
	default: 'referral',
};

/** The current secret first, then the previous one during a rotation. */
export function secretsOf(data: ICredentialDataDecryptedObject | undefined): string[] {
	return [data?.secret, data?.previousSecret].filter(
		(s): s is string => typeof s === 'string' && s.length > 0,
	);
}

/** API keys people paste where the webhook's signing secret belongs. */
const WRONG_KINDS: Array<[RegExp, string]> = [
	[
		/^(sk|rk)_(live|test)_/,
		"This is a Stripe API key; use the endpoint's signing secret (whsec_…) from Developers › Webhooks",
	],
	[
		/^pk_(live|test)_/,
		"This is a Stripe publishable key; use the endpoint's signing secret (whsec_…)",
	],
	[
		/^pdl_(live|sdbx)_apikey_/,
		"This is a Paddle API key; use the notification destination's secret key (pdl_ntfset_…)",
	],
	[
		/^shpat_/,
		"This is a Shopify Admin API access token; use the app's client secret or the webhook signing key",
	],
	[
		/^c[ks]_[0-9a-f]{40}$/,
		'This is a WooCommerce REST API key; use the Secret set on the webhook (WooCommerce › Settings › Advanced › Webhooks)',
	],
];

/** What is wrong with a secret, or null. */
export function secretProblem(secret: unknown): string | null {
	if (typeof secret !== 'string' || secret === '') return 'The signing secret is empty';
	if (secret !== secret.trim())
		return 'The signing secret starts or ends with a space or line break (a copy-paste slip); remove it';
	for (const [pattern, message] of WRONG_KINDS) if (pattern.test(secret)) return message;
	if (secret.length < 16)
		return 'The signing secret is shorter than 16 characters: too easy to guess; use the one the provider shows, or a long random one';
	return null;
}

/** The credential test: the secret has the right shape and signs and verifies a sample request. */
export async function webhookSecretTest(
	this: ICredentialTestFunctions,
	credential: ICredentialsDecrypted,
): Promise<INodeCredentialTestResult> {
	for (const secret of secretsOf(credential.data)) {
		const problem = secretProblem(secret);
		if (problem) return { status: 'Error', message: problem };
		const body = '{"test":true}';
		const { value } = signWebhook({ source: 'referral', body, secret });
		if (
			!verifyWebhookSignature({
				source: 'referral',
				rawBody: body,
				headers: { 'x-referral-signature': value },
				secrets: [secret],
			}).ok
		) {
			return { status: 'Error', message: 'The secret could not sign and verify a sample request' };
		}
	}
	if (secretsOf(credential.data).length === 0)
		return { status: 'Error', message: 'The signing secret is empty' };
	return { status: 'OK', message: 'The secret signs and verifies a sample request' };
}
