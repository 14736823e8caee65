import type { IDataObject, IExecuteFunctions, INodeProperties } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';
import { isEngineError } from '../../../engine/shared/errors';
import type { LedgerStore } from '../../../engine/ledger';
import type {
	NegativeBalancePolicy,
	RewardCap,
	RewardProgramConfig,
	RewardRule,
	RewardSpec,
	StatusRule,
} from '../../../engine/rewards';
import { RewardAccount, RewardService, type RewardServiceOptions } from '../../../engine/rewards';

/** The reward rules form: what the Evaluate and Award operation asks. */

const evaluate = { show: { operation: ['evaluate'] } };

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
		displayOptions: evaluate,
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
		displayOptions: evaluate,
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
		displayOptions: evaluate,
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
		displayOptions: evaluate,
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
		displayOptions: evaluate,
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

const present = (v: unknown) => v !== undefined && v !== null && v !== '';

function rewardSpec(entry: IDataObject): RewardSpec {
	const spec: Record<string, unknown> = { kind: entry.kind };
	if (entry.kind === 'points') spec.points = entry.points;
	if (entry.kind === 'cash') {
		if (entry.cashAmountType === 'percentOfOrder') spec.percentOfOrder = entry.percentOfOrder;
		else spec.amount = entry.amount;
	}
	if (entry.kind === 'coupon') {
		if ((entry.amountType ?? 'amount') === 'amount') spec.amount = entry.amount;
		else spec.percentOff = entry.percentOff;
		spec.couponSource = entry.couponSource ?? 'generate';
		if (spec.couponSource === 'pool') spec.couponPoolId = entry.couponPoolId;
		else if (present(entry.couponPrefix)) spec.couponPrefix = entry.couponPrefix;
		if (typeof entry.couponValidDays === 'number' && entry.couponValidDays !== 0)
			spec.couponValidDays = entry.couponValidDays;
	}
	if (entry.kind === 'custom') {
		spec.customType = entry.customType;
		if (present(entry.customValue)) spec.customValue = entry.customValue;
	}
	if ((entry.kind === 'cash' || entry.kind === 'coupon') && present(entry.currency))
		spec.currency = entry.currency;
	return spec as unknown as RewardSpec;
}

/** Turns the form into the engine's reward program (validated by the service). */
export function programFromForm(
	programId: string,
	form: {
		perReferral?: IDataObject;
		milestones?: IDataObject;
		levels?: IDataObject;
		caps?: IDataObject;
		programOptions?: IDataObject;
	},
): RewardProgramConfig {
	const options = form.programOptions ?? {};
	const rules: RewardRule[] = [];
	// Rule Name is a label, passed as typed: the engine names unnamed rules and decides each rule's identity (engine/rewards/identity.ts).
	for (const entry of (form.perReferral?.rewards as IDataObject[] | undefined) ?? []) {
		const id = typeof entry.id === 'number' ? String(entry.id) : entry.id;
		const rule: Record<string, unknown> = {
			...(id !== undefined ? { id } : {}),
			type: 'per_referral',
			side: entry.side ?? 'referrer',
			on: entry.on ?? 'referral_qualified',
			reward: rewardSpec(entry),
		};
		if (typeof entry.minOrderAmount === 'number' && entry.minOrderAmount !== 0)
			rule.minOrderAmount = entry.minOrderAmount;
		rules.push(rule as unknown as RewardRule);
	}
	// One milestone rule per metric, so the engine sees (and refuses) milestones that would fire together.
	const byMetric = new Map<string, Record<string, unknown>[]>();
	for (const entry of (form.milestones?.milestone as IDataObject[] | undefined) ?? []) {
		const metric = String(entry.metric ?? 'qualified_referrals');
		const m: Record<string, unknown> = { threshold: entry.threshold };
		if (typeof entry.repeatEvery === 'number' && entry.repeatEvery !== 0)
			m.repeatEvery = entry.repeatEvery;
		if (entry.kind === 'badge') m.badge = entry.name;
		else if (entry.kind === 'tier') m.tier = entry.name;
		else m.reward = rewardSpec(entry);
		if ((entry.kind === 'badge' || entry.kind === 'tier') && present(entry.whenBelowMinimum))
			m.whenBelowMinimum = entry.whenBelowMinimum;
		byMetric.set(metric, [...(byMetric.get(metric) ?? []), m]);
	}
	for (const [metric, milestones] of byMetric) {
		rules.push({ type: 'milestone', metric, milestones } as unknown as RewardRule);
	}
	const statusRules = new Map<string, StatusRule>();
	for (const entry of (form.levels?.level as IDataObject[] | undefined) ?? []) {
		const awards =
			entry.award === 'both' || entry.award === undefined
				? ['badge', 'tier']
				: [String(entry.award)];
		const metric = String(entry.metric ?? 'qualified_referrals') as StatusRule['metric'];
		for (const award of awards) {
			const group = `${award}:${metric}`;
			let rule = statusRules.get(group);
			if (!rule) {
				rule = {
					type: 'status',
					award: award as StatusRule['award'],
					metric,
					levels: [],
				} as unknown as StatusRule;
				statusRules.set(group, rule);
			}
			rule.levels.push({
				name: entry.name as string,
				min: entry.min as number,
				...(present(entry.whenBelowMinimum)
					? { whenBelowMinimum: entry.whenBelowMinimum as 'demote' | 'keep' }
					: {}),
			});
		}
	}
	rules.push(...statusRules.values());
	const caps: RewardCap[] = ((form.caps?.cap as IDataObject[] | undefined) ?? []).map((entry) => {
		const cap: Record<string, unknown> = { period: entry.period ?? 'month' };
		if ((entry.limit ?? 'count') === 'count') cap.maxCount = entry.max;
		else {
			cap.maxValue = entry.max;
			cap.unit = present(entry.unit) ? entry.unit : 'points';
		}
		return cap as unknown as RewardCap;
	});
	const program: Record<string, unknown> = { programId, rules, caps };
	if (present(options.currency)) program.currency = options.currency;
	if (options.holdingDays !== undefined) program.holdingDays = options.holdingDays;
	if (present(options.timeZone)) program.timeZone = options.timeZone;
	return program as unknown as RewardProgramConfig;
}

/** A reward configuration mistake as the node reports it: naming the rule and the form field. */
function rulesError(ctx: IExecuteFunctions, error: unknown): NodeOperationError {
	if (!isEngineError(error)) return new NodeOperationError(ctx.getNode(), error as Error);
	const label = error.field ? (ruleFieldLabels[error.field] ?? error.field) : undefined;
	return new NodeOperationError(ctx.getNode(), `Reward rules: ${error.message}`, {
		description: label ? `Check "${label}" in the reward rules.` : undefined,
	});
}

/** One instance per program for this execution. */
function perProgram<T>(make: (programId: string) => T): (programId: string) => T {
	const made = new Map<string, T>();
	return (programId) => {
		let instance = made.get(programId);
		if (instance === undefined) {
			instance = make(programId);
			made.set(programId, instance);
		}
		return instance;
	};
}

/**
 * The reward service for this execution (Evaluate and Award): the form is read and validated once,
 * and a mistake (a negative amount, overlapping tiers, a cap of zero) stops the node naming the rule and field.
 */
export function rewardServiceFor(
	ctx: IExecuteFunctions,
	ledger: LedgerStore,
	extra: RewardServiceOptions = {},
): (programId: string) => RewardService {
	const policy = ctx.getNodeParameter(
		'negativeBalancePolicy',
		0,
		'allow_negative',
	) as NegativeBalancePolicy;
	const form = {
		perReferral: ctx.getNodeParameter('perReferral', 0, {}) as IDataObject,
		milestones: ctx.getNodeParameter('milestones', 0, {}) as IDataObject,
		levels: ctx.getNodeParameter('levels', 0, {}) as IDataObject,
		caps: ctx.getNodeParameter('caps', 0, {}) as IDataObject,
		programOptions: ctx.getNodeParameter('programOptions', 0, {}) as IDataObject,
	};
	const lowStock = form.programOptions.lowStockThreshold;
	return perProgram((programId) => {
		try {
			return new RewardService(ledger, programFromForm(programId, form), {
				negativeBalancePolicy: policy,
				...(typeof lowStock === 'number' ? { lowStockThreshold: lowStock } : {}),
				...extra,
			});
		} catch (error) {
			throw rulesError(ctx, error);
		}
	});
}

/** The reward accounts for this execution, for the operations that need no rules (approve, reverse, status, …). */
export function rewardAccountFor(
	ctx: IExecuteFunctions,
	ledger: LedgerStore,
): (programId: string) => RewardAccount {
	const policy = ctx.getNodeParameter(
		'negativeBalancePolicy',
		0,
		'allow_negative',
	) as NegativeBalancePolicy;
	return perProgram((programId) => {
		try {
			return new RewardAccount(ledger, programId, { negativeBalancePolicy: policy });
		} catch (error) {
			throw rulesError(ctx, error);
		}
	});
}
