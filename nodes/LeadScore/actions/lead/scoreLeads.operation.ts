import type {
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	INodeProperties,
} from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import type { ExplainLevel, LeadScore } from '../../../../engine/scoring';
import { referralFeatures } from '../../../../engine/scoring';
import type { LedgerStore } from '../../../../engine/ledger';
import { ledgerFor } from '../../../shared/ledger';
import { parameterReader, readField } from '../../../shared/parameters';
import { runPerItem } from '../../../shared/runner';
import { leadAttributesProperties, leadLabel, leadReader, scoringTimeReader } from '../leads';
import { inputSourceOf } from '../../../shared/inputs';
import { ruleScorerReader } from '../ruleSet';
import { ruleSetLabels } from '../ruleSet.description';

const displayOptions = { show: { operation: ['scoreLeads'] } };

type Output = 'score' | 'matched' | 'all';

const properties: INodeProperties[] = [
	...leadAttributesProperties,
	{
		displayName: 'Output',
		name: 'output',
		type: 'options',
		noDataExpression: true,
		options: [
			{
				name: 'Score and Matched Rules',
				value: 'matched',
				description:
					'Score, grade, stage and why: the rules that matched or had bad input, their points, decay and what the limits clipped',
			},
			{
				name: 'Score and Every Rule',
				value: 'all',
				description: 'As above, listing the rules that did not match too',
			},
			{
				name: 'Score Only',
				value: 'score',
				description: 'Score, total, fit, engagement, grade, level, matrix cell and stage; fastest',
			},
		],
		default: 'matched',
	},
	{
		displayName: 'Put Result In Field',
		name: 'resultField',
		type: 'string',
		default: 'leadScore',
		required: true,
		description: "Field added to each lead with its score; the lead's own fields stay as they are",
	},
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		options: [
			{
				displayName: 'Add Ledger Referral Features',
				name: 'referralFeatures',
				type: 'boolean',
				default: false,
				description:
					'Whether to add "referral" to each lead before scoring: referrals made, qualified, points, tier and badges from the referral ledger, so rules can use fields like referral.qualified',
			},
			{
				displayName: 'Lead Email Field',
				name: 'emailField',
				type: 'string',
				default: 'email',
				description:
					"With referral features: the field holding the lead's email, to find them in the ledger",
			},
			{
				displayName: 'Lead ID Field',
				name: 'leadIdField',
				type: 'string',
				default: '',
				placeholder: 'e.g. leadId',
				description: 'Field that names the lead in error messages, beside its item number',
			},
			{
				displayName: 'Referral Program',
				name: 'program',
				type: 'string',
				default: 'default',
				description: 'With referral features: the program in the ledger',
			},
			{
				displayName: 'Score As Of',
				name: 'scoreAsOf',
				type: 'dateTime',
				default: '',
				description:
					'The time decay and "within the last days" are measured from; empty: when the workflow runs. Read as UTC unless it has an offset.',
			},
		],
	},
];

export const description = updateDisplayOptions(displayOptions, properties);

interface ScoreOptions {
	leadIdField?: string;
	referralFeatures?: boolean;
	emailField?: string;
	program?: string;
	scoreAsOf?: unknown;
}

/** The score without the explanation: what "Score Only" puts on each lead. */
export function scoreFields(result: LeadScore): IDataObject {
	return {
		score: result.score,
		total: result.total,
		fit: result.fit,
		engagement: result.engagement,
		grade: result.grade,
		engagementLevel: result.engagementLevel,
		matrix: result.matrix,
		stage: result.stage,
		nextStage: result.nextStage,
		pointsToNextStage: result.pointsToNextStage,
	};
}

export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	const output = this.getNodeParameter('output', 0, 'matched') as Output;
	const explain: ExplainLevel = output === 'score' ? 'none' : output;
	const scorerFor = ruleScorerReader(this, explain);
	const resultFieldFor = parameterReader<string>(this, 'resultField', 'leadScore');
	const optionsFor = parameterReader<ScoreOptions>(this, 'options', {});
	const scoringTime = scoringTimeReader(Date.now());
	const source = inputSourceOf(this);
	const leadFor = leadReader(this, source);
	let ledger: LedgerStore | undefined;
	return await runPerItem(
		this,
		async (item, itemIndex) => {
			const options = optionsFor(itemIndex);
			let lead = leadFor(itemIndex, item.json);
			if (options.referralFeatures) {
				ledger ??= await ledgerFor(this);
				const email = readField(lead, options.emailField || 'email');
				lead = {
					...lead,
					referral: { ...(await referralFeatures(ledger, options.program || 'default', email)) },
				};
			}
			const result = scorerFor(itemIndex).score(
				lead,
				scoringTime(options.scoreAsOf),
				leadLabel(lead, options.leadIdField, itemIndex),
			);
			return {
				...(source === 'values' ? item.json : lead),
				[resultFieldFor(itemIndex)]: output === 'score' ? scoreFields(result) : result,
			};
		},
		{
			...ruleSetLabels,
			now: 'Options › Score As Of',
			resultField: 'Put Result In Field',
			emailField: 'Options › Lead Email Field',
			leadAttributes: 'Lead Attributes',
		},
	);
}
