import type { IDataObject, IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { messageLedgerFrom, resubscribe, type Channel, type MessageLedger } from '../../../engine/messaging';
import { ledgerFor } from '../../shared/ledger';
import { runPerItem } from '../../shared/runner';
import { subscriptionLabels, subscriptionReader } from './subscription';

/** Resubscribe: removes the address from the suppression list (after a new, explicit opt-in). */
export async function execute(this: IExecuteFunctions, channel: Channel): Promise<INodeExecutionData[]> {
	const addressOf = subscriptionReader(this, channel);
	let ledger: MessageLedger | undefined;
	return await runPerItem(
		this,
		async (item, itemIndex) => {
			ledger ??= messageLedgerFrom(await ledgerFor(this));
			const result = await resubscribe(ledger, addressOf(item, itemIndex));
			return { ...item.json, subscription: result as unknown as IDataObject };
		},
		subscriptionLabels(channel),
	);
}
