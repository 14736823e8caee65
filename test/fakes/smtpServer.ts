/* A real SMTP server on loopback (smtp-server) that parses what arrives (mailparser), for tests that
 * send through nodemailer and check the delivered message, headers included. Reusable by e2e tests:
 *   const smtp = await startSmtpServer();  ...  await smtp.waitForMessages(1);  await smtp.close();
 */
import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';

export interface ReceivedMail {
	/** SMTP envelope: MAIL FROM and RCPT TO as the client sent them. */
	envelope: { from: string; to: string[] };
	/** The authenticated user, when the client logged in. */
	user?: string;
	parsed: ParsedMail;
	/** The message exactly as received (headers and MIME body). */
	raw: string;
	/** Header lines as received, lower-cased names, in order (repeated headers stay separate). */
	headerLines: ReadonlyArray<{ key: string; line: string }>;
}

export interface SmtpServerOptions {
	/** Answer a recipient with an SMTP error, e.g. `{ code: 550, message: '5.1.1 No such user' }`. */
	rejectRecipient?: (address: string) => { code: number; message: string } | undefined;
	/** Require AUTH PLAIN/LOGIN with these credentials. */
	auth?: { user: string; password: string };
	/** Answer DATA with this error for the next N messages (e.g. 451 to test retries). */
	failData?: { code: number; message: string; times: number };
}

export interface SmtpTestServer {
	host: string;
	port: number;
	messages: ReceivedMail[];
	/** Connection errors of clients (a reset when the sender is killed mid-session), kept instead of thrown. */
	connectionErrors: Error[];
	/** Resolves once at least `count` messages have arrived (rejects after `timeoutMs`). */
	waitForMessages(count: number, timeoutMs?: number): Promise<ReceivedMail[]>;
	close(): Promise<void>;
}

function smtpError(code: number, message: string): Error {
	return Object.assign(new Error(message), { responseCode: code });
}

export async function startSmtpServer(options: SmtpServerOptions = {}): Promise<SmtpTestServer> {
	const messages: ReceivedMail[] = [];
	const waiters: Array<() => void> = [];
	let dataFailures = options.failData?.times ?? 0;
	const serverOptions: SMTPServerOptions = {
		secure: false,
		disabledCommands: options.auth ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
		authOptional: options.auth === undefined,
		allowInsecureAuth: true,
		logger: false,
		onAuth(auth, _session, callback) {
			if (
				options.auth &&
				auth.username === options.auth.user &&
				auth.password === options.auth.password
			) {
				callback(null, { user: auth.username });
			} else {
				callback(smtpError(535, '5.7.8 Authentication credentials invalid'));
			}
		},
		onRcptTo(address, _session, callback) {
			const rejection = options.rejectRecipient?.(address.address);
			callback(rejection ? smtpError(rejection.code, rejection.message) : null);
		},
		onData(stream, session, callback) {
			const chunks: Buffer[] = [];
			stream.on('data', (chunk: Buffer) => chunks.push(chunk));
			stream.on('end', () => {
				if (dataFailures > 0 && options.failData) {
					dataFailures--;
					callback(smtpError(options.failData.code, options.failData.message));
					return;
				}
				const raw = Buffer.concat(chunks).toString('utf8');
				simpleParser(raw).then(
					(parsed) => {
						messages.push({
							envelope: {
								from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
								to: session.envelope.rcptTo.map((r) => r.address),
							},
							user: typeof session.user === 'string' ? session.user : undefined,
							parsed,
							raw,
							headerLines: parsed.headerLines,
						});
						for (const wake of waiters.splice(0)) wake();
						callback();
					},
					(error: Error) => callback(error),
				);
			});
		},
	};
	const server = new SMTPServer(serverOptions);
	await new Promise<void>((resolve, reject) => {
		server.once('error', reject);
		server.listen(0, '127.0.0.1', () => resolve());
	});
	// A client that dies mid-session (n8n killed by the crash tests) resets its connection: smtp-server
	// emits that on the server, and an EventEmitter without an 'error' listener throws it.
	const connectionErrors: Error[] = [];
	server.on('error', (error: Error) => connectionErrors.push(error));
	const port = (
		(server as unknown as { server: { address(): AddressInfo } }).server.address() as AddressInfo
	).port;

	return {
		host: '127.0.0.1',
		port,
		messages,
		connectionErrors,
		waitForMessages(count: number, timeoutMs = 5000): Promise<ReceivedMail[]> {
			return new Promise((resolve, reject) => {
				const timer = setTimeout(
					() =>
						reject(
							new Error(`waited ${timeoutMs} ms for ${count} messages, got ${messages.length}`),
						),
					timeoutMs,
				);
				const check = () => {
					if (messages.length >= count) {
						clearTimeout(timer);
						resolve(messages);
					} else {
						waiters.push(check);
					}
				};
				check();
			});
		},
		close(): Promise<void> {
			return new Promise((resolve) => server.close(() => resolve()));
		},
	};
}
