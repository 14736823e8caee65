import { describe, expect, it } from 'vitest';
import {
	assembleEmail,
	htmlToText,
	parseEmailAddress,
	renderEmail,
} from '../../../engine/messaging';
import { isValidEmail } from '../../../engine/shared/email';
import { engineError } from '../../support/engineError';

describe('email addresses', () => {
	it('reads bare and named addresses', () => {
		expect(parseEmailAddress('ann@example.com', 'to')).toEqual({ address: 'ann@example.com' });
		expect(parseEmailAddress('Ann Lee <ann@example.com>', 'to')).toEqual({
			address: 'ann@example.com',
			name: 'Ann Lee',
		});
		expect(parseEmailAddress('"Lee, Ann" <ann@example.com>', 'to')).toEqual({
			address: 'ann@example.com',
			name: 'Lee, Ann',
		});
		expect(parseEmailAddress('  jörg@bücher.de ', 'to')).toEqual({ address: 'jörg@bücher.de' });
	});

	it('refuses invalid addresses, naming the field and the item', () => {
		for (const bad of [
			'ann',
			'ann@',
			'@example.com',
			'ann@example',
			'ann@@example.com',
			'a b@example.com',
			'ann@-example.com',
			'ann@example.c',
		]) {
			expect(isValidEmail(bad)).toBe(false);
		}
		const error = engineError(() => parseEmailAddress('ann.example.com', 'to', 'item 5'));
		expect(error.code).toBe('invalid_email_address');
		expect(error.field).toBe('to');
		expect(error.message).toMatch(
			/"ann.example.com" \(item 5\) is not a valid to address \(it needs one "@"/,
		);
		expect(engineError(() => parseEmailAddress('a@x.com, b@x.com', 'to')).message).toMatch(
			/one address per message/,
		);
	});

	it('blocks header injection through addresses, subject and custom headers', () => {
		expect(
			engineError(() => parseEmailAddress('ann@example.com\r\nBcc: all@example.com', 'to')).message,
		).toMatch(/line break/);
		const email = assembleEmail(
			{ from: 'shop@example.com', to: 'ann@example.com' },
			{ subject: 'Hello\r\nBcc: all@example.com', html: '<p>x</p>', text: 'x' },
		);
		expect(email.subject).toBe('Hello Bcc: all@example.com');
		expect(
			engineError(() =>
				assembleEmail(
					{ from: 'shop@example.com', to: 'a@example.com', headers: { 'X-Tag': 'a\r\nBcc: b' } },
					{ subject: 's', html: '', text: '' },
				),
			).code,
		).toBe('invalid_header');
		expect(
			engineError(() =>
				assembleEmail(
					{ from: 'shop@example.com', to: 'a@example.com', headers: { Bcc: 'b@example.com' } },
					{ subject: 's', html: '', text: '' },
				),
			).message,
		).toMatch(/set by the node itself/);
	});
});

describe('HTML to plain text', () => {
	it('turns paragraphs, line breaks, lists, links and images into readable text', () => {
		const text = htmlToText(
			'<html><head><title>x</title><style>p{color:red}</style></head><body><h1>Hi  Ann</h1>' +
				'<p>Your code: <b>abc</b>&nbsp;&amp; more<br>next line</p>' +
				'<p>Visit <a href="https://ex.test/r?a=1&amp;b=2">your page</a> or <a href="https://ex.test/">https://ex.test</a>.</p>' +
				'<ul><li>One</li><li>Two<ol><li>a</li><li>b</li></ol></li></ul><img src="logo.png" alt="Acme"><script>alert(1)</script></body></html>',
		);
		expect(text).toBe(
			'Hi Ann\n\nYour code: abc & more\nnext line\n\nVisit your page (https://ex.test/r?a=1&b=2) or https://ex.test.\n\n- One\n- Two\n   1. a\n   2. b\n\nAcme',
		);
	});

	it('copes with malformed and unusual HTML', () => {
		expect(htmlToText('a < b and c > d')).toBe('a < b and c > d');
		expect(htmlToText('<P>One<BR>Two</P><STYLE>p{}</STYLE><SCRIPT>x()</SCRIPT>Three')).toBe(
			'One\nTwo\n\nThree',
		);
		expect(htmlToText('<a title="x > y" href="https://ex.test/a">go</a>')).toBe(
			'go (https://ex.test/a)',
		);
		expect(htmlToText('<p>unclosed <b>bold <i>text')).toBe('unclosed bold text');
		expect(htmlToText('<![CDATA[x]]><?xml version="1.0"?><p>ok</p><style>never closed')).toBe('ok');
		expect(htmlToText('<ol start="3"><li>c</li><li>d</li></ol>')).toBe('3. c\n4. d');
		expect(
			htmlToText(
				'<table><tr><td>A</td><td>B</td></tr><tr><td>C</td><td>D</td></tr></table><hr><p>end</p>',
			),
		).toBe('A B\nC D\n\n---\n\nend');
		expect(htmlToText('')).toBe('');
	});

	it('decodes entities, keeps preformatted text, and skips comments and javascript links', () => {
		expect(htmlToText('<p>&euro;5 &#8212; &#x1F600; &unknown;</p><!-- hidden -->')).toBe(
			'€5 — 😀 &unknown;',
		);
		expect(htmlToText('<pre>a\n  b</pre>')).toBe('a\n  b');
		expect(
			htmlToText(
				'<a href="javascript:alert(1)">click</a> <a href="mailto:hi@ex.test">hi@ex.test</a>',
			),
		).toBe('click hi@ex.test');
	});
});

describe('rendered email', () => {
	const templates = {
		subject: 'Thanks {{name}}',
		html: '<html><body><p>Hi {{name}}, your code is <b>{{code}}</b>.</p></body></html>',
	};
	const data = { name: 'Ann', code: 'R-42' };

	it('always has a plain-text part: derived from the HTML when no text template is given', () => {
		const rendered = renderEmail({ templates, data });
		expect(rendered.textDerived).toBe(true);
		expect(rendered.text).toBe('Hi Ann, your code is R-42.');
		const explicit = renderEmail({
			templates: { ...templates, text: 'Code: {{code}} & more' },
			data,
		});
		expect(explicit.textDerived).toBe(false);
		expect(explicit.text).toBe('Code: R-42 & more');
	});

	it('commercial mode adds one List-Unsubscribe header, one-click POST and the postal-address footer to both parts', () => {
		const rendered = renderEmail({
			templates,
			data,
			commercial: {
				postalAddress: 'Acme Inc.\n1 Main St, Springfield',
				unsubscribeUrl: 'https://ex.test/u?t=abc',
				unsubscribeMailto: 'unsubscribe@ex.test',
			},
		});
		expect(rendered.headers).toEqual({
			'List-Unsubscribe':
				'<https://ex.test/u?t=abc>, <mailto:unsubscribe@ex.test?subject=unsubscribe>',
			'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
		});
		expect(rendered.html).toMatch(
			/Acme Inc\.<br>1 Main St, Springfield<br><a href="https:\/\/ex.test\/u\?t=abc">Unsubscribe<\/a><\/div><\/body><\/html>$/,
		);
		expect(rendered.text).toBe(
			'Hi Ann, your code is R-42.\n\n--\nAcme Inc.\n1 Main St, Springfield\nUnsubscribe: https://ex.test/u?t=abc',
		);
	});

	it('commercial mode requires a postal address and an https unsubscribe link', () => {
		expect(
			engineError(() =>
				renderEmail({
					templates,
					data,
					commercial: { postalAddress: ' ', unsubscribeUrl: 'https://ex.test/u' },
				}),
			).code,
		).toBe('missing_postal_address');
		const http = engineError(() =>
			renderEmail({
				templates,
				data,
				commercial: { postalAddress: '1 Main St', unsubscribeUrl: 'http://ex.test/u' },
			}),
		);
		expect(http.code).toBe('invalid_unsubscribe_url');
		expect(http.field).toBe('unsubscribeUrl');
		expect(
			engineError(() =>
				renderEmail({
					templates,
					data,
					commercial: {
						postalAddress: '1 Main St',
						unsubscribeUrl: 'https://ex.test/u',
						unsubscribeMailto: 'nope',
					},
				}),
			).code,
		).toBe('invalid_unsubscribe_mailto');
	});

	it('escapes data in the footer and warns about clipping and long subjects', () => {
		const big = renderEmail({
			templates: { subject: 'x'.repeat(130), html: '<p>{{{blob}}}</p>' },
			data: { blob: 'y'.repeat(110 * 1024) },
		});
		expect(big.warnings.join(' ')).toMatch(/Gmail clips/);
		expect(big.warnings.join(' ')).toMatch(/subject is 130 characters/);
		const footer = renderEmail({
			templates,
			data,
			commercial: { postalAddress: '<b>Acme</b>', unsubscribeUrl: 'https://ex.test/u' },
		});
		expect(footer.html).toContain('&lt;b&gt;Acme&lt;/b&gt;');
	});

	it('refuses an empty subject', () => {
		expect(
			engineError(() => renderEmail({ templates: { subject: '{{nothing}}', html: 'x' }, data: {} }))
				.code,
		).toBe('empty_subject');
	});
});
