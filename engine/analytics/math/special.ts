/** Lanczos coefficients (g = 7, n = 9, Godfrey): about 15 significant digits for Γ over the positive reals. */
const LANCZOS_G = 7;
const LANCZOS = [
	0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
	-176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6,
	1.5056327351493116e-7,
];
const HALF_LOG_TWO_PI = 0.5 * Math.log(2 * Math.PI);

/** ln Γ(x) for x > 0 (the likelihoods only need positive arguments); NaN otherwise. */
export function lnGamma(x: number): number {
	if (!(x > 0)) return NaN;
	if (x < 0.5) {
		// Reflection keeps the Lanczos sum in its accurate range.
		return Math.log(Math.PI / Math.sin(Math.PI * x)) - lnGamma(1 - x);
	}
	const y = x - 1;
	let sum = LANCZOS[0];
	for (let i = 1; i < LANCZOS.length; i++) sum += LANCZOS[i] / (y + i);
	const t = y + LANCZOS_G + 0.5;
	return HALF_LOG_TWO_PI + (y + 0.5) * Math.log(t) - t + Math.log(sum);
}

/** ln(e^a + e^b) without overflow. */
export function logAddExp(a: number, b: number): number {
	if (a === -Infinity) return b;
	if (b === -Infinity) return a;
	return a > b ? a + Math.log1p(Math.exp(b - a)) : b + Math.log1p(Math.exp(a - b));
}

/** Stirling series for ln Γ(z) − [(z − ½) ln z − z + ½ ln 2π], accurate to ~1e-13 for z ≥ 10. */
function stirlingCorrection(z: number): number {
	const z2 = 1 / (z * z);
	return (1 / z) * (1 / 12 - z2 * (1 / 360 - z2 * (1 / 1260 - z2 / 1680)));
}

/**
 * ln Γ(x + n) − ln Γ(x) for x > 0, n ≥ 0, without subtracting two large ln Γ values:
 * as parameters run large (no dropout, no heterogeneity) the plain difference loses
 * the digits the optimiser needs to see it has converged.
 */
export function lnPochhammer(x: number, n: number): number {
	if (n === 0) return 0;
	if (Number.isInteger(n) && n <= 32) {
		let sum = 0;
		let product = 1;
		for (let j = 0; j < n; j++) {
			if (product > 1e150) {
				sum += Math.log(product);
				product = 1;
			}
			product *= x + j;
		}
		return sum + Math.log(product);
	}
	if (x >= 10) {
		return (
			(x - 0.5) * Math.log1p(n / x) +
			n * Math.log(x + n) -
			n +
			stirlingCorrection(x + n) -
			stirlingCorrection(x)
		);
	}
	return lnGamma(x + n) - lnGamma(x);
}
