/* Unsubscribe and Resubscribe, the same for email and SMS: the address is the item field, read on the channel's terms. */
import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import {
	messageLedgerFrom,
	resubscribe,
	unsubscribe,
	type Channel,
	type MessageLedger,
	type SubscriptionInput,
} from '../../../engine/messaging';
import { ledgerFor } from '../../shared/ledger';
import { parameterReader } from '../../shared/parameters';
import { inputSourceOf, type InputSource } from '../../shared/inputs';
import { emailInput, phoneInput, recipientReader } from './delivery';
import { runPerItem, type FieldLabels } from '../../shared/runner';

/** Unsubscribe's Reason, for both channels. */
export const reasonDescription: INodeProperties[] = updateDisplayOptions(
	{ show: { operation: ['unsubscribe'] } },
	[
		{
			displayName: 'Reason',
			name: 'reason',
			type: 'string',
			default: 'unsubscribed',
			placeholder: 'e.g. unsubscribe link, replied STOP',
			description: 'Kept with the suppression; shown as the reason when a send is skipped',
		},
	],
);

export function subscriptionReader(
	ctx: IExecuteFunctions,
	channel: Channel,
): (item: INodeExecutionData, itemIndex: number) => SubscriptionInput {
	const addressFor = recipientReader(
		ctx,
		channel === 'email' ? emailInput : phoneInput,
		inputSourceOf(ctx),
	);
	const countryFor = parameterReader<string>(ctx, 'defaultCountry', '');
	return (item, itemIndex) => ({
		channel,
		address: addressFor(itemIndex, item.json),
		defaultCountry: channel === 'sms' ? countryFor(itemIndex) || undefined : undefined,
	});
}

export function subscriptionLabels(channel: Channel, source: InputSource = 'fields'): FieldLabels {
	const values = source === 'values';
	return {
		address:
			channel === 'email' ? (values ? 'Email' : 'Email Field') : values ? 'Phone' : 'Phone Field',
		to: channel === 'email' ? 'Email' : 'Phone',
		defaultCountry: 'Default Country',
		channel: 'Resource',
	};
}

/** Unsubscribe by address: adds it to the suppression list; every later send to it is skipped. */
export async function unsubscribeAddresses(
	ctx: IExecuteFunctions,
	channel: Channel,
): Promise<INodeExecutionData[]> {
	const reasonFor = parameterReader<string>(ctx, 'reason', 'unsubscribed');
	const addressOf = subscriptionReader(ctx, channel);
	let ledger: MessageLedger | undefined;
	return await runPerItem(
		ctx,
		async (item, itemIndex) => {
			ledger ??= messageLedgerFrom(await ledgerFor(ctx));
			const result = await unsubscribe(ledger, {
				...addressOf(item, itemIndex),
				reason: reasonFor(itemIndex),
			});
			return { ...item.json, subscription: result };
		},
		{ ...subscriptionLabels(channel, inputSourceOf(ctx)), reason: 'Reason' },
	);
}

/** Resubscribe: removes the address from the suppression list (after a new, explicit opt-in). */
export async function resubscribeAddresses(
	ctx: IExecuteFunctions,
	channel: Channel,
): Promise<INodeExecutionData[]> {
	const addressOf = subscriptionReader(ctx, channel);
	let ledger: MessageLedger | undefined;
	return await runPerItem(
		ctx,
		async (item, itemIndex) => {
			ledger ??= messageLedgerFrom(await ledgerFor(ctx));
			const result = await resubscribe(ledger, addressOf(item, itemIndex));
			return { ...item.json, subscription: result };
		},
		subscriptionLabels(channel, inputSourceOf(ctx)),
	);
}
