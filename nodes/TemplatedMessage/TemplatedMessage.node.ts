import type {
	IExecuteFunctions,
	INodeExecutionData,
	INodeType,
	INodeTypeDescription,
} from 'n8n-workflow';
import { NodeConnectionTypes, updateDisplayOptions } from 'n8n-workflow';
import { ledgerNotice, referralLedgerConnectionTest } from '../shared/ledger';
import { linkSecretTest } from '../shared/linkSecret';
import { contentDescription } from './actions/content';
import { deliveryDescription, OUTPUT_NAMES, recipientDescription } from './actions/delivery';
import * as email from './actions/email/Email.resource';
import * as emailSend from './actions/email/send.operation';
import * as emailSendOwed from './actions/email/sendOwed.operation';
import * as emailUnsubscribe from './actions/email/unsubscribe.operation';
import { owedDescription } from './actions/owed';
import { router } from './actions/router';
import * as sms from './actions/sms/Sms.resource';
import * as smsSend from './actions/sms/send.operation';
import * as smsSendOwed from './actions/sms/sendOwed.operation';
import { reasonDescription } from './actions/subscription';
import { referralSmtpConnectionTest } from './transport';

/** The operations that read or write the ledger (sent-message log, suppressions, owed messages). */
const LEDGER_OPERATIONS = ['send', 'sendOwed', 'unsubscribe', 'resubscribe'];
const emailSender = (provider: string) => ({
	show: { resource: ['email'], operation: ['send', 'sendOwed'], emailProvider: [provider] },
});
const smsSender = (provider: string) => ({
	show: { resource: ['sms'], operation: ['send', 'sendOwed'], smsProvider: [provider] },
});

export class TemplatedMessage implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Templated Message',
		name: 'templatedMessage',
		icon: { light: 'file:templatedMessage.svg', dark: 'file:templatedMessage.dark.svg' },
		group: ['output'],
		version: 1,
		subtitle: '={{ $parameter["operation"] + ": " + $parameter["resource"] }}',
		description:
			'Render and send templated email and SMS once per recipient, with suppression list, quiet hours and retries',
		defaults: { name: 'Templated Message' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [
			NodeConnectionTypes.Main,
			NodeConnectionTypes.Main,
			NodeConnectionTypes.Main,
			NodeConnectionTypes.Main,
		],
		outputNames: OUTPUT_NAMES,
		credentials: [
			{
				name: 'referralLedgerApi',
				displayName: 'Ledger Database',
				required: false,
				testedBy: 'referralLedgerConnectionTest',
				displayOptions: { show: { operation: LEDGER_OPERATIONS } },
			},
			{
				name: 'referralSmtpApi',
				displayName: 'SMTP Server',
				required: true,
				testedBy: 'referralSmtpConnectionTest',
				displayOptions: emailSender('smtp'),
			},
			{
				name: 'referralSendGridApi',
				displayName: 'SendGrid Account',
				required: true,
				displayOptions: emailSender('sendgrid'),
			},
			{
				name: 'referralMailgunApi',
				displayName: 'Mailgun Account',
				required: true,
				displayOptions: emailSender('mailgun'),
			},
			{
				name: 'referralPostmarkApi',
				displayName: 'Postmark Account',
				required: true,
				displayOptions: emailSender('postmark'),
			},
			{
				name: 'referralResendApi',
				displayName: 'Resend Account',
				required: true,
				displayOptions: emailSender('resend'),
			},
			{
				name: 'referralTwilioApi',
				displayName: 'Twilio Account',
				required: true,
				displayOptions: smsSender('twilio'),
			},
			{
				name: 'referralVonageApi',
				displayName: 'Vonage Account',
				required: true,
				displayOptions: smsSender('vonage'),
			},
			{
				name: 'referralPlivoApi',
				displayName: 'Plivo Account',
				required: true,
				displayOptions: smsSender('plivo'),
			},
			{
				name: 'referralTelnyxApi',
				displayName: 'Telnyx Account',
				required: true,
				displayOptions: smsSender('telnyx'),
			},
			{
				name: 'referralLinkSecretApi',
				displayName: 'Link Signing Secret',
				required: true,
				testedBy: 'linkSecretTest',
				displayOptions: {
					show: {
						resource: ['email'],
						operation: ['send', 'unsubscribe', 'sendOwed'],
						signedLink: ['signed'],
					},
				},
			},
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
			email.operationProperty,
			sms.operationProperty,
			...updateDisplayOptions({ show: { operation: LEDGER_OPERATIONS } }, [ledgerNotice]),
			...updateDisplayOptions({ show: { operation: ['render', 'unsubscribe', 'resubscribe'] } }, [
				{
					displayName: 'Render, Unsubscribe and Resubscribe put every item on the first output',
					name: 'outputNotice',
					type: 'notice',
					default: '',
				},
			]),
			...emailSend.description,
			...smsSend.description,
			...owedDescription,
			...smsSendOwed.description,
			...emailSendOwed.description,
			...recipientDescription,
			...emailUnsubscribe.description,
			...reasonDescription,
			...contentDescription,
			...deliveryDescription,
		],
	};

	methods = {
		credentialTest: { referralLedgerConnectionTest, referralSmtpConnectionTest, linkSecretTest },
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return await router.call(this);
	}
}
