import { EngineError } from './errors';

/** Durations in milliseconds: the one definition every domain uses. */
export const MINUTE_MS = 60_000;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;

/** A local wall-clock reading in an IANA time zone. */
export interface WallClock {
	year: number;
	month: number;
	day: number;
	/** 0 = Monday … 6 = Sunday. */
	weekday: number;
	hour: number;
	minute: number;
	second: number;
}

const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
const formatters = new Map<string, Intl.DateTimeFormat>();

/** The (cached) formatter for a zone; an unknown zone is an EngineError on `timeZone`. */
function formatterFor(timeZone: string): Intl.DateTimeFormat {
	let formatter = formatters.get(timeZone);
	if (formatter === undefined) {
		try {
			formatter = new Intl.DateTimeFormat('en-US', {
				timeZone,
				hourCycle: 'h23',
				year: 'numeric',
				month: 'numeric',
				day: 'numeric',
				hour: 'numeric',
				minute: 'numeric',
				second: 'numeric',
				weekday: 'short',
			});
		} catch {
			throw new EngineError(
				'invalid_time_zone',
				`"${timeZone}" is not an IANA time zone; use a name such as "America/New_York", "Europe/Berlin" or "UTC".`,
				{
					field: 'timeZone',
				},
			);
		}
		formatters.set(timeZone, formatter);
	}
	return formatter;
}

/** Throws unless `timeZone` is a zone Intl knows. */
export function checkTimeZone(timeZone: string): void {
	formatterFor(timeZone);
}

/** What a clock in `timeZone` reads at `instant` (epoch ms). */
export function wallClockAt(instant: number, timeZone: string): WallClock {
	const parts: Record<string, string> = {};
	for (const part of formatterFor(timeZone).formatToParts(instant))
		if (part.type !== 'literal') parts[part.type] = part.value;
	return {
		year: Number(parts.year),
		month: Number(parts.month),
		day: Number(parts.day),
		weekday: WEEKDAYS.indexOf(parts.weekday),
		hour: Number(parts.hour),
		minute: Number(parts.minute),
		second: Number(parts.second),
	};
}

/** The wall-clock reading as if it were UTC, for arithmetic on local times. */
export function wallClockMs(wall: WallClock): number {
	return Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second);
}

/** Offset of the zone from UTC at an instant, in ms (positive east of Greenwich). */
export function zoneOffsetAt(instant: number, timeZone: string): number {
	const whole = Math.floor(instant / 1000) * 1000;
	return wallClockMs(wallClockAt(whole, timeZone)) - whole;
}
