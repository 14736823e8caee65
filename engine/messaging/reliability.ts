/* Retries with exponential backoff and full jitter inside a time budget (honouring Retry-After),
 * and a per-credential limiter: at most N sends in flight, and a minimum interval between starts. */
import { EngineError } from '../shared/errors';
import { DeliveryError, isDeliveryError, systemClock, type Clock } from './types';

export interface RetryPolicy {
	/** Attempts in all, the first included. */
	maxAttempts: number;
	/** Backoff ceiling before jitter for the first retry; doubles each retry. */
	initialDelayMs: number;
	/** Largest backoff ceiling. */
	maxDelayMs: number;
	/** Total time the retries of one message may take; a wait that would overrun it is not started. */
	budgetMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
	maxAttempts: 5,
	initialDelayMs: 500,
	maxDelayMs: 30_000,
	budgetMs: 60_000,
};

export function retryPolicy(overrides: Partial<RetryPolicy> = {}): RetryPolicy {
	const policy = { ...DEFAULT_RETRY_POLICY, ...stripUndefined(overrides) };
	const check = (name: keyof RetryPolicy, min: number) => {
		if (!Number.isFinite(policy[name]) || policy[name] < min) {
			throw new EngineError(
				'invalid_retry_policy',
				`Retry setting ${name} must be a number of at least ${min}; got ${policy[name]}.`,
				{ field: name },
			);
		}
	};
	check('maxAttempts', 1);
	check('initialDelayMs', 0);
	check('maxDelayMs', 0);
	check('budgetMs', 0);
	return policy;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
	return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * Reads Retry-After: delay-seconds or an HTTP date. Returns milliseconds to wait (never negative),
 * or undefined when absent or unreadable.
 */
export function parseRetryAfter(
	value: string | string[] | undefined,
	now: number = Date.now(),
): number | undefined {
	const raw = Array.isArray(value) ? value[0] : value;
	if (raw === undefined || raw.trim() === '') return undefined;
	const text = raw.trim();
	if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
	const date = Date.parse(text);
	return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

export type RetryOutcome<T> =
	| { ok: true; value: T; attempts: number }
	| { ok: false; error: DeliveryError; attempts: number; retryAt?: Date };

export interface RetryDeps {
	clock?: Clock;
	/** Uniform [0, 1); injectable for tests. */
	random?: () => number;
	/** Called before each wait, e.g. for logging or tests. */
	onRetry?: (info: { attempt: number; delayMs: number; error: DeliveryError }) => void;
}

/**
 * Runs `attempt` until it succeeds, fails permanently, or the attempts or time budget run out.
 * Retryable failures wait `random() * min(maxDelay, initial * 2^(n-1))` (full jitter); rate-limited
 * ones wait at least the provider's Retry-After. An EngineError (bad input or configuration) is
 * rethrown; anything else that is not a DeliveryError is a bug, reported as permanent, not retried.
 */
export async function withRetries<T>(
	attempt: (attemptNumber: number) => Promise<T>,
	policy: RetryPolicy,
	deps: RetryDeps = {},
): Promise<RetryOutcome<T>> {
	const clock = deps.clock ?? systemClock;
	const random = deps.random ?? Math.random;
	const started = clock.now();
	for (let attemptNumber = 1; ; attemptNumber++) {
		let error: DeliveryError;
		try {
			return { ok: true, value: await attempt(attemptNumber), attempts: attemptNumber };
		} catch (thrown) {
			// Bad input or configuration found while building the request is the caller's to report.
			if (thrown instanceof EngineError) throw thrown;
			error = isDeliveryError(thrown)
				? thrown
				: new DeliveryError(
						'permanent',
						'engine',
						`Unexpected error while sending: ${(thrown as Error)?.message ?? String(thrown)}`,
						{ cause: thrown },
					);
		}
		if (error.kind === 'permanent' || error.kind === 'suppressed')
			return { ok: false, error, attempts: attemptNumber };
		const ceiling = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** (attemptNumber - 1));
		let delay = Math.round(random() * ceiling);
		if (error.kind === 'rate_limited' && error.retryAfterMs !== undefined)
			delay = Math.max(delay, error.retryAfterMs);
		const retryAt = new Date(clock.now() + delay);
		if (attemptNumber >= policy.maxAttempts)
			return { ok: false, error, attempts: attemptNumber, retryAt };
		if (clock.now() + delay - started > policy.budgetMs)
			return { ok: false, error, attempts: attemptNumber, retryAt };
		deps.onRetry?.({ attempt: attemptNumber, delayMs: delay, error });
		await clock.sleep(delay);
	}
}

export interface LimiterOptions {
	/** Sends in flight at once for this credential. */
	concurrency: number;
	/** Least time between the starts of two sends (pacing), e.g. 1000 for a 1-message-per-second sender. */
	minIntervalMs: number;
}

/** Limits concurrency and paces starts for one credential. Waiters start in arrival order. */
export class SendLimiter {
	private readonly options: LimiterOptions;
	private readonly clock: Clock;
	private active = 0;
	private readonly waiting: Array<() => void> = [];
	/** Starts are paced one after another: each waits for the previous start, then for the interval. */
	private pacing: Promise<void> = Promise.resolve();
	private lastStart = -Infinity;

	constructor(options: Partial<LimiterOptions> = {}, clock: Clock = systemClock) {
		const concurrency = options.concurrency ?? 4;
		const minIntervalMs = options.minIntervalMs ?? 0;
		if (!Number.isInteger(concurrency) || concurrency < 1) {
			throw new EngineError(
				'invalid_limiter',
				`Concurrency must be a whole number of at least 1; got ${concurrency}.`,
				{ field: 'concurrency' },
			);
		}
		if (!Number.isFinite(minIntervalMs) || minIntervalMs < 0) {
			throw new EngineError(
				'invalid_limiter',
				`The minimum interval between sends must be 0 ms or more; got ${minIntervalMs}.`,
				{
					field: 'minIntervalMs',
				},
			);
		}
		this.options = { concurrency, minIntervalMs };
		this.clock = clock;
	}

	async run<T>(task: () => Promise<T>): Promise<T> {
		await this.acquire();
		try {
			if (this.options.minIntervalMs > 0) {
				// Measured from the actual previous start, so a late wake-up under load never squeezes two starts together.
				const turn = this.pacing.then(async () => {
					const wait = this.lastStart + this.options.minIntervalMs - this.clock.now();
					if (wait > 0) await this.clock.sleep(wait);
					this.lastStart = this.clock.now();
				});
				this.pacing = turn.catch(() => undefined);
				await turn;
			}
			return await task();
		} finally {
			this.release();
		}
	}

	private acquire(): Promise<void> {
		if (this.active < this.options.concurrency) {
			this.active++;
			return Promise.resolve();
		}
		return new Promise((resolve) => this.waiting.push(resolve));
	}

	private release(): void {
		const next = this.waiting.shift();
		// The slot passes straight to the next waiter, so `active` stays the same.
		if (next) next();
		else this.active--;
	}
}

/** One limiter per credential key, shared by every send that uses that credential in this process. */
export class SendLimiterRegistry {
	private readonly limiters = new Map<string, SendLimiter>();

	constructor(private readonly clock: Clock = systemClock) {}

	for(credentialKey: string, options: Partial<LimiterOptions> = {}): SendLimiter {
		let limiter = this.limiters.get(credentialKey);
		if (limiter === undefined) {
			limiter = new SendLimiter(options, this.clock);
			this.limiters.set(credentialKey, limiter);
		}
		return limiter;
	}
}
