/* The plain-text alternative derived from an email's HTML, without a dependency: paragraphs become
 * blank lines, list items get "- " or "1. ", links read "text (url)", images their alt text, and
 * head/style/script vanish. Good enough for the text part of a marketing email, not a browser. */

const NAMED_ENTITIES: Record<string, string> = {
	amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ', copy: '©', reg: '®', trade: '™',
	hellip: '…', mdash: '—', ndash: '–', lsquo: '‘', rsquo: '’', ldquo: '“', rdquo: '”', laquo: '«',
	raquo: '»', euro: '€', pound: '£', yen: '¥', cent: '¢', sect: '§', deg: '°', middot: '·', bull: '•',
	times: '×', divide: '÷', iexcl: '¡', iquest: '¿', shy: '', zwnj: '', zwj: '', thinsp: ' ', ensp: ' ', emsp: ' ',
};

export function decodeEntities(text: string): string {
	return text.replace(/&(#x[0-9a-fA-F]{1,6}|#[0-9]{1,7}|[a-zA-Z]{2,8});/g, (whole, entity: string) => {
		if (entity[0] === '#') {
			const code = entity[1] === 'x' || entity[1] === 'X' ? parseInt(entity.slice(2), 16) : parseInt(entity.slice(1), 10);
			return code > 0 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff) ? String.fromCodePoint(code) : whole;
		}
		return NAMED_ENTITIES[entity] ?? NAMED_ENTITIES[entity.toLowerCase()] ?? whole;
	});
}

/** Tags after which text continues on a new paragraph (blank line) or a new line. */
const PARAGRAPH = new Set(['p', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'ul', 'ol', 'table', 'blockquote', 'pre', 'dl', 'figure']);
const LINE = new Set(['div', 'tr', 'li', 'section', 'article', 'header', 'footer', 'main', 'nav', 'aside', 'address', 'center', 'dt', 'dd', 'form', 'tbody', 'thead', 'tfoot', 'caption']);
const DROPPED = /<(head|style|script|title|template|noscript)\b[^>]*>[\s\S]*?<\/\1\s*>/gi;
const TOKEN = /<!--[\s\S]*?-->|<!\[CDATA\[[\s\S]*?\]\]>|<![^>]*>|<\/?([a-zA-Z][a-zA-Z0-9:-]*)((?:\s+[^\s"'>/=]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'>]+))?)*)\s*\/?>/g;

function attribute(attributes: string, name: string): string | undefined {
	const match = new RegExp(`(?:^|\\s)${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)'|([^\\s"'>]+))`, 'i').exec(attributes);
	return match ? decodeEntities(match[1] ?? match[2] ?? match[3] ?? '') : undefined;
}

class TextWriter {
	private out = '';
	private newlines = 0;
	private space = false;
	prefix = '';

	text(value: string, preformatted: boolean): void {
		if (preformatted) {
			this.flush();
			this.out += value;
			return;
		}
		const collapsed = value.replace(/[ \t\n\r\f\v]+/g, ' ');
		if (collapsed === ' ') {
			this.space = true;
			return;
		}
		if (collapsed.startsWith(' ')) this.space = true;
		const body = collapsed.trim();
		if (body === '') return;
		this.flush();
		this.out += body;
		this.space = collapsed.endsWith(' ');
	}

	/** Words placed inline without the leading space heuristics (link targets, alt text). */
	inline(value: string): void {
		this.flush();
		this.out += value;
	}

	breakLines(count: number): void {
		if (this.out !== '') this.newlines = Math.max(this.newlines, count);
		this.space = false;
	}

	private flush(): void {
		if (this.newlines > 0) {
			this.out += '\n'.repeat(this.newlines) + this.prefix;
			this.newlines = 0;
		} else if (this.space && this.out !== '' && !this.out.endsWith(' ') && !this.out.endsWith('\n')) {
			this.out += ' ';
		}
		this.space = false;
	}

	result(): string {
		return this.out
			.split('\n')
			.map((line) => line.replace(/[ \t]+$/, ''))
			.join('\n')
			.replace(/\n{3,}/g, '\n\n')
			.trim();
	}
}

export function htmlToText(html: string): string {
	const source = html.replace(DROPPED, '');
	const writer = new TextWriter();
	const lists: Array<{ ordered: boolean; next: number }> = [];
	const links: Array<{ href?: string; text: string }> = [];
	let pre = 0;
	let last = 0;

	const emitText = (raw: string): void => {
		if (raw === '') return;
		const decoded = decodeEntities(raw);
		writer.text(decoded, pre > 0);
		for (const link of links) link.text += decoded;
	};

	for (const match of source.matchAll(TOKEN)) {
		emitText(source.slice(last, match.index));
		last = match.index + match[0].length;
		const name = match[1]?.toLowerCase();
		if (name === undefined) continue; // comment, doctype, CDATA
		const closing = match[0][1] === '/';
		const attributes = match[2] ?? '';
		if (name === 'br') {
			writer.breakLines(1);
			writer.inline('');
			continue;
		}
		if (name === 'hr') {
			writer.breakLines(2);
			writer.inline('---');
			writer.breakLines(2);
			continue;
		}
		if (name === 'img') {
			const alt = attribute(attributes, 'alt')?.trim();
			if (alt) writer.text(` ${alt} `, false);
			continue;
		}
		if (name === 'a') {
			if (!closing) {
				links.push({ href: attribute(attributes, 'href')?.trim(), text: '' });
			} else {
				const link = links.pop();
				const target = link?.href ? linkTarget(link.href, link.text) : undefined;
				if (target) writer.text(` (${target})`, false);
			}
			continue;
		}
		if (name === 'ul' || name === 'ol') {
			if (!closing) lists.push({ ordered: name === 'ol', next: Number(attribute(attributes, 'start') ?? 1) || 1 });
			else lists.pop();
			writer.prefix = '   '.repeat(Math.max(0, lists.length - 1));
			writer.breakLines(lists.length > 0 ? 1 : 2);
			continue;
		}
		if (name === 'li') {
			writer.breakLines(1);
			if (!closing) {
				const list = lists[lists.length - 1];
				writer.inline(list?.ordered ? `${list.next++}. ` : '- ');
			}
			continue;
		}
		if (name === 'td' || name === 'th') {
			if (closing) writer.text(' ', false);
			continue;
		}
		if (name === 'pre') pre += closing ? -1 : 1;
		if (PARAGRAPH.has(name)) writer.breakLines(2);
		else if (LINE.has(name)) writer.breakLines(1);
	}
	emitText(source.slice(last));
	return writer.result();
}

/** What to print after a link's text: nothing when the text already says it or the link goes nowhere. */
function linkTarget(href: string, text: string): string | undefined {
	if (href === '' || href.startsWith('#') || /^javascript:/i.test(href)) return undefined;
	const shown = href.replace(/^mailto:/i, '');
	const normalised = text.trim().replace(/\s+/g, ' ');
	if (normalised === '' || normalised === shown || normalised === href || normalised.replace(/\/$/, '') === shown.replace(/\/$/, '')) {
		return normalised === '' ? shown : undefined;
	}
	return shown;
}
