import type {
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	INodeProperties,
} from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import type { MessageRecord } from '../../../../engine/ledger/store';
import {
	assertSegments,
	normalizePhoneNumber,
	normalizeSender,
	renderSms,
	type BuiltMessage,
	type OutgoingSms,
} from '../../../../engine/messaging';
import { EngineError } from '../../../../engine/shared/errors';
import { openSmsSender } from '../../transport';
import { smsContentReader } from '../content';
import { sendOwed, type OwedBuilder } from '../owed';
import { guardLimitOptions, programGuards, type GuardLimits } from './send.operation';

const displayOptions = { show: { resource: ['sms'], operation: ['sendOwed'] } };

/** SMS's part of the form: the same pumping guard as Send; Message Keys Field, Topic and the overdue sweep are in owed.ts. */
const properties: INodeProperties[] = [
	{
		displayName: 'Sign-up Abuse Guard',
		name: 'abuseGuard',
		type: 'boolean',
		default: true,
		description:
			"Whether to guard owed texts against SMS pumping (a sign-up form's welcome text), as Send SMS does: only to the program's SMS countries, never to premium-rate, shared-cost, UAN or unknown number types, and at most so many per number per day and per sign-up IP per hour. A refused text is not sent: it goes to the Skipped output with reason blocked or rate_limited and stays skipped in the ledger.",
	},
	{
		displayName: 'Guard',
		name: 'guard',
		type: 'collection',
		placeholder: 'Change Limit',
		default: {},
		displayOptions: { show: { abuseGuard: [true] } },
		options: guardLimitOptions('topic'),
	},
];

export const description = updateDisplayOptions(displayOptions, properties);

/** Each owed text rendered with this node's templates and the message's data, guarded unless the guard is off. */
function prepare(this: IExecuteFunctions): OwedBuilder<OutgoingSms> {
	// Owed texts (a welcome text) are about the program: the opt-out line goes with them unless the Opt-Out Line option says otherwise.
	const content = smsContentReader(this, { optOutByDefault: true });
	const fromParameter = this.getNodeParameter('smsFrom', 0, '') as string;
	let guard: OwedBuilder<OutgoingSms>['guard'];
	if (this.getNodeParameter('abuseGuard', 0, true) === true) {
		// The same guard as Send SMS; the per-IP limit counts the sign-up's IP (its keyed hash, kept with the text).
		const guards = programGuards(this, this.getNodeParameter('guard', 0, {}) as GuardLimits);
		guard = async (record) => {
			const ipHash = (record.data?.guard as { ipHash?: unknown } | undefined)?.ipHash;
			return {
				...(await guards(record.programId ?? 'default')),
				...(typeof ipHash === 'string' && ipHash !== '' ? { ip: ipHash } : {}),
			};
		};
	}
	const build = (record: MessageRecord): BuiltMessage<OutgoingSms> => {
		const input = content.content({ json: (record.data ?? {}) as IDataObject }, 0);
		const rendered = renderSms(input);
		if (rendered.text === '')
			throw new EngineError('empty_message', 'The SMS text is empty after rendering.', {
				field: 'SMS text',
			});
		assertSegments(rendered, rendered.maxSegments);
		const message: OutgoingSms = {
			from: normalizeSender(fromParameter, { field: 'from' }),
			to: normalizePhoneNumber(record.recipient, { field: 'to' }),
			text: rendered.text,
			encoding: rendered.encoding,
			segments: rendered.segments,
			idempotencyKey: record.idempotencyKey,
		};
		return {
			message,
			extra: {
				sms: {
					encoding: rendered.encoding,
					segments: rendered.segments,
					characters: rendered.characters,
				},
			},
		};
	};
	return { build, guard };
}

/** Send Owed Messages (SMS): the texts the ledger owes, each exactly once. */
export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	return await sendOwed.call(this, {
		channel: 'sms',
		open(timeoutMs) {
			return openSmsSender(this, this.getNodeParameter('smsProvider', 0, 'twilio'), timeoutMs);
		},
		prepare,
	});
}
