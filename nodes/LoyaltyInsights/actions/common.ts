import type {
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	INodeProperties,
	NodeExecutionHint,
} from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import type { ExclusionCounts } from '../../../engine/analytics';
import { readCustomerId } from '../../../engine/analytics/transactions';
import { readField } from '../../shared/parameters';

/** Parameters RFM and CLV share: where the data comes from and which fields hold what. */
export const inputProperties: INodeProperties[] = updateDisplayOptions(
	{ show: { operation: ['rfm', 'clv'] } },
	[
		{
			displayName: 'Input',
			name: 'input',
			type: 'options',
			noDataExpression: true,
			options: [
				{
					name: 'Transactions',
					value: 'transactions',
					description: 'One item per purchase with a customer ID, a date and an amount',
				},
				{
					name: 'Customer Summaries',
					value: 'summaries',
					description: 'One item per customer with figures already worked out',
				},
			],
			default: 'transactions',
		},
		{
			displayName: 'Customer ID Field',
			name: 'customerField',
			type: 'string',
			default: 'customerId',
			required: true,
			placeholder: 'e.g. customerId or customer.email',
			hint: 'The name of the input field holding the customer ID, not the ID itself. Dots reach nested fields.',
			description:
				'Field that says which customer an item belongs to; the output rows keep this field name',
		},
		{
			displayName: 'Date Field',
			name: 'dateField',
			type: 'string',
			default: 'date',
			required: true,
			placeholder: 'e.g. createdAt',
			hint: 'The name of the field holding the purchase date: ISO 8601 (2024-03-05 or with a time), YYYYMMDD or epoch milliseconds',
			description:
				'Field of each transaction with the purchase date. Rows whose date does not parse are left out and counted.',
			displayOptions: { show: { input: ['transactions'] } },
		},
		{
			displayName: 'Amount Field',
			name: 'amountField',
			type: 'string',
			default: 'amount',
			required: true,
			placeholder: 'e.g. total_price',
			hint: 'The name of the field holding the purchase amount (a number, or numeric text)',
			description:
				'Field of each transaction with its value. Negative amounts (refunds) are left out and counted.',
			displayOptions: { show: { input: ['transactions'] } },
		},
	],
);

export type InputKind = 'transactions' | 'summaries';

/** Field labels of the shared parameters, for errors that point at the right place in the form. */
export const inputLabels: Record<string, string> = {
	customerField: 'Customer ID Field',
	dateField: 'Date Field',
	amountField: 'Amount Field',
};

export function readString(ctx: IExecuteFunctions, name: string, fallback: string): string {
	const value = ctx.getNodeParameter(name, 0, fallback);
	return typeof value === 'string' ? value.trim() : String(value);
}

/**
 * The items' JSON as the engine reads it (`item[field]`). Only when a field name is a path
 * (`customer.email`) is each item reduced to the named fields, read with the nodes' dot-path reader.
 */
export function engineItems(items: INodeExecutionData[], fields: readonly string[]): IDataObject[] {
	const paths = fields.filter((field) => field !== '' && /[.[]/.test(field));
	if (paths.length === 0) return items.map((item) => item.json);
	return items.map(({ json }) => {
		const projected: IDataObject = { ...json };
		for (const path of paths) {
			// A flat key that happens to contain a dot wins over the path reading.
			if (!Object.prototype.hasOwnProperty.call(json, path))
				projected[path] = readField(json, path) as IDataObject[string];
		}
		return projected;
	});
}

/** Input item positions per customer ID, read the way the engine reads IDs, for pairing rows with their inputs. */
export function positionsByCustomer(
	items: readonly IDataObject[],
	customerField: string,
): Map<string, number[]> {
	const positions = new Map<string, number[]>();
	items.forEach((item, index) => {
		const customer = readCustomerId(item[customerField]);
		if (customer === undefined) return;
		const list = positions.get(customer);
		if (list) list.push(index);
		else positions.set(customer, [index]);
	});
	return positions;
}

/** Output-pane hints: rows or customers left out (by reason) and the engine's warnings. */
export function exclusionHints(
	excluded: ExclusionCounts,
	warnings: readonly string[],
	what: string,
): NodeExecutionHint[] {
	const hints: NodeExecutionHint[] = [];
	const reasons = Object.entries(excluded);
	if (reasons.length > 0) {
		const list = reasons
			.map(([reason, count]) => `${count} ${reason.replace(/_/g, ' ')}`)
			.join(', ');
		hints.push({
			message: `Left out of the ${what}: ${list}. The counts are in the summary's "excluded".`,
			type: 'warning',
			location: 'outputPane',
		});
	}
	for (const warning of warnings)
		hints.push({ message: warning, type: 'info', location: 'outputPane' });
	return hints;
}

/** An optional date option: blank means "not set". */
export function optionalDate(value: unknown): unknown {
	return value === undefined || value === null || (typeof value === 'string' && value.trim() === '')
		? undefined
		: value;
}
