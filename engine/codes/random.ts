import { randomFillSync } from 'node:crypto';

/**
 * Cryptographically secure random bytes, fetched from the OS in batches: one system call per
 * 64 KiB instead of one per code is what makes CSPRNG codes cheaper than Math.random ones.
 */
export class RandomBytes {
	private readonly pool: Uint8Array;
	private offset: number;

	constructor(size = 65536) {
		this.pool = new Uint8Array(size);
		this.offset = size;
	}

	byte(): number {
		if (this.offset === this.pool.length) {
			randomFillSync(this.pool);
			this.offset = 0;
		}
		return this.pool[this.offset++];
	}

	/** Fills `out[0..count)` with uniform values in [0, size): one tight loop for a whole code. */
	fill(out: Int32Array, count: number, size: number, mask: number): void {
		const pool = this.pool;
		let offset = this.offset;
		for (let j = 0; j < count;) {
			if (offset === pool.length) {
				randomFillSync(pool);
				offset = 0;
			}
			const value = pool[offset++] & mask;
			if (value < size) out[j++] = value;
		}
		this.offset = offset;
	}

	/** A uniform value in [0, size) by rejection sampling on masked bytes: no modulo bias. */
	below(size: number, mask: number): number {
		for (;;) {
			const value = this.byte() & mask;
			if (value < size) return value;
		}
	}
}

/** Smallest all-ones bit mask covering values below `size` (size <= 256). */
export function maskFor(size: number): number {
	let mask = 1;
	while (mask < size - 1) mask = (mask << 1) | 1;
	return mask;
}
