import type { IExecuteFunctions, INodeExecutionData, INodeType, INodeTypeDescription } from 'n8n-workflow';
import { NodeConnectionTypes } from 'n8n-workflow';
import { ledgerNotice, referralLedgerConnectionTest } from '../shared/ledger';
import { linkSecretTest } from '../shared/linkSecret';
import { contentDescription } from './actions/content';
import { deliveryDescription, OUTPUT_NAMES, recipientDescription } from './actions/delivery';
import { router } from './actions/router';
import * as sendEmail from './actions/sendEmail.operation';
import * as sendOwed from './actions/sendOwed.operation';
import * as sendSms from './actions/sendSms.operation';
import * as unsubscribe from './actions/unsubscribe.operation';
import { referralSmtpConnectionTest } from './transport';

const emailSend = (provider: string) => ({ show: { resource: ['email'], operation: ['send', 'sendOwed'], emailProvider: [provider] } });
const smsSend = (provider: string) => ({ show: { resource: ['sms'], operation: ['send', 'sendOwed'], smsProvider: [provider] } });

export class TemplatedMessage implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Templated Message',
		name: 'templatedMessage',
		icon: { light: 'file:templatedMessage.svg', dark: 'file:templatedMessage.dark.svg' },
		group: ['output'],
		version: 1,
		subtitle: '={{ $parameter["operation"] + ": " + $parameter["resource"] }}',
		description: 'Render and send templated email and SMS once per recipient, with suppression list, quiet hours and retries',
		defaults: { name: 'Templated Message' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main, NodeConnectionTypes.Main, NodeConnectionTypes.Main, NodeConnectionTypes.Main],
		outputNames: OUTPUT_NAMES,
		credentials: [
			{ name: 'referralLedgerApi', displayName: 'Ledger Database', required: false, testedBy: 'referralLedgerConnectionTest', displayOptions: { show: { operation: ['send', 'sendOwed', 'unsubscribe', 'resubscribe'] } } },
			{ name: 'referralSmtpApi', displayName: 'SMTP Server', required: true, testedBy: 'referralSmtpConnectionTest', displayOptions: emailSend('smtp') },
			{ name: 'referralSendGridApi', displayName: 'SendGrid Account', required: true, displayOptions: emailSend('sendgrid') },
			{ name: 'referralMailgunApi', displayName: 'Mailgun Account', required: true, displayOptions: emailSend('mailgun') },
			{ name: 'referralPostmarkApi', displayName: 'Postmark Account', required: true, displayOptions: emailSend('postmark') },
			{ name: 'referralResendApi', displayName: 'Resend Account', required: true, displayOptions: emailSend('resend') },
			{ name: 'referralTwilioApi', displayName: 'Twilio Account', required: true, displayOptions: smsSend('twilio') },
			{ name: 'referralVonageApi', displayName: 'Vonage Account', required: true, displayOptions: smsSend('vonage') },
			{ name: 'referralPlivoApi', displayName: 'Plivo Account', required: true, displayOptions: smsSend('plivo') },
			{ name: 'referralTelnyxApi', displayName: 'Telnyx Account', required: true, displayOptions: smsSend('telnyx') },
			{ name: 'referralLinkSecretApi', displayName: 'Link Signing Secret', required: true, testedBy: 'linkSecretTest', displayOptions: { show: { resource: ['email'], operation: ['send', 'unsubscribe', 'sendOwed'], signedLink: ['signed'] } } },
		],
		properties: [
			{
				displayName: 'Resource',
				name: 'resource',
				type: 'options',
				noDataExpression: true,
				options: [
					{ name: 'Email', value: 'email' },
					{ name: 'SMS', value: 'sms' },
				],
				default: 'email',
			},
			{
				displayName: 'Operation',
				name: 'operation',
				type: 'options',
				noDataExpression: true,
				displayOptions: { show: { resource: ['email'] } },
				options: [
					{
						name: 'Render',
						value: 'render',
						action: 'Render an email without sending it',
						description: 'Subject, HTML and plain text exactly as Send would build them, with warnings',
					},
					{
						name: 'Resubscribe',
						value: 'resubscribe',
						action: 'Resubscribe an email address',
						description: 'Remove an address from the suppression list after a new opt-in',
					},
					{
						name: 'Send',
						value: 'send',
						action: 'Send an email',
						description: 'Render and send once per recipient; outputs Sent, Skipped, Deferred and Failed',
					},
					{
						name: 'Send Owed Messages',
						value: 'sendOwed',
						action: 'Send the emails the ledger owes',
						description: 'Deliver the emails recorded in the ledger with their cause (e.g. reward emails), each exactly once, even after a crash',
					},
					{
						name: 'Unsubscribe',
						value: 'unsubscribe',
						action: 'Unsubscribe an email address',
						description: 'Add an address to the suppression list; later sends to it are skipped',
					},
				],
				default: 'send',
			},
			{
				displayName: 'Operation',
				name: 'operation',
				type: 'options',
				noDataExpression: true,
				displayOptions: { show: { resource: ['sms'] } },
				options: [
					{
						name: 'Render',
						value: 'render',
						action: 'Render an SMS without sending it',
						description: 'Text, encoding, characters and segments exactly as Send would build them, with warnings',
					},
					{
						name: 'Resubscribe',
						value: 'resubscribe',
						action: 'Resubscribe a phone number',
						description: 'Remove a number from the suppression list after a new opt-in',
					},
					{
						name: 'Send',
						value: 'send',
						action: 'Send an SMS',
						description: 'Render and send once per recipient; outputs Sent, Skipped, Deferred and Failed',
					},
					{
						name: 'Send Owed Messages',
						value: 'sendOwed',
						action: 'Send the SMS the ledger owes',
						description: 'Deliver the texts recorded in the ledger with their cause, each exactly once, even after a crash',
					},
					{
						name: 'Unsubscribe',
						value: 'unsubscribe',
						action: 'Unsubscribe a phone number',
						description: 'Add a number to the suppression list; later sends to it are skipped',
					},
				],
				default: 'send',
			},
			{ ...ledgerNotice, displayOptions: { show: { operation: ['send', 'sendOwed', 'unsubscribe', 'resubscribe'] } } },
			{
				displayName: 'Render, Unsubscribe and Resubscribe put every item on the first output',
				name: 'outputNotice',
				type: 'notice',
				default: '',
				displayOptions: { show: { operation: ['render', 'unsubscribe', 'resubscribe'] } },
			},
			...sendEmail.description,
			...sendSms.description,
			...sendOwed.description,
			...recipientDescription,
			...unsubscribe.description,
			...contentDescription,
			...deliveryDescription,
		],
	};

	methods = { credentialTest: { referralLedgerConnectionTest, referralSmtpConnectionTest, linkSecretTest } };

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return await router.call(this);
	}
}
