/* `npm start` as a user runs it, with a throwaway user folder and ports: the first start imports
 * and publishes the samples with no deprecation warning in its log; a later start keeps what the
 * user changed in the editor, `--reset` restores the samples; Ctrl-C (SIGINT), SIGTERM and SIGHUP
 * (a closed terminal) each stop n8n, its task runner and the mail catcher with the runner. Runs
 * with the end-to-end tests (a real n8n starts three times). */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain ESM script without types
import * as n8n from '../../scripts/n8n.mjs';

interface Started {
	child: ChildProcess;
	output: () => string;
	n8nPid: number;
}

const BATCH = 'rmCodeBatch00001';

describe('npm start (scripts/n8n-runner.mjs start)', () => {
	let userFolder: string;
	let ports: { n8n: number; smtp: number; http: number };
	let current: Started | undefined;
	const baseUrl = () => `http://127.0.0.1:${ports.n8n}`;

	beforeAll(async () => {
		userFolder = mkdtempSync(path.join(os.tmpdir(), 'rm-runner-'));
		ports = { n8n: await n8n.freePort(), smtp: await n8n.freePort(), http: await n8n.freePort() };
	});

	afterAll(async () => {
		if (current?.child.exitCode === null) {
			current.child.kill('SIGKILL');
			killGroup(current.n8nPid);
		}
		if (userFolder) rmSync(userFolder, { recursive: true, force: true });
	});

	/** Starts the runner as a terminal would, in a process group of its own; resolves once n8n answers. */
	async function startRunner(...options: string[]): Promise<Started> {
		const child = spawn(
			process.execPath,
			[path.join(n8n.ROOT, 'scripts', 'n8n-runner.mjs'), 'start', '--no-build', ...options],
			{
				cwd: n8n.ROOT,
				detached: true,
				stdio: ['ignore', 'pipe', 'pipe'],
				env: {
					...Object.fromEntries(
						Object.entries(process.env).filter(([key]) => !/^(VITEST|NODE_ENV$|TEST$)/.test(key)),
					),
					N8N_USER_FOLDER: userFolder,
					N8N_PORT: String(ports.n8n),
					MAIL_CATCHER_SMTP_PORT: String(ports.smtp),
					MAIL_CATCHER_HTTP_PORT: String(ports.http),
				},
			},
		);
		let output = '';
		child.stdout!.on('data', (d) => (output += d));
		child.stderr!.on('data', (d) => (output += d));
		const deadline = Date.now() + 600_000;
		while (!output.includes(' is running: http://localhost:')) {
			if (child.exitCode !== null)
				throw new Error(
					`the runner exited with ${child.exitCode} before n8n was up:\n${output.slice(-6000)}`,
				);
			if (Date.now() > deadline)
				throw new Error(`n8n was not up within 600 s:\n${output.slice(-6000)}`);
			await new Promise((r) => setTimeout(r, 500));
		}
		const n8nPid = Number(/n8n runs as process (\d+)/.exec(output)?.[1]);
		expect(n8nPid).toBeGreaterThan(0);
		current = { child, output: () => output, n8nPid };
		return current;
	}

	/** Sends `signal` to the runner alone and checks that n8n's port closes and no process of the instance is left. */
	async function stopWith(started: Started, signal: NodeJS.Signals) {
		const exited = new Promise<number | null>((resolve) =>
			started.child.on('exit', (code) => resolve(code)),
		);
		process.kill(started.child.pid!, signal);
		const code = await Promise.race([
			exited,
			new Promise((r) => setTimeout(() => r('timeout'), 60_000)),
		]);
		expect(
			code,
			`the runner did not exit within 60 s of ${signal}:\n${started.output().slice(-3000)}`,
		).toBe(0);
		expect(await listening(ports.n8n), 'n8n still answers').toBe(false);
		expect(await listening(ports.smtp), 'the mail catcher still answers').toBe(false);
		// n8n leads its own process group (it and its task runner): nothing of it may be left.
		expect(groupMembers(started.n8nPid), `processes left in n8n's group after ${signal}`).toEqual(
			[],
		);
		expect(started.output()).toContain(`${signal}: stopping n8n`);
	}

	it('first start: imports and publishes the samples, no deprecation warning; SIGHUP (the terminal closed) stops everything', async () => {
		const started = await startRunner();
		const log = started.output();
		expect(log).toMatch(/imported 1\d sample workflow\(s\)/);
		// n8n lists each deprecated or soon-changing setting as " - VARIABLE -> advice".
		expect(
			log
				.split('\n')
				.filter((line) => /deprecat|^\s*- [A-Z0-9_]+ -> /i.test(line) && !isContainerNotice(line)),
		).toEqual([]);
		const check = await n8n.waitForWebhook(`${baseUrl()}/webhook/referral/code/check`, {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify({ code: 'friend k7qm 3xh9' }),
		});
		expect(check.status).toBe(200);
		// Code nodes run in n8n's task runner, which the runner starts beside n8n (external mode).
		const report = await n8n.runWorkflow({ baseUrl: baseUrl() }, 'rmLoyaltyReport1');
		expect(
			report.data.resultData.runData['Sample Transactions'][0].data.main[0].length,
		).toBeGreaterThan(0);
		// The user renames a sample in the editor.
		await rename(BATCH, 'My code batch');
		await stopWith(started, 'SIGHUP');
	}, 900_000);

	it('a later start keeps what the user changed; Ctrl-C (SIGINT) stops everything', async () => {
		const started = await startRunner();
		expect(started.output()).not.toMatch(/imported \d+ sample workflow/);
		expect(started.output()).toMatch(/kept the 1\d sample workflow\(s\) this instance already has/);
		expect((await workflow(BATCH)).name).toBe('My code batch');
		await stopWith(started, 'SIGINT');
	}, 900_000);

	it('--reset restores the samples; SIGTERM stops everything', async () => {
		const started = await startRunner('--reset');
		expect(started.output()).toMatch(/imported 1\d sample workflow\(s\)/);
		expect((await workflow(BATCH)).name).toBe('Referral codes: generate a batch');
		await stopWith(started, 'SIGTERM');
	}, 900_000);

	async function session() {
		return await n8n.signIn(baseUrl());
	}

	async function workflow(id: string) {
		const response = await fetch(`${baseUrl()}/rest/workflows/${id}`, {
			headers: { cookie: await session() },
		});
		expect(response.status).toBe(200);
		return ((await response.json()) as { data: { name: string; versionId: string } }).data;
	}

	async function rename(id: string, name: string) {
		const current = await workflow(id);
		const response = await fetch(`${baseUrl()}/rest/workflows/${id}`, {
			method: 'PATCH',
			headers: {
				cookie: await session(),
				'content-type': 'application/json',
				'browser-id': 'runner-test',
			},
			body: JSON.stringify({ name, versionId: current.versionId }),
		});
		expect(response.status, await response.clone().text()).toBe(200);
	}
});

/** n8n 2.x also says that running outside a container is deprecated: true of the machine, not of our settings. */
const isContainerNotice = (line: string) =>
	/Running n8n outside a container is deprecated/.test(line);

async function listening(port: number): Promise<boolean> {
	return await new Promise((resolve) => {
		const socket = net.connect(port, '127.0.0.1');
		socket.once('connect', () => {
			socket.destroy();
			resolve(true);
		});
		socket.once('error', () => resolve(false));
	});
}

function groupMembers(pgid: number): number[] {
	const ps = spawnSync('ps', ['-eo', 'pid=,pgid=,stat='], { encoding: 'utf8' });
	return ps.stdout
		.split('\n')
		.map((line) => line.trim().split(/\s+/))
		.filter(([pid, group, stat]) => Number(group) === pgid && pid && !stat?.startsWith('Z'))
		.map(([pid]) => Number(pid));
}

function killGroup(pgid: number) {
	try {
		process.kill(-pgid, 'SIGKILL');
	} catch {
		/* gone */
	}
}
