import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
// prettier-ignore
// @ts-expect-error plain ESM script without types
import { anchorsOf, checkDocs, checkLinks, checkNodePages, checkPerformanceTables, checkWorkflowDocs, slugify } from '../../scripts/check-docs.mjs';
// prettier-ignore
// @ts-expect-error plain ESM script without types
import { mergeRuns, README_END, README_START, renderPerformance, verdict, withReadmeTable } from '../../scripts/bench-table.mjs';

describe('the docs', () => {
	it('have no broken relative link or anchor, a short README, a page per node and a section per workflow', () => {
		expect(checkDocs()).toEqual([]);
	});
});

describe('the docs check', () => {
	let dir: string;
	afterEach(() => {
		if (dir) rmSync(dir, { recursive: true, force: true });
	});

	function tree(files: Record<string, string>): string {
		dir = mkdtempSync(path.join(tmpdir(), 'docs-check-'));
		for (const [name, text] of Object.entries(files)) {
			mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
			writeFileSync(path.join(dir, name), text);
		}
		return dir;
	}

	it('makes anchors the way GitHub does', () => {
		expect(slugify('`referral-signup.json`')).toBe('referral-signupjson');
		expect(slugify('Queue mode with PostgreSQL')).toBe('queue-mode-with-postgresql');
		expect(slugify('Node.js versions')).toBe('nodejs-versions');
		expect(slugify('Example: the sample program')).toBe('example-the-sample-program');
		expect([...anchorsOf('# A\n## Errors\n```\n## Not a heading\n```\n## Errors\n')]).toEqual([
			'a',
			'errors',
			'errors-1',
		]);
	});

	it('finds a missing file, a missing anchor and ignores links in code', () => {
		const root = tree({
			'README.md':
				'[ok](docs/a.md#real) [gone](docs/b.md) [bad anchor](docs/a.md#nope) `[code](x.md)`\n```\n[fenced](y.md)\n```\n[web](https://example.com/#x)\n',
			'docs/a.md': '# Real\n[back](../README.md) [self](#real) [self bad](#fake)\n',
		});
		const problems = checkLinks([path.join(root, 'README.md'), path.join(root, 'docs/a.md')], root);
		expect(problems).toEqual([
			'README.md:1: link "docs/b.md": docs/b.md does not exist',
			'README.md:1: link "docs/a.md#nope": no heading or anchor "#nope" in docs/a.md',
			'docs/a.md:2: link "#fake": no heading or anchor "#fake" in docs/a.md',
		]);
	});

	it('wants a page per node, linked from its codex without an anchor', () => {
		const homepage = 'https://github.com/o/r';
		const root = tree({
			'package.json': JSON.stringify({
				homepage,
				n8n: {
					nodes: ['dist/nodes/FooBar/FooBar.node.js', 'dist/nodes/Baz/Baz.node.js'],
					credentials: [],
				},
			}),
			'nodes/FooBar/FooBar.node.json': JSON.stringify({
				resources: { primaryDocumentation: [{ url: `${homepage}#foo-bar` }] },
			}),
			'nodes/Baz/Baz.node.json': JSON.stringify({
				resources: { primaryDocumentation: [{ url: `${homepage}/blob/main/docs/nodes/baz.md` }] },
			}),
			'docs/nodes/foo-bar.md': '# Foo Bar\n## Errors\n## Examples\n',
			'docs/nodes/baz.md': '# Baz\n## Operations\n',
		});
		const problems = checkNodePages(root);
		expect(problems).toHaveLength(3);
		expect(problems[0]).toMatch(
			/FooBar\.node\.json: primaryDocumentation must be https:\/\/github\.com\/o\/r\/blob\/main\/docs\/nodes\/foo-bar\.md/,
		);
		expect(problems[1]).toBe('docs/nodes/baz.md has no section on errors');
		expect(problems[2]).toBe('docs/nodes/baz.md has no section with examples or outputs');
	});

	it('wants every workflow in docs/workflows.md and in workflows/README.md', () => {
		const root = tree({
			'workflows/a.json': '{}',
			'workflows/b.json': '{}',
			'workflows/README.md': 'a.json\n',
			'docs/workflows.md': '### `a.json`\n',
		});
		expect(checkWorkflowDocs(root)).toEqual([
			'workflows/b.json has no section "### `b.json`" in docs/workflows.md',
			'workflows/b.json is not listed in workflows/README.md',
		]);
	});
});

describe('the performance tables', () => {
	let dir: string;
	afterEach(() => {
		if (dir) rmSync(dir, { recursive: true, force: true });
	});
	const row = (file: string, name: string, extra: Record<string, unknown> = {}) => ({
		file,
		name,
		baseline: 'b',
		baselineSeconds: 2,
		subject: 's',
		subjectSeconds: 1,
		ratio: 2,
		...extra,
	});

	it('judge a row by its ratio target and its absolute figure', () => {
		expect(verdict(row('a', 'x'))).toBe('reported');
		expect(verdict(row('a', 'x', { target: 1.5 }))).toBe('PASS');
		expect(verdict(row('a', 'x', { target: 3 }))).toBe('FAIL');
		expect(verdict(row('a', 'x', { figure: { value: 0.4, unit: 's', max: 1 } }))).toBe('PASS');
		expect(verdict(row('a', 'x', { target: 1, figure: { value: 1.2, unit: 's', max: 1 } }))).toBe(
			'FAIL',
		);
	});

	it('put the throughput rows under their figures by key; a figure bounded below is worst at its smallest', () => {
		const name = (backend: string) =>
			`record + qualify + award 4,000 referrals through the nodes (${backend}, one process)`;
		const doc = {
			runs: {},
			rows: [
				row('throughput.bench.ts', name('SQLite'), {
					row: 'throughput-sqlite',
					target: 1,
					ratio: 0.25,
					figure: { value: 500, unit: 'referrals/s', min: 2000 },
				}),
				row('throughput.bench.ts', name('SQLite'), {
					row: 'throughput-sqlite',
					target: 1,
					ratio: 0.15,
					figure: { value: 300, unit: 'referrals/s', min: 2000 },
				}),
				// The baselines' rows share the name and count for no figure.
				row('throughput.bench.ts', name('SQLite'), { ratio: 0.01 }),
				row('throughput.bench.ts', name('PostgreSQL'), {
					row: 'throughput-postgres',
					ratio: 0.03,
					figure: { value: 60, unit: 'referrals/s' },
				}),
			],
		};
		const md = renderPerformance(doc);
		expect(md).toContain(
			'| Record + qualify + award through the nodes, SQLite, one n8n process | ≥ 2,000 referrals/s | 2 rows, worst 300 referrals/s, worst ratio 0.15× | 0/2 PASS |',
		);
		expect(md).toContain(
			'| Record + qualify + award through the nodes, PostgreSQL, one n8n process | reported (the issue asks 2 queue-mode workers) | 1 row, worst 60 referrals/s, worst ratio 0.03× | reported |',
		);
		expect(md).toContain(
			'| Record + qualify + award, 2 queue-mode workers on PostgreSQL | ≥ 5,000 referrals/s | not measured | – |',
		);
	});

	it('keep the rows of the bench files a run did not run', () => {
		const previous = {
			runs: { 'a.bench.ts': { at: 't0' } },
			rows: [row('a.bench.ts', 'old a'), row('b.bench.ts', 'b')],
		};
		const merged = mergeRuns(previous, {
			runs: { 'a.bench.ts': { at: 't1' } },
			rows: [row('a.bench.ts', 'new a')],
		});
		expect(merged.rows.map((r: { name: string }) => r.name)).toEqual(['b', 'new a']);
		expect(merged.runs['a.bench.ts'].at).toBe('t1');
	});

	it('are checked against what docs/performance.json renders to', () => {
		const doc = {
			runs: { 'clicks.bench.ts': { at: 'now', machine: 'm' } },
			rows: [
				row('clicks.bench.ts', 'Get Stats lifetime, 100k referrals + 1M clicks (sqlite)', {
					figure: { value: 0.3, unit: 's', max: 1 },
				}),
			],
		};
		const readme = `# R\n${README_START}\nstale\n${README_END}\n`;
		dir = mkdtempSync(path.join(tmpdir(), 'docs-check-'));
		mkdirSync(path.join(dir, 'docs'));
		writeFileSync(path.join(dir, 'docs', 'performance.json'), JSON.stringify(doc));
		writeFileSync(path.join(dir, 'docs', 'performance.md'), renderPerformance(doc));
		writeFileSync(path.join(dir, 'README.md'), readme);
		expect(checkPerformanceTables(dir)).toEqual([
			"README.md's performance table is not what docs/performance.json renders to: run `npm run bench -- --render`",
		]);
		const fixed = withReadmeTable(readme, doc);
		expect(fixed).toContain('| Get Stats with 1M clicks | < 1 s | 1/1 PASS |');
		expect(fixed).toContain('| Throughput, SQLite | ≥ 2,000 referrals/s | – |');
		writeFileSync(path.join(dir, 'README.md'), fixed);
		expect(checkPerformanceTables(dir)).toEqual([]);
		writeFileSync(path.join(dir, 'docs', 'performance.md'), 'edited by hand');
		expect(checkPerformanceTables(dir)).toHaveLength(1);
	});
});
