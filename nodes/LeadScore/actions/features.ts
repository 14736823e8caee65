import type { INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import type { FeatureSpec, FeatureType, TrainLogisticOptions } from '../../../engine/scoring';

/** The model form is shown for Train Model and for Backtest (unless only the rules are evaluated). */
const modelForm = { show: { operation: ['train', 'backtest'] }, hide: { evaluate: ['rules'] } };

const outcomeField: INodeProperties = {
	displayName: 'Outcome Field',
	name: 'label',
	type: 'string',
	default: 'converted',
	required: true,
	placeholder: 'e.g. converted or deal.won',
	hint: 'The name of the lead field that says whether the lead converted: true/false, yes/no or 1/0',
};

export const outcomeFieldDescription = updateDisplayOptions(
	{ show: { operation: ['train', 'backtest'] } },
	[outcomeField],
);

export const featureProperties: INodeProperties[] = updateDisplayOptions(modelForm, [
	{
		displayName: 'Features',
		name: 'features',
		type: 'fixedCollection',
		typeOptions: { multipleValues: true, sortable: true },
		placeholder: 'Add Feature',
		default: {},
		description: 'Lead fields the model learns from',
		options: [
			{
				displayName: 'Feature',
				name: 'feature',
				values: [
					{
						displayName: 'Field',
						name: 'field',
						type: 'string',
						default: '',
						placeholder: 'e.g. company.employees',
						hint: 'The name of the lead field, not its value',
					},
					{
						displayName: 'Type',
						name: 'type',
						type: 'options',
						options: [
							{
								name: 'Category',
								value: 'categorical',
								description: 'Text such as an industry or a country: one effect per value',
							},
							{
								name: 'Number',
								value: 'numeric',
								description: 'A count or amount; one effect per unit',
							},
							{ name: 'Yes/No', value: 'boolean', description: 'True/false, yes/no or 1/0' },
						],
						default: 'numeric',
					},
					{
						displayName: 'Name',
						name: 'name',
						type: 'string',
						default: '',
						description: 'Shown in the factors; defaults to the field',
					},
				],
			},
		],
	},
]);

/** Options of the model fit; part of the Options collection of Train Model and Backtest. */
export const modelOptionProperties: INodeProperties[] = [
	{
		displayName: 'Max Categories',
		name: 'maxCategories',
		type: 'number',
		typeOptions: { minValue: 1 },
		default: 20,
		description:
			'Most frequent values kept per category feature; rarer ones count together as "other"',
	},
	{
		displayName: 'Missing Values',
		name: 'onMissing',
		type: 'options',
		options: [
			{
				name: 'Use the Average',
				value: 'mean',
				description: 'A missing number counts as the average of the training leads',
			},
			{
				name: 'Stop With an Error',
				value: 'error',
				description: 'Fail, naming the lead and the field',
			},
		],
		default: 'mean',
	},
	{
		displayName: 'Regularization',
		name: 'lambda',
		type: 'number',
		typeOptions: { minValue: 0, numberPrecision: 4 },
		default: 1,
		description:
			'How strongly effects are pulled towards zero, so a few leads cannot make a field look decisive. 0 turns it off: a Category feature then measures its values against its most frequent one (the reference level), and features that duplicate others are named.',
	},
];

export const featureLabels: Record<string, string> = {
	features: 'Features',
	type: 'Features › Type',
	name: 'Features › Name',
	field: 'Features › Field',
	label: 'Outcome Field',
	lambda: 'Options › Regularization',
	maxCategories: 'Options › Max Categories',
	onMissing: 'Options › Missing Values',
};

interface FeatureEntry {
	field?: string;
	type?: string;
	name?: string;
}

export interface ModelOptions {
	lambda?: number;
	onMissing?: 'mean' | 'error';
	maxCategories?: number;
}

export function featureSpecsFrom(
	features: { feature?: FeatureEntry[] } | undefined,
): FeatureSpec[] {
	return (features?.feature ?? []).map((f) => {
		const spec: FeatureSpec = { field: f.field ?? '', type: (f.type ?? 'numeric') as FeatureType };
		if (f.name?.trim()) spec.name = f.name.trim();
		return spec;
	});
}

export function trainOptionsFrom(
	label: string,
	features: { feature?: FeatureEntry[] } | undefined,
	options: ModelOptions,
): TrainLogisticOptions {
	return {
		label,
		features: featureSpecsFrom(features),
		lambda: options.lambda,
		onMissing: options.onMissing,
		maxCategories: options.maxCategories,
	};
}
