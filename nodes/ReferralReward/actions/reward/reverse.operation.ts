import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import { negativeBalanceProperty } from '../../../shared/fields';
import { ledgerFor } from '../../../shared/ledger';
import { runPerItem } from '../../../shared/runner';
import { programReader } from '../../../shared/program';
import { fieldLabels, referralProperties, referralReader } from '../fields';
import { rewardAccountFor } from '../rules';

const properties: INodeProperties[] = [
	...referralProperties,
	negativeBalanceProperty(
		'What to do when the points to claw back exceed the balance (they were already spent)',
		'Stop with an error and change nothing',
	),
];

export const description = updateDisplayOptions({ show: { operation: ['reverse'] } }, properties);

export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	const ledger = await ledgerFor(this);
	const programFor = programReader(this, ledger);
	const referralFor = referralReader(this, ledger);
	const serviceFor = rewardAccountFor(this, ledger);
	return await runPerItem(
		this,
		async (item, itemIndex) => {
			const program = await programFor(itemIndex);
			const referralId = await referralFor(item.json, itemIndex, program);
			const result = await serviceFor(program).reverseReferral(referralId);
			return { ...item.json, ...result };
		},
		fieldLabels,
	);
}
