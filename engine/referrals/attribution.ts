import type { ReferralStatus } from './lifecycle';
import {
	requireOneOf,
	requireRange,
	requireRecord,
	requireText,
	requireTime,
} from '../shared/guards';
import { DAY_MS, MINUTE_MS } from '../shared/time';

/**
 * Which referrer gets credit for a referee: the attribution window (how long after touching a
 * referral link or code a sign-up still counts) and, when a referee arrives through two
 * referrers, first-touch (the earlier keeps it) or last-touch (the later takes it over).
 */

export const ATTRIBUTION_MODELS = ['first_touch', 'last_touch'] as const;
export type AttributionModel = (typeof ATTRIBUTION_MODELS)[number];

export interface AttributionSettings {
	/** Days after the touch during which a sign-up is credited to the referrer. */
	windowDays: number;
	model: AttributionModel;
	/** Tolerance for a touch time slightly after the sign-up time, from clocks that disagree. */
	clockSkewMinutes: number;
}

export const DEFAULT_ATTRIBUTION: AttributionSettings = Object.freeze({
	windowDays: 30,
	model: 'first_touch',
	clockSkewMinutes: 5,
});

export function validateAttributionSettings(input: unknown = {}): AttributionSettings {
	const raw = input === undefined || input === null ? {} : requireRecord(input, 'attribution');
	return {
		windowDays: requireRange(
			raw.windowDays ?? DEFAULT_ATTRIBUTION.windowDays,
			'attributionWindowDays',
			0.01,
			3650,
		),
		model: requireOneOf(
			raw.model ?? DEFAULT_ATTRIBUTION.model,
			'attributionModel',
			ATTRIBUTION_MODELS,
		),
		clockSkewMinutes: requireRange(
			raw.clockSkewMinutes ?? DEFAULT_ATTRIBUTION.clockSkewMinutes,
			'clockSkewMinutes',
			0,
			1440,
		),
	};
}

export type WindowVerdict =
	| { within: true; ageMs: number }
	| {
			within: false;
			ageMs: number;
			reason: 'window_elapsed' | 'touch_after_signup';
			detail: string;
	  };

/** Whether a sign-up at `signUpAt` still falls in the window opened by a touch at `touchAt` (end inclusive). */
export function checkAttributionWindow(
	touchAt: number | string | Date,
	signUpAt: number | string | Date,
	settings: Pick<AttributionSettings, 'windowDays'> &
		Partial<Pick<AttributionSettings, 'clockSkewMinutes'>>,
): WindowVerdict {
	const touch = requireTime(touchAt, 'touchedAt');
	const signUp = requireTime(signUpAt, 'signedUpAt');
	const ageMs = signUp - touch;
	const skewMs = (settings.clockSkewMinutes ?? DEFAULT_ATTRIBUTION.clockSkewMinutes) * MINUTE_MS;
	if (ageMs < -skewMs) {
		return {
			within: false,
			ageMs,
			reason: 'touch_after_signup',
			detail: 'The referral touch is later than the sign-up.',
		};
	}
	if (ageMs > settings.windowDays * DAY_MS) {
		return {
			within: false,
			ageMs,
			reason: 'window_elapsed',
			detail: `The sign-up came ${(ageMs / DAY_MS).toFixed(1)} days after the touch; the window is ${settings.windowDays} days.`,
		};
	}
	return { within: true, ageMs: Math.max(0, ageMs) };
}

export interface Touch {
	referrerId: string;
	/** When the referee used the link or code (epoch ms). */
	touchedAt: number;
	code?: string;
	referralId?: string;
}

export interface AttributionChoice {
	winner: Touch | null;
	considered: Array<{ touch: Touch; eligible: boolean; reason?: string }>;
}

/**
 * Picks the credited touch among all of a referee's touches: only touches whose window covers the
 * sign-up count, then the earliest (first-touch) or latest (last-touch). Equal times fall back
 * to the referrer id so the choice never depends on input order.
 */
export function pickAttribution(
	touches: readonly Touch[],
	signUpAt: number | string | Date,
	settings: AttributionSettings,
): AttributionChoice {
	const signUp = requireTime(signUpAt, 'signedUpAt');
	const considered = touches.map((touch, i) => {
		requireText(touch.referrerId, `touches[${i}].referrerId`);
		const verdict = checkAttributionWindow(touch.touchedAt, signUp, settings);
		return verdict.within
			? { touch, eligible: true }
			: { touch, eligible: false, reason: verdict.detail };
	});
	const eligible = considered
		.filter((c) => c.eligible)
		.map((c) => c.touch)
		.sort(
			(a, b) =>
				a.touchedAt - b.touchedAt ||
				(a.referrerId < b.referrerId ? -1 : a.referrerId > b.referrerId ? 1 : 0),
		);
	const winner =
		eligible.length === 0
			? null
			: settings.model === 'first_touch'
				? eligible[0]
				: eligible[eligible.length - 1];
	return { winner, considered };
}

/** Once converted, a referral's referrer is fixed: last-touch never takes over a customer already credited. */
const LOCKED: ReadonlySet<ReferralStatus> = new Set(['qualified', 'reversed']);

export interface ExistingAttribution {
	referralId: string;
	referrerId: string;
	touchedAt: number;
	status: ReferralStatus;
}

export type RepeatArrivalOutcome =
	| { outcome: 'same_referrer'; reason: string }
	| { outcome: 'keep_existing'; reason: string }
	| { outcome: 'switch_to_incoming'; reason: string };

/**
 * A referee who already has a referral arrives again through a referrer's code or link. Says
 * whether the existing referral stays, or the incoming referrer takes the referee over (the
 * service then rejects or replaces the old referral and records the new one).
 */
export function resolveRepeatArrival(
	existing: ExistingAttribution,
	incoming: Touch,
	settings: AttributionSettings,
): RepeatArrivalOutcome {
	requireText(existing.referrerId, 'existing.referrerId');
	requireText(incoming.referrerId, 'referrerId');
	const incomingAt = requireTime(incoming.touchedAt, 'touchedAt');
	if (existing.referrerId === incoming.referrerId) {
		return {
			outcome: 'same_referrer',
			reason: 'The referee came back through the same referrer; the existing referral stands.',
		};
	}
	if (LOCKED.has(existing.status)) {
		return {
			outcome: 'keep_existing',
			reason: `The existing referral ${existing.referralId} is already ${existing.status}; a converted referee stays with its referrer.`,
		};
	}
	if (existing.status === 'rejected') {
		return {
			outcome: 'switch_to_incoming',
			reason: `The existing referral ${existing.referralId} was rejected.`,
		};
	}
	if (incomingAt - existing.touchedAt > settings.windowDays * DAY_MS) {
		return {
			outcome: 'switch_to_incoming',
			reason: `The existing referral's ${settings.windowDays}-day attribution window had closed when the referee arrived again.`,
		};
	}
	// Compare touch times, not call order: webhooks and retries arrive out of order. Ties keep the existing.
	const incomingIsLater = incomingAt > existing.touchedAt;
	const incomingIsEarlier = incomingAt < existing.touchedAt;
	if (settings.model === 'first_touch') {
		return incomingIsEarlier
			? {
					outcome: 'switch_to_incoming',
					reason: 'First-touch attribution: the incoming touch is the earlier one.',
				}
			: {
					outcome: 'keep_existing',
					reason: 'First-touch attribution: the earlier referrer keeps the referee.',
				};
	}
	if (!incomingIsLater) {
		return {
			outcome: 'keep_existing',
			reason: 'Last-touch attribution: the existing touch is not older than the incoming one.',
		};
	}
	return {
		outcome: 'switch_to_incoming',
		reason: 'Last-touch attribution: the latest referrer takes the referee over.',
	};
}
