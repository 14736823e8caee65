import { describe, expect, it } from 'vitest';
import { readField } from '../../../nodes/shared/parameters';

describe('readField', () => {
	it('reads dot and list paths', () => {
		expect(readField({ a: { b: [1, { c: 'x' }] } }, 'a.b[1].c')).toBe('x');
	});

	it('takes a number an expression returned as a list position and anything else as no path, without throwing', () => {
		expect(readField(['zero', 'one'], 1 as unknown as string)).toBe('one');
		expect(readField({ a: 1 }, undefined as unknown as string)).toBeUndefined();
		expect(readField({ a: 1 }, { a: 1 } as unknown as string)).toBeUndefined();
	});
});
