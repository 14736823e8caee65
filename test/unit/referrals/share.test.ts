import { describe, expect, it } from 'vitest';

import { EngineError } from '../../../engine/shared/errors';
import { buildShareUrl, parseShareUrl } from '../../../engine/referrals/share';

describe('share URLs', () => {
	it('adds the code and utm parameters', () => {
		const url = buildShareUrl('https://shop.example/join', 'ABC123', {
			utmSource: 'referral',
			utmMedium: 'email',
			utmCampaign: 'spring 2026',
		});
		expect(url).toBe(
			'https://shop.example/join?ref=ABC123&utm_source=referral&utm_medium=email&utm_campaign=spring+2026',
		);
	});

	it('uses the configured code parameter and keeps existing query and fragment', () => {
		const url = buildShareUrl('https://shop.example/p?lang=de#signup', 'X 1&2', {
			codeParameter: 'via',
			utmSource: 'whatsapp',
		});
		const parsed = new URL(url);
		expect(parsed.searchParams.get('lang')).toBe('de');
		expect(parsed.searchParams.get('via')).toBe('X 1&2');
		expect(parsed.hash).toBe('#signup');
	});

	it('replaces parameters of the same name and skips empty utm values', () => {
		const url = buildShareUrl('https://shop.example/?ref=old&utm_source=old', 'NEW', {
			utmSource: 'sms',
			utmTerm: '',
		});
		const parsed = new URL(url);
		expect(parsed.searchParams.getAll('ref')).toEqual(['NEW']);
		expect(parsed.searchParams.getAll('utm_source')).toEqual(['sms']);
		expect(parsed.searchParams.has('utm_term')).toBe(false);
	});

	it('round-trips through parseShareUrl', () => {
		const url = buildShareUrl('https://shop.example/', 'CODE9', {
			codeParameter: 'r',
			utmCampaign: 'c1',
			utmContent: 'banner',
		});
		expect(parseShareUrl(url, { codeParameter: 'r' })).toEqual({
			code: 'CODE9',
			utm: { utm_campaign: 'c1', utm_content: 'banner' },
		});
		expect(parseShareUrl('https://shop.example/?utm_source=x').code).toBeNull();
	});

	it.each([
		[() => buildShareUrl('shop.example/join', 'A'), 'baseUrl'],
		[() => buildShareUrl('javascript:alert(1)', 'A'), 'baseUrl'],
		[() => buildShareUrl('ftp://shop.example', 'A'), 'baseUrl'],
		[() => buildShareUrl('https://shop.example', ''), 'code'],
		[
			() => buildShareUrl('https://shop.example', 'A', { codeParameter: 'utm_ref' }),
			'codeParameter',
		],
		[() => buildShareUrl('https://shop.example', 'A', { codeParameter: 'a b' }), 'codeParameter'],
	])('refuses bad input (%#) naming %s', (fn, field) => {
		try {
			fn();
			expect.unreachable();
		} catch (error) {
			expect(error).toBeInstanceOf(EngineError);
			expect((error as EngineError).field).toBe(field);
		}
	});
});
