import type { IExecuteFunctions, INodeExecutionData, INodeType, INodeTypeDescription } from 'n8n-workflow';
import { NodeConnectionTypes } from 'n8n-workflow';
import * as backtest from './actions/backtest.operation';
import { featureProperties, outcomeFieldProperty } from './actions/features';
import { router } from './actions/router';
import { referralLedgerConnectionTest } from '../shared/ledger';
import { ruleSetProperties } from './actions/ruleSet.description';
import * as scoreLeads from './actions/scoreLeads.operation';
import * as scoreWithModel from './actions/scoreWithModel.operation';
import * as train from './actions/train.operation';

export class LeadScore implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Lead Score',
		name: 'leadScore',
		icon: { light: 'file:leadScore.svg', dark: 'file:leadScore.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle: '={{ $parameter["operation"] }}',
		description: 'Score leads with explainable rules (decay, grades, stages) or a trained model, and backtest both',
		defaults: { name: 'Lead Score' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: [
			{ name: 'referralLedgerApi', displayName: 'Ledger Database', required: false, testedBy: 'referralLedgerConnectionTest' },
		],
		properties: [
			{
				displayName: 'Operation',
				name: 'operation',
				type: 'options',
				noDataExpression: true,
				options: [
					{
						name: 'Backtest',
						value: 'backtest',
						action: 'Backtest rules and a model on past leads',
						description: 'Split labelled leads by date and measure AUC, lift and calibration of the rule score and a model side by side',
					},
					{
						name: 'Score Leads',
						value: 'scoreLeads',
						action: 'Score leads with rules',
						description: 'Points per rule with decay, group limits, fit grade, engagement level, stage, and why',
					},
					{
						name: 'Score With Model',
						value: 'scoreWithModel',
						action: 'Score leads with a trained model',
						description: 'Conversion probability, a 0–100 score and the factors that moved it',
					},
					{
						name: 'Train Model',
						value: 'train',
						action: 'Train a conversion model',
						description: 'Learn from leads whose outcome is known; returns the model as JSON',
					},
				],
				default: 'scoreLeads',
			},
			...scoreWithModel.description,
			backtest.evaluateProperty,
			outcomeFieldProperty,
			...backtest.description,
			...ruleSetProperties,
			...featureProperties,
			...scoreLeads.description,
			...train.description,
			...backtest.optionsDescription,
		],
	};

	methods = { credentialTest: { referralLedgerConnectionTest } };

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return await router.call(this);
	}
}
