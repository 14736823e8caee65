/* engine/pages/i18n.ts: one catalogue, English and German, plural forms, English as the fallback of
 * a missing key or language, and the page language from the program, then Accept-Language. */
import { describe, expect, it } from 'vitest';
import {
	acceptedLanguages,
	CATALOGUES,
	formatMoney,
	pageLocale,
	supportedLocale,
	t,
} from '../../../engine/pages/i18n';

describe('t', () => {
	it('answers in English and German with parameters filled in', () => {
		expect(t('en', 'participant.hello', { name: 'Ann' })).toBe('Hello Ann!');
		expect(t('de', 'participant.hello', { name: 'Ann' })).toBe('Hallo Ann!');
		expect(t('de-AT', 'participant.copyLink')).toBe('Link kopieren');
	});

	it('chooses plural forms by count and formats the number for the language', () => {
		expect(t('en', 'participant.rewards.points', { count: 1 })).toBe('1 point');
		expect(t('en', 'participant.rewards.points', { count: 1500 })).toBe('1,500 points');
		expect(t('de', 'participant.rewards.points', { count: 1 })).toBe('1 Punkt');
		expect(t('de', 'participant.rewards.points', { count: 1500 })).toBe('1.500 Punkte');
		expect(t('de', 'participant.milestone.toGo', { count: 2 })).toBe(
			'Noch 2 qualifizierte Empfehlungen.',
		);
	});

	it('falls back to English for a key German lacks and for an unsupported language', () => {
		// Brand names are the same in German, so the German catalogue leaves them out.
		expect(CATALOGUES.de['participant.share.whatsapp']).toBeUndefined();
		expect(t('de', 'participant.share.whatsapp')).toBe('WhatsApp');
		expect(t('fr', 'participant.copyLink')).toBe('Copy link');
		expect(t('xx-YY', 'participant.hello', { name: 'A' })).toBe('Hello A!');
	});

	it('answers an unknown key with the key itself and leaves unknown parameters visible', () => {
		expect(t('de', 'no.such.key')).toBe('no.such.key');
		expect(t('en', 'participant.hello')).toBe('Hello {name}!');
	});

	it('every German message has an English original, and plural messages the same forms', () => {
		for (const [key, message] of Object.entries(CATALOGUES.de)) {
			const original = (CATALOGUES.en as Record<string, unknown>)[key];
			expect(original, key).toBeDefined();
			expect(typeof message, key).toBe(typeof original);
		}
	});
});

describe('page language', () => {
	it('the program setting wins, then Accept-Language by quality, then English', () => {
		expect(pageLocale({ programLocale: 'de', acceptLanguage: 'en-US' })).toBe('de');
		expect(pageLocale({ programLocale: null, acceptLanguage: 'fr-FR,de;q=0.8,en;q=0.5' })).toBe(
			'de',
		);
		expect(pageLocale({ acceptLanguage: 'en;q=0.4, de-CH;q=0.9' })).toBe('de');
		expect(pageLocale({ acceptLanguage: 'de;q=0, fr' })).toBe('en');
		expect(pageLocale({})).toBe('en');
		expect(pageLocale({ programLocale: 'zz', acceptLanguage: 42 })).toBe('en');
	});

	it('parses Accept-Language', () => {
		expect(acceptedLanguages('da, en-gb;q=0.8, en;q=0.7')).toEqual(['da', 'en-gb', 'en']);
		expect(acceptedLanguages('*')).toEqual([]);
		expect(supportedLocale('DE_de')).toBe('de');
	});

	it('formats money per language', () => {
		expect(formatMoney('en', 10, 'EUR')).toBe('€10.00');
		expect(formatMoney('de', 10, 'EUR')).toMatch(/^10,00\s€$/);
		expect(formatMoney('en', 5, null)).toBe('5');
	});
});
