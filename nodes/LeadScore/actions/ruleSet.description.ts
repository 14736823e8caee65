/* The rule form: Rules, Group Limits, Total, grade and level thresholds, Stages (Score Leads and Backtest). */
import type { INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

/** The rule form is shown for Score Leads and for Backtest (unless only the model is evaluated). */
const show = { show: { operation: ['scoreLeads', 'backtest'] }, hide: { evaluate: ['model'] } };
const showScoring = { show: { operation: ['scoreLeads'] } };

const TEXT_OPERATORS = ['equals', 'notEquals', 'contains', 'startsWith'];
export const CASE_OPERATORS = [...TEXT_OPERATORS, 'inList', 'regex'];

const ruleProperties: INodeProperties[] = [
	{
		displayName: 'Rules',
		name: 'rules',
		type: 'fixedCollection',
		typeOptions: { multipleValues: true, sortable: true },
		placeholder: 'Add Rule',
		default: {},
		description:
			'Each rule adds its points (or subtracts negative points) when the lead matches it',
		options: [
			{
				displayName: 'Rule',
				name: 'rule',
				// The form follows how a marketer writes a rule (field, operator, value, points, decay), not the alphabet.
				// eslint-disable-next-line n8n-nodes-base/node-param-fixed-collection-type-unsorted-items
				values: [
					{
						displayName: 'Name',
						name: 'name',
						type: 'string',
						default: '',
						placeholder: 'e.g. Viewed pricing page',
						description:
							'Shown in the explanation and in error messages; defaults to "Rule 1", "Rule 2" and so on',
					},
					{
						displayName: 'Group',
						name: 'group',
						type: 'options',
						options: [
							{
								name: 'Engagement',
								value: 'engagement',
								description: 'What the lead did; sets the engagement level (1–3)',
							},
							{
								name: 'Fit',
								value: 'fit',
								description: 'Who the lead is; sets the fit grade (A–F)',
							},
							{
								name: 'Other (Name It)',
								value: 'custom',
								description: 'A group of your own; counts in the total only',
							},
							{
								name: 'Referral',
								value: 'referral',
								description: 'Referrals made or received; counts as engagement',
							},
						],
						default: 'fit',
					},
					{
						displayName: 'Group Name',
						name: 'customGroup',
						type: 'string',
						default: '',
						placeholder: 'e.g. intent',
						displayOptions: { show: { group: ['custom'] } },
					},
					{
						displayName: 'Field',
						name: 'field',
						type: 'string',
						default: '',
						placeholder: 'e.g. company.employees',
						hint: 'The name of the lead field, not its value. Dots reach nested fields, [0] list positions.',
					},
					{
						displayName: 'Operator',
						name: 'operator',
						type: 'options',
						options: [
							{
								name: 'Contains',
								value: 'contains',
								description: 'Text contains the value; a list contains it as an item',
							},
							{ name: 'Does Not Equal', value: 'notEquals' },
							{ name: 'Equals', value: 'equals' },
							{
								name: 'Exists',
								value: 'exists',
								description: 'The field is present and not blank',
							},
							{
								name: 'Is Between',
								value: 'between',
								description: 'A number from Min to Max, both included',
							},
							{
								name: 'Is Empty',
								value: 'isEmpty',
								description: 'The field is missing, blank or an empty list',
							},
							{ name: 'Is Greater Than', value: 'greaterThan' },
							{ name: 'Is Less Than', value: 'lessThan' },
							{
								name: 'Is One Of',
								value: 'inList',
								description: 'Equals one of a comma-separated list of values',
							},
							{
								name: 'Is Within the Last Days',
								value: 'withinLastDays',
								description: 'A date no more than N days before the scoring time',
							},
							{
								name: 'Matches Regex',
								value: 'regex',
								description: 'A regular expression test on the text',
							},
							{ name: 'Starts With', value: 'startsWith' },
						],
						default: 'equals',
					},
					{
						displayName: 'Value',
						name: 'value',
						type: 'string',
						default: '',
						placeholder: 'e.g. saas',
						displayOptions: { show: { operator: TEXT_OPERATORS } },
					},
					{
						displayName: 'Value',
						name: 'number',
						type: 'number',
						default: 0,
						description: 'The number the field is compared with',
						displayOptions: { show: { operator: ['greaterThan', 'lessThan'] } },
					},
					{
						displayName: 'Values',
						name: 'values',
						type: 'string',
						default: '',
						placeholder: 'e.g. saas, fintech, ecommerce',
						description: 'Accepted values, separated by commas',
						displayOptions: { show: { operator: ['inList'] } },
					},
					{
						displayName: 'Pattern',
						name: 'pattern',
						type: 'string',
						default: '',
						placeholder: 'e.g. @(gmail|yahoo|hotmail)\\.',
						description: 'A JavaScript regular expression, without the slashes',
						displayOptions: { show: { operator: ['regex'] } },
					},
					{
						displayName: 'Min',
						name: 'min',
						type: 'number',
						default: 0,
						displayOptions: { show: { operator: ['between'] } },
					},
					{
						displayName: 'Max',
						name: 'max',
						type: 'number',
						default: 100,
						displayOptions: { show: { operator: ['between'] } },
					},
					{
						displayName: 'Days',
						name: 'days',
						type: 'number',
						typeOptions: { minValue: 0 },
						default: 30,
						description: 'How many days back from the scoring time the date may lie',
						displayOptions: { show: { operator: ['withinLastDays'] } },
					},
					{
						displayName: 'Case Sensitive',
						name: 'caseSensitive',
						type: 'boolean',
						default: false,
						description: 'Whether upper and lower case must match; by default "SaaS" equals "saas"',
						displayOptions: { show: { operator: CASE_OPERATORS } },
					},
					{
						displayName: 'Points',
						name: 'points',
						type: 'number',
						default: 10,
						description: 'Points added when the lead matches; negative to subtract',
					},
					{
						displayName: 'Decay',
						name: 'decay',
						type: 'options',
						options: [
							{
								name: 'Exponential (Half-Life)',
								value: 'exponential',
								description: 'Halve the points every half-life',
							},
							{
								name: 'Linear per Period',
								value: 'linear',
								description: 'Lose a percentage of the points per period, down to zero',
							},
							{ name: 'None', value: 'none', description: 'The points never fade' },
							{
								name: 'Time Window',
								value: 'window',
								description: 'Full points while the date is recent enough, none after',
							},
						],
						default: 'none',
						description: 'How the points fade as the date in Decay Date Field grows older',
					},
					{
						displayName: 'Decay Date Field',
						name: 'decayDateField',
						type: 'string',
						default: '',
						placeholder: 'e.g. lastVisitAt',
						hint: 'The lead field holding the date the points fade from. With "Is Within the Last Days" it may stay empty: the rule\'s own field is used.',
						displayOptions: { hide: { decay: ['none'] } },
					},
					{
						displayName: 'Window (Days)',
						name: 'windowDays',
						type: 'number',
						typeOptions: { minValue: 0 },
						default: 30,
						description: 'Full points while the date is at most this many days old',
						displayOptions: { show: { decay: ['window'] } },
					},
					{
						displayName: 'Percent Lost per Period',
						name: 'percentPerPeriod',
						type: 'number',
						typeOptions: { minValue: 0, maxValue: 100 },
						default: 50,
						displayOptions: { show: { decay: ['linear'] } },
					},
					{
						displayName: 'Period (Days)',
						name: 'periodDays',
						type: 'number',
						typeOptions: { minValue: 0 },
						default: 30,
						displayOptions: { show: { decay: ['linear'] } },
					},
					{
						displayName: 'Whole Periods Only',
						name: 'stepwise',
						type: 'boolean',
						default: true,
						description:
							'Whether points drop only when a whole period has passed (HubSpot style) instead of a little every day',
						displayOptions: { show: { decay: ['linear'] } },
					},
					{
						displayName: 'Half-Life (Days)',
						name: 'halfLifeDays',
						type: 'number',
						typeOptions: { minValue: 0 },
						default: 30,
						description: 'Days after which half of the points are left',
						displayOptions: { show: { decay: ['exponential'] } },
					},
					{
						displayName: 'If Input Is Bad',
						name: 'onBadInput',
						type: 'options',
						options: [
							{
								name: 'Skip the Rule',
								value: 'skip',
								description: 'The rule adds nothing; the explanation says why',
							},
							{
								name: 'Stop With an Error',
								value: 'error',
								description: 'Fail the item with a message naming the lead and the field',
							},
							{
								name: 'Treat as Zero',
								value: 'zero',
								description: 'Test the rule against 0 or empty text instead',
							},
						],
						default: 'skip',
						description:
							'What to do when the field is missing, not a number for a number operator, or not a date',
					},
				],
			},
		],
	},
	{
		displayName: 'Group Limits',
		name: 'groups',
		type: 'fixedCollection',
		typeOptions: { multipleValues: true },
		placeholder: 'Add Group Limit',
		default: {},
		description: 'Keep one group from drowning the others, e.g. engagement adds at most 40 points',
		options: [
			{
				displayName: 'Group',
				name: 'group',
				values: [
					{
						displayName: 'Group Name',
						name: 'name',
						type: 'string',
						default: 'engagement',
						placeholder: 'e.g. engagement',
						description: 'Fit, engagement, referral or the name of your own group',
					},
					{
						displayName: 'Counts Toward',
						name: 'dimension',
						type: 'options',
						options: [
							{
								name: 'Automatic',
								value: 'auto',
								description:
									'Fit for "fit"; engagement for "engagement" and "referral"; the total only otherwise',
							},
							{ name: 'Engagement Level', value: 'engagement' },
							{ name: 'Fit Grade', value: 'fit' },
							{ name: 'Total Only', value: 'none' },
						],
						default: 'auto',
					},
					{
						displayName: 'Minimum',
						name: 'min',
						type: 'string',
						default: '',
						placeholder: 'No minimum',
						description:
							'Fewest points the group adds to the total, e.g. -20; leave empty for no minimum',
					},
					{
						displayName: 'Maximum',
						name: 'max',
						type: 'string',
						default: '',
						placeholder: 'No maximum',
						description:
							'Most points the group adds to the total, e.g. 40; leave empty for no maximum',
					},
				],
			},
		],
	},
	{
		displayName: 'Total',
		name: 'total',
		type: 'collection',
		placeholder: 'Add Total Limit',
		default: {},
		description: 'Floor and cap of the total; without a floor setting the total never goes below 0',
		options: [
			{
				displayName: 'Cap',
				name: 'cap',
				type: 'number',
				default: 100,
				description: 'Highest total a lead can reach',
			},
			{
				displayName: 'Floor',
				name: 'floor',
				type: 'number',
				default: 0,
				description:
					'Lowest total, so decay and negative rules cannot bury a lead that comes back (default 0)',
			},
			{
				displayName: 'Normalize to 0–100',
				name: 'normalize',
				type: 'boolean',
				default: false,
				description: 'Whether to report the score as 0–100 between floor and cap (set a cap)',
			},
		],
	},
];

/** Grades, levels and stages: only Score Leads reports them. */
const gradeProperties: INodeProperties[] = [
	{
		displayName: 'Fit Grade Thresholds',
		name: 'fitGrades',
		type: 'collection',
		placeholder: 'Add Threshold',
		default: {},
		description:
			'Fewest fit points for each grade; below D is F. Unset grades start at 80/60/40/20 % of the most fit points a lead can earn.',
		options: [
			{ displayName: 'Grade A From', name: 'A', type: 'number', default: 80 },
			{ displayName: 'Grade B From', name: 'B', type: 'number', default: 60 },
			{ displayName: 'Grade C From', name: 'C', type: 'number', default: 40 },
			{ displayName: 'Grade D From', name: 'D', type: 'number', default: 20 },
		],
	},
	{
		displayName: 'Engagement Level Thresholds',
		name: 'engagementLevels',
		type: 'collection',
		placeholder: 'Add Threshold',
		default: {},
		description:
			'Fewest engagement points for level 1 (most engaged) and level 2; below is level 3. Unset levels start at 60/30 % of the most engagement points a lead can earn.',
		options: [
			{ displayName: 'Level 1 From', name: 'level1', type: 'number', default: 60 },
			{ displayName: 'Level 2 From', name: 'level2', type: 'number', default: 30 },
		],
	},
	{
		displayName: 'Stages',
		name: 'stages',
		type: 'fixedCollection',
		typeOptions: { multipleValues: true, sortable: true },
		placeholder: 'Add Stage',
		default: {
			stage: [
				{ name: 'cold', minScore: 0 },
				{ name: 'warm', minScore: 25 },
				{ name: 'MQL', minScore: 50 },
				{ name: 'SQL', minScore: 75 },
			],
		},
		description:
			'Stages from lowest to highest: a lead is in the highest stage whose minimum score it reaches',
		options: [
			{
				displayName: 'Stage',
				name: 'stage',
				values: [
					{
						displayName: 'Name',
						name: 'name',
						type: 'string',
						default: '',
						placeholder: 'e.g. MQL',
					},
					{ displayName: 'Minimum Score', name: 'minScore', type: 'number', default: 0 },
				],
			},
		],
	},
];

export const ruleSetProperties: INodeProperties[] = [
	...updateDisplayOptions(show, ruleProperties),
	...updateDisplayOptions(showScoring, gradeProperties),
];

/** Labels of the form fields, for error messages that point at the right place. */
export const ruleSetLabels: Record<string, string> = {
	rules: 'Rules',
	name: 'Rules › Name',
	group: 'Rules › Group',
	field: 'Rules › Field',
	operator: 'Rules › Operator',
	value: 'Rules › Value',
	values: 'Rules › Values',
	pattern: 'Rules › Pattern',
	flags: 'Rules › Pattern',
	min: 'Rules › Min or Group Limits › Minimum',
	max: 'Rules › Max or Group Limits › Maximum',
	days: 'Rules › Days or Window (Days)',
	points: 'Rules › Points',
	onBadInput: 'Rules › If Input Is Bad',
	'decay.kind': 'Rules › Decay',
	'decay.dateField': 'Rules › Decay Date Field',
	percentPerPeriod: 'Rules › Percent Lost per Period',
	periodDays: 'Rules › Period (Days)',
	halfLifeDays: 'Rules › Half-Life (Days)',
	groups: 'Group Limits',
	dimension: 'Group Limits › Counts Toward',
	floor: 'Total › Floor',
	cap: 'Total › Cap',
	normalize: 'Total › Normalize to 0–100',
	A: 'Fit Grade Thresholds',
	B: 'Fit Grade Thresholds',
	C: 'Fit Grade Thresholds',
	D: 'Fit Grade Thresholds',
	fitGrades: 'Fit Grade Thresholds',
	level1: 'Engagement Level Thresholds',
	level2: 'Engagement Level Thresholds',
	engagementLevels: 'Engagement Level Thresholds',
	stages: 'Stages',
	minScore: 'Stages › Minimum Score',
};
