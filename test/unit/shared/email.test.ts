import { describe, expect, it } from 'vitest';

import { EngineError } from '../../../engine/shared/errors';
import * as ledgerValidate from '../../../engine/ledger/validate';
import { normalizeRecipient, parseEmailAddress } from '../../../engine/messaging';
import {
	emailDomain,
	emailProblem,
	emailSpellings,
	isValidEmail,
	knownProviderDomains,
	mailboxKey,
	normalizeEmail,
	sameMailbox,
	storedEmailOrNull,
} from '../../../engine/shared/email';
import { normalizeOrderEvent } from '../../../engine/webhooks';

/**
 * The one email rule (#13, defect 6): every address is accepted or refused the same by every
 * layer (shared rule, ledger, messaging, webhooks), and valid ones get the same stored form.
 */
const VALID: Array<[string, string]> = [
	['ana@example.com', 'ana@example.com'],
	['  Ana.B@Example.COM ', 'ana.b@example.com'],
	["o'neil+promo@example.org", "o'neil+promo@example.org"],
	['x_y-z@sub.domain.example', 'x_y-z@sub.domain.example'],
	['!#$%&*+/=?^_`{|}~-@example.com', '!#$%&*+/=?^_`{|}~-@example.com'],
	['a@b.io', 'a@b.io'],
	['1@123.com', '1@123.com'],
	[`${'a'.repeat(64)}@example.com`, `${'a'.repeat(64)}@example.com`],
	// Internationalised domains: one stored form, the ASCII (punycode) one.
	['ann@bücher.de', 'ann@xn--bcher-kva.de'],
	['ann@xn--bcher-kva.de', 'ann@xn--bcher-kva.de'],
	['ANN@BÜCHER.DE', 'ann@xn--bcher-kva.de'],
	['ann@XN--BCHER-KVA.DE', 'ann@xn--bcher-kva.de'],
	['müller@bücher.de', 'müller@xn--bcher-kva.de'],
	['ann@faß.de', 'ann@xn--fa-hia.de'],
	// Local parts in Unicode are kept (RFC 6531), in NFC: composed and decomposed ü are one address.
	['jo\u0308rg@example.com', 'j\u00f6rg@example.com'],
];

const INVALID: Array<[string, RegExp]> = [
	['', /empty/],
	['plainaddress', /"@"/],
	['@example.com', /"@"/],
	['ana@', /"@"/],
	['ana@@example.com', /more than one "@"/],
	['.ana@example.com', /single inner dots/],
	['ana.@example.com', /single inner dots/],
	['a..b@example.com', /single inner dots/],
	['"quoted"@example.com', /may only hold/],
	['ana b@example.com', /spaces/],
	['ann@example.com\r\nBcc: all@example.com', /line breaks/],
	['ann@localhost', /needs a dot/],
	['ann@example.c', /top-level domain of two or more letters/],
	['ann@example.123', /domain/],
	['ann@10.0.0.1', /domain/],
	['ann@[127.0.0.1]', /not an IP address/],
	['ann@-example.com', /inner hyphens/],
	['ann@example-.com', /inner hyphens/],
	['ann@exa_mple.com', /inner hyphens/],
	['ann@example.com.', /single dots/],
	['ann@example..com', /single dots/],
	['ann@xn--zz.de', /punycode|not a valid domain/],
	[`${'a'.repeat(65)}@example.com`, /64/],
	[
		`a@${'b'.repeat(60)}.${'c'.repeat(60)}.${'d'.repeat(60)}.${'e'.repeat(60)}.${'f'.repeat(10)}.com`,
		/253|254|domain/,
	],
	[
		`${'a'.repeat(60)}@${'b'.repeat(60)}.${'c'.repeat(60)}.${'d'.repeat(60)}.${'e'.repeat(60)}.com`,
		/254/,
	],
];

function refused(run: () => unknown): boolean {
	try {
		run();
		return false;
	} catch (error) {
		if (!(error instanceof EngineError)) throw error;
		return true;
	}
}

/** What a Stripe checkout webhook normalizes the customer's email to. */
function fromWebhook(address: string): string | null {
	const event = normalizeOrderEvent({
		source: 'stripe',
		body: {
			id: 'evt_1',
			type: 'checkout.session.completed',
			created: 1_770_000_000,
			data: {
				object: {
					id: 'cs_1',
					mode: 'payment',
					amount_total: 1000,
					currency: 'eur',
					customer_details: { email: address },
				},
			},
		},
	});
	return event.email;
}

describe('one email rule, every layer', () => {
	it.each(VALID)('accepts %j as %j everywhere', (input, stored) => {
		expect(emailProblem(input)).toBeNull();
		expect(isValidEmail(input)).toBe(true);
		expect(normalizeEmail(input)).toBe(stored);
		expect(storedEmailOrNull(input)).toBe(stored);
		expect(ledgerValidate.email(input)).toBe(stored);
		expect(normalizeRecipient('email', input)).toBe(stored);
		expect(parseEmailAddress(input, 'to').address).toBe(input.trim());
		expect(fromWebhook(input)).toBe(stored);
		expect(mailboxKey(input)).toBe(stored);
	});

	it.each(INVALID)('refuses %j everywhere (%s)', (input, why) => {
		expect(emailProblem(input)).toMatch(why);
		expect(isValidEmail(input)).toBe(false);
		expect(storedEmailOrNull(input)).toBeNull();
		expect(refused(() => normalizeEmail(input))).toBe(true);
		expect(refused(() => ledgerValidate.email(input))).toBe(true);
		expect(refused(() => normalizeRecipient('email', input))).toBe(true);
		expect(refused(() => parseEmailAddress(input, 'to'))).toBe(true);
		expect(fromWebhook(input)).toBeNull();
	});

	it('names the field, says what is valid and never echoes the address', () => {
		const error = (() => {
			try {
				normalizeEmail('ann@example.c', 'refereeEmail');
			} catch (e) {
				return e as EngineError;
			}
			throw new Error('expected an error');
		})();
		expect(error).toMatchObject({ code: 'invalid_email', field: 'refereeEmail' });
		expect(error.message).toBe(
			'refereeEmail is not a valid email address: the domain must end in a top-level domain of two or more letters, like .com or .de.',
		);
		expect(() => normalizeEmail(42)).toThrow(
			expect.objectContaining({
				field: 'email',
				message: expect.stringContaining('such as ana@example.com'),
			}),
		);
		expect(() => ledgerValidate.email('ann@localhost', 'messages[0].recipient')).toThrow(
			expect.objectContaining({ field: 'messages[0].recipient', code: 'invalid_email' }),
		);
		const messaging = (() => {
			try {
				parseEmailAddress('ann@example.c', 'to', 'item 5');
			} catch (e) {
				return e as EngineError;
			}
			throw new Error('expected an error');
		})();
		expect(messaging).toMatchObject({ code: 'invalid_email_address', field: 'to' });
		expect(messaging.message).toMatch(/top-level domain/);
	});

	it('lists the spellings old ledgers may hold for internationalised domains', () => {
		expect(emailSpellings('ann@xn--bcher-kva.de')).toEqual([
			'ann@xn--bcher-kva.de',
			'ann@bücher.de',
		]);
		expect(emailSpellings('ann@example.com')).toEqual(['ann@example.com']);
		expect(emailDomain('Ann@Bücher.de')).toBe('xn--bcher-kva.de');
		expect(emailDomain('nope')).toBe('');
	});
});

describe('same mailbox (self-referral)', () => {
	it.each([
		['Ana.Bell+promo@GoogleMail.com', 'anabell@gmail.com'],
		['a.n.a.bell@gmail.com', 'anabell@gmail.com'],
		['ana+x+y@gmail.com', 'ana@gmail.com'],
		['ana.bell+shop@outlook.com', 'ana.bell@outlook.com'],
		['ana+1@hotmail.com', 'ana@hotmail.com'],
		['ana+1@me.com', 'ana@icloud.com'],
		['ana+1@mac.com', 'ana@icloud.com'],
		['ana+news@protonmail.com', 'ana@proton.me'],
		['ana@pm.me', 'ana@proton.me'],
		['ana+x@fastmail.com', 'ana@fastmail.com'],
		['ana.bell+x@example.com', 'ana.bell+x@example.com'],
		['ana-news@yahoo.com', 'ana-news@yahoo.com'],
		['Ann@Bücher.de', 'ann@xn--bcher-kva.de'],
	])('%s → %s', (input, key) => {
		expect(mailboxKey(input)).toBe(key);
	});

	it('treats both spellings of an internationalised domain as one mailbox', () => {
		expect(sameMailbox('ann@bücher.de', 'ann@xn--bcher-kva.de')).toBe(true);
	});

	it('keeps outlook, hotmail and live as separate mailboxes', () => {
		expect(sameMailbox('ana@outlook.com', 'ana@hotmail.com')).toBe(false);
		expect(mailboxKey('a.na@outlook.com')).toBe('a.na@outlook.com');
	});

	it('drops +tags for every domain only when asked', () => {
		expect(mailboxKey('ana+x@company.example', { stripTagsForAllDomains: true })).toBe(
			'ana@company.example',
		);
		expect(sameMailbox('ana+x@company.example', 'ana@company.example')).toBe(false);
		expect(
			sameMailbox('ana+x@company.example', 'ana@company.example', { stripTagsForAllDomains: true }),
		).toBe(true);
	});

	it('does not treat a leading + as a tag', () => {
		expect(mailboxKey('+ana@gmail.com')).toBe('+ana@gmail.com');
	});

	it('documents its provider table', () => {
		const domains = knownProviderDomains();
		expect(domains).toContain('gmail.com');
		expect(domains).toContain('googlemail.com');
		expect(domains).not.toContain('yahoo.com');
	});
});
