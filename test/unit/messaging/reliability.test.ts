import { describe, expect, it } from 'vitest';
import { EngineError } from '../../../engine/shared/errors';
import {
	DeliveryError,
	parseRetryAfter,
	retryPolicy,
	SendLimiter,
	SendLimiterRegistry,
	withRetries,
	type Clock,
} from '../../../engine/messaging';

/** A clock whose sleep returns at once and records how long it was asked to wait. */
function fakeClock(start = 1_000_000): Clock & { sleeps: number[] } {
	let now = start;
	const sleeps: number[] = [];
	return {
		sleeps,
		now: () => now,
		sleep: async (ms) => {
			sleeps.push(ms);
			now += ms;
		},
	};
}

/** An attempt function that fails with the given errors in turn, then succeeds. */
function failing(...errors: DeliveryError[]) {
	let calls = 0;
	const attempt = async () => {
		calls++;
		const error = errors.shift();
		if (error) throw error;
		return 'accepted';
	};
	return { attempt, calls: () => calls };
}

const retryable = () => new DeliveryError('retryable', 'Fake', 'HTTP 500');
const policy = retryPolicy({
	maxAttempts: 5,
	initialDelayMs: 500,
	maxDelayMs: 30_000,
	budgetMs: 60_000,
});

describe('Retry-After', () => {
	it('reads delay-seconds and HTTP dates', () => {
		const now = Date.parse('2026-05-01T10:00:00Z');
		expect(parseRetryAfter('2', now)).toBe(2000);
		expect(parseRetryAfter('0.5', now)).toBe(500);
		expect(parseRetryAfter('Fri, 01 May 2026 10:00:30 GMT', now)).toBe(30_000);
		expect(parseRetryAfter('Fri, 01 May 2026 09:00:00 GMT', now)).toBe(0);
		expect(parseRetryAfter(['7'], now)).toBe(7000);
		expect(parseRetryAfter(undefined, now)).toBeUndefined();
		expect(parseRetryAfter('soon', now)).toBeUndefined();
	});
});

describe('retries', () => {
	it('retries retryable failures with exponential backoff under full jitter', async () => {
		const clock = fakeClock();
		const { attempt, calls } = failing(retryable(), retryable(), retryable());
		const outcome = await withRetries(attempt, policy, { clock, random: () => 0.999 });
		expect(outcome).toEqual({ ok: true, value: 'accepted', attempts: 4 });
		expect(calls()).toBe(4);
		// Ceilings 500, 1000, 2000 ms; full jitter scales each by random().
		expect(clock.sleeps).toEqual([500, 999, 1998]);
		const halves = fakeClock();
		await withRetries(failing(retryable(), retryable()).attempt, policy, {
			clock: halves,
			random: () => 0.5,
		});
		expect(halves.sleeps).toEqual([250, 500]);
	});

	it('caps the backoff ceiling at maxDelayMs', async () => {
		const clock = fakeClock();
		const errors = Array.from({ length: 7 }, retryable);
		await withRetries(
			failing(...errors).attempt,
			retryPolicy({ maxAttempts: 8, initialDelayMs: 1000, maxDelayMs: 4000, budgetMs: 600_000 }),
			{ clock, random: () => 0.999 },
		);
		expect(Math.max(...clock.sleeps)).toBeLessThanOrEqual(4000);
		expect(clock.sleeps.slice(-3)).toEqual([3996, 3996, 3996]);
	});

	it('waits at least the Retry-After a rate-limited provider asked for', async () => {
		const clock = fakeClock();
		const limited = new DeliveryError('rate_limited', 'Fake', 'HTTP 429', {
			status: 429,
			retryAfterMs: 7000,
		});
		const outcome = await withRetries(failing(limited).attempt, policy, {
			clock,
			random: () => 0.5,
		});
		expect(outcome.ok).toBe(true);
		expect(clock.sleeps).toEqual([7000]);
	});

	it('does not retry permanent or suppressed failures', async () => {
		for (const kind of ['permanent', 'suppressed'] as const) {
			const clock = fakeClock();
			const { attempt, calls } = failing(new DeliveryError(kind, 'Fake', 'no'));
			const outcome = await withRetries(attempt, policy, { clock });
			expect(outcome.ok).toBe(false);
			expect(calls()).toBe(1);
			expect(clock.sleeps).toEqual([]);
		}
	});

	it('gives up when the next wait would overrun the time budget, saying when to try again', async () => {
		const clock = fakeClock();
		const limited = new DeliveryError('rate_limited', 'Fake', 'HTTP 429', {
			retryAfterMs: 120_000,
		});
		const outcome = await withRetries(failing(limited).attempt, policy, { clock });
		expect(outcome.ok).toBe(false);
		if (!outcome.ok) {
			expect(outcome.attempts).toBe(1);
			expect(outcome.error.kind).toBe('rate_limited');
			expect(outcome.retryAt?.getTime()).toBe(clock.now() + 120_000);
		}
		expect(clock.sleeps).toEqual([]);
	});

	it('stops after maxAttempts and reports the last error', async () => {
		const clock = fakeClock();
		const { attempt, calls } = failing(...Array.from({ length: 10 }, retryable));
		const outcome = await withRetries(attempt, retryPolicy({ maxAttempts: 3 }), {
			clock,
			random: () => 0,
		});
		expect(outcome.ok).toBe(false);
		expect(calls()).toBe(3);
		expect(outcome.attempts).toBe(3);
	});

	it('treats an unexpected exception as a bug: reported, not retried', async () => {
		let calls = 0;
		const outcome = await withRetries(
			async () => {
				calls++;
				throw new TypeError('x is undefined');
			},
			policy,
			{ clock: fakeClock() },
		);
		expect(calls).toBe(1);
		expect(outcome.ok).toBe(false);
		if (!outcome.ok)
			expect(outcome.error.message).toMatch(/Unexpected error while sending: x is undefined/);
	});

	it('rethrows bad input found while building the request, without retrying', async () => {
		let calls = 0;
		const attempt = withRetries(
			async () => {
				calls++;
				throw new EngineError('missing_sender', 'Twilio needs a From number', { field: 'from' });
			},
			policy,
			{ clock: fakeClock() },
		);
		await expect(attempt).rejects.toMatchObject({ code: 'missing_sender' });
		expect(calls).toBe(1);
	});

	it('validates the policy', () => {
		expect(() => retryPolicy({ maxAttempts: 0 })).toThrow(EngineError);
		expect(() => retryPolicy({ budgetMs: Number.NaN })).toThrow(/budgetMs/);
		expect(retryPolicy({ maxAttempts: undefined }).maxAttempts).toBe(5);
	});
});

describe('per-credential limiter', () => {
	it('never runs more than `concurrency` sends at once, and starts them in arrival order', async () => {
		const limiter = new SendLimiter({ concurrency: 2, minIntervalMs: 0 });
		let inFlight = 0;
		let peak = 0;
		const started: number[] = [];
		const task = (id: number) =>
			limiter.run(async () => {
				started.push(id);
				inFlight++;
				peak = Math.max(peak, inFlight);
				await new Promise((resolve) => setTimeout(resolve, 15));
				inFlight--;
				return id;
			});
		const results = await Promise.all([1, 2, 3, 4, 5, 6].map(task));
		expect(results).toEqual([1, 2, 3, 4, 5, 6]);
		expect(peak).toBe(2);
		expect(started).toEqual([1, 2, 3, 4, 5, 6]);
	});

	it('paces starts at least minIntervalMs apart', async () => {
		const limiter = new SendLimiter({ concurrency: 10, minIntervalMs: 40 });
		const starts: number[] = [];
		await Promise.all(
			Array.from({ length: 4 }, () => limiter.run(async () => starts.push(performance.now()))),
		);
		for (let i = 1; i < starts.length; i++)
			expect(starts[i] - starts[i - 1]).toBeGreaterThanOrEqual(38);
	});

	it('frees the slot when a send throws', async () => {
		const limiter = new SendLimiter({ concurrency: 1 });
		await expect(limiter.run(async () => Promise.reject(new Error('boom')))).rejects.toThrow(
			'boom',
		);
		await expect(limiter.run(async () => 'next')).resolves.toBe('next');
	});

	it('gives one limiter per credential and validates its settings', () => {
		const registry = new SendLimiterRegistry();
		expect(registry.for('twilio:AC1')).toBe(registry.for('twilio:AC1'));
		expect(registry.for('twilio:AC1')).not.toBe(registry.for('twilio:AC2'));
		expect(() => new SendLimiter({ concurrency: 0 })).toThrow(/Concurrency/);
		expect(() => new SendLimiter({ minIntervalMs: -1 })).toThrow(/minimum interval/);
	});
});
