/**
 * Deterministic Nelder–Mead minimisation (no random restarts), used on log-parameters so every
 * model parameter stays positive, plus a finite-difference Hessian for standard errors.
 */

export interface MinimizeOptions {
	/** Size of the first simplex around the start point, in the units of x. */
	step?: number;
	/** Stop when every vertex is within this distance of the best one (and the values agree). */
	xTolerance?: number;
	/** Stop when the values at the vertices agree within this relative tolerance. */
	fTolerance?: number;
	maxIterations?: number;
	/** Fresh simplexes around the best point; Nelder–Mead can stall on a collapsed simplex. */
	maxRestarts?: number;
}

export interface MinimizeResult {
	x: number[];
	value: number;
	iterations: number;
	evaluations: number;
	converged: boolean;
}

export function nelderMead(
	f: (x: number[]) => number,
	x0: readonly number[],
	options: MinimizeOptions = {},
): MinimizeResult {
	const step = options.step ?? 0.5;
	const xTolerance = options.xTolerance ?? 1e-9;
	const fTolerance = options.fTolerance ?? 1e-13;
	const maxIterations = options.maxIterations ?? 20_000;
	const maxRestarts = options.maxRestarts ?? 8;
	// Non-finite values (parameters out of the model's domain) count as worst possible.
	const safe = (x: number[]): number => {
		const v = f(x);
		return Number.isFinite(v) ? v : Infinity;
	};

	let best = { x: [...x0], value: safe([...x0]) };
	let iterations = 0;
	let evaluations = 1;
	let converged = false;
	for (let restart = 0; restart <= maxRestarts; restart++) {
		const run = simplexSearch(
			safe,
			best.x,
			restart === 0 ? step : step / 4,
			xTolerance,
			fTolerance,
			maxIterations - iterations,
		);
		iterations += run.iterations;
		evaluations += run.evaluations;
		const improvement = best.value - run.value;
		if (run.value <= best.value) best = { x: run.x, value: run.value };
		if (
			restart > 0 &&
			run.converged &&
			improvement <= fTolerance * (Math.abs(best.value) + fTolerance)
		) {
			converged = true;
			break;
		}
		if (iterations >= maxIterations) break;
	}
	return { x: best.x, value: best.value, iterations, evaluations, converged };
}

function simplexSearch(
	f: (x: number[]) => number,
	start: number[],
	step: number,
	xTolerance: number,
	fTolerance: number,
	maxIterations: number,
): { x: number[]; value: number; iterations: number; evaluations: number; converged: boolean } {
	const n = start.length;
	const points: number[][] = [start.slice()];
	for (let i = 0; i < n; i++) {
		const p = start.slice();
		p[i] += step;
		points.push(p);
	}
	const values = points.map(f);
	let evaluations = n + 1;
	const order = Array.from({ length: n + 1 }, (_, i) => i);
	let iterations = 0;
	let converged = false;

	const combine = (centroid: number[], from: number[], t: number): number[] =>
		centroid.map((c, i) => c + t * (from[i] - c));

	while (iterations < maxIterations) {
		order.sort((i, j) => values[i] - values[j]);
		const bestIndex = order[0];
		const worstIndex = order[n];
		const fBest = values[bestIndex];
		const fWorst = values[worstIndex];
		let spread = 0;
		for (const i of order) {
			for (let d = 0; d < n; d++)
				spread = Math.max(spread, Math.abs(points[i][d] - points[bestIndex][d]));
		}
		if (fWorst - fBest <= fTolerance * (Math.abs(fBest) + fTolerance) && spread <= xTolerance) {
			converged = true;
			break;
		}
		iterations++;
		const centroid = new Array<number>(n).fill(0);
		for (let k = 0; k < n; k++) {
			const p = points[order[k]];
			for (let d = 0; d < n; d++) centroid[d] += p[d] / n;
		}
		const secondWorst = values[order[n - 1]];
		const reflected = combine(centroid, points[worstIndex], -1);
		const fReflected = f(reflected);
		evaluations++;
		if (fReflected < fBest) {
			const expanded = combine(centroid, points[worstIndex], -2);
			const fExpanded = f(expanded);
			evaluations++;
			if (fExpanded < fReflected) {
				points[worstIndex] = expanded;
				values[worstIndex] = fExpanded;
			} else {
				points[worstIndex] = reflected;
				values[worstIndex] = fReflected;
			}
			continue;
		}
		if (fReflected < secondWorst) {
			points[worstIndex] = reflected;
			values[worstIndex] = fReflected;
			continue;
		}
		const outside = fReflected < fWorst;
		const contracted = combine(centroid, outside ? reflected : points[worstIndex], 0.5);
		const fContracted = f(contracted);
		evaluations++;
		if (fContracted < (outside ? fReflected : fWorst)) {
			points[worstIndex] = contracted;
			values[worstIndex] = fContracted;
			continue;
		}
		// Shrink towards the best vertex.
		for (let k = 1; k <= n; k++) {
			const i = order[k];
			points[i] = combine(points[bestIndex], points[i], 0.5);
			values[i] = f(points[i]);
			evaluations++;
		}
	}
	order.sort((i, j) => values[i] - values[j]);
	return { x: points[order[0]], value: values[order[0]], iterations, evaluations, converged };
}

/** Central-difference Hessian of f at x, with relative steps. */
export function numericHessian(
	f: (x: number[]) => number,
	x: readonly number[],
	relativeStep = 1e-4,
): number[][] {
	const n = x.length;
	const h = x.map((v) => relativeStep * Math.max(Math.abs(v), 1e-3));
	const at = (di: number, si: number, dj: number, sj: number): number => {
		const p = [...x];
		p[di] += si * h[di];
		p[dj] += sj * h[dj];
		return f(p);
	};
	const f0 = f([...x]);
	const hessian: number[][] = Array.from({ length: n }, () => new Array<number>(n).fill(0));
	for (let i = 0; i < n; i++) {
		const p = [...x];
		p[i] += h[i];
		const fp = f(p);
		p[i] = x[i] - h[i];
		const fm = f(p);
		hessian[i][i] = (fp - 2 * f0 + fm) / (h[i] * h[i]);
		for (let j = 0; j < i; j++) {
			const v =
				(at(i, 1, j, 1) - at(i, 1, j, -1) - at(i, -1, j, 1) + at(i, -1, j, -1)) / (4 * h[i] * h[j]);
			hessian[i][j] = v;
			hessian[j][i] = v;
		}
	}
	return hessian;
}

/** Inverse of a small square matrix by Gauss–Jordan with partial pivoting; undefined when singular. */
export function invertMatrix(matrix: readonly (readonly number[])[]): number[][] | undefined {
	const n = matrix.length;
	const a = matrix.map((row, i) => [
		...row,
		...Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)),
	]);
	for (let col = 0; col < n; col++) {
		let pivot = col;
		for (let r = col + 1; r < n; r++) if (Math.abs(a[r][col]) > Math.abs(a[pivot][col])) pivot = r;
		if (!(Math.abs(a[pivot][col]) > 1e-300)) return undefined;
		[a[col], a[pivot]] = [a[pivot], a[col]];
		const p = a[col][col];
		for (let k = 0; k < 2 * n; k++) a[col][k] /= p;
		for (let r = 0; r < n; r++) {
			if (r === col) continue;
			const factor = a[r][col];
			if (factor === 0) continue;
			for (let k = 0; k < 2 * n; k++) a[r][k] -= factor * a[col][k];
		}
	}
	return a.map((row) => row.slice(n));
}

/**
 * Standard errors of maximum-likelihood estimates from the observed information
 * (the Hessian of the negative log-likelihood at the optimum); undefined when it is not positive definite.
 */
export function standardErrors(
	negativeLogLikelihood: (x: number[]) => number,
	estimate: readonly number[],
): number[] | undefined {
	const inverse = invertMatrix(numericHessian(negativeLogLikelihood, estimate));
	if (!inverse) return undefined;
	const errors = inverse.map((row, i) => row[i]);
	return errors.every((v) => Number.isFinite(v) && v > 0) ? errors.map(Math.sqrt) : undefined;
}
