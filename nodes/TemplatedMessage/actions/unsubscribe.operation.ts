import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { messageLedgerFrom, unsubscribe, unsubscribeWithLink, type Channel, type MessageLedger } from '../../../engine/messaging';
import { ledgerFor } from '../../shared/ledger';
import { linkSecretsReader } from '../../shared/linkSecret';
import { parameterReader, readField } from '../../shared/parameters';
import { runPerItem } from '../../shared/runner';
import { subscriptionLabels, subscriptionReader } from './subscription';

const fromLink = { show: { resource: ['email'], operation: ['unsubscribe'], signedLink: ['signed'] } };

export const description: INodeProperties[] = [
	{
		displayName: 'Address From',
		name: 'signedLink',
		type: 'options',
		options: [
			{ name: 'Email Field', value: 'plain', description: 'The address in an input field: for your own systems, never for a public page' },
			{
				name: 'Signed Unsubscribe Link',
				value: 'signed',
				description: 'The token of an unsubscribe link a commercial email carried (Sign Unsubscribe Link): it unsubscribes only the address it was made for',
			},
		],
		default: 'plain',
		displayOptions: { show: { resource: ['email'], operation: ['unsubscribe'] } },
	},
	{
		displayName: 'Unsubscribe Link Field',
		name: 'linkField',
		type: 'string',
		default: 'query.token',
		required: true,
		hint: 'The name of the input field holding the token of the link, not the token itself (a Webhook node puts ?token=… into query.token)',
		displayOptions: fromLink,
	},
	{
		displayName: 'Only Check the Link',
		name: 'checkOnly',
		type: 'boolean',
		default: false,
		description: 'Whether to only check the link and output the (masked) address it is for, changing nothing: for the confirmation page a GET shows, since mail scanners open links',
		displayOptions: fromLink,
	},
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
	const reasonFor = parameterReader<string>(this, 'reason', 'unsubscribed');
	let ledger: MessageLedger | undefined;
	if (channel === 'email' && this.getNodeParameter('signedLink', 0, 'plain') === 'signed') {
		const linkFieldFor = parameterReader<string>(this, 'linkField', 'query.token');
		const checkOnlyFor = parameterReader<boolean>(this, 'checkOnly', false);
		const secrets = linkSecretsReader(this);
		return await runPerItem(
			this,
			async (item, itemIndex) => {
				const linkSecrets = await secrets();
				ledger ??= messageLedgerFrom(await ledgerFor(this));
				const token = readField(item.json, linkFieldFor(itemIndex));
				const result = await unsubscribeWithLink(ledger, { token, secrets: linkSecrets, reason: reasonFor(itemIndex), checkOnly: checkOnlyFor(itemIndex) });
				return { ...item.json, subscription: result as unknown as IDataObject };
			},
			{ reason: 'Reason', token: 'Unsubscribe Link Field', linkSecret: 'Credential to connect with (Referral Link Secret)' },
		);
	}
	const addressOf = subscriptionReader(this, channel);
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
