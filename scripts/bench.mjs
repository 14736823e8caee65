#!/usr/bin/env node
// `npm run bench`: runs every bench/*.bench.ts (each compares against its named baseline in the
// same run) and prints one table with the ratios. `npm run bench -- codes ledger` runs a subset.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const only = process.argv.slice(2);
const files = readdirSync(path.join(root, 'bench'))
	.filter((f) => f.endsWith('.bench.ts'))
	.filter((f) => only.length === 0 || only.some((o) => f.startsWith(o)))
	.sort();

const rows = [];
let failed = false;
for (const file of files) {
	process.stderr.write(`running bench/${file}…\n`);
	const result = spawnSync(process.execPath, ['--import', 'tsx', path.join('bench', file)], {
		cwd: root,
		encoding: 'utf8',
		stdio: ['ignore', 'pipe', 'inherit'],
		maxBuffer: 64 * 1024 * 1024,
	});
	for (const line of result.stdout.split('\n')) {
		if (line.startsWith('BENCH ')) rows.push({ file, ...JSON.parse(line.slice(6)) });
		else if (line.trim()) process.stderr.write(`  ${line}\n`);
	}
	if (result.status !== 0) {
		failed = true;
		rows.push({
			file,
			name: `(bench/${file} exited with ${result.status})`,
			baseline: '',
			subject: '',
			ratio: NaN,
		});
	}
}

const fmt = (s) => (typeof s === 'number' && Number.isFinite(s) ? s.toFixed(3) : '');
const table = rows.map((r) => ({
	benchmark: r.name,
	baseline: r.baseline,
	'baseline s': fmt(r.baselineSeconds),
	'ours s': fmt(r.subjectSeconds),
	ratio: Number.isFinite(r.ratio) ? `${r.ratio.toFixed(2)}x` : '',
	target: r.target === undefined ? '' : `>= ${r.target}x`,
	verdict: r.pass === undefined ? '' : r.pass ? 'PASS' : 'FAIL',
	note: r.note ?? '',
}));
const columns = Object.keys(table[0] ?? { benchmark: '' });
const widths = columns.map((c) => Math.max(c.length, ...table.map((r) => String(r[c]).length)));
const line = (cells) => cells.map((c, i) => String(c).padEnd(widths[i])).join(' | ');
console.log(
	'\nratio = baseline time / our time (above 1: ours is faster); targets come from the issues.\n',
);
console.log(line(columns));
console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
for (const r of table) console.log(line(columns.map((c) => r[c])));
if (failed || rows.some((r) => r.pass === false)) process.exitCode = 1;
