/* The only place the Templated Message node reaches providers: the engine's HttpTransport on top of
 * n8n's httpRequestWithAuthentication, the provider settings read from each credential, and the
 * SMTP connection test. Secrets never reach the engine: the credential's own `authenticate` signs
 * every request, so the engine gets a stand-in where it would put a key. */
import type {
	ICredentialDataDecryptedObject,
	ICredentialsDecrypted,
	ICredentialTestFunctions,
	IDataObject,
	IExecuteFunctions,
	IHttpRequestOptions,
	IN8nHttpFullResponse,
	INodeCredentialTestResult,
} from 'n8n-workflow';
import {
	createEmailSender,
	createSmsSender,
	SendLimiterRegistry,
	verifySmtpConnection,
	type EmailProviderConfig,
	type EmailSender,
	type HttpRequest,
	type HttpTransport,
	type SendLimiter,
	type SmsProviderConfig,
	type SmsSender,
	type SmtpCredentials,
} from '../../engine/messaging';
import { EngineError } from '../../engine/shared/errors';

export const EMAIL_PROVIDER_CREDENTIALS = {
	smtp: 'referralSmtpApi',
	sendgrid: 'referralSendGridApi',
	mailgun: 'referralMailgunApi',
	postmark: 'referralPostmarkApi',
	resend: 'referralResendApi',
} as const;

export const SMS_PROVIDER_CREDENTIALS = {
	twilio: 'referralTwilioApi',
	vonage: 'referralVonageApi',
	plivo: 'referralPlivoApi',
	telnyx: 'referralTelnyxApi',
} as const;

export type EmailProvider = keyof typeof EMAIL_PROVIDER_CREDENTIALS;
export type SmsProvider = keyof typeof SMS_PROVIDER_CREDENTIALS;

/** What the engine gets where a key or token would go; the credential's `authenticate` replaces it. */
const SIGNED_BY_N8N = 'signed-by-n8n-credential';

/** Auth the engine writes into a request, removed so the credential's `authenticate` is the only signature. */
const ENGINE_AUTH_HEADERS = new Set(['authorization', 'x-postmark-server-token']);
const ENGINE_AUTH_FORM_FIELDS = new Set(['api_key', 'api_secret']);

/** The engine's HttpTransport: resolves for every HTTP status, rejects only when no answer came. */
export function n8nTransport(ctx: IExecuteFunctions, credentialType: string): HttpTransport {
	return async (request: HttpRequest) => {
		const headers: IDataObject = {};
		for (const [name, value] of Object.entries(request.headers)) {
			if (!ENGINE_AUTH_HEADERS.has(name.toLowerCase())) headers[name] = value;
		}
		let body: IDataObject | undefined;
		if (request.form !== undefined) {
			body = {};
			for (const [name, value] of Object.entries(request.form))
				if (!ENGINE_AUTH_FORM_FIELDS.has(name)) body[name] = value;
			headers['Content-Type'] = 'application/x-www-form-urlencoded';
		} else if (request.body !== undefined) {
			body = request.body as IDataObject;
			headers['Content-Type'] = 'application/json';
		}
		const options: IHttpRequestOptions = {
			method: request.method,
			url: request.url,
			headers,
			body,
			timeout: request.timeoutMs,
			returnFullResponse: true,
			ignoreHttpStatusErrors: true,
		};
		const response = (await ctx.helpers.httpRequestWithAuthentication.call(
			ctx,
			credentialType,
			options,
		)) as IN8nHttpFullResponse;
		return {
			status: response.statusCode,
			headers: plainHeaders(response.headers),
			body: response.body,
		};
	};
}

function plainHeaders(headers: unknown): Record<string, string | string[] | undefined> {
	if (headers === null || typeof headers !== 'object') return {};
	// Axios hands back an AxiosHeaders instance; its toJSON gives the plain name → value map.
	const plain =
		typeof (headers as { toJSON?: unknown }).toJSON === 'function'
			? (headers as { toJSON(): unknown }).toJSON()
			: headers;
	return plain as Record<string, string | string[] | undefined>;
}

function text(data: ICredentialDataDecryptedObject, name: string): string | undefined {
	const value = data[name];
	return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

/** The credential's non-secret settings; the key or token stays with n8n. */
async function credentialSettings(
	ctx: IExecuteFunctions,
	credentialType: string,
): Promise<ICredentialDataDecryptedObject> {
	return await ctx.getCredentials(credentialType);
}

export interface OpenedSender<S> {
	sender: S;
	/** One limiter per credential in this process: pacing holds across concurrent executions. */
	limiterKey: string;
}

const limiters = new SendLimiterRegistry();

/** Shared by every execution using this credential; at least 4 in flight so parallel executions are not serialised. */
export function limiterFor(key: string, messagesPerSecond: number, parallel: number): SendLimiter {
	const minIntervalMs = messagesPerSecond > 0 ? Math.ceil(1000 / messagesPerSecond) : 0;
	const concurrency = Math.max(4, parallel);
	return limiters.for(`${key}:${minIntervalMs}:${concurrency}`, { concurrency, minIntervalMs });
}

function credentialId(ctx: IExecuteFunctions, credentialType: string): string {
	return ctx.getNode().credentials?.[credentialType]?.id ?? credentialType;
}

function checkProvider<P extends string>(
	provider: unknown,
	known: Record<P, string>,
	channel: string,
): P {
	if (typeof provider !== 'string' || !Object.hasOwn(known, provider)) {
		throw new EngineError(
			'unknown_provider',
			`Unknown ${channel} provider "${String(provider)}"; choose one of ${Object.keys(known).join(', ')}.`,
			{ field: 'provider' },
		);
	}
	return provider as P;
}

export async function openEmailSender(
	ctx: IExecuteFunctions,
	chosen: unknown,
	timeoutMs: number,
	parallel = 1,
): Promise<OpenedSender<EmailSender>> {
	const provider = checkProvider(chosen, EMAIL_PROVIDER_CREDENTIALS, 'email');
	const credentialType = EMAIL_PROVIDER_CREDENTIALS[provider];
	const data = await credentialSettings(ctx, credentialType);
	const limiterKey = `${credentialType}:${credentialId(ctx, credentialType)}`;
	if (provider === 'smtp') {
		// SMTP is not HTTP: nodemailer needs the password itself. Pooled connections, one per parallel send (at most 4).
		const maxConnections = Math.min(4, Math.max(1, parallel));
		return {
			sender: createEmailSender({
				provider,
				credentials: smtpCredentials(data),
				timeoutMs,
				pool: true,
				maxConnections,
			}),
			limiterKey,
		};
	}
	const transport = n8nTransport(ctx, credentialType);
	const common = { transport, timeoutMs, baseUrl: text(data, 'baseUrl') };
	let config: EmailProviderConfig;
	switch (provider) {
		case 'sendgrid':
			config = { provider, ...common, credentials: { apiKey: SIGNED_BY_N8N } };
			break;
		case 'mailgun':
			config = {
				provider,
				...common,
				credentials: { apiKey: SIGNED_BY_N8N, domain: text(data, 'domain') ?? '' },
			};
			break;
		case 'postmark':
			config = {
				provider,
				...common,
				credentials: { serverToken: SIGNED_BY_N8N, messageStream: text(data, 'messageStream') },
			};
			break;
		case 'resend':
			config = { provider, ...common, credentials: { apiKey: SIGNED_BY_N8N } };
			break;
	}
	return { sender: createEmailSender(config), limiterKey };
}

export async function openSmsSender(
	ctx: IExecuteFunctions,
	chosen: unknown,
	timeoutMs: number,
): Promise<OpenedSender<SmsSender>> {
	const provider = checkProvider(chosen, SMS_PROVIDER_CREDENTIALS, 'SMS');
	const credentialType = SMS_PROVIDER_CREDENTIALS[provider];
	const data = await credentialSettings(ctx, credentialType);
	const limiterKey = `${credentialType}:${credentialId(ctx, credentialType)}`;
	const common = {
		transport: n8nTransport(ctx, credentialType),
		timeoutMs,
		baseUrl: text(data, 'baseUrl'),
	};
	let config: SmsProviderConfig;
	switch (provider) {
		case 'twilio':
			config = {
				provider,
				...common,
				credentials: {
					accountSid: text(data, 'accountSid') ?? '',
					authToken: SIGNED_BY_N8N,
					messagingServiceSid: text(data, 'messagingServiceSid'),
					statusCallbackUrl: text(data, 'statusCallbackUrl'),
				},
			};
			break;
		case 'vonage':
			config = {
				provider,
				...common,
				credentials: { apiKey: SIGNED_BY_N8N, apiSecret: SIGNED_BY_N8N },
			};
			break;
		case 'plivo':
			config = {
				provider,
				...common,
				credentials: {
					authId: text(data, 'authId') ?? '',
					authToken: SIGNED_BY_N8N,
					powerpackUuid: text(data, 'powerpackUuid'),
					statusCallbackUrl: text(data, 'statusCallbackUrl'),
				},
			};
			break;
		case 'telnyx':
			config = {
				provider,
				...common,
				credentials: {
					apiKey: SIGNED_BY_N8N,
					messagingProfileId: text(data, 'messagingProfileId'),
					webhookUrl: text(data, 'webhookUrl'),
				},
			};
			break;
	}
	return { sender: createSmsSender(config), limiterKey };
}

export function smtpCredentials(data: ICredentialDataDecryptedObject | undefined): SmtpCredentials {
	const value = data ?? {};
	return {
		host: typeof value.host === 'string' ? value.host : '',
		port: Number(value.port ?? 587),
		secure: value.secure === true,
		starttls:
			value.starttls === 'required' || value.starttls === 'whenOffered'
				? value.starttls
				: 'requiredOn587',
		requireTLS: value.requireTLS === true,
		user: typeof value.user === 'string' && value.user !== '' ? value.user : undefined,
		password: typeof value.password === 'string' ? value.password : undefined,
		allowUnauthorizedCerts: value.ignoreSslIssues === true,
		clientHostname:
			typeof value.clientHostname === 'string' && value.clientHostname !== ''
				? value.clientHostname
				: undefined,
	};
}

/** The SMTP credential's Test button: connects, says hello and logs in, sends nothing. */
export async function referralSmtpConnectionTest(
	this: ICredentialTestFunctions,
	credential: ICredentialsDecrypted,
): Promise<INodeCredentialTestResult> {
	const result = await verifySmtpConnection(smtpCredentials(credential.data), {
		timeoutMs: 10_000,
	});
	return { status: result.ok ? 'OK' : 'Error', message: result.message };
}

/** Closes a pooled SMTP connection; a sender that never opened has nothing to close. */
export async function closeSender(
	opened: Promise<OpenedSender<{ close?(): Promise<void> | void }>> | undefined,
): Promise<void> {
	if (opened === undefined) return;
	let sender: { close?(): Promise<void> | void } | undefined;
	try {
		sender = (await opened).sender;
	} catch {
		// Opening failed: that error was already reported for every item.
		return;
	}
	await sender.close?.();
}
