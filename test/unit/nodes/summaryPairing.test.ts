import type { INodeExecutionData } from 'n8n-workflow';
import { describe, expect, it } from 'vitest';
import { SUMMARY_PAIRING_LIMIT, SummaryPairing } from '../../../nodes/shared/aggregate';

const items = (count: number, pairedItem: (i: number) => INodeExecutionData['pairedItem']) =>
	Array.from({ length: count }, (_, i) => ({ json: {}, pairedItem: pairedItem(i) }));

describe('SummaryPairing: what a summary item of all inputs is paired with', () => {
	it('pairs with every input while there are at most SUMMARY_PAIRING_LIMIT', () => {
		const few = items(SUMMARY_PAIRING_LIMIT, (i) => ({ item: i }));
		expect(SummaryPairing.ofAll(few)).toEqual(few.map((_, i) => i));
		expect(SummaryPairing.ofAll([])).toEqual([]);
	});

	it('200,000 rows from one upstream item (one query, one file): one pairing', () => {
		const rows = items(200_000, () => ({ item: 0 }));
		expect(SummaryPairing.ofAll(rows)).toEqual([0]);
	});

	it('one input item per distinct upstream item, in input order, at most SUMMARY_PAIRING_LIMIT', () => {
		// Three trigger items, each fanned out into 1,000 rows, interleaved; n8n's three forms of pairedItem.
		const forms = [
			(i: number) => i % 3,
			(i: number) => ({ item: i % 3 }),
			(i: number) => [{ item: i % 3 }],
		];
		for (const form of forms) {
			const rows = items(3_000, (i) => form(i) as INodeExecutionData['pairedItem']);
			expect(SummaryPairing.ofAll(rows)).toEqual([0, 1, 2]);
		}
		// The same item number from another input is another upstream item.
		const twoInputs = items(3_000, (i) => ({ item: 0, input: i % 2 }));
		expect(SummaryPairing.ofAll(twoInputs)).toEqual([0, 1]);
		const distinct = items(5_000, (i) => ({ item: i }));
		expect(SummaryPairing.ofAll(distinct)).toEqual(
			Array.from({ length: SUMMARY_PAIRING_LIMIT }, (_, i) => i),
		);
	});

	it('pairs a group with its own positions, bounded the same way', () => {
		const rows = items(10_000, () => ({ item: 0 }));
		const pairing = new SummaryPairing(rows);
		for (let i = 7; i < 10_000; i += 2) pairing.add(i);
		expect(pairing.positions()).toEqual([7]);
		const small = new SummaryPairing(rows);
		for (const i of [3, 5, 9]) small.add(i);
		expect(small.positions()).toEqual([3, 5, 9]);
	});
});
