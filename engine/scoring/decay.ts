/* Per-rule decay: how much of a rule's points survive, given the age of a date field on the lead. */
import { EngineError } from '../shared/errors';
import { numberOrNaN } from '../shared/guards';
import { DAY_MS } from './fields';

export type DecayKind = 'none' | 'window' | 'linear' | 'exponential';

export type DecayConfig =
	| { kind: 'none' }
	/** Full points while the date is at most `days` old, nothing after (HubSpot timeframe, AC expiry). */
	| { kind: 'window'; dateField?: string; days: number }
	/**
	 * Lose `percentPerPeriod` % of the points per elapsed `periodDays`, never below 0 (HubSpot decay:
	 * 10 points at 50 %/30 days are 5 after 30 days and 0 after 60). `stepwise` (default true) counts
	 * whole periods only; false decays continuously.
	 */
	| {
			kind: 'linear';
			dateField?: string;
			percentPerPeriod: number;
			periodDays: number;
			stepwise?: boolean;
	  }
	/** Halve the points every `halfLifeDays`: factor = 0.5^(age / halfLife). */
	| { kind: 'exponential'; dateField?: string; halfLifeDays: number };

export const DECAY_KINDS: readonly DecayKind[] = ['none', 'window', 'linear', 'exponential'];

/** Decay with its numbers checked and turned into milliseconds. */
export interface CompiledDecay {
	readonly kind: Exclude<DecayKind, 'none'>;
	readonly dateField: string;
	/** window: length; linear: period; exponential: half-life. All in ms. */
	readonly spanMs: number;
	/** linear only: the fraction lost per period (0.5 for 50 %). */
	readonly lossPerPeriod: number;
	readonly stepwise: boolean;
}

/**
 * The surviving fraction of points for an event `ageMs` old. Dates in the future (clock skew)
 * count as brand new, so decay never inflates points above the rule's own value.
 */
export function decayFactor(decay: CompiledDecay, ageMs: number): number {
	const age = ageMs > 0 ? ageMs : 0;
	switch (decay.kind) {
		case 'window':
			return age <= decay.spanMs ? 1 : 0;
		case 'linear': {
			const periods = decay.stepwise ? Math.floor(age / decay.spanMs) : age / decay.spanMs;
			const factor = 1 - decay.lossPerPeriod * periods;
			return factor > 0 ? factor : 0;
		}
		case 'exponential':
			return Math.pow(0.5, age / decay.spanMs);
	}
}

function positiveNumber(value: unknown, name: string, where: string, allowZero: boolean): number {
	const n = numberOrNaN(value);
	if (!Number.isFinite(n) || n < 0 || (!allowZero && n === 0)) {
		throw new EngineError(
			'invalid_decay',
			`${where}: decay "${name}" must be a number ${allowZero ? 'of 0 or more' : 'greater than 0'}; got ${JSON.stringify(value) ?? 'nothing'}.`,
			{ field: name },
		);
	}
	return n;
}

/**
 * Checks a rule's decay once, at compile time. `defaultDateField` is used when the rule's own
 * operator reads a date (within the last N days) and no separate date field was given.
 * Returns `undefined` for no decay.
 */
export function compileDecay(
	config: DecayConfig | undefined,
	where: string,
	defaultDateField: string | undefined,
): CompiledDecay | undefined {
	if (config === undefined || config === null) return undefined;
	if (typeof config !== 'object') {
		throw new EngineError('invalid_decay', `${where}: decay must be an object with a "kind".`, {
			field: 'decay',
		});
	}
	const kind = (config as { kind?: unknown }).kind;
	if (kind === 'none' || kind === undefined) return undefined;
	if (kind !== 'window' && kind !== 'linear' && kind !== 'exponential') {
		throw new EngineError(
			'invalid_decay',
			`${where}: decay kind ${JSON.stringify(kind)} is not known; use one of ${DECAY_KINDS.join(', ')}.`,
			{ field: 'decay.kind' },
		);
	}
	const rawField = (config as { dateField?: unknown }).dateField;
	const dateField =
		typeof rawField === 'string' && rawField.trim() !== '' ? rawField.trim() : defaultDateField;
	if (dateField === undefined) {
		throw new EngineError(
			'invalid_decay',
			`${where}: ${kind} decay needs a "dateField" naming the date it is measured from, e.g. "lastActivityAt".`,
			{ field: 'decay.dateField' },
		);
	}
	if (kind === 'window') {
		const days = positiveNumber((config as { days?: unknown }).days, 'days', where, true);
		return { kind, dateField, spanMs: days * DAY_MS, lossPerPeriod: 0, stepwise: false };
	}
	if (kind === 'linear') {
		const c = config as { percentPerPeriod?: unknown; periodDays?: unknown; stepwise?: unknown };
		const percent = positiveNumber(c.percentPerPeriod, 'percentPerPeriod', where, false);
		if (percent > 100) {
			throw new EngineError(
				'invalid_decay',
				`${where}: decay "percentPerPeriod" is a percentage between 0 and 100; got ${percent}.`,
				{ field: 'percentPerPeriod' },
			);
		}
		const periodDays = positiveNumber(c.periodDays, 'periodDays', where, false);
		if (c.stepwise !== undefined && typeof c.stepwise !== 'boolean') {
			throw new EngineError('invalid_decay', `${where}: decay "stepwise" must be true or false.`, {
				field: 'stepwise',
			});
		}
		return {
			kind,
			dateField,
			spanMs: periodDays * DAY_MS,
			lossPerPeriod: percent / 100,
			stepwise: c.stepwise !== false,
		};
	}
	const halfLife = positiveNumber(
		(config as { halfLifeDays?: unknown }).halfLifeDays,
		'halfLifeDays',
		where,
		false,
	);
	return { kind, dateField, spanMs: halfLife * DAY_MS, lossPerPeriod: 0, stepwise: false };
}
