#!/usr/bin/env node
// `npm start`: a real n8n on http://localhost:5678 with this package installed as a community
// package, the sample workflows imported and active, on the embedded SQLite ledger.
// `node scripts/n8n-runner.mjs prepare`: build, and install the pinned n8n into .cache (used before e2e tests).
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { startMailCatcher } from './mail-catcher.mjs';
import * as n8n from './n8n.mjs';

const command = process.argv[2] ?? 'start';

function build() {
	const result = spawnSync('npm', ['run', 'build', '--silent'], { cwd: n8n.ROOT, stdio: 'inherit', env: { ...process.env, PATH: n8n.nodePath() } });
	if (result.status !== 0) process.exit(result.status ?? 1);
}

async function start() {
	build();
	const userFolder = process.env.N8N_USER_FOLDER || path.join(n8n.CACHE, 'n8n-user');
	const port = Number(process.env.N8N_PORT || 5678);
	const smtpPort = Number(process.env.MAIL_CATCHER_SMTP_PORT || 2525);
	const mailPort = Number(process.env.MAIL_CATCHER_HTTP_PORT || 8025);
	const catcher = await startMailCatcher({ smtpPort, httpPort: mailPort, folder: path.join(userFolder, 'mail'), smsAccount: n8n.LOCAL_SMS_ACCOUNT });
	n8n.log(`preparing n8n ${n8n.N8N_VERSION} in ${userFolder}`);
	const secrets = n8n.localSecrets(userFolder);
	const credentials = [n8n.localSmtpCredential(smtpPort), n8n.localSmsCredential(`http://127.0.0.1:${mailPort}`), ...n8n.securityCredentials(secrets)];
	const { bin, env } = n8n.prepareInstance(userFolder, { build: false, credentials });
	n8n.log('starting n8n…');
	const server = await n8n.startN8n(bin, env, { port, inheritOutput: true, timeoutMs: 180_000 });
	const owner = await n8n.ensureOwner(server.baseUrl);
	process.stdout.write(
		[
			'',
			`n8n ${n8n.N8N_VERSION} with ${n8n.PACKAGE_NAME} is running: ${server.baseUrl}`,
			owner === 'created'
				? `Sign in as ${n8n.DEMO_OWNER.email} / ${n8n.DEMO_OWNER.password} (created just now; change it in Settings).`
				: `Sign in with the owner account of this instance (the demo owner is ${n8n.DEMO_OWNER.email} / ${n8n.DEMO_OWNER.password}).`,
			`Workflows from workflows/ are imported; webhooks are served under ${server.baseUrl}/webhook/`,
			`Try: curl -s -X POST ${server.baseUrl}/webhook/referral/code/check -H 'content-type: application/json' -d '{"code":"friend k7qm 3xh9"}'`,
			`Try a referral: curl -s -X POST ${server.baseUrl}/webhook/referral/signup -H 'content-type: application/json' -d '{"email":"ann@example.com","name":"Ann","phone":"+14155550123","consent":{"sms":true}}'`,
			'',
			`Conversions and refunds must be signed (X-Referral-Signature). Secret, in the credential "Referral Webhook Secret"${secrets.fromEnvironment.webhookSecret ? ' (from REFERRAL_WEBHOOK_SECRET)' : ' (made for this instance; set REFERRAL_WEBHOOK_SECRET to choose it)'}:`,
			`  ${secrets.webhookSecret}`,
			`Try a signed conversion (paste into bash; openssl signs it):`,
			`  ${n8n.signedCurl(`${server.baseUrl}/webhook/referral/conversion`, '{"email":"bob@example.org","orderId":"A-1001","amount":59.9,"currency":"EUR"}', secrets.webhookSecret)}`,
			`Unsigned, wrongly signed or replayed requests answer 401 {"error":{"message":…,"field":"signature"}} and write nothing.`,
			`Lead scoring (credential "Lead Scoring Header Auth"): curl -s -X POST ${server.baseUrl}/webhook/leads/score -H 'Authorization: Bearer ${secrets.leadScoringToken}' -H 'content-type: application/json' -d '{"email":"dana@northwind.example","title":"VP Marketing"}'`,
			`Participant status: curl -s '${server.baseUrl}/webhook/referral/participant?email=ann%40example.com' answers 202 to everyone and emails an enrolled address its private link (…/participant?token=…), also in the welcome email; links are signed with the credential "Referral Link Secret"${secrets.fromEnvironment.linkSecret ? ' (from REFERRAL_LINK_SECRET)' : ' (made for this instance; set REFERRAL_LINK_SECRET to choose it)'}. The sample links point at http://localhost:5678: change Status Page URL in the Private Link nodes if you serve another address.`,
			`Stripe and Shopify send to ${server.baseUrl}/webhook/stripe/referrals and /webhook/shopify/referrals; put their signing secrets into the credentials "Stripe Webhook Secret" and "Shopify Webhook Secret" (docs/security.md).`,
			'',
			`Emails and texts the workflows send go to the local catcher (credentials "Local Mail", SMTP 127.0.0.1:${smtpPort}, and "Local SMS"): read them at http://localhost:${mailPort}`,
			'Press Ctrl+C to stop.',
			'',
		].join('\n'),
	);
	const stop = async () => {
		await server.stop();
		await catcher.close();
		process.exit(0);
	};
	process.on('SIGINT', stop);
	process.on('SIGTERM', stop);
	await new Promise((resolve) => server.child.on('exit', resolve));
	process.exit(server.child.exitCode ?? 0);
}

if (command === 'prepare') {
	build();
	n8n.ensureN8n();
} else if (command === 'start') {
	await start();
} else {
	process.stderr.write(`unknown command "${command}"; use start or prepare\n`);
	process.exit(2);
}
