/* Test fixtures: the CDNOW reference data (read from ../shared/data/cdnow when it exists, never
 * copied into the package) and seeded simulators of the BG/NBD and Gamma-Gamma processes. */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** `$CDNOW_DIR` wins (e.g. in a git worktree, where the relative path points elsewhere). */
export const CDNOW_DIR =
	process.env.CDNOW_DIR ?? path.resolve(__dirname, '../../../../shared/data/cdnow');
export const hasCdnow = existsSync(path.join(CDNOW_DIR, 'cdnow_customers_summary.csv'));
export const hasCdnowMaster = existsSync(path.join(CDNOW_DIR, 'CDNOW_master.txt'));

/** Rows of a CSV with a header line, as numbers. */
export function readCdnowCsv(file: string): Record<string, number>[] {
	const [header, ...lines] = readFileSync(path.join(CDNOW_DIR, file), 'utf8').trim().split(/\r?\n/);
	const names = header.split(',');
	return lines.map((line) =>
		Object.fromEntries(line.split(',').map((v, i) => [names[i], Number(v)])),
	);
}

export interface TransactionItem extends Record<string, unknown> {
	customer: string;
	date: string | number;
	amount: number;
}

/** CDNOW_master.txt as transaction items (date kept as the YYYYMMDD text of the file). */
export function readCdnowMaster(): TransactionItem[] {
	const lines = readFileSync(path.join(CDNOW_DIR, 'CDNOW_master.txt'), 'utf8')
		.trim()
		.split(/\r?\n/);
	const items: TransactionItem[] = [];
	for (let i = 1; i < lines.length; i++) {
		const [customer, date, , amount] = lines[i].trim().split(/\s+/);
		items.push({ customer, date, amount: Number(amount) });
	}
	return items;
}

/** Published maximum-likelihood fits on cdnow_customers_summary.csv (weeks). */
export const CDNOW_BGNBD = { r: 0.2426, alpha: 4.4135, a: 0.7929, b: 2.4258 };
export const CDNOW_GAMMA_GAMMA = { p: 6.2488, q: 3.7446, v: 15.4477 };

/** Small, fast, seeded PRNG (sfc32) so simulated data is the same on every run. */
export function seededRandom(seed: number): () => number {
	let a = 0x9e3779b9;
	let b = 0x243f6a88;
	let c = 0xb7e15162;
	let d = seed >>> 0;
	const next = (): number => {
		a >>>= 0;
		b >>>= 0;
		c >>>= 0;
		d >>>= 0;
		let t = (a + b) | 0;
		a = b ^ (b >>> 9);
		b = (c + (c << 3)) | 0;
		c = (c << 21) | (c >>> 11);
		d = (d + 1) | 0;
		t = (t + d) | 0;
		c = (c + t) | 0;
		return (t >>> 0) / 4294967296;
	};
	for (let i = 0; i < 16; i++) next();
	return next;
}

export function normal(random: () => number): number {
	let u = 0;
	while (u === 0) u = random();
	return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

/** Gamma(shape, rate) by Marsaglia–Tsang, with the shape < 1 boost. */
export function gamma(random: () => number, shape: number, rate: number): number {
	if (shape < 1) {
		let u = 0;
		while (u === 0) u = random();
		return gamma(random, shape + 1, rate) * Math.pow(u, 1 / shape);
	}
	const d = shape - 1 / 3;
	const c = 1 / Math.sqrt(9 * d);
	for (;;) {
		let x: number;
		let v: number;
		do {
			x = normal(random);
			v = 1 + c * x;
		} while (v <= 0);
		v = v * v * v;
		const u = random();
		if (u < 1 - 0.0331 * x ** 4 || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v)))
			return (d * v) / rate;
	}
}

export function beta(random: () => number, a: number, b: number): number {
	const x = gamma(random, a, 1);
	return x / (x + gamma(random, b, 1));
}

export interface SimulatedCustomer {
	/** Purchase times from the first purchase (0), within the calibration period and after it. */
	times: number[];
	/** Length of the calibration period T. */
	T: number;
	/** Still active at the end of the calibration period. */
	aliveAtT: boolean;
	/** Value of each purchase. */
	values: number[];
}

/**
 * The BG/NBD generative process (as lifetimes' generator): λ ~ Gamma(r, α), p ~ Beta(a, b);
 * exponential gaps at rate λ; after each repeat purchase the customer drops out with probability p.
 * Purchases are simulated up to T + `after`; values follow Gamma-Gamma when `spend` is given.
 */
export function simulateCustomers(
	random: () => number,
	n: number,
	params: { r: number; alpha: number; a: number; b: number },
	ageRange: [number, number],
	after = 0,
	spend?: { p: number; q: number; v: number },
): SimulatedCustomer[] {
	const customers: SimulatedCustomer[] = [];
	for (let i = 0; i < n; i++) {
		const T = ageRange[0] + (ageRange[1] - ageRange[0]) * random();
		const lambda = gamma(random, params.r, params.alpha);
		const p = beta(random, params.a, params.b);
		const times = [0];
		let t = 0;
		let aliveAtT = true;
		for (;;) {
			t += -Math.log(1 - random()) / lambda;
			if (t > T + after) break;
			times.push(t);
			if (random() < p) {
				if (t <= T) aliveAtT = false;
				break;
			}
		}
		const nu = spend ? gamma(random, spend.q, spend.v) : 0;
		const values = times.map(() => (spend ? gamma(random, spend.p, nu) : 0));
		customers.push({ times, T, aliveAtT, values });
	}
	return customers;
}

/** x, t_x and T over the calibration period, and the mean repeat value there. */
export function calibrationSummary(customer: SimulatedCustomer): {
	x: number;
	tx: number;
	T: number;
	mean: number;
	later: number;
} {
	const inside = customer.times.filter((t) => t <= customer.T);
	const x = inside.length - 1;
	const repeatValues = customer.values.slice(1, inside.length);
	return {
		x,
		tx: inside[inside.length - 1],
		T: customer.T,
		mean: x > 0 ? repeatValues.reduce((s, v) => s + v, 0) / x : 0,
		later: customer.times.length - inside.length,
	};
}

export function shuffle<T>(random: () => number, list: readonly T[]): T[] {
	const copy = [...list];
	for (let i = copy.length - 1; i > 0; i--) {
		const j = Math.floor(random() * (i + 1));
		[copy[i], copy[j]] = [copy[j], copy[i]];
	}
	return copy;
}
