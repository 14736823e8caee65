import { describe, expect, it } from 'vitest';
import { dayFromCivil, formatDay, parseDay } from '../../../engine/analytics/dates';
import { groupTransactions } from '../../../engine/analytics/transactions';
import { EngineError } from '../../../engine/shared/errors';

const day = (iso: string): number => Date.parse(iso + 'T00:00:00Z') / 86_400_000;

describe('parseDay', () => {
	it('reads ISO dates, YYYYMMDD text and numbers, epoch milliseconds and Date as UTC days', () => {
		const expected = day('1997-01-12');
		expect(parseDay('1997-01-12')).toBe(expected);
		expect(parseDay('19970112')).toBe(expected);
		expect(parseDay(19970112)).toBe(expected);
		expect(parseDay(Date.UTC(1997, 0, 12, 23, 59))).toBe(expected);
		expect(parseDay(new Date(Date.UTC(1997, 0, 12, 5)))).toBe(expected);
		expect(parseDay('1997-01-12T23:30:00Z')).toBe(expected);
		expect(parseDay('1997-01-12 10:00')).toBe(expected);
	});

	it('moves date-times with an offset to their UTC day', () => {
		expect(parseDay('2024-03-05T23:30:00-02:00')).toBe(day('2024-03-06'));
		expect(parseDay('2024-03-05T00:30:00+01:00')).toBe(day('2024-03-04'));
		expect(parseDay('2024-03-05T12:00:00.250+0530')).toBe(day('2024-03-05'));
	});

	it('refuses what it cannot read unambiguously', () => {
		for (const bad of [
			'2024-02-30',
			'20230229',
			'03/05/2024',
			'yesterday',
			'',
			'2024-13-01',
			'2024-00-10',
			'2024-1-011',
			'2024/01/01',
			'20a4-01-01',
			'2024-01-01T25:00',
			1_700_000_000,
			NaN,
			null,
			undefined,
			{},
			new Date('x'),
		]) {
			expect(parseDay(bad), String(bad)).toBeNaN();
		}
		expect(parseDay('2024-02-29')).toBe(day('2024-02-29'));
		expect(parseDay(' 2024-02-29 ')).toBe(day('2024-02-29'));
	});

	it('dayFromCivil agrees with Date.UTC over four centuries', () => {
		for (let d = day('1900-01-01'); d < day('2300-01-01'); d += 37) {
			const date = new Date(d * 86_400_000);
			expect(dayFromCivil(date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate())).toBe(
				d,
			);
			expect(formatDay(d)).toBe(date.toISOString().slice(0, 10));
			// Plain YYYY-MM-DD takes a path of its own (no regular expression); it must agree.
			expect(parseDay(formatDay(d))).toBe(d);
		}
	});
});

describe('groupTransactions', () => {
	const fields = { customerField: 'id', dateField: 'on', amountField: 'value' };

	it('groups by customer, sorts each customer by day and keeps same-day rows in input order', () => {
		const grouped = groupTransactions(
			[
				{ id: 'b', on: '2024-01-03', value: 5 },
				{ id: 'a', on: '2024-01-02', value: 1 },
				{ id: 'b', on: '2024-01-01', value: 6 },
				{ id: 7, on: 20240105, value: '2.5' },
				{ id: 'b', on: '2024-01-03', value: 7 },
			],
			fields,
		);
		expect(grouped.customers).toEqual(['b', 'a', '7']);
		expect([...grouped.offsets]).toEqual([0, 3, 4, 5]);
		expect([...grouped.days].map(formatDay)).toEqual([
			'2024-01-01',
			'2024-01-03',
			'2024-01-03',
			'2024-01-02',
			'2024-01-05',
		]);
		expect([...grouped.amounts]).toEqual([6, 5, 7, 1, 2.5]);
		expect(formatDay(grouped.firstDay)).toBe('2024-01-01');
		expect(formatDay(grouped.lastDay)).toBe('2024-01-05');
	});

	it('sorts long unsorted histories too', () => {
		const items = Array.from({ length: 500 }, (_, i) => ({
			id: 'x',
			on: Date.UTC(2024, 0, 1) + ((i * 7919) % 500) * 86_400_000,
			value: i,
		}));
		const grouped = groupTransactions(items, fields);
		for (let i = 1; i < 500; i++)
			expect(grouped.days[i]).toBeGreaterThanOrEqual(grouped.days[i - 1]);
		// Each amount still belongs to its own day.
		for (let i = 0; i < 500; i++)
			expect(grouped.days[i] - day('2024-01-01')).toBe((grouped.amounts[i] * 7919) % 500);
	});

	it('leaves out and counts rows it cannot use', () => {
		const grouped = groupTransactions(
			[
				{ id: 'a', on: '2024-01-01', value: 10 },
				{ id: 'a', on: 'not a date', value: 10 },
				{ id: 'a', on: '2024-01-02', value: -3 },
				{ id: '', on: '2024-01-02', value: 3 },
				{ id: 'a', on: '2024-01-02', value: 'ten' },
				{ id: 'a', on: '2024-01-02' },
				{ id: 'a', on: '2024-02-01', value: 1 },
				{ id: 'a', on: '2024-01-05', value: 0 },
			],
			fields,
			day('2024-01-31'),
		);
		expect(grouped.transactions).toBe(2);
		expect(grouped.excluded).toEqual({
			unparseable_date: 1,
			negative_amount: 1,
			missing_customer: 1,
			unparseable_amount: 1,
			missing_amount: 1,
			after_end_date: 1,
		});
	});

	it('rejects an empty input and an input with no usable row, naming the field', () => {
		expect(() => groupTransactions([], fields)).toThrow(EngineError);
		try {
			groupTransactions([{ id: 'a', date: '2024-01-01', value: 1 }], fields);
			expect.unreachable();
		} catch (error) {
			expect(error).toBeInstanceOf(EngineError);
			expect((error as EngineError).code).toBe('no_valid_transactions');
			expect((error as EngineError).field).toBe('on');
			expect((error as EngineError).message).toMatch(/1 unparseable date/);
		}
		expect(() =>
			groupTransactions([{ id: 'a', on: '2024-01-01', value: 1 }], { ...fields, dateField: '' }),
		).toThrow(/dateField/);
	});
});
