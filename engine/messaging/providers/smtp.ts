/* SMTP through nodemailer. SMTP has no idempotency key, so the message key becomes a deterministic
 * Message-ID (and X-Entity-Ref-ID): a duplicate that slips through is at least recognisable. */
import { Transform, type TransformCallback } from 'node:stream';
import { createTransport, type Transporter } from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport';
import { EngineError } from '../../shared/errors';
import { formatEmailAddress } from '../email';
import {
	DeliveryError,
	HandOverRefused,
	type EmailSender,
	type OutgoingEmail,
	type ProviderAccepted,
	type SendHooks,
} from '../types';
import { DEFAULT_TIMEOUT_MS } from './http';

export const SMTP = 'SMTP';

export interface SmtpCredentials {
	host: string;
	port: number;
	/** TLS from the first byte (port 465); otherwise STARTTLS is used when the server offers it. */
	secure?: boolean;
	user?: string;
	password?: string;
	/**
	 * STARTTLS policy when `secure` is off: `requiredOn587` (the default) refuses to send on port 587
	 * unless the connection is upgraded, `required` refuses on every port, `whenOffered` falls back to
	 * plain text when the server offers no STARTTLS (a relay on a trusted network).
	 */
	starttls?: 'requiredOn587' | 'required' | 'whenOffered';
	/** Older credentials' switch: true means `required`. */
	requireTLS?: boolean;
	/** Accept self-signed or expired server certificates (n8n's "Ignore SSL Issues"). */
	allowUnauthorizedCerts?: boolean;
	/** Name sent in EHLO. */
	clientHostname?: string;
}

export interface SmtpOptions {
	timeoutMs?: number;
	/** Keep connections open between messages (close the sender when done). */
	pool?: boolean;
	maxConnections?: number;
}

/** Network-level nodemailer error codes: the server may well answer next time. */
const RETRYABLE_CODES = new Set([
	'ECONNECTION',
	'ETIMEDOUT',
	'ESOCKET',
	'EDNS',
	'ECONNRESET',
	'ECONNREFUSED',
	'EPROTOCOL',
	'ESTREAM',
]);

export function classifySmtpError(error: unknown): DeliveryError {
	const e = error as {
		code?: string;
		command?: string;
		responseCode?: number;
		response?: string;
		message?: string;
	};
	const responseCode = typeof e?.responseCode === 'number' ? e.responseCode : undefined;
	const said = (e?.response ?? e?.message ?? String(error)).replace(/\s+/g, ' ').trim();
	if (e?.command === 'STARTTLS' || e?.code === 'ETLS') {
		return new DeliveryError(
			'permanent',
			SMTP,
			`The SMTP server could not encrypt the connection with STARTTLS, which the credential requires (nothing was sent): ${said}`,
			{ status: responseCode, providerCode: e.code, cause: error },
		);
	}
	if (e?.code === 'EAUTH') {
		return new DeliveryError(
			'permanent',
			SMTP,
			`SMTP login failed: ${said}. Check the user and password.`,
			{ status: responseCode, providerCode: e.code, cause: error },
		);
	}
	if (responseCode !== undefined && responseCode >= 500) {
		return new DeliveryError(
			'permanent',
			SMTP,
			`The SMTP server refused the message (${responseCode}): ${said}`,
			{ status: responseCode, providerCode: e.code, cause: error },
		);
	}
	if (responseCode !== undefined && responseCode >= 400) {
		return new DeliveryError(
			'retryable',
			SMTP,
			`The SMTP server deferred the message (${responseCode}): ${said}`,
			{ status: responseCode, providerCode: e.code, cause: error },
		);
	}
	if (e?.code === undefined || RETRYABLE_CODES.has(e.code)) {
		return new DeliveryError('retryable', SMTP, `The SMTP server could not be reached: ${said}`, {
			providerCode: e?.code,
			cause: error,
		});
	}
	return new DeliveryError('permanent', SMTP, `SMTP sending failed: ${said}`, {
		providerCode: e.code,
		cause: error,
	});
}

export function smtpMessageId(idempotencyKey: string, fromAddress: string): string {
	const domain = fromAddress.slice(fromAddress.lastIndexOf('@') + 1) || 'localhost';
	return `<${idempotencyKey.replace(/[^A-Za-z0-9._-]/g, '')}@${domain}>`;
}

/** Whether these credentials must refuse a connection that STARTTLS did not encrypt. */
export function requiresStarttls(
	credentials: Pick<SmtpCredentials, 'port' | 'secure' | 'starttls' | 'requireTLS'>,
): boolean {
	if (credentials.secure === true) return false;
	if (credentials.requireTLS === true || credentials.starttls === 'required') return true;
	if (credentials.starttls === 'whenOffered') return false;
	return credentials.port === 587;
}

/** nodemailer's options for these credentials; the sender and the connection check share them. */
export function smtpTransportOptions(
	credentials: SmtpCredentials,
	timeoutMs: number,
): SMTPTransport.Options {
	if (typeof credentials?.host !== 'string' || credentials.host.trim() === '') {
		throw new EngineError('missing_credentials', 'SMTP credentials need a host.', {
			field: 'host',
		});
	}
	if (!Number.isInteger(credentials.port) || credentials.port < 1 || credentials.port > 65535) {
		throw new EngineError(
			'missing_credentials',
			`SMTP port must be a whole number from 1 to 65535; got ${credentials.port}.`,
			{ field: 'port' },
		);
	}
	const transportOptions: SMTPTransport.Options = {
		host: credentials.host.trim(),
		port: credentials.port,
		secure: credentials.secure === true,
		requireTLS: requiresStarttls(credentials),
		connectionTimeout: timeoutMs,
		greetingTimeout: timeoutMs,
		socketTimeout: timeoutMs,
		tls: { rejectUnauthorized: credentials.allowUnauthorizedCerts !== true },
	};
	if (credentials.clientHostname) transportOptions.name = credentials.clientHostname;
	if (credentials.user)
		transportOptions.auth = { user: credentials.user, pass: credentials.password ?? '' };
	return transportOptions;
}

/** For a credential test: connects, says hello and logs in (nodemailer `verify`), sends nothing. Never throws. */
export async function verifySmtpConnection(
	credentials: SmtpCredentials,
	options: { timeoutMs?: number } = {},
): Promise<{ ok: boolean; message: string }> {
	let transporter: Transporter<SMTPTransport.SentMessageInfo> | undefined;
	try {
		transporter = createTransport(
			smtpTransportOptions(credentials, options.timeoutMs ?? DEFAULT_TIMEOUT_MS),
		);
		await transporter.verify();
		return {
			ok: true,
			message: `Connected to ${credentials.host.trim()}:${credentials.port}${credentials.user ? ' and logged in' : ''}`,
		};
	} catch (error) {
		if (error instanceof EngineError) return { ok: false, message: error.message };
		return { ok: false, message: classifySmtpError(error).message };
	} finally {
		transporter?.close();
	}
}

/**
 * The last stream before the SMTP connection: passes the message through one chunk at a time as the
 * connection reads it (it reads only once the server has accepted MAIL FROM, RCPT TO and DATA), and
 * holds the end, after which nodemailer writes the final dot, the server's point of no return,
 * until the hand-over is recorded. A refused hand-over aborts the DATA: the server discards it.
 */
class HoldEnd extends Transform {
	constructor(private readonly hooks: SendHooks) {
		// No read-ahead: a chunk moves on only when the connection asks for it.
		super({ readableHighWaterMark: 0 });
	}

	override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
		callback(null, chunk);
	}

	override _flush(callback: TransformCallback): void {
		let proceeded = false;
		this.hooks
			.handOver(() => {
				proceeded = true;
				callback();
			})
			.then(
				(held) => {
					if (!held && !proceeded) callback(new HandOverRefused());
				},
				(error: Error) => {
					if (!proceeded) callback(error);
				},
			);
	}
}

export function createSmtpSender(
	credentials: SmtpCredentials,
	options: SmtpOptions = {},
): EmailSender {
	const transportOptions = smtpTransportOptions(
		credentials,
		options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
	);
	const open = (): Transporter<SMTPTransport.SentMessageInfo> => {
		const created: Transporter<SMTPTransport.SentMessageInfo> = options.pool
			? createTransport({
					...transportOptions,
					pool: true,
					maxConnections: options.maxConnections ?? 2,
					// A message whose connection closed mid-send fails (the hand-over decides what
					// happens next) instead of being sent again by the pool: the server may have it.
					maxRequeues: 0,
				} as SMTPTransport.Options)
			: createTransport(transportOptions);
		// A message sent with hooks holds its end until the hand-over is recorded.
		created.use('stream', (mail, done) => {
			const hooks = (mail.data as { handOverHooks?: SendHooks }).handOverHooks;
			if (hooks) mail.message.processFunc((input) => input.pipe(new HoldEnd(hooks)));
			done();
		});
		return created;
	};
	let transporter = open();

	return {
		provider: SMTP,
		handsOver: true,
		async send(message: OutgoingEmail, hooks?: SendHooks): Promise<ProviderAccepted> {
			const headers: Record<string, string> = { ...message.headers };
			let messageId: string | undefined;
			if (message.idempotencyKey) {
				messageId = smtpMessageId(message.idempotencyKey, message.from.address);
				headers['X-Entity-Ref-ID'] = message.idempotencyKey;
			}
			try {
				const info = await transporter.sendMail({
					from: formatEmailAddress(message.from),
					to: formatEmailAddress(message.to),
					replyTo: message.replyTo ? formatEmailAddress(message.replyTo) : undefined,
					subject: message.subject,
					text: message.text,
					html: message.html,
					headers,
					messageId,
					...(hooks ? { handOverHooks: hooks } : {}),
				});
				return { provider: SMTP, providerMessageId: info.messageId };
			} catch (error) {
				const refused =
					error instanceof HandOverRefused ? error : (error as { cause?: unknown })?.cause;
				if (
					error instanceof HandOverRefused ||
					refused instanceof HandOverRefused ||
					/claim on this message was lost/.test(String((error as Error)?.message))
				) {
					// The connection stopped in the middle of DATA: start afresh for the next message.
					transporter.close();
					transporter = open();
					throw new HandOverRefused();
				}
				throw classifySmtpError(error);
			}
		},
		close(): void {
			transporter.close();
		},
	};
}
