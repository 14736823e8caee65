import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { rawCoefficients, trainLogistic } from '../../../engine/scoring';
import { runAggregate } from '../../shared/aggregate';
import { featureLabels, modelOptionProperties, trainOptionsFrom, type ModelOptions } from './features';
import { pinItem } from './leads';

export const description: INodeProperties[] = [
	{
		displayName: 'Options',
		name: 'trainOptions',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		displayOptions: { show: { operation: ['train'] } },
		options: modelOptionProperties,
	},
];

/** All input leads in, one item out: `{model, training, effectsPerUnit}` (log-odds per unit of each field), ready for Score With Model. */
export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	const label = this.getNodeParameter('label', 0, 'converted') as string;
	const features = this.getNodeParameter('features', 0, {}) as Parameters<typeof trainOptionsFrom>[1];
	const options = this.getNodeParameter('trainOptions', 0, {}) as ModelOptions;
	return await runAggregate(
		this,
		(items) => {
			try {
				const model = trainLogistic(
					items.map((item) => item.json),
					trainOptionsFrom(label, features, options),
				);
				const { intercept, coefficients } = rawCoefficients(model);
				return { items: [{ json: { model: model as never, training: model.training as never, effectsPerUnit: { intercept, coefficients } } }] };
			} catch (error) {
				throw pinItem(error);
			}
		},
		featureLabels,
	);
}
