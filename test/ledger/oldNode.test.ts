/* package.json's engines say Node.js 20.19 (n8n 1.x's minimum): the built package runs there with a
 * PostgreSQL ledger, and the built-in SQLite ledger, which needs node:sqlite (Node 22.13+), says so
 * instead of failing obscurely. Run with the oldest Node on PATH (CI puts Node 20 there). */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dropSchema, IN_CI, PG_URL, pgAvailability, randomSchema } from '../support/databases';

const ROOT = path.resolve(__dirname, '../..');

/** A `node` on PATH older than 22.13 (not the project's own Node 24), or null. */
function oldNode(): { bin: string; version: string } | null {
	for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
		const bin = path.join(dir, 'node');
		if (!dir || dir.includes('node_modules') || !existsSync(bin)) continue;
		const version = spawnSync(bin, ['--version'], { encoding: 'utf8' }).stdout.trim();
		const [major, minor] = version.replace(/^v/, '').split('.').map(Number);
		if (major < 22 || (major === 22 && minor < 13)) return { bin, version };
	}
	return null;
}

const old = oldNode();
const pg = pgAvailability();
if (!old && !IN_CI)
	console.warn(
		'\n!!! No Node.js older than 22.13 on PATH: the old-Node ledger test is SKIPPED (under CI=true it fails).\n',
	);

const SCRIPT = `
const { openLedger } = require(${JSON.stringify(path.join(ROOT, 'dist/engine/ledger/index.js'))});
(async () => {
	const out = { node: process.version };
	try {
		await openLedger({ backend: 'sqlite', path: process.argv[2] });
		out.sqlite = 'opened';
	} catch (error) {
		out.sqlite = { code: error.code, message: error.message };
	}
	const ledger = await openLedger({ backend: 'postgres', connectionString: process.argv[1], schema: process.argv[3] });
	await ledger.ensureProgram({ id: 'default' });
	const { participant } = await ledger.enrolParticipant({ programId: 'default', email: 'ann@example.com' });
	const again = await ledger.enrolParticipant({ programId: 'default', email: 'ann@example.com' });
	out.postgres = { participant: participant.id, sameAgain: again.participant.id === participant.id };
	await ledger.close();
	process.stdout.write(JSON.stringify(out));
})().catch((error) => { process.stderr.write(String(error && error.stack || error)); process.exit(1); });`;

describe.skipIf(!old && !IN_CI)('the built package on an older Node.js', () => {
	const schema = randomSchema('old_node');
	afterAll(async () => {
		if (pg.available) await dropSchema(schema);
	});

	it('engines names the Node.js this test runs', () => {
		expect(old, 'CI must have a Node.js older than 22.13 on PATH').not.toBeNull();
		const engines = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).engines
			.node as string;
		const min = /^>=(\d+)\.(\d+)/.exec(engines)!;
		const [major, minor] = old!.version.replace(/^v/, '').split('.').map(Number);
		expect(
			major > Number(min[1]) || (major === Number(min[1]) && minor >= Number(min[2])),
			`${old!.version} is below engines ${engines}`,
		).toBe(true);
	});

	it('keeps a PostgreSQL ledger and says what the SQLite ledger needs', () => {
		expect(pg.available, pg.problem ?? '').toBe(true);
		const result = spawnSync(
			old!.bin,
			['-e', SCRIPT, PG_URL, path.join(ROOT, '.cache', 'never-created.sqlite'), schema],
			{ encoding: 'utf8', timeout: 60_000 },
		);
		expect(result.status, result.stderr).toBe(0);
		const out = JSON.parse(result.stdout);
		expect(out.node).toBe(old!.version);
		expect(out.postgres).toEqual({ participant: expect.anything(), sameAgain: true });
		expect(out.sqlite.code).toBe('sqlite_unavailable');
		expect(out.sqlite.message).toMatch(
			/needs Node\.js 22\.13 or later.*choose a PostgreSQL credential/,
		);
	});
});
