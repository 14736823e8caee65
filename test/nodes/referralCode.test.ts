import { describe, expect, it } from 'vitest';
import { normalizeCode, parseCodeFormat } from '../../engine/codes';
import { loadPackage, runWorkflow, singleNodeWorkflow } from '../harness';

const node = (parameters: Record<string, unknown>, continueOnFail = false) =>
	({ type: 'referralCode', parameters, continueOnFail }) as never;

describe('Referral Code node in the workflow harness', () => {
	it('is loaded from dist/ under the package type name', async () => {
		const { packageNodeNames } = await loadPackage();
		expect(packageNodeNames).toContain('referralCode');
	});

	it('generates distinct valid codes for each input item, paired with their item', async () => {
		const result = await runWorkflow(
			singleNodeWorkflow(
				node({
					operation: 'generate',
					count: 25,
					codeFormat: { pattern: 'XXXX-XXXX', prefix: 'FRIEND-' },
				}),
				[{ a: 1 }, { a: 2 }],
			),
		);
		const items = result.items('Node');
		expect(items).toHaveLength(50);
		expect(items[0].pairedItem).toEqual({ item: 0 });
		expect(items[49].pairedItem).toEqual({ item: 1 });
		const codes = items.map((item) => item.json.code as string);
		expect(new Set(codes).size).toBe(50);
		const format = parseCodeFormat({ pattern: 'XXXX-XXXX', prefix: 'FRIEND-' });
		for (const code of codes) {
			expect(code).toMatch(/^FRIEND-[2-9A-Z]{4}-[2-9A-Z]{4}$/);
			expect(normalizeCode(format, code).valid).toBe(true);
		}
	});

	it('evaluates expressions per item', async () => {
		const result = await runWorkflow(
			singleNodeWorkflow(
				node({ operation: 'generate', count: '={{ $json.n }}', output: 'singleItem' }),
				[{ n: 2 }, { n: 5 }],
			),
		);
		const json = result.json('Node');
		expect(json.map((j) => (j.codes as string[]).length)).toEqual([2, 5]);
		expect(json[1].entropyBits).toBeCloseTo(7 * Math.log2(31), 2);
		expect(json[1].collisionProbability).toBeGreaterThan(0);
	});

	it('normalizes typed codes from a field and keeps the item', async () => {
		const format = parseCodeFormat({});
		const good = (
			await runWorkflow(singleNodeWorkflow(node({ operation: 'generate', count: 1 }), [{}]))
		).json('Node')[0].code as string;
		const swapped = good[1] + good[0] + good.slice(2);
		const result = await runWorkflow(
			singleNodeWorkflow(node({ operation: 'normalize', codeField: 'body.code' }), [
				{ id: 1, body: { code: ` ${good.slice(0, 4).toLowerCase()}-${good.slice(4)} ` } },
				{ id: 2, body: { code: swapped } },
			]),
		);
		const [first, second] = result.json('Node');
		expect(first).toMatchObject({
			id: 1,
			codeCheck: { canonical: good, valid: true, checkCharacterValid: true },
		});
		const expected = normalizeCode(format, swapped);
		// A code whose first two characters are equal stays the same code when swapped: then it is valid and has no
		// problem at all (no `problem` key), so compare the fields, not the object shape.
		const check = second.codeCheck as { valid: boolean; problem?: string };
		expect(check.valid).toBe(expected.valid);
		expect(check.problem).toBe(expected.problem);
		if (good[0] !== good[1])
			expect(second.codeCheck).toMatchObject({ valid: false, problem: 'check_character_mismatch' });
	});

	it('validates vanity codes with every reason', async () => {
		const result = await runWorkflow(
			singleNodeWorkflow(node({ operation: 'validateVanity', codeField: 'wanted' }), [
				{ wanted: 'summer-23' },
				{ wanted: 'OLIVIA' },
			]),
		);
		const [ok, bad] = result.json('Node');
		expect(ok.vanityCheck).toMatchObject({ canonical: 'SUMMER-23', valid: true });
		expect(bad.vanityCheck).toMatchObject({ valid: false, canonical: null });
	});

	describe('bad input', () => {
		const cases: Array<[string, Record<string, unknown>, RegExp, string]> = [
			[
				'length 0',
				{ operation: 'generate', codeFormat: { length: 0 } },
				/length must be a whole number from 1 to 64, got 0 \[item 0\]/,
				'Code Format › Length',
			],
			[
				'alphabet with duplicates',
				{ operation: 'generate', codeFormat: { alphabet: 'ABCDA' } },
				/"A" more than once/,
				'Code Format › Alphabet',
			],
			[
				'pattern with no slots',
				{ operation: 'generate', codeFormat: { pattern: '--' } },
				/has no X slots/,
				'Code Format › Pattern',
			],
			[
				'N larger than the space',
				{ operation: 'generate', count: 1000, codeFormat: { alphabet: '0123456789', length: 3 } },
				/only 90 possible codes/,
				'Number of Codes',
			],
		];
		for (const [label, parameters, message, parameter] of cases) {
			it(`${label}: stops with a NodeOperationError naming item and parameter`, async () => {
				const result = await runWorkflow(singleNodeWorkflow(node(parameters), [{}]));
				const error = result.error('Node');
				expect(error?.name).toBe('NodeOperationError');
				expect(error?.message).toMatch(message);
				expect(error?.message).toContain('[item 0]');
				expect(error?.description).toContain(parameter);
			});
		}

		it('non-string codes: error names the item and the Code Field parameter', async () => {
			const result = await runWorkflow(
				singleNodeWorkflow(node({ operation: 'normalize', codeField: 'code' }), [
					{ code: 'ABC' },
					{ code: { nested: true } },
				]),
			);
			const error = result.error('Node');
			expect(error?.message).toBe(
				'The field "code" must hold the code as text, got object [item 1]',
			);
			expect(error?.description).toContain('Code Field');
		});

		it('with Continue On Fail the bad item carries its error and the rest go on', async () => {
			const result = await runWorkflow(
				singleNodeWorkflow(
					node({ operation: 'generate', count: '={{ $json.n }}', output: 'singleItem' }, true),
					[{ n: 3 }, { n: 0 }, { n: 2 }],
				),
			);
			const json = result.json('Node');
			expect(json).toHaveLength(3);
			expect((json[0].codes as string[]).length).toBe(3);
			expect(json[1]).toMatchObject({
				n: 0,
				error: { code: 'invalid_count', parameter: 'Number of Codes' },
			});
			expect((json[1].error as { message: string }).message).toContain('[item 1]');
			expect((json[2].codes as string[]).length).toBe(2);
			expect(result.items('Node').map((i) => i.pairedItem)).toEqual([
				{ item: 0 },
				{ item: 1 },
				{ item: 2 },
			]);
		});
	});
});
