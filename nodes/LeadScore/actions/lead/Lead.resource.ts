import type { INodeProperties } from 'n8n-workflow';
import { featureProperties, outcomeFieldDescription } from '../features';
import { ruleSetProperties } from '../ruleSet.description';
import * as backtest from './backtest.operation';
import * as scoreLeads from './scoreLeads.operation';
import * as scoreWithModel from './scoreWithModel.operation';
import * as train from './train.operation';

/** Leads: score them with rules or a trained model, train that model, backtest both. */
export const operations = { scoreLeads, scoreWithModel, train, backtest };

export const operationProperty: INodeProperties = {
	displayName: 'Operation',
	name: 'operation',
	type: 'options',
	noDataExpression: true,
	options: [
		{
			name: 'Backtest',
			value: 'backtest',
			action: 'Backtest rules and a model on past leads',
			description:
				'Split labelled leads by date and measure AUC, lift and calibration of the rule score and a model side by side',
		},
		{
			name: 'Score Leads',
			value: 'scoreLeads',
			action: "Score a lead with the rules (its score, grade and each rule's points)",
			description:
				'Points per rule with decay, group limits, fit grade, engagement level, stage, and why',
		},
		{
			name: 'Score With Model',
			value: 'scoreWithModel',
			action: 'Score a lead with a trained model (its chance to convert)',
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
};

/** The forms in the order the node shows them; the rule, feature and outcome forms serve several operations. */
export const description: INodeProperties[] = [
	...scoreWithModel.description,
	...backtest.evaluateDescription,
	...outcomeFieldDescription,
	...backtest.description,
	...ruleSetProperties,
	...featureProperties,
	...scoreLeads.description,
	...train.description,
	...backtest.optionsDescription,
];
