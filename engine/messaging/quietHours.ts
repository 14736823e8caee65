/* Quiet hours in the recipient's own time zone (TCPA: no solicitation before 8 a.m. or after 9 p.m.
 * local time). A message outside the window is deferred to the next time the window opens, computed
 * on the wall clock of that zone, so daylight-saving changes move the instant, not the local hour. */
import { EngineError } from '../shared/errors';
import {
	wallClockAt as wallAt,
	wallClockMs as wallMs,
	zoneOffsetAt as offsetAt,
} from '../shared/time';

export interface QuietHoursOptions {
	/** The recipient's IANA time zone, e.g. "America/New_York". */
	timeZone: string;
	/** Local time sending may start, "HH:MM"; default "08:00". */
	start?: string;
	/** Local time sending must stop, "HH:MM" (exclusive; "24:00" allowed); default "21:00". */
	end?: string;
}

export type QuietHoursDecision =
	{ allowed: true; localTime: string } | { allowed: false; localTime: string; deferUntil: Date };

export const DEFAULT_QUIET_HOURS = { start: '08:00', end: '21:00' } as const;

/**
 * The first instant at which the zone's clock reads `target` (given as wall-clock ms).
 * Ambiguous times (clocks going back) give the earlier instant; times skipped by clocks going forward
 * give the moment of the jump, the first instant the local clock is past the target.
 */
export function zonedWallTimeToInstant(target: number, timeZone: string): Date {
	const before = offsetAt(target - 86_400_000, timeZone);
	const after = offsetAt(target + 86_400_000, timeZone);
	const candidates = [target - before, target - after].filter(
		(instant) => wallMs(wallAt(instant, timeZone)) === target,
	);
	if (candidates.length > 0) return new Date(Math.min(...candidates));
	// In a gap: the wall clock jumps over the target between these two instants.
	let low = Math.min(target - before, target - after);
	let high = Math.max(target - before, target - after);
	while (high - low > 1000) {
		const middle = Math.floor((low + high) / 2000) * 1000;
		if (wallMs(wallAt(middle, timeZone)) >= target) high = middle;
		else low = middle;
	}
	return new Date(high);
}

function parseClock(value: string, name: 'start' | 'end'): number {
	const match = /^(\d{1,2}):(\d{2})$/.exec(value.trim());
	const hours = match ? Number(match[1]) : NaN;
	const minutes = match ? Number(match[2]) : NaN;
	const valid =
		match !== null &&
		minutes < 60 &&
		(hours < 24 || (name === 'end' && hours === 24 && minutes === 0));
	if (!valid) {
		throw new EngineError(
			'invalid_quiet_hours',
			`Quiet hours ${name} "${value}" is not a time of day; use HH:MM such as "08:00".`,
			{
				field: name === 'start' ? 'quietHoursStart' : 'quietHoursEnd',
			},
		);
	}
	return hours * 60 + minutes;
}

function pad(value: number): string {
	return String(value).padStart(2, '0');
}

/** May a message go to this recipient now? If not, when may it? */
export function checkQuietHours(now: Date, options: QuietHoursOptions): QuietHoursDecision {
	if (typeof options.timeZone !== 'string' || options.timeZone.trim() === '') {
		throw new EngineError(
			'invalid_time_zone',
			'The recipient time zone is missing; give an IANA name such as "America/New_York".',
			{ field: 'timeZone' },
		);
	}
	const timeZone = options.timeZone.trim();
	const start = parseClock(options.start ?? DEFAULT_QUIET_HOURS.start, 'start');
	const end = parseClock(options.end ?? DEFAULT_QUIET_HOURS.end, 'end');
	if (start === end) {
		throw new EngineError(
			'invalid_quiet_hours',
			'Quiet hours start and end are equal, which leaves no time to send; make them differ.',
			{
				field: 'quietHoursEnd',
			},
		);
	}
	const wall = wallAt(now.getTime(), timeZone);
	const minute = wall.hour * 60 + wall.minute;
	const localTime = `${pad(wall.hour)}:${pad(wall.minute)}`;
	// A window such as 22:00–06:00 runs over midnight.
	const allowed = start < end ? minute >= start && minute < end : minute >= start || minute < end;
	if (allowed) return { allowed: true, localTime };
	const daysAhead = minute < start ? 0 : 1;
	const target = Date.UTC(
		wall.year,
		wall.month - 1,
		wall.day + daysAhead,
		Math.floor(start / 60),
		start % 60,
		0,
	);
	return { allowed: false, localTime, deferUntil: zonedWallTimeToInstant(target, timeZone) };
}
