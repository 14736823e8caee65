/* An n8n that installed the packed package (as Settings → Community Nodes does) imports the sample
 * workflows from the package's own folder with the command docs/workflows.md gives. */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain ESM script without types
import * as n8n from '../../scripts/n8n.mjs';

describe('the sample workflows shipped in the npm package', () => {
	let userFolder: string;
	let bin: string;
	let env: Record<string, string>;

	beforeAll(async () => {
		userFolder = mkdtempSync(path.join(os.tmpdir(), 'rm-e2e-pkg-'));
		({ bin, env } = await n8n.prepareInstanceAsync(userFolder, { build: false, files: [] }));
	});

	afterAll(() => {
		if (userFolder) rmSync(userFolder, { recursive: true, force: true });
	});

	it('imports every workflow from the installed package with n8n import:workflow --separate', async () => {
		const shipped = path.join(
			userFolder,
			'.n8n',
			'nodes',
			'node_modules',
			n8n.PACKAGE_NAME,
			'workflows',
		);
		const expected = readdirSync(path.join(n8n.ROOT, 'workflows'))
			.filter((f) => f.endsWith('.json'))
			.map(
				(f) =>
					JSON.parse(readFileSync(path.join(n8n.ROOT, 'workflows', f), 'utf8')) as {
						id: string;
						name: string;
					},
			)
			.map(({ id, name }) => ({ id, name }))
			.sort((a, b) => a.id.localeCompare(b.id));
		// The folder holds the workflows and their README; the import reads only the .json files.
		expect(readdirSync(shipped).sort()).toEqual(
			readdirSync(path.join(n8n.ROOT, 'workflows'))
				.filter((f) => f.endsWith('.json') || f === 'README.md')
				.sort(),
		);

		await n8n.n8nCliAsync(bin, ['import:workflow', '--separate', `--input=${shipped}`], env);
		const exported = path.join(userFolder, 'exported.json');
		await n8n.n8nCliAsync(bin, ['export:workflow', '--all', `--output=${exported}`], env);
		const imported = (
			JSON.parse(readFileSync(exported, 'utf8')) as Array<{ id: string; name: string }>
		)
			.map(({ id, name }) => ({ id, name }))
			.sort((a, b) => a.id.localeCompare(b.id));
		expect(imported).toEqual(expected);
	});
});
