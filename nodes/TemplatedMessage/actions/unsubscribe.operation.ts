import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { messageLedgerFrom, unsubscribe, type Channel, type MessageLedger } from '../../../engine/messaging';
import { ledgerFor } from '../../shared/ledger';
import { parameterReader } from '../../shared/parameters';
import { runPerItem } from '../../shared/runner';
import { subscriptionLabels, subscriptionReader } from './subscription';

export const description: INodeProperties[] = [
	{
		displayName: 'Reason',
		name: 'reason',
		type: 'string',
		default: 'unsubscribed',
		placeholder: 'e.g. unsubscribe link, replied STOP',
		description: 'Kept with the suppression; shown as the reason when a send is skipped',
		displayOptions: { show: { operation: ['unsubscribe'] } },
	},
];

/** Unsubscribe: adds the address to the suppression list; every later send to it is skipped. */
export async function execute(this: IExecuteFunctions, channel: Channel): Promise<INodeExecutionData[]> {
	const addressOf = subscriptionReader(this, channel);
	const reasonFor = parameterReader<string>(this, 'reason', 'unsubscribed');
	let ledger: MessageLedger | undefined;
	return await runPerItem(
		this,
		async (item, itemIndex) => {
			ledger ??= messageLedgerFrom(await ledgerFor(this));
			const result = await unsubscribe(ledger, { ...addressOf(item, itemIndex), reason: reasonFor(itemIndex) });
			return { ...item.json, subscription: result as unknown as IDataObject };
		},
		{ ...subscriptionLabels(channel), reason: 'Reason' },
	);
}
