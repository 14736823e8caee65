/* What `npm pack` publishes: the built nodes and credentials package.json names, and every sample
 * workflow with its README, so an n8n that installs the package from the registry gets them. */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '../..');
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));

describe('the npm package', () => {
	let files: string[];

	beforeAll(() => {
		const result = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
			cwd: ROOT,
			encoding: 'utf8',
		});
		expect(result.status, result.stderr).toBe(0);
		files = (JSON.parse(result.stdout) as Array<{ files: Array<{ path: string }> }>)[0].files.map(
			(f) => f.path,
		);
	});

	it('contains every sample workflow and the workflows README', () => {
		const workflows = readdirSync(path.join(ROOT, 'workflows')).filter((f) => f.endsWith('.json'));
		expect(workflows.length).toBeGreaterThan(0);
		for (const workflow of workflows) expect(files).toContain(`workflows/${workflow}`);
		expect(files).toContain('workflows/README.md');
		// Each packed workflow is the one in the repository, valid JSON with an id n8n imports by.
		for (const workflow of workflows)
			expect(JSON.parse(readFileSync(path.join(ROOT, 'workflows', workflow), 'utf8')).id).toMatch(
				/^\w{16}$/,
			);
	});

	it('contains every node and credential package.json names, and nothing of the tests or sources', () => {
		for (const file of [...pkg.n8n.nodes, ...pkg.n8n.credentials]) expect(files).toContain(file);
		expect(
			files.filter((f) => /^(test|engine|nodes|credentials|scripts|bench|\.cache|\.ci)\//.test(f)),
		).toEqual([]);
		// tsc's incremental build state (dist/.tsbuildinfo) stays out of the package.
		expect(files.filter((f) => f.endsWith('.tsbuildinfo'))).toEqual([]);
		expect(files).toContain('README.md');
		expect(files).toContain('LICENSE');
	});

	it('names no entry point that does not exist', () => {
		// n8n loads the files under "n8n"; a "main" must exist if it is there at all.
		if (pkg.main !== undefined) expect(existsSync(path.join(ROOT, pkg.main))).toBe(true);
		for (const file of [...pkg.n8n.nodes, ...pkg.n8n.credentials])
			expect(existsSync(path.join(ROOT, file)), file).toBe(true);
	});
});
