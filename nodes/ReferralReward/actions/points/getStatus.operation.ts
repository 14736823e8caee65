import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import { ledgerFor } from '../../../shared/ledger';
import { runPerItem } from '../../../shared/runner';
import { programReader } from '../../../shared/program';
import { fieldLabels, participantProperties, participantReader } from '../fields';
import { rewardAccountFor } from '../rules';

export const description = updateDisplayOptions(
	{ show: { operation: ['getStatus'] } },
	participantProperties(),
);

/** Points balance, current tier, badges and qualified referrals: what a participant status webhook returns. */
export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	const ledger = await ledgerFor(this);
	const programFor = programReader(this, ledger);
	const participantFor = participantReader(this, ledger);
	const serviceFor = rewardAccountFor(this, ledger);
	return await runPerItem(
		this,
		async (item, itemIndex) => {
			const program = await programFor(itemIndex);
			const participantId = await participantFor(item.json, itemIndex, program);
			return { ...item.json, ...(await serviceFor(program).status(participantId)) };
		},
		fieldLabels,
	);
}
