#!/usr/bin/env node
// `npm run bench`: runs every bench/*.bench.ts (each compares against its named baseline in the
// same run), prints one table with the ratios, targets and verdicts, and writes the rows into
// docs/performance.json, from which docs/performance.md and the README's compact table are
// generated (scripts/bench-table.mjs). `npm run bench -- codes ledger` runs a subset (the other
// files' rows stay as last measured); `--no-write` only prints; `--render` only regenerates the
// Markdown from docs/performance.json.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
	mergeRuns,
	renderPerformance,
	targetText,
	verdict,
	withReadmeTable,
} from './bench-table.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const flags = new Set(args.filter((a) => a.startsWith('--')));
const only = args.filter((a) => !a.startsWith('--'));
const jsonFile = path.join(root, 'docs', 'performance.json');

function writeDocs(doc) {
	writeFileSync(jsonFile, JSON.stringify(doc, null, '\t') + '\n');
	writeFileSync(path.join(root, 'docs', 'performance.md'), renderPerformance(doc));
	const readme = path.join(root, 'README.md');
	writeFileSync(readme, withReadmeTable(readFileSync(readme, 'utf8'), doc));
	process.stderr.write('wrote docs/performance.json, docs/performance.md and the README table\n');
}

if (flags.has('--render')) {
	writeDocs(JSON.parse(readFileSync(jsonFile, 'utf8')));
	process.exit(0);
}

const files = readdirSync(path.join(root, 'bench'))
	.filter((f) => f.endsWith('.bench.ts'))
	.filter((f) => only.length === 0 || only.some((o) => f.startsWith(o)))
	.sort();

const machine = `${os.cpus().length} × ${os.cpus()[0]?.model.trim() ?? 'cpu'}, Node.js ${process.version}`;
const rows = [];
const runs = {};
let failed = false;
for (const file of files) {
	process.stderr.write(`running bench/${file}…\n`);
	const load = os.loadavg()[0].toFixed(1);
	const result = spawnSync(process.execPath, ['--import', 'tsx', path.join('bench', file)], {
		cwd: root,
		encoding: 'utf8',
		stdio: ['ignore', 'pipe', 'inherit'],
		maxBuffer: 64 * 1024 * 1024,
	});
	runs[file] = {
		at: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC',
		machine: `${machine}, load ${load} at start`,
	};
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
			error: true,
		});
	}
	// After each file, so a run stopped halfway keeps what it measured.
	if (!flags.has('--no-write')) {
		const previous = existsSync(jsonFile) ? JSON.parse(readFileSync(jsonFile, 'utf8')) : undefined;
		writeDocs(
			mergeRuns(previous, {
				runs: { [file]: runs[file] },
				rows: rows.filter((r) => r.file === file),
			}),
		);
	}
}

const fmt = (s) => (typeof s === 'number' && Number.isFinite(s) ? s.toFixed(3) : '');
const table = rows.map((r) => ({
	benchmark: r.name,
	baseline: r.baseline,
	'baseline s': fmt(r.baselineSeconds),
	'ours s': fmt(r.subjectSeconds),
	ratio: Number.isFinite(r.ratio) ? `${r.ratio.toFixed(2)}x` : '',
	target: targetText(r),
	verdict: verdict(r),
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
if (failed || rows.some((r) => verdict(r) === 'FAIL')) process.exitCode = 1;
