import { describe, expect, it } from 'vitest';
import { EngineError } from '../../../engine/shared/errors';
import { checkQuietHours, zonedWallTimeToInstant } from '../../../engine/messaging';

const at = (iso: string) => new Date(iso);

describe('quiet hours in the recipient time zone', () => {
	it('allows 08:00 to 20:59 local time by default, and not 21:00', () => {
		const ny = { timeZone: 'America/New_York' };
		expect(checkQuietHours(at('2026-07-01T12:00:00Z'), ny)).toEqual({
			allowed: true,
			localTime: '08:00',
		});
		expect(checkQuietHours(at('2026-07-02T00:59:00Z'), ny)).toEqual({
			allowed: true,
			localTime: '20:59',
		});
		const late = checkQuietHours(at('2026-07-02T01:00:00Z'), ny);
		expect(late.allowed).toBe(false);
		expect(late.localTime).toBe('21:00');
	});

	it('defers a late message to 08:00 local time the next day', () => {
		const decision = checkQuietHours(at('2026-07-02T03:30:00Z'), { timeZone: 'America/New_York' }); // 23:30 EDT
		expect(decision).toEqual({
			allowed: false,
			localTime: '23:30',
			deferUntil: at('2026-07-02T12:00:00Z'),
		});
	});

	it('defers an early message to 08:00 the same local day', () => {
		const decision = checkQuietHours(at('2026-07-02T05:00:00Z'), { timeZone: 'Europe/Berlin' }); // 07:00 CEST
		expect(decision).toEqual({
			allowed: false,
			localTime: '07:00',
			deferUntil: at('2026-07-02T06:00:00Z'),
		});
	});

	it('uses the recipient zone, not the server one: 14:00 UTC is night in Tokyo', () => {
		const decision = checkQuietHours(at('2026-01-15T14:00:00Z'), { timeZone: 'Asia/Tokyo' }); // 23:00 JST
		expect(decision).toEqual({
			allowed: false,
			localTime: '23:00',
			deferUntil: at('2026-01-15T23:00:00Z'),
		});
	});

	it('crosses a spring-forward night: 08:00 local comes one hour earlier in UTC', () => {
		// US DST starts 2026-03-08 at 02:00 local. 22:00 EST on the 7th → 08:00 EDT on the 8th = 12:00Z.
		const decision = checkQuietHours(at('2026-03-08T03:00:00Z'), { timeZone: 'America/New_York' });
		expect(decision).toEqual({
			allowed: false,
			localTime: '22:00',
			deferUntil: at('2026-03-08T12:00:00Z'),
		});
	});

	it('crosses a fall-back night: 08:00 local comes one hour later in UTC', () => {
		// EU DST ends 2026-10-25 at 03:00 local. 22:00 CEST on the 24th → 08:00 CET on the 25th = 07:00Z.
		const decision = checkQuietHours(at('2026-10-24T20:00:00Z'), { timeZone: 'Europe/Berlin' });
		expect(decision).toEqual({
			allowed: false,
			localTime: '22:00',
			deferUntil: at('2026-10-25T07:00:00Z'),
		});
	});

	it('a window start inside the skipped hour opens when the clocks jump', () => {
		// Window 02:30–21:00 on the US spring-forward day: 02:30 never exists; 03:00 EDT (07:00Z) is the first moment after it.
		const decision = checkQuietHours(at('2026-03-08T06:00:00Z'), {
			timeZone: 'America/New_York',
			start: '02:30',
			end: '21:00',
		}); // 01:00 EST
		expect(decision.allowed).toBe(false);
		if (!decision.allowed) expect(decision.deferUntil).toEqual(at('2026-03-08T07:00:00Z'));
	});

	it('a window start inside the repeated hour opens at its first occurrence', () => {
		// 01:30 happens twice in New York on 2026-11-01: first at 05:30Z (EDT), again at 06:30Z (EST).
		expect(zonedWallTimeToInstant(Date.UTC(2026, 10, 1, 1, 30), 'America/New_York')).toEqual(
			at('2026-11-01T05:30:00Z'),
		);
	});

	it('supports custom windows, including ones that run over midnight', () => {
		const florida = { timeZone: 'America/New_York', start: '08:00', end: '20:00' };
		expect(checkQuietHours(at('2026-07-02T00:30:00Z'), florida).allowed).toBe(false); // 20:30
		const night = { timeZone: 'UTC', start: '22:00', end: '06:00' };
		expect(checkQuietHours(at('2026-07-02T23:00:00Z'), night).allowed).toBe(true);
		expect(checkQuietHours(at('2026-07-02T05:59:00Z'), night).allowed).toBe(true);
		expect(checkQuietHours(at('2026-07-02T12:00:00Z'), night)).toEqual({
			allowed: false,
			localTime: '12:00',
			deferUntil: at('2026-07-02T22:00:00Z'),
		});
		expect(
			checkQuietHours(at('2026-07-02T23:59:00Z'), { timeZone: 'UTC', start: '08:00', end: '24:00' })
				.allowed,
		).toBe(true);
	});

	it('rejects unknown time zones and malformed windows with clear errors', () => {
		const expectError = (fn: () => unknown, code: string, pattern: RegExp) => {
			try {
				fn();
				throw new Error('no error');
			} catch (error) {
				expect(error).toBeInstanceOf(EngineError);
				expect((error as EngineError).code).toBe(code);
				expect((error as EngineError).message).toMatch(pattern);
			}
		};
		expectError(
			() => checkQuietHours(new Date(), { timeZone: 'Mars/Olympus' }),
			'invalid_time_zone',
			/"Mars\/Olympus" is not an IANA time zone/,
		);
		expectError(
			() => checkQuietHours(new Date(), { timeZone: '' }),
			'invalid_time_zone',
			/missing/,
		);
		expectError(
			() => checkQuietHours(new Date(), { timeZone: 'UTC', start: '8am' }),
			'invalid_quiet_hours',
			/HH:MM/,
		);
		expectError(
			() => checkQuietHours(new Date(), { timeZone: 'UTC', start: '24:00' }),
			'invalid_quiet_hours',
			/HH:MM/,
		);
		expectError(
			() => checkQuietHours(new Date(), { timeZone: 'UTC', start: '09:00', end: '09:00' }),
			'invalid_quiet_hours',
			/no time to send/,
		);
	});
});
