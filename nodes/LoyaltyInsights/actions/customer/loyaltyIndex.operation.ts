import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import {
	type Direction,
	loyaltyIndex,
	type LoyaltyBand,
	type LoyaltyIndexResult,
	type LoyaltyIndicator,
	type Normalisation,
} from '../../../../engine/analytics';
import { EngineError } from '../../../../engine/shared/errors';
import { type AggregateItem, runAggregate } from '../../../shared/aggregate';
import { engineItems, exclusionHints, readString } from '../common';

const displayOptions = { show: { operation: ['loyaltyIndex'] } };

const properties: INodeProperties[] = [
	{
		displayName: 'Indicators',
		name: 'indicators',
		type: 'fixedCollection',
		typeOptions: { multipleValues: true, sortable: true },
		placeholder: 'Add Indicator',
		default: {
			indicator: [
				{ field: 'purchases', weight: 1, direction: 'higherIsBetter', normalisation: 'minMax' },
			],
		},
		description:
			'Fields that make up the index, each scaled to 0–100 and averaged by weight over the ones a customer has',
		options: [
			{
				displayName: 'Indicator',
				name: 'indicator',
				values: [
					{
						displayName: 'Direction',
						name: 'direction',
						type: 'options',
						options: [
							{ name: 'Higher Is Better', value: 'higherIsBetter' },
							{
								name: 'Lower Is Better',
								value: 'lowerIsBetter',
								description: 'E.g. days since the last purchase, support tickets.',
							},
						],
						default: 'higherIsBetter',
					},
					{
						displayName: 'Field',
						name: 'field',
						type: 'string',
						default: '',
						required: true,
						placeholder: 'e.g. ordersLastYear',
						hint: 'The name of the input field holding the indicator (a number)',
					},
					{
						displayName: 'Label',
						name: 'label',
						type: 'string',
						default: '',
						description: 'Name of the indicator in the contributions; blank uses the field name',
					},
					{
						displayName: 'Maximum',
						name: 'max',
						type: 'number',
						default: 100,
						description: 'Value that scores 100 (0 when lower is better)',
						displayOptions: { show: { normalisation: ['minMax'], useFixedBounds: [true] } },
					},
					{
						displayName: 'Minimum',
						name: 'min',
						type: 'number',
						default: 0,
						description: 'Value that scores 0 (100 when lower is better)',
						displayOptions: { show: { normalisation: ['minMax'], useFixedBounds: [true] } },
					},
					{
						displayName: 'Normalisation',
						name: 'normalisation',
						type: 'options',
						options: [
							{
								name: 'Min-Max',
								value: 'minMax',
								description:
									'Smallest value 0, largest 100, straight line between (or your fixed bounds)',
							},
							{
								name: 'Percentile Rank',
								value: 'percentileRank',
								description:
									'Rank among the customers’ values, evenly spaced: smallest value 0, largest 100; ties share the mean of their ranks. Robust to outliers.',
							},
						],
						default: 'minMax',
					},
					{
						displayName: 'Use Fixed Bounds',
						name: 'useFixedBounds',
						type: 'boolean',
						default: false,
						description:
							'Whether to scale between a fixed minimum and maximum instead of the data’s own; values outside are clamped',
						displayOptions: { show: { normalisation: ['minMax'] } },
					},
					{
						displayName: 'Weight',
						name: 'weight',
						type: 'number',
						typeOptions: { minValue: 0.01, numberPrecision: 2 },
						default: 1,
						description:
							'Relative importance, 0.01 or more; weights need not add up to anything. To leave an indicator out, remove it.',
					},
				],
			},
		],
	},
	{
		displayName: 'Bands',
		name: 'bands',
		type: 'options',
		options: [
			{
				name: 'Custom Bands',
				value: 'custom',
				description: 'Your own band names and minimum index',
			},
			{
				name: 'Default Bands',
				value: 'default',
				description: 'Champion from 80, Healthy from 60, Needs Attention from 40, At Risk below',
			},
			{ name: 'No Bands', value: 'none' },
		],
		default: 'default',
	},
	{
		displayName: 'Custom Bands',
		name: 'customBands',
		type: 'fixedCollection',
		typeOptions: { multipleValues: true },
		placeholder: 'Add Band',
		default: {},
		description: 'A customer gets the band with the highest minimum their index reaches',
		displayOptions: { show: { bands: ['custom'] } },
		options: [
			{
				displayName: 'Band',
				name: 'band',
				values: [
					{
						displayName: 'Name',
						name: 'name',
						type: 'string',
						default: '',
						placeholder: 'e.g. Gold',
						required: true,
					},
					{
						displayName: 'Minimum Index',
						name: 'min',
						type: 'number',
						typeOptions: { minValue: 0, maxValue: 100 },
						default: 0,
						description: 'The band starts at this index (0–100)',
					},
				],
			},
		],
	},
	{
		displayName: 'Output',
		name: 'loyaltyOutput',
		type: 'options',
		noDataExpression: true,
		options: [
			{
				name: 'Per-Customer Items',
				value: 'customers',
				description:
					'Each input item plus loyaltyIndex, loyaltyBand, loyaltyCoverage and loyaltyContributions',
			},
			{
				name: 'Summary',
				value: 'summary',
				description:
					'One item with the mean index, coverage, bounds per indicator, band counts and warnings',
			},
		],
		default: 'customers',
	},
];

export const description = updateDisplayOptions(displayOptions, properties);

interface IndicatorParameter {
	field?: string;
	label?: string;
	weight?: number;
	direction?: Direction;
	normalisation?: Normalisation;
	useFixedBounds?: boolean;
	min?: number;
	max?: number;
}

function indicatorsFrom(parameter: { indicator?: IndicatorParameter[] }): LoyaltyIndicator[] {
	return (parameter.indicator ?? []).map((p) => {
		const fixed = p.useFixedBounds === true && (p.normalisation ?? 'minMax') === 'minMax';
		return {
			field: (p.field ?? '').trim(),
			label: p.label?.trim() || undefined,
			weight: p.weight,
			direction: p.direction,
			normalisation: p.normalisation,
			min: fixed ? p.min : undefined,
			max: fixed ? p.max : undefined,
		};
	});
}

export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	const indicators = indicatorsFrom(
		this.getNodeParameter('indicators', 0, {}) as { indicator?: IndicatorParameter[] },
	);
	const fieldLabels: Record<string, string> = { indicators: 'Indicators', bands: 'Custom Bands' };
	indicators.forEach(
		(_, i) => (fieldLabels[`indicators[${i}].field`] = `Indicators › Field (indicator ${i + 1})`),
	);

	return await runAggregate(
		this,
		(items) => {
			const bandsChoice = readString(this, 'bands', 'default');
			let bands: LoyaltyBand[] | false | undefined = bandsChoice === 'none' ? false : undefined;
			if (bandsChoice === 'custom') {
				bands =
					(this.getNodeParameter('customBands', 0, {}) as { band?: LoyaltyBand[] }).band ?? [];
				if (bands.length === 0) {
					throw new EngineError(
						'invalid_bands',
						'Add at least one band under Custom Bands, or choose No Bands',
						{ field: 'bands' },
					);
				}
			}
			const result = loyaltyIndex(
				engineItems(
					items,
					indicators.map((i) => i.field),
				),
				{ indicators, bands },
			);
			return {
				items: loyaltyOutput(result, readString(this, 'loyaltyOutput', 'customers'), items),
				hints: exclusionHints(result.summary.excluded, result.summary.warnings, 'loyalty index'),
			};
		},
		fieldLabels,
	);
}

function loyaltyOutput(
	result: LoyaltyIndexResult,
	output: string,
	items: INodeExecutionData[],
): AggregateItem[] {
	if (output === 'summary') return [{ json: { ...result.summary } }];
	return result.rows.map((row) => ({
		json: {
			...items[row.item].json,
			loyaltyIndex: row.loyaltyIndex,
			loyaltyBand: row.band,
			loyaltyCoverage: row.coverage,
			loyaltyContributions: row.contributions,
		},
		from: [row.item],
	}));
}
