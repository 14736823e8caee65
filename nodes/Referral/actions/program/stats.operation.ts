import type {
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	INodeProperties,
} from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import type { CustomerRow } from '../../../../engine/referrals';
import { referralStats } from '../../../../engine/referrals';
import { runAggregate } from '../../../shared/aggregate';
import { yesNo } from '../../../shared/fields';
import { parameterReader, readField } from '../../../shared/parameters';
import { fieldLabels, serviceReader } from '../common';
import { periodProperties, readPeriod } from './period';

const properties: INodeProperties[] = [
	...periodProperties,
	{
		displayName: 'Compare With Other Customers',
		name: 'compareCustomers',
		type: 'boolean',
		default: false,
		description:
			'Whether the input items are customers (with a referred flag, revenue and retention) to compare referred with non-referred ones',
	},
	{
		displayName: 'Customer Fields',
		name: 'customerFields',
		type: 'collection',
		placeholder: 'Change Field Name',
		default: {},
		displayOptions: { show: { compareCustomers: [true] } },
		options: [
			{ displayName: 'Referred Field', name: 'referred', type: 'string', default: 'referred' },
			{ displayName: 'Retained Field', name: 'retained', type: 'string', default: 'retained' },
			{ displayName: 'Revenue Field', name: 'revenue', type: 'string', default: 'revenue' },
		],
	},
];

export const description = updateDisplayOptions(
	{ show: { resource: ['program'], operation: ['stats'] } },
	properties,
);

/** Funnel, referral and conversion rates, K-factor, referred revenue, time to convert, referral CAC: one item. */
export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	const { ledger } = await serviceReader(this);
	const { programId, period, at, timeZone } = readPeriod(this);
	const compare = parameterReader<boolean>(this, 'compareCustomers', false)(0);
	const names = {
		referred: 'referred',
		revenue: 'revenue',
		retained: 'retained',
		...parameterReader<IDataObject>(this, 'customerFields', {})(0),
	} as Record<string, string>;
	return await runAggregate(
		this,
		async (items) => {
			await ledger.ensureProgram({ id: programId });
			let customerRows: CustomerRow[] | undefined;
			if (compare) {
				customerRows = items.map((item) => {
					const revenue = readField(item.json, names.revenue);
					const retained = readField(item.json, names.retained);
					const row: CustomerRow = { referred: yesNo(readField(item.json, names.referred)) };
					if (typeof revenue === 'number' || (typeof revenue === 'string' && revenue !== ''))
						row.revenue = Number(revenue);
					if (typeof retained === 'boolean') row.retained = retained;
					return row;
				});
			}
			return {
				items: [
					{
						json: await referralStats(ledger, {
							programId,
							period,
							at,
							window: { timeZone },
							customerRows,
						}),
					},
				],
			};
		},
		fieldLabels,
	);
}
