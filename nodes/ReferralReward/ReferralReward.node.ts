import type {
	IExecuteFunctions,
	INodeExecutionData,
	INodeType,
	INodeTypeDescription,
} from 'n8n-workflow';
import { NodeConnectionTypes } from 'n8n-workflow';
import { ledgerNotice, referralLedgerConnectionTest } from '../shared/ledger';
import { programProperty, searchPrograms, searchCouponPools } from '../shared/program';
import * as points from './actions/points/Points.resource';
import * as reward from './actions/reward/Reward.resource';
import { router } from './actions/router';
import { allowAsAiToolProperty, moneyMovingOperations } from '../shared/tool';

export class ReferralReward implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Referral Reward',
		name: 'referralReward',
		icon: { light: 'file:referralReward.svg', dark: 'file:referralReward.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle: '={{ $parameter["operation"] + ": " + $parameter["resource"] }}',
		description:
			'Award points, coupons, cash, badges and VIP tiers for referrals, exactly once, with caps, holding periods and reversals',
		defaults: { name: 'Referral Reward' },
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
		],
		properties: [
			ledgerNotice,
			{
				displayName: 'Resource',
				name: 'resource',
				type: 'options',
				noDataExpression: true,
				options: [
					{
						name: 'Points and Status',
						value: 'points',
						description: "A participant's points balance, tier, badges, history and redemptions",
					},
					{
						name: 'Reward',
						value: 'reward',
						description: 'Award, approve, fulfil, reverse and list rewards',
					},
				],
				default: 'reward',
			},
			reward.operationProperty,
			points.operationProperty,
			programProperty('Key of the referral program; created on first use'),
			allowAsAiToolProperty({
				show: {
					operation: [
						...moneyMovingOperations(reward.operations),
						...moneyMovingOperations(points.operations),
					],
				},
			}),
			...reward.description,
			...points.description,
		],
	};

	methods = {
		credentialTest: { referralLedgerConnectionTest },
		listSearch: { searchPrograms, searchCouponPools },
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return await router.call(this);
	}
}
