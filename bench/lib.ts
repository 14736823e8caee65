/* Benchmark helpers shared by every bench/*.bench.ts script.
 * A bench compares our code with a named baseline in the same run and prints one `BENCH {json}`
 * line per comparison; scripts/bench.mjs gathers those lines into one table, docs/performance.md
 * and the README's table (scripts/bench-table.mjs). */
import { performance } from 'node:perf_hooks';

export interface BenchResult {
	/** What is measured, e.g. "generate 1,000,000 codes". */
	name: string;
	/** The named baseline, e.g. "referral-codes@3 (Math.random)". */
	baseline: string;
	/** Seconds the baseline took (best of the repeats). */
	baselineSeconds: number;
	/** What we ran, e.g. "engine/codes generateCodes (CSPRNG + check char)". */
	subject: string;
	/** Seconds our code took (best of the repeats). */
	subjectSeconds: number;
	/**
	 * The figure the issue asks for, as a ratio `baselineSeconds / subjectSeconds`
	 * (above 1: we are faster). `target` is the minimum acceptable value of that ratio.
	 */
	target?: number;
	/** Free text printed beside the row (units, sizes). */
	note?: string;
	/**
	 * An absolute figure and its bound, when the issue names one (e.g. Get Stats under 1 s):
	 * the row passes only when the ratio meets `target` (if any) and the figure its bounds.
	 */
	figure?: { value: number; unit: string; max?: number; min?: number };
	/** The issue figure this row measures (a key of FIGURES in scripts/bench-table.mjs); else matched by name. */
	row?: string;
	/** The subject did not complete (e.g. n8n ran out of memory): the row fails whatever its figures. */
	error?: boolean;
}

/** Best wall time in seconds over `repeats` runs, after one warm-up run. */
export async function bestOf(
	repeats: number,
	fn: () => unknown | Promise<unknown>,
	warmup = 1,
): Promise<number> {
	for (let i = 0; i < warmup; i++) await fn();
	let best = Infinity;
	for (let i = 0; i < repeats; i++) {
		const start = performance.now();
		await fn();
		best = Math.min(best, (performance.now() - start) / 1000);
	}
	return best;
}

export function report(result: BenchResult): void {
	const ratio = result.baselineSeconds / result.subjectSeconds;
	const checks: boolean[] = [];
	if (result.target !== undefined) checks.push(ratio >= result.target);
	if (result.figure?.max !== undefined) checks.push(result.figure.value < result.figure.max);
	if (result.figure?.min !== undefined) checks.push(result.figure.value >= result.figure.min);
	if (result.error) checks.push(false);
	const pass = checks.length === 0 ? undefined : checks.every(Boolean);
	console.log('BENCH ' + JSON.stringify({ ...result, ratio, pass }));
}
