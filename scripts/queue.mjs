// n8n in queue mode on this machine: one main process and N workers on PostgreSQL (n8n's own
// database, a fresh one per cluster) and Redis, this package installed in the shared user folder.
// Used by `npm run test:queue`; see shared research notes for the pitfalls handled here (a broker
// port, an event-log name and a health port per worker; webhooks register a moment after start-up).
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import * as n8n from './n8n.mjs';

export const PG = {
	host: process.env.QUEUE_PG_HOST || '127.0.0.1',
	port: Number(process.env.QUEUE_PG_PORT || 5432),
	user: process.env.QUEUE_PG_USER || 'postgres',
	password: process.env.QUEUE_PG_PASSWORD || '',
};
export const REDIS = {
	host: process.env.QUEUE_REDIS_HOST || '127.0.0.1',
	port: Number(process.env.QUEUE_REDIS_PORT || 6379),
};

async function adminQuery(sql) {
	const client = new pg.Client({ ...PG, database: process.env.QUEUE_PG_ADMIN_DB || 'test' });
	await client.connect();
	try {
		return await client.query(sql);
	} finally {
		await client.end();
	}
}

/** Environment shared by main and workers: same database, Redis queue and encryption key. */
export function queueEnv(userFolder, database, prefix, extra = {}) {
	return n8n.n8nEnv(userFolder, queueVariables(database, prefix, extra));
}

function queueVariables(database, prefix, extra = {}) {
	return {
		DB_TYPE: 'postgresdb',
		DB_POSTGRESDB_HOST: PG.host,
		DB_POSTGRESDB_PORT: String(PG.port),
		DB_POSTGRESDB_DATABASE: database,
		DB_POSTGRESDB_USER: PG.user,
		DB_POSTGRESDB_PASSWORD: PG.password,
		EXECUTIONS_MODE: 'queue',
		QUEUE_BULL_REDIS_HOST: REDIS.host,
		QUEUE_BULL_REDIS_PORT: String(REDIS.port),
		QUEUE_BULL_PREFIX: prefix,
		N8N_LOG_LEVEL: 'info',
		EXECUTIONS_DATA_PRUNE: 'false',
		...extra,
	};
}

const startProcess = n8n.spawnN8n;

async function waitHealthy(url, process, timeoutMs = 120_000) {
	const deadline = Date.now() + timeoutMs;
	while (Date.now() < deadline) {
		if (process.child.exitCode !== null)
			throw new Error(
				`${url}: process exited with ${process.child.exitCode}; see ${process.logFile}:\n${readFileSync(process.logFile, 'utf8').slice(-3000)}`,
			);
		try {
			if ((await fetch(url)).ok) return;
		} catch {
			/* not yet */
		}
		await new Promise((r) => setTimeout(r, 500));
	}
	throw new Error(`${url} not healthy after ${timeoutMs / 1000} s; see ${process.logFile}`);
}

/**
 * Starts main + workers with the given workflows imported and published. `credentialsFile` is an
 * n8n credentials export (plain data is encrypted on import). Returns the base URL and a stop().
 */
export async function startQueueCluster(
	userFolder,
	{
		workers = 2,
		files = n8n.workflowFiles(),
		credentialsFile,
		concurrency = 10,
		build = false,
	} = {},
) {
	const id = `${Date.now().toString(36)}${process.pid}`;
	const database = `n8n_queue_${id}`;
	await adminQuery(`CREATE DATABASE ${database}`);
	// Install, credentials and workflows into that database, in a child process (a minute of blocking commands).
	const credentials = credentialsFile ? JSON.parse(readFileSync(credentialsFile, 'utf8')) : [];
	const { bin } = await n8n.prepareInstanceAsync(userFolder, {
		build,
		files,
		credentials,
		extraEnv: queueVariables(database, `bull_${id}`),
	});
	const env = queueEnv(userFolder, database, `bull_${id}`);
	const logs = path.join(userFolder, 'logs');
	mkdirSync(logs, { recursive: true });
	const port = await n8n.freePort();
	let processes = [];
	const stopAll = async () => {
		await Promise.all(processes.map((p) => p.stop()));
		await adminQuery(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).catch(() => undefined);
	};
	// Main, then each worker once healthy; again after kill() for a restart on the same database and port.
	const launch = async () => {
		processes = [];
		const main = startProcess(
			bin,
			['start'],
			{
				...env,
				N8N_PORT: String(port),
				N8N_RUNNERS_BROKER_PORT: String(await n8n.freePort()),
				N8N_EVENTBUS_LOGWRITER_LOGBASENAME: 'n8nEventLog-main',
			},
			path.join(logs, 'main.log'),
		);
		processes.push(main);
		await waitHealthy(`http://localhost:${port}/healthz/readiness`, main);
		for (let w = 0; w < workers; w++) {
			const health = await n8n.freePort();
			const worker = startProcess(
				bin,
				['worker', `--concurrency=${concurrency}`],
				{
					...env,
					N8N_RUNNERS_BROKER_PORT: String(await n8n.freePort()),
					N8N_EVENTBUS_LOGWRITER_LOGBASENAME: `n8nEventLog-worker${w + 1}`,
					QUEUE_HEALTH_CHECK_ACTIVE: 'true',
					QUEUE_HEALTH_CHECK_PORT: String(health),
				},
				path.join(logs, `worker${w + 1}.log`),
			);
			processes.push(worker);
			await waitHealthy(`http://localhost:${health}/healthz/readiness`, worker);
		}
	};
	try {
		await launch();
		return {
			baseUrl: `http://localhost:${port}`,
			env,
			bin,
			database,
			/** Executions each worker started, read from its log. */
			executionsPerWorker: () =>
				processes
					.slice(1)
					.map(
						(p) =>
							(readFileSync(p.logFile, 'utf8').match(/Worker started execution/g) ?? []).length,
					),
			stop: stopAll,
			/** SIGKILL to main and every worker at once (a crash of the whole cluster). */
			kill: async () => {
				await Promise.all(processes.map((p) => p.kill()));
			},
			/** Starts main and workers again on the same database, Redis queue and port. */
			restart: async () => {
				await launch();
			},
		};
	} catch (error) {
		await stopAll();
		throw error;
	}
}

/** Sends every request with at most `concurrency` in flight; returns responses in order and the rate. */
export async function fireConcurrently(requests, concurrency = 50) {
	const results = new Array(requests.length);
	let next = 0;
	const started = performance.now();
	await Promise.all(
		Array.from({ length: Math.min(concurrency, requests.length) }, async () => {
			while (next < requests.length) {
				const index = next++;
				const { url, init } = requests[index];
				const response = await fetch(url, init);
				results[index] = { status: response.status, body: await response.text() };
			}
		}),
	);
	const seconds = (performance.now() - started) / 1000;
	return { results, seconds, rate: requests.length / seconds };
}
