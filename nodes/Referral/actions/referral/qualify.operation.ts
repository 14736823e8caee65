import type { ToolUse } from '../../../shared/tool';
import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import { runPerItem } from '../../../shared/runner';
import {
	inputCollectionProperties,
	inputCollectionReader,
	inputSourceOf,
} from '../../../shared/inputs';
import {
	fieldOption,
	labelsOf,
	participantLookupProperties,
	participantLookupReader,
	serviceReader,
	toNumber,
	toText,
} from '../common';

const properties: INodeProperties[] = [
	...participantLookupProperties(),
	...inputCollectionProperties({
		name: 'conversionValues',
		displayName: 'Conversion Values',
		description:
			'The order itself, e.g. from expressions or an AI Agent: its ID, amount, currency and time',
		field: {
			displayName: 'Conversion Fields',
			name: 'conversionFields',
			type: 'collection',
			placeholder: 'Change Field Name',
			default: {},
			options: [
				fieldOption('Amount Field', 'amount', 'amount'),
				fieldOption(
					'Currency Field',
					'currency',
					'currency',
					'Name of the field holding the three-letter currency code',
				),
				fieldOption('Order ID Field', 'orderId', 'orderId'),
				fieldOption(
					'Ordered At Field',
					'occurredAt',
					'occurredAt',
					'Name of the field holding the order time; now when absent',
				),
			],
		},
	}),
];

export const description = updateDisplayOptions(
	{ show: { resource: ['referral'], operation: ['qualify'] } },
	properties,
);

/** The referee's order qualifies the referral, once per order ID. */
export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	const { ledger, serviceFor } = await serviceReader(this);
	const source = inputSourceOf(this);
	const lookupFor = participantLookupReader(this, source);
	const fieldsFor = inputCollectionReader(
		this,
		{ field: 'conversionFields', value: 'conversionValues' },
		{
			orderId: 'orderId',
			amount: 'amount',
			currency: 'currency',
			occurredAt: 'occurredAt',
		},
		source,
	);
	return await runPerItem(
		this,
		async (item, itemIndex) => {
			const f = fieldsFor(item.json, itemIndex);
			return await (
				await serviceFor(itemIndex)
			).qualify({
				...lookupFor(item.json, itemIndex),
				orderId: toText(f.orderId) as string,
				amount: toNumber(f.amount, 'amount') as number,
				currency: toText(f.currency) as string,
				at: f.occurredAt as string | number | undefined,
			});
		},
		labelsOf(source),
		{ batch: ledger },
	);
}

/** Moves money or points: an AI Agent may run it only with Allow as AI Tool on (issue #19). */
export const toolUse: ToolUse = { moneyMoving: true };
