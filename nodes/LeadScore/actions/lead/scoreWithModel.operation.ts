import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import { EngineError } from '../../../../engine/shared/errors';
import { compileModel, parseLogisticModel, type ModelScorer } from '../../../../engine/scoring';
import { ledgerFor } from '../../../shared/ledger';
import { parameterReader, readField } from '../../../shared/parameters';
import { runPerItem } from '../../../shared/runner';
import { leadAttributesProperties, leadLabel, leadReader } from '../leads';
import { inputSourceOf } from '../../../shared/inputs';

const displayOptions = { show: { operation: ['scoreWithModel'] } };

type Output = 'score' | 'factors';

const properties: INodeProperties[] = [
	...leadAttributesProperties,
	{
		displayName: 'Model Source',
		name: 'modelSource',
		type: 'options',
		noDataExpression: true,
		options: [
			{
				name: 'Model JSON',
				value: 'parameter',
				description: 'Paste the "model" a Train Model step returned, or map it with an expression',
			},
			{
				name: 'Saved in Ledger',
				value: 'ledger',
				description: 'A model a Train Model step saved in the referral ledger under a name',
			},
			{
				name: 'Field of Each Lead',
				value: 'field',
				description:
					'Each lead item carries the model in a field, e.g. after a Merge with the Train Model output',
			},
		],
		default: 'parameter',
	},
	{
		displayName: 'Model',
		name: 'model',
		type: 'json',
		default: '',
		required: true,
		placeholder: '{"kind": "logistic-regression", "version": 1, ...}',
		description: 'The model JSON from Train Model (its "model" field)',
		displayOptions: { show: { modelSource: ['parameter'] } },
	},
	{
		displayName: 'Model Name',
		name: 'modelName',
		type: 'string',
		default: '',
		required: true,
		placeholder: 'e.g. demo-request-model',
		description:
			'The name the model was saved under (Train Model → Save Model in Ledger As); the newest version is used',
		displayOptions: { show: { modelSource: ['ledger'] } },
	},
	{
		displayName: 'Model Field',
		name: 'modelField',
		type: 'string',
		default: 'model',
		required: true,
		hint: 'The name of the field holding the model, not the model itself',
		displayOptions: { show: { modelSource: ['field'] } },
	},
	{
		displayName: 'Output',
		name: 'output',
		type: 'options',
		noDataExpression: true,
		options: [
			{
				name: 'Score and Factors',
				value: 'factors',
				description:
					'Probability, 0–100 score, and the fields that raised and lowered it most compared with an average lead',
			},
			{ name: 'Score Only', value: 'score', description: 'Probability and 0–100 score; fastest' },
		],
		default: 'factors',
	},
	{
		displayName: 'Put Result In Field',
		name: 'resultField',
		type: 'string',
		default: 'modelScore',
		required: true,
		description:
			"Field added to each lead with its model score; the lead's own fields stay as they are",
	},
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		options: [
			{
				displayName: 'Lead ID Field',
				name: 'leadIdField',
				type: 'string',
				default: '',
				placeholder: 'e.g. leadId',
				description: 'Field that names the lead in error messages, beside its item number',
			},
			{
				displayName: 'Number of Factors',
				name: 'topFactors',
				type: 'number',
				typeOptions: { minValue: 0 },
				default: 3,
				description: 'How many positive and how many negative factors to list',
			},
		],
	},
];

export const description = updateDisplayOptions(displayOptions, properties);

interface ModelOptions {
	leadIdField?: string;
	topFactors?: number;
}

/** Compiles each distinct model once: by object identity first, by its JSON text otherwise. */
function modelCache(): (model: unknown, topFactors: number) => ModelScorer {
	const byObject = new WeakMap<object, Map<number, ModelScorer>>();
	const byText = new Map<string, ModelScorer>();
	return (model, topFactors) => {
		const objectKey = typeof model === 'object' && model !== null ? model : undefined;
		const sameObject = objectKey && byObject.get(objectKey)?.get(topFactors);
		if (sameObject) return sameObject;
		const key = `${topFactors}:${typeof model === 'string' ? model : JSON.stringify(model)}`;
		let scorer = byText.get(key);
		if (!scorer) {
			scorer = compileModel(parseLogisticModel(model), { topFactors });
			if (byText.size > 100) byText.clear();
			byText.set(key, scorer);
		}
		if (objectKey) {
			const perObject = byObject.get(objectKey) ?? new Map<number, ModelScorer>();
			perObject.set(topFactors, scorer);
			byObject.set(objectKey, perObject);
		}
		return scorer;
	};
}

function isBlankModel(model: unknown): boolean {
	return (
		model === undefined || model === null || (typeof model === 'string' && model.trim() === '')
	);
}

export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	const source = this.getNodeParameter('modelSource', 0, 'parameter') as
		'parameter' | 'field' | 'ledger';
	const modelNameFor = parameterReader<string>(this, 'modelName', '');
	const savedModels = new Map<string, unknown>();
	const output = this.getNodeParameter('output', 0, 'factors') as Output;
	const modelFor = source === 'parameter' ? parameterReader<unknown>(this, 'model', '') : undefined;
	const modelFieldFor = parameterReader<string>(this, 'modelField', 'model');
	const resultFieldFor = parameterReader<string>(this, 'resultField', 'modelScore');
	const optionsFor = parameterReader<ModelOptions>(this, 'options', {});
	const scorerOf = modelCache();
	const leadFor = leadReader(this, inputSourceOf(this));
	return await runPerItem(
		this,
		async (item, itemIndex) => {
			const options = optionsFor(itemIndex);
			let model: unknown;
			if (source === 'ledger') {
				const name = (modelNameFor(itemIndex) ?? '').trim();
				if (name === '')
					throw new EngineError('missing_model', 'Enter the name the model was saved under', {
						field: 'modelName',
					});
				if (!savedModels.has(name)) {
					const record = await (await ledgerFor(this)).loadScoringModel(name);
					if (!record) {
						throw new EngineError(
							'unknown_model',
							`No model named "${name}" is saved in the ledger; train one with Save Model in Ledger As "${name}"`,
							{ field: 'modelName' },
						);
					}
					savedModels.set(name, record.model);
				}
				model = savedModels.get(name);
			} else if (modelFor) {
				model = modelFor(itemIndex);
				if (isBlankModel(model)) {
					throw new EngineError(
						'missing_model',
						'Paste the model JSON from a Train Model step into "Model", or map its "model" field.',
						{
							field: 'model',
						},
					);
				}
			} else {
				const field = modelFieldFor(itemIndex);
				model = readField(item.json, field);
				if (isBlankModel(model)) {
					throw new EngineError(
						'missing_model',
						`The lead has no model in field "${field}"; merge the Train Model output into each lead or choose Model JSON.`,
						{
							field: 'modelField',
						},
					);
				}
			}
			const scorer = scorerOf(model, options.topFactors ?? 3);
			const lead = leadFor(itemIndex, item.json);
			const label = leadLabel(lead, options.leadIdField, itemIndex);
			let result: object;
			if (output === 'score') {
				const probability = scorer.probability(lead, label);
				result = { probability, score: 100 * probability };
			} else {
				result = scorer.score(lead, label);
			}
			return { ...item.json, [resultFieldFor(itemIndex)]: result };
		},
		{
			// Errors about the model itself point at wherever it came from.
			model: source === 'parameter' ? 'Model' : 'Model Field',
			modelField: 'Model Field',
			modelName: 'Model Name',
			topFactors: 'Options › Number of Factors',
			resultField: 'Put Result In Field',
			leadAttributes: 'Lead Attributes',
		},
	);
}
