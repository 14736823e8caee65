import { describe, expect, it } from 'vitest';
import {
	analyseSms,
	assertSegments,
	isGsmCharacter,
	normalizePhoneNumber,
	normalizeSender,
	renderSms,
	replaceSmartCharacters,
	withStopFooter,
} from '../../../engine/messaging';
import { engineError } from '../../support/engineError';

describe('GSM-7 and UCS-2 detection', () => {
	it('knows the GSM 03.38 basic table (127 characters without the escape) and its extension table', () => {
		const basic =
			'@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
		expect(Array.from(basic)).toHaveLength(127);
		for (const c of basic) expect(isGsmCharacter(c)).toBe(true);
		for (const c of '^{}\\[~]|€') expect(isGsmCharacter(c)).toBe(true);
		for (const c of ['\u001b', '’', '“', 'ç', 'á', 'я', '😀', '\t'])
			expect(isGsmCharacter(c)).toBe(false);
	});

	it('one non-GSM character switches the whole message to UCS-2 and is reported', () => {
		const plain = analyseSms("It's your code");
		const smart = analyseSms('It’s your code');
		expect(plain.encoding).toBe('GSM-7');
		expect(smart.encoding).toBe('UCS-2');
		expect(smart.nonGsmCharacters).toEqual(['’']);
	});
});

describe('segment counts', () => {
	// Boundaries verified against real splitters in the research notes (proto/gsm.js).
	const cases: Array<[string, string, number, string, number]> = [
		['160 a', 'a'.repeat(160), 160, 'GSM-7', 1],
		['161 a', 'a'.repeat(161), 161, 'GSM-7', 2],
		['306 a', 'a'.repeat(306), 306, 'GSM-7', 2],
		['307 a', 'a'.repeat(307), 307, 'GSM-7', 3],
		['80 €', '€'.repeat(80), 160, 'GSM-7', 1],
		['81 €', '€'.repeat(81), 162, 'GSM-7', 2],
		['35 emoji', '😀'.repeat(35), 70, 'UCS-2', 1],
		['36 emoji', '😀'.repeat(36), 72, 'UCS-2', 2],
		['70 я', 'я'.repeat(70), 70, 'UCS-2', 1],
		['71 я', 'я'.repeat(71), 71, 'UCS-2', 2],
		['134 я', 'я'.repeat(134), 134, 'UCS-2', 2],
		['135 я', 'я'.repeat(135), 135, 'UCS-2', 3],
	];
	it.each(cases)('%s', (_name, text, units, encoding, segments) => {
		const analysis = analyseSms(text);
		expect(analysis.units).toBe(units);
		expect(analysis.encoding).toBe(encoding);
		expect(analysis.segments).toBe(segments);
	});

	it('counts characters as code points and reports the per-segment capacity', () => {
		const analysis = analyseSms('😀'.repeat(36));
		expect(analysis.characters).toBe(36);
		expect(analysis.unitsPerSegment).toBe(67);
		expect(analyseSms('hi').unitsPerSegment).toBe(160);
	});

	it('never splits an escape pair or a surrogate pair across segments', () => {
		// 152 a + € = 154 septets: the € (2 septets) cannot fit in segment one's last septet.
		const gsm = analyseSms('a'.repeat(152) + '€' + 'a'.repeat(152));
		expect(gsm.units).toBe(306);
		expect(gsm.segments).toBe(3); // a naive ceil(306 / 153) would say 2
		const ucs = analyseSms('я'.repeat(66) + '😀' + 'я'.repeat(66));
		expect(ucs.units).toBe(134);
		expect(ucs.segments).toBe(3); // a naive ceil(134 / 67) would say 2
	});

	it('an empty text has no segments', () => {
		expect(analyseSms('').segments).toBe(0);
	});
});

describe('smart-character replacement', () => {
	it('replaces typographic characters so the message stays GSM-7', () => {
		const result = replaceSmartCharacters('It’s “great” – see you… at 5\u00a0pm');
		expect(result.applied).toBe(true);
		expect(result.text).toBe('It\'s "great" - see you... at 5 pm');
		expect(analyseSms(result.text).encoding).toBe('GSM-7');
		expect(result.replacements).toEqual(
			expect.arrayContaining([
				{ character: '’', replacement: "'", count: 1 },
				{ character: '…', replacement: '...', count: 1 },
			]),
		);
	});

	it('keeps the original text when other characters keep it in UCS-2 anyway', () => {
		const result = replaceSmartCharacters('It’s 🎉 time');
		expect(result.applied).toBe(false);
		expect(result.text).toBe('It’s 🎉 time');
	});

	it('never transliterates letters, which would change words', () => {
		expect(replaceSmartCharacters('Façade').text).toBe('Façade');
	});
});

describe('STOP footer and segment guard', () => {
	it('appends the opt-out footer once on its own line', () => {
		expect(withStopFooter('Your reward is ready.  ')).toBe(
			'Your reward is ready.\nReply STOP to opt out',
		);
		expect(withStopFooter('Your reward. Reply stop to opt out')).toBe(
			'Your reward. Reply stop to opt out',
		);
		expect(withStopFooter('Hi', 'Text STOP to quit')).toBe('Hi\nText STOP to quit');
	});

	it('refuses a message longer than the maximum segments, explaining the encoding', () => {
		const analysis = analyseSms('’' + 'a'.repeat(200));
		expect(() => assertSegments(analysis, 3)).not.toThrow();
		const error = engineError(() => assertSegments(analysis, 2, 'item 9'));
		expect(error.code).toBe('too_many_segments');
		expect(error.field).toBe('maxSegments');
		expect(error.message).toMatch(
			/needs 3 segments \(201 UTF-16 units\), more than the maximum of 2.*UCS-2.*"’"/,
		);
	});

	it('Render reports encoding, counts and warnings without refusing', () => {
		const rendered = renderSms({
			template: 'Hi {{name}} 🎉 {{body}}',
			data: { name: 'Ann', body: 'x'.repeat(300) },
			maxSegments: 2,
			stopFooter: true,
		});
		expect(rendered.encoding).toBe('UCS-2');
		expect(rendered.text.endsWith('\nReply STOP to opt out')).toBe(true);
		expect(rendered.segments).toBeGreaterThan(2);
		expect(rendered.warnings.join(' ')).toMatch(/UCS-2 .*"🎉"/);
		expect(rendered.warnings.join(' ')).toMatch(/more than the maximum of 2/);
	});

	it('Render does not HTML-escape SMS text', () => {
		expect(renderSms({ template: '{{a}}', data: { a: 'Tom & Jerry <3' } }).text).toBe(
			'Tom & Jerry <3',
		);
	});
});

describe('phone numbers', () => {
	it('normalizes to E.164 with a default country for national formats', () => {
		expect(normalizePhoneNumber('(415) 555-2671', { defaultCountry: 'US' })).toBe('+14155552671');
		expect(normalizePhoneNumber('06 11111111', { defaultCountry: 'nl' })).toBe('+31611111111');
		expect(normalizePhoneNumber('+44 20 7946 0958')).toBe('+442079460958');
		expect(normalizePhoneNumber('0044 20 7946 0958', { defaultCountry: 'DE' })).toBe(
			'+442079460958',
		);
		expect(normalizePhoneNumber(14155552671, { defaultCountry: 'US' })).toBe('+14155552671');
	});

	it('refuses invalid numbers with a message that says what would be valid', () => {
		const error = engineError(() =>
			normalizePhoneNumber('+1 555 555 5555', { field: 'phone', itemLabel: 'item 2' }),
		);
		expect(error.code).toBe('invalid_phone_number');
		expect(error.field).toBe('phone');
		expect(error.message).toMatch(
			/"\+1 555 555 5555" \(item 2\) is not a valid phone number.*\+14155552671/,
		);
		expect(engineError(() => normalizePhoneNumber('0611111111')).message).toMatch(
			/no default country set/,
		);
		expect(engineError(() => normalizePhoneNumber('')).code).toBe('invalid_phone_number');
		expect(engineError(() => normalizePhoneNumber({})).code).toBe('invalid_phone_number');
		expect(engineError(() => normalizePhoneNumber('123', { defaultCountry: 'XX' })).code).toBe(
			'invalid_country',
		);
	});

	it('optionally refuses numbers known to be landlines', () => {
		expect(normalizePhoneNumber('+4915112345678', { mobileOnly: true })).toBe('+4915112345678');
		// US numbering cannot tell mobiles from landlines, so they pass.
		expect(normalizePhoneNumber('+14155552671', { mobileOnly: true })).toBe('+14155552671');
		const error = engineError(() => normalizePhoneNumber('+44 20 7946 0958', { mobileOnly: true }));
		expect(error.code).toBe('not_mobile');
		expect(error.message).toMatch(/fixed line number/);
	});

	it('accepts an E.164 sender or an alphanumeric sender ID', () => {
		expect(normalizeSender('+1 415 555 2671')).toBe('+14155552671');
		expect(normalizeSender('AcmeShop')).toBe('AcmeShop');
		expect(normalizeSender('')).toBe('');
		expect(engineError(() => normalizeSender('Acme Shop Rewards')).code).toBe('invalid_sender');
		expect(engineError(() => normalizeSender('12345')).code).toBe('invalid_phone_number');
	});
});
