import type { IExecuteFunctions, INodeExecutionData, INodeType, INodeTypeDescription } from 'n8n-workflow';
import { NodeConnectionTypes } from 'n8n-workflow';
import { ledgerNotice, referralLedgerConnectionTest } from '../shared/ledger';
import { PARTICIPANT_OPERATIONS, participantProperties, programProperty, referralProperties } from './actions/fields';
import { operations, router } from './actions/router';

export class ReferralReward implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Referral Reward',
		name: 'referralReward',
		icon: { light: 'file:referralReward.svg', dark: 'file:referralReward.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle: '={{ $parameter["operation"] + ": " + $parameter["resource"] }}',
		description: 'Award points, coupons, cash, badges and VIP tiers for referrals, exactly once, with caps, holding periods and reversals',
		defaults: { name: 'Referral Reward' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: [{ name: 'referralLedgerApi', displayName: 'Ledger Database', required: false, testedBy: 'referralLedgerConnectionTest' }],
		properties: [
			ledgerNotice,
			{
				displayName: 'Resource',
				name: 'resource',
				type: 'options',
				noDataExpression: true,
				options: [
					{ name: 'Points and Status', value: 'points', description: 'A participant\'s points balance, tier, badges, history and redemptions' },
					{ name: 'Reward', value: 'reward', description: 'Award, approve, fulfil, reverse and list rewards' },
				],
				default: 'reward',
			},
			{
				displayName: 'Operation',
				name: 'operation',
				type: 'options',
				noDataExpression: true,
				displayOptions: { show: { resource: ['reward'] } },
				options: [
					{ name: 'Approve Due Rewards', value: 'approveDue', action: 'Approve rewards whose holding period ended', description: 'Release pending rewards after the refund window; run from a Schedule Trigger' },
					{ name: 'Evaluate and Award', value: 'evaluate', action: 'Evaluate and award rewards for a referral', description: 'Apply the reward rules to a referral and write what it earned, exactly once' },
					{ name: 'List Rewards', value: 'listRewards', action: 'List rewards', description: 'Rewards of the program or of one participant' },
					{ name: 'Load Coupon Pool', value: 'loadCoupons', action: 'Load coupon codes into a pool', description: 'Add codes made in your shop to a pool that coupon rules take from; loading them again adds nothing' },
					{ name: 'Mark Fulfilled', value: 'markFulfilled', action: 'Mark a reward fulfilled', description: 'Record that an approved reward was handed out (coupon sent, cash paid)' },
					{ name: 'Reverse', value: 'reverse', action: 'Reverse a referral s rewards', description: 'Take back what is left of the rewards of a reversed referral; for a refund use the Referral node\'s Reverse (Refund), which does both' },
				],
				default: 'evaluate',
			},
			{
				displayName: 'Operation',
				name: 'operation',
				type: 'options',
				noDataExpression: true,
				displayOptions: { show: { resource: ['points'] } },
				options: [
					{ name: 'Get Status', value: 'getStatus', action: 'Get a participant s points tier and badges', description: 'Points balance, current VIP tier, badges and qualified referrals' },
					{ name: 'Points History', value: 'pointsHistory', action: 'Get a participant s points history', description: 'Points balance and journal entries' },
					{ name: 'Redeem Points', value: 'redeemPoints', action: 'Redeem points', description: 'Spend points once per reference; refused when the balance is too small' },
				],
				default: 'getStatus',
			},
			programProperty,
			...referralProperties,
			...participantProperties(PARTICIPANT_OPERATIONS),
			// List Rewards asks for a participant only when listing one participant's rewards.
			...participantProperties(['listRewards']).map((p) => ({ ...p, displayOptions: { show: { operation: ['listRewards'], listFor: ['participant'] } } })),
			...Object.values(operations).flatMap((operation) => operation.description),
		],
	};

	methods = { credentialTest: { referralLedgerConnectionTest } };

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return await router.call(this);
	}
}
