#!/usr/bin/env node
// `npm start`: a real n8n on http://localhost:5678 with this package installed as a community
// package, the sample workflows imported and active, on the embedded SQLite ledger.
//   npm start -- --reset      import the sample workflows and credentials again, over what the
//                             instance has (edits made in the editor to them are lost)
//   npm start -- --no-build   skip `npm run build` (dist/ is already current)
// n8n, the mail catcher and this runner stop together on Ctrl-C, SIGTERM and SIGHUP (a closed terminal).
// `node scripts/n8n-runner.mjs prepare`: build, and install the pinned n8n into .cache (used before e2e tests);
//                             with --no-build only the install (CI: npm test has just built dist/).
// `node scripts/n8n-runner.mjs install`: only install the pinned n8n (N8N_VERSION) into .cache, no build;
//                             CI runs it in the background while it lints and runs the unit tests.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startMailCatcher } from './mail-catcher.mjs';
import * as n8n from './n8n.mjs';

const [command = 'start', ...options] = process.argv.slice(2);
const OPTIONS = { start: ['--reset', '--no-build'], prepare: ['--no-build'], install: [] };

function build() {
	n8n.log('building the package (npm run build)…');
	const result = spawnSync('npm', ['run', 'build', '--silent'], {
		cwd: n8n.ROOT,
		stdio: 'inherit',
		env: { ...process.env, PATH: n8n.nodePath() },
	});
	if (result.status !== 0) process.exit(result.status ?? 1);
}

/** Which credential a variable of the environment sets: set there, it is imported on every start. */
const CREDENTIAL_VARIABLES = {
	rmWebhookSecret1: 'REFERRAL_WEBHOOK_SECRET',
	rmLeadScoreAuth1: 'LEAD_SCORING_TOKEN',
	rmStripeSecret01: 'STRIPE_WEBHOOK_SECRET',
	rmShopifySecret1: 'SHOPIFY_WEBHOOK_SECRET',
};

/** What the runner wrote into the instance last time (the catcher's ports the local credentials point at). */
function readState(file) {
	try {
		return JSON.parse(readFileSync(file, 'utf8'));
	} catch {
		return {};
	}
}

/**
 * Stops everything this runner started, once, on SIGINT (Ctrl-C), SIGTERM and SIGHUP (the terminal
 * closed); a second signal while stopping ends n8n at once. n8n runs in its own process group, so
 * no signal the terminal sends reaches it but through here.
 */
let stopping = false;

function stopOnSignals(cleanups) {
	// After SIGHUP the terminal is gone: writing to it must not crash the runner before n8n is stopped.
	for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {});
	const stop = async (signal) => {
		if (stopping) {
			n8n.log(`${signal} again: ending n8n now`);
			process.exit(1);
		}
		stopping = true;
		n8n.log(`${signal}: stopping n8n and the mail catcher…`);
		for (const cleanup of [...cleanups].reverse()) {
			try {
				await cleanup();
			} catch (error) {
				n8n.log(`while stopping: ${error.message}`);
			}
		}
		n8n.log('stopped');
		process.exit(0);
	};
	for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => void stop(signal));
}

async function start() {
	const cleanups = [() => n8n.stopAllN8n()];
	stopOnSignals(cleanups);
	if (!options.includes('--no-build')) build();
	const reset = options.includes('--reset');
	const userFolder = process.env.N8N_USER_FOLDER || path.join(n8n.CACHE, 'n8n-user');
	const port = Number(process.env.N8N_PORT || 5678);
	const smtpPort = Number(process.env.MAIL_CATCHER_SMTP_PORT || 2525);
	const mailPort = Number(process.env.MAIL_CATCHER_HTTP_PORT || 8025);
	const catcher = await startMailCatcher({
		smtpPort,
		httpPort: mailPort,
		folder: path.join(userFolder, 'mail'),
		smsAccount: n8n.LOCAL_SMS_ACCOUNT,
	});
	cleanups.push(() => catcher.close());
	n8n.log(`preparing n8n ${n8n.N8N_VERSION} in ${userFolder}`);
	const secrets = n8n.localSecrets(userFolder);
	const credentials = [
		n8n.localSmtpCredential(smtpPort),
		n8n.localSmsCredential(`http://127.0.0.1:${mailPort}`),
		...n8n.securityCredentials(secrets),
	];
	// Credentials the instance has are kept (a user may have pointed Local Mail at a real server),
	// but for those the environment sets now and the local ones when the catcher moved to other ports.
	const stateFile = path.join(userFolder, 'referral-runner.json');
	const state = readState(stateFile);
	const refresh = Object.entries(CREDENTIAL_VARIABLES)
		.filter(([, variable]) => process.env[variable])
		.map(([id]) => id);
	if (state.smtpPort !== smtpPort) refresh.push(n8n.LOCAL_SMTP_CREDENTIAL_ID);
	if (state.mailPort !== mailPort) refresh.push(n8n.LOCAL_SMS_CREDENTIAL_ID);
	const { bin, env, toActivate, imported, kept } = n8n.prepareInstance(userFolder, {
		build: false,
		credentials,
		onlyMissing: !reset,
		refresh,
		activate: 'later',
	});
	writeFileSync(stateFile, JSON.stringify({ smtpPort, mailPort }, null, 2));
	if (imported.workflows.length > 0)
		n8n.log(
			`imported ${imported.workflows.length} sample workflow(s): ${imported.workflows.join(', ')}`,
		);
	if (kept.workflows > 0) {
		n8n.log(
			`kept the ${kept.workflows} sample workflow(s) this instance already has, with any change made in the editor; \`npm start -- --reset\` restores the samples`,
		);
	}
	n8n.log('starting n8n…');
	const server = await n8n.startN8n(bin, env, {
		port,
		inheritOutput: true,
		timeoutMs: 600_000,
		taskRunner: 'external',
	});
	n8n.log(
		`n8n runs as process ${server.child.pid} (with its task runner, in a process group of its own)`,
	);
	const owner = await n8n.ensureOwner(server.baseUrl);
	if (toActivate.length > 0) {
		n8n.log(
			`publishing ${toActivate.length} imported workflow(s) that start from a webhook, schedule or trigger…`,
		);
		await n8n.activateWorkflows(server, toActivate);
	}
	process.stdout.write(
		[
			'',
			`n8n ${n8n.N8N_VERSION} with ${n8n.PACKAGE_NAME} is running: ${server.baseUrl}`,
			owner === 'created'
				? `Sign in as ${n8n.DEMO_OWNER.email} / ${n8n.DEMO_OWNER.password} (created just now; change it in Settings).`
				: `Sign in with the owner account of this instance (the demo owner is ${n8n.DEMO_OWNER.email} / ${n8n.DEMO_OWNER.password}).`,
			`Workflows from workflows/ are imported once; webhooks are served under ${server.baseUrl}/webhook/ (npm start -- --reset restores the samples)`,
			`Try: curl -s -X POST ${server.baseUrl}/webhook/referral/code/check -H 'content-type: application/json' -d '{"code":"friend k7qm 3xh9"}'`,
			`Try a referral: curl -s -X POST ${server.baseUrl}/webhook/referral/signup -H 'content-type: application/json' -d '{"email":"ann@example.com","name":"Ann","phone":"+14155550123","consent":{"sms":true}}' (answers 202 alike to everyone; the code comes by email and text)`,
			'',
			`Conversions and refunds must be signed (X-Referral-Signature). Secret, in the credential "Referral Webhook Secret"${secrets.fromEnvironment.webhookSecret ? ' (from REFERRAL_WEBHOOK_SECRET)' : ' (made for this instance; set REFERRAL_WEBHOOK_SECRET to choose it)'}:`,
			`  ${secrets.webhookSecret}`,
			`Try a signed conversion (paste into bash; openssl signs it):`,
			`  ${n8n.signedCurl(`${server.baseUrl}/webhook/referral/conversion`, '{"email":"bob@example.org","orderId":"A-1001","amount":59.9,"currency":"EUR"}', secrets.webhookSecret)}`,
			`Unsigned, wrongly signed or replayed requests answer 401 {"error":{"message":…,"field":"signature"}} and write nothing.`,
			`Lead scoring (credential "Lead Scoring Header Auth"): curl -s -X POST ${server.baseUrl}/webhook/leads/score -H 'Authorization: Bearer ${secrets.leadScoringToken}' -H 'content-type: application/json' -d '{"email":"dana@northwind.example","title":"VP Marketing"}'`,
			`Dashboard (credential "Referral Dashboard Login", Basic Auth): open ${server.baseUrl}/webhook/referral-dashboard and ${server.baseUrl}/webhook/referral-dashboard/review as user marketing, password ${secrets.dashboardPassword}.`,
			`Participant status: curl -s '${server.baseUrl}/webhook/referral/participant?email=ann%40example.com' answers 202 to everyone and emails an enrolled address its private link to the participant page (…/webhook/referral/page?token=…, also in the welcome email; …/participant?token=… answers the same as JSON); links are signed with the credential "Referral Link Secret"${secrets.fromEnvironment.linkSecret ? ' (from REFERRAL_LINK_SECRET)' : ' (made for this instance; set REFERRAL_LINK_SECRET to choose it)'}. The sample links point at http://localhost:5678: change Status Page URL in the Private Link and Welcome Email nodes if you serve another address.`,
			`Stripe and Shopify send to ${server.baseUrl}/webhook/stripe/referrals and /webhook/shopify/referrals; put their signing secrets into the credentials "Stripe Webhook Secret" and "Shopify Webhook Secret" (docs/security.md).`,
			'',
			`Emails and texts the workflows send go to the local catcher (credentials "Local Mail", SMTP 127.0.0.1:${smtpPort}, and "Local SMS"): read them at http://localhost:${mailPort}`,
			'Press Ctrl+C to stop (closing the terminal stops n8n too).',
			'',
		].join('\n'),
	);
	const code = await new Promise((resolve) =>
		server.child.on('exit', (exitCode) => resolve(exitCode ?? 1)),
	);
	if (stopping) return; // a signal stops everything; its handler exits
	n8n.log(`n8n exited (code ${code})`);
	await catcher.close();
	process.exit(code);
}

const unknown = options.filter((option) => !(OPTIONS[command] ?? []).includes(option));
if (!OPTIONS[command] || unknown.length > 0) {
	process.stderr.write(
		`usage: node scripts/n8n-runner.mjs start [--reset] [--no-build] | prepare [--no-build] | install${unknown.length > 0 ? ` (unknown: ${unknown.join(' ')})` : ` (unknown command "${command}")`}\n`,
	);
	process.exit(2);
} else if (command === 'prepare') {
	if (!options.includes('--no-build')) build();
	n8n.ensureN8n();
} else if (command === 'install') {
	n8n.ensureN8n();
} else {
	await start();
}
