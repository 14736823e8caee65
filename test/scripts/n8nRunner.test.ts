/* The pieces of npm start that need no n8n: the install's progress and estimate, the settings that
 * keep n8n's deprecation warnings away, and reading what an instance already has. */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain ESM script without types
import * as n8n from '../../scripts/n8n.mjs';

const scratch = mkdtempSync(path.join(os.tmpdir(), 'rm-runner-unit-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('installing n8n', () => {
	it('takes the install lock on a clean clone, where the cache folder does not exist yet, and lets it go', () => {
		const lock = path.join(scratch, 'fresh-clone', '.cache', 'n8n', '9.9.9.installing');
		expect(existsSync(path.dirname(lock))).toBe(false);
		expect(n8n.takeInstallLock(lock, '9.9.9')).toBe(true);
		expect(readFileSync(path.join(lock, 'pid'), 'utf8')).toBe(String(process.pid));
		rmSync(lock, { recursive: true, force: true });
	});

	it('estimates from the measured idle time, scaled by the load per core, and names the last install', () => {
		const idle = n8n.installEstimate({ load: 0.5, cores: 2, history: [] });
		expect(idle).toBe('about 4 min on an idle 2-core machine');
		const busy = n8n.installEstimate({
			load: 16,
			cores: 2,
			history: [{ version: '2.40.7', seconds: 1260, load: 14.2 }],
		});
		expect(busy).toContain('this machine is busy (load 16.0 on 2 cores), so expect about 32 min');
		expect(busy).toContain('the last install here took 21 min (n8n 2.40.7, load 14.2)');
	});

	it('prints each phase, the time spent and what it waits for while it runs, and keeps how long it took', async () => {
		const dir = path.join(scratch, 'n8n', '9.9.9');
		const bin = path.join(dir, 'node_modules', 'n8n', 'bin', 'n8n');
		const lines: string[] = [];
		const sleep = (ms: number, then = '') => [
			process.execPath,
			['-e', `setTimeout(() => { ${then} }, ${ms})`],
		];
		const phases = [
			{
				name: 'fetch',
				idleSeconds: 1,
				command: () =>
					sleep(
						700,
						`require('fs').mkdirSync(${JSON.stringify(path.dirname(bin))}, { recursive: true }); require('fs').writeFileSync(${JSON.stringify(bin)}, '')`,
					),
			},
			{ name: 'compile', idleSeconds: 1, command: () => sleep(300) },
		];
		await n8n.installN8n('9.9.9', {
			dir,
			phases,
			tickMs: 100,
			log: (line: string) => lines.push(line),
		});
		expect(lines[0]).toMatch(/^installing n8n 9\.9\.9 .*about 2 s on an idle 2-core machine/);
		expect(lines).toContainEqual(
			expect.stringMatching(
				/^phase 1\/2: fetch: 0 s so far .*; \d+ packages in node_modules; waiting for .+ \(pid \d+\)$/,
			),
		);
		expect(lines).toContainEqual(expect.stringMatching(/^phase 2\/2: compile: done in/));
		expect(lines.at(-1)).toMatch(/^n8n 9\.9\.9 installed in \d+ s$/);
		expect(existsSync(path.join(dir, '.ready'))).toBe(true);
		const history = JSON.parse(
			readFileSync(path.join(scratch, 'n8n', 'install-history.json'), 'utf8'),
		);
		expect(history.at(-1)).toMatchObject({
			version: '9.9.9',
			phases: [{ phase: 'fetch' }, { phase: 'compile' }],
		});
	});

	it('a failing phase says which command failed and shows its output', async () => {
		const dir = path.join(scratch, 'n8n', '9.9.8');
		const phases = [
			{
				name: 'fetch',
				idleSeconds: 1,
				command: () => [
					process.execPath,
					['-e', "console.error('E404 no such package'); process.exit(3)"],
				],
			},
		];
		await expect(
			n8n.installN8n('9.9.8', { dir, phases, tickMs: 100, log: () => {} }),
		).rejects.toThrow(/exit code 3:\n.*E404 no such package/);
		expect(existsSync(path.join(dir, '.ready'))).toBe(false);
	});
});

describe("reusing sqlite3's build from the other n8n version", () => {
	// A stand-in for the sqlite3 package: loading it fails unless its build holds what was compiled.
	const fakeSqlite3 = (dir: string, version: string, built?: string) => {
		const moduleDir = path.join(dir, 'node_modules', 'sqlite3');
		mkdirSync(path.join(moduleDir, 'build', 'Release'), { recursive: true });
		writeFileSync(
			path.join(moduleDir, 'package.json'),
			JSON.stringify({ name: 'sqlite3', version, main: 'index.js' }),
		);
		writeFileSync(
			path.join(moduleDir, 'index.js'),
			"if (require('fs').readFileSync(__dirname + '/build/Release/node_sqlite3.node', 'utf8') !== 'compiled') throw new Error('bad build');",
		);
		if (built !== undefined)
			writeFileSync(path.join(moduleDir, 'build', 'Release', 'node_sqlite3.node'), built);
		return moduleDir;
	};

	it('copies the same release compiled for a ready sibling install instead of compiling again', () => {
		const parent = path.join(scratch, 'reuse');
		fakeSqlite3(path.join(parent, '2.40.7'), '5.1.7', 'compiled');
		writeFileSync(path.join(parent, '2.40.7', '.ready'), '');
		const target = fakeSqlite3(path.join(parent, '1.123.81'), '5.1.7');
		expect(n8n.reuseSqlite3Build(path.join(parent, '1.123.81'))).toBe(
			'sqlite3 5.1.7 already compiled for n8n 2.40.7: copied',
		);
		expect(readFileSync(path.join(target, 'build', 'Release', 'node_sqlite3.node'), 'utf8')).toBe(
			'compiled',
		);
	});

	it('compiles when no ready sibling has the same release, or its copy does not load', () => {
		const parent = path.join(scratch, 'no-reuse');
		fakeSqlite3(path.join(parent, 'other-release'), '5.1.6', 'compiled');
		writeFileSync(path.join(parent, 'other-release', '.ready'), '');
		fakeSqlite3(path.join(parent, 'not-ready'), '5.1.7', 'compiled');
		fakeSqlite3(path.join(parent, 'broken'), '5.1.7', 'half-written');
		writeFileSync(path.join(parent, 'broken', '.ready'), '');
		const target = fakeSqlite3(path.join(parent, 'new'), '5.1.7');
		expect(n8n.reuseSqlite3Build(path.join(parent, 'new'))).toBeUndefined();
		expect(existsSync(path.join(target, 'build'))).toBe(false);
	});
});

describe('the packed tarball is reused only for the same contents', () => {
	it("the fingerprint follows package.json's files and the files npm always adds, nothing else", () => {
		const root = path.join(scratch, 'package');
		mkdirSync(path.join(root, 'dist', 'nodes'), { recursive: true });
		mkdirSync(path.join(root, 'engine'), { recursive: true });
		writeFileSync(path.join(root, 'package.json'), JSON.stringify({ name: 'p', files: ['dist'] }));
		writeFileSync(path.join(root, 'README.md'), 'readme');
		writeFileSync(path.join(root, 'dist', 'nodes', 'A.node.js'), 'one');
		writeFileSync(path.join(root, 'engine', 'a.ts'), 'source');
		const first = n8n.packageFingerprint(root);
		writeFileSync(path.join(root, 'engine', 'a.ts'), 'changed source, not packed');
		expect(n8n.packageFingerprint(root)).toBe(first);
		writeFileSync(path.join(root, 'dist', 'nodes', 'A.node.js'), 'two');
		const second = n8n.packageFingerprint(root);
		expect(second).not.toBe(first);
		writeFileSync(path.join(root, 'README.md'), 'new readme');
		expect(n8n.packageFingerprint(root)).not.toBe(second);
		writeFileSync(path.join(root, 'dist', 'nodes', 'B.node.js'), '');
		expect(n8n.packageFingerprint(root)).not.toBe(second);
	});
});

describe("n8n's settings", () => {
	it('n8n 2.x gets no N8N_RUNNERS_ENABLED (obsolete there) and explicit values where its defaults will change', () => {
		const settings = n8n.settingsWithoutDeprecations({}, '2.40.7');
		expect(settings).not.toHaveProperty('N8N_RUNNERS_ENABLED');
		expect(settings).toMatchObject({
			N8N_UNVERIFIED_PACKAGES_ENABLED: 'true',
			N8N_RUNNERS_TASK_TIMEOUT: '300',
			N8N_COMPRESSION_NODE_MAX_ZIP_ENTRIES: '1000',
		});
		expect(
			n8n.settingsWithoutDeprecations({ N8N_RUNNERS_TASK_TIMEOUT: '60' }, '2.40.7')
				.N8N_RUNNERS_TASK_TIMEOUT,
		).toBe('60');
		expect(n8n.settingsWithoutDeprecations({}, '1.123.81')).toEqual({
			N8N_RUNNERS_ENABLED: 'true',
		});
	});
});

describe('what an instance already has', () => {
	it('reads the workflow and credential ids from its SQLite database, none before its first start', () => {
		const userFolder = path.join(scratch, 'user');
		const env = { N8N_USER_FOLDER: userFolder };
		expect(n8n.instanceContents('unused', env)).toEqual({
			workflows: new Set(),
			credentials: new Set(),
		});
		mkdirSync(path.join(userFolder, '.n8n'), { recursive: true });
		const db = new DatabaseSync(path.join(userFolder, '.n8n', 'database.sqlite'));
		db.exec(
			'CREATE TABLE workflow_entity (id TEXT PRIMARY KEY, name TEXT); CREATE TABLE credentials_entity (id TEXT PRIMARY KEY)',
		);
		db.exec(
			"INSERT INTO workflow_entity VALUES ('rmCodeBatch00001', 'mine'); INSERT INTO credentials_entity VALUES ('rmLocalSmtp00001')",
		);
		db.close();
		expect(n8n.instanceContents('unused', env)).toEqual({
			workflows: new Set(['rmCodeBatch00001']),
			credentials: new Set(['rmLocalSmtp00001']),
		});
	});
});

describe('fetchAgain (the REST helpers’ fetch)', () => {
	it('sends again when the connection closes before any answer, and stops after its tries', async () => {
		let connections = 0;
		let answerFrom = 2;
		const server = net.createServer((socket) => {
			connections++;
			if (connections < answerFrom) {
				socket.destroy();
				return;
			}
			socket.once('data', () =>
				socket.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok'),
			);
		});
		await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
		const url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/`;
		try {
			const response = await n8n.fetchAgain(url, { method: 'POST', body: '{}' });
			expect(await response.text()).toBe('ok');
			expect(connections).toBe(2);
			connections = 0;
			answerFrom = 10;
			await expect(n8n.fetchAgain(url, { method: 'POST', body: '{}' })).rejects.toThrow(
				'fetch failed',
			);
			expect(connections).toBe(3);
		} finally {
			server.close();
		}
	});
});
