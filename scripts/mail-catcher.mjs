// A local mail and SMS catcher for `npm start`: an SMTP server on 127.0.0.1 that keeps every message
// the sample workflows send, a Twilio-compatible Messages endpoint on the web port that keeps every
// text (the "Local SMS" credential points its Base URL here), and a small page listing both.
// Nothing leaves the machine. With a folder, every email is also written as a numbered .eml file for
// any mail client (never overwriting one) and both lists are kept across restarts: emails in
// messages.jsonl beside their .eml files, texts in texts.jsonl.
import { randomBytes } from 'node:crypto';
import {
	appendFileSync,
	existsSync,
	mkdirSync,
	readdirSync,
	readFileSync,
	writeFileSync,
} from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

const escape = (text) =>
	String(text ?? '').replace(
		/[&<>"']/g,
		(c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c],
	);

const twilioError = (status, code, message) => ({
	code,
	message,
	more_info: `https://www.twilio.com/docs/errors/${code}`,
	status,
});

/**
 * Twilio's Messages API as the Templated Message node calls it (Basic auth with the account SID,
 * form fields To/From/Body), answering with Twilio's documented shapes. `account` is the only one
 * accepted, so a wrong credential fails here as it would at Twilio.
 */
function twilioRoute(request, body, account, texts, keep) {
	const base = `/2010-04-01/Accounts/${account.accountSid}`;
	const url = new URL(request.url, 'http://catcher');
	if (!url.pathname.startsWith('/2010-04-01/')) return undefined;
	const expected =
		'Basic ' + Buffer.from(`${account.accountSid}:${account.authToken}`).toString('base64');
	if (request.headers.authorization !== expected)
		return { status: 401, body: twilioError(401, 20003, 'Authenticate') };
	if (request.method === 'GET' && url.pathname === `${base}.json`) {
		return {
			status: 200,
			body: {
				sid: account.accountSid,
				friendly_name: 'Local SMS catcher',
				status: 'active',
				type: 'Full',
			},
		};
	}
	if (request.method !== 'POST' || url.pathname !== `${base}/Messages.json`)
		return { status: 404, body: twilioError(404, 20404, 'The requested resource was not found') };
	const form = Object.fromEntries(new URLSearchParams(body.toString('utf8')));
	if (!form.To)
		return { status: 400, body: twilioError(400, 21604, "A 'To' phone number is required.") };
	if (!form.From && !form.MessagingServiceSid)
		return { status: 400, body: twilioError(400, 21603, "A 'From' phone number is required.") };
	if (!form.Body)
		return { status: 400, body: twilioError(400, 21602, 'Message body is required.') };
	const sid = 'SM' + randomBytes(16).toString('hex');
	const text = {
		id: texts.reduce((max, t) => Math.max(max, Number(t.id) || 0), 0) + 1,
		sid,
		receivedAt: new Date().toISOString(),
		to: form.To,
		from: form.From ?? form.MessagingServiceSid,
		body: form.Body,
	};
	texts.push(text);
	keep(text);
	return {
		status: 201,
		body: {
			sid,
			account_sid: account.accountSid,
			to: form.To,
			from: form.From ?? null,
			messaging_service_sid: form.MessagingServiceSid ?? null,
			body: form.Body,
			status: 'queued',
			num_segments: '1',
			direction: 'outbound-api',
			error_code: null,
			error_message: null,
		},
	};
}

function readJsonLines(file) {
	if (!existsSync(file)) return [];
	return readFileSync(file, 'utf8')
		.split('\n')
		.filter((line) => line.trim() !== '')
		.flatMap((line) => {
			try {
				return [JSON.parse(line)];
			} catch {
				return []; // a line cut short by a crash
			}
		});
}

/** Summary of a parsed email as the page and /messages show it. */
function summary(parsed, extra) {
	return {
		...extra,
		from: parsed.from?.text ?? '',
		subject: parsed.subject ?? '',
		text: parsed.text ?? '',
		html: typeof parsed.html === 'string' ? parsed.html : '',
		headers: Object.fromEntries(
			[...parsed.headers.entries()].map(([k, v]) => [
				k,
				typeof v === 'object' && v && 'text' in v ? v.text : String(v),
			]),
		),
	};
}

/**
 * What an earlier run kept in `folder`: emails from messages.jsonl, plus .eml files it does not
 * list (written by an older catcher, or by hand), and texts from texts.jsonl.
 */
async function loadKept(folder) {
	const messages = readJsonLines(path.join(folder, 'messages.jsonl'));
	const listed = new Set(messages.map((m) => m.file));
	for (const file of readdirSync(folder)
		.filter((f) => /^\d+\.eml$/.test(f) && !listed.has(f))
		.sort()) {
		try {
			const parsed = await simpleParser(readFileSync(path.join(folder, file)));
			messages.push(
				summary(parsed, {
					id: Number(file.slice(0, -4)),
					file,
					receivedAt: (parsed.date ?? new Date()).toISOString(),
					to: (parsed.to?.value ?? []).map((a) => a.address),
				}),
			);
		} catch {
			/* not an email: leave the file alone */
		}
	}
	messages.sort((a, b) => a.id - b.id);
	return { messages, texts: readJsonLines(path.join(folder, 'texts.jsonl')) };
}

/** Writes `raw` as the next free NNNNN.eml (exclusive create: an existing file is never overwritten). */
function writeEml(folder, firstId, raw) {
	for (let id = firstId; ; id++) {
		const file = `${String(id).padStart(5, '0')}.eml`;
		try {
			writeFileSync(path.join(folder, file), raw, { flag: 'wx' });
			return { id, file };
		} catch (error) {
			if (error.code !== 'EEXIST') throw error;
		}
	}
}

export async function startMailCatcher({
	smtpPort = 2525,
	httpPort = 8025,
	folder,
	smsAccount,
} = {}) {
	const messages = [];
	const texts = [];
	if (folder) {
		mkdirSync(folder, { recursive: true });
		const kept = await loadKept(folder);
		messages.push(...kept.messages);
		texts.push(...kept.texts);
	}
	const nextId = (list) => list.reduce((max, m) => Math.max(max, Number(m.id) || 0), 0) + 1;
	const smtp = new SMTPServer({
		authOptional: true,
		disabledCommands: ['STARTTLS'],
		logger: false,
		onAuth: (_auth, _session, callback) => callback(null, { user: 'catcher' }),
		onData(stream, session, callback) {
			const chunks = [];
			stream.on('data', (chunk) => chunks.push(chunk));
			stream.on('end', async () => {
				const raw = Buffer.concat(chunks);
				try {
					const parsed = await simpleParser(raw);
					const stored = folder
						? writeEml(folder, nextId(messages), raw)
						: { id: nextId(messages), file: null };
					const message = summary(parsed, {
						id: stored.id,
						file: stored.file,
						receivedAt: new Date().toISOString(),
						to: session.envelope.rcptTo.map((r) => r.address),
					});
					messages.push(message);
					if (folder)
						appendFileSync(path.join(folder, 'messages.jsonl'), JSON.stringify(message) + '\n');
					callback();
				} catch (error) {
					callback(error);
				}
			});
		},
	});
	await new Promise((resolve, reject) =>
		smtp.listen(smtpPort, '127.0.0.1', (error) => (error ? reject(error) : resolve())),
	);
	// A sender that dies mid-session (n8n stopped or killed) resets its connection; smtp-server emits that
	// on the server, and without a listener it would end the catcher, and with it every later email.
	smtp.on('error', (error) =>
		process.stderr.write(`[mail-catcher] SMTP connection: ${error.message}\n`),
	);

	const page = () => `<!doctype html><meta charset="utf-8"><title>Mail catcher</title>
<style>body{font:14px system-ui;margin:2em}li{margin:1em 0;padding:1em;border:1px solid #ddd;border-radius:6px}pre{white-space:pre-wrap;background:#f7f7f7;padding:.5em}</style>
<h1>Mail catcher: ${messages.length} message(s), ${texts.length} text(s)</h1><p>SMTP on 127.0.0.1:${smtpPort}; Twilio-compatible SMS API at http://127.0.0.1:${httpPort}. JSON at <a href="/messages">/messages</a> and <a href="/texts">/texts</a>.</p>
<h2>Text messages</h2><ol reversed>
${[...texts]
	.reverse()
	.map(
		(t) =>
			`<li>to ${escape(t.to)} from ${escape(t.from)} at ${escape(t.receivedAt)}<pre>${escape(t.body)}</pre></li>`,
	)
	.join('\n')}</ol>
<h2>Emails</h2><ol reversed>
${[...messages]
	.reverse()
	.map(
		(m) =>
			`<li><b>${escape(m.subject)}</b><br>to ${escape(m.to.join(', '))} from ${escape(m.from)} at ${escape(m.receivedAt)}<pre>${escape(m.text)}</pre><details><summary>HTML and headers</summary><iframe sandbox srcdoc="${escape(m.html)}" style="width:100%;height:300px"></iframe><pre>${escape(JSON.stringify(m.headers, null, 2))}</pre></details></li>`,
	)
	.join('\n')}</ol>`;
	const web = http.createServer(async (request, response) => {
		const chunks = [];
		for await (const chunk of request) chunks.push(chunk);
		const keepText = (text) =>
			folder && appendFileSync(path.join(folder, 'texts.jsonl'), JSON.stringify(text) + '\n');
		const sms = smsAccount
			? twilioRoute(request, Buffer.concat(chunks), smsAccount, texts, keepText)
			: undefined;
		if (sms) {
			response.writeHead(sms.status, { 'content-type': 'application/json' });
			response.end(JSON.stringify(sms.body));
			return;
		}
		if (request.url === '/texts') {
			response.writeHead(200, { 'content-type': 'application/json' });
			response.end(JSON.stringify(texts));
			return;
		}
		if (request.url === '/messages') {
			response.writeHead(200, { 'content-type': 'application/json' });
			response.end(JSON.stringify(messages));
			return;
		}
		response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
		response.end(page());
	});
	await new Promise((resolve) => web.listen(httpPort, '127.0.0.1', resolve));
	return {
		messages,
		texts,
		smtpPort,
		httpPort,
		close: async () => {
			await new Promise((resolve) => smtp.close(resolve));
			await new Promise((resolve) => web.close(resolve));
		},
	};
}
