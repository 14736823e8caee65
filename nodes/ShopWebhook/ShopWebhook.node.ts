import type {
	IExecuteFunctions,
	INodeExecutionData,
	INodeType,
	INodeTypeDescription,
} from 'n8n-workflow';
import { NodeConnectionTypes } from 'n8n-workflow';
import { referralLedgerConnectionTest } from '../shared/ledger';
import { show, webhookSecretTest } from './actions/common';
import { router } from './actions/router';
import * as webhook from './actions/webhook/Webhook.resource';

/** Outputs per operation: Verify routes to Verified / Rejected, Normalize to Conversion / Refund / Ignored. */
const outputsFor = (parameters: { operation?: string }) =>
	parameters.operation === 'normalize'
		? [
				{ type: 'main', displayName: 'Conversion' },
				{ type: 'main', displayName: 'Refund' },
				{ type: 'main', displayName: 'Ignored' },
			]
		: parameters.operation === 'sign'
			? [{ type: 'main' }]
			: [
					{ type: 'main', displayName: 'Verified' },
					{ type: 'main', displayName: 'Rejected' },
				];

/* Not an AI Agent tool (issue #19): it checks and makes webhook signatures with the shop's secret; a model steered by a chat message must not get a signing oracle, and a tool call has no raw request body to verify. n8n's type has no `usableAsTool: false`, so the property is left out. */
// eslint-disable-next-line @n8n/community-nodes/node-usable-as-tool
export class ShopWebhook implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Shop Webhook',
		name: 'shopWebhook',
		icon: { light: 'file:shopWebhook.svg', dark: 'file:shopWebhook.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle:
			'={{ $parameter["operation"] === "botCheck" ? "bot check" : $parameter["operation"] + ": " + $parameter["source"] }}',
		description:
			'Verify signed webhooks (Stripe, Shopify, WooCommerce, Paddle, X-Referral-Signature) and read order events as conversions and refunds',
		defaults: { name: 'Shop Webhook' },
		inputs: [NodeConnectionTypes.Main],
		outputs: `={{(${outputsFor})($parameter)}}`,
		credentials: [
			{
				name: 'referralWebhookSecretApi',
				displayName: 'Webhook Signing Secret',
				required: true,
				testedBy: 'webhookSecretTest',
				displayOptions: show(['verify', 'sign']),
			},
			{
				name: 'referralLedgerApi',
				displayName: 'Ledger Database',
				required: false,
				testedBy: 'referralLedgerConnectionTest',
				displayOptions: show(['verify']),
			},
			{
				name: 'referralBotCheckApi',
				displayName: 'Bot Check Account',
				required: true,
				displayOptions: show(['botCheck']),
			},
		],
		properties: [
			{
				displayName: 'Operation',
				name: 'operation',
				type: 'options',
				noDataExpression: true,
				options: [
					{
						name: 'Verify Signature',
						value: 'verify',
						action: 'Verify a webhook signature',
						description:
							'Check the signature over the raw body, its time and that it was not used before; outputs Verified and Rejected',
					},
					{
						name: 'Normalize Order Event',
						value: 'normalize',
						action: 'Read an order event as a conversion or refund',
						description:
							"Turn a provider's order or refund event into our conversion and refund fields; outputs Conversion, Refund and Ignored",
					},
					{
						name: 'Verify Bot Check',
						value: 'botCheck',
						action: 'Verify a bot check token',
						description:
							"Ask Cloudflare Turnstile or hCaptcha (siteverify) whether a public form's token is good; outputs Verified and Rejected",
					},
					{
						name: 'Sign',
						value: 'sign',
						action: 'Sign a body as a webhook sender',
						description:
							'Add the signature header a sender would, for an HTTP Request node (your shop back-end, or a test)',
					},
				],
				default: 'verify',
			},
			...webhook.description,
		],
	};

	methods = { credentialTest: { webhookSecretTest, referralLedgerConnectionTest } };

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return await router.call(this);
	}
}
