/* engine/pages/html.ts: escaping for text and attributes, the escaping template, and the page shell's
 * Content-Security-Policy (inline style and script allowed by their exact hash, nothing fetched). */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
	cspHash,
	escapeAttr,
	escapeHtml,
	markup,
	pageShell,
	raw,
} from '../../../engine/pages/html';

describe('escaping', () => {
	it('escapes markup characters in text', () => {
		expect(escapeHtml(`<script>alert("x")</script> & 'y' \``)).toBe(
			'&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39; &#96;',
		);
		expect(escapeHtml('Zoë & Jörg')).toBe('Zoë &amp; Jörg');
	});

	it('renders nothing for null, undefined and objects, and numbers as text', () => {
		expect(escapeHtml(null)).toBe('');
		expect(escapeHtml(undefined)).toBe('');
		expect(escapeHtml({ toString: () => '<b>' })).toBe('');
		expect(escapeHtml(42)).toBe('42');
	});

	it('escapes quotes and line breaks in attribute values', () => {
		expect(escapeAttr('" onmouseover="alert(1)')).toBe('&quot; onmouseover=&quot;alert(1)');
		expect(escapeAttr('a\nb\tc')).toBe('a&#10;b&#9;c');
	});

	it('the markup template escapes every value except SafeHtml, joins arrays, drops null and false', () => {
		const name = '<img src=x onerror=alert(1)>';
		const out = markup`<p title="${name}">${name}${[markup`<i>${'&'}</i>`, '<b>']}${null}${false}${raw('<br>')}</p>`;
		expect(out.value).toBe(
			'<p title="&lt;img src=x onerror=alert(1)&gt;">&lt;img src=x onerror=alert(1)&gt;<i>&amp;</i>&lt;b&gt;<br></p>',
		);
	});
});

describe('page shell', () => {
	const page = pageShell({
		lang: 'de',
		title: 'Titel <1>',
		body: markup`<main><h1>${'Hallo & so'}</h1></main>`,
		style: '.x{color:red}',
		script: 'console.log(1)',
	});

	it('is one document with the language, an escaped title and the body', () => {
		expect(page.html.startsWith('<!doctype html><html lang="de">')).toBe(true);
		expect(page.html).toContain('<title>Titel &lt;1&gt;</title>');
		expect(page.html).toContain('<h1>Hallo &amp; so</h1>');
		expect(page.html).toContain(
			'<meta name="viewport" content="width=device-width, initial-scale=1">',
		);
		expect(page.html).toContain('noindex');
	});

	it('allows its own inline style and script by sha256 and nothing else', () => {
		const style = /<style>([\s\S]*?)<\/style>/.exec(page.html)![1];
		const script = /<script>([\s\S]*?)<\/script>/.exec(page.html)![1];
		const hash = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;
		expect(page.csp).toContain(`style-src ${hash(style)}`);
		expect(page.csp).toContain(`script-src ${hash(script)}`);
		expect(cspHash(script)).toBe(hash(script));
		expect(page.csp).toContain("default-src 'none'");
		expect(page.csp).toContain("frame-ancestors 'none'");
		expect(page.csp).not.toMatch(/unsafe|https?:|\*/);
		// The same policy (without frame-ancestors, which a meta tag cannot carry) is in the document.
		expect(page.html).toContain(
			`<meta http-equiv="Content-Security-Policy" content="${page.csp.replace("; frame-ancestors 'none'", '').replaceAll("'", '&#39;')}">`,
		);
		expect(page.headers).toMatchObject({
			'Content-Type': 'text/html; charset=utf-8',
			'Cache-Control': 'no-store',
			'Content-Security-Policy': page.csp,
		});
	});

	it('fetches nothing: no src, no link element, no url() in the CSS', () => {
		// The one link element is the empty data: icon, so the browser asks for no /favicon.ico.
		expect(page.html.match(/<link [^>]*>/g)).toEqual(['<link rel="icon" href="data:,">']);
		expect(page.html).not.toMatch(/\ssrc=|url\(|@import|https?:\/\//);
	});

	it('has visible focus styles and no script policy without a script', () => {
		expect(page.html).toContain(':focus-visible{outline:3px solid');
		const plain = pageShell({ lang: 'en', title: 't', body: markup`<main></main>` });
		expect(plain.csp).not.toContain('script-src');
		expect(plain.html).not.toContain('<script');
	});
});
