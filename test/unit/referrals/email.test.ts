import { describe, expect, it } from 'vitest';

import { EngineError } from '../../../engine/errors';
import {
	canonicalEmail,
	emailDomain,
	emailProblem,
	isValidEmail,
	knownProviderDomains,
	normaliseEmail,
	sameMailbox,
} from '../../../engine/referrals/email';

describe('email validation', () => {
	it.each([
		'ana@example.com',
		'ana.b@example.co.uk',
		"o'neil+promo@example.org",
		'x_y-z@sub.domain.example',
		'!#$%&*+/=?^_`{|}~-@example.com',
		'müller@bücher.de',
		'a@b.io',
	])('accepts %s', (email) => {
		expect(isValidEmail(email)).toBe(true);
		expect(emailProblem(email)).toBeNull();
	});

	it.each([
		['', /"@"/],
		['plainaddress', /"@"/],
		['@example.com', /"@"/],
		['ana@', /"@"/],
		['ana@@example.com', /more than one "@"/],
		['.ana@example.com', /single inner dots/],
		['ana.@example.com', /single inner dots/],
		['an..a@example.com', /single inner dots/],
		['"quoted"@example.com', /may only hold/],
		['ana b@example.com', /may only hold/],
		['ana@localhost', /needs a dot/],
		['ana@-example.com', /inner hyphens/],
		['ana@example-.com', /inner hyphens/],
		['ana@exa_mple.com', /inner hyphens/],
		['ana@[127.0.0.1]', /inner hyphens/],
		['ana@10.0.0.1', /cannot end in a number/],
		[`${'a'.repeat(65)}@example.com`, /64/],
		[`a@${'b'.repeat(250)}.com`, /254/],
	])('refuses %s', (email, why) => {
		expect(isValidEmail(email)).toBe(false);
		expect(emailProblem(email)).toMatch(why);
	});

	it('normalises by trimming and lower-casing, and names the field in errors', () => {
		expect(normaliseEmail('  Ana.B@Example.COM ')).toBe('ana.b@example.com');
		try {
			normaliseEmail('not-an-email', 'refereeEmail');
			expect.unreachable();
		} catch (error) {
			expect(error).toBeInstanceOf(EngineError);
			expect((error as EngineError).code).toBe('invalid_email');
			expect((error as EngineError).field).toBe('refereeEmail');
			expect((error as EngineError).message).toContain('refereeEmail');
		}
		expect(() => normaliseEmail(42)).toThrow(/email address/);
		expect(() => normaliseEmail(42)).toThrow(expect.objectContaining({ field: 'email' }));
	});

	it('returns the domain', () => {
		expect(emailDomain('Ana@Example.com')).toBe('example.com');
		expect(emailDomain('nope')).toBe('');
	});
});

describe('canonical email (same mailbox)', () => {
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
	])('%s → %s', (input, canonical) => {
		expect(canonicalEmail(input)).toBe(canonical);
	});

	it('keeps outlook, hotmail and live as separate mailboxes', () => {
		expect(sameMailbox('ana@outlook.com', 'ana@hotmail.com')).toBe(false);
		expect(canonicalEmail('a.na@outlook.com')).toBe('a.na@outlook.com');
	});

	it('drops +tags for every domain only when asked', () => {
		expect(canonicalEmail('ana+x@company.example', { stripTagsForAllDomains: true })).toBe('ana@company.example');
		expect(sameMailbox('ana+x@company.example', 'ana@company.example')).toBe(false);
		expect(sameMailbox('ana+x@company.example', 'ana@company.example', { stripTagsForAllDomains: true })).toBe(true);
	});

	it('does not treat a leading + as a tag', () => {
		expect(canonicalEmail('+ana@gmail.com')).toBe('+ana@gmail.com');
	});

	it('documents its provider table', () => {
		const domains = knownProviderDomains();
		expect(domains).toContain('gmail.com');
		expect(domains).toContain('googlemail.com');
		expect(domains).not.toContain('yahoo.com');
	});
});
