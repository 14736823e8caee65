// `node scripts/n8n-with-task-runner.mjs <n8n bin> start`: n8n 2.x with its JavaScript task runner
// (what runs Code nodes) as an external runner, the mode n8n 2.x recommends (its internal mode is
// deprecated), without n8n's separate launcher binary: this process starts n8n, asks n8n's task
// broker for a grant token with the shared N8N_RUNNERS_AUTH_TOKEN, starts n8n's own runner
// (@n8n/task-runner) with it, and starts it again whenever it exits while n8n runs. n8n, the runner
// and this process share one process group: a signal to the group stops all three. Exits with n8n's code.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';

const [bin, ...args] = process.argv.slice(2);
const env = process.env;
const brokerUri = `http://127.0.0.1:${env.N8N_RUNNERS_BROKER_PORT}`;
const require = createRequire(bin);
const runnerScript = require.resolve('@n8n/task-runner/start');

let stopping = false;
let runner;
const n8n = spawn(process.execPath, [bin, ...args], { env, stdio: 'inherit' });
n8n.on('exit', (code, signal) => {
	stopping = true;
	runner?.kill('SIGTERM');
	process.exitCode = code ?? (signal ? 128 : 1);
	// The runner is given its own shutdown time; the process group's owner sends SIGKILL after that.
	if (!runner || runner.exitCode !== null) process.exit();
	else runner.on('exit', () => process.exit());
});
// A signal to the group reaches n8n and the runner directly; this process waits for n8n to end.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => (stopping = true));

async function grantToken() {
	for (;;) {
		if (stopping) return undefined;
		try {
			const response = await fetch(`${brokerUri}/runners/auth`, {
				method: 'POST',
				headers: { 'content-type': 'application/json' },
				body: JSON.stringify({ token: env.N8N_RUNNERS_AUTH_TOKEN }),
			});
			if (response.ok) return (await response.json()).data.token;
		} catch {
			/* the broker is not listening yet */
		}
		await new Promise((r) => setTimeout(r, 1000));
	}
}

async function startRunner() {
	const token = await grantToken();
	if (!token || stopping) return;
	// The flags and variables n8n's internal mode gives its runner.
	runner = spawn(
		process.execPath,
		['--disallow-code-generation-from-strings', '--disable-proto=delete', runnerScript],
		{
			stdio: 'inherit',
			env: {
				PATH: env.PATH,
				HOME: env.HOME,
				GENERIC_TIMEZONE: env.GENERIC_TIMEZONE,
				NODE_FUNCTION_ALLOW_BUILTIN: env.NODE_FUNCTION_ALLOW_BUILTIN,
				NODE_FUNCTION_ALLOW_EXTERNAL: env.NODE_FUNCTION_ALLOW_EXTERNAL,
				N8N_RUNNERS_GRANT_TOKEN: token,
				N8N_RUNNERS_TASK_BROKER_URI: brokerUri,
				N8N_RUNNERS_MAX_CONCURRENCY: env.N8N_RUNNERS_MAX_CONCURRENCY ?? '10',
				N8N_RUNNERS_TASK_TIMEOUT: env.N8N_RUNNERS_TASK_TIMEOUT ?? '300',
			},
		},
	);
	runner.on('exit', () => {
		if (!stopping) setTimeout(() => void startRunner(), 1000);
	});
}

void startRunner();
