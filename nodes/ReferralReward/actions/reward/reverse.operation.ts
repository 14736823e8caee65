import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import { ledgerFor } from '../../../shared/ledger';
import { runPerItem } from '../../../shared/runner';
import { programReader } from '../../../shared/program';
import { fieldLabels, referralProperties, referralReader } from '../fields';
import { rewardAccountFor } from '../rules';

/** The shared lookup fields of fields.ts, shown here by this operation alone. */
const own = (properties: INodeProperties[]) => properties.map(({ displayOptions: _shown, ...property }) => property);

const properties: INodeProperties[] = [
	...own(referralProperties),
	{
		displayName: 'Negative Balance',
		name: 'negativeBalancePolicy',
		type: 'options',
		options: [
			{ name: 'Allow Negative Balance', value: 'allow_negative', description: 'Take back all points; the participant owes the rest' },
			{ name: 'Clamp at Zero', value: 'clamp_at_zero', description: 'Take back what is left; the rest is reported as shortfall' },
			{ name: 'Refuse', value: 'refuse', description: 'Stop with an error and change nothing' },
		],
		default: 'allow_negative',
		description: 'What to do when the points to claw back exceed the balance (they were already spent)',
	},
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
