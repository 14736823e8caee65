/* One entry point per channel: the node names a provider and passes its credentials and the
 * transport; it gets back a sender with one `send` whatever the provider. */
import { EngineError } from '../../shared/errors';
import type { EmailSender, HttpTransport, SmsSender } from '../types';
import type { HttpProviderOptions } from './http';
import { sendMailgun, type MailgunCredentials } from './mailgun';
import { sendPlivo, type PlivoCredentials } from './plivo';
import { sendPostmark, type PostmarkCredentials } from './postmark';
import { sendResend, type ResendCredentials } from './resend';
import { sendSendGrid, type SendGridCredentials } from './sendgrid';
import { createSmtpSender, type SmtpCredentials, type SmtpOptions } from './smtp';
import { sendTelnyx, type TelnyxCredentials } from './telnyx';
import { sendTwilio, type TwilioCredentials } from './twilio';
import { sendVonage, type VonageCredentials } from './vonage';

export type {
	MailgunCredentials,
	PlivoCredentials,
	PostmarkCredentials,
	ResendCredentials,
	SendGridCredentials,
	SmtpCredentials,
	TelnyxCredentials,
	TwilioCredentials,
	VonageCredentials,
};

interface HttpConfig<P extends string, C> extends HttpProviderOptions {
	provider: P;
	credentials: C;
	transport: HttpTransport;
}

export type EmailProviderConfig =
	| ({ provider: 'smtp'; credentials: SmtpCredentials } & SmtpOptions)
	| HttpConfig<'sendgrid', SendGridCredentials>
	| HttpConfig<'mailgun', MailgunCredentials>
	| HttpConfig<'postmark', PostmarkCredentials>
	| HttpConfig<'resend', ResendCredentials>;

export type SmsProviderConfig =
	| HttpConfig<'twilio', TwilioCredentials>
	| HttpConfig<'vonage', VonageCredentials>
	| HttpConfig<'plivo', PlivoCredentials>
	| HttpConfig<'telnyx', TelnyxCredentials>;

export const EMAIL_PROVIDERS = ['smtp', 'sendgrid', 'mailgun', 'postmark', 'resend'] as const;
export const SMS_PROVIDERS = ['twilio', 'vonage', 'plivo', 'telnyx'] as const;

function unknownProvider(kind: string, provider: unknown, known: readonly string[]): EngineError {
	return new EngineError(
		'unknown_provider',
		`Unknown ${kind} provider "${String(provider)}"; choose one of ${known.join(', ')}.`,
		{ field: 'provider' },
	);
}

function requireTransport(config: { transport?: unknown; provider: string }): void {
	if (typeof config.transport !== 'function') {
		throw new EngineError(
			'missing_transport',
			`The ${config.provider} provider needs an HTTP transport.`,
			{ field: 'transport' },
		);
	}
}

export function createEmailSender(config: EmailProviderConfig): EmailSender {
	const options = (c: HttpProviderOptions): HttpProviderOptions => ({
		baseUrl: c.baseUrl,
		timeoutMs: c.timeoutMs,
	});
	switch (config.provider) {
		case 'smtp':
			return createSmtpSender(config.credentials, {
				timeoutMs: config.timeoutMs,
				pool: config.pool,
				maxConnections: config.maxConnections,
			});
		case 'sendgrid':
			requireTransport(config);
			return {
				provider: 'SendGrid',
				send: (message) =>
					sendSendGrid(message, config.credentials, config.transport, options(config)),
			};
		case 'mailgun':
			requireTransport(config);
			return {
				provider: 'Mailgun',
				send: (message) =>
					sendMailgun(message, config.credentials, config.transport, options(config)),
			};
		case 'postmark':
			requireTransport(config);
			return {
				provider: 'Postmark',
				send: (message) =>
					sendPostmark(message, config.credentials, config.transport, options(config)),
			};
		case 'resend':
			requireTransport(config);
			return {
				provider: 'Resend',
				send: (message) =>
					sendResend(message, config.credentials, config.transport, options(config)),
			};
		default:
			throw unknownProvider('email', (config as { provider: unknown }).provider, EMAIL_PROVIDERS);
	}
}

export function createSmsSender(config: SmsProviderConfig): SmsSender {
	const options = (c: HttpProviderOptions): HttpProviderOptions => ({
		baseUrl: c.baseUrl,
		timeoutMs: c.timeoutMs,
	});
	switch (config.provider) {
		case 'twilio':
			requireTransport(config);
			return {
				provider: 'Twilio',
				send: (message) =>
					sendTwilio(message, config.credentials, config.transport, options(config)),
			};
		case 'vonage':
			requireTransport(config);
			return {
				provider: 'Vonage',
				send: (message) =>
					sendVonage(message, config.credentials, config.transport, options(config)),
			};
		case 'plivo':
			requireTransport(config);
			return {
				provider: 'Plivo',
				send: (message) =>
					sendPlivo(message, config.credentials, config.transport, options(config)),
			};
		case 'telnyx':
			requireTransport(config);
			return {
				provider: 'Telnyx',
				send: (message) =>
					sendTelnyx(message, config.credentials, config.transport, options(config)),
			};
		default:
			throw unknownProvider('SMS', (config as { provider: unknown }).provider, SMS_PROVIDERS);
	}
}
