import type {
	IExecuteFunctions,
	INodeExecutionData,
	INodeType,
	INodeTypeDescription,
} from 'n8n-workflow';
import { NodeConnectionTypes } from 'n8n-workflow';
import { withDefaultsNotices } from '../shared/defaultsNotice';
import { ledgerNotice, referralLedgerConnectionTest } from '../shared/ledger';
import { searchPrograms } from '../shared/program';
import { linkSecretTest } from '../shared/linkSecret';
import { programProperty } from './actions/common';
import { resources, router } from './actions/router';
import { allowAsAiToolProperty, moneyMovingOperations } from '../shared/tool';

export class Referral implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Referral',
		name: 'referral',
		icon: { light: 'file:referral.svg', dark: 'file:referral.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle: '={{ $parameter["operation"] + ": " + $parameter["resource"] }}',
		description:
			'Run a referral program: enrol participants, record referrals with explainable fraud checks, qualify, review, reverse, stats',
		defaults: { name: 'Referral' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: [
			{
				name: 'referralLedgerApi',
				displayName: 'Ledger Database',
				required: false,
				testedBy: 'referralLedgerConnectionTest',
			},
			{
				name: 'referralLinkSecretApi',
				displayName: 'Link Signing Secret',
				required: true,
				testedBy: 'linkSecretTest',
				displayOptions: {
					show: { resource: ['participant'], operation: ['privateLink', 'getByToken'] },
				},
			},
		],
		// The field-name and policy collections show their defaults before anything is added.
		properties: withDefaultsNotices(
			[
				ledgerNotice,
				{
					displayName: 'Resource',
					name: 'resource',
					type: 'options',
					noDataExpression: true,
					options: [
						{
							name: 'Ledger',
							value: 'ledger',
							description: 'Housekeeping: prune delivered messages and old idempotency keys',
						},
						{
							name: 'Participant',
							value: 'participant',
							description: 'People in the program: enrol, get, update, list, erase',
						},
						{
							name: 'Program',
							value: 'program',
							description: 'Program rules, stats and leaderboard',
						},
						{
							name: 'Referral',
							value: 'referral',
							description: 'Referred sign-ups through their lifecycle',
						},
						{
							name: 'Referral Link',
							value: 'referralLink',
							description: 'Tracked share links: count clicks, redirect with the code',
						},
					],
					default: 'participant',
				},
				...Object.values(resources).map((resource) => resource.operationProperty),
				programProperty,
				allowAsAiToolProperty({
					show: {
						resource: ['referral'],
						operation: moneyMovingOperations(resources.referral.operations),
					},
				}),
				...Object.values(resources).flatMap((resource) => resource.description),
			],
			[
				'inputFields',
				'conversionFields',
				'refundFields',
				'customerFields',
				'fraudPolicy',
				'qualification',
				'share',
			],
		),
	};

	methods = {
		credentialTest: { referralLedgerConnectionTest, linkSecretTest },
		listSearch: { searchPrograms },
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return await router.call(this);
	}
}
