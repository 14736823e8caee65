// A local mail catcher for `npm start`: an SMTP server on 127.0.0.1 that keeps every message the
// sample workflows send, and a small page listing them (subject, recipient, text, HTML, headers).
// Nothing leaves the machine. Messages are also written as .eml files for any mail client.
import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

const escape = (text) => String(text ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

export async function startMailCatcher({ smtpPort = 2525, httpPort = 8025, folder } = {}) {
	const messages = [];
	if (folder) mkdirSync(folder, { recursive: true });
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
					const id = messages.length + 1;
					messages.push({
						id,
						receivedAt: new Date().toISOString(),
						from: parsed.from?.text ?? '',
						to: session.envelope.rcptTo.map((r) => r.address),
						subject: parsed.subject ?? '',
						text: parsed.text ?? '',
						html: typeof parsed.html === 'string' ? parsed.html : '',
						headers: Object.fromEntries([...parsed.headers.entries()].map(([k, v]) => [k, typeof v === 'object' && v && 'text' in v ? v.text : String(v)])),
					});
					if (folder) writeFileSync(path.join(folder, `${String(id).padStart(5, '0')}.eml`), raw);
					callback();
				} catch (error) {
					callback(error);
				}
			});
		},
	});
	await new Promise((resolve, reject) => smtp.listen(smtpPort, '127.0.0.1', (error) => (error ? reject(error) : resolve())));

	const page = () => `<!doctype html><meta charset="utf-8"><title>Mail catcher</title>
<style>body{font:14px system-ui;margin:2em}li{margin:1em 0;padding:1em;border:1px solid #ddd;border-radius:6px}pre{white-space:pre-wrap;background:#f7f7f7;padding:.5em}</style>
<h1>Mail catcher: ${messages.length} message(s)</h1><p>SMTP on 127.0.0.1:${smtpPort}. JSON at <a href="/messages">/messages</a>.</p><ol reversed>
${[...messages].reverse().map((m) => `<li><b>${escape(m.subject)}</b><br>to ${escape(m.to.join(', '))} from ${escape(m.from)} at ${escape(m.receivedAt)}<pre>${escape(m.text)}</pre><details><summary>HTML and headers</summary><iframe sandbox srcdoc="${escape(m.html)}" style="width:100%;height:300px"></iframe><pre>${escape(JSON.stringify(m.headers, null, 2))}</pre></details></li>`).join('\n')}</ol>`;
	const web = http.createServer((request, response) => {
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
		smtpPort,
		httpPort,
		close: async () => {
			await new Promise((resolve) => smtp.close(resolve));
			await new Promise((resolve) => web.close(resolve));
		},
	};
}
