import { checkTimeZone, DAY_MS, wallClockAt as localParts, zoneOffsetAt as offsetAt } from './time';
import { requireOneOf, requireTime } from './guards';

/**
 * Reporting periods and cap windows. Stats, leaderboards and reward caps all ask "which
 * day/week/month is this instant in?", so the answer lives here once. The service uses the
 * returned bounds to query the ledger; the rules never read a clock themselves.
 */

export const PERIODS = ['day', 'week', 'month', 'year', 'lifetime'] as const;
export type Period = (typeof PERIODS)[number];

export type WindowMode = 'calendar' | 'rolling';

/** Half-open interval [start, end) in epoch ms; null means unbounded (lifetime). */
export interface TimeWindow {
	start: number | null;
	end: number | null;
}

export interface WindowOptions {
	/** Calendar periods start at local midnight / Monday / the 1st in this IANA zone. Default UTC. */
	timeZone?: string;
	/** Rolling windows end at `at` and reach back 1, 7, 30 or 365 days. Default calendar. */
	mode?: WindowMode;
}

const ROLLING_DAYS: Record<Exclude<Period, 'lifetime'>, number> = {
	day: 1,
	week: 7,
	month: 30,
	year: 365,
};

/** The instant at which a local wall-clock midnight happens; twice-checked because DST moves the offset. */
function localMidnight(year: number, month: number, day: number, timeZone: string): number {
	const wall = Date.UTC(year, month - 1, day);
	const first = wall - offsetAt(wall, timeZone);
	return wall - offsetAt(first, timeZone);
}

export function assertTimeZone(timeZone: string): string {
	checkTimeZone(timeZone);
	return timeZone;
}

/**
 * The window of `period` that contains `at`. Calendar weeks start on Monday (ISO 8601).
 * Rolling windows are (at - N days, at], expressed as [at - N days + 1 ms, at + 1 ms).
 */
export function periodWindow(
	period: Period,
	at: number | string | Date,
	options: WindowOptions = {},
): TimeWindow {
	requireOneOf(period, 'period', PERIODS);
	const instant = requireTime(at, 'at');
	if (period === 'lifetime') return { start: null, end: null };
	const mode = options.mode ?? 'calendar';
	requireOneOf(mode, 'mode', ['calendar', 'rolling'] as const);
	if (mode === 'rolling') {
		return { start: instant - ROLLING_DAYS[period] * DAY_MS + 1, end: instant + 1 };
	}
	const timeZone = options.timeZone ?? 'UTC';
	const p = localParts(instant, timeZone);
	switch (period) {
		case 'day': {
			const next = new Date(Date.UTC(p.year, p.month - 1, p.day + 1));
			return {
				start: localMidnight(p.year, p.month, p.day, timeZone),
				end: localMidnight(
					next.getUTCFullYear(),
					next.getUTCMonth() + 1,
					next.getUTCDate(),
					timeZone,
				),
			};
		}
		case 'week': {
			const monday = new Date(Date.UTC(p.year, p.month - 1, p.day - p.weekday));
			const nextMonday = new Date(Date.UTC(p.year, p.month - 1, p.day - p.weekday + 7));
			return {
				start: localMidnight(
					monday.getUTCFullYear(),
					monday.getUTCMonth() + 1,
					monday.getUTCDate(),
					timeZone,
				),
				end: localMidnight(
					nextMonday.getUTCFullYear(),
					nextMonday.getUTCMonth() + 1,
					nextMonday.getUTCDate(),
					timeZone,
				),
			};
		}
		case 'month': {
			const next = new Date(Date.UTC(p.year, p.month, 1));
			return {
				start: localMidnight(p.year, p.month, 1, timeZone),
				end: localMidnight(next.getUTCFullYear(), next.getUTCMonth() + 1, 1, timeZone),
			};
		}
		case 'year':
			return {
				start: localMidnight(p.year, 1, 1, timeZone),
				end: localMidnight(p.year + 1, 1, 1, timeZone),
			};
	}
}

export function isInWindow(window: TimeWindow, at: number): boolean {
	return (window.start === null || at >= window.start) && (window.end === null || at < window.end);
}
