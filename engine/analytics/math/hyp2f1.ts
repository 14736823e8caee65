/**
 * The Gauss hypergeometric function ₂F₁(a, b; c; z) for real arguments and z < 1, as BG/NBD needs it.
 *
 * - z < 0: Pfaff's transformation maps z into [0, 1), where the series has positive ratio.
 * - 0 ≤ z < 1 with c − a − b < 0: Euler's transformation (1 − z)^(c−a−b) ₂F₁(c−a, c−b; c; z)
 *   takes out the singular factor, so the series terms stay small (BG/NBD at x = 150 needs it).
 * - Otherwise the Gauss series, summed until a proven bound on the remaining tail is below
 *   machine precision relative to the sum.
 */

const EPSILON = 1e-16;
const MAX_TERMS = 1_000_000;

export function hyp2f1(a: number, b: number, c: number, z: number): number {
	if (!Number.isFinite(a) || !Number.isFinite(b) || !Number.isFinite(c) || !Number.isFinite(z))
		return NaN;
	if (z >= 1) return NaN;
	if (z === 0 || a === 0 || b === 0) return 1;
	if (c <= 0 && Number.isInteger(c)) return NaN;
	if (z < 0) return Math.pow(1 - z, -a) * hyp2f1Unit(a, c - b, c, z / (z - 1));
	return hyp2f1Unit(a, b, c, z);
}

/** 0 < z < 1. */
function hyp2f1Unit(a: number, b: number, c: number, z: number): number {
	const excess = c - a - b;
	if (excess < 0) return Math.pow(1 - z, excess) * gaussSeries(c - a, c - b, c, z);
	return gaussSeries(a, b, c, z);
}

/** Σ (a)ₙ(b)ₙ / ((c)ₙ n!) zⁿ for 0 < z < 1. */
export function gaussSeries(a: number, b: number, c: number, z: number): number {
	return sumFrom(a, b, c, z, 0, 1, 1);
}

/**
 * (₂F₁(a, b; c; z) − 1) / b for 0 ≤ z < 1, finite as b → 0. BG/NBD divides by (a − 1), which is
 * near zero when the dropout parameter a is near 1; dividing term by term avoids the cancellation.
 */
export function hyp2f1MinusOneOverB(a: number, b: number, c: number, z: number): number {
	if (z === 0 || a === 0) return 0;
	if (!(z > 0 && z < 1) || (c <= 0 && Number.isInteger(c))) return NaN;
	// n = 1 term of Σ (a)ₙ (b+1)ₙ₋₁ / ((c)ₙ n!) zⁿ; later ratios are those of the Gauss series.
	const first = (a / c) * z;
	return sumFrom(a, b, c, z, 1, first, first);
}

/** Continue a Gauss series whose n-th term is `term` and partial sum (to n) is `sum`. */
function sumFrom(
	a: number,
	b: number,
	c: number,
	z: number,
	n0: number,
	term: number,
	sum: number,
): number {
	for (let n = n0; n < MAX_TERMS; n++) {
		term *= (((a + n) * (b + n)) / ((c + n) * (n + 1))) * z;
		sum += term;
		if (term === 0) return sum; // a or b is a non-positive integer: a polynomial
		const m = n + 1;
		if (a + m > 0 && b + m > 0 && c + m > 0) {
			// For j ≥ m each of (a+j)/(1+j), (b+j)/(c+j), (a+j)/(c+j), (b+j)/(1+j) moves monotonically
			// towards 1, so either pairing bounds every later ratio and the tail is below a geometric series.
			const bound =
				z *
				Math.min(
					Math.max(1, (a + m) / (1 + m)) * Math.max(1, (b + m) / (c + m)),
					Math.max(1, (a + m) / (c + m)) * Math.max(1, (b + m) / (1 + m)),
				);
			if (bound < 1 && Math.abs(term) * (bound / (1 - bound)) <= EPSILON * Math.abs(sum))
				return sum;
		}
	}
	return NaN;
}
