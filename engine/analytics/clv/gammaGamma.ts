import { EngineError } from '../../shared/errors';
import { nelderMead, standardErrors } from '../math/optimize';
import { lnGamma, lnPochhammer } from '../math/special';
import { LOG_PARAMETER_BOUND, parametersAtBound } from './bgnbd';
import { addExclusion, ExclusionCounts } from '../transactions';

/**
 * Gamma-Gamma spend model (Fader & Hardie, note 025): a customer's purchase values are
 * Gamma(p, ν) with ν ~ Gamma(q, γ) across customers; fitted on customers with repeat purchases,
 * from x (repeat purchases) and m̄ (their mean value). γ is called `v` here, as in lifetimes.
 */

export interface GammaGammaParams {
	p: number;
	q: number;
	v: number;
}

export interface GammaGammaFit {
	params: GammaGammaParams;
	logLikelihood: number;
	standardErrors?: GammaGammaParams;
	/** Customers the fit used. */
	customers: number;
	converged: boolean;
	iterations: number;
	/** Parameters that ran to the bound; q and v do when spend hardly varies between customers. */
	atBound: string[];
	/** Pearson correlation of x and m̄: the model assumes spend does not depend on frequency. */
	frequencySpendCorrelation: number;
	/** Customers left out of the fit, by reason (they still get an expected spend: the population mean). */
	excluded: ExclusionCounts;
}

export const MIN_CUSTOMERS_FOR_GAMMA_GAMMA = 10;

/** Expected mean purchase value of a customer with x repeat purchases of mean value m̄ (needs q > 1). */
export function gammaGammaExpectedSpend(
	{ p, q, v }: GammaGammaParams,
	x: number,
	meanValue: number,
): number {
	const populationMean = (v * p) / (q - 1);
	if (!(x > 0)) return populationMean;
	const weight = (p * x) / (p * x + q - 1);
	return (1 - weight) * populationMean + weight * meanValue;
}

/**
 * Fit by maximum likelihood. Customers without repeat purchases (`single_purchase_for_gamma_gamma`)
 * and with a mean value of 0 (`non_positive_spend_for_gamma_gamma`) are left out and counted.
 */
export function fitGammaGamma(
	frequency: ArrayLike<number>,
	meanValue: ArrayLike<number>,
): GammaGammaFit {
	if (frequency.length !== meanValue.length) {
		throw new EngineError(
			'invalid_input',
			'frequency and mean value must have one value per customer',
		);
	}
	const excluded: ExclusionCounts = {};
	const byX = new Map<number, number[]>();
	let used = 0;
	for (let i = 0; i < frequency.length; i++) {
		const x = frequency[i];
		const m = meanValue[i];
		if (!(x > 0)) addExclusion(excluded, 'single_purchase_for_gamma_gamma');
		else if (!(m > 0) || !Number.isFinite(m))
			addExclusion(excluded, 'non_positive_spend_for_gamma_gamma');
		else {
			let values = byX.get(x);
			if (!values) byX.set(x, (values = []));
			values.push(m);
			used++;
		}
	}
	if (used < MIN_CUSTOMERS_FOR_GAMMA_GAMMA) {
		throw new EngineError(
			'insufficient_data',
			`Fitting the Gamma-Gamma spend model needs at least ${MIN_CUSTOMERS_FOR_GAMMA_GAMMA} customers with repeat purchases ` +
				`of positive value; got ${used}`,
			{ field: 'monetary', details: { customers: used, excluded } },
		);
	}

	// Per distinct x: the values' logs and ln x once, so an evaluation costs one log per customer.
	const groups = [...byX.entries()].map(([x, values]) => ({
		x,
		lnX: Math.log(x),
		values: Float64Array.from(values),
		sumLnValues: values.reduce((s, m) => s + Math.log(m), 0),
	}));
	const logLikelihood = (p: number, q: number, v: number): number => {
		const lnV = Math.log(v);
		let total = 0;
		for (const g of groups) {
			const px = p * g.x;
			const count = g.values.length;
			// q·ln v − (px + q)·ln(x m̄ + v) as −q·log1p(x m̄ / v) − px·ln(x m̄ + v): exact also when v is huge.
			total += count * (lnPochhammer(q, px) - lnGamma(px) + px * g.lnX) + (px - 1) * g.sumLnValues;
			for (let i = 0; i < count; i++) {
				const shift = Math.log1p((g.x * g.values[i]) / v);
				total -= q * shift + px * (lnV + shift);
			}
		}
		return total;
	};
	let meanSpend = 0;
	for (const g of groups) for (const m of g.values) meanSpend += m / used;
	const negative = (w: number[]): number =>
		w.some((u) => Math.abs(u) > LOG_PARAMETER_BOUND)
			? Infinity
			: -logLikelihood(Math.exp(w[0]), Math.exp(w[1]), Math.exp(w[2]));
	// Start with p = 1, q = 2, so the population mean γp/(q − 1) equals the observed mean.
	const result = nelderMead(negative, [0, Math.log(2), Math.log(meanSpend)], { step: 0.5 });
	const params = { p: Math.exp(result.x[0]), q: Math.exp(result.x[1]), v: Math.exp(result.x[2]) };
	const logErrors = standardErrors(negative, result.x);
	return {
		params,
		logLikelihood: -result.value,
		standardErrors: logErrors && {
			p: params.p * logErrors[0],
			q: params.q * logErrors[1],
			v: params.v * logErrors[2],
		},
		customers: used,
		converged: result.converged,
		iterations: result.iterations,
		atBound: parametersAtBound(['p', 'q', 'v'], result.x),
		frequencySpendCorrelation: correlation(
			groups.flatMap((g) => Array.from(g.values, (m) => [g.x, m] as const)),
		),
		excluded,
	};
}

function correlation(pairs: readonly (readonly [number, number])[]): number {
	const n = pairs.length;
	let mx = 0;
	let my = 0;
	for (const [x, y] of pairs) {
		mx += x / n;
		my += y / n;
	}
	let sxy = 0;
	let sxx = 0;
	let syy = 0;
	for (const [x, y] of pairs) {
		sxy += (x - mx) * (y - my);
		sxx += (x - mx) ** 2;
		syy += (y - my) ** 2;
	}
	return sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : 0;
}
