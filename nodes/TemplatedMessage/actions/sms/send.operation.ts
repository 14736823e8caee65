import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import {
	sendSms,
	type SendDependencies,
	type SmsCategory,
	type SmsGuard,
	type SmsSender,
} from '../../../../engine/messaging';
import { loadReferralProgram } from '../../../../engine/referrals';
import { clientFromHeaders, proxyHops } from '../../../../engine/shared/clientIp';
import { isYes } from '../../../../engine/shared/guards';
import { ledgerFor } from '../../../shared/ledger';
import { parameterReader, readField } from '../../../shared/parameters';
import { runPerItemRouted } from '../../../shared/runner';
import {
	inputProperties,
	inputReader,
	inputSourceOf,
	type InputParameter,
} from '../../../shared/inputs';
import { closeSender, openSmsSender, type OpenedSender } from '../../transport';
import { contentLabels, smsContentReader } from '../content';
import {
	deliveryLabelsFor,
	phoneInput,
	recipientReader,
	deliverySettings,
	handled,
	OUTPUT_NAMES,
	OUTPUTS,
	routeResult,
} from '../delivery';

/** Provider and From: Send and Send Owed Messages both send. */
const sending = { show: { resource: ['sms'], operation: ['send', 'sendOwed'] } };
const displayOptions = { show: { resource: ['sms'], operation: ['send'] } };

const senderProperties: INodeProperties[] = [
	{
		displayName: 'Provider',
		name: 'smsProvider',
		type: 'options',
		noDataExpression: true,
		options: [
			{ name: 'Plivo', value: 'plivo' },
			{ name: 'Telnyx', value: 'telnyx' },
			{ name: 'Twilio', value: 'twilio' },
			{ name: 'Vonage', value: 'vonage' },
		],
		default: 'twilio',
	},
	{
		displayName: 'From',
		name: 'smsFrom',
		type: 'string',
		default: '',
		placeholder: 'e.g. +14155550100 or ACME',
		description:
			'Sender number (E.164) or alphanumeric sender ID; may stay empty when the credential names a Messaging Service (Twilio), Powerpack (Plivo) or messaging profile (Telnyx)',
	},
];

/** Consent Field, or Consent itself in Values mode (marketing texts). */
const consentInput: InputParameter = {
	field: {
		displayName: 'Consent Field',
		name: 'consentField',
		type: 'string',
		default: 'smsConsent',
		required: true,
		hint: 'The input field that is true (or "true", "yes") for people who agreed to marketing texts',
		displayOptions: { show: { category: ['marketing'] } },
	},
	value: {
		name: 'smsConsent',
		displayName: 'Consent',
		holding: 'whether the recipient agreed to marketing texts (true or false)',
		required: false,
		description:
			'True (or "true", "yes") when the recipient agreed to marketing texts; anything else sends nothing',
	},
};

const properties: INodeProperties[] = [
	{
		displayName: 'Category',
		name: 'category',
		type: 'options',
		options: [
			{
				name: 'Marketing',
				value: 'marketing',
				description:
					"Needs the recipient's consent (TCPA): sent only when the consent field is true, with an opt-out line",
			},
			{
				name: 'Transactional',
				value: 'transactional',
				description: 'Account and reward notices the recipient expects; no consent check',
			},
		],
		default: 'marketing',
	},
	...inputProperties(consentInput),
	{
		displayName: 'Sign-up Abuse Guard',
		name: 'abuseGuard',
		type: 'boolean',
		default: false,
		description:
			"Whether to guard against SMS pumping, for texts a public caller can trigger (a sign-up form's welcome text): only to the program's SMS countries, never to premium-rate, shared-cost, UAN or unknown number types, and at most so many per number per day and per IP per hour. A refused text goes to the Skipped output with reason blocked or rate_limited.",
	},
	{
		displayName: 'Guard',
		name: 'guard',
		type: 'collection',
		placeholder: 'Change Limit',
		default: {},
		displayOptions: { show: { abuseGuard: [true] } },
		options: [
			{
				displayName: 'Program',
				name: 'program',
				type: 'string',
				default: 'default',
				description:
					'The referral program whose SMS Countries apply (Referral › Program › Create or Update) and whose ledger keeps the counts',
			},
			{
				displayName: 'Request Headers Field',
				name: 'headersField',
				type: 'string',
				default: 'headers',
				description:
					"The field holding the Webhook node's request headers; the IP is the X-Forwarded-For entry your N8N_PROXY_HOPS proxies added (no proxy, no IP and no per-IP limit)",
			},
			...guardLimitOptions('template'),
		],
	},
];

export const description: INodeProperties[] = [
	...updateDisplayOptions(sending, senderProperties),
	...updateDisplayOptions(displayOptions, properties),
];

/** The guard's two limits in a Guard collection (Send SMS counts per template, Send Owed Messages per topic). */
export function guardLimitOptions(countedBy: 'template' | 'topic'): INodeProperties[] {
	return [
		{
			displayName: 'Texts per IP per Hour',
			name: 'perIpPerHour',
			type: 'number',
			typeOptions: { minValue: 0 },
			default: 5,
			description: `Texts of this ${countedBy} for sign-ups from one IP address in an hour; 0 means no limit`,
		},
		{
			displayName: 'Texts per Number per Day',
			name: 'perNumberPerDay',
			type: 'number',
			typeOptions: { minValue: 0 },
			default: 1,
			description: `Texts of this ${countedBy} to one number in 24 hours; 0 means no limit`,
		},
	];
}

/** The guard's limits as the node's Guard collection holds them. */
export interface GuardLimits {
	perIpPerHour?: number;
	perNumberPerDay?: number;
}

/**
 * The one SMS pumping guard of this node (Send SMS and Send Owed Messages): a program's SMS
 * countries and secret salt, the limits, and the ledger's one-time keys; loaded once per program
 * and execution. The caller adds the client IP.
 */
export function programGuards(
	ctx: IExecuteFunctions,
	limits: GuardLimits,
): (programId: string) => Promise<Omit<SmsGuard, 'ip'>> {
	const loaded = new Map<string, Promise<Omit<SmsGuard, 'ip'>>>();
	return async (programId) => {
		let base = loaded.get(programId);
		if (!base) {
			base = (async () => {
				const ledger = await ledgerFor(ctx);
				await ledger.ensureProgram({ id: programId });
				const { config, salt } = await loadReferralProgram(ledger, programId);
				return {
					countries: config.smsCountries,
					perNumberPerDay: limits.perNumberPerDay ?? 1,
					perIpPerHour: limits.perIpPerHour ?? 5,
					scope: programId,
					salt,
					claim: async (input) => await ledger.claimNonce(input),
				};
			})();
			loaded.set(programId, base);
		}
		return await base;
	};
}

/** Reads the guard settings once per execution: the program's countries and salt, the limits. */
function guardReader(
	ctx: IExecuteFunctions,
): ((json: INodeExecutionData['json']) => Promise<SmsGuard>) | undefined {
	if (ctx.getNodeParameter('abuseGuard', 0, false) !== true) return undefined;
	const options = ctx.getNodeParameter('guard', 0, {}) as {
		program?: string;
		headersField?: string;
	} & GuardLimits;
	const programId = (options.program ?? 'default').trim() || 'default';
	const hops = proxyHops();
	const guards = programGuards(ctx, options);
	return async (json) => {
		const { ip } = clientFromHeaders(readField(json, options.headersField || 'headers'), hops);
		return { ...(await guards(programId)), ip };
	};
}

/** Send (SMS): render, check consent and segments, send once per idempotency key, route by outcome. */
export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const category = this.getNodeParameter('category', 0, 'marketing') as SmsCategory;
	const content = smsContentReader(this, { optOutByDefault: category === 'marketing' });
	const delivery = deliverySettings(this, inputSourceOf(this));
	const provider = this.getNodeParameter('smsProvider', 0, 'twilio');
	const fromFor = parameterReader<string>(this, 'smsFrom', '');
	const countryFor = parameterReader<string>(this, 'defaultCountry', '');
	const source = inputSourceOf(this);
	const phoneFor = recipientReader(this, phoneInput, source);
	const consentFor = category === 'marketing' ? inputReader(this, consentInput, source) : undefined;
	const guardFor = guardReader(this);
	let opened: Promise<OpenedSender<SmsSender>> | undefined;
	let dependencies: Promise<SendDependencies> | undefined;
	try {
		return await runPerItemRouted(
			this,
			OUTPUT_NAMES.length,
			async (item, itemIndex) => {
				opened ??= openSmsSender(this, provider, delivery.timeoutMs);
				const { sender, limiterKey } = await opened;
				// An item may fail before it awaits them (a missing link secret): never left unhandled, and awaited below.
				dependencies ??= handled(delivery.dependencies(limiterKey));
				const options = delivery.options(itemIndex);
				const result = await sendSms(
					{
						...content.content(item, itemIndex),
						...delivery.identity(item, itemIndex),
						to: phoneFor(itemIndex, item.json),
						from: fromFor(itemIndex),
						defaultCountry: countryFor(itemIndex) || undefined,
						mobileOnly: options.mobileOnly === true,
						category,
						consent: consentFor === undefined ? undefined : isYes(consentFor(itemIndex, item.json)),
						guard: guardFor ? await guardFor(item.json) : undefined,
					},
					sender,
					await dependencies,
				);
				return routeResult(item, result);
			},
			{
				errorOutput: OUTPUTS.failed,
				concurrency: delivery.parallel,
				fieldLabels: {
					...contentLabels('sms', content.source, content.dataFrom),
					...deliveryLabelsFor(source),
					to: source === 'values' ? 'Phone' : 'Phone Field',
					from: 'From',
					defaultCountry: 'Default Country',
					category: 'Category',
					program: 'Guard › Program',
					smsCountries: 'Program › SMS Countries',
					perNumberPerDay: 'Guard › Texts per Number per Day',
					perIpPerHour: 'Guard › Texts per IP per Hour',
				},
			},
		);
	} finally {
		await dependencies?.catch(() => undefined);
		await closeSender(opened);
	}
}
