import { describe, expect, it } from 'vitest';
import { helperNames, TemplateRenderer, type RenderSettings } from '../../../engine/messaging';
import { engineError } from '../../support/engineError';

/** Renders through the real engine, as a marketer's template would. */
function text(
	template: string,
	data: Record<string, unknown> = {},
	settings: RenderSettings = {},
): string {
	return new TemplateRenderer(data, settings).render('test', template, 'text');
}
function html(
	template: string,
	data: Record<string, unknown> = {},
	settings: RenderSettings = {},
): string {
	return new TemplateRenderer(data, settings).render('test', template, 'html');
}
/** ICU puts narrow or no-break spaces into some formats; compare with plain spaces. */
const spaces = (value: string) => value.replace(/\s/g, ' ');

describe('template helpers', () => {
	it('offers about fifteen audited helpers and nothing from a helper library', () => {
		expect(helperNames.length).toBeGreaterThanOrEqual(15);
		expect(helperNames).toEqual(
			expect.arrayContaining([
				'formatNumber',
				'formatCurrency',
				'formatDate',
				'plural',
				'default',
				'eq',
				'urlEncode',
				'truncate',
				'upper',
				'capitalize',
			]),
		);
	});

	describe('formatNumber', () => {
		it('groups digits per locale, from the hash or the render default', () => {
			expect(text('{{formatNumber n}}', { n: 1234567.891 })).toBe('1,234,567.891');
			expect(spaces(text('{{formatNumber n}}', { n: 1234567.891 }, { locale: 'de-DE' }))).toBe(
				'1.234.567,891',
			);
			expect(
				spaces(text('{{formatNumber n locale="fr-FR" maximumFractionDigits=1}}', { n: 1234.56 })),
			).toBe('1 234,6');
		});
		it('formats percentages and numeric text', () => {
			expect(text('{{formatNumber r style="percent"}}', { r: 0.256 })).toBe('26%');
			expect(text('{{formatNumber n minimumFractionDigits=2}}', { n: '3' })).toBe('3.00');
		});
		it('renders nothing for a missing value but refuses text that is not a number', () => {
			expect(text('[{{formatNumber missing}}]')).toBe('[]');
			expect(engineError(() => text('{{formatNumber n}}', { n: 'twelve' })).message).toMatch(
				/formatNumber: expected a number, got "twelve"/,
			);
		});
	});

	describe('formatCurrency', () => {
		it('formats with the currency symbol and locale', () => {
			expect(text('{{formatCurrency a "USD"}}', { a: 1234.5 })).toBe('$1,234.50');
			expect(spaces(text('{{formatCurrency a "EUR" locale="de-DE"}}', { a: 1234.5 }))).toBe(
				'1.234,50 €',
			);
			expect(text('{{formatCurrency a "JPY"}}', { a: 1234.5 })).toBe('¥1,235');
		});
		it('names an invalid currency code', () => {
			expect(engineError(() => text('{{formatCurrency a "EURO"}}', { a: 1 })).message).toMatch(
				/three-letter ISO 4217 currency code/,
			);
			expect(engineError(() => text('{{formatCurrency a}}', { a: 1 })).message).toMatch(
				/currency code/,
			);
		});
	});

	describe('formatDate', () => {
		const when = '2026-03-29T00:30:00Z';
		it('formats in the requested time zone (the date can change)', () => {
			expect(text('{{formatDate d dateStyle="long" timeZone="UTC"}}', { d: when })).toBe(
				'March 29, 2026',
			);
			expect(
				text('{{formatDate d dateStyle="long" timeZone="America/Los_Angeles"}}', { d: when }),
			).toBe('March 28, 2026');
		});
		it('uses the render time zone and locale by default, and shows times', () => {
			const out = spaces(
				text(
					'{{formatDate d dateStyle="short" timeStyle="short"}}',
					{ d: when },
					{ timeZone: 'Europe/Berlin', locale: 'de-DE' },
				),
			);
			expect(out).toBe('29.03.26, 01:30');
		});
		it('accepts epoch milliseconds and refuses unreadable dates and time zones', () => {
			expect(
				text('{{formatDate d dateStyle="medium" timeZone="UTC"}}', { d: Date.UTC(2026, 0, 2) }),
			).toBe('Jan 2, 2026');
			expect(engineError(() => text('{{formatDate d}}', { d: 'not a date' })).message).toMatch(
				/"not a date" is not a date/,
			);
			expect(
				engineError(() => text('{{formatDate d timeZone="Mars/Olympus"}}', { d: when })).message,
			).toMatch(/formatDate/);
		});
	});

	describe('plural', () => {
		it('picks the CLDR category and puts the formatted count at #', () => {
			const t = '{{plural n one="# friend" other="# friends"}}';
			expect(text(t, { n: 1 })).toBe('1 friend');
			expect(text(t, { n: 2 })).toBe('2 friends');
			expect(text(t, { n: 1200 })).toBe('1,200 friends');
		});
		it('follows languages with more categories (Russian: one, few, many)', () => {
			const t =
				'{{plural n locale="ru" one="# друг" few="# друга" many="# друзей" other="# друга"}}';
			expect([1, 2, 5, 21].map((n) => text(t, { n }))).toEqual([
				'1 друг',
				'2 друга',
				'5 друзей',
				'21 друг',
			]);
		});
		it('honours an explicit zero and requires other', () => {
			expect(
				text('{{plural n zero="no friends yet" one="# friend" other="# friends"}}', { n: 0 }),
			).toBe('no friends yet');
			expect(engineError(() => text('{{plural n one="x"}}', { n: 1 })).message).toMatch(
				/needs other=/,
			);
		});
	});

	it('default falls back for missing or empty values only', () => {
		expect(text('{{default nick "friend"}}', {})).toBe('friend');
		expect(text('{{default nick "friend"}}', { nick: '' })).toBe('friend');
		expect(text('{{default nick "friend"}}', { nick: 0 })).toBe('0');
		expect(text('{{default nick "friend"}}', { nick: 'Al' })).toBe('Al');
	});

	it('default lets strict mode accept an optional field', () => {
		expect(text('Hi {{default nick "friend"}}', {}, { strict: true })).toBe('Hi friend');
	});

	describe('comparisons and logic', () => {
		it('eq and ne compare strictly', () => {
			expect(text('{{#if (eq tier "gold")}}G{{else}}-{{/if}}', { tier: 'gold' })).toBe('G');
			expect(text('{{#if (eq n 3)}}Y{{else}}N{{/if}}', { n: '3' })).toBe('N');
			expect(text('{{#if (ne tier "gold")}}Y{{else}}N{{/if}}', { tier: 'silver' })).toBe('Y');
		});
		it('gt, gte, lt, lte compare numbers, including numbers written as text', () => {
			expect(text('{{#if (gt n 10)}}Y{{else}}N{{/if}}', { n: 11 })).toBe('Y');
			expect(text('{{#if (gt n 10)}}Y{{else}}N{{/if}}', { n: '9' })).toBe('N');
			expect(text('{{#if (gte n 10)}}Y{{else}}N{{/if}}', { n: 10 })).toBe('Y');
			expect(text('{{#if (lt n 10)}}Y{{else}}N{{/if}}', { n: '10' })).toBe('N');
			expect(text('{{#if (lte n "10")}}Y{{else}}N{{/if}}', { n: 10 })).toBe('Y');
			expect(engineError(() => text('{{#if (gt n 10)}}Y{{/if}}', { n: 'many' })).message).toMatch(
				/gt: expected a number/,
			);
		});
		it('and, or, not follow Handlebars truthiness (empty lists are false)', () => {
			expect(text('{{#if (and a b)}}Y{{else}}N{{/if}}', { a: 1, b: 'x' })).toBe('Y');
			expect(text('{{#if (and a b)}}Y{{else}}N{{/if}}', { a: 1, b: [] })).toBe('N');
			expect(text('{{#if (or a b)}}Y{{else}}N{{/if}}', { a: 0, b: [1] })).toBe('Y');
			expect(text('{{#if (not a)}}Y{{else}}N{{/if}}', { a: '' })).toBe('Y');
		});
	});

	it('urlEncode encodes a value for a URL', () => {
		expect(text('https://ex.test/r?c={{urlEncode code}}', { code: 'A&B C/é' })).toBe(
			'https://ex.test/r?c=A%26B%20C%2F%C3%A9',
		);
	});

	describe('safeUrl', () => {
		it('keeps = and & readable in HTML attributes while escaping what must be', () => {
			expect(html('<a href="{{safeUrl u}}">', { u: 'https://ex.test/r?a=1&b="x"' })).toBe(
				'<a href="https://ex.test/r?a=1&amp;b=%22x%22">',
			);
			expect(text('{{safeUrl u}}', { u: 'https://ex.test/r?a=1&b=2' })).toBe(
				'https://ex.test/r?a=1&b=2',
			);
		});
		it('refuses javascript: and relative links', () => {
			expect(
				engineError(() => html('<a href="{{safeUrl u}}">', { u: 'javascript:alert(1)' })).message,
			).toMatch(/only http, https and mailto/);
			expect(
				engineError(() => html('<a href="{{safeUrl u}}">', { u: '/relative' })).message,
			).toMatch(/not an absolute URL/);
		});
	});

	it('truncate counts characters as people see them, suffix included', () => {
		expect(text('{{truncate s 10}}', { s: 'Refer three friends today' })).toBe('Refer thr…');
		expect(text('{{truncate s 10 suffix="..."}}', { s: 'Refer three friends today' })).toBe(
			'Refer t...',
		);
		expect(text('{{truncate s 50}}', { s: 'short' })).toBe('short');
		expect(text('{{truncate s 3}}', { s: '👨‍👩‍👧‍👦👍🎉🎁' })).toBe('👨‍👩‍👧‍👦👍…');
		expect(engineError(() => text('{{truncate s 0}}', { s: 'x' })).message).toMatch(/length/);
	});

	it('upper, lower and capitalize follow the locale', () => {
		expect(
			text('{{upper s}} {{lower t}} {{capitalize u}}', { s: 'ann', t: 'BOB', u: 'émile zola' }),
		).toBe('ANN bob Émile zola');
		expect(text('{{upper s locale="tr"}}', { s: 'istanbul' })).toBe('İSTANBUL');
	});

	it('join lists values and toJson writes JSON (escaped in HTML)', () => {
		expect(text('{{join names}}', { names: ['Ann', 'Bob'] })).toBe('Ann, Bob');
		expect(text('{{join names " & "}}', { names: ['Ann', 'Bob'] })).toBe('Ann & Bob');
		expect(html('{{toJson v}}', { v: { a: '<b>' } })).toBe('{&quot;a&quot;:&quot;&lt;b&gt;&quot;}');
		expect(engineError(() => text('{{join names}}', { names: 'Ann' })).message).toMatch(
			/expected a list/,
		);
	});

	it('a helper error names the template and the item', () => {
		const error = engineError(() =>
			text('{{formatNumber n}}', { n: 'x' }, { itemLabel: 'item 4' }),
		);
		expect(error.code).toBe('invalid_helper_argument');
		expect(error.field).toBe('test');
		expect(error.message).toMatch(/in the test template, item 4/);
	});
});
