import type {
	ICredentialDataDecryptedObject,
	IExecuteFunctions,
	INodeExecutionData,
	INodeProperties,
} from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import { EngineError } from '../../../../engine/shared/errors';
import { signWebhook, type WebhookSource } from '../../../../engine/webhooks/signatures';
import { parameterReader, readField } from '../../../shared/parameters';
import { runPerItem } from '../../../shared/runner';
import { SECRET_CREDENTIAL, secretsOf, signatureSourceProperty } from '../common';

const properties: INodeProperties[] = [
	signatureSourceProperty,
	{
		displayName: 'Body Field',
		name: 'signBodyField',
		type: 'string',
		default: 'body',
		description:
			'Name of the field holding what to send: an object is sent as its JSON text, text as it is',
	},
];

export const description = updateDisplayOptions({ show: { operation: ['sign'] } }, properties);

/** Signs a body as a sender would: the output's `body` text and `headers` go to an HTTP Request node unchanged. */
export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const sourceFor = parameterReader<WebhookSource>(this, 'source', 'referral');
	const fieldFor = parameterReader<string>(this, 'signBodyField', 'body');
	let secret: string | undefined;
	return [
		await runPerItem(
			this,
			async (item, itemIndex) => {
				secret ??= secretsOf(
					await this.getCredentials<ICredentialDataDecryptedObject>(SECRET_CREDENTIAL),
				)[0];
				if (!secret)
					throw new EngineError(
						'no_secret',
						'The Webhook Signing Secret credential has no secret.',
						{ field: 'credential' },
					);
				const value = readField(item.json, fieldFor(itemIndex));
				if (value === undefined || value === null)
					throw new EngineError('required', `${fieldFor(itemIndex)} is required`, {
						field: 'body',
						hint: `The item has no "${fieldFor(itemIndex)}" to sign: set Body Field`,
					});
				const body = typeof value === 'string' ? value : JSON.stringify(value);
				const { header, value: signature } = signWebhook({
					source: sourceFor(itemIndex),
					body,
					secret,
				});
				return { body, headers: { 'Content-Type': 'application/json', [header]: signature } };
			},
			{ body: 'Body Field', credential: 'Webhook Signing Secret credential' },
		),
	];
}
