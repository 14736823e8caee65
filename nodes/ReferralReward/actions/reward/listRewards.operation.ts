import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import { limitProperty } from '../../../shared/fields';
import type { RewardStatus } from '../../../../engine/ledger';
import { ledgerFor } from '../../../shared/ledger';
import { parameterReader } from '../../../shared/parameters';
import { runPerItem } from '../../../shared/runner';
import { programReader } from '../../../shared/program';
import { fieldLabels, participantProperties, participantReader } from '../fields';
import { rewardAccountFor } from '../rules';

const properties: INodeProperties[] = [
	{
		displayName: 'For',
		name: 'listFor',
		type: 'options',
		options: [
			{ name: 'All Participants', value: 'all' },
			{ name: 'One Participant', value: 'participant' },
		],
		default: 'all',
	},
	// A participant only when listing one participant's rewards.
	...participantProperties().map((property) => ({
		...property,
		displayOptions: { show: { listFor: ['participant'] } },
	})),
	{
		displayName: 'Status',
		name: 'status',
		type: 'options',
		options: [
			{ name: 'Any', value: '' },
			{ name: 'Approved', value: 'approved' },
			{ name: 'Fulfilled', value: 'fulfilled' },
			{ name: 'Pending', value: 'pending' },
			{ name: 'Reversed', value: 'reversed' },
		],
		default: '',
	},
	limitProperty,
];

export const description = updateDisplayOptions(
	{ show: { operation: ['listRewards'] } },
	properties,
);

/** One output item per reward. */
export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	const ledger = await ledgerFor(this);
	const programFor = programReader(this, ledger);
	const participantFor = participantReader(this, ledger);
	const serviceFor = rewardAccountFor(this, ledger);
	const forFor = parameterReader<string>(this, 'listFor', 'all');
	const statusFor = parameterReader<string>(this, 'status', '');
	const limitFor = parameterReader<number>(this, 'limit', 50);
	return await runPerItem(
		this,
		async (item, itemIndex) => {
			const program = await programFor(itemIndex);
			const recipientId =
				forFor(itemIndex) === 'participant'
					? await participantFor(item.json, itemIndex, program)
					: undefined;
			const status = statusFor(itemIndex);
			const rewards = await serviceFor(program).listRewards({
				...(recipientId !== undefined ? { recipientId } : {}),
				...(status ? { status: status as RewardStatus } : {}),
				limit: limitFor(itemIndex),
			});
			return rewards;
		},
		fieldLabels,
	);
}
