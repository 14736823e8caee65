/* Child processes for the ledger's multi-process tests (concurrency.test.ts, crash.test.ts): a
 * TypeScript worker from ./workers and what it printed. Databases: test/support/databases.ts. */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

export interface Child {
	process: ChildProcess;
	stdout: string[];
	stderr: string;
	/** Resolves with the exit code (null when killed by a signal). */
	exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
	/** Resolves when a stdout line satisfies `test`. */
	waitForLine(test: (line: string) => boolean): Promise<string>;
}

/** Runs a TypeScript worker on this same Node (24, with node:sqlite) through tsx's loader. */
export function runWorker(script: string, args: unknown): Child {
	const child = spawn(
		process.execPath,
		['--import', 'tsx', join(__dirname, 'workers', script), JSON.stringify(args)],
		{
			stdio: ['pipe', 'pipe', 'pipe'],
			env: { ...process.env, NODE_NO_WARNINGS: '1' },
		},
	);
	const lines: string[] = [];
	const waiters: Array<{ test: (line: string) => boolean; resolve: (line: string) => void }> = [];
	let buffer = '';
	const result: Child = {
		process: child,
		stdout: lines,
		stderr: '',
		exit: new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal }))),
		waitForLine(test) {
			const seen = lines.find(test);
			if (seen !== undefined) return Promise.resolve(seen);
			return new Promise((resolve) => waiters.push({ test, resolve }));
		},
	};
	child.stdout!.on('data', (chunk: Buffer) => {
		buffer += chunk.toString();
		let newline: number;
		while ((newline = buffer.indexOf('\n')) >= 0) {
			const line = buffer.slice(0, newline);
			buffer = buffer.slice(newline + 1);
			lines.push(line);
			for (const w of waiters.splice(0)) {
				if (w.test(line)) w.resolve(line);
				else waiters.push(w);
			}
		}
	});
	child.stderr!.on('data', (chunk: Buffer) => (result.stderr += chunk.toString()));
	return result;
}

/** The last stdout line that parses as JSON with `result` in it. */
export function resultOf<T>(child: Child): T {
	for (let i = child.stdout.length - 1; i >= 0; i--) {
		if (child.stdout[i].startsWith('RESULT ')) return JSON.parse(child.stdout[i].slice(7)) as T;
	}
	throw new Error(`worker printed no RESULT line; stderr:\n${child.stderr}`);
}
