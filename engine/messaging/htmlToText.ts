/* The plain-text alternative derived from an email's HTML, without a dependency: paragraphs become
 * blank lines, list items get "- " or "1. ", links read "text (url)", images their alt text, and
 * head/style/script vanish. Good enough for the text part of a marketing email, not a browser.
 * A hand-written scanner rather than regular expressions: it runs once per email, per item. */

const NAMED_ENTITIES: Record<string, string> = {
	amp: '&',
	lt: '<',
	gt: '>',
	quot: '"',
	apos: "'",
	nbsp: ' ',
	copy: '©',
	reg: '®',
	trade: '™',
	hellip: '…',
	mdash: '—',
	ndash: '–',
	lsquo: '‘',
	rsquo: '’',
	ldquo: '“',
	rdquo: '”',
	laquo: '«',
	raquo: '»',
	euro: '€',
	pound: '£',
	yen: '¥',
	cent: '¢',
	sect: '§',
	deg: '°',
	middot: '·',
	bull: '•',
	times: '×',
	divide: '÷',
	iexcl: '¡',
	iquest: '¿',
	shy: '',
	zwnj: '',
	zwj: '',
	thinsp: ' ',
	ensp: ' ',
	emsp: ' ',
};

const ENTITY = /&(#x[0-9a-fA-F]{1,6}|#[0-9]{1,7}|[a-zA-Z]{2,8});/g;

export function decodeEntities(text: string): string {
	if (!text.includes('&')) return text;
	return text.replace(ENTITY, (whole, entity: string) => {
		if (entity[0] === '#') {
			const code =
				entity[1] === 'x' || entity[1] === 'X'
					? parseInt(entity.slice(2), 16)
					: parseInt(entity.slice(1), 10);
			return code > 0 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff)
				? String.fromCodePoint(code)
				: whole;
		}
		return NAMED_ENTITIES[entity] ?? NAMED_ENTITIES[entity.toLowerCase()] ?? whole;
	});
}

/**
 * What a tag does to the text: "paragraph" continues it after a blank line, "line" on a new line,
 * "dropped" content is never text for the reader; tags not listed (b, span…) do nothing ("inline").
 */
type TagKind =
	| 'paragraph'
	| 'line'
	| 'dropped'
	| 'pre'
	| 'br'
	| 'hr'
	| 'img'
	| 'a'
	| 'list'
	| 'li'
	| 'cell'
	| 'inline';

const TAGS = new Map<string, TagKind>();
const kinds: Array<[TagKind, string]> = [
	['paragraph', 'p h1 h2 h3 h4 h5 h6 table blockquote dl figure'],
	[
		'line',
		'div tr section article header footer main nav aside address center dt dd form tbody thead tfoot caption',
	],
	['dropped', 'head style script title template noscript'],
	['pre', 'pre'],
	['br', 'br'],
	['hr', 'hr'],
	['img', 'img'],
	['a', 'a'],
	['list', 'ul ol'],
	['li', 'li'],
	['cell', 'td th'],
	// Listed so that the usual ones are found without lower-casing their name first.
	['inline', 'html body meta b strong i em u span font small'],
];
for (const [kind, names] of kinds) for (const name of names.split(' ')) TAGS.set(name, kind);

/** The tag's kind by its name in any letter case; lower-case names (the usual) need no copy. */
function tagKind(name: string): TagKind {
	return TAGS.get(name) ?? TAGS.get(name.toLowerCase()) ?? 'inline';
}

const attributePatterns = new Map<string, RegExp>();
function attribute(attributes: string, name: string): string | undefined {
	let pattern = attributePatterns.get(name);
	if (pattern === undefined) {
		pattern = new RegExp(`(?:^|\\s)${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)'|([^\\s"'>]+))`, 'i');
		attributePatterns.set(name, pattern);
	}
	const match = pattern.exec(attributes);
	return match ? decodeEntities(match[1] ?? match[2] ?? match[3] ?? '') : undefined;
}

const WHITESPACE = /[ \t\n\r\f\v]+/g;

/** Whether `text` holds whitespace that collapsing would change: a run, or anything but a plain space. */
function hasInnerSpace(text: string): boolean {
	let previousSpace = false;
	for (let i = 0; i < text.length; i++) {
		const c = text.charCodeAt(i);
		if (c === 32) {
			if (previousSpace) return true;
			previousSpace = true;
		} else if (c >= 9 && c <= 13) {
			return true;
		} else {
			previousSpace = false;
		}
	}
	return false;
}

function isSpace(c: number): boolean {
	return c === 32 || (c >= 9 && c <= 13);
}

class TextWriter {
	private out = '';
	/** The last character written, tracked so the output string is never re-read. */
	private last = '';
	private newlines = 0;
	private space = false;
	prefix = '';

	text(value: string, preformatted: boolean): void {
		if (preformatted) {
			this.write(value);
			return;
		}
		let start = 0;
		let end = value.length;
		while (start < end && isSpace(value.charCodeAt(start))) start++;
		if (start === end) {
			if (end > 0) this.space = true;
			return;
		}
		while (isSpace(value.charCodeAt(end - 1))) end--;
		if (start > 0) this.space = true;
		const body = value.slice(start, end);
		this.write(hasInnerSpace(body) ? body.replace(WHITESPACE, ' ') : body);
		this.space = end < value.length;
	}

	/** Written as is (list markers, rules), after any pending line breaks. */
	write(value: string): void {
		if (this.newlines > 0) {
			this.out += '\n'.repeat(this.newlines) + this.prefix;
			this.last = this.prefix === '' ? '\n' : ' ';
			this.newlines = 0;
		} else if (this.space && this.out !== '' && this.last !== ' ' && this.last !== '\n') {
			this.out += ' ';
			this.last = ' ';
		}
		this.space = false;
		if (value !== '') {
			this.out += value;
			this.last = value[value.length - 1];
		}
	}

	breakLines(count: number): void {
		if (this.out !== '') this.newlines = Math.max(this.newlines, count);
		this.space = false;
	}

	result(): string {
		let out = this.out;
		// Only unusual HTML leaves either; looking costs less than a replace that finds nothing.
		if (out.includes(' \n') || out.includes('\t\n')) out = out.replace(/[ \t]+\n/g, '\n');
		if (out.includes('\n\n\n')) out = out.replace(/\n{3,}/g, '\n\n');
		return out.trim();
	}
}

/** Index just past the `>` closing the tag that starts at `start`, honouring quoted attribute values. */
function tagEnd(html: string, start: number): number {
	let quote = 0;
	for (let i = start + 1; i < html.length; i++) {
		const c = html.charCodeAt(i);
		if (quote !== 0) {
			if (c === quote) quote = 0;
		} else if (c === 34 || c === 39) {
			quote = c;
		} else if (c === 62) {
			return i + 1;
		}
	}
	return -1;
}

const closingTags = new Map<string, RegExp>();
/** Where `</name` next starts, in any letter case. */
function closingTagIndex(html: string, name: string, from: number): number {
	let pattern = closingTags.get(name);
	if (pattern === undefined) {
		pattern = new RegExp(`</${name}\\b`, 'gi');
		closingTags.set(name, pattern);
	}
	pattern.lastIndex = from;
	return pattern.exec(html)?.index ?? -1;
}

function isNameChar(c: number): boolean {
	return (
		(c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 45 || c === 58
	);
}

export function htmlToText(html: string): string {
	const writer = new TextWriter();
	const lists: Array<{ ordered: boolean; next: number }> = [];
	const links: Array<{ href?: string; text: string }> = [];
	let pre = 0;
	let position = 0;

	const emitText = (raw: string): void => {
		if (raw === '') return;
		const decoded = decodeEntities(raw);
		writer.text(decoded, pre > 0);
		for (const link of links) link.text += decoded;
	};

	while (position < html.length) {
		const open = html.indexOf('<', position);
		if (open < 0) break;
		emitText(html.slice(position, open));
		position = open;
		if (html.startsWith('<!--', open)) {
			const close = html.indexOf('-->', open + 4);
			position = close < 0 ? html.length : close + 3;
			continue;
		}
		const next = html.charCodeAt(open + 1);
		const closing = next === 47; // "/"
		const nameStart = open + (closing ? 2 : 1);
		let nameEnd = nameStart;
		while (nameEnd < html.length && isNameChar(html.charCodeAt(nameEnd))) nameEnd++;
		if (next === 33 || next === 63) {
			// <!DOCTYPE …>, <![CDATA[…]]>, <?xml …?>: not text.
			const end = tagEnd(html, open);
			position = end < 0 ? html.length : end;
			continue;
		}
		const end = nameEnd > nameStart ? tagEnd(html, open) : -1;
		if (end < 0) {
			// A "<" that starts no tag is text.
			emitText('<');
			position = open + 1;
			continue;
		}
		position = end;
		const name = html.slice(nameStart, nameEnd);
		const kind = tagKind(name);
		switch (kind) {
			case 'dropped':
				if (!closing) {
					const close = closingTagIndex(html, name.toLowerCase(), end);
					position = close < 0 ? html.length : Math.max(end, tagEnd(html, close));
				}
				continue;
			case 'br':
				writer.breakLines(1);
				writer.write('');
				continue;
			case 'hr':
				writer.breakLines(2);
				writer.write('---');
				writer.breakLines(2);
				continue;
			case 'img': {
				const alt = attribute(html.slice(nameEnd, end - 1), 'alt')?.trim();
				if (alt) writer.text(` ${alt} `, false);
				continue;
			}
			case 'a':
				if (!closing) {
					links.push({ href: attribute(html.slice(nameEnd, end - 1), 'href')?.trim(), text: '' });
				} else {
					const link = links.pop();
					const target = link?.href ? linkTarget(link.href, link.text) : undefined;
					if (target) writer.text(` (${target})`, false);
				}
				continue;
			case 'list':
				if (!closing) {
					const ordered = name.toLowerCase() === 'ol';
					const start = ordered ? attribute(html.slice(nameEnd, end - 1), 'start') : undefined;
					lists.push({ ordered, next: Number(start ?? 1) || 1 });
				} else lists.pop();
				writer.prefix = '   '.repeat(Math.max(0, lists.length - 1));
				writer.breakLines(lists.length > 0 ? 1 : 2);
				continue;
			case 'li':
				writer.breakLines(1);
				if (!closing) {
					const list = lists[lists.length - 1];
					writer.write(list?.ordered ? `${list.next++}. ` : '- ');
				}
				continue;
			case 'cell':
				if (closing) writer.text(' ', false);
				continue;
			case 'pre':
				pre = Math.max(0, pre + (closing ? -1 : 1));
				writer.breakLines(2);
				continue;
			case 'paragraph':
				writer.breakLines(2);
				continue;
			case 'line':
				writer.breakLines(1);
				continue;
			case 'inline':
				continue;
		}
	}
	emitText(html.slice(position));
	return writer.result();
}

/** What to print after a link's text: nothing when the text already says it or the link goes nowhere. */
function linkTarget(href: string, text: string): string | undefined {
	if (href === '' || href.startsWith('#') || /^javascript:/i.test(href)) return undefined;
	const shown = href.replace(/^mailto:/i, '');
	const normalized = text.trim().replace(/\s+/g, ' ');
	if (normalized === '') return shown;
	if (
		normalized === shown ||
		normalized === href ||
		normalized.replace(/\/$/, '') === shown.replace(/\/$/, '')
	)
		return undefined;
	return shown;
}
