import { createHash } from 'node:crypto';

/**
 * HTML for the pages n8n serves (the participant page, the marketer dashboard): escaping, a tagged
 * template that escapes every value it is given, and the page shell with its Content-Security-Policy.
 * No n8n imports, no network: a page is one self-contained document with inline CSS (and at most a
 * small inline script), allowed by the hash of its exact text, so it fetches nothing from anywhere.
 *
 * Usage:
 * ```ts
 * const body = markup`<h1>${title}</h1><a href="${url}">${label}</a>`; // title, url, label escaped
 * const { html: page, headers } = pageShell({ lang: 'de', title, body, style: CSS, script: JS });
 * ```
 */

const TEXT_ESCAPES: Record<string, string> = {
	'&': '&amp;',
	'<': '&lt;',
	'>': '&gt;',
	'"': '&quot;',
	"'": '&#39;',
	'`': '&#96;',
};

/** Text for an element's content: `&`, `<`, `>` and quotes become entities. */
export function escapeHtml(value: unknown): string {
	return textOf(value).replace(/[&<>"'`]/g, (c) => TEXT_ESCAPES[c]);
}

/**
 * Text for a quoted attribute value (always write attributes in double quotes). Also escapes line
 * breaks and tabs, which browsers would otherwise normalise inside attribute values.
 */
export function escapeAttr(value: unknown): string {
	return escapeHtml(value).replace(/[\n\r\t]/g, (c) => `&#${c.charCodeAt(0)};`);
}

function textOf(value: unknown): string {
	if (value === undefined || value === null) return '';
	if (typeof value === 'string') return value;
	if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
		return String(value);
	return '';
}

/** Markup already safe to insert as is (made by {@link markup} or {@link raw}). */
export class SafeHtml {
	constructor(readonly value: string) {}
	toString(): string {
		return this.value;
	}
}

/** Marks trusted markup (constant text of this package, or generated SVG) as safe; never pass user data. */
export function raw(markup: string): SafeHtml {
	return new SafeHtml(markup);
}

/**
 * Tagged template (named `markup`, not `html`, so Prettier leaves its text alone: reformatting
 * would change the page and the hashes of its inline style and script): every interpolated value is escaped (attribute-safe) unless it is {@link SafeHtml};
 * arrays are joined; `null`, `undefined` and `false` render nothing.
 */
export function markup(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
	let out = strings[0];
	for (let i = 0; i < values.length; i++) out += piece(values[i]) + strings[i + 1];
	return new SafeHtml(out);
}

function piece(value: unknown): string {
	if (value === undefined || value === null || value === false) return '';
	if (value instanceof SafeHtml) return value.value;
	if (Array.isArray(value)) return value.map(piece).join('');
	return escapeAttr(value);
}

/** `'sha256-…'` of an inline script or style, as a Content-Security-Policy source. */
export function cspHash(text: string): string {
	return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

/** The base style every page shares: mobile first, system fonts, WCAG AA contrast, visible focus. */
export const BASE_STYLE = `
:root{--fg:#1a1a1a;--muted:#4a4a4a;--bg:#ffffff;--panel:#f4f5f7;--line:#c9ccd1;--accent:#0b57d0;--accent-fg:#ffffff;--ok:#0a6b2b;--warn:#8a4b00;--bad:#a50e0e;color-scheme:light dark}
@media (prefers-color-scheme:dark){:root{--fg:#f2f2f2;--muted:#c8c8c8;--bg:#121212;--panel:#1e1f22;--line:#5a5d63;--accent:#8ab4f8;--accent-fg:#0b1a33;--ok:#7ee2a0;--warn:#ffc66d;--bad:#ff9b9b}}
*{box-sizing:border-box}
html{font-size:100%;-webkit-text-size-adjust:100%}
body{margin:0;font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;line-height:1.5;color:var(--fg);background:var(--bg)}
.skip{position:absolute;left:-999px;top:0;padding:.5rem 1rem;background:var(--accent);color:var(--accent-fg)}
.skip:focus{left:.5rem;top:.5rem;z-index:10}
header,main,footer{max-width:64rem;margin:0 auto;padding:1rem}
header{border-bottom:1px solid var(--line)}
header h1{margin:.25rem 0;font-size:1.5rem}
h2{font-size:1.2rem;margin:0 0 .75rem}
p{margin:.25rem 0 .75rem}
a{color:var(--accent)}
a:focus-visible,button:focus-visible,input:focus-visible,summary:focus-visible{outline:3px solid var(--accent);outline-offset:2px}
section{background:var(--panel);border:1px solid var(--line);border-radius:.75rem;padding:1rem;margin:0 0 1rem}
.grid{display:grid;gap:1rem;grid-template-columns:1fr}
@media (min-width:48rem){.grid{grid-template-columns:1fr 1fr}.wide{grid-column:1 / -1}}
.muted{color:var(--muted)}
button,.button{display:inline-flex;align-items:center;justify-content:center;min-height:2.75rem;padding:.5rem 1rem;border-radius:.5rem;border:1px solid var(--accent);background:var(--accent);color:var(--accent-fg);font:inherit;font-weight:600;text-decoration:none;cursor:pointer}
.button.secondary,button.secondary{background:transparent;color:var(--accent)}
input[type=text]{width:100%;min-height:2.75rem;padding:.5rem;border:1px solid var(--line);border-radius:.5rem;font:inherit;color:var(--fg);background:var(--bg)}
label{display:block;font-weight:600;margin:0 0 .25rem}
table{width:100%;border-collapse:collapse}
th,td{text-align:left;padding:.5rem .25rem;border-bottom:1px solid var(--line);vertical-align:top}
dl{display:grid;grid-template-columns:auto 1fr;gap:.25rem 1rem;margin:0}
dt{font-weight:600}
dd{margin:0}
ul.plain{list-style:none;padding:0;margin:0}
progress{width:100%;height:1rem;accent-color:var(--accent)}
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
`;

export interface PageShellInput {
	/** BCP 47 language of the page, e.g. `en`, `de`. */
	lang: string;
	title: string;
	/** The page's content inside `<body>` (landmarks: header, main, footer are the caller's). */
	body: SafeHtml;
	/** Extra CSS after {@link BASE_STYLE}. */
	style?: string;
	/** One small inline script (no src); allowed by its hash. */
	script?: string;
	/** Adds `<meta name="robots" content="noindex">` (default true: private pages). */
	noindex?: boolean;
}

export interface ShellOutput {
	html: string;
	/** The Content-Security-Policy: inline style and script by their sha256 hash, nothing fetched. */
	csp: string;
	/** Response headers for the page: Content-Type, Cache-Control no-store, the CSP and friends. */
	headers: Record<string, string>;
}

/**
 * The complete document. Its CSP allows exactly the page's own inline style and script (by hash),
 * `data:` images, and nothing else: no network request, no form post, no framing. The policy is in
 * the headers and also in a `<meta http-equiv>`, because n8n 2.x replaces a webhook's own
 * Content-Security-Policy header with its sandbox policy; the meta policy then still applies.
 */
export function pageShell(input: PageShellInput): ShellOutput {
	const style = BASE_STYLE + (input.style ?? '');
	const sources = ["default-src 'none'", `style-src ${cspHash(style)}`, 'img-src data:'];
	if (input.script) sources.push(`script-src ${cspHash(input.script)}`);
	sources.push("base-uri 'none'", "form-action 'none'");
	const metaCsp = sources.join('; ');
	const csp = `${metaCsp}; frame-ancestors 'none'`;
	const robots =
		input.noindex === false ? '' : raw('<meta name="robots" content="noindex, nofollow">');
	// The style and script go in as raw text: their hashes are of exactly these bytes.
	const styleTag = raw(`<style>${style}</style>`);
	const scriptTag = input.script ? raw(`<script>${input.script}</script>`) : '';
	const head = markup`<meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta http-equiv="Content-Security-Policy" content="${metaCsp}"><meta name="referrer" content="no-referrer"><link rel="icon" href="data:,">${robots}<title>${input.title}</title>${styleTag}`;
	const document = `<!doctype html>${markup`<html lang="${input.lang}"><head>${head}</head><body>${input.body}${scriptTag}</body></html>`.value}`;
	return {
		html: document,
		csp,
		headers: {
			'Content-Type': 'text/html; charset=utf-8',
			'Cache-Control': 'no-store',
			'Content-Security-Policy': csp,
			'Referrer-Policy': 'no-referrer',
			'X-Content-Type-Options': 'nosniff',
			'X-Frame-Options': 'DENY',
		},
	};
}
