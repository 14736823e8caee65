// Real n8n for this package: installs a pinned n8n once into a git-ignored cache, installs this
// package the way n8n installs a community package (so node types are
// `n8n-nodes-referral-marketing.<node>`), imports workflows and runs n8n's CLI or server.
// Used by `npm start`, `npm run test:e2e` and the benchmarks that run inside n8n.
import { execFile, spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { createHash, randomBytes } from 'node:crypto';
import {
	copyFileSync,
	cpSync,
	existsSync,
	mkdirSync,
	mkdtempSync,
	openSync,
	readdirSync,
	readFileSync,
	renameSync,
	rmSync,
	statSync,
	writeFileSync,
} from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const CACHE = path.join(ROOT, '.cache');
export const PACKAGE_NAME = 'n8n-nodes-referral-marketing';
/** The newest n8n 2.x that installs from the registry here (2.41.x lacks a dependency). */
export const N8N_VERSION = process.env.N8N_VERSION || '2.40.7';

export function log(message) {
	process.stderr.write(`[n8n-runner] ${message}\n`);
}

export function assertNode24() {
	const major = Number(process.versions.node.split('.')[0]);
	if (major < 24) {
		throw new Error(
			`n8n ${N8N_VERSION} needs Node.js 24; this is ${process.version}. Run through npm (npm start, npm run test:e2e), which puts the bundled Node 24 first on PATH.`,
		);
	}
}

/** PATH with the project's Node 24 first, so npm and n8n's scripts run on it. */
export function nodePath() {
	return [
		path.dirname(process.execPath),
		path.join(ROOT, 'node_modules', '.bin'),
		process.env.PATH,
	].join(path.delimiter);
}

function run(command, args, options = {}) {
	const result = spawnSync(command, args, {
		stdio: options.quiet ? 'pipe' : ['ignore', 'inherit', 'inherit'],
		encoding: 'utf8',
		...options,
		env: {
			...process.env,
			PATH: nodePath(),
			npm_config_loglevel: 'error',
			npm_config_update_notifier: 'false',
			...(options.env ?? {}),
		},
	});
	if (result.status !== 0) {
		throw new Error(
			`${command} ${args.join(' ')} failed with exit code ${result.status}${result.stderr ? `:\n${result.stderr.slice(-4000)}` : ''}`,
		);
	}
	return result;
}

/**
 * What n8n 1.x needs pinned to install and start here (n8n publishes no lockfile). Its nodes-base
 * fetches xlsx from cdn.sheetjs.com, unreachable here: the same SheetJS release is on the registry
 * as @e965/xlsx, which n8n 2.x uses itself. A floating langgraph-checkpoint 1.2 needs a newer
 * @langchain/core than n8n 1.x pins, and `n8n start` then fails as 'Command "start" not found'.
 */
const N8N1_OVERRIDES = {
	xlsx: 'npm:@e965/xlsx@0.20.2',
	'@langchain/langgraph-checkpoint': '1.0.0',
};

/**
 * Installs n8n into .cache/n8n/<version> once; returns the path of its CLI script. Running n8n needs
 * Node 24; installing it does not (`anyNode`: CI installs it on the Node 20 on PATH while `npm ci`
 * fetches Node 24; its one compiled addon, sqlite3, is a Node-API module that any Node version loads).
 */
export function ensureN8n(version = N8N_VERSION, { anyNode = false } = {}) {
	if (!anyNode) assertNode24();
	const dir = path.join(CACHE, 'n8n', version);
	const bin = path.join(dir, 'node_modules', 'n8n', 'bin', 'n8n');
	const marker = path.join(dir, '.ready');
	if (existsSync(marker) && existsSync(bin)) return bin;
	// One install per folder at a time: several test runs (or worktrees sharing .cache) that start
	// together would otherwise run npm install in the same folder at once and break each other's.
	const lock = `${dir}.installing`;
	if (!takeInstallLock(lock, version)) {
		if (existsSync(marker) && existsSync(bin)) return bin;
		return ensureN8n(version, { anyNode }); // the other install failed: try it here
	}
	let result;
	try {
		// The install runs in a child process that reports its progress while this one waits for it.
		const script = `import(${JSON.stringify(import.meta.url)}).then((n8n) => n8n.installN8n(process.argv[1])).catch((error) => { process.stderr.write(String(error?.stack ?? error) + '\\n'); process.exit(1); })`;
		result = spawnSync(process.execPath, ['--input-type=module', '-e', script, version], {
			stdio: 'inherit',
			env: { ...process.env, PATH: nodePath() },
		});
	} finally {
		rmSync(lock, { recursive: true, force: true });
	}
	if (result.status !== 0 || !existsSync(marker))
		throw new Error(
			`installing n8n ${version} into ${path.relative(ROOT, dir)} failed (see the messages above)`,
		);
	return bin;
}

/**
 * Takes the install lock (a folder holding the installer's pid) and returns true; or, while another
 * living process holds it, waits for that install to end (saying so every 30 s) and returns false.
 * A lock whose process is gone (killed mid-install) is taken over.
 */
export function takeInstallLock(lock, version) {
	const pause = new Int32Array(new SharedArrayBuffer(4));
	const started = Date.now();
	let said = 0;
	// On a clean clone .cache/n8n does not exist yet: the lock's own mkdir must not be the first.
	mkdirSync(path.dirname(lock), { recursive: true });
	for (;;) {
		try {
			mkdirSync(lock);
			writeFileSync(path.join(lock, 'pid'), String(process.pid));
			return true;
		} catch (error) {
			if (error.code !== 'EEXIST') throw error;
		}
		let pid = 0;
		try {
			pid = Number(readFileSync(path.join(lock, 'pid'), 'utf8'));
		} catch {
			// no pid yet: the other process is between its mkdir and writing the pid
		}
		const age = Date.now() - (statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
		if (!(pid > 0) && age < 10_000) {
			Atomics.wait(pause, 0, 0, 1_000);
			continue;
		}
		let alive = false;
		try {
			alive = pid > 0 && process.kill(pid, 0);
		} catch {
			alive = false;
		}
		if (!alive) {
			rmSync(lock, { recursive: true, force: true });
			continue;
		}
		const waited = (Date.now() - started) / 1000;
		if (waited >= said) {
			log(
				`another process (pid ${pid}) is installing n8n ${version} into this cache; waiting for it (${minutes(waited)} so far)`,
			);
			said += 30;
		}
		Atomics.wait(pause, 0, 0, 5_000);
		if (!existsSync(lock)) return false;
	}
}

/** How long the phases of an n8n install took on an idle 2-core machine (measured, n8n 2.40.7). */
const INSTALL_PHASES = [
	{
		name: 'download and unpack n8n and its ~1,100 packages (2.8 GB)',
		idleSeconds: 180,
		command: (version) => [
			'npm',
			[
				'install',
				`n8n@${version}`,
				'--ignore-scripts',
				'--no-audit',
				'--no-fund',
				'--no-save',
				'--legacy-peer-deps',
			],
		],
	},
	{
		name: "compile sqlite3, n8n's database driver, from C sources",
		idleSeconds: 60,
		command: () => ['npm', ['rebuild', 'sqlite3']],
		reuse: reuseSqlite3Build,
	},
];

/**
 * The same sqlite3 release already compiled for another n8n version in this cache (a Node-API addon,
 * so one build serves every Node 24 process): copies its build instead of compiling again, and says
 * from where. Returns undefined when there is none or the copy does not load (then it compiles).
 */
export function reuseSqlite3Build(dir) {
	const packageVersion = (moduleDir) => {
		try {
			return JSON.parse(readFileSync(path.join(moduleDir, 'package.json'), 'utf8')).version;
		} catch {
			return undefined;
		}
	};
	const target = path.join(dir, 'node_modules', 'sqlite3');
	const wanted = packageVersion(target);
	if (!wanted) return undefined;
	const parent = path.dirname(dir);
	const siblings = existsSync(parent)
		? readdirSync(parent, { withFileTypes: true }).filter(
				(e) => e.isDirectory() && path.join(parent, e.name) !== dir,
			)
		: [];
	for (const sibling of siblings) {
		const source = path.join(parent, sibling.name, 'node_modules', 'sqlite3');
		if (!existsSync(path.join(parent, sibling.name, '.ready')) || packageVersion(source) !== wanted)
			continue;
		if (!existsSync(path.join(source, 'build', 'Release', 'node_sqlite3.node'))) continue;
		rmSync(path.join(target, 'build'), { recursive: true, force: true });
		mkdirSync(path.join(target, 'build', 'Release'), { recursive: true });
		cpSync(
			path.join(source, 'build', 'Release', 'node_sqlite3.node'),
			path.join(target, 'build', 'Release', 'node_sqlite3.node'),
		);
		const check = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(target)})`], {
			encoding: 'utf8',
		});
		if (check.status === 0)
			return `sqlite3 ${wanted} already compiled for n8n ${sibling.name}: copied`;
		rmSync(path.join(target, 'build'), { recursive: true, force: true });
	}
	return undefined;
}

const minutes = (seconds) =>
	seconds < 90 ? `${Math.round(seconds)} s` : `${Math.round(seconds / 60)} min`;

/**
 * An honest estimate: the measured idle time scaled by how busy this machine is now (load average
 * per core), and what the last install here took.
 */
export function installEstimate({
	load = os.loadavg()[0],
	cores = os.availableParallelism?.() ?? os.cpus().length,
	history = readInstallHistory(),
	phases = INSTALL_PHASES,
} = {}) {
	const idle = phases.reduce((sum, phase) => sum + phase.idleSeconds, 0);
	const busy = Math.max(1, load / cores);
	const parts = [`about ${minutes(idle)} on an idle 2-core machine`];
	if (busy > 1.5)
		parts.push(
			`this machine is busy (load ${load.toFixed(1)} on ${cores} cores), so expect about ${minutes(idle * busy)}`,
		);
	const last = history.at(-1);
	if (last)
		parts.push(
			`the last install here took ${minutes(last.seconds)} (n8n ${last.version}, load ${last.load.toFixed(1)})`,
		);
	return parts.join('; ');
}

function readInstallHistory(file = path.join(CACHE, 'n8n', 'install-history.json')) {
	try {
		return JSON.parse(readFileSync(file, 'utf8'));
	} catch {
		return [];
	}
}

function countPackages(nodeModules) {
	try {
		return readdirSync(nodeModules, { withFileTypes: true }).reduce((count, entry) => {
			if (!entry.isDirectory() || entry.name.startsWith('.')) return count;
			return (
				count +
				(entry.name.startsWith('@') ? readdirSync(path.join(nodeModules, entry.name)).length : 1)
			);
		}, 0);
	} catch {
		return 0;
	}
}

/**
 * Installs n8n `version` into .cache/n8n/<version>, printing its phase, the time spent and what it
 * waits for every `tickMs`. Install scripts are skipped: one of them compiles librdkafka from
 * sources fetched online. Only sqlite3 (n8n's own database driver) needs building, and it builds
 * from the package.
 */
export async function installN8n(
	version = N8N_VERSION,
	{
		tickMs = 15_000,
		dir = path.join(CACHE, 'n8n', version),
		phases: steps = INSTALL_PHASES,
		log: say = log,
	} = {},
) {
	const bin = path.join(dir, 'node_modules', 'n8n', 'bin', 'n8n');
	const historyFile = path.join(dir, '..', 'install-history.json');
	const started = Date.now();
	const load = os.loadavg()[0];
	say(
		`installing n8n ${version} into ${path.relative(ROOT, dir)} (first time only): ${installEstimate({ load, history: readInstallHistory(historyFile), phases: steps })}. Progress every ${tickMs / 1000} s.`,
	);
	mkdirSync(dir, { recursive: true });
	rmSync(path.join(dir, '.ready'), { force: true });
	const overrides = version.startsWith('1.') ? N8N1_OVERRIDES : {};
	writeFileSync(
		path.join(dir, 'package.json'),
		JSON.stringify({ name: 'n8n-runtime', private: true, overrides }, null, 2),
	);
	const phases = [];
	for (const [index, phase] of steps.entries()) {
		const [command, args] = phase.command(version);
		const phaseStart = Date.now();
		const label = `phase ${index + 1}/${steps.length}: ${phase.name}`;
		const reused = phase.reuse?.(dir);
		if (reused) {
			phases.push({
				phase: phase.name,
				seconds: Math.round((Date.now() - phaseStart) / 1000),
				reused: true,
			});
			say(`${label}: skipped, ${reused}`);
			continue;
		}
		say(`${label}: running ${command} ${args.join(' ')}`);
		const child = spawn(command, args, {
			cwd: dir,
			stdio: ['ignore', 'pipe', 'pipe'],
			env: {
				...process.env,
				PATH: nodePath(),
				npm_config_loglevel: 'error',
				npm_config_update_notifier: 'false',
			},
		});
		let output = '';
		child.stdout.on('data', (d) => (output = (output + d).slice(-8000)));
		child.stderr.on('data', (d) => (output = (output + d).slice(-8000)));
		const ticker = setInterval(() => {
			const elapsed = (Date.now() - phaseStart) / 1000;
			const packages = countPackages(path.join(dir, 'node_modules'));
			say(
				`${label}: ${minutes(elapsed)} so far (usually ${minutes(phase.idleSeconds)} when idle; load now ${os.loadavg()[0].toFixed(1)}); ${packages} packages in node_modules; waiting for ${command} ${args[0]} (pid ${child.pid})`,
			);
		}, tickMs);
		const code = await new Promise((resolve) => child.on('close', resolve));
		clearInterval(ticker);
		if (code !== 0)
			throw new Error(
				`${command} ${args.join(' ')} failed with exit code ${code}:\n${output.slice(-4000)}`,
			);
		phases.push({ phase: phase.name, seconds: Math.round((Date.now() - phaseStart) / 1000) });
		say(`${label}: done in ${minutes((Date.now() - phaseStart) / 1000)}`);
	}
	if (!existsSync(bin)) throw new Error(`n8n ${version} installed but ${bin} is missing`);
	const seconds = Math.round((Date.now() - started) / 1000);
	writeFileSync(path.join(dir, '.ready'), new Date().toISOString());
	const history = [
		...readInstallHistory(historyFile),
		{ version, seconds, load: Math.round(load * 10) / 10, phases, at: new Date().toISOString() },
	].slice(-10);
	writeFileSync(historyFile, JSON.stringify(history, null, 2));
	say(`n8n ${version} installed in ${minutes(seconds)}`);
	return bin;
}

/**
 * What `npm pack` would put in the tarball, as one hash: package.json's `files`, the files npm always
 * adds (package.json, README, LICENSE, CHANGELOG) and their contents. Same hash, same tarball.
 */
export function packageFingerprint(root = ROOT) {
	const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
	const hash = createHash('sha256');
	const add = (file) => {
		const stat = statSync(file, { throwIfNoEntry: false });
		if (!stat) return;
		if (stat.isDirectory()) {
			for (const entry of readdirSync(file).sort()) add(path.join(file, entry));
			return;
		}
		hash.update(path.relative(root, file)).update('\0').update(readFileSync(file)).update('\0');
	};
	const always = readdirSync(root).filter((f) =>
		/^(package\.json|readme|license|licence|changelog)/i.test(f),
	);
	for (const entry of [...always.sort(), ...(manifest.files ?? [])]) add(path.join(root, entry));
	return hash.digest('hex').slice(0, 16);
}

/**
 * Builds the package and packs it as npm would publish it; returns the tarball path. A tarball of the
 * same contents (packageFingerprint) packed earlier in .cache/packs is reused: every e2e file installs
 * the package, and packing it each time cost about 5 s of a file's set-up.
 */
export function packPackage({ build = true } = {}) {
	if (build) run('npm', ['run', 'build', '--silent'], { cwd: ROOT, quiet: true });
	const packs = path.join(CACHE, 'packs');
	const cached = path.join(packs, `${PACKAGE_NAME}-${packageFingerprint()}.tgz`);
	// A folder of its own per call (callers delete it): test runs in parallel and worktrees sharing .cache never swap tarballs.
	mkdirSync(packs, { recursive: true });
	const dir = mkdtempSync(path.join(CACHE, 'pack-'));
	const copy = path.join(dir, path.basename(cached));
	if (existsSync(cached)) {
		copyFileSync(cached, copy);
		return copy;
	}
	run('npm', ['pack', '--pack-destination', dir, '--silent'], { cwd: ROOT, quiet: true });
	const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'));
	if (!tarball) throw new Error('npm pack produced no tarball');
	renameSync(path.join(dir, tarball), copy);
	publishToCache(copy, cached);
	keepNewest(packs, 4);
	return copy;
}

/** Deletes all but the `count` newest entries of a cache folder (packs and installs of older builds). */
function keepNewest(dir, count) {
	const entries = readdirSync(dir)
		.filter((name) => !name.endsWith('.tmp'))
		.map((name) => ({ name, time: statSync(path.join(dir, name)).mtimeMs }))
		.sort((a, b) => b.time - a.time);
	for (const { name } of entries.slice(count))
		rmSync(path.join(dir, name), { recursive: true, force: true });
}

/** Copies `file` (or a folder) to `target` in .cache all at once: a reader never sees half of it. */
function publishToCache(source, target) {
	const staging = `${target}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
	cpSync(source, staging, { recursive: true, verbatimSymlinks: true });
	try {
		renameSync(staging, target);
	} catch {
		rmSync(staging, { recursive: true, force: true }); // another process published the same contents first
	}
}

export function installIntoUserFolder(userFolder, tarball) {
	const nodesDir = path.join(userFolder, '.n8n', 'nodes');
	// A new user folder gets a copy of the same tarball installed before (.cache/installed/<tarball>):
	// the npm install of the package and its dependencies cost about 6 s of each e2e file's set-up.
	const installed = path.join(CACHE, 'installed', path.basename(tarball, '.tgz'));
	const reusable =
		path.basename(tarball).startsWith(`${PACKAGE_NAME}-`) &&
		path.dirname(path.dirname(tarball)) === CACHE;
	if (!existsSync(nodesDir) && reusable && existsSync(installed)) {
		cpSync(installed, nodesDir, { recursive: true, verbatimSymlinks: true });
		return;
	}
	const fresh = !existsSync(nodesDir);
	mkdirSync(nodesDir, { recursive: true });
	const manifest = path.join(nodesDir, 'package.json');
	if (!existsSync(manifest))
		writeFileSync(
			manifest,
			JSON.stringify({ name: 'installed-nodes', private: true, dependencies: {} }, null, 2),
		);
	rmSync(path.join(nodesDir, 'node_modules', PACKAGE_NAME), { recursive: true, force: true });
	run(
		'npm',
		[
			'install',
			tarball,
			'--omit=dev',
			'--legacy-peer-deps',
			'--ignore-scripts',
			'--no-audit',
			'--no-fund',
		],
		{ cwd: nodesDir, quiet: true },
	);
	const listed = JSON.parse(readFileSync(manifest, 'utf8'));
	if (!listed.dependencies?.[PACKAGE_NAME])
		throw new Error(`${PACKAGE_NAME} is not listed in ${manifest}`);
	if (fresh && reusable) {
		mkdirSync(path.dirname(installed), { recursive: true });
		publishToCache(nodesDir, installed);
		keepNewest(path.dirname(installed), 4);
	}
}

/**
 * A new SQLite-backed user folder starts from a copy of an n8n database already migrated by this n8n
 * version (.cache/n8n-template/<version>): n8n's first boot in an empty folder runs its migrations,
 * about 5 s of each e2e file's set-up. Folders with a database, or on PostgreSQL, are left alone.
 */
export function seedMigratedDatabase(bin, env) {
	if (env.DB_TYPE && env.DB_TYPE !== 'sqlite') return false;
	const target = path.join(env.N8N_USER_FOLDER, '.n8n');
	if (existsSync(path.join(target, 'database.sqlite'))) return false;
	const version = path.basename(path.resolve(bin, '..', '..', '..', '..'));
	// The config file holds the encryption key and the tables may carry a prefix: both are part of the key.
	const settings = createHash('sha256')
		.update(`${env.N8N_ENCRYPTION_KEY ?? ''}\0${env.DB_TABLE_PREFIX ?? ''}`)
		.digest('hex')
		.slice(0, 8);
	const template = path.join(CACHE, 'n8n-template', `${version}-${settings}`);
	if (!existsSync(path.join(template, 'database.sqlite'))) {
		const scratch = mkdtempSync(path.join(os.tmpdir(), 'rm-n8n-template-'));
		try {
			n8nCli(bin, ['list:workflow'], { ...env, N8N_USER_FOLDER: scratch });
			mkdirSync(path.dirname(template), { recursive: true });
			const files = path.join(scratch, 'files');
			mkdirSync(files);
			copyFileSync(path.join(scratch, '.n8n', 'config'), path.join(files, 'config'));
			// VACUUM INTO writes one consistent file with what is still in n8n's write-ahead log.
			const { DatabaseSync } = createRequire(import.meta.url)('node:sqlite');
			const db = new DatabaseSync(path.join(scratch, '.n8n', 'database.sqlite'));
			try {
				db.exec(`VACUUM INTO '${path.join(files, 'database.sqlite').replaceAll("'", "''")}'`);
			} finally {
				db.close();
			}
			publishToCache(files, template);
		} finally {
			rmSync(scratch, { recursive: true, force: true });
		}
	}
	mkdirSync(target, { recursive: true });
	for (const name of ['config', 'database.sqlite'])
		copyFileSync(path.join(template, name), path.join(target, name));
	return true;
}

/** Environment for every n8n process of a user folder. */
export function n8nEnv(userFolder, extra = {}) {
	// n8n goes silent and changes behaviour under a test runner's NODE_ENV=test / VITEST variables.
	const inherited = Object.fromEntries(
		Object.entries(process.env).filter(
			([key]) => !/^(VITEST|NODE_ENV$|TEST$|NODE_OPTIONS$)/.test(key),
		),
	);
	return {
		...inherited,
		NODE_ENV: 'production',
		PATH: nodePath(),
		N8N_USER_FOLDER: userFolder,
		N8N_DIAGNOSTICS_ENABLED: 'false',
		N8N_PERSONALIZATION_ENABLED: 'false',
		N8N_VERSION_NOTIFICATIONS_ENABLED: 'false',
		N8N_TEMPLATES_ENABLED: 'false',
		N8N_SECURE_COOKIE: 'false',
		N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS: 'false',
		N8N_LOG_LEVEL: process.env.N8N_LOG_LEVEL || 'info',
		N8N_ENCRYPTION_KEY: 'referral-marketing-local-only-key',
		N8N_BLOCK_ENV_ACCESS_IN_NODE: 'false',
		// Every n8n process (even `execute`) opens a task broker, on 5679 unless told: pick a free one
		// so that parallel test runs and `npm start` do not collide.
		N8N_RUNNERS_BROKER_PORT: String(freePortSync()),
		// n8n 1.x (1.123) evaluates expressions in isolated-vm 6.2 by default. On process.exit its
		// thread-pool destructor joins an isolate thread still collecting garbage after Node has
		// disposed the V8 platform: about a third of `n8n execute` runs end in SIGSEGV after printing
		// their result. The legacy (in-process) engine, 1.x's other supported setting, has no isolate.
		...(N8N_VERSION.startsWith('1.') ? { N8N_EXPRESSION_ENGINE: 'legacy' } : {}),
		...settingsWithoutDeprecations(inherited),
		...extra,
	};
}

/**
 * What n8n's version wants set explicitly, so that its start-up log carries no deprecation warning
 * of ours (n8n 2.x lists each variable it finds deprecated, or missing where its default will
 * change). A value from the environment wins.
 * - n8n 1.x runs Code nodes in task runners only when N8N_RUNNERS_ENABLED=true (and warns without it);
 *   n8n 2.x always does and calls the variable obsolete.
 * - n8n 2.x: community packages that are not verified keep loading (ours is installed that way);
 *   a Code node may run 5 minutes (today's default, which will become 1 minute); the Compression
 *   node takes at most 256 MiB and 1,000 entries from an archive (the coming, safer defaults).
 */
export function settingsWithoutDeprecations(environment = process.env, version = N8N_VERSION) {
	const defaults = version.startsWith('1.')
		? { N8N_RUNNERS_ENABLED: 'true' }
		: {
				N8N_UNVERIFIED_PACKAGES_ENABLED: 'true',
				N8N_RUNNERS_TASK_TIMEOUT: '300',
				N8N_COMPRESSION_NODE_MAX_DECOMPRESSED_SIZE_BYTES: String(256 * 1024 * 1024),
				N8N_COMPRESSION_NODE_MAX_ZIP_ENTRIES: '1000',
			};
	return Object.fromEntries(
		Object.entries(defaults).map(([key, value]) => [key, environment[key] ?? value]),
	);
}

/** A free TCP port, synchronously (for the synchronous CLI helpers). */
export function freePortSync() {
	const script =
		"const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{process.stdout.write(String(s.address().port));s.close();});";
	const result = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
	const port = Number(result.stdout);
	if (result.status !== 0 || !Number.isInteger(port) || port <= 0)
		throw new Error(`could not find a free port: ${result.stderr}`);
	return port;
}

/** Runs one n8n CLI command to the end; returns its output. */
export function n8nCli(bin, args, env) {
	const result = spawnSync(process.execPath, [bin, ...args], {
		env: { ...env, N8N_RUNNERS_BROKER_PORT: String(freePortSync()) },
		encoding: 'utf8',
		maxBuffer: 512 * 1024 * 1024,
	});
	if (result.status !== 0) {
		const how = result.error
			? `${result.error.message}`
			: `exit ${result.status}${result.signal ? `, signal ${result.signal}` : ''}`;
		throw new Error(
			`n8n ${args.join(' ')} failed (${how}):\n${(result.stderr || '').slice(-4000)}\n${(result.stdout || '').slice(-4000)}`,
		);
	}
	return result.stdout;
}

/** Parses the JSON that `n8n execute --rawOutput` prints after its log lines. */
export function parseExecuteOutput(stdout) {
	const start = stdout.search(/^\{/m);
	if (start === -1) throw new Error(`n8n execute printed no JSON:\n${stdout.slice(-2000)}`);
	return JSON.parse(stdout.slice(start));
}

export function workflowFiles(dir = path.join(ROOT, 'workflows')) {
	return readdirSync(dir)
		.filter((f) => f.endsWith('.json'))
		.sort()
		.map((f) => path.join(dir, f));
}

/**
 * Imports workflow files and publishes (activates) those that start from a webhook, schedule or
 * trigger node. With `activate: 'later'` it returns their ids for activateWorkflows.
 */
export function importWorkflows(bin, env, files, { activate = true } = {}) {
	if (files.length === 0) return [];
	log(`importing ${files.length} workflow${files.length === 1 ? '' : 's'} (one n8n CLI run)`);
	// One import for all files (each n8n CLI call boots n8n for seconds), then one activation each:
	// n8n 2.x publishes one workflow per call.
	const dir = mkdtempSync(path.join(env.N8N_USER_FOLDER, 'import-'));
	try {
		files.forEach((file, i) =>
			copyFileSync(file, path.join(dir, `${String(i).padStart(3, '0')}-${path.basename(file)}`)),
		);
		n8nCli(bin, ['import:workflow', '--separate', `--input=${dir}`], env);
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
	const activatable = files
		.map((file) => JSON.parse(readFileSync(file, 'utf8')))
		.filter(isActivatable);
	// A running instance publishes them through its REST API (activateWorkflows), much faster than
	// one n8n boot per workflow: n8n 2.x and 1.x (1.123) alike answer POST /workflows/:id/activate.
	// Without a running instance: the CLI, one call each.
	if (activate === 'later') return activatable.map((workflow) => workflow.id);
	for (const [i, workflow] of activatable.entries()) {
		if (!activate) break;
		log(
			`activating workflow ${i + 1} of ${activatable.length}: ${workflow.name} (one n8n CLI run each)`,
		);
		n8nCli(bin, activateArgs(bin, workflow.id), env);
	}
	return [];
}

/**
 * Publishes (activates) workflows in a running n8n 2.x through its REST API, as the editor's
 * Publish button does; a workflow's webhooks answer once this returns.
 */
export async function activateWorkflows(server, ids, { cookie } = {}) {
	if (ids.length === 0) return;
	cookie ??= await signIn(server.baseUrl);
	for (const id of ids) {
		const workflow = await rest(server.baseUrl, cookie, 'GET', `workflows/${id}`);
		await rest(server.baseUrl, cookie, 'POST', `workflows/${id}/activate`, {
			versionId: workflow.versionId,
		});
	}
}

/** The major version of the n8n a CLI script belongs to (read from its package.json). */
export function n8nMajor(bin) {
	const manifest = JSON.parse(
		readFileSync(path.join(path.dirname(bin), '..', 'package.json'), 'utf8'),
	);
	return Number(manifest.version.split('.')[0]);
}

/** n8n 2.x publishes a workflow version; n8n 1.x has no publishing and sets the active flag instead. */
function activateArgs(bin, id) {
	return n8nMajor(bin) >= 2
		? ['publish:workflow', `--id=${id}`]
		: ['update:workflow', `--id=${id}`, '--active=true'];
}

export function isActivatable(workflow) {
	return workflow.nodes.some(
		(node) =>
			!node.disabled &&
			node.type !== 'n8n-nodes-base.manualTrigger' &&
			/trigger$|webhook$/i.test(node.type),
	);
}

export async function freePort() {
	return await new Promise((resolve, reject) => {
		const server = net.createServer();
		server.unref();
		server.on('error', reject);
		server.listen(0, '127.0.0.1', () => {
			const { port } = server.address();
			server.close(() => resolve(port));
		});
	});
}

/** n8n processes this process started and that still run. */
const running = new Set();
// Whatever ends this process (an error, process.exit), the n8n it started goes with it: each runs
// in its own process group, which a signal to this process never reaches.
process.on('exit', () => {
	for (const child of running) {
		try {
			process.kill(-child.pid, 'SIGTERM');
		} catch {
			/* already gone */
		}
	}
});

/** Stops every n8n this process started (each with its task runner). */
export async function stopAllN8n() {
	await Promise.all([...running].map((child) => child.stopN8n?.()));
}

/**
 * Spawns an n8n command (start, worker) in its own process group, output to `logFile` (or the
 * terminal). `stop()` sends SIGTERM to the group (n8n and its task runner), SIGKILL after 15 s.
 */
export function spawnN8n(bin, args, env, logFile, { inheritOutput = false, wrapper } = {}) {
	const out = inheritOutput ? 'inherit' : openSync(logFile, 'a');
	const child = spawn(process.execPath, [...(wrapper ? [wrapper] : []), bin, ...args], {
		env,
		stdio: ['ignore', out, out],
		detached: true,
	});
	running.add(child);
	const exited = new Promise((resolve) => child.on('exit', resolve));
	exited.then(() => running.delete(child));
	const signal = (name) => {
		try {
			process.kill(-child.pid, name);
		} catch {
			/* already gone */
		}
	};
	const stop = async () => {
		if (child.exitCode !== null) return;
		signal('SIGTERM');
		const timer = setTimeout(() => signal('SIGKILL'), 15_000);
		await exited;
		clearTimeout(timer);
	};
	/** SIGKILL to the whole process group (n8n and its task runner): a crash, nothing shuts down cleanly. */
	const kill = async () => {
		if (child.exitCode !== null || child.signalCode !== null) return;
		signal('SIGKILL');
		await exited;
	};
	child.stopN8n = stop;
	return { child, logFile, stop, kill };
}

/**
 * Starts `n8n start` and resolves once the editor answers. `stop()` ends it (and its task runner).
 * Output goes to a log file so a failing test can show it.
 *
 * Without `port`, n8n gets a free port; the task broker always gets a free port of its own (not
 * port + 1, which another n8n on this machine may hold). A port taken between choosing it and
 * n8n binding it (another test file, another process) is not a failure: n8n starts again on
 * fresh ports, up to `attempts` times. A fixed `port` stays fixed; only the broker's changes.
 */
export async function startN8n(bin, env, { port, attempts = 3, ...options } = {}) {
	for (let attempt = 1; ; attempt++) {
		const chosen = port ?? (await freePort());
		let brokerPort = await freePort();
		while (brokerPort === chosen) brokerPort = await freePort();
		try {
			return await startN8nOnce(bin, env, { ...options, port: chosen, brokerPort });
		} catch (error) {
			if (!error.portInUse || attempt >= attempts) throw error;
			log(
				`n8n could not bind port ${chosen} or ${brokerPort} (in use by another process); starting again on other ports (attempt ${attempt + 1} of ${attempts})`,
			);
		}
	}
}

/** Log lines by which n8n says a port it was given is taken. */
export function saysPortInUse(logText) {
	return /is already in use|EADDRINUSE/.test(logText);
}

async function startN8nOnce(
	bin,
	env,
	{ port, brokerPort, timeoutMs = 300_000, inheritOutput = false, taskRunner = 'internal' },
) {
	const logFile = path.join(env.N8N_USER_FOLDER, `n8n-${port}.log`);
	// External: n8n 2.x's recommended task runner mode, the runner started beside n8n (scripts/n8n-with-task-runner.mjs).
	const external = taskRunner === 'external' && n8nMajor(bin) >= 2;
	// The log is appended to (a restart on the same port): what this start wrote begins here.
	const logStart = existsSync(logFile) ? statSync(logFile).size : 0;
	const { child, stop, kill } = spawnN8n(
		bin,
		['start'],
		// Loopback only unless N8N_LISTEN_ADDRESS says otherwise: the demo owner's password is in the README.
		{
			...env,
			N8N_PORT: String(port),
			N8N_RUNNERS_BROKER_PORT: String(brokerPort),
			N8N_HOST: 'localhost',
			N8N_LISTEN_ADDRESS: env.N8N_LISTEN_ADDRESS || '127.0.0.1',
			...(external
				? { N8N_RUNNERS_MODE: 'external', N8N_RUNNERS_AUTH_TOKEN: randomBytes(24).toString('hex') }
				: {}),
		},
		logFile,
		{
			inheritOutput,
			wrapper: external ? path.join(ROOT, 'scripts', 'n8n-with-task-runner.mjs') : undefined,
		},
	);
	const baseUrl = `http://localhost:${port}`;
	const deadline = Date.now() + timeoutMs;
	while (Date.now() < deadline) {
		if (child.exitCode !== null) {
			const tail = readLog(logFile, logStart);
			const error = new Error(
				`n8n exited with code ${child.exitCode} before it was ready; see ${logFile}:\n${tail}`,
			);
			// With inherited output there is no log to read; a quick exit is then taken as a taken port only if it says so.
			error.portInUse = saysPortInUse(tail);
			throw error;
		}
		try {
			const response = await fetch(`${baseUrl}/healthz/readiness`);
			if (response.ok) return { child, baseUrl, port, stop, kill, logFile, bin };
		} catch {
			/* not listening yet */
		}
		await new Promise((r) => setTimeout(r, 500));
	}
	await stop();
	throw new Error(
		`n8n did not become ready within ${timeoutMs / 1000} s; see ${logFile}:\n${readLog(logFile)}`,
	);
}

function readLog(file, from = 0) {
	try {
		return readFileSync(file).subarray(from).toString('utf8').slice(-4000);
	} catch {
		return '(no log)';
	}
}

/**
 * Waits until a production webhook answers something other than 404: webhooks register a moment
 * after the editor is up.
 */
export async function waitForWebhook(url, init, timeoutMs = 60_000) {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const response = await fetch(url, init);
		if (response.status !== 404) return response;
		if (Date.now() > deadline)
			throw new Error(`Webhook ${url} still answers 404 after ${timeoutMs / 1000} s`);
		await new Promise((r) => setTimeout(r, 500));
	}
}

export const DEMO_OWNER = {
	email: 'owner@example.com',
	firstName: 'Demo',
	lastName: 'Owner',
	password: 'Referral-Demo-2026',
};

/** Creates the instance owner on a fresh database (a no-op once one exists). */
export async function ensureOwner(baseUrl, owner = DEMO_OWNER, timeoutMs = 120_000) {
	const deadline = Date.now() + timeoutMs;
	let response;
	let text;
	// n8n 1.x reports ready a few seconds before it mounts its REST routes (404 meanwhile), and on a
	// loaded machine before its database is (503 "Database is not ready!").
	for (;;) {
		try {
			response = await fetch(`${baseUrl}/rest/owner/setup`, {
				method: 'POST',
				headers: { 'content-type': 'application/json' },
				body: JSON.stringify(owner),
			});
		} catch (error) {
			// A connection reset while n8n is still starting on a loaded machine: ask again.
			if (Date.now() > deadline)
				throw new Error(`Owner setup failed: ${error.cause?.code ?? error.message}`);
			await new Promise((r) => setTimeout(r, 1000));
			continue;
		}
		if (response.ok) return 'created';
		text = await response.text();
		if (![404, 503].includes(response.status) || Date.now() > deadline) break;
		await new Promise((r) => setTimeout(r, 500));
	}
	if (response.status === 400 && /already|owner/i.test(text)) return 'exists';
	throw new Error(`Owner setup failed: HTTP ${response.status} ${text.slice(0, 500)}`);
}

/**
 * fetch, sent again (3 tries in all) when the connection closed under it before any answer came:
 * fetch reuses a kept-alive connection, and n8n closes one idle for 5 s. On a loaded machine the
 * test runner can reach its next request late enough to send it on a connection n8n is closing
 * ("other side closed", seen in a clean-clone CI run: both tests of a file failed at once).
 */
export async function fetchAgain(url, init, tries = 3) {
	for (let attempt = 1; ; attempt++) {
		try {
			return await fetch(url, init);
		} catch (error) {
			const code = error?.cause?.code;
			if (attempt >= tries || !['UND_ERR_SOCKET', 'ECONNRESET'].includes(code)) throw error;
		}
	}
}

/** Signs in to a running n8n (the demo owner unless told); returns the session cookie for /rest calls. */
export async function signIn(baseUrl, owner = DEMO_OWNER) {
	const response = await fetchAgain(`${baseUrl}/rest/login`, {
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify({
			emailOrLdapLoginId: owner.email,
			email: owner.email,
			password: owner.password,
		}),
	});
	if (!response.ok)
		throw new Error(
			`Sign-in as ${owner.email} failed: HTTP ${response.status} ${(await response.text()).slice(0, 500)}`,
		);
	const cookie = (response.headers.get('set-cookie') ?? '').split(';')[0];
	if (!cookie) throw new Error('Sign-in answered without a session cookie');
	return cookie;
}

async function rest(baseUrl, cookie, method, pathname, body) {
	const response = await fetchAgain(`${baseUrl}/rest/${pathname}`, {
		method,
		headers: {
			cookie,
			'content-type': 'application/json',
			'browser-id': 'referral-marketing-runner',
		},
		body: body === undefined ? undefined : JSON.stringify(body),
	});
	const text = await response.text();
	if (!response.ok)
		throw new Error(`${method} /rest/${pathname}: HTTP ${response.status} ${text.slice(0, 1000)}`);
	return JSON.parse(text).data;
}

/**
 * Runs a saved workflow by hand in a running n8n, as the editor's "Execute workflow" button does
 * (from its Manual Trigger, else its first trigger), waits for the execution to end and returns it
 * in the shape `n8n execute --rawOutput` prints: `{ id, status, data: { resultData: { runData } } }`.
 * One long-lived server instead of an `n8n execute` process per run: no n8n boot per run, and no
 * process exit, where n8n's expression isolates (isolated-vm) can crash the CLI after it printed.
 * Throws when the execution fails or is still running after `timeoutMs`.
 */
export async function runWorkflow(server, workflowId, { cookie, timeoutMs = 120_000 } = {}) {
	const { baseUrl } = server;
	cookie ??= await signIn(baseUrl);
	const workflow = await rest(baseUrl, cookie, 'GET', `workflows/${workflowId}`);
	const triggers = workflow.nodes.filter((node) => !node.disabled && /trigger$/i.test(node.type));
	const start =
		triggers.find((node) => node.type === 'n8n-nodes-base.manualTrigger') ?? triggers[0];
	if (!start) throw new Error(`Workflow ${workflowId} has no trigger to run it from`);
	// n8n 2.x reads the saved workflow and the trigger to start from; n8n 1.x also wants the workflow in the body.
	const started = await rest(baseUrl, cookie, 'POST', `workflows/${workflowId}/run`, {
		workflowData: workflow,
		triggerToStartFrom: { name: start.name },
	});
	if (!started?.executionId)
		throw new Error(
			`n8n did not start workflow ${workflowId}: ${JSON.stringify(started).slice(0, 500)}`,
		);
	const deadline = Date.now() + timeoutMs;
	let execution;
	let data;
	for (;;) {
		execution = await rest(baseUrl, cookie, 'GET', `executions/${started.executionId}`);
		// n8n 1.x writes an execution's status and its data in two statements: a poll between them
		// sees `success` with no data yet, so an ended execution counts only once its data is there.
		const ended = execution?.stoppedAt && !['new', 'running', 'waiting'].includes(execution.status);
		data =
			typeof execution?.data === 'string' ? flatted(server).parse(execution.data) : execution?.data;
		if (ended && data?.resultData) break;
		if (Date.now() > deadline) {
			throw new Error(
				`Execution ${started.executionId} of workflow ${workflowId} is still ${execution?.status}${ended ? ' without its data' : ''} after ${timeoutMs / 1000} s`,
			);
		}
		await new Promise((r) => setTimeout(r, 250));
	}
	const error = data?.resultData?.error;
	if (execution.status !== 'success' || error) {
		throw new Error(
			`Execution ${started.executionId} of workflow ${workflowId} ended ${execution.status}${error ? `: ${error.message}${error.description ? ` (${error.description})` : ''}${error.node?.name ? ` in node "${error.node.name}"` : ''}` : ''}`,
		);
	}
	return { id: execution.id, status: execution.status, mode: execution.mode, data };
}

/** n8n keeps execution data in `flatted` form; its own copy of the library reads it. */
function flatted(server) {
	const bin = server.bin ?? ensureN8n();
	return createRequire(bin)('flatted');
}

/** The SMTP credential the sample workflows reference by id and name ("Local Mail"). */
export const LOCAL_SMTP_CREDENTIAL_ID = 'rmLocalSmtp00001';

export function localSmtpCredential(port, host = '127.0.0.1') {
	return {
		id: LOCAL_SMTP_CREDENTIAL_ID,
		name: 'Local Mail',
		type: 'referralSmtpApi',
		data: {
			host,
			port,
			secure: false,
			starttls: 'whenOffered',
			user: '',
			password: '',
			ignoreSslIssues: true,
		},
	};
}

/** The Twilio credential the sign-up workflow's SMS branch references by id and name ("Local SMS"). */
export const LOCAL_SMS_CREDENTIAL_ID = 'rmLocalSms000001';
export const LOCAL_SMS_ACCOUNT = {
	accountSid: 'AC' + '0'.repeat(32),
	authToken: 'local-sms-token',
};

/**
 * "Local SMS": a Twilio credential whose Base URL points at a Twilio-compatible catcher on
 * loopback (the mail catcher of `npm start`, or a provider fake in tests), so no text leaves the machine.
 */
export function localSmsCredential(baseUrl, account = LOCAL_SMS_ACCOUNT) {
	return {
		id: LOCAL_SMS_CREDENTIAL_ID,
		name: 'Local SMS',
		type: 'referralTwilioApi',
		data: {
			authType: 'authToken',
			accountSid: account.accountSid,
			authToken: account.authToken,
			messagingServiceSid: '',
			statusCallbackUrl: '',
			baseUrl,
		},
	};
}

/**
 * The credentials the sample workflows authenticate with, by id and name: the X-Referral-Signature
 * secret of the conversion and refund webhooks ("Referral Webhook Secret"), the signing secrets of
 * the Stripe and Shopify workflows, and the lead-scoring webhook's Header Auth
 * (`Authorization: Bearer <token>`), the secret that signs private status and unsubscribe links
 * ("Referral Link Secret"; tests that pass none get one derived from the webhook secret), and the
 * dashboard's Basic Auth login ("Referral Dashboard Login", user `marketing`; likewise derived).
 */
export function securityCredentials({
	webhookSecret,
	leadScoringToken,
	stripeSecret,
	shopifySecret,
	linkSecret,
	dashboardPassword,
}) {
	const signing = (id, name, secret) => ({
		id,
		name,
		type: 'referralWebhookSecretApi',
		data: { secret, previousSecret: '' },
	});
	return [
		signing('rmWebhookSecret1', 'Referral Webhook Secret', webhookSecret),
		signing('rmStripeSecret01', 'Stripe Webhook Secret', stripeSecret ?? webhookSecret),
		signing('rmShopifySecret1', 'Shopify Webhook Secret', shopifySecret ?? webhookSecret),
		{
			id: 'rmLeadScoreAuth1',
			name: 'Lead Scoring Header Auth',
			type: 'httpHeaderAuth',
			data: { name: 'Authorization', value: `Bearer ${leadScoringToken}` },
		},
		{
			id: LINK_SECRET_CREDENTIAL_ID,
			name: 'Referral Link Secret',
			type: 'referralLinkSecretApi',
			data: { secret: linkSecret ?? `${webhookSecret}-links-0123456789abcdef`, previousSecret: '' },
		},
		{
			id: DASHBOARD_LOGIN_CREDENTIAL_ID,
			name: 'Referral Dashboard Login',
			type: 'httpBasicAuth',
			data: { user: 'marketing', password: dashboardPassword ?? `${webhookSecret}-dashboard` },
		},
	];
}

/** The Basic Auth login of the dashboard and review queue webhooks ("Referral Dashboard Login", user `marketing`). */
export const DASHBOARD_LOGIN_CREDENTIAL_ID = 'rmDashboardAuth1';

/** The credential that signs private status and unsubscribe links, by id ("Referral Link Secret"). */
export const LINK_SECRET_CREDENTIAL_ID = 'rmLinkSecret0001';

/**
 * The secrets of `npm start`'s instance: from the environment when set (REFERRAL_WEBHOOK_SECRET,
 * LEAD_SCORING_TOKEN, STRIPE_WEBHOOK_SECRET, SHOPIFY_WEBHOOK_SECRET, REFERRAL_LINK_SECRET,
 * REFERRAL_DASHBOARD_PASSWORD), else made once from a CSPRNG and
 * kept in <userFolder>/referral-secrets.json (mode 600), so a restart keeps what senders were given.
 */
export function localSecrets(userFolder, environment = process.env) {
	const file = path.join(userFolder, 'referral-secrets.json');
	let stored = {};
	try {
		stored = JSON.parse(readFileSync(file, 'utf8'));
	} catch {
		/* first start */
	}
	const made = {
		webhookSecret: () => hex(32),
		leadScoringToken: () => hex(24),
		stripeSecret: () => `whsec_${hex(24)}`,
		shopifySecret: () => hex(32),
		linkSecret: () => hex(32),
		dashboardPassword: () => hex(16),
	};
	const secrets = {};
	const keep = { ...stored };
	for (const [key, variable] of Object.entries(SECRET_VARIABLES)) {
		// A secret from the environment stays there; one made here is stored to survive restarts.
		if (environment[variable]) secrets[key] = environment[variable];
		else secrets[key] = keep[key] = stored[key] || made[key]();
	}
	mkdirSync(userFolder, { recursive: true });
	writeFileSync(file, JSON.stringify(keep, null, 2), { mode: 0o600 });
	return {
		...secrets,
		fromEnvironment: {
			webhookSecret: Boolean(environment.REFERRAL_WEBHOOK_SECRET),
			linkSecret: Boolean(environment.REFERRAL_LINK_SECRET),
		},
	};
}

const SECRET_VARIABLES = {
	webhookSecret: 'REFERRAL_WEBHOOK_SECRET',
	leadScoringToken: 'LEAD_SCORING_TOKEN',
	stripeSecret: 'STRIPE_WEBHOOK_SECRET',
	shopifySecret: 'SHOPIFY_WEBHOOK_SECRET',
	linkSecret: 'REFERRAL_LINK_SECRET',
	dashboardPassword: 'REFERRAL_DASHBOARD_PASSWORD',
};
const hex = (bytes) => randomBytes(bytes).toString('hex');

/** A ready-to-paste shell command that signs `body` with openssl and posts it to `url`. */
export function signedCurl(url, body, secret) {
	return [
		`body='${body}'; t=$(date +%s)`,
		`sig=$(printf '%s.%s' "$t" "$body" | openssl dgst -sha256 -hmac '${secret}' -hex | sed 's/^.* //')`,
		`curl -s -X POST ${url} -H 'content-type: application/json' -H "X-Referral-Signature: t=$t,v1=$sig" -d "$body"`,
	].join('; ');
}

/** Imports credentials (plain data; n8n encrypts it on import) into the instance of `env`. */
export function importCredentials(bin, env, credentials) {
	const file = path.join(env.N8N_USER_FOLDER, `credentials-${Date.now()}.json`);
	writeFileSync(file, JSON.stringify(credentials, null, 2));
	try {
		n8nCli(bin, ['import:credentials', `--input=${file}`], env);
	} finally {
		rmSync(file, { force: true });
	}
}

/**
 * The workflow and credential ids an instance already has. Read from its SQLite database (n8n's
 * default, what `npm start` uses) without booting n8n; for another database through n8n's export
 * commands.
 */
export function instanceContents(bin, env) {
	const database = path.join(env.N8N_USER_FOLDER, '.n8n', 'database.sqlite');
	if (!env.DB_TYPE || env.DB_TYPE === 'sqlite') {
		if (!existsSync(database)) return { workflows: new Set(), credentials: new Set() };
		const { DatabaseSync } = createRequire(import.meta.url)('node:sqlite');
		const db = new DatabaseSync(database, { readOnly: true });
		try {
			const prefix = env.DB_TABLE_PREFIX ?? '';
			const ids = (table) =>
				new Set(
					db
						.prepare(`SELECT id FROM "${prefix}${table}"`)
						.all()
						.map((row) => String(row.id)),
				);
			return { workflows: ids('workflow_entity'), credentials: ids('credentials_entity') };
		} finally {
			db.close();
		}
	}
	const dir = mkdtempSync(path.join(env.N8N_USER_FOLDER, 'export-'));
	try {
		const exported = (what) => {
			const file = path.join(dir, `${what}.json`);
			n8nCli(bin, [`export:${what}`, '--all', `--output=${file}`], env);
			return existsSync(file)
				? new Set(JSON.parse(readFileSync(file, 'utf8')).map((entry) => String(entry.id)))
				: new Set();
		};
		return { workflows: exported('workflow'), credentials: exported('credentials') };
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
}

/**
 * Prepares a user folder with n8n, this package, the given credentials and workflows; returns the
 * n8n bin and env, and what it imported. Credentials come before workflows so that workflows
 * activate with them. With `onlyMissing` (what `npm start` does unless asked to reset) a workflow
 * or credential the instance already has is left as it is, edits made in the editor included;
 * credentials listed in `refresh` (ids) are imported again all the same.
 */
export function prepareInstance(
	userFolder,
	{
		files = workflowFiles(),
		activate = true,
		build = true,
		extraEnv = {},
		credentials = [],
		onlyMissing = false,
		refresh = [],
	} = {},
) {
	const bin = ensureN8n();
	log(`installing ${PACKAGE_NAME} into ${userFolder} as n8n installs a community package`);
	const tarball = packPackage({ build });
	try {
		installIntoUserFolder(userFolder, tarball);
	} finally {
		rmSync(path.dirname(tarball), { recursive: true, force: true });
	}
	const env = n8nEnv(userFolder, extraEnv);
	seedMigratedDatabase(bin, env);
	const present = onlyMissing
		? instanceContents(bin, env)
		: { workflows: new Set(), credentials: new Set() };
	const newCredentials = credentials.filter(
		(credential) => !present.credentials.has(credential.id) || refresh.includes(credential.id),
	);
	if (newCredentials.length > 0) {
		log(
			`importing ${newCredentials.length} credential${newCredentials.length === 1 ? '' : 's'} (one n8n CLI run)`,
		);
		importCredentials(bin, env, newCredentials);
	}
	const newFiles = files.filter(
		(file) => !present.workflows.has(String(JSON.parse(readFileSync(file, 'utf8')).id)),
	);
	const toActivate = importWorkflows(bin, env, newFiles, { activate });
	return {
		bin,
		env,
		toActivate,
		imported: {
			workflows: newFiles.map((file) => path.basename(file)),
			credentials: newCredentials.map((credential) => credential.name),
		},
		kept: {
			workflows: files.length - newFiles.length,
			credentials: credentials.length - newCredentials.length,
		},
	};
}

/**
 * prepareInstance in a child process. It runs a minute of blocking npm and n8n commands; in a test
 * runner's own process that starves the runner (vitest reports "Timeout calling onTaskUpdate") and
 * any in-process fake server. Options must be plain JSON.
 */
export function prepareInstanceAsync(userFolder, options = {}) {
	const script = `import(${JSON.stringify(new URL(import.meta.url).href)}).then((n8n) => {
		const prepared = n8n.prepareInstance(process.argv[1], JSON.parse(process.argv[2]));
		process.stdout.write('\\nPREPARED ' + JSON.stringify(prepared) + '\\n');
	})`;
	return new Promise((resolve, reject) => {
		execFile(
			process.execPath,
			['--input-type=module', '-e', script, userFolder, JSON.stringify(options)],
			{ maxBuffer: 64 * 1024 * 1024 },
			(error, stdout, stderr) => {
				const line = stdout.split('\n').find((l) => l.startsWith('PREPARED '));
				if (error || !line)
					reject(
						new Error(
							`prepareInstance failed: ${error?.message ?? 'no result'}\n${stderr.slice(-4000)}`,
						),
					);
				else resolve(JSON.parse(line.slice('PREPARED '.length)));
			},
		);
	});
}

/**
 * A running n8n for a test: the user folder prepared (prepareInstanceAsync), `n8n start`, the demo
 * owner, the workflows and credentials, and the imported workflows that start from a webhook,
 * schedule or trigger published through the REST API, so their webhooks answer once this returns.
 * On n8n 2.x the workflows and credentials go in through the running server's REST API
 * (importThroughApi): each `n8n import:*` CLI run boots n8n for 10-25 s of a loaded CI machine, two
 * per test file. n8n 1.x drops a new workflow's id on that API, so there the CLI imports them before
 * the start (and 1.x publishes them with its CLI while preparing). Options as prepareInstance's, plus
 * startN8n's `timeoutMs`.
 */
export async function startInstance(userFolder, { timeoutMs, ...options } = {}) {
	const throughApi = !options.onlyMissing && importsThroughApi();
	const { files = workflowFiles(), credentials = [] } = options;
	const { bin, env, toActivate } = await prepareInstanceAsync(userFolder, {
		build: false,
		...options,
		...(throughApi ? { files: [], credentials: [] } : {}),
		activate: 'later',
	});
	const server = await startN8n(bin, env, { ...(timeoutMs ? { timeoutMs } : {}) });
	try {
		await ensureOwner(server.baseUrl);
		const cookie = await signIn(server.baseUrl);
		const ids = throughApi
			? await importThroughApi(server, { files, credentials, cookie })
			: toActivate;
		await activateWorkflows(server, ids, { cookie });
	} catch (error) {
		// The caller never gets the server to stop: stop it here.
		await server.stop();
		throw error;
	}
	return { bin, env, server };
}

/** Whether the pinned n8n takes new workflows with their ids through its REST API (2.x does; 1.x drops the id). */
export function importsThroughApi() {
	return n8nMajor(ensureN8n()) >= 2;
}

/**
 * Imports credentials and workflow files into a running n8n 2.x through its REST API, as the editor
 * does: each credential gets the id n8n gives it, and the workflows' references to the id it had in
 * the file are pointed at that one; the workflows keep their own ids. Returns the ids of the
 * workflows to publish (activateWorkflows).
 */
export async function importThroughApi(server, { files, credentials, cookie }) {
	cookie ??= await signIn(server.baseUrl);
	const newIds = new Map();
	for (const credential of credentials) {
		const { id, name, type, data } = credential;
		const created = await rest(server.baseUrl, cookie, 'POST', 'credentials', { name, type, data });
		if (id) newIds.set(id, created.id);
	}
	const toActivate = [];
	for (const file of files) {
		const workflow = JSON.parse(readFileSync(file, 'utf8'));
		for (const node of workflow.nodes ?? [])
			for (const reference of Object.values(node.credentials ?? {}))
				if (reference?.id && newIds.has(reference.id)) reference.id = newIds.get(reference.id);
		const { id, name, nodes, connections, settings, staticData, meta, pinData } = workflow;
		await rest(server.baseUrl, cookie, 'POST', 'workflows', {
			id,
			name,
			nodes,
			connections,
			settings,
			staticData,
			meta,
			pinData,
		});
		if (isActivatable(workflow)) toActivate.push(id);
	}
	return toActivate;
}

/** n8nCli without blocking this process (for `n8n execute` while in-process fakes must answer). */
export function n8nCliAsync(bin, args, env) {
	return new Promise((resolve, reject) => {
		const child = spawn(process.execPath, [bin, ...args], {
			env: { ...env, N8N_RUNNERS_BROKER_PORT: String(freePortSync()) },
		});
		let out = '';
		let err = '';
		child.stdout.on('data', (d) => (out += d));
		child.stderr.on('data', (d) => (err += d));
		child.on('exit', (code, signal) =>
			code === 0
				? resolve(out)
				: reject(
						new Error(
							`n8n ${args.join(' ')} failed (exit ${code}${signal ? `, signal ${signal}` : ''}):\n${err.slice(-4000)}\n${out.slice(-4000)}`,
						),
					),
		);
	});
}
