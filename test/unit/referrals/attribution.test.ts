import { describe, expect, it } from 'vitest';

import {
	checkAttributionWindow,
	pickAttribution,
	resolveRepeatArrival,
	validateAttributionSettings,
	type AttributionSettings,
} from '../../../engine/referrals/attribution';
import { EngineError } from '../../../engine/shared/errors';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 10);
const first: AttributionSettings = { windowDays: 30, model: 'first_touch', clockSkewMinutes: 5 };
const last: AttributionSettings = { ...first, model: 'last_touch' };

describe('attribution window', () => {
	it('includes the last instant of the window and excludes the next', () => {
		expect(checkAttributionWindow(T0, T0 + 30 * DAY, first).within).toBe(true);
		const late = checkAttributionWindow(T0, T0 + 30 * DAY + 1, first);
		expect(late).toMatchObject({ within: false, reason: 'window_elapsed' });
	});

	it('accepts a touch at sign-up and small clock skew, refuses a touch after sign-up', () => {
		expect(checkAttributionWindow(T0, T0, first).within).toBe(true);
		expect(checkAttributionWindow(T0 + 5 * 60_000, T0, first).within).toBe(true);
		expect(checkAttributionWindow(T0 + 5 * 60_000 + 1, T0, first)).toMatchObject({
			within: false,
			reason: 'touch_after_signup',
		});
	});

	it('accepts ISO times and names bad ones', () => {
		expect(checkAttributionWindow('2026-01-01T00:00:00Z', '2026-01-02T00:00:00Z', first)).toEqual({
			within: true,
			ageMs: DAY,
		});
		try {
			checkAttributionWindow('soon', T0, first);
			expect.unreachable();
		} catch (error) {
			expect((error as EngineError).field).toBe('touchedAt');
		}
	});

	it('validates settings', () => {
		expect(validateAttributionSettings({})).toEqual({
			windowDays: 30,
			model: 'first_touch',
			clockSkewMinutes: 5,
		});
		expect(validateAttributionSettings({ windowDays: 90, model: 'last_touch' }).model).toBe(
			'last_touch',
		);
		for (const [input, field] of [
			[{ windowDays: 0 }, 'attributionWindowDays'],
			[{ windowDays: -3 }, 'attributionWindowDays'],
			[{ model: 'linear' }, 'attributionModel'],
		] as const) {
			try {
				validateAttributionSettings(input);
				expect.unreachable();
			} catch (error) {
				expect((error as EngineError).field).toBe(field);
			}
		}
	});
});

describe('choosing among touches', () => {
	const touches = [
		{ referrerId: 'carol', touchedAt: T0 - 40 * DAY },
		{ referrerId: 'alice', touchedAt: T0 - 10 * DAY },
		{ referrerId: 'bob', touchedAt: T0 - 2 * DAY },
	];

	it('first-touch takes the earliest touch still inside the window', () => {
		const choice = pickAttribution(touches, T0, first);
		expect(choice.winner?.referrerId).toBe('alice');
		expect(choice.considered.find((c) => c.touch.referrerId === 'carol')).toMatchObject({
			eligible: false,
		});
	});

	it('last-touch takes the latest', () => {
		expect(pickAttribution(touches, T0, last).winner?.referrerId).toBe('bob');
	});

	it('returns no winner when every touch is outside the window', () => {
		expect(pickAttribution([touches[0]], T0, first).winner).toBeNull();
	});

	it('does not depend on input order for equal times', () => {
		const tie = [
			{ referrerId: 'zed', touchedAt: T0 - DAY },
			{ referrerId: 'amy', touchedAt: T0 - DAY },
		];
		expect(pickAttribution(tie, T0, first).winner?.referrerId).toBe('amy');
		expect(pickAttribution([...tie].reverse(), T0, first).winner?.referrerId).toBe('amy');
		expect(pickAttribution(tie, T0, last).winner?.referrerId).toBe('zed');
	});
});

describe('a referee arriving twice', () => {
	const existing = {
		referralId: 'r1',
		referrerId: 'alice',
		touchedAt: T0,
		status: 'pending' as const,
	};
	const incoming = { referrerId: 'bob', touchedAt: T0 + 3 * DAY };

	it('first-touch keeps the existing referrer, last-touch switches', () => {
		expect(resolveRepeatArrival(existing, incoming, first).outcome).toBe('keep_existing');
		expect(resolveRepeatArrival(existing, incoming, last).outcome).toBe('switch_to_incoming');
	});

	it('recognises the same referrer', () => {
		expect(
			resolveRepeatArrival(existing, { referrerId: 'alice', touchedAt: T0 + DAY }, last).outcome,
		).toBe('same_referrer');
	});

	it('never moves a converted referee, even with last-touch', () => {
		for (const status of ['qualified', 'reversed'] as const) {
			expect(resolveRepeatArrival({ ...existing, status }, incoming, last).outcome).toBe(
				'keep_existing',
			);
		}
	});

	it('lets the new referrer in when the old referral was rejected or its window closed', () => {
		expect(resolveRepeatArrival({ ...existing, status: 'rejected' }, incoming, first).outcome).toBe(
			'switch_to_incoming',
		);
		const afterWindow = { referrerId: 'bob', touchedAt: T0 + 31 * DAY };
		const result = resolveRepeatArrival(existing, afterWindow, first);
		expect(result.outcome).toBe('switch_to_incoming');
		expect(result.reason).toMatch(/30-day/);
	});

	it('last-touch compares touch times, not arrival order', () => {
		const older = { referrerId: 'bob', touchedAt: T0 - DAY };
		expect(resolveRepeatArrival(existing, older, last).outcome).toBe('keep_existing');
	});
});

describe('out-of-order arrivals', () => {
	const existing = {
		referralId: 'r1',
		referrerId: 'alice',
		touchedAt: Date.UTC(2026, 0, 10),
		status: 'pending' as const,
	};
	const earlier = { referrerId: 'bob', touchedAt: Date.UTC(2026, 0, 9) };

	it('first-touch gives the referee to the earlier touch even when it is reported later', () => {
		expect(
			resolveRepeatArrival(existing, earlier, {
				windowDays: 30,
				model: 'first_touch',
				clockSkewMinutes: 5,
			}).outcome,
		).toBe('switch_to_incoming');
	});

	it('an equal touch time keeps the existing referral under both models', () => {
		const same = { referrerId: 'bob', touchedAt: existing.touchedAt };
		expect(
			resolveRepeatArrival(existing, same, {
				windowDays: 30,
				model: 'first_touch',
				clockSkewMinutes: 5,
			}).outcome,
		).toBe('keep_existing');
		expect(
			resolveRepeatArrival(existing, same, {
				windowDays: 30,
				model: 'last_touch',
				clockSkewMinutes: 5,
			}).outcome,
		).toBe('keep_existing');
	});
});
