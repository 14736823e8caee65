import { describe, expect, it } from 'vitest';

import { EngineError } from '../../../engine/shared/errors';
import { isInWindow, periodWindow } from '../../../engine/shared/periods';

const at = Date.UTC(2026, 2, 18, 15, 30); // Wednesday 18 March 2026, 15:30 UTC

describe('calendar windows', () => {
	it('in UTC', () => {
		expect(periodWindow('day', at)).toEqual({
			start: Date.UTC(2026, 2, 18),
			end: Date.UTC(2026, 2, 19),
		});
		expect(periodWindow('week', at)).toEqual({
			start: Date.UTC(2026, 2, 16),
			end: Date.UTC(2026, 2, 23),
		});
		expect(periodWindow('month', at)).toEqual({
			start: Date.UTC(2026, 2, 1),
			end: Date.UTC(2026, 3, 1),
		});
		expect(periodWindow('year', at)).toEqual({
			start: Date.UTC(2026, 0, 1),
			end: Date.UTC(2027, 0, 1),
		});
		expect(periodWindow('lifetime', at)).toEqual({ start: null, end: null });
	});

	it('weeks start on Monday, also when `at` is a Sunday or a Monday midnight', () => {
		const sunday = Date.UTC(2026, 2, 22, 23, 59);
		expect(periodWindow('week', sunday).start).toBe(Date.UTC(2026, 2, 16));
		const monday = Date.UTC(2026, 2, 23);
		expect(periodWindow('week', monday).start).toBe(monday);
	});

	it('month and year ends roll over', () => {
		expect(periodWindow('month', Date.UTC(2026, 11, 31, 23))).toEqual({
			start: Date.UTC(2026, 11, 1),
			end: Date.UTC(2027, 0, 1),
		});
		expect(periodWindow('day', Date.UTC(2028, 1, 28, 12)).end).toBe(Date.UTC(2028, 1, 29));
	});

	it('in a time zone, across a daylight-saving change', () => {
		// Europe/Berlin switches to summer time on 29 March 2026 at 02:00 local (01:00 UTC).
		const sunday = Date.UTC(2026, 2, 29, 12);
		const day = periodWindow('day', sunday, { timeZone: 'Europe/Berlin' });
		expect(day.start).toBe(Date.UTC(2026, 2, 28, 23)); // 00:00 CET
		expect(day.end).toBe(Date.UTC(2026, 2, 29, 22)); // 00:00 CEST next day: a 23-hour day
		const month = periodWindow('month', Date.UTC(2026, 3, 15), { timeZone: 'Europe/Berlin' });
		expect(month).toEqual({ start: Date.UTC(2026, 2, 31, 22), end: Date.UTC(2026, 3, 30, 22) });
		// 23:30 UTC on 31 March is already 1 April in Berlin.
		expect(
			periodWindow('month', Date.UTC(2026, 2, 31, 23, 30), { timeZone: 'Europe/Berlin' }).start,
		).toBe(Date.UTC(2026, 2, 31, 22));
	});

	it('west of UTC', () => {
		const win = periodWindow('day', Date.UTC(2026, 6, 1, 3), { timeZone: 'America/New_York' });
		expect(win).toEqual({ start: Date.UTC(2026, 5, 30, 4), end: Date.UTC(2026, 6, 1, 4) });
	});
});

describe('rolling windows', () => {
	it('reach back exactly N days, end inclusive', () => {
		const win = periodWindow('week', at, { mode: 'rolling' });
		expect(isInWindow(win, at)).toBe(true);
		expect(isInWindow(win, at - 7 * 86_400_000 + 1)).toBe(true);
		expect(isInWindow(win, at - 7 * 86_400_000)).toBe(false);
		expect(isInWindow(win, at + 1)).toBe(false);
	});
});

describe('bad input', () => {
	it.each([
		[() => periodWindow('fortnight' as never, at), 'period'],
		[() => periodWindow('day', 'not a date'), 'at'],
		[() => periodWindow('day', at, { timeZone: 'Mars/Olympus' }), 'timeZone'],
		[() => periodWindow('day', at, { mode: 'sliding' as never }), 'mode'],
	])('names the field (%#)', (fn, field) => {
		try {
			fn();
			expect.unreachable();
		} catch (error) {
			expect(error).toBeInstanceOf(EngineError);
			expect((error as EngineError).field).toBe(field);
		}
	});
});
