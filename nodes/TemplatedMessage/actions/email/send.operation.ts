import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import {
	normalizeRecipient,
	sendEmail,
	type EmailSender,
	type SendDependencies,
} from '../../../../engine/messaging';
import { unsubscribeLink } from '../../../../engine/shared/links';
import { linkSecretsReader } from '../../../shared/linkSecret';
import { parameterReader } from '../../../shared/parameters';
import { inputSourceOf } from '../../../shared/inputs';
import { runPerItemRouted } from '../../../shared/runner';
import { closeSender, openEmailSender, type OpenedSender } from '../../transport';
import { contentLabels, emailContentReader } from '../content';
import {
	customHeaders,
	deliveryLabelsFor,
	emailInput,
	recipientReader,
	deliverySettings,
	handled,
	OUTPUT_NAMES,
	OUTPUTS,
	routeResult,
} from '../delivery';

/** Provider and From: Send and Send Owed Messages both send. */
const sending = { show: { resource: ['email'], operation: ['send', 'sendOwed'] } };

export const description: INodeProperties[] = updateDisplayOptions(sending, [
	{
		displayName: 'Provider',
		name: 'emailProvider',
		type: 'options',
		noDataExpression: true,
		options: [
			{ name: 'Mailgun', value: 'mailgun' },
			{ name: 'Postmark', value: 'postmark' },
			{ name: 'Resend', value: 'resend' },
			{ name: 'SendGrid', value: 'sendgrid' },
			{ name: 'SMTP', value: 'smtp', description: 'Any mail server, through nodemailer' },
		],
		default: 'smtp',
	},
	{
		displayName: 'From',
		name: 'from',
		type: 'string',
		default: '',
		required: true,
		placeholder: 'e.g. Acme Rewards <rewards@example.com>',
		description:
			'Sender address, optionally with a name; the provider must accept it (verified domain or sender)',
	},
]);

/** Send (email): render, check, send once per idempotency key, and put each item on the output of its outcome. */
export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const content = emailContentReader(this);
	const delivery = deliverySettings(this, inputSourceOf(this));
	const provider = this.getNodeParameter('emailProvider', 0, 'smtp');
	const fromFor = parameterReader<string>(this, 'from', '');
	const source = inputSourceOf(this);
	const emailFor = recipientReader(this, emailInput, source);
	const signedFor = parameterReader<string>(this, 'signedLink', 'plain');
	const linkSecrets = linkSecretsReader(this);
	let opened: Promise<OpenedSender<EmailSender>> | undefined;
	let dependencies: Promise<SendDependencies> | undefined;
	try {
		return await runPerItemRouted(
			this,
			OUTPUT_NAMES.length,
			async (item, itemIndex) => {
				// Opened on the first item, so a broken credential is reported per item like any other problem.
				opened ??= openEmailSender(this, provider, delivery.timeoutMs, delivery.parallel);
				const { sender, limiterKey } = await opened;
				// An item may fail before it awaits them (a missing link secret): never left unhandled, and awaited below.
				dependencies ??= handled(delivery.dependencies(limiterKey));
				const options = delivery.options(itemIndex);
				const input = content.content(item, itemIndex);
				const to = emailFor(itemIndex, item.json) as string;
				if (input.commercial && signedFor(itemIndex) === 'signed') {
					// The recipient's own link: the token names this address, so it unsubscribes nobody else.
					const address = normalizeRecipient('email', to, { itemLabel: `item ${itemIndex}` });
					input.commercial.unsubscribeUrl = unsubscribeLink({
						baseUrl: input.commercial.unsubscribeUrl,
						channel: 'email',
						address,
						secrets: await linkSecrets(),
					}).url;
				}
				const result = await sendEmail(
					{
						...input,
						...delivery.identity(item, itemIndex),
						from: fromFor(itemIndex),
						to,
						replyTo: typeof options.replyTo === 'string' ? options.replyTo : undefined,
						headers: customHeaders(options),
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
					...contentLabels('email', content.source, content.dataFrom),
					...deliveryLabelsFor(source),
					to: source === 'values' ? 'Email' : 'Email Field',
					from: 'From',
				},
			},
		);
	} finally {
		// The execution ends with its ledger work: nothing keeps opening the ledger after it answered.
		await dependencies?.catch(() => undefined);
		await closeSender(opened);
	}
}
