import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { NodeOperationError, updateDisplayOptions } from 'n8n-workflow';
import { DAY_MS } from '../../../../engine/shared/time';
import { runAggregate } from '../../../shared/aggregate';
import { ledgerFor } from '../../../shared/ledger';
import { parameterReader } from '../../../shared/parameters';
import type { ToolUse } from '../../../shared/tool';

/** The shortest retention the node accepts: replays of the last week must still answer like the first request. */
export const MIN_RETENTION_DAYS = 7;

const properties: INodeProperties[] = [
	{
		displayName:
			'Exactly-once holds inside the retention: a message, answer or event older than it is forgotten, so a replay older than that runs again. Money (referrals, rewards, points, coupons, orders) is never pruned.',
		name: 'pruneNotice',
		type: 'notice',
		default: '',
	},
	{
		displayName: 'Keep For (Days)',
		name: 'retentionDays',
		type: 'number',
		typeOptions: { minValue: MIN_RETENTION_DAYS, numberPrecision: 0 },
		default: 90,
		description: `Records younger than this many days stay. At least ${MIN_RETENTION_DAYS}: providers and shops retry webhooks for up to 3 days.`,
	},
];

export const description = updateDisplayOptions(
	{ show: { resource: ['ledger'], operation: ['prune'] } },
	properties,
);

export const toolUse: ToolUse = {
	refuse: 'it deletes old ledger records; run it from a scheduled workflow',
};

/** Prunes the whole ledger once per execution, whatever the number of input items: one summary item. */
export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	const ledger = await ledgerFor(this);
	const days = parameterReader<number>(this, 'retentionDays', 90)(0);
	return await runAggregate(
		this,
		async () => {
			if (!Number.isInteger(days) || days < MIN_RETENTION_DAYS) {
				throw new NodeOperationError(
					this.getNode(),
					`Keep For (Days) is ${String(days)}: use a whole number of days, at least ${MIN_RETENTION_DAYS}`,
					{
						description:
							'Replays and retried deliveries inside the retention must still find their records.',
					},
				);
			}
			const result = await ledger.pruneLedger({ before: Date.now() - days * DAY_MS });
			return {
				items: [
					{
						json: {
							retentionDays: days,
							prunedBefore: new Date(result.before).toISOString(),
							pruned: {
								messages: result.messages,
								events: result.events,
								idempotencyKeys: result.idempotencyKeys,
							},
						},
					},
				],
			};
		},
		{ before: 'Keep For (Days)' },
	);
}
