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
import { SummaryPairing } from '../../shared/aggregate';
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

/**
 * Input item positions per customer ID, read the way the engine reads IDs, for pairing rows with
 * their inputs. Flat typed arrays (a counting sort by customer), not a list per customer: at
 * 2,000,000 rows a number[] per customer cost hundreds of megabytes.
 */
export class CustomerPositions {
	/** Customer ID → its index in first-appearance order. */
	private readonly indexOf = new Map<string, number>();
	/** Customer c's positions are positions[offsets[c], offsets[c + 1]), ascending. */
	private readonly offsets: Int32Array;
	private readonly positions: Int32Array;
	/** Input position → customer index (-1: no customer ID). */
	private readonly customerOf: Int32Array;

	constructor(items: readonly IDataObject[], customerField: string) {
		const customerOf = (this.customerOf = new Int32Array(items.length).fill(-1));
		for (let i = 0; i < items.length; i++) {
			const customer = readCustomerId(items[i][customerField]);
			if (customer === undefined) continue;
			let index = this.indexOf.get(customer);
			if (index === undefined) this.indexOf.set(customer, (index = this.indexOf.size));
			customerOf[i] = index;
		}
		this.offsets = new Int32Array(this.indexOf.size + 1);
		for (const c of customerOf) if (c >= 0) this.offsets[c + 1]++;
		for (let c = 0; c < this.indexOf.size; c++) this.offsets[c + 1] += this.offsets[c];
		this.positions = new Int32Array(this.offsets[this.indexOf.size]);
		const cursor = this.offsets.slice(0, this.indexOf.size);
		customerOf.forEach((c, i) => {
			if (c >= 0) this.positions[cursor[c]++] = i;
		});
	}

	/** The customer's input positions, ascending (empty for an unknown customer). */
	of(customer: string): readonly number[] {
		const c = this.indexOf.get(customer);
		if (c === undefined) return [];
		return Array.from(this.positions.subarray(this.offsets[c], this.offsets[c + 1]));
	}

	/**
	 * Positions paired with each group of customers (an RFM segment, say), bounded as summaries
	 * are: customer `customers[i]` is in group `groups[i]`; customers not listed are in none.
	 */
	groupPairings(customers: readonly string[], groups: readonly string[]): Map<string, number[]> {
		const groupOfCustomer: (string | undefined)[] = new Array(this.indexOf.size);
		customers.forEach((customer, i) => {
			const c = this.indexOf.get(customer);
			if (c !== undefined) groupOfCustomer[c] = groups[i];
		});
		const pairings = new Map<string, SummaryPairing>();
		// Input order, so each group's positions come ascending whatever its customers.
		this.customerOf.forEach((c, position) => {
			const group = c >= 0 ? groupOfCustomer[c] : undefined;
			if (group === undefined) return;
			let pairing = pairings.get(group);
			if (pairing === undefined) pairings.set(group, (pairing = new SummaryPairing()));
			pairing.add(position);
		});
		return new Map([...pairings].map(([group, pairing]) => [group, pairing.positions()]));
	}
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
