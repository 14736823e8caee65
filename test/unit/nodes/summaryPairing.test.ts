import { describe, expect, it } from 'vitest';
import { SUMMARY_PAIRING_LIMIT, SummaryPairing } from '../../../nodes/shared/aggregate';

const first = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('SummaryPairing: what a summary item of many inputs is paired with', () => {
	it('pairs with every input while there are at most SUMMARY_PAIRING_LIMIT', () => {
		expect(SummaryPairing.ofAll(SUMMARY_PAIRING_LIMIT)).toEqual(first(SUMMARY_PAIRING_LIMIT));
		expect(SummaryPairing.ofAll(3)).toEqual([0, 1, 2]);
		expect(SummaryPairing.ofAll(0)).toEqual([]);
	});

	it('2,000,000 inputs: the first SUMMARY_PAIRING_LIMIT, not 2,000,000 pairings', () => {
		expect(SummaryPairing.ofAll(2_000_000)).toEqual(first(SUMMARY_PAIRING_LIMIT));
	});

	it('pairs a group with its own first positions, bounded the same way', () => {
		const pairing = new SummaryPairing();
		for (let i = 7; i < 10_000; i += 2) pairing.add(i);
		expect(pairing.positions()).toHaveLength(SUMMARY_PAIRING_LIMIT);
		expect(pairing.positions().slice(0, 3)).toEqual([7, 9, 11]);
		const small = new SummaryPairing();
		for (const i of [3, 5, 9]) small.add(i);
		expect(small.positions()).toEqual([3, 5, 9]);
	});
});
