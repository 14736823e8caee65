import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import { limitProperty } from '../../../shared/fields';
import { ledgerFor } from '../../../shared/ledger';
import { parameterReader } from '../../../shared/parameters';
import { runPerItem } from '../../../shared/runner';
import { programReader } from '../../../shared/program';
import { fieldLabels, participantProperties, participantReader } from '../fields';
import { rewardAccountFor } from '../rules';

const properties: INodeProperties[] = [...participantProperties(), limitProperty];

export const description = updateDisplayOptions(
	{ show: { operation: ['pointsHistory'] } },
	properties,
);

export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	const ledger = await ledgerFor(this);
	const programFor = programReader(this, ledger);
	const participantFor = participantReader(this, ledger);
	const serviceFor = rewardAccountFor(this, ledger);
	const limitFor = parameterReader<number>(this, 'limit', 50);
	return await runPerItem(
		this,
		async (item, itemIndex) => {
			const program = await programFor(itemIndex);
			const service = serviceFor(program);
			const participantId = await participantFor(item.json, itemIndex, program);
			const [status, entries] = await Promise.all([
				service.status(participantId),
				service.pointsHistory(participantId, { limit: limitFor(itemIndex) }),
			]);
			const history = entries.map((e) => ({
				id: e.id,
				points: e.delta,
				balanceAfter: e.balanceAfter,
				reason: e.reason,
				rewardId: e.rewardId,
				at: new Date(e.createdAt).toISOString(),
			}));
			return { ...item.json, participantId, points: status.points, history };
		},
		fieldLabels,
	);
}
