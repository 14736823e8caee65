import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import {
	messageLedgerFrom,
	unsubscribeWithLink,
	type MessageLedger,
} from '../../../../engine/messaging';
import { ledgerFor } from '../../../shared/ledger';
import { linkSecretsReader } from '../../../shared/linkSecret';
import { parameterReader } from '../../../shared/parameters';
import {
	inputProperties,
	inputReader,
	inputSourceOf,
	type InputParameter,
} from '../../../shared/inputs';
import { runPerItem } from '../../../shared/runner';
import { unsubscribeAddresses } from '../subscription';

const displayOptions = { show: { resource: ['email'], operation: ['unsubscribe'] } };
const fromLink = { show: { signedLink: ['signed'] } };

const linkInput: InputParameter = {
	field: {
		displayName: 'Unsubscribe Link Field',
		name: 'linkField',
		type: 'string',
		default: 'query.token',
		required: true,
		hint: 'The name of the input field holding the token of the link, not the token itself (a Webhook node puts ?token=… into query.token)',
		displayOptions: fromLink,
	},
	value: {
		name: 'token',
		displayName: 'Unsubscribe Link Token',
		holding: 'the token of the unsubscribe link (its ?token=… part)',
	},
};

const properties: INodeProperties[] = [
	{
		displayName: 'Address From',
		name: 'signedLink',
		type: 'options',
		options: [
			{
				name: 'Email Field',
				value: 'plain',
				description: 'The address in an input field: for your own systems, never for a public page',
			},
			{
				name: 'Signed Unsubscribe Link',
				value: 'signed',
				description:
					'The token of an unsubscribe link a commercial email carried (Sign Unsubscribe Link): it unsubscribes only the address it was made for',
			},
		],
		default: 'plain',
	},
	...inputProperties(linkInput),
	{
		displayName: 'Only Check the Link',
		name: 'checkOnly',
		type: 'boolean',
		default: false,
		description:
			'Whether to only check the link and output the (masked) address it is for, changing nothing: for the confirmation page a GET shows, since mail scanners open links',
		displayOptions: fromLink,
	},
];

export const description = updateDisplayOptions(displayOptions, properties);

/** Unsubscribe (email): by the address in a field, or by the signed unsubscribe link the email carried. */
export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	if (this.getNodeParameter('signedLink', 0, 'plain') !== 'signed')
		return await unsubscribeAddresses(this, 'email');
	const reasonFor = parameterReader<string>(this, 'reason', 'unsubscribed');
	const source = inputSourceOf(this);
	const tokenFor = inputReader(this, linkInput, source);
	const checkOnlyFor = parameterReader<boolean>(this, 'checkOnly', false);
	const secrets = linkSecretsReader(this);
	let ledger: MessageLedger | undefined;
	return await runPerItem(
		this,
		async (item, itemIndex) => {
			const linkSecrets = await secrets();
			ledger ??= messageLedgerFrom(await ledgerFor(this));
			const token = tokenFor(itemIndex, item.json);
			const result = await unsubscribeWithLink(ledger, {
				token,
				secrets: linkSecrets,
				reason: reasonFor(itemIndex),
				checkOnly: checkOnlyFor(itemIndex),
			});
			return { ...item.json, subscription: result };
		},
		{
			reason: 'Reason',
			token: source === 'values' ? 'Unsubscribe Link Token' : 'Unsubscribe Link Field',
			linkSecret: 'Credential to connect with (Referral Link Secret)',
		},
	);
}
