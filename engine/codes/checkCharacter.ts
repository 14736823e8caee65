/**
 * Check character: a weighted sum modulo a prime p >= alphabet size.
 * Σ w_j·v_j ≡ 0 (mod p) over the data characters and the check character, with weights
 * w_j = ((j mod (p-1)) + 1): every weight is non-zero and neighbours differ, so every
 * single-character substitution (w·(a−b) ≢ 0) and every adjacent transposition
 * ((w_j − w_{j+1})·(a−b) ≢ 0) changes the sum. When the alphabet size is not prime, codes whose
 * check value would fall outside the alphabet are simply not issued (the generator redraws).
 */
export interface CheckScheme {
	prime: number;
	/** Weight of each position 0..slots-1 (the check character is the last position). */
	weights: Int32Array;
	/** Modular inverse of the last position's weight. */
	lastWeightInverse: number;
}

export function smallestPrimeAtLeast(n: number): number {
	for (let p = Math.max(2, n); ; p++) {
		let prime = true;
		for (let d = 2; d * d <= p; d++) {
			if (p % d === 0) {
				prime = false;
				break;
			}
		}
		if (prime) return p;
	}
}

function modInverse(a: number, p: number): number {
	// Fermat: a^(p-2) mod p; p is small (< 2^16), so plain numbers are exact.
	let result = 1;
	let base = a % p;
	let exp = p - 2;
	while (exp > 0) {
		if (exp & 1) result = (result * base) % p;
		base = (base * base) % p;
		exp >>= 1;
	}
	return result;
}

export function createCheckScheme(alphabetSize: number, slots: number): CheckScheme {
	const prime = smallestPrimeAtLeast(alphabetSize);
	const weights = new Int32Array(slots);
	for (let j = 0; j < slots; j++) weights[j] = (j % (prime - 1)) + 1;
	return { prime, weights, lastWeightInverse: modInverse(weights[slots - 1], prime) };
}

/** The check value for data values (all slots but the last); may be >= alphabet size when p > size. */
export function checkValue(
	scheme: CheckScheme,
	values: ArrayLike<number>,
	dataLength: number,
): number {
	let sum = 0;
	for (let j = 0; j < dataLength; j++) sum += scheme.weights[j] * values[j];
	const p = scheme.prime;
	return ((p - (sum % p)) * scheme.lastWeightInverse) % p;
}

/** Whether a full value sequence (data plus check) satisfies the scheme. */
export function checkHolds(scheme: CheckScheme, values: ArrayLike<number>): boolean {
	let sum = 0;
	for (let j = 0; j < values.length; j++) sum += scheme.weights[j] * values[j];
	return sum % scheme.prime === 0;
}
