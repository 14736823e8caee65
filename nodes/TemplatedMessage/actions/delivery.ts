/* What Send Email and Send SMS share: who gets it (recipient fields), when it may go (quiet hours),
 * how it is made unique (the idempotency key), how hard to try (retries, pacing), and where each
 * outcome goes (Sent, Skipped, Deferred, Failed). */
import type {
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	INodeProperties,
} from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import { EngineError } from '../../../engine/shared/errors';
import {
	messageLedgerFrom,
	type MessageIdentity,
	type MessageLedger,
	type SendDependencies,
	type SendResult,
} from '../../../engine/messaging';
import { ledgerFor } from '../../shared/ledger';
import { parameterReader, readField } from '../../shared/parameters';
import type { FieldLabels, RoutedResult } from '../../shared/runner';
import { limiterFor } from '../transport';

export const OUTPUT_NAMES = ['Sent', 'Skipped', 'Deferred', 'Failed'];
export const OUTPUTS = { sent: 0, skipped: 1, deferred: 2, failed: 3 } as const;

const SUBSCRIPTION_OPERATIONS = ['send', 'unsubscribe', 'resubscribe'];
// Where each group of fields shows; a field's own condition on another field stays on the field.
const EMAIL_RECIPIENT = { show: { resource: ['email'], operation: SUBSCRIPTION_OPERATIONS } };
const SMS_RECIPIENT = { show: { resource: ['sms'], operation: SUBSCRIPTION_OPERATIONS } };
const SEND = { show: { operation: ['send'] } };
const SEND_OR_OWED = { show: { operation: ['send', 'sendOwed'] } };

export const recipientDescription: INodeProperties[] = [
	...updateDisplayOptions(EMAIL_RECIPIENT, [
		{
			displayName: 'Email Field',
			name: 'emailField',
			type: 'string',
			default: 'email',
			required: true,
			placeholder: 'e.g. email or customer.email',
			hint: 'The name of the input field holding the email address, not the address itself',
			displayOptions: { hide: { signedLink: ['signed'] } },
		},
	]),
	...updateDisplayOptions(SMS_RECIPIENT, [
		{
			displayName: 'Phone Field',
			name: 'phoneField',
			type: 'string',
			default: 'phone',
			required: true,
			placeholder: 'e.g. phone or customer.mobile',
			hint: 'The name of the input field holding the phone number, not the number itself',
		},
		{
			displayName: 'Default Country',
			name: 'defaultCountry',
			type: 'string',
			default: '',
			placeholder: 'e.g. US',
			description:
				'Two-letter country code for numbers written without +country code; empty means numbers must be international (+14155552671)',
		},
	]),
];

export const deliveryDescription: INodeProperties[] = [
	...updateDisplayOptions(SEND, [
		{
			displayName: 'Quiet Hours',
			name: 'quietHours',
			type: 'boolean',
			default: false,
			description:
				"Whether to hold messages outside the sending hours in the recipient's time zone: they go to the Deferred output with the time they may go",
		},
		{
			displayName: 'Recipient Time Zone Field',
			name: 'timeZoneField',
			type: 'string',
			default: 'timeZone',
			placeholder: 'e.g. customer.timeZone',
			hint: "The input field holding the recipient's IANA time zone, e.g. America/New_York",
			displayOptions: { show: { quietHours: [true] } },
		},
		{
			displayName: 'Default Time Zone',
			name: 'defaultTimeZone',
			type: 'string',
			default: '',
			placeholder: 'e.g. America/New_York',
			description:
				'Used when the item has no time zone; leave empty to make a missing time zone an error',
			displayOptions: { show: { quietHours: [true] } },
		},
		{
			displayName: 'Sending Hours Start',
			name: 'quietHoursStart',
			type: 'string',
			default: '08:00',
			description: 'Local time (HH:MM) from which messages may go; TCPA allows 08:00',
			displayOptions: { show: { quietHours: [true] } },
		},
		{
			displayName: 'Sending Hours End',
			name: 'quietHoursEnd',
			type: 'string',
			default: '21:00',
			description: 'Local time (HH:MM) at which sending stops; TCPA allows until 21:00',
			displayOptions: { show: { quietHours: [true] } },
		},
	]),
	...updateDisplayOptions(SEND_OR_OWED, [
		{
			displayName: 'Options',
			name: 'sendOptions',
			type: 'collection',
			placeholder: 'Add Option',
			default: {},
			options: [
				{
					displayName: 'Custom Headers',
					name: 'headers',
					type: 'fixedCollection',
					typeOptions: { multipleValues: true },
					default: {},
					placeholder: 'Add Header',
					displayOptions: { show: { '/resource': ['email'] } },
					options: [
						{
							displayName: 'Header',
							name: 'header',
							values: [
								{
									displayName: 'Name',
									name: 'name',
									type: 'string',
									default: '',
									placeholder: 'e.g. X-Campaign',
								},
								{ displayName: 'Value', name: 'value', type: 'string', default: '' },
							],
						},
					],
				},
				{
					displayName: 'Idempotency Key Field',
					name: 'idempotencyKeyField',
					type: 'string',
					default: '',
					placeholder: 'e.g. messageKey',
					displayOptions: { show: { '/operation': ['send'] } },
					description:
						'An input field holding your own message key (1–200 visible characters). A key that was sent is never sent again. Default: derived from template, recipient and the item.',
				},
				{
					displayName: 'Max Attempts',
					name: 'maxAttempts',
					type: 'number',
					typeOptions: { minValue: 1, maxValue: 10 },
					default: 5,
					description:
						'Provider calls per message, the first included, for temporary failures and rate limits',
				},
				{
					displayName: 'Messages Per Second',
					name: 'messagesPerSecond',
					type: 'number',
					typeOptions: { minValue: 0, numberPrecision: 2 },
					default: 0,
					description:
						'Pace sends through this credential (e.g. 1 for a Twilio long code); 0 means no pacing',
				},
				{
					displayName: 'Mobile Numbers Only',
					name: 'mobileOnly',
					type: 'boolean',
					default: false,
					description:
						'Whether to refuse numbers known to be landlines, premium-rate, toll-free and the like',
					displayOptions: { show: { '/resource': ['sms'] } },
				},
				{
					displayName: 'Parallel Sends',
					name: 'parallelSends',
					type: 'number',
					typeOptions: { minValue: 1, maxValue: 16 },
					default: 1,
					description:
						'Messages sent at once. Outputs keep the input order; after a bad item, items already under way still finish (their keys stop a rerun from sending them twice).',
				},
				{
					displayName: 'Reply To',
					name: 'replyTo',
					type: 'string',
					default: '',
					placeholder: 'e.g. Support <support@example.com>',
					displayOptions: { show: { '/resource': ['email'] } },
				},
				{
					displayName: 'Retry Budget (Seconds)',
					name: 'retryBudgetSeconds',
					type: 'number',
					typeOptions: { minValue: 0 },
					default: 60,
					description:
						"Longest time one message's retries may take; a wait that would overrun it is not started",
				},
				{
					displayName: 'Template Name',
					name: 'templateName',
					type: 'string',
					default: '',
					placeholder: 'e.g. referral-reward-v2',
					displayOptions: { show: { '/operation': ['send'] } },
					description:
						'A stable name for the template in the idempotency key. Without it the key includes the template text, so fixing a typo makes a replayed item send again.',
				},
				{
					displayName: 'Timeout (Seconds)',
					name: 'timeoutSeconds',
					type: 'number',
					typeOptions: { minValue: 1 },
					default: 15,
					description: 'How long to wait for the provider to answer one call',
				},
				{
					displayName: 'Unique Per Field',
					name: 'identityField',
					type: 'string',
					default: '',
					placeholder: 'e.g. referralId',
					displayOptions: { show: { '/operation': ['send'] } },
					description:
						'The input field that makes this message unique besides template and recipient (e.g. the referral ID). Default: the whole item data, so any change to the item is a new message.',
				},
			],
		},
	]),
];

export const deliveryLabels: FieldLabels = {
	idempotencyKey: 'Options › Idempotency Key Field',
	timeZone: 'Recipient Time Zone Field',
	quietHoursStart: 'Sending Hours Start',
	quietHoursEnd: 'Sending Hours End',
	identityField: 'Options › Unique Per Field',
	timeoutSeconds: 'Options › Timeout (Seconds)',
	maxAttempts: 'Options › Max Attempts',
	budgetMs: 'Options › Retry Budget (Seconds)',
	initialDelayMs: 'Options › Max Attempts',
	maxDelayMs: 'Options › Max Attempts',
	provider: 'Provider',
	headers: 'Options › Custom Headers',
	'reply-to': 'Options › Reply To',
	// Credential fields the engine checks.
	host: 'Credential › Host',
	port: 'Credential › Port',
	baseUrl: 'Credential › Base URL',
	domain: 'Credential › Sending Domain',
	accountSid: 'Credential › Account SID',
	authId: 'Credential › Auth ID',
	concurrency: 'Options › Messages Per Second',
	minIntervalMs: 'Options › Messages Per Second',
};

export interface DeliverySettings {
	/** The Options collection; per item only when it holds an expression. */
	options(itemIndex: number): IDataObject;
	timeoutMs: number;
	/** Items handled at once (Parallel Sends). */
	parallel: number;
	identity(item: INodeExecutionData, itemIndex: number): MessageIdentity;
	/** The ledger's message log and suppression list, and the credential's retry and pacing. */
	dependencies(limiterKey: string): Promise<SendDependencies>;
}

function fieldName(value: unknown): string {
	return typeof value === 'string' ? value.trim() : '';
}

/** Reads the delivery parameters once per execution. Field names and retry settings are taken from the first item. */
export function deliverySettings(ctx: IExecuteFunctions): DeliverySettings {
	const optionsFor = parameterReader<IDataObject>(ctx, 'sendOptions', {});
	const first = optionsFor(0);
	const quietHours = ctx.getNodeParameter('quietHours', 0, false) as boolean;
	const timeZoneField = quietHours
		? (ctx.getNodeParameter('timeZoneField', 0, 'timeZone') as string)
		: '';
	const defaultTimeZoneFor = parameterReader<string>(ctx, 'defaultTimeZone', '');
	const start = quietHours
		? (ctx.getNodeParameter('quietHoursStart', 0, '08:00') as string)
		: undefined;
	const end = quietHours
		? (ctx.getNodeParameter('quietHoursEnd', 0, '21:00') as string)
		: undefined;
	const keyField = fieldName(first.idempotencyKeyField);
	const identityField = fieldName(first.identityField);
	const templateName = fieldName(first.templateName);
	const timeoutSeconds = first.timeoutSeconds === undefined ? 15 : Number(first.timeoutSeconds);
	// Reported per item, like every other input problem, so Continue On Fail keeps the items.
	const timeoutProblem =
		Number.isFinite(timeoutSeconds) && timeoutSeconds > 0
			? undefined
			: new EngineError(
					'invalid_timeout',
					`Timeout must be a number of seconds above 0; got ${String(first.timeoutSeconds)}.`,
					{ field: 'timeoutSeconds' },
				);
	const parallel = Math.min(16, Math.max(1, Math.floor(Number(first.parallelSends ?? 1)) || 1));
	let ledger: MessageLedger | undefined;
	return {
		options: optionsFor,
		timeoutMs: timeoutProblem ? 15_000 : Math.round(timeoutSeconds * 1000),
		parallel,
		identity(item, itemIndex) {
			if (timeoutProblem) throw timeoutProblem;
			const identity: MessageIdentity = {};
			if (keyField !== '') {
				const key = readField(item.json, keyField);
				if (key === undefined || key === null || key === '') {
					throw new EngineError(
						'missing_idempotency_key',
						`The field "${keyField}" holding the idempotency key is empty.`,
						{ field: 'idempotencyKey' },
					);
				}
				identity.idempotencyKey = typeof key === 'number' ? String(key) : (key as string);
			}
			if (identityField !== '') {
				const value = readField(item.json, identityField);
				if (value === undefined || value === null || value === '') {
					throw new EngineError(
						'missing_identity',
						`The field "${identityField}" that makes the message unique is empty.`,
						{ field: 'identityField' },
					);
				}
				identity.itemIdentity = typeof value === 'string' ? value : JSON.stringify(value);
			}
			if (templateName !== '') identity.templateId = templateName;
			if (quietHours) {
				const zone = readField(item.json, timeZoneField);
				const timeZone =
					typeof zone === 'string' && zone.trim() !== '' ? zone : defaultTimeZoneFor(itemIndex);
				identity.quietHours = { timeZone, start, end };
			}
			return identity;
		},
		async dependencies(limiterKey) {
			ledger ??= messageLedgerFrom(await ledgerFor(ctx));
			const retry: SendDependencies['retry'] = {};
			if (first.maxAttempts !== undefined) retry.maxAttempts = Number(first.maxAttempts);
			if (first.retryBudgetSeconds !== undefined)
				retry.budgetMs = Number(first.retryBudgetSeconds) * 1000;
			return {
				ledger,
				retry,
				limiter: limiterFor(limiterKey, Number(first.messagesPerSecond ?? 0), parallel),
			};
		},
	};
}

/** Custom headers from the options' fixed collection. */
export function customHeaders(options: IDataObject): Record<string, string> | undefined {
	const list = ((options.headers as IDataObject | undefined)?.header ?? []) as Array<{
		name?: string;
		value?: string;
	}>;
	if (list.length === 0) return undefined;
	const headers: Record<string, string> = {};
	for (const { name, value } of list) headers[String(name ?? '').trim()] = String(value ?? '');
	return headers;
}

/** One send's outcome as the item to put on its output: the input item with `delivery` added. */
export function routeResult(item: INodeExecutionData, result: SendResult): RoutedResult {
	return { output: OUTPUTS[result.outcome], json: { ...item.json, delivery: result } };
}

/** The same promise, with a handler attached so a rejection nobody awaited yet is not unhandled. */
export function handled<T>(promise: Promise<T>): Promise<T> {
	promise.catch(() => undefined);
	return promise;
}
