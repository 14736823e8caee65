import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import { referralLeaderboard } from '../../../../engine/referrals';
import { runAggregate } from '../../../shared/aggregate';
import { parameterReader } from '../../../shared/parameters';
import { fieldLabels, serviceReader } from '../common';
import { periodProperties, readPeriod } from './period';

const properties: INodeProperties[] = [
	...periodProperties,
	{
		displayName: 'Rank By',
		name: 'rankBy',
		type: 'options',
		options: [
			{ name: 'Qualified Referrals', value: 'qualifiedReferrals' },
			{ name: 'Points', value: 'points' },
		],
		default: 'qualifiedReferrals',
	},
	{
		displayName: 'Top N',
		name: 'top',
		type: 'number',
		typeOptions: { minValue: 1 },
		default: 10,
		description: 'How many ranks to list; a tie at the cut-off lists everyone sharing the rank',
	},
];

export const description = updateDisplayOptions(
	{ show: { resource: ['program'], operation: ['leaderboard'] } },
	properties,
);

/** Top participants by qualified referrals or points in a period, with ranks: one item per rank holder. */
export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	const { ledger } = await serviceReader(this);
	const { programId, period, at, timeZone } = readPeriod(this);
	const by = parameterReader<'qualifiedReferrals' | 'points'>(
		this,
		'rankBy',
		'qualifiedReferrals',
	)(0);
	const limit = parameterReader<number>(this, 'top', 10)(0);
	return await runAggregate(
		this,
		async () => {
			await ledger.ensureProgram({ id: programId });
			const rows = await referralLeaderboard(ledger, {
				programId,
				by,
				period,
				at,
				window: { timeZone },
				limit,
			});
			return { items: rows.map((row) => ({ json: row })) };
		},
		{ ...fieldLabels, limit: 'Top N' },
	);
}
