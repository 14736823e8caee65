/* Send Owed Messages: deliver the messages the ledger owes to people (recorded with their cause,
 * e.g. by Award Rewards with Owe Reward Emails): those whose keys the input items carry and, as a
 * sweep, those left overdue by an execution that stopped. Each goes once: claimed, rendered with
 * this node's templates and the message's own data, handed over, sent, completed. */
import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';
import { EngineError } from '../../../engine/shared/errors';
import type { MessageRecord } from '../../../engine/ledger/store';
import {
	assembleEmail,
	assertSegments,
	deliverOwedMessages,
	normalisePhoneNumber,
	normaliseSender,
	otherResult,
	renderEmail,
	renderSms,
	type BuiltMessage,
	type EmailSender,
	type OutgoingEmail,
	type OutgoingSms,
	type SendResult,
	type SmsGuard,
	type SmsSender,
} from '../../../engine/messaging';
import { participantLink } from '../../../engine/shared/links';
import { linkSecretsReader, statusPageUrlProperty } from '../../shared/linkSecret';
import { ledgerFor } from '../../shared/ledger';
import { readField } from '../../shared/parameters';
import { toNodeError } from '../../shared/runner';
import { openEmailSender, openSmsSender, limiterFor, type OpenedSender } from '../transport';
import { contentLabels, emailContentReader, smsContentReader } from './content';
import { customHeaders, deliveryLabels, OUTPUT_NAMES, OUTPUTS } from './delivery';
import { closeSender } from './sendEmail.operation';
import { guardLimitOptions, programGuards, type GuardLimits } from './sendSms.operation';

const show = (extra: IDataObject = {}) => ({ show: { operation: ['sendOwed'], ...extra } });

export const description: INodeProperties[] = [
	{
		displayName:
			'Delivers messages the ledger owes (recorded with the rewards by Award Rewards with Owe Reward Emails on), each exactly once, rendered with the templates below and each message\'s own data (e.g. {{lines}}, {{rewards}}, {{recipient}}). Put it after the webhook\'s answer; a Schedule Trigger with Also Deliver Overdue Messages delivers what a stopped execution left.',
		name: 'owedNotice',
		type: 'notice',
		default: '',
		displayOptions: show(),
	},
	{
		displayName: 'Message Keys Field',
		name: 'messageKeysField',
		type: 'string',
		default: 'messageKeys',
		placeholder: 'e.g. messageKeys',
		hint: 'The input field holding the keys of the owed messages to deliver (a list or one key), e.g. messageKeys from Award Rewards; empty delivers only overdue messages',
		displayOptions: show(),
	},
	{
		displayName: 'Topic',
		name: 'topic',
		type: 'string',
		default: 'reward.earned',
		required: true,
		placeholder: 'e.g. reward.earned',
		description: 'The kind of owed message this node delivers with its templates; Award Rewards owes reward.earned',
		displayOptions: show(),
	},
	{
		displayName: 'Also Deliver Overdue Messages',
		name: 'sweepOverdue',
		type: 'boolean',
		default: false,
		description:
			'Whether to also deliver owed messages of this topic that nobody delivered (their execution stopped, e.g. n8n was restarted), and messages whose sender stopped before handing them to the provider. Use it on a Schedule Trigger every minute.',
		displayOptions: show(),
	},
	{
		displayName: 'Overdue After (Minutes)',
		name: 'overdueMinutes',
		type: 'number',
		typeOptions: { minValue: 0, numberPrecision: 1 },
		default: 1,
		description: 'How long an owed message waits before the sweep takes it (its own execution normally delivers it within seconds)',
		displayOptions: show({ sweepOverdue: [true] }),
	},
	{
		displayName: 'Max Overdue Messages',
		name: 'overdueLimit',
		type: 'number',
		typeOptions: { minValue: 1, maxValue: 1000 },
		default: 100,
		description: 'Most overdue messages one run takes; the next run takes the rest',
		displayOptions: show({ sweepOverdue: [true] }),
	},
	{
		displayName: 'Sign-up Abuse Guard',
		name: 'abuseGuard',
		type: 'boolean',
		default: true,
		description:
			"Whether to guard owed texts against SMS pumping (a sign-up form's welcome text), as Send SMS does: only to the program's SMS countries, never to premium-rate, shared-cost, UAN or unknown number types, and at most so many per number per day and per sign-up IP per hour. A refused text is not sent: it goes to the Skipped output with reason blocked or rate_limited and stays skipped in the ledger.",
		displayOptions: { show: { resource: ['sms'], operation: ['sendOwed'] } },
	},
	{
		displayName: 'Guard',
		name: 'guard',
		type: 'collection',
		placeholder: 'Change Limit',
		default: {},
		displayOptions: { show: { resource: ['sms'], operation: ['sendOwed'], abuseGuard: [true] } },
		options: guardLimitOptions('topic'),
	},
	{
		displayName: 'Private Status Link',
		name: 'signedLink',
		type: 'options',
		options: [
			{ name: 'None', value: 'plain' },
			{
				name: 'Signed for Each Participant',
				value: 'signed',
				description: "Adds the private status link (privateLink, the participant's own status page, signed with the Referral Link Secret credential) to each message's data, e.g. for a welcome email",
			},
		],
		default: 'plain',
		displayOptions: { show: { resource: ['email'], operation: ['sendOwed'] } },
	},
	statusPageUrlProperty({ show: { resource: ['email'], operation: ['sendOwed'], signedLink: ['signed'] } }),
	{
		displayName: 'Link Valid For (Days)',
		name: 'linkValidDays',
		type: 'number',
		typeOptions: { minValue: 1, maxValue: 366 },
		default: 30,
		displayOptions: { show: { resource: ['email'], operation: ['sendOwed'], signedLink: ['signed'] } },
	},
];

function keysOf(value: unknown, field: string, itemIndex: number): string[] {
	if (value === undefined || value === null || value === '') return [];
	const list = Array.isArray(value) ? value : [value];
	return list.map((key) => {
		if (typeof key !== 'string' || key.trim() === '') {
			throw new EngineError('invalid_message_keys', `The field "${field}" of item ${itemIndex} must hold message keys (text, or a list of text).`, { field: 'messageKeysField' });
		}
		return key.trim();
	});
}

/** Send Owed Messages for one channel; every result is an item on the output of its outcome. */
export async function execute(this: IExecuteFunctions, channel: 'email' | 'sms'): Promise<INodeExecutionData[][]> {
	const items = this.getInputData();
	const outputs: INodeExecutionData[][] = OUTPUT_NAMES.map(() => []);
	const keysField = (this.getNodeParameter('messageKeysField', 0, 'messageKeys') as string).trim();
	const topic = (this.getNodeParameter('topic', 0, 'reward.earned') as string).trim();
	const sweep = this.getNodeParameter('sweepOverdue', 0, false) as boolean;
	const options = this.getNodeParameter('sendOptions', 0, {}) as IDataObject;
	const timeoutSeconds = Number(options.timeoutSeconds ?? 15);
	const parallel = Math.min(16, Math.max(1, Math.floor(Number(options.parallelSends ?? 1)) || 1));
	const labels = { ...deliveryLabels, baseUrl: 'Status Page URL', validDays: 'Link Valid For (Days)', linkSecret: 'Credential to connect with (Referral Link Secret)', smsCountries: 'Program › SMS Countries', perNumberPerDay: 'Guard › Texts per Number per Day', perIpPerHour: 'Guard › Texts per IP per Hour', topic: 'Topic', messageKeysField: 'Message Keys Field', overdueAfterMs: 'Overdue After (Minutes)', limit: 'Max Overdue Messages' };

	// Which item asked for which key, so every output item is paired with its input.
	const itemOfKey = new Map<string, number>();
	const keys: string[] = [];
	if (keysField !== '') {
		for (let itemIndex = 0; itemIndex < items.length; itemIndex++) {
			let found: string[];
			try {
				found = keysOf(readField(items[itemIndex].json, keysField), keysField, itemIndex);
			} catch (error) {
				const nodeError = toNodeError(this, error, itemIndex, labels);
				if (!this.continueOnFail()) throw nodeError;
				outputs[OUTPUTS.failed].push({ json: { ...items[itemIndex].json, error: { message: nodeError.message, field: 'messageKeysField' } }, pairedItem: { item: itemIndex } });
				continue;
			}
			for (const key of found) {
				if (!itemOfKey.has(key)) keys.push(key);
				if (!itemOfKey.has(key)) itemOfKey.set(key, itemIndex);
			}
		}
	}
	if (keys.length === 0 && !sweep) return outputs;
	if (topic === '') throw new NodeOperationError(this.getNode(), 'Topic is empty: name the kind of owed message this node delivers, e.g. reward.earned');

	const itemFor = (record: MessageRecord) => itemOfKey.get(record.group ?? record.idempotencyKey) ?? itemOfKey.get(record.idempotencyKey) ?? 0;
	const emit = (record: MessageRecord, result: SendResult) => {
		outputs[OUTPUTS[result.outcome]].push({
			json: { messageKey: record.idempotencyKey, topic: record.topic, recipient: record.recipient, data: (record.data ?? {}) as IDataObject, delivery: result as unknown as IDataObject },
			pairedItem: { item: itemFor(record) },
		});
	};

	let opened: Promise<OpenedSender<EmailSender | SmsSender>> | undefined;
	try {
		const ledger = await ledgerFor(this);
		opened = channel === 'email' ? openEmailSender(this, this.getNodeParameter('emailProvider', 0, 'smtp'), timeoutSeconds * 1000, parallel) : openSmsSender(this, this.getNodeParameter('smsProvider', 0, 'twilio'), timeoutSeconds * 1000);
		const { sender, limiterKey } = await opened;
		let build: (record: MessageRecord) => BuiltMessage<OutgoingEmail | OutgoingSms>;
		let guard: ((record: MessageRecord) => Promise<SmsGuard | undefined>) | undefined;
		if (channel === 'email') {
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
						: { ...data, privateLink: participantLink({ baseUrl, programId: record.programId, participantId: record.participantId, secrets, validDays }) as unknown as IDataObject };
			}
			const from = this.getNodeParameter('from', 0, '') as string;
			const replyTo = typeof options.replyTo === 'string' && options.replyTo.trim() !== '' ? options.replyTo : undefined;
			const headers = customHeaders(options);
			build = (record) => {
				const input = { ...content.content({ json: withLink((record.data ?? {}) as IDataObject, record) }, 0), from, to: record.recipient, replyTo, headers };
				const rendered = renderEmail(input);
				const message = assembleEmail(input, rendered, { idempotencyKey: record.idempotencyKey });
				message.idempotencyKey = record.idempotencyKey;
				return { message, extra: { subject: message.subject, ...(rendered.warnings.length > 0 ? { warnings: rendered.warnings } : {}) } };
			};
		} else {
			// Owed texts (a welcome text) are about the program: the opt-out line goes with them unless the Opt-Out Line option says otherwise.
			const content = smsContentReader(this, { optOutByDefault: true });
			const fromParameter = this.getNodeParameter('smsFrom', 0, '') as string;
			if (this.getNodeParameter('abuseGuard', 0, true) === true) {
				// The same guard as Send SMS; the per-IP limit counts the sign-up's IP (its keyed hash, kept with the text).
				const guards = programGuards(this, this.getNodeParameter('guard', 0, {}) as GuardLimits);
				guard = async (record) => {
					const ipHash = (record.data?.guard as { ipHash?: unknown } | undefined)?.ipHash;
					return { ...(await guards(record.programId ?? 'default')), ...(typeof ipHash === 'string' && ipHash !== '' ? { ip: ipHash } : {}) };
				};
			}
			build = (record) => {
				const input = content.content({ json: (record.data ?? {}) as IDataObject }, 0);
				const rendered = renderSms(input);
				if (rendered.text === '') throw new EngineError('empty_message', 'The SMS text is empty after rendering.', { field: 'SMS text' });
				assertSegments(rendered, rendered.maxSegments);
				const message: OutgoingSms = {
					from: normaliseSender(fromParameter, { field: 'from' }),
					to: normalisePhoneNumber(record.recipient, { field: 'to' }),
					text: rendered.text,
					encoding: rendered.encoding,
					segments: rendered.segments,
					idempotencyKey: record.idempotencyKey,
				};
				return { message, extra: { sms: { encoding: rendered.encoding, segments: rendered.segments, characters: rendered.characters } } };
			};
		}
		const retry: { maxAttempts?: number; budgetMs?: number } = {};
		if (options.maxAttempts !== undefined) retry.maxAttempts = Number(options.maxAttempts);
		if (options.retryBudgetSeconds !== undefined) retry.budgetMs = Number(options.retryBudgetSeconds) * 1000;
		const result = await deliverOwedMessages<OutgoingEmail | OutgoingSms>(ledger, {
			channel,
			topic,
			...(keys.length > 0 ? { keys } : {}),
			...(sweep
				? {
						overdueAfterMs: Math.round(Number(this.getNodeParameter('overdueMinutes', 0, 1)) * 60_000),
						limit: Number(this.getNodeParameter('overdueLimit', 0, 100)),
					}
				: {}),
			build,
			...(guard ? { guard } : {}),
			sender: sender as never,
			retry,
			limiter: limiterFor(limiterKey, Number(options.messagesPerSecond ?? 0), parallel),
			concurrency: parallel,
		});
		for (const { record, result: sent } of result.delivered) emit(record, sent);
		for (const record of result.others) emit(record, otherResult(record, sender.provider));
		return outputs;
	} catch (error) {
		const nodeError = toNodeError(this, error, 0, { ...contentLabels(channel, 'parameters', 'item'), ...labels });
		if (!this.continueOnFail()) throw nodeError;
		outputs[OUTPUTS.failed].push({ json: { error: { message: nodeError.message } }, pairedItem: { item: 0 } });
		return outputs;
	} finally {
		await closeSender(opened);
	}
}
