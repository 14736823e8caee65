/* SMS pumping defence for texts a public caller can trigger (a sign-up form's welcome text): an
 * attacker who signs up premium-rate or far-away numbers, or many numbers from one place, makes the
 * program pay for texts that earn the attacker a share. So a guarded text goes only to
 *  - a country the program allows (its markets),
 *  - a number of a known, ordinary type: never premium-rate, shared-cost, UAN, or a number whose type
 *    the metadata cannot tell,
 *  - a number that got no guarded text of this template today, and an IP that got fewer than N this hour.
 * The limits are one-time keys in the ledger (claimNonce), so they hold across n8n workers; the keys
 * are keyed hashes (HMAC with the program's secret salt), never the number or IP themselves. */
import { createHmac } from 'node:crypto';
import { isSupportedCountry, parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { EngineError } from '../shared/errors';

/** Number types that never get a guarded text: someone else earns on each one, or nobody can tell. */
export const REFUSED_NUMBER_TYPES = ['PREMIUM_RATE', 'SHARED_COST', 'UAN'] as const;

export type SmsGuardReason = 'blocked' | 'rate_limited';

export interface SmsRefusal {
	reason: SmsGuardReason;
	/** Says why, without the number or the IP. */
	detail: string;
	/** Which rule: country, number_type, number_per_day, ip_per_hour. */
	rule: 'country' | 'number_type' | 'number_per_day' | 'ip_per_hour';
}

/** Claims a one-time key until `expiresAt` across every worker: true for the first claim only (LedgerStore.claimNonce). */
export type ClaimOnce = (input: {
	scope: string;
	nonce: string;
	expiresAt: number;
}) => Promise<boolean>;

export interface SmsGuard {
	/** ISO 3166 alpha-2 countries a text may go to; empty means any country (the type rule still applies). */
	countries: string[];
	/** Guarded texts per number per day (of this template); 0 turns the rule off. */
	perNumberPerDay: number;
	/** Guarded texts per client IP per hour (of this template); 0 turns the rule off; no IP, no rule. */
	perIpPerHour: number;
	/** The client's IP as n8n received it (see engine/shared/clientIp.ts). */
	ip?: string;
	/** Where the keys live: the program, e.g. `default`. */
	scope: string;
	/** The program's secret salt for the keyed hashes. */
	salt: string;
	claim: ClaimOnce;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const MAX_PER_WINDOW = 1000;

/** Checks and normalizes the allowed countries ("US, ca" → ["US", "CA"]); throws naming the field. */
export function parseSmsCountries(input: unknown, field = 'smsCountries'): string[] {
	if (input === undefined || input === null || input === '') return [];
	const list = Array.isArray(input)
		? input
		: typeof input === 'string'
			? input.split(/[\s,;]+/)
			: undefined;
	if (list === undefined)
		throw new EngineError(
			'invalid_country',
			'SMS countries must be two-letter country codes separated by commas, such as "US, CA, GB".',
			{ field },
		);
	const out: string[] = [];
	for (const entry of list) {
		const code = String(entry).trim().toUpperCase();
		if (code === '') continue;
		if (!/^[A-Z]{2}$/.test(code) || !isSupportedCountry(code)) {
			throw new EngineError(
				'invalid_country',
				`SMS countries: "${String(entry).slice(0, 8)}" is not a two-letter country code with phone numbers, such as "US", "GB" or "DE".`,
				{ field },
			);
		}
		if (!out.includes(code)) out.push(code);
	}
	return out;
}

/** The pure rules (country, number type) for an E.164 number; null when the text may go. */
export function checkSmsDestination(to: string, countries: string[]): SmsRefusal | null {
	const parsed = parsePhoneNumberFromString(to);
	const country = parsed?.country;
	if (countries.length > 0 && (country === undefined || !countries.includes(country))) {
		return {
			reason: 'blocked',
			rule: 'country',
			detail: `The number is ${country ? `in ${country}` : 'in no single country'}, which is not one of the program's SMS countries (${countries.join(', ')}).`,
		};
	}
	const type = parsed?.getType();
	if (type === undefined)
		return {
			reason: 'blocked',
			rule: 'number_type',
			detail:
				"The number's type (mobile, landline, premium-rate…) is unknown, so no text goes to it.",
		};
	if ((REFUSED_NUMBER_TYPES as readonly string[]).includes(type)) {
		return {
			reason: 'blocked',
			rule: 'number_type',
			detail: `The number is a ${type.toLowerCase().replace(/_/g, '-')} number; texts never go to premium-rate, shared-cost or UAN numbers.`,
		};
	}
	return null;
}

function limit(value: number, field: string): number {
	if (!Number.isInteger(value) || value < 0 || value > MAX_PER_WINDOW) {
		throw new EngineError(
			'invalid_number',
			`${field} must be a whole number from 0 (off) to ${MAX_PER_WINDOW}.`,
			{ field },
		);
	}
	return value;
}

const keyed = (salt: string, kind: string, value: string) =>
	createHmac('sha256', salt).update(`${kind}:${value}`).digest('hex');

/**
 * Takes one of the number's daily and one of the IP's hourly allowances, or says which ran out.
 * Each allowance is a one-time key: the number's is `number#0..n-1` for a day, the IP's is
 * `ip#0..n-1` for an hour, the first free one is taken. Called once per text that is about to go.
 */
export async function claimSmsAllowance(
	guard: SmsGuard,
	to: string,
	templateId: string,
	now: number,
): Promise<SmsRefusal | null> {
	const perNumber = limit(guard.perNumberPerDay, 'perNumberPerDay');
	const perIp = limit(guard.perIpPerHour, 'perIpPerHour');
	const scope = `sms-guard:${guard.scope}:${createHmac('sha256', guard.salt).update(templateId).digest('hex').slice(0, 16)}`;
	const takeOne = async (kind: string, value: string, count: number, ttl: number) => {
		const key = keyed(guard.salt, kind, value);
		for (let slot = 0; slot < count; slot++) {
			if (
				await guard.claim({
					scope: `${scope}:${kind}`,
					nonce: `${key}#${slot}`,
					expiresAt: now + ttl,
				})
			)
				return true;
		}
		return false;
	};
	if (perNumber > 0 && !(await takeOne('number', to, perNumber, DAY))) {
		return {
			reason: 'rate_limited',
			rule: 'number_per_day',
			detail: `This number already got ${perNumber === 1 ? 'this text' : `${perNumber} of these texts`} in the last 24 hours.`,
		};
	}
	if (perIp > 0 && guard.ip !== undefined && !(await takeOne('ip', guard.ip, perIp, HOUR))) {
		return {
			reason: 'rate_limited',
			rule: 'ip_per_hour',
			detail: `${perIp} of these texts already went out for sign-ups from this IP address in the last hour.`,
		};
	}
	return null;
}
