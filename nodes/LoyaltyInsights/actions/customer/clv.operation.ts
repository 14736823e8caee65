import type {
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	INodeProperties,
} from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import {
	clvFromSummaries,
	clvFromTransactions,
	type ClvResult,
	type ClvSettings,
	type ClvModel,
	type GammaGammaParams,
	type GivenBgNbdParams,
	type TimeUnit,
} from '../../../../engine/analytics';
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

const displayOptions = { show: { operation: ['clv'] } };
const showSummaries = { show: { input: ['summaries'] } };

const properties: INodeProperties[] = [
	{
		displayName: 'Model',
		name: 'clvModel',
		type: 'options',
		noDataExpression: true,
		options: [
			{
				name: 'Purchases and Spend (CLV)',
				value: 'purchasesAndSpend',
				description:
					'BG/NBD for purchases and Gamma-Gamma for spend: probability alive, expected purchases, expected spend and CLV',
			},
			{
				name: 'Purchases Only',
				value: 'purchasesOnly',
				description:
					'BG/NBD alone: probability alive and expected purchases, for data without spend (e.g. frequency, recency and T only)',
			},
		],
		default: 'purchasesAndSpend',
		hint: 'Purchases Only needs no spend column; expected spend and CLV are then null',
	},
	{
		displayName: 'Repeat Purchases Field',
		name: 'clvFrequencyField',
		type: 'string',
		default: 'frequency',
		required: true,
		hint: 'The name of the field holding the number of purchases after the first (lifetimes: frequency)',
		description: 'Field of each customer summary with their repeat purchases',
		displayOptions: showSummaries,
	},
	{
		displayName: 'Recency Field',
		name: 'clvRecencyField',
		type: 'string',
		default: 'recency',
		required: true,
		hint: 'The name of the field holding the time from the first to the last purchase, in the Time Unit (lifetimes: recency)',
		description:
			'Field of each customer summary with the time between their first and last purchase; 0 without repeat purchases',
		displayOptions: showSummaries,
	},
	{
		displayName: 'Age Field',
		name: 'ageField',
		type: 'string',
		default: 'T',
		required: true,
		hint: 'The name of the field holding the time from the first purchase to the end of observation, in the Time Unit (lifetimes: T)',
		description: 'Field of each customer summary with how long they have been a customer',
		displayOptions: showSummaries,
	},
	{
		displayName: 'Monetary Value Field',
		name: 'monetaryValueField',
		type: 'string',
		default: 'monetary_value',
		required: true,
		hint: 'The name of the field holding the mean value of the repeat purchases (lifetimes: monetary_value). No such column? Choose Model › Purchases Only.',
		description:
			'Field of each customer summary with the mean value of their purchases after the first; may be blank without repeat purchases',
		displayOptions: { show: { input: ['summaries'], clvModel: ['purchasesAndSpend'] } },
	},
	{
		displayName: 'Historical Value Field',
		name: 'historicalValueField',
		type: 'string',
		default: '',
		placeholder: 'e.g. total_spent',
		hint: 'Optional: the name of the field holding what the customer spent to date',
		description:
			'Copied into each row as the historical value; from transactions it is the sum of the amounts',
		displayOptions: showSummaries,
	},
	{
		displayName: 'Time Unit',
		name: 'timeUnit',
		type: 'options',
		options: [
			{ name: 'Days', value: 'days' },
			{ name: 'Weeks', value: 'weeks' },
		],
		default: 'weeks',
		description:
			'Unit of recency and age in the models (and in your summaries); weeks as in the published CDNOW fits',
	},
	{
		displayName: 'Horizon (Months)',
		name: 'horizonMonths',
		type: 'number',
		typeOptions: { minValue: 1, maxValue: 1200 },
		default: 12,
		description: 'How many months ahead expected purchases and CLV reach',
	},
	{
		displayName: 'Monthly Discount Rate',
		name: 'monthlyDiscountRate',
		type: 'number',
		typeOptions: { minValue: 0, maxValue: 0.99, numberPrecision: 4 },
		default: 0.01,
		description:
			'Future value is discounted by this fraction per month: 0.01 is 1% a month, about 12.7% a year; 0 for no discounting',
	},
	{
		displayName: 'Profit Margin',
		name: 'profitMargin',
		type: 'number',
		typeOptions: { minValue: 0.01, maxValue: 1, numberPrecision: 2 },
		default: 1,
		description: 'Share of revenue that is profit; 1 gives CLV as revenue',
	},
	{
		displayName: 'Output',
		name: 'clvOutput',
		type: 'options',
		noDataExpression: true,
		options: [
			{
				name: 'Per-Customer Rows',
				value: 'customers',
				description:
					'One item per customer: history, probability alive, churn risk, expected purchases and spend, CLV',
			},
			{
				name: 'Summary',
				value: 'summary',
				description:
					'One item with the fitted model parameters, totals, rows and customers left out, and warnings',
			},
		],
		default: 'customers',
	},
	{
		displayName: 'Options',
		name: 'clvOptions',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		options: [
			{
				displayName: 'BG/NBD Parameters',
				name: 'bgnbd',
				type: 'fixedCollection',
				default: {},
				description:
					'Use these purchase-model parameters instead of fitting them, e.g. fitted earlier on a longer history. The defaults are the published CDNOW fit in weeks; with Time Unit Days, alpha is converted (× 7) as long as Fitted In says Weeks.',
				options: [
					{
						displayName: 'Parameters',
						name: 'values',
						values: [
							{
								displayName: 'A',
								name: 'a',
								type: 'number',
								typeOptions: { numberPrecision: 6 },
								default: 0.7929,
							},
							{
								displayName: 'Alpha',
								name: 'alpha',
								type: 'number',
								typeOptions: { numberPrecision: 6 },
								default: 4.4135,
							},
							{
								displayName: 'B',
								name: 'b',
								type: 'number',
								typeOptions: { numberPrecision: 6 },
								default: 2.4258,
							},
							{
								displayName: 'Fitted In',
								name: 'unit',
								type: 'options',
								options: [
									{ name: 'Weeks', value: 'weeks' },
									{ name: 'Days', value: 'days' },
								],
								default: 'weeks',
								description:
									'Time unit the parameters were fitted in; alpha is converted to the Time Unit above (r, a and b have no unit)',
							},
							{
								displayName: 'R',
								name: 'r',
								type: 'number',
								typeOptions: { numberPrecision: 6 },
								default: 0.2426,
							},
						],
					},
				],
			},
			{
				displayName: 'Expected Purchases Period',
				name: 'purchasePeriod',
				type: 'number',
				typeOptions: { minValue: 0, numberPrecision: 2 },
				default: 0,
				placeholder: 'e.g. 2.5',
				hint: 'In the Time Unit above; 0 leaves it out',
				description:
					'Also give each customer the expected purchases in the next this-many days or weeks (E[Y(t)]; any length, not only whole months) as "expectedPurchasesInPeriod"',
			},
			{
				displayName: 'Gamma-Gamma Parameters',
				name: 'gammaGamma',
				type: 'fixedCollection',
				default: {},
				description:
					'Use these spend-model parameters instead of fitting them (not used with Model › Purchases Only)',
				options: [
					{
						displayName: 'Parameters',
						name: 'values',
						values: [
							{
								displayName: 'P',
								name: 'p',
								type: 'number',
								typeOptions: { numberPrecision: 6 },
								default: 6.2488,
							},
							{
								displayName: 'Q',
								name: 'q',
								type: 'number',
								typeOptions: { numberPrecision: 6 },
								default: 3.7446,
							},
							{
								displayName: 'V',
								name: 'v',
								type: 'number',
								typeOptions: { numberPrecision: 6 },
								default: 15.4477,
							},
						],
					},
				],
			},
			{
				displayName: 'Observation End',
				name: 'observationEnd',
				type: 'dateTime',
				default: '',
				description:
					'End of the purchase history the models see; later purchases are left out. Default: the latest purchase in the input.',
				displayOptions: { show: { '/input': ['transactions'] } },
			},
		],
	},
];

export const description = updateDisplayOptions(displayOptions, properties);

interface ClvOptionsParameter {
	bgnbd?: { values?: GivenBgNbdParams };
	gammaGamma?: { values?: GammaGammaParams };
	observationEnd?: string;
	purchasePeriod?: number;
}

export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	const input = readString(this, 'input', 'transactions') as InputKind;
	const customerField = readString(this, 'customerField', 'customerId');
	const dateField = readString(this, 'dateField', 'date');
	const amountField = readString(this, 'amountField', 'amount');
	const frequencyField = readString(this, 'clvFrequencyField', 'frequency');
	const recencyField = readString(this, 'clvRecencyField', 'recency');
	const ageField = readString(this, 'ageField', 'T');
	const monetaryField = readString(this, 'monetaryValueField', 'monetary_value');
	const historicalValueField = readString(this, 'historicalValueField', '');
	const model = readString(this, 'clvModel', 'purchasesAndSpend') as ClvModel;
	const withSpend = model !== 'purchasesOnly';
	const dataFields: Record<string, string> =
		input === 'transactions'
			? { [dateField]: 'Date Field', [amountField]: 'Amount Field' }
			: {
					[frequencyField]: 'Repeat Purchases Field',
					[recencyField]: 'Recency Field',
					[ageField]: 'Age Field',
					...(withSpend ? { [monetaryField]: 'Monetary Value Field' } : {}),
				};
	const fieldLabels = {
		...dataFields,
		[customerField]: 'Customer ID Field',
		...inputLabels,
		frequencyField: 'Repeat Purchases Field',
		recencyField: 'Recency Field',
		ageField: 'Age Field',
		monetaryField: 'Monetary Value Field',
		historicalValueField: 'Historical Value Field',
		// Model-fit errors name the model input at fault; from transactions it comes from these fields.
		frequency: input === 'transactions' ? 'Customer ID Field' : 'Repeat Purchases Field',
		monetary: input === 'transactions' ? 'Amount Field' : 'Monetary Value Field',
		recency: input === 'transactions' ? 'Date Field' : 'Recency Field',
		timeUnit: 'Time Unit',
		model: 'Model',
		purchasePeriod: 'Options › Expected Purchases Period',
		horizonMonths: 'Horizon (Months)',
		monthlyDiscountRate: 'Monthly Discount Rate',
		profitMargin: 'Profit Margin',
		observationEnd: 'Options › Observation End',
		'params.bgnbd': 'Options › BG/NBD Parameters',
		'params.gammaGamma': 'Options › Gamma-Gamma Parameters',
	};

	return await runAggregate(
		this,
		(items) => {
			const json = engineItems(items, [
				customerField,
				historicalValueField,
				...Object.keys(dataFields),
			]);
			const options = this.getNodeParameter('clvOptions', 0, {}) as ClvOptionsParameter;
			const output = readString(this, 'clvOutput', 'customers');
			const settings: ClvSettings = {
				// Only Per-Customer Rows needs an object per customer.
				rows: output !== 'summary',
				timeUnit: readString(this, 'timeUnit', 'weeks') as TimeUnit,
				model,
				// 0 (the form's default) means "not asked for".
				purchasePeriod: options.purchasePeriod ? options.purchasePeriod : undefined,
				horizonMonths: this.getNodeParameter('horizonMonths', 0, 12) as number,
				monthlyDiscountRate: this.getNodeParameter('monthlyDiscountRate', 0, 0.01) as number,
				profitMargin: this.getNodeParameter('profitMargin', 0, 1) as number,
				params: {
					bgnbd: options.bgnbd?.values,
					gammaGamma: withSpend ? options.gammaGamma?.values : undefined,
				},
			};
			const result =
				input === 'transactions'
					? clvFromTransactions(json, {
							...settings,
							customerField,
							dateField,
							amountField,
							observationEnd: optionalDate(options.observationEnd),
						})
					: clvFromSummaries(json, {
							...settings,
							customerField,
							frequencyField,
							recencyField,
							ageField,
							monetaryField: withSpend ? monetaryField : undefined,
							historicalValueField: historicalValueField || undefined,
						});
			return {
				items: clvOutput(result, output, customerField, json),
				hints: exclusionHints(result.summary.excluded, result.summary.warnings, 'CLV'),
			};
		},
		fieldLabels,
	);
}

function clvOutput(
	result: ClvResult,
	output: string,
	customerField: string,
	json: readonly IDataObject[],
): AggregateItem[] {
	if (output === 'summary') return [{ json: { ...result.summary } }];
	const positions = new CustomerPositions(json, customerField);
	return result.rows.map(({ customer, ...row }) => ({
		json: { [customerField]: customer, ...row },
		from: positions.of(customer),
	}));
}
