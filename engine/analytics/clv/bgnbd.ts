import { EngineError } from '../../shared/errors';
import { hyp2f1MinusOneOverB } from '../math/hyp2f1';
import { nelderMead, standardErrors } from '../math/optimize';
import { lnPochhammer, logAddExp } from '../math/special';

/**
 * BG/NBD (Fader, Hardie & Lee 2005): while active a customer buys at Poisson rate λ ~ Gamma(r, α);
 * after each purchase they drop out with probability p ~ Beta(a, b).
 * Per customer: x repeat purchases, t_x time of the last one, T time since the first purchase
 * (all in one time unit, measured from the first purchase).
 */

export interface BgNbdParams {
	r: number;
	alpha: number;
	a: number;
	b: number;
}

export interface BgNbdFit {
	params: BgNbdParams;
	logLikelihood: number;
	/** From the observed information; undefined when the Hessian is not positive definite. */
	standardErrors?: BgNbdParams;
	customers: number;
	repeatCustomers: number;
	converged: boolean;
	iterations: number;
	/** Parameters that ran to the bound (see LOG_PARAMETER_BOUND); empty for a regular fit. */
	atBound: string[];
}

/** Below this the four parameters are not identified in any useful sense. */
export const MIN_CUSTOMERS_FOR_BGNBD = 10;

/**
 * The data compressed for the likelihood: customers without repeat purchases contribute
 * r·ln α − r·ln(α + T), so they are counted per distinct T; the rest per distinct (x, t_x, T).
 */
interface LikelihoodData {
	zeroAges: Float64Array;
	zeroCounts: Float64Array;
	xs: Float64Array;
	/** Distinct t_x and T values of repeat customers, so each logarithm is taken once per evaluation. */
	recencies: Float64Array;
	ages: Float64Array;
	/** Per distinct repeat triple: indexes into xs, recencies and ages, and how many customers share it. */
	tripleX: Int32Array;
	tripleRecency: Int32Array;
	tripleAge: Int32Array;
	tripleCounts: Float64Array;
	customers: number;
	repeatCustomers: number;
}

export function checkBgNbdCustomer(x: number, tx: number, T: number, index: number): void {
	const ok =
		Number.isFinite(x) &&
		Number.isFinite(tx) &&
		Number.isFinite(T) &&
		x >= 0 &&
		tx >= 0 &&
		T >= tx &&
		(x > 0 || tx === 0);
	if (!ok) {
		throw new EngineError(
			'invalid_customer_summary',
			`Customer ${index + 1}: frequency ${x}, recency ${tx} and age ${T} do not fit together; ` +
				'frequency and recency must be zero or more, recency at most the age, and recency 0 when frequency is 0',
			{ field: 'recency', details: { index } },
		);
	}
}

function compress(
	frequency: ArrayLike<number>,
	recency: ArrayLike<number>,
	age: ArrayLike<number>,
): LikelihoodData {
	const n = frequency.length;
	const zero = new Map<number, number>();
	const triples = new Map<string, { x: number; tx: number; T: number; count: number }>();
	for (let i = 0; i < n; i++) {
		const x = frequency[i];
		const tx = recency[i];
		const T = age[i];
		checkBgNbdCustomer(x, tx, T, i);
		if (x === 0) zero.set(T, (zero.get(T) ?? 0) + 1);
		else {
			const key = `${x}|${tx}|${T}`;
			const triple = triples.get(key);
			if (triple) triple.count++;
			else triples.set(key, { x, tx, T, count: 1 });
		}
	}
	const list = [...triples.values()];
	const distinct = (values: number[]): { values: Float64Array; index: Map<number, number> } => {
		const unique = [...new Set(values)];
		return { values: Float64Array.from(unique), index: new Map(unique.map((v, i) => [v, i])) };
	};
	const xs = distinct(list.map((t) => t.x));
	const recencies = distinct(list.map((t) => t.tx));
	const ages = distinct(list.map((t) => t.T));
	return {
		zeroAges: Float64Array.from(zero.keys()),
		zeroCounts: Float64Array.from(zero.values()),
		xs: xs.values,
		recencies: recencies.values,
		ages: ages.values,
		tripleX: Int32Array.from(list.map((t) => xs.index.get(t.x)!)),
		tripleRecency: Int32Array.from(list.map((t) => recencies.index.get(t.tx)!)),
		tripleAge: Int32Array.from(list.map((t) => ages.index.get(t.T)!)),
		tripleCounts: Float64Array.from(list.map((t) => t.count)),
		customers: n,
		repeatCustomers: n - [...zero.values()].reduce((s, c) => s + c, 0),
	};
}

function logLikelihood(data: LikelihoodData, { r, alpha, a, b }: BgNbdParams): number {
	// r·ln α − (r + x)·ln(α + t) is written −r·log1p(t/α) − x·ln(α + t): exact also when α is huge.
	let total = 0;
	for (let i = 0; i < data.zeroAges.length; i++)
		total -= data.zeroCounts[i] * r * Math.log1p(data.zeroAges[i] / alpha);
	// Terms that depend on x only, once per distinct x.
	const xs = data.xs;
	const constant = new Float64Array(xs.length);
	const dropout = new Float64Array(xs.length);
	const lnA = Math.log(a);
	for (let k = 0; k < xs.length; k++) {
		const x = xs[k];
		constant[k] = lnPochhammer(r, x) + lnPochhammer(b, x) - lnPochhammer(a + b, x);
		dropout[k] = lnA - Math.log(b + x - 1);
	}
	const ageShift = data.ages.map((T) => Math.log1p(T / alpha));
	const lnAge = data.ages.map((T) => Math.log(alpha + T));
	const recencyShift = data.recencies.map((tx) => Math.log1p(tx / alpha));
	const lnRecency = data.recencies.map((tx) => Math.log(alpha + tx));
	for (let i = 0; i < data.tripleCounts.length; i++) {
		const k = data.tripleX[i];
		const x = xs[k];
		const T = data.tripleAge[i];
		const tx = data.tripleRecency[i];
		const aliveTerm = -r * ageShift[T] - x * lnAge[T];
		const droppedTerm = dropout[k] - r * recencyShift[tx] - x * lnRecency[tx];
		total += data.tripleCounts[i] * (constant[k] + logAddExp(aliveTerm, droppedTerm));
	}
	return total;
}

/** Log-likelihood of the data under the parameters (summed over customers). */
export function bgnbdLogLikelihood(
	params: BgNbdParams,
	frequency: ArrayLike<number>,
	recency: ArrayLike<number>,
	age: ArrayLike<number>,
): number {
	return logLikelihood(compress(frequency, recency, age), params);
}

/**
 * Parameters are kept within e^±18. A fit that runs to the bound means the data carry no
 * information in that direction (a and b: nobody seems to drop out; r and α: everyone buys at
 * the same rate); the predictions are then those of the limiting model.
 */
export const LOG_PARAMETER_BOUND = 18;

export function parametersAtBound(
	names: readonly string[],
	logValues: readonly number[],
): string[] {
	return names.filter((_, i) => Math.abs(logValues[i]) > LOG_PARAMETER_BOUND - 0.5);
}

const fromLog = (v: number[]): BgNbdParams => ({
	r: Math.exp(v[0]),
	alpha: Math.exp(v[1]),
	a: Math.exp(v[2]),
	b: Math.exp(v[3]),
});

/** Maximum-likelihood fit, by Nelder–Mead on the log-parameters (deterministic). */
export function fitBgNbd(
	frequency: ArrayLike<number>,
	recency: ArrayLike<number>,
	age: ArrayLike<number>,
): BgNbdFit {
	if (frequency.length !== recency.length || frequency.length !== age.length) {
		throw new EngineError(
			'invalid_input',
			'frequency, recency and age must have one value per customer',
		);
	}
	const data = compress(frequency, recency, age);
	if (data.customers < MIN_CUSTOMERS_FOR_BGNBD || data.repeatCustomers === 0) {
		throw new EngineError(
			'insufficient_data',
			`Fitting BG/NBD needs at least ${MIN_CUSTOMERS_FOR_BGNBD} customers, some with repeat purchases; ` +
				`got ${data.customers} customers, ${data.repeatCustomers} with repeat purchases`,
			{
				field: 'frequency',
				details: { customers: data.customers, repeatCustomers: data.repeatCustomers },
			},
		);
	}
	let meanX = 0;
	let meanT = 0;
	for (let i = 0; i < frequency.length; i++) {
		meanX += frequency[i] / frequency.length;
		meanT += age[i] / frequency.length;
	}
	// Start where the mean purchase rate r/α matches the data, in whatever time unit it comes.
	const start = [
		Math.log(0.5),
		Math.log((0.5 * Math.max(meanT, 1e-9)) / Math.max(meanX, 1e-3)),
		0,
		0,
	];
	const negative = (v: number[]): number =>
		v.some((w) => Math.abs(w) > LOG_PARAMETER_BOUND) ? Infinity : -logLikelihood(data, fromLog(v));
	const result = nelderMead(negative, start, { step: 0.5 });
	const params = fromLog(result.x);
	// Delta method: SE(θ) = θ · SE(ln θ).
	const logErrors = standardErrors(negative, result.x);
	return {
		params,
		logLikelihood: -result.value,
		standardErrors: logErrors && {
			r: params.r * logErrors[0],
			alpha: params.alpha * logErrors[1],
			a: params.a * logErrors[2],
			b: params.b * logErrors[3],
		},
		customers: data.customers,
		repeatCustomers: data.repeatCustomers,
		converged: result.converged,
		iterations: result.iterations,
		atBound: parametersAtBound(['r', 'alpha', 'a', 'b'], result.x),
	};
}

/** P(still active | x, t_x, T); 1 for customers without repeat purchases. */
export function bgnbdProbabilityAlive(
	{ r, alpha, a, b }: BgNbdParams,
	x: number,
	tx: number,
	T: number,
): number {
	if (x === 0) return 1;
	const lnOdds =
		Math.log(a) - Math.log(b + x - 1) + (r + x) * (Math.log(alpha + T) - Math.log(alpha + tx));
	return 1 / (1 + Math.exp(lnOdds));
}

/**
 * (a+b+x−1)/(a−1) · [1 − (1 − z)^(r+x) ₂F₁(r+x, b+x; a+b+x−1; z)], the factor both BG/NBD
 * expectations share (x = 0 and z = t/(α+t) for a new customer; z = t/(α+T+t) given a history).
 * Two exact forms, chosen for the better-behaved series:
 * - after Euler's transformation, [1 − (1 − z)^(a−1) ₂F₁(a+b−1−r, a−1; a+b+x−1; z)] / (a−1), summed
 *   as (F − 1)/(a − 1) so a near 1 loses nothing, and a large x (x = 150 would otherwise sum terms
 *   near 10^34) stays small;
 * - as written, when a is well above 1 and the series ratio is smaller (a running to its bound
 *   would otherwise need millions of terms).
 */
function expectationFactor({ r, a, b }: BgNbdParams, x: number, z: number): number {
	const c = a + b + x - 1;
	const lnRest = Math.log1p(-z);
	const e = a - 1;
	const eulerRatio = Math.abs((a + b - 1 - r) * e);
	const directRatio = (r + x) * (b + x);
	if (e >= 0.5 && directRatio < eulerRatio) {
		const k = r + x;
		const bracket =
			-Math.expm1(k * lnRest) -
			Math.exp(k * lnRest) * (b + x) * hyp2f1MinusOneOverB(k, b + x, c, z);
		return (c / e) * bracket;
	}
	const first = e === 0 ? -lnRest : -Math.expm1(e * lnRest) / e;
	return c * (first - Math.exp(e * lnRest) * hyp2f1MinusOneOverB(a + b - 1 - r, e, c, z));
}

/** Expected purchases in a period of length t for a new (randomly chosen) customer, E[X(t)]. */
export function bgnbdExpectedPurchases(params: BgNbdParams, t: number): number {
	if (t <= 0) return 0;
	return expectationFactor(params, 0, t / (params.alpha + t));
}

/** Expected purchases in the next t time units for a customer with history (x, t_x, T), E[Y(t) | x, t_x, T]. */
export function bgnbdConditionalExpectedPurchases(
	params: BgNbdParams,
	t: number,
	x: number,
	tx: number,
	T: number,
): number {
	if (t <= 0) return 0;
	const z = t / (params.alpha + T + t);
	return expectationFactor(params, x, z) * bgnbdProbabilityAlive(params, x, tx, T);
}
