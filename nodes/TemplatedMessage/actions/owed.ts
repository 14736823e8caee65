/* Send Owed Messages: deliver the messages the ledger owes to people (recorded with their cause,
 * e.g. by Award Rewards with Owe Reward Emails): those whose keys the input items carry and, as a
 * sweep, those left overdue by an execution that stopped. Each goes once: claimed, rendered with
 * this node's templates and the message's own data, handed over, sent, completed. */
import type {
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	INodeProperties,
} from 'n8n-workflow';
import { NodeOperationError, updateDisplayOptions } from 'n8n-workflow';
import type { MessageRecord } from '../../../engine/ledger/store';
import {
	deliverOwedMessages,
	otherResult,
	type BuiltMessage,
	type Channel,
	type MessageSender,
	type OutgoingEmail,
	type OutgoingSms,
	type SendResult,
	type SmsGuard,
} from '../../../engine/messaging';
import { REWARD_NOTICE_TOPIC } from '../../../engine/rewards';
import { EngineError } from '../../../engine/shared/errors';
import { ledgerFor } from '../../shared/ledger';
import { readField } from '../../shared/parameters';
import { toNodeError } from '../../shared/runner';
import { closeSender, limiterFor, type OpenedSender } from '../transport';
import { contentLabels } from './content';
import { deliveryLabels, OUTPUT_NAMES, OUTPUTS } from './delivery';

/** The part of the Send Owed Messages form both channels share. */
export const owedDescription: INodeProperties[] = updateDisplayOptions(
	{ show: { operation: ['sendOwed'] } },
	[
		{
			displayName:
				"Delivers messages the ledger owes (recorded with the rewards by Award Rewards with Owe Reward Emails on), each exactly once, rendered with the templates below and each message's own data (e.g. {{lines}}, {{rewards}}, {{recipient}}). Put it after the webhook's answer; a Schedule Trigger with Also Deliver Overdue Messages delivers what a stopped execution left.",
			name: 'owedNotice',
			type: 'notice',
			default: '',
		},
		{
			displayName: 'Message Keys Field',
			name: 'messageKeysField',
			type: 'string',
			default: 'messageKeys',
			placeholder: 'e.g. messageKeys',
			hint: 'The input field holding the keys of the owed messages to deliver (a list or one key), e.g. messageKeys from Award Rewards; empty delivers only overdue messages',
		},
		{
			displayName: 'Topic',
			name: 'topic',
			type: 'string',
			default: REWARD_NOTICE_TOPIC,
			required: true,
			placeholder: 'e.g. reward.earned',
			description:
				'The kind of owed message this node delivers with its templates; Award Rewards owes reward.earned',
		},
		{
			displayName: 'Also Deliver Overdue Messages',
			name: 'sweepOverdue',
			type: 'boolean',
			default: false,
			description:
				'Whether to also deliver owed messages of this topic that nobody delivered (their execution stopped, e.g. n8n was restarted), and messages whose sender stopped before handing them to the provider. Use it on a Schedule Trigger every minute.',
		},
		{
			displayName: 'Overdue After (Minutes)',
			name: 'overdueMinutes',
			type: 'number',
			typeOptions: { minValue: 0, numberPrecision: 1 },
			default: 1,
			description:
				'How long an owed message waits before the sweep takes it (its own execution normally delivers it within seconds)',
			displayOptions: { show: { sweepOverdue: [true] } },
		},
		{
			displayName: 'Max Overdue Messages',
			name: 'overdueLimit',
			type: 'number',
			typeOptions: { minValue: 1, maxValue: 1000 },
			default: 100,
			description: 'Most overdue messages one run takes; the next run takes the rest',
			displayOptions: { show: { sweepOverdue: [true] } },
		},
	],
);

function keysOf(value: unknown, field: string, itemIndex: number): string[] {
	if (value === undefined || value === null || value === '') return [];
	const list = Array.isArray(value) ? value : [value];
	return list.map((key) => {
		if (typeof key !== 'string' || key.trim() === '') {
			throw new EngineError(
				'invalid_message_keys',
				`The field "${field}" of item ${itemIndex} must hold message keys (text, or a list of text).`,
				{ field: 'messageKeysField' },
			);
		}
		return key.trim();
	});
}

/** What a channel's Send Owed Messages adds: its sender, and how it builds (and guards) each owed message. */
export interface OwedChannel<M extends OutgoingEmail | OutgoingSms> {
	channel: Channel;
	open(
		this: IExecuteFunctions,
		timeoutMs: number,
		parallel: number,
	): Promise<OpenedSender<MessageSender<M>>>;
	prepare(this: IExecuteFunctions, options: IDataObject): Promise<OwedBuilder<M>> | OwedBuilder<M>;
}

export interface OwedBuilder<M> {
	build: (record: MessageRecord) => BuiltMessage<M>;
	guard?: (record: MessageRecord) => Promise<SmsGuard | undefined>;
}

/** Send Owed Messages for one channel; every result is an item on the output of its outcome. */
export async function sendOwed<M extends OutgoingEmail | OutgoingSms>(
	this: IExecuteFunctions,
	{ channel, open, prepare }: OwedChannel<M>,
): Promise<INodeExecutionData[][]> {
	const items = this.getInputData();
	const outputs: INodeExecutionData[][] = OUTPUT_NAMES.map(() => []);
	const keysField = (this.getNodeParameter('messageKeysField', 0, 'messageKeys') as string).trim();
	const topic = (this.getNodeParameter('topic', 0, REWARD_NOTICE_TOPIC) as string).trim();
	const sweep = this.getNodeParameter('sweepOverdue', 0, false) as boolean;
	const options = this.getNodeParameter('sendOptions', 0, {}) as IDataObject;
	const timeoutSeconds = Number(options.timeoutSeconds ?? 15);
	const parallel = Math.min(16, Math.max(1, Math.floor(Number(options.parallelSends ?? 1)) || 1));
	const labels = {
		...deliveryLabels,
		baseUrl: 'Status Page URL',
		validDays: 'Link Valid For (Days)',
		linkSecret: 'Credential to connect with (Referral Link Secret)',
		smsCountries: 'Program › SMS Countries',
		perNumberPerDay: 'Guard › Texts per Number per Day',
		perIpPerHour: 'Guard › Texts per IP per Hour',
		topic: 'Topic',
		messageKeysField: 'Message Keys Field',
		overdueAfterMs: 'Overdue After (Minutes)',
		limit: 'Max Overdue Messages',
	};

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
				outputs[OUTPUTS.failed].push({
					json: {
						...items[itemIndex].json,
						error: { message: nodeError.message, field: 'messageKeysField' },
					},
					pairedItem: { item: itemIndex },
				});
				continue;
			}
			for (const key of found) {
				if (!itemOfKey.has(key)) keys.push(key);
				if (!itemOfKey.has(key)) itemOfKey.set(key, itemIndex);
			}
		}
	}
	if (keys.length === 0 && !sweep) return outputs;
	if (topic === '')
		throw new NodeOperationError(
			this.getNode(),
			'Topic is empty: name the kind of owed message this node delivers, e.g. reward.earned',
		);

	const itemFor = (record: MessageRecord) =>
		itemOfKey.get(record.group ?? record.idempotencyKey) ??
		itemOfKey.get(record.idempotencyKey) ??
		0;
	const emit = (record: MessageRecord, result: SendResult) => {
		outputs[OUTPUTS[result.outcome]].push({
			json: {
				messageKey: record.idempotencyKey,
				topic: record.topic,
				recipient: record.recipient,
				data: record.data ?? {},
				delivery: result,
			},
			pairedItem: { item: itemFor(record) },
		});
	};

	let opened: Promise<OpenedSender<MessageSender<M>>> | undefined;
	try {
		const ledger = await ledgerFor(this);
		opened = open.call(this, timeoutSeconds * 1000, parallel);
		const { sender, limiterKey } = await opened;
		const { build, guard } = await prepare.call(this, options);
		const retry: { maxAttempts?: number; budgetMs?: number } = {};
		if (options.maxAttempts !== undefined) retry.maxAttempts = Number(options.maxAttempts);
		if (options.retryBudgetSeconds !== undefined)
			retry.budgetMs = Number(options.retryBudgetSeconds) * 1000;
		const result = await deliverOwedMessages<M>(ledger, {
			channel,
			topic,
			...(keys.length > 0 ? { keys } : {}),
			...(sweep
				? {
						overdueAfterMs: Math.round(
							Number(this.getNodeParameter('overdueMinutes', 0, 1)) * 60_000,
						),
						limit: Number(this.getNodeParameter('overdueLimit', 0, 100)),
					}
				: {}),
			build,
			...(guard ? { guard } : {}),
			sender,
			retry,
			limiter: limiterFor(limiterKey, Number(options.messagesPerSecond ?? 0), parallel),
			concurrency: parallel,
		});
		for (const { record, result: sent } of result.delivered) emit(record, sent);
		for (const record of result.others) emit(record, otherResult(record, sender.provider));
		return outputs;
	} catch (error) {
		const nodeError = toNodeError(this, error, 0, {
			...contentLabels(channel, 'parameters', 'item'),
			...labels,
		});
		if (!this.continueOnFail()) throw nodeError;
		outputs[OUTPUTS.failed].push({
			json: { error: { message: nodeError.message } },
			pairedItem: { item: 0 },
		});
		return outputs;
	} finally {
		await closeSender(opened);
	}
}
