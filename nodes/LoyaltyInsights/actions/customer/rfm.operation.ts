import type {
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	INodeProperties,
} from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import {
	type RfmResult,
	rfmFromSummaries,
	rfmFromTransactions,
	type SegmentRule,
} from '../../../../engine/analytics';
import { EngineError } from '../../../../engine/shared/errors';
import { type AggregateItem, runAggregate } from '../../../shared/aggregate';
import {
	CustomerPositions,
	engineItems,
	exclusionHints,
	type InputKind,
	inputLabels,
	optionalDate,
	readString,
} from '../common';

const displayOptions = { show: { operation: ['rfm'] } };
const showSummaries = { show: { input: ['summaries'] } };

const properties: INodeProperties[] = [
	{
		displayName: 'Recency Field',
		name: 'recencyField',
		type: 'string',
		default: 'recency',
		required: true,
		hint: 'The name of the field holding the time since the last purchase, in any unit (lower is better)',
		description: 'Field of each customer summary with the time since their last purchase',
		displayOptions: showSummaries,
	},
	{
		displayName: 'Frequency Field',
		name: 'frequencyField',
		type: 'string',
		default: 'frequency',
		required: true,
		hint: 'The name of the field holding the number of purchases',
		description: 'Field of each customer summary with how often they bought',
		displayOptions: showSummaries,
	},
	{
		displayName: 'Monetary Field',
		name: 'monetaryField',
		type: 'string',
		default: 'monetary',
		required: true,
		hint: 'The name of the field holding what the customer spent',
		description: 'Field of each customer summary with their spend (total or mean, as you keep it)',
		displayOptions: showSummaries,
	},
	{
		displayName: 'Score Levels',
		name: 'scoreLevels',
		type: 'options',
		options: [
			{ name: 'Scores 1 to 3', value: 3 },
			{ name: 'Scores 1 to 4', value: 4 },
			{ name: 'Scores 1 to 5', value: 5 },
		],
		default: 5,
		description:
			'Recency, frequency and monetary value are each scored from 1 (worst) to this; customers with equal values always share a score',
	},
	{
		displayName: 'Monetary Value',
		name: 'monetary',
		type: 'options',
		options: [
			{ name: 'Mean per Purchase', value: 'mean', description: 'Average value of a purchase' },
			{ name: 'Total Spend', value: 'total', description: 'Everything the customer spent' },
		],
		default: 'total',
		description:
			'What the monetary value of a customer is (for customer summaries: what the Monetary Field holds); the summary says which',
	},
	{
		displayName: 'Segments',
		name: 'segmentRules',
		type: 'options',
		options: [
			{
				name: 'Default RF Grid',
				value: 'default',
				description:
					"Champions, Loyal, Can't Lose, At Risk, Potential Loyalist, Need Attention, About to Sleep, Promising, New, Lost, Hibernating",
			},
			{
				name: 'Custom Rules',
				value: 'custom',
				description: 'Your own named segments on the scores; the first rule that matches wins',
			},
		],
		default: 'default',
	},
	{
		displayName: 'Custom Segments',
		name: 'customSegments',
		type: 'fixedCollection',
		typeOptions: { multipleValues: true, sortable: true },
		placeholder: 'Add Segment',
		default: {},
		description:
			'Checked from the top: a customer gets the first segment whose score ranges all match; customers no rule matches are "Others"',
		displayOptions: { show: { segmentRules: ['custom'] } },
		options: [
			{
				displayName: 'Segment',
				name: 'segment',
				values: [
					{
						displayName: 'Name',
						name: 'name',
						type: 'string',
						default: '',
						placeholder: 'e.g. Champions',
						required: true,
					},
					{
						displayName: 'Recency Scores',
						name: 'recency',
						type: 'string',
						default: '',
						placeholder: 'e.g. 4-5',
						description: 'A score (5) or a range (4-5) of recency scores; blank matches any',
					},
					{
						displayName: 'Frequency Scores',
						name: 'frequency',
						type: 'string',
						default: '',
						placeholder: 'e.g. 3-5',
						description: 'A score (5) or a range (3-5) of frequency scores; blank matches any',
					},
					{
						displayName: 'Monetary Scores',
						name: 'monetary',
						type: 'string',
						default: '',
						placeholder: 'e.g. 5',
						description: 'A score (5) or a range (4-5) of monetary scores; blank matches any',
					},
				],
			},
		],
	},
	{
		displayName: 'Output',
		name: 'rfmOutput',
		type: 'options',
		noDataExpression: true,
		options: [
			{
				name: 'Per-Customer Rows',
				value: 'customers',
				description:
					'One item per customer with recency, frequency, monetary value, their scores and segment',
			},
			{
				name: 'Segment Summary',
				value: 'segments',
				description:
					'One item per segment: customers, shares and mean recency, frequency and monetary value',
			},
			{
				name: 'Summary',
				value: 'summary',
				description: 'One item with the segment table, score ranges, rows left out and warnings',
			},
		],
		default: 'customers',
	},
	{
		displayName: 'Options',
		name: 'rfmOptions',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		options: [
			{
				displayName: 'As-Of Date',
				name: 'asOf',
				type: 'dateTime',
				default: '',
				description:
					'Recency is counted in days up to this date; later purchases are left out. Default: the latest purchase in the input.',
				displayOptions: { show: { '/input': ['transactions'] } },
			},
			{
				displayName: 'Frequency Counts',
				name: 'frequencyBasis',
				type: 'options',
				options: [
					{
						name: 'Distinct Purchase Days',
						value: 'days',
						description: 'Several rows on one day are one purchase',
					},
					{
						name: 'Every Transaction',
						value: 'transactions',
						description: 'Each row is a purchase',
					},
				],
				default: 'days',
				displayOptions: { show: { '/input': ['transactions'] } },
			},
		],
	},
];

export const description = updateDisplayOptions(displayOptions, properties);

const labels: Record<string, string> = {
	...inputLabels,
	recencyField: 'Recency Field',
	frequencyField: 'Frequency Field',
	monetaryField: 'Monetary Field',
	scoreLevels: 'Score Levels',
	monetary: 'Monetary Value',
	segments: 'Custom Segments',
	asOf: 'Options › As-Of Date',
	frequencyBasis: 'Options › Frequency Counts',
};

interface SegmentParameter {
	name?: string;
	recency?: string;
	frequency?: string;
	monetary?: string;
}

const RANGE = /^\s*(\d+)\s*(?:[-–]\s*(\d+)\s*)?$/;

/** "4-5" → [4, 5], "5" → [5, 5], blank → any; the engine checks the scores against the levels. */
function scoreRange(
	text: string | undefined,
	dimension: string,
	segment: string,
): [number, number] | undefined {
	if (text === undefined || text.trim() === '') return undefined;
	const match = RANGE.exec(text);
	if (!match) {
		throw new EngineError(
			'invalid_segments',
			`Segment "${segment}": the ${dimension} scores must be one score (5) or a range (4-5), or blank for any; got "${text}"`,
			{ field: 'segments' },
		);
	}
	return [Number(match[1]), Number(match[2] ?? match[1])];
}

function segmentRules(parameter: { segment?: SegmentParameter[] }): SegmentRule[] {
	return (parameter.segment ?? []).map((rule) => {
		const name = (rule.name ?? '').trim();
		return {
			name,
			recency: scoreRange(rule.recency, 'Recency', name),
			frequency: scoreRange(rule.frequency, 'Frequency', name),
			monetary: scoreRange(rule.monetary, 'Monetary', name),
		};
	});
}

export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	const input = readString(this, 'input', 'transactions') as InputKind;
	const customerField = readString(this, 'customerField', 'customerId');
	const dateField = readString(this, 'dateField', 'date');
	const amountField = readString(this, 'amountField', 'amount');
	const recencyField = readString(this, 'recencyField', 'recency');
	const frequencyField = readString(this, 'frequencyField', 'frequency');
	const monetaryField = readString(this, 'monetaryField', 'monetary');
	const dataFields: Record<string, string> =
		input === 'transactions'
			? { [dateField]: 'Date Field', [amountField]: 'Amount Field' }
			: {
					[recencyField]: 'Recency Field',
					[frequencyField]: 'Frequency Field',
					[monetaryField]: 'Monetary Field',
				};
	// The engine names either the option or the data field at fault; both point at the same parameter.
	const fieldLabels = { ...dataFields, [customerField]: 'Customer ID Field', ...labels };

	return await runAggregate(
		this,
		(items) => {
			const json = engineItems(items, [customerField, ...Object.keys(dataFields)]);
			const options = this.getNodeParameter('rfmOptions', 0, {}) as {
				asOf?: string;
				frequencyBasis?: 'days' | 'transactions';
			};
			const custom = readString(this, 'segmentRules', 'default') === 'custom';
			const output = readString(this, 'rfmOutput', 'customers');
			const settings = {
				// Only Per-Customer Rows needs an object per customer.
				rows: output === 'customers',
				customerField,
				scoreLevels: this.getNodeParameter('scoreLevels', 0, 5) as number,
				monetary: readString(this, 'monetary', 'total') as 'total' | 'mean',
				segments: custom
					? segmentRules(
							this.getNodeParameter('customSegments', 0, {}) as { segment?: SegmentParameter[] },
						)
					: undefined,
			};
			const result =
				input === 'transactions'
					? rfmFromTransactions(json, {
							...settings,
							dateField,
							amountField,
							asOf: optionalDate(options.asOf),
							frequencyBasis: options.frequencyBasis,
						})
					: rfmFromSummaries(json, { ...settings, recencyField, frequencyField, monetaryField });
			return {
				items: rfmOutput(result, output, customerField, json),
				hints: exclusionHints(result.summary.excluded, result.summary.warnings, 'RFM analysis'),
			};
		},
		fieldLabels,
	);
}

function rfmOutput(
	result: RfmResult,
	output: string,
	customerField: string,
	json: readonly IDataObject[],
): AggregateItem[] {
	if (output === 'summary') return [{ json: { ...result.summary } }];
	const positions = new CustomerPositions(json, customerField);
	if (output === 'segments') {
		// Each segment is paired with its customers' rows, bounded as a summary is: one segment of a
		// 2,000,000-row input held most of them, and n8n stores every pairing with the execution.
		const pairings = positions.groupPairings(result.customers, result.segmentOfCustomer);
		return result.summary.segments.map((segment) => {
			const from = pairings.get(segment.segment);
			// An empty segment comes from no customer in particular: pair it as a summary of all.
			return { json: { ...segment }, from: from && from.length > 0 ? from : undefined };
		});
	}
	return result.rows.map(({ customer, ...row }) => ({
		json: { [customerField]: customer, ...row },
		from: positions.of(customer),
	}));
}
