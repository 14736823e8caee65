/* The numerical core of the logistic model: penalised Newton/IRLS fitting and the rank check that precedes it. */
import { EngineError } from '../shared/errors';

export interface LogisticFit {
	/** [intercept, beta_1 .. beta_p]. */
	beta: Float64Array;
	iterations: number;
	converged: boolean;
	/** Mean negative log-likelihood on the training rows (without the penalty). */
	logLoss: number;
}

export function sigmoid(eta: number): number {
	if (eta >= 0) return 1 / (1 + Math.exp(-eta));
	const e = Math.exp(eta);
	return e / (1 + e);
}

/** log(1 + e^x) without overflow. */
function softplus(x: number): number {
	return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
}

/** Solves A x = b in place of b for a symmetric positive-definite A (row-major, size m); false if not PD. */
function choleskySolve(a: Float64Array, b: Float64Array, m: number): boolean {
	for (let j = 0; j < m; j++) {
		let d = a[j * m + j];
		for (let k = 0; k < j; k++) d -= a[j * m + k] * a[j * m + k];
		if (!(d > 1e-300)) return false;
		const l = Math.sqrt(d);
		a[j * m + j] = l;
		for (let i = j + 1; i < m; i++) {
			let s = a[i * m + j];
			for (let k = 0; k < j; k++) s -= a[i * m + k] * a[j * m + k];
			a[i * m + j] = s / l;
		}
	}
	for (let i = 0; i < m; i++) {
		let s = b[i];
		for (let k = 0; k < i; k++) s -= a[i * m + k] * b[k];
		b[i] = s / a[i * m + i];
	}
	for (let i = m - 1; i >= 0; i--) {
		let s = b[i];
		for (let k = i + 1; k < m; k++) s -= a[k * m + i] * b[k];
		b[i] = s / a[i * m + i];
	}
	return true;
}

/**
 * Penalised maximum likelihood by Newton's method (IRLS) with step halving. `x` is n x p row-major
 * without the intercept column; the intercept is added and left unpenalised.
 */
export function fitLogistic(
	x: Float64Array,
	y: ArrayLike<number>,
	n: number,
	p: number,
	lambda: number,
	options: { maxIterations?: number; tolerance?: number } = {},
): LogisticFit {
	const maxIterations = options.maxIterations ?? 100;
	const tolerance = options.tolerance ?? 1e-8;
	const m = p + 1;
	const beta = new Float64Array(m);
	let ySum = 0;
	for (let i = 0; i < n; i++) ySum += y[i];
	const yMean = Math.min(1 - 1e-6, Math.max(1e-6, ySum / n));
	beta[0] = Math.log(yMean / (1 - yMean));

	const objective = (b: Float64Array): number => {
		let ll = 0;
		for (let i = 0; i < n; i++) {
			let eta = b[0];
			const row = i * p;
			for (let j = 0; j < p; j++) eta += x[row + j] * b[j + 1];
			ll += y[i] * eta - softplus(eta);
		}
		let penalty = 0;
		for (let j = 1; j < m; j++) penalty += b[j] * b[j];
		return ll - 0.5 * lambda * penalty;
	};

	const hessian = new Float64Array(m * m);
	const gradient = new Float64Array(m);
	const candidate = new Float64Array(m);
	const xi = new Float64Array(m);
	let current = objective(beta);
	let iterations = 0;
	let converged = false;
	while (iterations < maxIterations) {
		iterations++;
		hessian.fill(0);
		gradient.fill(0);
		xi[0] = 1;
		for (let i = 0; i < n; i++) {
			const row = i * p;
			let eta = beta[0];
			for (let j = 0; j < p; j++) {
				xi[j + 1] = x[row + j];
				eta += xi[j + 1] * beta[j + 1];
			}
			const mu = sigmoid(eta);
			const w = Math.max(mu * (1 - mu), 1e-10);
			const r = y[i] - mu;
			for (let a = 0; a < m; a++) {
				gradient[a] += r * xi[a];
				const wa = w * xi[a];
				if (wa === 0) continue;
				for (let b = 0; b <= a; b++) hessian[a * m + b] += wa * xi[b];
			}
		}
		for (let a = 0; a < m; a++) for (let b = 0; b < a; b++) hessian[b * m + a] = hessian[a * m + b];
		for (let j = 1; j < m; j++) {
			gradient[j] -= lambda * beta[j];
			hessian[j * m + j] += lambda;
		}
		if (!choleskySolve(hessian, gradient, m)) {
			throw new EngineError(
				'model_not_fitted',
				'The model could not be fitted: some features are constant or duplicate others, or the outcome is perfectly predictable. Use a "lambda" above 0 or remove those features.',
				{ field: 'lambda', details: { lambda, iteration: iterations } },
			);
		}
		// gradient now holds the Newton step; halve it until the penalised likelihood does not fall.
		let t = 1;
		let next = current;
		for (let halvings = 0; halvings < 40; halvings++) {
			for (let j = 0; j < m; j++) candidate[j] = beta[j] + t * gradient[j];
			next = objective(candidate);
			if (next >= current - 1e-12 * Math.abs(current)) break;
			t /= 2;
		}
		let largest = 0;
		for (let j = 0; j < m; j++) {
			largest = Math.max(largest, Math.abs(candidate[j] - beta[j]));
			beta[j] = candidate[j];
		}
		current = next;
		if (largest < tolerance) {
			converged = true;
			break;
		}
	}
	let penalty = 0;
	for (let j = 1; j < m; j++) penalty += beta[j] * beta[j];
	const logLikelihood = current + 0.5 * lambda * penalty;
	return { beta, iterations, converged, logLoss: -logLikelihood / n };
}

/**
 * First column (0-based, without the intercept) that is constant or a linear combination of the
 * intercept and earlier columns, by a Cholesky factorisation of [1 X]ᵀ[1 X]; -1 when none is.
 */
export function firstDependentColumn(x: Float64Array, n: number, p: number): number {
	const m = p + 1;
	const g = new Float64Array(m * m);
	const value = (i: number, j: number): number => (j === 0 ? 1 : x[i * p + j - 1]);
	for (let i = 0; i < n; i++)
		for (let a = 0; a < m; a++)
			for (let b = 0; b <= a; b++) g[a * m + b] += value(i, a) * value(i, b);
	const kept: number[] = [];
	for (let j = 0; j < m; j++) {
		const diagonal = g[j * m + j];
		let d = diagonal;
		for (const k of kept) d -= g[j * m + k] * g[j * m + k];
		// Relative to the column's own size: what is left once the earlier columns explain it.
		if (!(d > 1e-9 * Math.max(diagonal, 1e-300))) return j - 1;
		const l = Math.sqrt(d);
		g[j * m + j] = l;
		for (let i = j + 1; i < m; i++) {
			let t = g[i * m + j];
			for (const k of kept) t -= g[i * m + k] * g[j * m + k];
			g[i * m + j] = t / l;
		}
		kept.push(j);
	}
	return -1;
}
