import { describe, expect, it } from 'vitest';
import { daysAgo, matches, NOW, scoreWith, DAY } from './helpers';
import { engineError } from '../../support/engineError';

describe('equals / notEquals', () => {
	it('compares text ignoring case unless caseSensitive', () => {
		expect(
			matches({ field: 'industry', operator: 'equals', value: 'SaaS' }, { industry: 'saas' }),
		).toBe(true);
		expect(
			matches(
				{ field: 'industry', operator: 'equals', value: 'SaaS', caseSensitive: true },
				{ industry: 'saas' },
			),
		).toBe(false);
		expect(
			matches({ field: 'industry', operator: 'equals', value: 'SaaS' }, { industry: 'SaaS tools' }),
		).toBe(false);
	});

	it('compares numbers numerically, accepting numeric text', () => {
		expect(matches({ field: 'seats', operator: 'equals', value: 5 }, { seats: '5.0' })).toBe(true);
		expect(matches({ field: 'seats', operator: 'equals', value: 5 }, { seats: 6 })).toBe(false);
	});

	it('compares true/false with booleans and their text', () => {
		expect(matches({ field: 'optedIn', operator: 'equals', value: true }, { optedIn: true })).toBe(
			true,
		);
		expect(
			matches({ field: 'optedIn', operator: 'equals', value: true }, { optedIn: 'TRUE' }),
		).toBe(true);
		expect(matches({ field: 'optedIn', operator: 'equals', value: true }, { optedIn: false })).toBe(
			false,
		);
	});

	it('notEquals is the exact opposite on readable values', () => {
		for (const industry of ['saas', 'retail', 'SaaS']) {
			const eq = matches({ field: 'industry', operator: 'equals', value: 'SaaS' }, { industry });
			const ne = matches({ field: 'industry', operator: 'notEquals', value: 'SaaS' }, { industry });
			expect(ne).toBe(!eq);
		}
	});

	it('treats a missing field as bad input, not as "not equal"', () => {
		const result = scoreWith({ field: 'industry', operator: 'notEquals', value: 'SaaS' }, {});
		expect(result.explanation.rules[0].matched).toBe(false);
		expect(result.explanation.rules[0].badInput).toEqual({
			field: 'industry',
			reason: 'missing',
			policy: 'skip',
		});
	});
});

describe('contains / startsWith', () => {
	it('contains finds a substring, or an item of a list', () => {
		expect(
			matches({ field: 'title', operator: 'contains', value: 'head' }, { title: 'Head of Growth' }),
		).toBe(true);
		expect(
			matches({ field: 'title', operator: 'contains', value: 'cto' }, { title: 'Head of Growth' }),
		).toBe(false);
		expect(
			matches({ field: 'tags', operator: 'contains', value: 'VIP' }, { tags: ['new', 'vip'] }),
		).toBe(true);
		expect(
			matches({ field: 'tags', operator: 'contains', value: 'vi' }, { tags: ['new', 'vip'] }),
		).toBe(false);
	});

	it('startsWith checks the beginning only', () => {
		expect(
			matches(
				{ field: 'phone', operator: 'startsWith', value: '+44' },
				{ phone: '+44 20 7946 0000' },
			),
		).toBe(true);
		expect(
			matches(
				{ field: 'phone', operator: 'startsWith', value: '44' },
				{ phone: '+44 20 7946 0000' },
			),
		).toBe(false);
		expect(matches({ field: 'code', operator: 'startsWith', value: '12' }, { code: 1234 })).toBe(
			true,
		);
	});

	it('refuses objects as text', () => {
		const result = scoreWith(
			{ field: 'title', operator: 'startsWith', value: 'a' },
			{ title: { a: 1 } },
		);
		expect(result.explanation.rules[0].badInput?.reason).toBe('notText');
	});
});

describe('regex', () => {
	it('tests the pattern, case-insensitive by default', () => {
		const rule = { field: 'email', operator: 'regex' as const, pattern: '@(gmail|yahoo)\\.com$' };
		expect(matches(rule, { email: 'ana@GMAIL.com' })).toBe(true);
		expect(matches(rule, { email: 'ana@acme.io' })).toBe(false);
		expect(matches({ ...rule, caseSensitive: true }, { email: 'ana@GMAIL.com' })).toBe(false);
	});

	it('runs in linear time: ^(a+)+$ on a 31-character title answers at once (issue #14; V8 took about 20 s)', () => {
		const rule = { field: 'title', operator: 'regex' as const, pattern: '^(a+)+$' };
		const started = performance.now();
		expect(matches(rule, { title: 'a'.repeat(30) + '!' })).toBe(false);
		expect(matches(rule, { title: 'a'.repeat(5_000) + '!' })).toBe(false);
		expect(matches(rule, { title: 'a'.repeat(31) })).toBe(true);
		expect(performance.now() - started).toBeLessThan(2_000);
		for (const pattern of ['(x+x+)+y', '(a|aa)+$', '(.*a){12}']) {
			const t = performance.now();
			matches(
				{ field: 'title', operator: 'regex', pattern },
				{ title: 'x'.repeat(40) + 'a'.repeat(40) },
			);
			expect(performance.now() - t, pattern).toBeLessThan(2_000);
		}
	});

	it('keeps the usual syntax and flags; refuses backreferences and lookarounds with the reason', () => {
		expect(
			matches(
				{ field: 'title', operator: 'regex', pattern: '^(?<role>cto|vp)\\b', caseSensitive: true },
				{ title: 'cto of acme' },
			),
		).toBe(true);
		expect(
			matches(
				{ field: 'title', operator: 'regex', pattern: '^head$', flags: 'm' },
				{ title: 'team\nhead' },
			),
		).toBe(true);
		expect(
			matches({ field: 'title', operator: 'regex', pattern: 'a.b', flags: 's' }, { title: 'a\nb' }),
		).toBe(true);
		expect(
			matches(
				{
					field: 'title',
					operator: 'regex',
					pattern: '\\p{Lu}{3}',
					flags: 'u',
					caseSensitive: true,
				},
				{ title: 'ÄÖÜ' },
			),
		).toBe(true);
		for (const pattern of ['(a)\\1', 'foo(?=bar)', '(?!x)y']) {
			const error = engineError(() =>
				matches({ field: 'title', operator: 'regex', pattern }, { title: 'x' }),
			);
			expect(error.code).toBe('invalid_regex');
			expect(error.message).toMatch(/linear time/);
		}
	});

	it('gives the same answer on repeated leads (no stateful lastIndex)', () => {
		const rule = { field: 'email', operator: 'regex' as const, pattern: 'a' };
		for (let i = 0; i < 3; i++) expect(matches(rule, { email: 'a' })).toBe(true);
	});
});

describe('inList', () => {
	it('accepts a list or comma-separated text, ignoring case', () => {
		expect(
			matches({ field: 'country', operator: 'inList', values: ['UK', 'IE'] }, { country: 'uk' }),
		).toBe(true);
		expect(
			matches({ field: 'country', operator: 'inList', values: 'UK, IE' }, { country: 'IE' }),
		).toBe(true);
		expect(
			matches({ field: 'country', operator: 'inList', values: 'UK, IE' }, { country: 'FR' }),
		).toBe(false);
	});

	it('matches numbers and lists with any accepted item', () => {
		expect(matches({ field: 'plan', operator: 'inList', values: [1, 2] }, { plan: 2 })).toBe(true);
		expect(
			matches(
				{ field: 'tags', operator: 'inList', values: ['vip', 'partner'] },
				{ tags: ['new', 'Partner'] },
			),
		).toBe(true);
		expect(
			matches({ field: 'tags', operator: 'inList', values: ['vip', 'partner'] }, { tags: ['new'] }),
		).toBe(false);
	});
});

describe('greaterThan / lessThan / between', () => {
	it('compares strictly, and between includes both ends', () => {
		expect(matches({ field: 'n', operator: 'greaterThan', value: 10 }, { n: 11 })).toBe(true);
		expect(matches({ field: 'n', operator: 'greaterThan', value: 10 }, { n: 10 })).toBe(false);
		expect(matches({ field: 'n', operator: 'lessThan', value: 10 }, { n: '9.5' })).toBe(true);
		expect(matches({ field: 'n', operator: 'lessThan', value: 10 }, { n: 10 })).toBe(false);
		expect(matches({ field: 'n', operator: 'between', min: 10, max: 20 }, { n: 10 })).toBe(true);
		expect(matches({ field: 'n', operator: 'between', min: 10, max: 20 }, { n: 20 })).toBe(true);
		expect(matches({ field: 'n', operator: 'between', min: 10, max: 20 }, { n: 20.01 })).toBe(
			false,
		);
	});

	it('flags non-numeric text and blanks as bad input', () => {
		expect(
			scoreWith({ field: 'n', operator: 'greaterThan', value: 1 }, { n: 'many' }).explanation
				.rules[0].badInput?.reason,
		).toBe('notNumber');
		expect(
			scoreWith({ field: 'n', operator: 'greaterThan', value: 1 }, { n: true }).explanation.rules[0]
				.badInput?.reason,
		).toBe('notNumber');
		expect(
			scoreWith({ field: 'n', operator: 'between', min: 0, max: 1 }, { n: '  ' }).explanation
				.rules[0].badInput?.reason,
		).toBe('missing');
	});
});

describe('exists / isEmpty', () => {
	const cases: [unknown, boolean][] = [
		[undefined, true],
		[null, true],
		['', true],
		['   ', true],
		[[], true],
		[{}, true],
		['x', false],
		[0, false],
		[false, false],
		[['a'], false],
		[{ a: 1 }, false],
	];
	it.each(cases)('value %j is empty: %s, and exists is its opposite', (value, empty) => {
		const lead = value === undefined ? {} : { f: value };
		expect(matches({ field: 'f', operator: 'isEmpty' }, lead)).toBe(empty);
		expect(matches({ field: 'f', operator: 'exists' }, lead)).toBe(!empty);
		expect(
			scoreWith({ field: 'f', operator: 'exists' }, lead).explanation.rules[0].badInput,
		).toBeUndefined();
	});
});

describe('withinLastDays', () => {
	const rule = { field: 'lastVisit', operator: 'withinLastDays' as const, days: 7 };
	it('matches from now back to exactly N days, not before and not in the future', () => {
		expect(matches(rule, { lastVisit: daysAgo(0) })).toBe(true);
		expect(matches(rule, { lastVisit: daysAgo(7) })).toBe(true);
		expect(matches(rule, { lastVisit: new Date(NOW - 7 * DAY - 1) })).toBe(false);
		expect(matches(rule, { lastVisit: NOW + 60_000 })).toBe(false);
	});

	it('reads ISO text, epoch milliseconds and Date objects', () => {
		expect(matches(rule, { lastVisit: NOW - 2 * DAY })).toBe(true);
		expect(matches(rule, { lastVisit: new Date(NOW - 2 * DAY) })).toBe(true);
		expect(matches(rule, { lastVisit: '2024-05-30' })).toBe(true);
	});

	it('flags an unreadable date', () => {
		expect(scoreWith(rule, { lastVisit: '30/05/2024' }).explanation.rules[0].badInput?.reason).toBe(
			'notDate',
		);
		expect(scoreWith(rule, { lastVisit: '2024-02-31' }).explanation.rules[0].badInput?.reason).toBe(
			'notDate',
		);
	});
});

describe('field paths', () => {
	it('follow dots and list positions', () => {
		const lead = { company: { size: 120, offices: [{ city: 'Leeds' }, { city: 'York' }] } };
		expect(matches({ field: 'company.size', operator: 'greaterThan', value: 100 }, lead)).toBe(
			true,
		);
		expect(
			matches({ field: 'company.offices[1].city', operator: 'equals', value: 'york' }, lead),
		).toBe(true);
		expect(
			scoreWith({ field: 'company.offices[5].city', operator: 'equals', value: 'york' }, lead)
				.explanation.rules[0].badInput?.reason,
		).toBe('missing');
	});
});
