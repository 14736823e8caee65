/* Loyalty Insights at size inside real n8n (2.40.7, the package installed as a community package,
 * n8n's default settings: executions saved to its SQLite database, default heap): a Code node makes
 * ROWS purchase rows (about three per customer, two years of dates), then one workflow per subject
 * passes them to a NoOp node (the baseline: what n8n itself costs to hold and save the rows), to
 * RFM › Summary, RFM › Segment Summary and CLV › Summary. Each execution is started as the editor
 * does and read back from n8n's database: status, wall time start to saved, the node's own
 * executionTime and the n8n process's peak resident memory during it.
 * Run: npm run bench -- insights   (INSIGHTS_BENCH_ROWS=3000000 for another size, a comma list for
 * several; INSIGHTS_BENCH_NO_BUILD=1 installs dist/ as it is) */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { getHeapStatistics } from 'node:v8';
import { report } from './lib';
// @ts-expect-error plain ESM script without types
import * as n8n from '../scripts/n8n.mjs';

const SIZES = String(process.env.INSIGHTS_BENCH_ROWS ?? '2000000')
	.split(',')
	.map((s) => Number(s.trim()))
	.filter((n) => Number.isInteger(n) && n > 0);
const TIMEOUT_MS = Number(process.env.INSIGHTS_BENCH_TIMEOUT_S ?? 900) * 1000;
const INSIGHTS = 'n8n-nodes-referral-marketing.loyaltyInsights';

const makeRows = (rows: number) => `
// ${rows} purchase rows, about three per customer, over two years (mulberry32, deterministic).
let seed = 7;
const random = () => {
	seed = (seed + 0x6d2b79f5) | 0;
	let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
	t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
	return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const customers = Math.ceil(${rows} / 3);
const start = Date.UTC(2023, 0, 1);
const days = [];
for (let d = 0; d < 730; d++) days.push(new Date(start + d * 86400000).toISOString().slice(0, 10));
const out = new Array(${rows});
for (let i = 0; i < ${rows}; i++) {
	out[i] = { json: {
		customerId: 'C' + Math.floor(random() * customers),
		date: days[Math.floor(random() * 730)],
		amount: Math.round(random() * 20000) / 100,
	} };
}
return out;
`;

interface Subject {
	key: string;
	label: string;
	node: { type: string; typeVersion: number; parameters: Record<string, unknown> };
}

const transactions = {
	input: 'transactions',
	customerField: 'customerId',
	dateField: 'date',
	amountField: 'amount',
};
const SUBJECTS: Subject[] = [
	{
		key: 'noop',
		label: 'NoOp node (n8n-nodes-base.noOp)',
		node: { type: 'n8n-nodes-base.noOp', typeVersion: 1, parameters: {} },
	},
	{
		key: 'rfm',
		label: 'Loyalty Insights RFM › Summary',
		node: {
			type: INSIGHTS,
			typeVersion: 1,
			parameters: { operation: 'rfm', ...transactions, rfmOutput: 'summary' },
		},
	},
	{
		key: 'segments',
		label: 'Loyalty Insights RFM › Segment Summary',
		node: {
			type: INSIGHTS,
			typeVersion: 1,
			parameters: { operation: 'rfm', ...transactions, rfmOutput: 'segments' },
		},
	},
	{
		key: 'clv',
		label: 'Loyalty Insights CLV › Summary',
		node: {
			type: INSIGHTS,
			typeVersion: 1,
			parameters: { operation: 'clv', ...transactions, clvOutput: 'summary' },
		},
	},
];

/** Unique per subject and size, at most 16 characters (n8n's workflow ids). */
const workflowId = (subject: Subject, rows: number) =>
	`rmIns${subject.key.slice(0, 4)}${rows.toString(36)}`;

function workflow(subject: Subject, rows: number) {
	const node = (id: string, name: string, rest: object, x: number) => ({
		id,
		name,
		position: [x, 0],
		...rest,
	});
	return {
		id: workflowId(subject, rows),
		name: `Bench: ${rows.toLocaleString('en')} rows into ${subject.label}`,
		nodes: [
			node(
				'a1',
				'Start',
				{ type: 'n8n-nodes-base.manualTrigger', typeVersion: 1, parameters: {} },
				0,
			),
			node(
				'a2',
				'Make Rows',
				{
					type: 'n8n-nodes-base.code',
					typeVersion: 2,
					parameters: {
						mode: 'runOnceForAllItems',
						language: 'javaScript',
						jsCode: makeRows(rows),
					},
				},
				220,
			),
			node('a3', 'Subject', subject.node, 440),
		],
		connections: {
			Start: { main: [[{ node: 'Make Rows', type: 'main', index: 0 }]] },
			'Make Rows': { main: [[{ node: 'Subject', type: 'main', index: 0 }]] },
		},
		settings: { executionOrder: 'v1' },
		active: false,
	};
}

/** Peak resident memory of a process since the last reset, in MiB (Linux). */
function peakRssMiB(pid: number): number {
	const status = readFileSync(`/proc/${pid}/status`, 'utf8');
	return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) / 1024;
}

/** Resets the peak (VmHWM) to the current resident size; needs to own the process (we started it). */
function resetPeak(pid: number): void {
	try {
		writeFileSync(`/proc/${pid}/clear_refs`, '5');
	} catch {
		/* not supported: the peak then covers the process's whole life */
	}
}

async function rest(
	baseUrl: string,
	cookie: string,
	method: string,
	pathname: string,
	body?: unknown,
) {
	const response = await fetch(`${baseUrl}/rest/${pathname}`, {
		method,
		headers: { cookie, 'content-type': 'application/json', 'browser-id': 'insights-bench' },
		body: body === undefined ? undefined : JSON.stringify(body),
	});
	const text = await response.text();
	if (!response.ok)
		throw new Error(`${method} /rest/${pathname}: HTTP ${response.status} ${text.slice(0, 500)}`);
	return JSON.parse(text).data;
}

interface Outcome {
	status: string;
	wallSeconds: number;
	nodeSeconds?: number;
	makeSeconds?: number;
	peakMiB: number;
	summaryBytes?: number;
	pairings?: number;
	error?: string;
}

/**
 * Runs one workflow by hand and reads its outcome from n8n's database (not the REST API: the
 * execution holds millions of rows, more than one HTTP answer should carry).
 */
async function runOnce(
	server: { baseUrl: string; child: { pid: number } },
	cookie: string,
	db: string,
	id: string,
): Promise<Outcome> {
	const pid = server.child.pid;
	resetPeak(pid);
	const workflowData = await rest(server.baseUrl, cookie, 'GET', `workflows/${id}`);
	const started = await rest(server.baseUrl, cookie, 'POST', `workflows/${id}/run`, {
		workflowData,
		triggerToStartFrom: { name: 'Start' },
	});
	const executionId = String(started.executionId);
	const deadline = Date.now() + TIMEOUT_MS;
	let peakMiB = 0;
	for (;;) {
		await new Promise((r) => setTimeout(r, 1000));
		peakMiB = Math.max(peakMiB, peakRssMiB(pid));
		const database = new DatabaseSync(db, { readOnly: true });
		try {
			const row = database
				.prepare('SELECT status, startedAt, stoppedAt FROM execution_entity WHERE id = ?')
				.get(executionId) as
				{ status: string; startedAt: string; stoppedAt: string | null } | undefined;
			const ended = row && row.stoppedAt && !['new', 'running', 'waiting'].includes(row.status);
			if (ended) {
				const data = database
					.prepare('SELECT data FROM execution_data WHERE executionId = ?')
					.get(executionId) as { data: string } | undefined;
				return {
					status: row.status,
					wallSeconds: (Date.parse(row.stoppedAt! + 'Z') - Date.parse(row.startedAt + 'Z')) / 1000,
					peakMiB,
					...readRun(data?.data),
				};
			}
		} finally {
			database.close();
		}
		if (child(server).exitCode !== null)
			return { status: `n8n exited (code ${child(server).exitCode})`, wallSeconds: NaN, peakMiB };
		if (Date.now() > deadline)
			return { status: `still running after ${TIMEOUT_MS / 1000} s`, wallSeconds: NaN, peakMiB };
	}
}

function child(server: object): { exitCode: number | null } {
	return (server as { child: { exitCode: number | null } }).child;
}

/**
 * The node times and the subject's first output item, from the saved execution data without
 * reviving all of it: n8n saves it with flatted (one JSON array; an object's string values are
 * indexes of other entries), and reviving millions of rows took minutes and gigabytes. Only the
 * entries on the way to what is read are looked at.
 */
function readRun(data: string | undefined): Partial<Outcome> {
	if (!data) return { error: 'no execution data saved' };
	const entries = JSON.parse(data) as unknown[];
	/** The entry a flatted value points at (strings are references; other values stand for themselves). */
	const at = (value: unknown): any => (typeof value === 'string' ? entries[Number(value)] : value);
	/** A small part revived whole (the first output item). */
	const revive = (value: unknown, depth = 0): unknown => {
		const entry = at(value);
		if (entry === null || typeof entry !== 'object' || depth > 20) return entry;
		if (Array.isArray(entry)) return entry.map((v) => revive(v, depth + 1));
		return Object.fromEntries(Object.entries(entry).map(([k, v]) => [k, revive(v, depth + 1)]));
	};
	const resultData = at(at(entries[0])?.resultData);
	const runData = at(resultData?.runData) ?? {};
	const task = (name: string) => at(at(runData[name])?.[0]);
	const subject = task('Subject');
	const make = task('Make Rows');
	const first = at(at(at(at(subject?.data)?.main)?.[0])?.[0]);
	const paired = first ? at(first.pairedItem) : undefined;
	return {
		nodeSeconds: subject ? subject.executionTime / 1000 : undefined,
		makeSeconds: make ? make.executionTime / 1000 : undefined,
		summaryBytes: first ? JSON.stringify(revive(first.json)).length : undefined,
		pairings: paired === undefined ? 0 : Array.isArray(paired) ? paired.length : 1,
		error: at(at(resultData?.error)?.message),
	};
}

function describe(outcome: Outcome): string {
	const parts = [
		outcome.status,
		`execution ${outcome.wallSeconds.toFixed(1)} s`,
		outcome.nodeSeconds === undefined ? undefined : `node ${outcome.nodeSeconds.toFixed(2)} s`,
		`peak RSS ${Math.round(outcome.peakMiB)} MiB`,
		outcome.summaryBytes === undefined ? undefined : `first item ${outcome.summaryBytes} B JSON`,
		outcome.pairings === undefined ? undefined : `${outcome.pairings} pairing(s)`,
		outcome.error ? `error: ${outcome.error}` : undefined,
	];
	return parts.filter(Boolean).join(', ');
}

async function main(): Promise<void> {
	const userFolder = mkdtempSync(path.join(os.tmpdir(), 'rm-bench-insights-'));
	let server: { baseUrl: string; child: { pid: number }; stop(): Promise<void> } | undefined;
	try {
		const files = SIZES.flatMap((rows) =>
			SUBJECTS.map((subject) => {
				const file = path.join(userFolder, `${workflowId(subject, rows)}.json`);
				writeFileSync(file, JSON.stringify(workflow(subject, rows)));
				return file;
			}),
		);
		// n8n's defaults, but one: the Code node that makes the rows runs in n8n's task runner, which
		// n8n drops when it does not answer a heartbeat for 30 s; making millions of rows on a loaded
		// machine takes longer. The subjects run in n8n's own process and are not affected.
		const { bin, env } = n8n.prepareInstance(userFolder, {
			extraEnv: { N8N_RUNNERS_HEARTBEAT_INTERVAL: '900' },
			files,
			activate: false,
			build: !process.env.INSIGHTS_BENCH_NO_BUILD,
		});
		server = await n8n.startN8n(bin, env);
		await n8n.ensureOwner(server!.baseUrl);
		let cookie = await n8n.signIn(server!.baseUrl);
		const db = path.join(userFolder, '.n8n', 'database.sqlite');
		for (const rows of SIZES) {
			const count = rows.toLocaleString('en');
			const outcomes = new Map<string, Outcome>();
			for (const subject of SUBJECTS) {
				const outcome = await runOnce(server!, cookie, db, workflowId(subject, rows));
				outcomes.set(subject.key, outcome);
				process.stderr.write(`  ${count} rows, ${subject.label}: ${describe(outcome)}\n`);
				if (child(server!).exitCode !== null) {
					// n8n died (out of memory): start it again for the next subject.
					server = await n8n.startN8n(bin, env);
					await n8n.ensureOwner(server!.baseUrl);
					cookie = await n8n.signIn(server!.baseUrl);
				}
			}
			const noop = outcomes.get('noop')!;
			for (const subject of SUBJECTS.slice(1)) {
				const outcome = outcomes.get(subject.key)!;
				const fits = outcome.status === 'success';
				report({
					name: `n8n: ${count} purchase rows into ${subject.label}`,
					// Issue #18's figure "Loyalty Insights RFM and CLV at 2,000,000 purchase rows".
					row: 'analytics',
					baseline: `the same rows into a NoOp node (${describe(noop)})`,
					baselineSeconds: noop.wallSeconds,
					subject: `${subject.label}, n8n 2.40.7 defaults (execution saved)`,
					subjectSeconds: fits ? outcome.wallSeconds : NaN,
					figure: { value: Math.round(outcome.peakMiB), unit: 'MiB peak RSS' },
					// Not fitting n8n's defaults (out of memory, not saved) fails the row.
					error: fits ? undefined : true,
					note: describe(outcome),
				});
			}
		}
	} finally {
		await server?.stop();
		rmSync(userFolder, { recursive: true, force: true });
	}
}

// Reading back an execution of millions of rows takes more than Node's default heap: this process
// (not n8n, which runs with its defaults) runs again with a larger one.
if (getHeapStatistics().heap_size_limit < 12 * 1024 ** 3) {
	const again = spawnSync(
		process.execPath,
		['--max-old-space-size=16384', ...process.execArgv, ...process.argv.slice(1)],
		{ stdio: 'inherit' },
	);
	process.exitCode = again.status ?? 1;
} else
	main().catch((error) => {
		process.stderr.write(
			`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
		);
		process.exitCode = 1;
	});
