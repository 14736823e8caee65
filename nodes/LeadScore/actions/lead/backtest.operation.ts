import type { ToolUse } from '../../../shared/tool';
import type {
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	INodeProperties,
} from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import {
	backtest,
	type BacktestOptions,
	type BacktestReport,
	type ScoreMetrics,
} from '../../../../engine/scoring';
import { runAggregate } from '../../../shared/aggregate';
import {
	featureLabels,
	featureSpecsFrom,
	modelOptionProperties,
	type ModelOptions,
} from '../features';
import { pinItem } from '../leads';
import { scoringConfigFrom, type RuleSetParameters } from '../ruleSet';
import { ruleSetLabels } from '../ruleSet.description';

const displayOptions = { show: { operation: ['backtest'] } };

type Evaluate = 'both' | 'rules' | 'model';

/** Which of rules and model Backtest measures; the rule and model forms hide by it. */
const evaluate: INodeProperties = {
	displayName: 'Evaluate',
	name: 'evaluate',
	type: 'options',
	noDataExpression: true,
	options: [
		{
			name: 'Rules and Model Side by Side',
			value: 'both',
			description: 'The rule score below and a model trained on the earlier leads',
		},
		{ name: 'Model Only', value: 'model' },
		{ name: 'Rules Only', value: 'rules' },
	],
	default: 'both',
};

export const evaluateDescription = updateDisplayOptions(displayOptions, [evaluate]);

const properties: INodeProperties[] = [
	{
		displayName: 'Date Field',
		name: 'dateField',
		type: 'string',
		default: 'createdAt',
		required: true,
		placeholder: 'e.g. createdAt',
		hint: 'The lead field holding the date the lead came in: earlier leads train, later leads test',
	},
	{
		displayName: 'Split By',
		name: 'splitBy',
		type: 'options',
		noDataExpression: true,
		options: [
			{
				name: 'Share of Leads',
				value: 'fraction',
				description: 'The earliest share of leads trains, the rest tests',
			},
			{
				name: 'Cutoff Date',
				value: 'cutoff',
				description: 'Leads before the date train, the rest test',
			},
		],
		default: 'fraction',
	},
	{
		displayName: 'Training Share',
		name: 'trainFraction',
		type: 'number',
		typeOptions: { minValue: 0.01, maxValue: 0.99, numberPrecision: 2 },
		default: 0.7,
		description: 'Share of the leads, oldest first, used to train and calibrate, e.g. 0.7',
		displayOptions: { show: { splitBy: ['fraction'] } },
	},
	{
		displayName: 'Cutoff',
		name: 'cutoff',
		type: 'dateTime',
		default: '',
		description:
			'Leads dated before this train; the rest test. Read as UTC unless it has an offset.',
		displayOptions: { show: { splitBy: ['cutoff'] } },
	},
];

export const description = updateDisplayOptions(displayOptions, properties);

const optionProperties: INodeProperties[] = [
	{
		displayName: 'Options',
		name: 'backtestOptions',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		options: [
			{
				displayName: 'Bootstrap Samples',
				name: 'samples',
				type: 'number',
				typeOptions: { minValue: 1 },
				default: 1000,
				description: 'Resamples for the AUC confidence interval',
			},
			{
				displayName: 'Confidence',
				name: 'confidence',
				type: 'number',
				typeOptions: { minValue: 0.5, maxValue: 0.999, numberPrecision: 3 },
				default: 0.95,
				description: 'Coverage of the AUC confidence interval',
			},
			{
				displayName: 'Lift Share',
				name: 'liftFraction',
				type: 'number',
				typeOptions: { minValue: 0.01, maxValue: 1, numberPrecision: 2 },
				default: 0.1,
				hint: 'E.g. 0.2 when sales can call the top fifth of leads',
				description:
					'Share of the highest-scored test leads that lift and capture are measured on: lift is their conversion rate over the overall rate, capture the share of all converters among them',
			},
			...modelOptionProperties,
			{
				displayName: 'Random Seed',
				name: 'seed',
				type: 'number',
				default: 1,
				description: 'Seed of the bootstrap, so the same leads give the same interval',
			},
			{
				displayName: 'Rule Score as Probability',
				name: 'ruleProbability',
				type: 'options',
				options: [
					{
						name: 'Calibrate on Training Leads',
						value: 'platt',
						description:
							'Fit a logistic curve of conversion on score to the earlier leads (Platt scaling)',
					},
					{
						name: 'Score / 100',
						value: 'scaled',
						description: 'Read a 0–100 normalized score as a probability',
					},
				],
				default: 'platt',
				description: 'How Brier score and calibration read the rule score as a probability',
			},
			{
				displayName: 'Score Rules As Of',
				name: 'scoreAt',
				type: 'dateTime',
				default: '',
				description:
					'When decay and "within the last days" are measured from; empty: each lead at its own date',
			},
		],
	},
];

export const optionsDescription = updateDisplayOptions(displayOptions, optionProperties);

interface BacktestParameterOptions extends ModelOptions {
	liftFraction?: number;
	samples?: number;
	confidence?: number;
	seed?: number;
	ruleProbability?: 'platt' | 'scaled';
	scoreAt?: string;
}

type Side = (ScoreMetrics & { model?: unknown }) | undefined;

const BASE_METRICS: ReadonlyArray<[string, (m: ScoreMetrics) => number]> = [
	['AUC', (m) => m.auc],
	['AUC interval, lower', (m) => m.aucInterval.lower],
	['AUC interval, upper', (m) => m.aucInterval.upper],
	['PR-AUC', (m) => m.prAuc],
	['Top-decile lift', (m) => m.topDecileLift],
	['Top-decile capture', (m) => m.topDecileCapture],
	['Brier score', (m) => m.brier],
	['Log loss', (m) => m.logLoss],
	['Calibration error (ECE)', (m) => m.ece],
];

/** The metrics compared, with lift and capture at the chosen share named by it (top 20%). */
function metrics(fraction: number): ReadonlyArray<[string, (m: ScoreMetrics) => number]> {
	const share = `top ${Number((100 * fraction).toFixed(2))}%`;
	const at = BASE_METRICS.findIndex(([name]) => name === 'Top-decile capture') + 1;
	return [
		...BASE_METRICS.slice(0, at),
		[`Lift, ${share}`, (m) => m.lift.lift],
		[`Capture, ${share}`, (m) => m.lift.capture],
		...BASE_METRICS.slice(at),
	];
}

/** The report as one item: split, a metric-by-metric comparison, each side's details and the trained model. */
export function reportJson(report: BacktestReport): IDataObject {
	const rules: Side = report.rules;
	const model: Side = report.model;
	const fraction = (rules ?? model)?.lift.fraction ?? 0.1;
	const comparison = metrics(fraction).map(([metric, read]) => ({
		metric,
		rules: rules ? read(rules) : null,
		model: model ? read(model) : null,
	}));
	const json: IDataObject = { split: report.split, comparison };
	if (report.rules) json.rules = report.rules;
	if (report.model) {
		const { model: trained, ...metrics } = report.model;
		json.model = metrics;
		json.trainedModel = trained;
	}
	return json;
}

export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	const evaluate = this.getNodeParameter('evaluate', 0, 'both') as Evaluate;
	const label = this.getNodeParameter('label', 0, 'converted') as string;
	const dateField = this.getNodeParameter('dateField', 0, 'createdAt') as string;
	const splitBy = this.getNodeParameter('splitBy', 0, 'fraction') as 'fraction' | 'cutoff';
	const options = this.getNodeParameter('backtestOptions', 0, {}) as BacktestParameterOptions;
	const ruleParameters: RuleSetParameters = {};
	if (evaluate !== 'model') {
		for (const name of ['rules', 'groups', 'total'] as const) {
			(ruleParameters as IDataObject)[name] = this.getNodeParameter(name, 0, {});
		}
	}
	const features =
		evaluate === 'rules'
			? undefined
			: (this.getNodeParameter('features', 0, {}) as Parameters<typeof featureSpecsFrom>[0]);
	const splitValue =
		splitBy === 'cutoff'
			? { cutoff: this.getNodeParameter('cutoff', 0, '') as string }
			: { trainFraction: this.getNodeParameter('trainFraction', 0, 0.7) as number };
	return await runAggregate(
		this,
		(items) => {
			try {
				const backtestOptions: BacktestOptions = {
					label,
					dateField,
					...splitValue,
					ruleProbability: options.ruleProbability,
					liftFraction: options.liftFraction,
					scoreAt: options.scoreAt ? options.scoreAt : undefined,
					bootstrap: {
						samples: options.samples,
						confidence: options.confidence,
						seed: options.seed,
					},
				};
				if (evaluate !== 'model') backtestOptions.rules = scoringConfigFrom(ruleParameters, 'none');
				if (features !== undefined) {
					backtestOptions.model = {
						features: featureSpecsFrom(features),
						lambda: options.lambda,
						onMissing: options.onMissing,
						maxCategories: options.maxCategories,
					};
				}
				return {
					items: [
						{
							json: reportJson(
								backtest(
									items.map((item) => item.json),
									backtestOptions,
								),
							),
						},
					],
				};
			} catch (error) {
				throw pinItem(error);
			}
		},
		{
			...ruleSetLabels,
			...featureLabels,
			dateField: 'Date Field',
			cutoff: 'Cutoff',
			trainFraction: 'Training Share',
			ruleProbability: 'Options › Rule Score as Probability',
			liftFraction: 'Options › Lift Share',
			scoreAt: 'Options › Score Rules As Of',
			samples: 'Options › Bootstrap Samples',
			confidence: 'Options › Confidence',
			items: 'the input leads',
		},
	);
}

/** A backtest replays many past leads, not one tool call (issue #19). */
export const toolUse: ToolUse = {
	refuse:
		'a backtest compares rules and a model over many past leads; as a tool, score one lead instead',
};
