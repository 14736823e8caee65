import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { sendSms, type SendDependencies, type SmsCategory, type SmsSender } from '../../../engine/messaging';
import { parameterReader, readField } from '../../shared/parameters';
import { runPerItemRouted } from '../../shared/runner';
import { openSmsSender, type OpenedSender } from '../transport';
import { contentLabels, smsContentReader } from './content';
import { deliveryLabels, deliverySettings, OUTPUT_NAMES, OUTPUTS, routeResult } from './delivery';
import { closeSender } from './sendEmail.operation';

const show = { show: { resource: ['sms'], operation: ['send'] } };
const showOwed = { show: { resource: ['sms'], operation: ['send', 'sendOwed'] } };

export const description: INodeProperties[] = [
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
		displayOptions: showOwed,
	},
	{
		displayName: 'From',
		name: 'smsFrom',
		type: 'string',
		default: '',
		placeholder: 'e.g. +14155550100 or ACME',
		description:
			'Sender number (E.164) or alphanumeric sender ID; may stay empty when the credential names a Messaging Service (Twilio), Powerpack (Plivo) or messaging profile (Telnyx)',
		displayOptions: showOwed,
	},
	{
		displayName: 'Category',
		name: 'category',
		type: 'options',
		options: [
			{ name: 'Marketing', value: 'marketing', description: "Needs the recipient's consent (TCPA): sent only when the consent field is true, with an opt-out line" },
			{ name: 'Transactional', value: 'transactional', description: 'Account and reward notices the recipient expects; no consent check' },
		],
		default: 'marketing',
		displayOptions: show,
	},
	{
		displayName: 'Consent Field',
		name: 'consentField',
		type: 'string',
		default: 'smsConsent',
		required: true,
		hint: 'The input field that is true (or "true", "yes") for people who agreed to marketing texts',
		displayOptions: { show: { resource: ['sms'], operation: ['send'], category: ['marketing'] } },
	},
];

/** Only an explicit yes counts as consent: true, or the words true/yes as spreadsheets write them. */
function consentOf(value: unknown): boolean {
	if (value === true) return true;
	return typeof value === 'string' && ['true', 'yes'].includes(value.trim().toLowerCase());
}

/** Send SMS: render, check consent and segments, send once per idempotency key, route by outcome. */
export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const category = this.getNodeParameter('category', 0, 'marketing') as SmsCategory;
	const content = smsContentReader(this, { optOutByDefault: category === 'marketing' });
	const delivery = deliverySettings(this);
	const provider = this.getNodeParameter('smsProvider', 0, 'twilio');
	const fromFor = parameterReader<string>(this, 'smsFrom', '');
	const countryFor = parameterReader<string>(this, 'defaultCountry', '');
	const phoneField = this.getNodeParameter('phoneField', 0, 'phone') as string;
	const consentField = category === 'marketing' ? (this.getNodeParameter('consentField', 0, 'smsConsent') as string) : '';
	let opened: Promise<OpenedSender<SmsSender>> | undefined;
	let dependencies: Promise<SendDependencies> | undefined;
	try {
		return await runPerItemRouted(
			this,
			OUTPUT_NAMES.length,
			async (item, itemIndex) => {
				opened ??= openSmsSender(this, provider, delivery.timeoutMs);
				const { sender, limiterKey } = await opened;
				dependencies ??= delivery.dependencies(limiterKey);
				const options = delivery.options(itemIndex);
				const result = await sendSms(
					{
						...content.content(item, itemIndex),
						...delivery.identity(item, itemIndex),
						to: readField(item.json, phoneField),
						from: fromFor(itemIndex),
						defaultCountry: countryFor(itemIndex) || undefined,
						mobileOnly: options.mobileOnly === true,
						category,
						consent: category === 'marketing' ? consentOf(readField(item.json, consentField)) : undefined,
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
					...deliveryLabels,
					to: 'Phone Field',
					from: 'From',
					defaultCountry: 'Default Country',
					category: 'Category',
				},
			},
		);
	} finally {
		await closeSender(opened);
	}
}
