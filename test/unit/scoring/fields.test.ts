import { describe, expect, it } from 'vitest';
import { parseDate, parseFieldPath } from '../../../engine/scoring';
import { engineError } from './helpers';
import { seededRandom } from './synthetic';

describe('parseFieldPath', () => {
	it.each<[string, (string | number)[]]>([
		['email', ['email']],
		['company.size', ['company', 'size']],
		['tags[0]', ['tags', 0]],
		['orders[2].lines[10].sku', ['orders', 2, 'lines', 10, 'sku']],
		['matrix[1][2]', ['matrix', 1, 2]],
		['  first name  ', ['first name']],
	])('%s', (path, segments) => {
		expect(parseFieldPath(path, 'field', 'Rule 1')).toEqual(segments);
	});

	it.each(['', 'a.', '.a', 'a..b', 'a[', 'a]', 'a[-1]', 'a[b]', 'a[0]b', 'constructor.name'])(
		'refuses %j',
		(path) => {
			const error = engineError(() => parseFieldPath(path, 'field', 'Rule 1'));
			expect(error.field).toBe('field');
			expect(error.message).toContain('Rule 1');
		},
	);
});

describe('parseDate', () => {
	it.each<[unknown, string]>([
		['2024-05-01', '2024-05-01T00:00:00.000Z'],
		['2024-05-01T10:30:00Z', '2024-05-01T10:30:00.000Z'],
		['2024-05-01T10:30:00.5+02:00', '2024-05-01T08:30:00.500Z'],
		['2024-05-01T10:30:00-0130', '2024-05-01T12:00:00.000Z'],
		['2024-05-01 10:30', '2024-05-01T10:30:00.000Z'],
		['2024-02-29', '2024-02-29T00:00:00.000Z'],
		['2000-02-29', '2000-02-29T00:00:00.000Z'],
		['1969-12-31T23:59:59.999z', '1969-12-31T23:59:59.999Z'],
		['2024-05-01T10:30:00.123456789Z', '2024-05-01T10:30:00.123Z'],
		['2024-05-01T10:30:00,25 +05', '2024-05-01T05:30:00.250Z'],
		['  2024-05-01T23:59:59-12:00  ', '2024-05-02T11:59:59.000Z'],
		['0099-03-01', '0099-03-01T00:00:00.000Z'],
		[1714557000000, '2024-05-01T09:50:00.000Z'],
		[new Date('2024-05-01T00:00:00Z'), '2024-05-01T00:00:00.000Z'],
	])('reads %j (date-times without an offset as UTC)', (value, iso) => {
		expect(new Date(parseDate(value)).toISOString()).toBe(iso);
	});

	it.each<unknown>([
		'1900-02-29',
		'2024-05-01T10:3',
		'2024-05-01T10:30:00.',
		'2024-05-01T10:30:00.1234567890Z',
		'2024-05-01Zx',
		'2024-05-01T10:30:00+5',
		'2024-05-01T10:30:61Z',
		'2024-05-01T10:30+01:60',
		'2023-02-29',
		'2024-02-31',
		'2024-13-01',
		'2024-05-01T24:00',
		'01/05/2024',
		'May 1, 2024',
		'yesterday',
		'',
		Infinity,
		new Date('x'),
		{},
		true,
	])('refuses %j', (value) => {
		expect(parseDate(value)).toBeNaN();
	});

	it('round-trips every instant toISOString can write, from 1590 to 2380', () => {
		const random = seededRandom(77);
		for (let k = 0; k < 20_000; k++) {
			const ms = Math.floor(-1.2e13 + random() * 2.5e13);
			expect(parseDate(new Date(ms).toISOString())).toBe(ms);
		}
	});
});
