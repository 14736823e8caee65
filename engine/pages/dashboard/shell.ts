import { escapeXml } from '../../charts/svg';

/**
 * A tiny local page shell for the dashboard pages (escape, layout, inline CSS). The participant
 * page brings shared page infrastructure (engine/pages/html.ts); this one is meant to move onto it.
 * Everything is inline: no CDN, no external script, style sheet or font.
 */

export const escapeHtml = escapeXml;

/** Strict CSP: nothing loads from anywhere; inline styles only; forms post to this origin. */
export const CSP =
	"default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

export function pageHeaders(extra: Record<string, string> = {}): Record<string, string> {
	return {
		'content-type': 'text/html; charset=utf-8',
		'cache-control': 'no-store',
		'content-security-policy': CSP,
		'x-content-type-options': 'nosniff',
		'referrer-policy': 'no-referrer',
		'x-frame-options': 'DENY',
		...extra,
	};
}

const CSS = `
*{box-sizing:border-box}
body{margin:0;font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:#1a1a1a;background:#f5f6f8;line-height:1.45}
header{background:#1f2a44;color:#fff;padding:12px 20px;display:flex;gap:20px;align-items:baseline;flex-wrap:wrap}
header h1{font-size:1.25rem;margin:0}
header nav a{color:#fff;margin-right:14px}
main{max-width:1200px;margin:0 auto;padding:16px}
section{background:#fff;border:1px solid #d8dbe2;border-radius:8px;padding:14px 16px;margin:0 0 16px}
h2{font-size:1.1rem;margin:0 0 10px}
.kpis{display:grid;grid-template-columns:repeat(auto-fill,minmax(170px,1fr));gap:12px;padding:0;margin:0 0 16px;list-style:none}
.kpis li{background:#fff;border:1px solid #d8dbe2;border-radius:8px;padding:10px 12px}
.kpis .label{display:block;font-size:.85rem;color:#4a4f5a}
.kpis .value{display:block;font-size:1.5rem;font-weight:700}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(480px,1fr));gap:16px}
.chart svg{max-width:100%;height:auto}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:6px 8px;border-bottom:1px solid #e3e5ea;vertical-align:top}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.muted{color:#4a4f5a;font-size:.9rem}
.notice{background:#e8f4ea;border:1px solid #2e7d32;padding:10px 12px;border-radius:6px}
.error{background:#fdecea;border:1px solid #b3261e;padding:10px 12px;border-radius:6px}
.reasons{margin:0;padding-left:18px}
form.inline{display:inline}
button{font:inherit;padding:6px 14px;border-radius:6px;border:1px solid #1f2a44;cursor:pointer}
button.approve{background:#0b6e4f;color:#fff;border-color:#0b6e4f}
button.reject{background:#fff;color:#8a1c14;border-color:#8a1c14}
button:focus-visible,a:focus-visible{outline:3px solid #e69f00;outline-offset:2px}
@media (max-width:560px){.grid{grid-template-columns:1fr}}
`;

export interface ShellInput {
	title: string;
	lang?: string;
	nav?: Array<{ href: string; label: string; current?: boolean }>;
	body: string;
}

export function shell(page: ShellInput): string {
	const nav = (page.nav ?? [])
		.map(
			(n) =>
				`<a href="${escapeHtml(n.href)}"${n.current ? ' aria-current="page"' : ''}>${escapeHtml(n.label)}</a>`,
		)
		.join('');
	return (
		`<!doctype html><html lang="${escapeHtml(page.lang ?? 'en')}"><head><meta charset="utf-8">` +
		`<meta name="viewport" content="width=device-width,initial-scale=1">` +
		`<meta name="referrer" content="no-referrer"><title>${escapeHtml(page.title)}</title>` +
		`<style>${CSS}</style></head><body>` +
		`<header><h1>${escapeHtml(page.title)}</h1>${nav ? `<nav aria-label="Pages">${nav}</nav>` : ''}</header>` +
		`<main>${page.body}</main></body></html>`
	);
}
