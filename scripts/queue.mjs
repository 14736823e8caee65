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

async function waitHealthy(url, process, timeoutMs = 300_000) {
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
 * Starts main + workers with the given workflows imported and published (n8n 2.x: through main's
 * REST API once main and workers run, as the editor's Publish does). `credentialsFile` is an
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
	// The package installed in a child process (blocking npm commands). n8n 2.x: the credentials and
	// workflows go in through main's REST API once it runs (below), not with two CLI boots on
	// PostgreSQL before it (the first of them ran n8n's migrations, which main's start runs now);
	// n8n 1.x (its create endpoint drops a workflow's id): by the CLI here.
	const credentials = credentialsFile ? JSON.parse(readFileSync(credentialsFile, 'utf8')) : [];
	const throughApi = n8n.importsThroughApi();
	const { bin, toActivate } = await n8n.prepareInstanceAsync(userFolder, {
		build,
		activate: 'later',
		files: throughApi ? [] : files,
		credentials: throughApi ? [] : credentials,
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
		// The workers boot side by side once main has migrated the database.
		const booting = [];
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
			booting.push(waitHealthy(`http://localhost:${health}/healthz/readiness`, worker));
		}
		await Promise.all(booting);
	};
	try {
		await launch();
		const baseUrl = `http://localhost:${port}`;
		if (throughApi ? files.length + credentials.length > 0 : toActivate.length > 0) {
			await n8n.ensureOwner(baseUrl);
			const cookie = await n8n.signIn(baseUrl);
			const ids = throughApi
				? await n8n.importThroughApi({ baseUrl }, { files, credentials, cookie })
				: toActivate;
			await n8n.activateWorkflows({ baseUrl }, ids, { cookie });
		}
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

/**
 * Measures two request sets against each other in one run, interleaved so that whatever else loads
 * the machine meanwhile (another test suite starting or ending beside this one) weighs on both
 * sides alike: each set is cut into `rounds` slices, fired in the order A B B A A B B A …, and each
 * side's rate is its request count over the sum of its slices' times. Adjacent slices of the same
 * side go out as one batch (with `rounds: 2`, B stays one batch between the two halves of A: a
 * replay in B can still race its original). Results come back in each set's own order.
 */
export async function compareRates(baseline, subject, { rounds = 4, concurrency = 50 } = {}) {
	const slice = (requests, i) => {
		const size = Math.ceil(requests.length / rounds);
		return { from: i * size, to: Math.min(requests.length, (i + 1) * size) };
	};
	const schedule = [];
	for (let i = 0; i < rounds; i++) {
		const pair = [
			{ side: 'baseline', ...slice(baseline, i) },
			{ side: 'subject', ...slice(subject, i) },
		];
		schedule.push(...(i % 2 === 0 ? pair : pair.reverse()));
	}
	const batches = [];
	for (const part of schedule) {
		const last = batches.at(-1);
		if (last && last.side === part.side && last.to === part.from) last.to = part.to;
		else if (part.to > part.from) batches.push({ ...part });
	}
	const sides = {
		baseline: { requests: baseline, results: new Array(baseline.length), seconds: 0 },
		subject: { requests: subject, results: new Array(subject.length), seconds: 0 },
	};
	for (const { side, from, to } of batches) {
		const target = sides[side];
		const fired = await fireConcurrently(target.requests.slice(from, to), concurrency);
		fired.results.forEach((result, i) => (target.results[from + i] = result));
		target.seconds += fired.seconds;
	}
	const answer = (side) => ({
		results: sides[side].results,
		seconds: sides[side].seconds,
		rate: sides[side].requests.length / sides[side].seconds,
	});
	return { baseline: answer('baseline'), subject: answer('subject') };
}
