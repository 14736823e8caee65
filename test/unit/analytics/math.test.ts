import { describe, expect, it } from 'vitest';
import { gaussSeries, hyp2f1, hyp2f1MinusOneOverB } from '../../../engine/analytics/math/hyp2f1';
import { invertMatrix, nelderMead, standardErrors } from '../../../engine/analytics/math/optimize';
import { lnGamma, logAddExp } from '../../../engine/analytics/math/special';

const relative = (actual: number, expected: number): number =>
	Math.abs(actual - expected) / Math.abs(expected);

describe('lnGamma', () => {
	it('matches factorials and Γ(1/2) = √π', () => {
		let factorial = 1;
		for (let n = 2; n <= 20; n++) {
			expect(relative(lnGamma(n + 1), Math.log((factorial *= n)))).toBeLessThan(1e-13);
		}
		expect(lnGamma(0.5)).toBeCloseTo(0.5 * Math.log(Math.PI), 13);
		expect(Math.abs(lnGamma(1))).toBeLessThan(1e-14);
		expect(Math.abs(lnGamma(2))).toBeLessThan(1e-14);
	});

	it('satisfies lnΓ(x + 1) = lnΓ(x) + ln x across small and large arguments', () => {
		for (const x of [1e-6, 0.01, 0.2426, 0.7929, 3.7, 42.5, 1e3, 1e6]) {
			expect(Math.abs(lnGamma(x + 1) - lnGamma(x) - Math.log(x))).toBeLessThan(
				1e-9 * Math.max(1, Math.abs(lnGamma(x))),
			);
		}
	});

	it('is NaN outside the positive reals', () => {
		expect(lnGamma(0)).toBeNaN();
		expect(lnGamma(-1.5)).toBeNaN();
	});

	it('logAddExp does not overflow', () => {
		expect(logAddExp(1000, 1000)).toBeCloseTo(1000 + Math.log(2), 12);
		expect(logAddExp(-Infinity, 3)).toBe(3);
		expect(logAddExp(-1000, -1001)).toBeCloseTo(-1000 + Math.log1p(Math.exp(-1)), 12);
	});
});

describe('hyp2f1', () => {
	it('matches closed forms', () => {
		for (const z of [0.001, 0.3, 0.9, 0.999]) {
			expect(relative(hyp2f1(1, 1, 2, z), -Math.log(1 - z) / z)).toBeLessThan(1e-13);
			expect(relative(hyp2f1(2.5, 3, 3, z), Math.pow(1 - z, -2.5))).toBeLessThan(1e-12);
			const s = Math.sqrt(z);
			expect(relative(hyp2f1(0.5, 0.5, 1.5, z), Math.asin(s) / s)).toBeLessThan(1e-13);
		}
	});

	it('handles negative z (Pfaff) and polynomials', () => {
		for (const z of [-0.5, -3, -100]) {
			expect(relative(hyp2f1(1, 1, 2, z), Math.log(1 - z) / -z)).toBeLessThan(1e-13);
		}
		// (a = −2): 1 + 2·(−2)·b/c·z/… is a quadratic: ₂F₁(−2, b; c; z) = 1 − 2bz/c + b(b+1)z²/(c(c+1)).
		const [b, c, z] = [1.5, 2.5, 0.7];
		expect(hyp2f1(-2, b, c, z)).toBeCloseTo(
			1 - (2 * b * z) / c + (b * (b + 1) * z * z) / (c * (c + 1)),
			14,
		);
	});

	it('takes the Euler path where the series would sum huge terms, and agrees with the plain series', () => {
		// c − a − b < 0: the plain series and the transformed one must agree.
		const [a, b, c, z] = [150.243, 152.426, 152.2, 0.405];
		const plain = gaussSeries(a, b, c, z);
		expect(plain).toBeGreaterThan(1e20);
		expect(relative(hyp2f1(a, b, c, z), plain)).toBeLessThan(1e-11);
	});

	it('is NaN where it is not defined here', () => {
		expect(hyp2f1(1, 1, 2, 1)).toBeNaN();
		expect(hyp2f1(1, 1, -2, 0.5)).toBeNaN();
	});

	it('(F − 1)/b is finite at b = 0 and matches the plain difference elsewhere', () => {
		// As b → 0, (₂F₁(c, b; c; z) − 1)/b → −ln(1 − z).
		for (const z of [0.1, 0.5, 0.95])
			expect(relative(hyp2f1MinusOneOverB(2.3, 0, 2.3, z), -Math.log(1 - z))).toBeLessThan(1e-12);
		// b just above −1: every term after the first carries (b + 1), so the sum is a·z/c to O(b + 1);
		// the tail bound must see that at once instead of waiting ~a·z terms for the ratios to fall.
		expect(
			relative(hyp2f1MinusOneOverB(5e4, -1 + 1e-12, 5e4 + 3, 0.5), (5e4 * 0.5) / (5e4 + 3)),
		).toBeLessThan(1e-9);
		const [a, b, c, z] = [2.97, -0.207, 5.2, 0.6];
		expect(relative(hyp2f1MinusOneOverB(a, b, c, z), (hyp2f1(a, b, c, z) - 1) / b)).toBeLessThan(
			1e-12,
		);
	});
});

describe('nelderMead', () => {
	it('finds the minimum of the Rosenbrock valley from a poor start, deterministically', () => {
		const rosenbrock = (x: number[]): number => 100 * (x[1] - x[0] ** 2) ** 2 + (1 - x[0]) ** 2;
		const first = nelderMead(rosenbrock, [-1.2, 1]);
		expect(first.converged).toBe(true);
		expect(first.x[0]).toBeCloseTo(1, 6);
		expect(first.x[1]).toBeCloseTo(1, 6);
		expect(nelderMead(rosenbrock, [-1.2, 1])).toEqual(first);
	});

	it('treats non-finite values as worst and stays in the domain', () => {
		const f = (x: number[]): number => (x[0] <= 0 ? NaN : x[0] - Math.log(x[0]));
		expect(nelderMead(f, [3]).x[0]).toBeCloseTo(1, 6);
	});

	it('standard errors of a Gaussian likelihood are σ/√n', () => {
		// −ln L of n = 400 observations with mean 2 and known σ = 3, as a function of μ.
		const negative = (x: number[]): number => (400 * (x[0] - 2) ** 2) / (2 * 9);
		expect(standardErrors(negative, [2])![0]).toBeCloseTo(3 / 20, 6);
	});

	it('inverts matrices and refuses singular ones', () => {
		const inverse = invertMatrix([
			[4, 7],
			[2, 6],
		])!;
		expect(inverse[0][0]).toBeCloseTo(0.6, 12);
		expect(inverse[0][1]).toBeCloseTo(-0.7, 12);
		expect(inverse[1][0]).toBeCloseTo(-0.2, 12);
		expect(inverse[1][1]).toBeCloseTo(0.4, 12);
		expect(
			invertMatrix([
				[1, 2],
				[2, 4],
			]),
		).toBeUndefined();
	});
});
