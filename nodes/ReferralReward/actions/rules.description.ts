/* The reward rules form: what the Evaluate and Award operation asks (mapped to the engine's reward
 * program by rules.ts). */
import type { INodeProperties } from 'n8n-workflow';

/** What a badge or tier does when a refund takes the value below its minimum. */
function whenBelowMinimumField(show?: { kind: string[] }): INodeProperties {
	return {
		displayName: 'When Below Minimum',
		name: 'whenBelowMinimum',
		type: 'options',
		options: [
			{
				name: 'Demote',
				value: 'demote',
				description:
					'Lose it when a refund takes the value below the minimum (a lower tier still reached is held instead)',
			},
			{
				name: 'Keep',
				value: 'keep',
				description: 'Keep it once reached, whatever refunds take back',
			},
		],
		default: 'demote',
		hint: 'A refund that takes points or qualified referrals below the minimum: Demote takes the badge or tier away (events tier.lost, badge.lost); Keep holds it once reached',
		...(show ? { displayOptions: { show } } : {}),
	};
}

/** The fields of a value reward, shown by kind; used by per-referral rewards and milestones. */
function rewardFields(
	kinds: Array<{ name: string; value: string }>,
	defaultKind: string,
): INodeProperties[] {
	const when = (...kind: string[]) => ({ show: { kind } });
	return [
		{ displayName: 'Reward', name: 'kind', type: 'options', options: kinds, default: defaultKind },
		{
			displayName: 'Points',
			name: 'points',
			type: 'number',
			typeOptions: { minValue: 1 },
			default: 100,
			displayOptions: when('points'),
		},
		{
			displayName: 'Amount Type',
			name: 'amountType',
			type: 'options',
			options: [
				{ name: 'Fixed Amount', value: 'amount' },
				{ name: 'Percent Off', value: 'percentOff' },
			],
			default: 'amount',
			displayOptions: when('coupon'),
		},
		{
			displayName: 'Cash Amount',
			name: 'cashAmountType',
			type: 'options',
			options: [
				{ name: 'Fixed Amount', value: 'amount' },
				{
					name: 'Percent of Order',
					value: 'percentOfOrder',
					description: 'A share of the qualifying order; a partial refund shrinks it pro rata',
				},
			],
			default: 'amount',
			displayOptions: when('cash'),
		},
		{
			displayName: 'Amount',
			name: 'amount',
			type: 'number',
			typeOptions: { numberPrecision: 2 },
			default: 10,
			description: 'In major units of the currency (20 = 20.00 EUR)',
			displayOptions: {
				show: { kind: ['cash', 'coupon'], amountType: ['amount'] },
				hide: { cashAmountType: ['percentOfOrder'] },
			},
		},
		{
			displayName: 'Percent of Order',
			name: 'percentOfOrder',
			type: 'number',
			typeOptions: { minValue: 0, maxValue: 100, numberPrecision: 2 },
			default: 5,
			description:
				'E.g. 5 for 5 % of the qualifying order (per-referral rewards on Referral Qualified only).',
			displayOptions: { show: { kind: ['cash'], cashAmountType: ['percentOfOrder'] } },
		},
		{
			displayName: 'Percent Off',
			name: 'percentOff',
			type: 'number',
			default: 10,
			displayOptions: { show: { kind: ['coupon'], amountType: ['percentOff'] } },
		},
		{
			displayName: 'Currency',
			name: 'currency',
			type: 'string',
			default: '',
			placeholder: 'e.g. EUR',
			description: 'Empty: the program currency',
			displayOptions: when('cash', 'coupon'),
		},
		{
			displayName: 'Coupon Source',
			name: 'couponSource',
			type: 'options',
			options: [
				{ name: 'Generate a Unique Code', value: 'generate' },
				{
					name: 'Take One From a Pool',
					value: 'pool',
					description: 'Codes pre-loaded into the ledger (e.g. from your shop)',
				},
			],
			default: 'generate',
			displayOptions: when('coupon'),
		},
		{
			displayName: 'Code Prefix',
			name: 'couponPrefix',
			type: 'string',
			default: '',
			placeholder: 'e.g. THANKS',
			displayOptions: { show: { kind: ['coupon'], couponSource: ['generate'] } },
		},
		{
			displayName: 'Pool Name',
			name: 'couponPoolId',
			type: 'string',
			default: '',
			placeholder: 'e.g. spring-20-eur',
			displayOptions: { show: { kind: ['coupon'], couponSource: ['pool'] } },
		},
		{
			displayName: 'Valid for (Days)',
			name: 'couponValidDays',
			type: 'number',
			default: 0,
			description: 'Days the coupon stays valid; 0 means no expiry',
			displayOptions: when('coupon'),
		},
		{
			displayName: 'Custom Type',
			name: 'customType',
			type: 'string',
			default: '',
			placeholder: 'e.g. free_month',
			displayOptions: when('custom'),
		},
		{
			displayName: 'Custom Value',
			name: 'customValue',
			type: 'string',
			default: '',
			displayOptions: when('custom'),
		},
	];
}

const VALUE_KINDS = [
	{ name: 'Cash', value: 'cash' },
	{ name: 'Coupon', value: 'coupon' },
	{ name: 'Custom', value: 'custom' },
	{ name: 'Points', value: 'points' },
];

export const description: INodeProperties[] = [
	{
		displayName: 'Per-Referral Rewards',
		name: 'perReferral',
		type: 'fixedCollection',
		typeOptions: { multipleValues: true, sortable: true },
		placeholder: 'Add Reward',
		default: {},
		description: 'What the referrer and the referee get for each referral',
		options: [
			{
				displayName: 'Reward',
				name: 'rewards',
				values: [
					{
						displayName: 'Recipient',
						name: 'side',
						type: 'options',
						options: [
							{ name: 'Referee (the Invited Friend)', value: 'referee' },
							{ name: 'Referrer (Who Shared)', value: 'referrer' },
						],
						default: 'referrer',
					},
					{
						displayName: 'On',
						name: 'on',
						type: 'options',
						options: [
							{ name: 'Referral Qualified', value: 'referral_qualified' },
							{ name: 'Referee Sign-Up', value: 'referee_signup' },
						],
						default: 'referral_qualified',
					},
					...rewardFields(VALUE_KINDS, 'points'),
					{
						displayName: 'Minimum Order Amount',
						name: 'minOrderAmount',
						type: 'number',
						default: 0,
						description: 'Orders below this earn nothing; 0 means any order',
					},
					{
						displayName: 'Rule Name',
						name: 'id',
						type: 'string',
						default: '',
						placeholder: 'e.g. referrer-points',
						description:
							'Shown as "rule" in the output; empty: recipient and reward, e.g. "referrer-points". Only a label: reordering, renaming or adding rules never pays a referral again, and a rule whose reward you change keeps what it already paid.',
					},
				],
			},
		],
	},
	{
		displayName: 'Milestones',
		name: 'milestones',
		type: 'fixedCollection',
		typeOptions: { multipleValues: true, sortable: true },
		placeholder: 'Add Milestone',
		default: {},
		description:
			'Rewards when a referrer reaches a number of qualified referrals (or of referred revenue)',
		options: [
			{
				displayName: 'Milestone',
				name: 'milestone',
				values: [
					{
						displayName: 'Counted On',
						name: 'metric',
						type: 'options',
						options: [
							{ name: 'Qualified Referrals', value: 'qualified_referrals' },
							{ name: 'Referred Revenue', value: 'referred_revenue' },
						],
						default: 'qualified_referrals',
					},
					{
						displayName: 'Threshold',
						name: 'threshold',
						type: 'number',
						default: 3,
						description: 'E.g. 3 for the third qualified referral.',
					},
					{
						displayName: 'Repeat Every',
						name: 'repeatEvery',
						type: 'number',
						default: 0,
						description: 'Fire again every N after the threshold; 0 means once',
					},
					...rewardFields(
						[
							...VALUE_KINDS,
							{ name: 'Badge', value: 'badge' },
							{ name: 'VIP Tier', value: 'tier' },
						],
						'coupon',
					),
					{
						displayName: 'Badge or Tier Name',
						name: 'name',
						type: 'string',
						default: '',
						placeholder: 'e.g. Gold',
						displayOptions: { show: { kind: ['badge', 'tier'] } },
					},
					whenBelowMinimumField({ kind: ['badge', 'tier'] }),
				],
			},
		],
	},
	{
		displayName: 'Badges and VIP Tiers',
		name: 'levels',
		type: 'fixedCollection',
		typeOptions: { multipleValues: true, sortable: true },
		placeholder: 'Add Level',
		default: {},
		description:
			'Levels such as Bronze, Silver, Gold from lifetime qualified referrals or points. A badge is held from its minimum; a tier is the highest level reached. When a refund takes the value below a minimum, When Below Minimum says whether it is lost.',
		options: [
			{
				displayName: 'Level',
				name: 'level',
				values: [
					{
						displayName: 'Award',
						name: 'award',
						type: 'options',
						options: [
							{ name: 'Badge', value: 'badge' },
							{ name: 'Badge and Tier', value: 'both' },
							{ name: 'VIP Tier', value: 'tier' },
						],
						default: 'both',
					},
					{
						displayName: 'From',
						name: 'metric',
						type: 'options',
						options: [
							{ name: 'Lifetime Points', value: 'points' },
							{ name: 'Lifetime Qualified Referrals', value: 'qualified_referrals' },
						],
						default: 'qualified_referrals',
					},
					{ displayName: 'Minimum', name: 'min', type: 'number', default: 10 },
					{
						displayName: 'Name',
						name: 'name',
						type: 'string',
						default: '',
						placeholder: 'e.g. Gold',
					},
					whenBelowMinimumField(),
				],
			},
		],
	},
	{
		displayName: 'Caps',
		name: 'caps',
		type: 'fixedCollection',
		typeOptions: { multipleValues: true },
		placeholder: 'Add Cap',
		default: {},
		description: 'Limits on what one referrer can earn per day, week, month or lifetime',
		options: [
			{
				displayName: 'Cap',
				name: 'cap',
				values: [
					{
						displayName: 'Limit',
						name: 'limit',
						type: 'options',
						options: [
							{ name: 'Number of Rewards', value: 'count' },
							{ name: 'Total Value', value: 'value' },
						],
						default: 'count',
					},
					{ displayName: 'Maximum', name: 'max', type: 'number', default: 10 },
					{
						displayName: 'Per',
						name: 'period',
						type: 'options',
						options: [
							{ name: 'Day', value: 'day' },
							{ name: 'Lifetime', value: 'lifetime' },
							{ name: 'Month', value: 'month' },
							{ name: 'Week', value: 'week' },
						],
						default: 'month',
					},
					{
						displayName: 'Unit',
						name: 'unit',
						type: 'string',
						default: 'points',
						description: '"points" or a currency such as EUR',
						displayOptions: { show: { limit: ['value'] } },
					},
				],
			},
		],
	},
	{
		displayName: 'Options',
		name: 'programOptions',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		options: [
			{
				displayName: 'Currency',
				name: 'currency',
				type: 'string',
				default: 'EUR',
				description: 'Currency of cash and coupon amounts without their own',
			},
			{
				displayName: 'Holding Period (Days)',
				name: 'holdingDays',
				type: 'number',
				default: 0,
				description:
					'Value rewards stay pending this many days after they are earned (the refund window); Approve Due Rewards releases them',
			},
			{
				displayName: 'Low-Stock Warning Below',
				name: 'lowStockThreshold',
				type: 'number',
				default: 10,
				description: 'Emit coupon.pool_low when a pool has fewer coupons left; 0 means never',
			},
			{
				displayName: 'Time Zone',
				name: 'timeZone',
				type: 'string',
				default: 'UTC',
				description: 'Day, week and month caps start at midnight here',
			},
		],
	},
];

/** Engine field names → the form's labels, for error messages. */
export const ruleFieldLabels: Record<string, string> = {
	points: 'Points',
	amount: 'Amount',
	percentOff: 'Percent Off',
	percentOfOrder: 'Percent of Order',
	currency: 'Currency',
	couponPoolId: 'Pool Name',
	couponPrefix: 'Code Prefix',
	couponValidDays: 'Valid for (Days)',
	customType: 'Custom Type',
	minOrderAmount: 'Minimum Order Amount',
	threshold: 'Threshold',
	repeatEvery: 'Repeat Every',
	min: 'Minimum',
	max: 'Maximum',
	maxCount: 'Maximum',
	maxValue: 'Maximum',
	unit: 'Unit',
	period: 'Per',
	name: 'Name',
	id: 'Rule Name',
	holdingDays: 'Holding Period (Days)',
	timeZone: 'Time Zone',
	lowStockThreshold: 'Low-Stock Warning Below',
	rules: 'Per-Referral Rewards',
	negativeBalancePolicy: 'Negative Balance',
};
