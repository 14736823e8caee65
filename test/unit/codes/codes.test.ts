import { describe, expect, it } from 'vitest';
import {
	checkVanityCode,
	CodeGenerator,
	collisionProbability,
	createBlocklist,
	DEFAULT_ALPHABET,
	normalizeCode,
	parseCodeFormat,
	requireCode,
} from '../../../engine/codes';
import { engineError } from '../../support/engineError';

describe('default alphabet', () => {
	it('has no confusable characters and a prime size', () => {
		for (const ch of '01OIL') expect(DEFAULT_ALPHABET).not.toContain(ch);
		expect(DEFAULT_ALPHABET.length).toBe(31);
		expect(new Set(DEFAULT_ALPHABET).size).toBe(31);
	});
});

describe('generate', () => {
	it('makes the requested number of distinct codes of the default format', () => {
		const codes = new CodeGenerator().generate(20_000);
		expect(codes).toHaveLength(20_000);
		expect(new Set(codes).size).toBe(20_000);
		for (const code of codes.slice(0, 500))
			expect(code).toMatch(/^[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{8}$/);
	});

	it('draws each random position uniformly (chi-square well below the 0.1% critical value)', () => {
		const generator = new CodeGenerator({
			checkCharacter: false,
			blockRudeWords: false,
			length: 4,
		});
		const codes = generator.generate(62_000);
		for (let position = 0; position < 4; position++) {
			const counts = new Map<string, number>();
			for (const code of codes) counts.set(code[position], (counts.get(code[position]) ?? 0) + 1);
			expect(counts.size).toBe(31);
			const expected = codes.length / 31;
			let chi = 0;
			for (const count of counts.values()) chi += (count - expected) ** 2 / expected;
			// 30 degrees of freedom: P(chi² > 59.7) = 0.001
			expect(chi).toBeLessThan(59.7);
		}
	});

	it('lays codes out by pattern with prefix, suffix and lower case', () => {
		const codes = new CodeGenerator({
			pattern: 'XXXX-XXXX',
			prefix: 'REF-',
			suffix: '!',
			case: 'lower',
		}).generate(100);
		for (const code of codes)
			expect(code).toMatch(/^REF-[2-9a-hj-km-np-z]{4}-[2-9a-hj-km-np-z]{4}!$/);
	});

	it('never issues a code containing a blocked word, leet spellings included', () => {
		const blocklist = createBlocklist();
		// Three letters only makes rude words frequent, so the filter really has to work.
		const codes = new CodeGenerator({
			alphabet: 'ACFKSTU4',
			length: 6,
			checkCharacter: false,
		}).generate(5_000);
		for (const code of codes) expect(blocklist.contains(code)).toBeUndefined();
		expect(blocklist.contains('XXFUKX')).toBe('FUK');
		expect(blocklist.contains('Q4SS7')).toBe('ASS');
		expect(blocklist.contains('ZZ5H1TZ')).toBe('SHIT');
	});

	it('reports entropy and the collision probability for the requested count', () => {
		const generator = new CodeGenerator({ length: 8 });
		const report = generator.describe(1_000_000);
		expect(report.space).toBe(31 ** 7);
		expect(report.entropyBits).toBeCloseTo(7 * Math.log2(31), 2);
		expect(report.collisionProbability).toBeCloseTo(
			1 - Math.exp(-(1e6 * (1e6 - 1)) / (2 * 31 ** 7)),
			6,
		);
		expect(collisionProbability(1, 10)).toBe(0);
		expect(collisionProbability(11, 10)).toBe(1);
	});
});

describe('check character', () => {
	const alphabets = [DEFAULT_ALPHABET, '0123456789', '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ'];
	for (const alphabet of alphabets) {
		it(`catches every single substitution and adjacent transposition (alphabet of ${alphabet.length})`, () => {
			const format = parseCodeFormat({ alphabet, length: 8, blockRudeWords: false });
			const generator = new CodeGenerator(format);
			const symbols = format.alphabet.symbols;
			for (const code of generator.generate(200)) {
				expect(normalizeCode(format, code).valid).toBe(true);
				for (let i = 0; i < code.length; i++) {
					for (const replacement of symbols) {
						if (replacement === code[i]) continue;
						const typo = code.slice(0, i) + replacement + code.slice(i + 1);
						expect(normalizeCode(format, typo).problem, typo).toBe('check_character_mismatch');
					}
					if (i + 1 < code.length && code[i] !== code[i + 1]) {
						const swapped = code.slice(0, i) + code[i + 1] + code[i] + code.slice(i + 2);
						expect(normalizeCode(format, swapped).problem, swapped).toBe(
							'check_character_mismatch',
						);
					}
				}
			}
		});
	}
});

describe('normalize', () => {
	const format = parseCodeFormat({ pattern: 'XXXX-XXXX', prefix: 'REF-' });
	const code = new CodeGenerator(format).next();

	it('accepts what people type: case, spaces, dashes, missing prefix', () => {
		const body = code.slice(4).replace('-', '');
		for (const typed of [
			code,
			code.toLowerCase(),
			` ${body.slice(0, 2)} ${body.slice(2)} `,
			`ref ${body.toLowerCase()}`,
		]) {
			expect(normalizeCode(format, typed)).toEqual({
				canonical: code,
				valid: true,
				checkCharacterValid: true,
			});
		}
	});

	it('maps look-alikes only where one reading fits the alphabet', () => {
		const digits = parseCodeFormat({ alphabet: '0123456789', length: 6 });
		const valid = new CodeGenerator(digits).next();
		const typed = valid.replace(/0/g, 'O').replace(/1/g, 'l');
		expect(normalizeCode(digits, typed).canonical).toBe(valid);
		// The default alphabet has neither 0 nor O: an O cannot be read either way.
		const result = normalizeCode(format, 'REF-OOOO-OOOO');
		expect(result.valid).toBe(false);
		expect(result.problem).toBe('invalid_character');
		expect(result.reason).toContain('"O"');
	});

	it('explains what is wrong', () => {
		expect(normalizeCode(format, 42).problem).toBe('wrong_length');
		expect(normalizeCode(format, { code: 'x' }).problem).toBe('not_text');
		expect(normalizeCode(format, null).reason).toBe('A code must be text, got null');
		expect(normalizeCode(format, '  - ').problem).toBe('empty');
		expect(normalizeCode(format, 'ABC').reason).toContain('have 8 characters');
		expect(normalizeCode(format, 'x'.repeat(300)).problem).toBe('too_long');
		expect(engineError(() => requireCode(format, 'ABC', 'referralCode')).field).toBe(
			'referralCode',
		);
	});
});

describe('vanity codes', () => {
	const format = parseCodeFormat({});
	it('accepts a code in the alphabet, in canonical case', () => {
		expect(checkVanityCode(format, ' anna-2345 ')).toEqual({
			canonical: 'ANNA-2345',
			valid: true,
			reasons: [],
		});
		expect(checkVanityCode(parseCodeFormat({ case: 'lower' }), 'ANNA-2345').canonical).toBe(
			'anna-2345',
		);
		expect(checkVanityCode(format, 'anna-2026').reasons).toEqual([expect.stringContaining('"0"')]);
	});
	it('lists every broken rule', () => {
		expect(checkVanityCode(format, 'SUMMER-23').valid).toBe(true);
		const bad = checkVanityCode(format, 'OLIVIA');
		expect(bad.valid).toBe(false);
		expect(bad.reasons[0]).toContain('"O", "L", "I"');
		expect(checkVanityCode(format, 'XY').reasons[0]).toContain('4 to 32 characters');
		expect(checkVanityCode(format, 'SUCKERS').reasons).toEqual([
			'The code contains a blocked word (SUCK)',
		]);
		expect(checkVanityCode(format, '--AB').reasons).toContain(
			'Separators may only stand singly between characters',
		);
		expect(checkVanityCode(format, 7).valid).toBe(false);
	});
});

describe('bad format options', () => {
	it('names the parameter and says what is valid', () => {
		expect(engineError(() => parseCodeFormat({ length: 0 }))).toMatchObject({
			field: 'length',
			code: 'invalid_length',
		});
		expect(engineError(() => parseCodeFormat({ length: 1 })).message).toContain(
			'at least 2 characters',
		);
		expect(engineError(() => parseCodeFormat({ alphabet: 'ABCA' }))).toMatchObject({
			field: 'alphabet',
		});
		expect(engineError(() => parseCodeFormat({ alphabet: 'abcA' })).message).toContain(
			'"A" more than once',
		);
		expect(engineError(() => parseCodeFormat({ pattern: '----' }))).toMatchObject({
			field: 'pattern',
			code: 'invalid_pattern',
		});
		expect(engineError(() => parseCodeFormat({ pattern: 'RXXX' })).message).toContain(
			'Prefix or Suffix',
		);
		expect(engineError(() => parseCodeFormat({ case: 'title' as never }))).toMatchObject({
			field: 'case',
		});
		expect(engineError(() => parseCodeFormat({ prefix: 'with space' }))).toMatchObject({
			field: 'prefix',
		});
	});

	it('refuses a count larger than the space allows', () => {
		const generator = new CodeGenerator({ alphabet: '0123456789', length: 3 });
		const error = engineError(() => generator.generate(200));
		expect(error).toMatchObject({ field: 'count', code: 'space_too_small' });
		expect(error.message).toContain('only 90 possible codes');
		expect(engineError(() => generator.generate(0))).toMatchObject({ code: 'invalid_count' });
		expect(engineError(() => generator.generate(1.5))).toMatchObject({ code: 'invalid_count' });
		expect(generator.generate(45)).toHaveLength(45);
	});
});
