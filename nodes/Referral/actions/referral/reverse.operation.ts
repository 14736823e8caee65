import type { ToolUse } from '../../../shared/tool';
import type {
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	INodeProperties,
} from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import type { RefundedAmountIs } from '../../../../engine/refunds';
import type { NegativeBalancePolicy } from '../../../../engine/rewards';
import { EngineError } from '../../../../engine/shared/errors';
import { yesNo, negativeBalanceProperty } from '../../../shared/fields';
import { parameterReader } from '../../../shared/parameters';
import { runPerItem } from '../../../shared/runner';
import { fieldOption, labelsOf, serviceReader, toNumber, toText } from '../common';
import {
	inputCollectionProperties,
	inputCollectionReader,
	inputSourceOf,
	inputSourceProperty,
} from '../../../shared/inputs';
import { noteProperty } from './byId';

const properties: INodeProperties[] = [
	noteProperty,
	{
		displayName: 'Find Referral By',
		name: 'reverseBy',
		type: 'options',
		options: [
			{ name: 'Order ID', value: 'orderId' },
			{ name: 'Referral ID', value: 'referralId' },
		],
		default: 'orderId',
	},
	inputSourceProperty,
	...inputCollectionProperties({
		name: 'refundValues',
		displayName: 'Refund Values',
		description:
			'The refund itself, e.g. from expressions; without a refunded amount the order counts as fully refunded',
		field: {
			displayName: 'Refund Fields',
			name: 'refundFields',
			type: 'collection',
			placeholder: 'Change Field Name',
			default: {},
			description: 'Without a refunded amount in the item, the order counts as fully refunded',
			options: [
				fieldOption(
					'Cancelled Field',
					'cancelled',
					'cancelled',
					'Name of a true/false field saying the order was cancelled',
				),
				fieldOption(
					'Order Amount Field',
					'orderAmount',
					'orderAmount',
					'Name of the field holding the order amount; read from the ledger when absent',
				),
				fieldOption('Order ID Field', 'orderId', 'orderId'),
				fieldOption('Referral ID Field', 'referralId', 'referralId'),
				fieldOption(
					'Refund ID Field',
					'refundId',
					'refundId',
					"Name of the field holding the provider's ID of this refund (with Refunded Amount Is › This Refund)",
				),
				fieldOption(
					'Refunded Amount Field',
					'refundedAmount',
					'refundedAmount',
					'Name of the field holding the refunded amount (see Refunded Amount Is)',
				),
				{
					displayName: 'Refunded Amount Is',
					name: 'refundedAmountIs',
					type: 'options',
					options: [
						{
							name: 'Total So Far',
							value: 'total_so_far',
							description:
								'Everything refunded on the order so far, this refund included (Stripe charge.refunded, WooCommerce)',
						},
						{
							name: 'This Refund (Summed per Refund ID)',
							value: 'this_refund',
							description:
								"This refund's own amount (Shopify refunds/create, Paddle refund adjustments); the ledger adds up the order's refunds by refund ID, a repeated ID once",
						},
					],
					default: 'total_so_far',
				},
			],
		},
	}),
	negativeBalanceProperty(
		'When the refund reverses the referral, its points are clawed back: what to do when they exceed the balance (they were already spent)',
		'Stop with an error and change nothing (neither the referral nor its rewards)',
	),
];

export const description = updateDisplayOptions(
	{ show: { resource: ['referral'], operation: ['reverse'] } },
	properties,
);

/** A refund or cancellation reverses the referral and its rewards together, as the refund policy says. */
export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	const { serviceFor } = await serviceReader(this);
	const noteFor = parameterReader<string>(this, 'note', '');
	const byFor = parameterReader<'orderId' | 'referralId'>(this, 'reverseBy', 'orderId');
	const policyFor = parameterReader<NegativeBalancePolicy>(
		this,
		'negativeBalancePolicy',
		'allow_negative',
	);
	const source = inputSourceOf(this);
	const collection = source === 'values' ? 'refundValues' : 'refundFields';
	const fieldsFor = inputCollectionReader(
		this,
		{ field: 'refundFields', value: 'refundValues' },
		{
			orderId: 'orderId',
			referralId: 'referralId',
			refundedAmount: 'refundedAmount',
			orderAmount: 'orderAmount',
			cancelled: 'cancelled',
			refundId: 'refundId',
		},
		source,
	);
	const amountIsFor = parameterReader<IDataObject>(this, collection, {});
	const where = source === 'values' ? 'Refund Values › ' : 'Refund Fields › ';
	const suffix = source === 'values' ? '' : ' Field';
	return await runPerItem(
		this,
		async (item, itemIndex) => {
			const f = fieldsFor(item.json, itemIndex);
			const by = byFor(itemIndex);
			if (f[by] === undefined) {
				const what = by === 'orderId' ? 'order ID' : 'referral ID';
				const label = by === 'orderId' ? 'Order ID' : 'Referral ID';
				throw new EngineError(
					'required',
					source === 'values' ? `${label} is empty: pass the ${what}` : `${by} is required`,
					{
						field: by,
						hint:
							source === 'values'
								? `Set ${where}${label} to the ${what}`
								: `The input has no ${what}: set Refund Fields › ${label} Field`,
					},
				);
			}
			const amountIs =
				(amountIsFor(itemIndex).refundedAmountIs as RefundedAmountIs | undefined) ?? 'total_so_far';
			if (amountIs === 'this_refund' && f.refundId === undefined) {
				throw new EngineError(
					'required',
					source === 'values' ? "Refund ID is empty: pass the refund's ID" : 'refundId is required',
					{
						field: 'refundId',
						hint: `Refunded Amount Is › This Refund needs the refund's ID: set ${where}Refund ID${suffix}`,
					},
				);
			}
			return await (
				await serviceFor(itemIndex)
			).reverse({
				...(amountIs === 'this_refund'
					? { refundedAmountIs: amountIs, refundId: toText(f.refundId) }
					: {}),
				orderId: by === 'orderId' ? toText(f.orderId) : undefined,
				referralId: by === 'referralId' ? toText(f.referralId) : undefined,
				refundedAmount: toNumber(f.refundedAmount, 'refundedAmount'),
				orderAmount: toNumber(f.orderAmount, 'orderAmount'),
				cancelled: f.cancelled === undefined ? undefined : yesNo(f.cancelled),
				note: noteFor(itemIndex) || undefined,
				negativeBalancePolicy: policyFor(itemIndex),
			});
		},
		labelsOf(source),
	);
}

/** Moves money or points: an AI Agent may run it only with Allow as AI Tool on (issue #19). */
export const toolUse: ToolUse = { moneyMoving: true };
