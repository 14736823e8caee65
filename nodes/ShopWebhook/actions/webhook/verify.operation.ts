import type {
	ICredentialDataDecryptedObject,
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	INodeProperties,
} from 'n8n-workflow';
import { NodeOperationError, updateDisplayOptions } from 'n8n-workflow';
import { EngineError } from '../../../../engine/shared/errors';
import { MAX_BODY_BYTES, parseFormBody, parseJsonBody } from '../../../../engine/webhooks/body';
import { verifyDelivery } from '../../../../engine/webhooks/replay';
import {
	DEFAULT_TOLERANCE_SECONDS,
	headerValue,
	type WebhookSource,
} from '../../../../engine/webhooks/signatures';
import { ledgerFor, ledgerNotice } from '../../../shared/ledger';
import { parameterReader, readField } from '../../../shared/parameters';
import { runPerItemRouted } from '../../../shared/runner';
import {
	headersFieldProperty,
	SECRET_CREDENTIAL,
	secretsOf,
	signatureSourceProperty,
} from '../common';

export const VERIFIED = 0;
export const REJECTED = 1;

const properties: INodeProperties[] = [
	signatureSourceProperty,
	ledgerNotice,
	{
		displayName:
			'Turn on <b>Raw Body</b> in the Webhook node\'s options: a signature covers the bytes as sent, and a re-serialised body never matches. Rejected requests come out of the second output with error.field "signature"; answer them 401 and write nothing.',
		name: 'verifyNotice',
		type: 'notice',
		default: '',
	},
	{
		displayName: 'Raw Body Field',
		name: 'binaryProperty',
		type: 'string',
		default: 'data',
		description:
			'Name of the binary field holding the raw request body (the Webhook node\'s Raw Body option puts it in "data")',
	},
	headersFieldProperty,
	{
		displayName: 'Tolerance (Seconds)',
		name: 'toleranceSeconds',
		type: 'number',
		typeOptions: { minValue: 1, maxValue: 86400 },
		default: DEFAULT_TOLERANCE_SECONDS,
		description:
			'How far the signed time may be from now (referral, Stripe, Paddle). Shopify and WooCommerce sign no time: for them this is how long an accepted signature is remembered as used.',
	},
	{
		displayName: 'Reject Replays',
		name: 'rejectReplays',
		type: 'boolean',
		default: true,
		description:
			'Whether a signature already accepted once is refused (remembered in the referral ledger, so it holds across queue-mode workers)',
	},
];

export const description = updateDisplayOptions({ show: { operation: ['verify'] } }, properties);

function bodyAsData(raw: Buffer, headers: Record<string, unknown>): unknown {
	const json = parseJsonBody(raw);
	if (json !== undefined) return json;
	const type = headerValue(headers, 'content-type') ?? '';
	if (type.includes('application/x-www-form-urlencoded')) return parseFormBody(raw);
	return raw.toString('utf8');
}

export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const sourceFor = parameterReader<WebhookSource>(this, 'source', 'referral');
	const binaryFor = parameterReader<string>(this, 'binaryProperty', 'data');
	const headersFieldFor = parameterReader<string>(this, 'headersField', 'headers');
	const toleranceFor = parameterReader<number>(this, 'toleranceSeconds', DEFAULT_TOLERANCE_SECONDS);
	const rejectReplaysFor = parameterReader<boolean>(this, 'rejectReplays', true);
	let secrets: string[] | undefined;
	const items = this.getInputData();
	const outputs = await runPerItemRouted(
		this,
		2,
		async (item, itemIndex) => {
			secrets ??= secretsOf(
				await this.getCredentials<ICredentialDataDecryptedObject>(SECRET_CREDENTIAL),
			);
			const binaryProperty = binaryFor(itemIndex);
			if (!item.binary?.[binaryProperty]) {
				throw new NodeOperationError(
					this.getNode(),
					`The item has no raw body in the binary field "${binaryProperty}" [item ${itemIndex}]`,
					{
						itemIndex,
						description:
							"Turn on Raw Body in the Webhook node's options (Add Option › Raw Body), or set Raw Body Field to the binary field that holds it.",
					},
				);
			}
			const raw = await this.helpers.getBinaryDataBuffer(itemIndex, binaryProperty);
			const headers = readField(item.json, headersFieldFor(itemIndex));
			const headerObject =
				headers !== null && typeof headers === 'object' ? (headers as Record<string, unknown>) : {};
			const source = sourceFor(itemIndex);
			const reject = (code: string, message: string) => ({
				output: REJECTED,
				json: { error: { message, field: 'signature', code, source } } as IDataObject,
			});
			if (raw.length > MAX_BODY_BYTES)
				return reject('body_too_large', `The body is larger than ${MAX_BODY_BYTES} bytes.`);
			const rejectReplays = rejectReplaysFor(itemIndex);
			const result = await verifyDelivery({
				source,
				rawBody: raw,
				headers: headerObject,
				secrets,
				toleranceSeconds: toleranceFor(itemIndex),
				rejectReplays,
				ledger: rejectReplays ? await ledgerFor(this) : undefined,
			});
			if (!result.ok) {
				if (result.reason === 'no_secret')
					throw new EngineError('no_secret', result.message, { field: 'credential' });
				return reject(result.reason, result.message);
			}
			// The body downstream is the one that was signed, parsed from its bytes.
			return {
				output: VERIFIED,
				json: {
					...item.json,
					body: bodyAsData(raw, headerObject) as IDataObject,
					signature: {
						verified: true,
						source,
						timestamp:
							result.timestamp === null ? null : new Date(result.timestamp * 1000).toISOString(),
						secret: result.secretIndex === 0 ? 'current' : 'previous',
					},
				},
			};
		},
		{ errorOutput: REJECTED, fieldLabels: { credential: 'Webhook Signing Secret credential' } },
	);
	// Verified items keep the request's binary (the raw body), for nodes that need the bytes.
	for (const out of outputs[VERIFIED]) {
		const index = (out.pairedItem as { item: number }).item;
		if (items[index].binary) out.binary = items[index].binary;
	}
	return outputs;
}
