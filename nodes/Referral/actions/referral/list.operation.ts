import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import { limitProperty } from '../../../shared/fields';
import { parameterReader } from '../../../shared/parameters';
import { runPerItem } from '../../../shared/runner';
import { fieldLabels, serviceReader } from '../common';

const properties: INodeProperties[] = [
	limitProperty,
	{
		displayName: 'Filters',
		name: 'filters',
		type: 'collection',
		placeholder: 'Add Filter',
		default: {},
		options: [
			{
				displayName: 'After ID',
				name: 'afterId',
				type: 'number',
				default: 0,
				description: 'Only referrals with a larger ID (the last ID of the previous page)',
			},
			{ displayName: 'Referee ID', name: 'refereeId', type: 'number', default: 0 },
			{ displayName: 'Referrer ID', name: 'referrerId', type: 'number', default: 0 },
			{
				displayName: 'Since',
				name: 'since',
				type: 'dateTime',
				default: '',
				description: 'Referred at or after this time',
			},
			{
				displayName: 'Status',
				name: 'status',
				type: 'options',
				options: [
					{ name: 'Flagged', value: 'flagged' },
					{ name: 'Pending', value: 'pending' },
					{ name: 'Qualified', value: 'qualified' },
					{ name: 'Rejected', value: 'rejected' },
					{ name: 'Reversed', value: 'reversed' },
				],
				default: 'pending',
			},
			{
				displayName: 'Until',
				name: 'until',
				type: 'dateTime',
				default: '',
				description: 'Referred before this time',
			},
		],
	},
];

export const description = updateDisplayOptions(
	{ show: { resource: ['referral'], operation: ['list'] } },
	properties,
);

interface ListFilters {
	afterId?: number;
	refereeId?: number;
	referrerId?: number;
	since?: string;
	until?: string;
	status?: string;
}

/** Referrals by status, referrer, referee and time. */
export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	const { serviceFor } = await serviceReader(this);
	const limitFor = parameterReader<number>(this, 'limit', 50);
	const filtersFor = parameterReader<ListFilters>(this, 'filters', {});
	return await runPerItem(
		this,
		async (_item, itemIndex) => {
			const f = filtersFor(itemIndex);
			const rows = await (
				await serviceFor(itemIndex)
			).listReferrals({
				limit: limitFor(itemIndex),
				status: f.status || undefined,
				referrerId: f.referrerId || undefined,
				refereeId: f.refereeId || undefined,
				afterId: f.afterId || undefined,
				since: f.since || undefined,
				until: f.until || undefined,
			});
			return rows.map((referral) => ({ referral }));
		},
		fieldLabels,
	);
}
