import type {
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	INodeProperties,
} from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import { EngineError } from '../../../../engine/shared/errors';
import { normalizeOrderEvent, type OrderSource } from '../../../../engine/webhooks/normalize';
import { parameterReader, readField } from '../../../shared/parameters';
import { runPerItemRouted } from '../../../shared/runner';
import { headersFieldProperty } from '../common';

export const CONVERSION = 0;
export const REFUND = 1;
export const IGNORED = 2;

const properties: INodeProperties[] = [
	{
		displayName: 'Source',
		name: 'source',
		type: 'options',
		noDataExpression: true,
		options: [
			{
				name: 'Stripe',
				value: 'stripe',
				description: 'Events checkout.session.completed, invoice.paid, charge.refunded',
			},
			{ name: 'Shopify', value: 'shopify', description: 'Topics orders/paid, refunds/create' },
			{
				name: 'WooCommerce',
				value: 'woocommerce',
				description: 'Order updated: completed, refunded',
			},
			{
				name: 'Paddle Billing',
				value: 'paddle',
				description: 'Events transaction.completed, adjustment.created, adjustment.updated',
			},
		],
		default: 'stripe',
	},
	{
		displayName:
			"Reads the provider's event as a conversion (email, orderId, amount, currency, occurredAt) or a refund (orderId, refundedAmount, orderAmount): the fields Referral › Qualify and Reverse read. Amounts come out in the major unit (59.90), whatever unit the provider sends. Other events leave by the Ignored output with a reason.",
		name: 'normalizeNotice',
		type: 'notice',
		default: '',
	},
	{
		displayName: 'Body Field',
		name: 'bodyField',
		type: 'string',
		default: 'body',
		description: 'Name of the field holding the event (Verify puts the verified body in "body")',
	},
	headersFieldProperty,
	{
		displayName: 'Options',
		name: 'normalizeOptions',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		options: [
			{
				displayName: 'Reverse Pending Paddle Refunds',
				name: 'paddlePendingRefunds',
				type: 'boolean',
				default: false,
				description:
					'Whether a Paddle refund counts as soon as it is created (pending approval) rather than once Paddle approves it (adjustment.updated)',
			},
			{
				displayName: 'Paddle: Email in Custom Data',
				name: 'paddleEmailField',
				type: 'string',
				default: 'email',
				description:
					"Key of the transaction's custom_data that holds the buyer's email (pass it when you open the checkout)",
			},
		],
	},
];

export const description = updateDisplayOptions({ show: { operation: ['normalize'] } }, properties);

export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const sourceFor = parameterReader<string>(this, 'source', 'stripe');
	const bodyFieldFor = parameterReader<string>(this, 'bodyField', 'body');
	const headersFieldFor = parameterReader<string>(this, 'headersField', 'headers');
	const optionsFor = parameterReader<IDataObject>(this, 'normalizeOptions', {});
	return await runPerItemRouted(
		this,
		3,
		(item, itemIndex) => {
			const source = sourceFor(itemIndex);
			if (source === 'referral') {
				throw new EngineError(
					'invalid_source',
					'Our own X-Referral-Signature requests already carry conversions and refunds in our fields; choose Stripe, Shopify, WooCommerce or Paddle Billing.',
					{ field: 'source' },
				);
			}
			const headers = readField(item.json, headersFieldFor(itemIndex));
			const options = optionsFor(itemIndex);
			const event = normalizeOrderEvent({
				source: source as OrderSource,
				body: readField(item.json, bodyFieldFor(itemIndex)),
				headers:
					headers !== null && typeof headers === 'object'
						? (headers as Record<string, unknown>)
						: {},
				options: {
					paddlePendingRefunds: options.paddlePendingRefunds === true,
					paddleEmailField:
						typeof options.paddleEmailField === 'string' ? options.paddleEmailField : undefined,
				},
			});
			const output =
				event.kind === 'conversion' ? CONVERSION : event.kind === 'refund' ? REFUND : IGNORED;
			return { output, json: event };
		},
		{ errorOutput: IGNORED, fieldLabels: { body: 'Body Field', source: 'Source' } },
	);
}
