import type {
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	INodeProperties,
} from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import type { MessageRecord } from '../../../../engine/ledger/store';
import {
	assembleEmail,
	renderEmail,
	type BuiltMessage,
	type OutgoingEmail,
} from '../../../../engine/messaging';
import { participantLink } from '../../../../engine/shared/links';
import { linkSecretsReader, statusPageUrlProperty } from '../../../shared/linkSecret';
import { openEmailSender } from '../../transport';
import { emailContentReader } from '../content';
import { customHeaders } from '../delivery';
import { sendOwed, type OwedBuilder } from '../owed';

const displayOptions = { show: { resource: ['email'], operation: ['sendOwed'] } };

/** Email's part of the form; Message Keys Field, Topic and the overdue sweep are in owed.ts. */
const properties: INodeProperties[] = [
	{
		displayName: 'Private Status Link',
		name: 'signedLink',
		type: 'options',
		options: [
			{ name: 'None', value: 'plain' },
			{
				name: 'Signed for Each Participant',
				value: 'signed',
				description:
					"Adds the private status link (privateLink, the participant's own status page, signed with the Referral Link Secret credential) to each message's data, e.g. for a welcome email",
			},
		],
		default: 'plain',
	},
	statusPageUrlProperty({ show: { signedLink: ['signed'] } }),
	{
		displayName: 'Link Valid For (Days)',
		name: 'linkValidDays',
		type: 'number',
		typeOptions: { minValue: 1, maxValue: 366 },
		default: 30,
		displayOptions: { show: { signedLink: ['signed'] } },
	},
];

export const description = updateDisplayOptions(displayOptions, properties);

/** Each owed email rendered with this node's templates and the message's data (plus a private status link when asked). */
async function prepare(
	this: IExecuteFunctions,
	options: IDataObject,
): Promise<OwedBuilder<OutgoingEmail>> {
	const content = emailContentReader(this);
	// A private status link for the message's participant, signed now (data stays as the ledger holds it).
	let withLink = (data: IDataObject, _record: MessageRecord): IDataObject => data;
	if (this.getNodeParameter('signedLink', 0, 'plain') === 'signed') {
		const secrets = await linkSecretsReader(this)();
		const baseUrl = this.getNodeParameter('linkBaseUrl', 0, '');
		const validDays = this.getNodeParameter('linkValidDays', 0, 30);
		withLink = (data, record) =>
			record.participantId === null || record.programId === null
				? data
				: {
						...data,
						privateLink: participantLink({
							baseUrl,
							programId: record.programId,
							participantId: record.participantId,
							secrets,
							validDays,
						}),
					};
	}
	const from = this.getNodeParameter('from', 0, '') as string;
	const replyTo =
		typeof options.replyTo === 'string' && options.replyTo.trim() !== ''
			? options.replyTo
			: undefined;
	const headers = customHeaders(options);
	const build = (record: MessageRecord): BuiltMessage<OutgoingEmail> => {
		const input = {
			...content.content({ json: withLink((record.data ?? {}) as IDataObject, record) }, 0),
			from,
			to: record.recipient,
			replyTo,
			headers,
		};
		const rendered = renderEmail(input);
		const message = assembleEmail(input, rendered, { idempotencyKey: record.idempotencyKey });
		message.idempotencyKey = record.idempotencyKey;
		return {
			message,
			extra: {
				subject: message.subject,
				...(rendered.warnings.length > 0 ? { warnings: rendered.warnings } : {}),
			},
		};
	};
	return { build };
}

/** Send Owed Messages (email): the emails the ledger owes, each exactly once. */
export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	return await sendOwed.call(this, {
		channel: 'email',
		open(timeoutMs, parallel) {
			return openEmailSender(
				this,
				this.getNodeParameter('emailProvider', 0, 'smtp'),
				timeoutMs,
				parallel,
			);
		},
		prepare,
	});
}
