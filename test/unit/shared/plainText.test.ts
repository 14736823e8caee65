import { describe, expect, it } from 'vitest';
import { greetingName, MAX_GREETING_NAME } from '../../../engine/shared/plainText';

describe("greetingName: a public caller's name goes into a message only when it is plainly a name", () => {
	it('keeps names in any script, with accents, apostrophes, hyphens and initials', () => {
		for (const name of [
			'Ann',
			'Ana López',
			"Seán O'Brien",
			'Jean-Luc',
			'J. R. Tolkien',
			'Zoë',
			'李小龍',
			'Ελένη',
			'Oluwaseun Adébáyọ̀',
		]) {
			expect(greetingName(name)).toBe(name.normalize('NFC'));
		}
		expect(greetingName('  Ann   Lee ')).toBe('Ann Lee');
	});

	it('leaves out a name carrying a link, a domain, a phone number, an address, markup or symbols', () => {
		for (const name of [
			'Win a prize at https://evil.example/x',
			'visit bit.ly now',
			'Ann www.promo.example',
			'Call +1 900 555 0199',
			'Ann 0900123456',
			'ann@example.com',
			'<b>Ann</b>',
			'Ann!! FREE $$$',
			'Ann (free gift)',
			'a'.repeat(MAX_GREETING_NAME + 1),
			'',
			'   ',
			'-Ann',
		]) {
			expect(greetingName(name), name).toBeNull();
		}
		expect(greetingName(undefined)).toBeNull();
		expect(greetingName(42)).toBeNull();
	});
});
