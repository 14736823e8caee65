import type { ToolUse } from '../../../shared/tool';
import type {
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	INodeProperties,
} from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import { rawCoefficients, trainLogistic } from '../../../../engine/scoring';
import { runAggregate } from '../../../shared/aggregate';
import { ledgerFor } from '../../../shared/ledger';
import {
	featureLabels,
	modelOptionProperties,
	trainOptionsFrom,
	type ModelOptions,
} from '../features';
import { pinItem } from '../leads';

const displayOptions = { show: { operation: ['train'] } };

const properties: INodeProperties[] = [
	{
		displayName: 'Save Model in Ledger As',
		name: 'saveAs',
		type: 'string',
		default: '',
		placeholder: 'e.g. demo-request-model',
		description:
			'Optional: a name to keep the model under in the referral ledger, for Score With Model → Saved in Ledger. Saving again under the same name makes a new version.',
	},
	{
		displayName: 'Options',
		name: 'trainOptions',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		options: modelOptionProperties,
	},
];

export const description = updateDisplayOptions(displayOptions, properties);

/** All input leads in, one item out: `{model, training, effectsPerUnit}` (log-odds per unit of each field), ready for Score With Model. */
export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	const label = this.getNodeParameter('label', 0, 'converted') as string;
	const features = this.getNodeParameter('features', 0, {}) as Parameters<
		typeof trainOptionsFrom
	>[1];
	const options = this.getNodeParameter('trainOptions', 0, {}) as ModelOptions;
	const saveAs = (this.getNodeParameter('saveAs', 0, '') as string).trim();
	return await runAggregate(
		this,
		async (items) => {
			try {
				const model = trainLogistic(
					items.map((item) => item.json),
					trainOptionsFrom(label, features, options),
				);
				const { intercept, coefficients } = rawCoefficients(model);
				const json: IDataObject = {
					model,
					training: model.training,
					effectsPerUnit: { intercept, coefficients },
				};
				if (saveAs !== '') {
					const saved = await (await ledgerFor(this)).saveScoringModel({ name: saveAs, model });
					json.savedAs = {
						name: saved.model.name,
						version: saved.model.version,
						changed: saved.changed,
					};
				}
				return { items: [{ json }] };
			} catch (error) {
				throw pinItem(error);
			}
		},
		featureLabels,
	);
}

/** Training needs the labelled history of many leads, not one tool call (issue #19). */
export const toolUse: ToolUse = {
	refuse:
		'training a model needs many past leads with their outcomes; as a tool, score one lead instead',
};
