/* The audited template helpers, all built on the runtime's Intl (no helper library).
 * Every helper name is a known helper at compile time, so `{{name}}` for a data field that shares a
 * helper's name calls the helper: names are chosen to be unlikely field names (`safeUrl`, not `url`);
 * `{{this.url}}` still reads such a field. Helpers read render defaults from `@locale`, `@timeZone`
 * and `@format` ('html' or 'text'), which the renderer puts into the data frame. */
import type { HelperDelegate, HelperOptions } from 'handlebars';
import { EngineError } from '../shared/errors';
import { numberOrNaN } from '../shared/guards';
import { isCurrency } from '../shared/money';

type Options = HelperOptions & { name?: string; data?: RenderFrame };

/** Render-wide settings visible to helpers (and to templates as `@locale`, `@timeZone`, `@format`). */
export interface RenderFrame {
	locale?: string;
	timeZone?: string;
	format?: 'html' | 'text';
}

const DEFAULT_LOCALE = 'en-US';

function helperError(helper: string, message: string): EngineError {
	return new EngineError('invalid_helper_argument', `${helper}: ${message}`, {
		details: { helper },
	});
}

function isOptions(value: unknown): value is Options {
	return typeof value === 'object' && value !== null && 'hash' in value && 'data' in value;
}

/** Splits Handlebars' trailing options object off the positional arguments. */
function split(args: unknown[]): { params: unknown[]; options: Options } {
	const last = args[args.length - 1];
	if (!isOptions(last)) throw helperError('helper', 'called without Handlebars options');
	return { params: args.slice(0, -1), options: last };
}

function localeOf(options: Options): string {
	const hashLocale = options.hash.locale;
	if (hashLocale !== undefined && typeof hashLocale !== 'string')
		throw helperError('locale', 'locale must be a text such as "en-US"');
	return hashLocale ?? options.data?.locale ?? DEFAULT_LOCALE;
}

function isBlank(value: unknown): boolean {
	return value === undefined || value === null || value === '';
}

function toNumber(helper: string, value: unknown): number {
	const n = numberOrNaN(value);
	if (!Number.isFinite(n)) throw helperError(helper, `expected a number, got ${describe(value)}`);
	return n;
}

function describe(value: unknown): string {
	if (typeof value === 'string') return `"${value.length > 40 ? value.slice(0, 40) + '…' : value}"`;
	if (value === null || value === undefined) return String(value);
	if (Array.isArray(value)) return 'a list';
	return typeof value === 'object' ? 'an object' : String(value);
}

// Building Intl formatters costs tens of microseconds; templates reuse a handful of them.
const formatterCache = new Map<
	string,
	Intl.NumberFormat | Intl.DateTimeFormat | Intl.PluralRules
>();
function cached<T extends Intl.NumberFormat | Intl.DateTimeFormat | Intl.PluralRules>(
	helper: string,
	key: string,
	make: () => T,
): T {
	let formatter = formatterCache.get(key) as T | undefined;
	if (formatter === undefined) {
		try {
			formatter = make();
		} catch (error) {
			throw helperError(helper, (error as Error).message);
		}
		if (formatterCache.size >= 500) formatterCache.clear();
		formatterCache.set(key, formatter);
	}
	return formatter;
}

function integerOption(
	helper: string,
	hash: Record<string, unknown>,
	name: string,
	min: number,
	max: number,
): number | undefined {
	const value = hash[name];
	if (value === undefined) return undefined;
	if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
		throw helperError(helper, `${name} must be a whole number from ${min} to ${max}`);
	}
	return value;
}

function numberFormat(
	helper: string,
	locale: string,
	options: Intl.NumberFormatOptions,
): Intl.NumberFormat {
	return cached(
		helper,
		`n|${locale}|${JSON.stringify(options)}`,
		() => new Intl.NumberFormat(locale, options),
	);
}

/** `{{formatNumber n}}`, `{{formatNumber n maximumFractionDigits=1}}`, `{{formatNumber 0.25 style="percent"}}`. */
function formatNumber(...args: unknown[]): string {
	const { params, options } = split(args);
	if (isBlank(params[0])) return '';
	const value = toNumber('formatNumber', params[0]);
	const style = options.hash.style ?? 'decimal';
	if (style !== 'decimal' && style !== 'percent')
		throw helperError('formatNumber', 'style must be "decimal" or "percent"');
	const nf: Intl.NumberFormatOptions = { style };
	const min = integerOption('formatNumber', options.hash, 'minimumFractionDigits', 0, 20);
	const max = integerOption('formatNumber', options.hash, 'maximumFractionDigits', 0, 20);
	if (min !== undefined) nf.minimumFractionDigits = min;
	if (max !== undefined) nf.maximumFractionDigits = Math.max(max, min ?? 0);
	return numberFormat('formatNumber', localeOf(options), nf).format(value);
}

/** `{{formatCurrency amount "EUR"}}`; the currency is an ISO 4217 code. */
function formatCurrency(...args: unknown[]): string {
	const { params, options } = split(args);
	if (isBlank(params[0])) return '';
	const value = toNumber('formatCurrency', params[0]);
	const currency = params[1] ?? options.hash.currency;
	if (typeof currency !== 'string' || !isCurrency(currency.toUpperCase())) {
		throw helperError(
			'formatCurrency',
			`needs a three-letter ISO 4217 currency code such as "EUR", got ${describe(currency)}`,
		);
	}
	const display = options.hash.display ?? 'symbol';
	if (!['symbol', 'narrowSymbol', 'code', 'name'].includes(display)) {
		throw helperError(
			'formatCurrency',
			'display must be "symbol", "narrowSymbol", "code" or "name"',
		);
	}
	return numberFormat('formatCurrency', localeOf(options), {
		style: 'currency',
		currency: currency.toUpperCase(),
		currencyDisplay: display,
	}).format(value);
}

const DATE_STYLES = ['full', 'long', 'medium', 'short'];

function toDate(helper: string, value: unknown): Date {
	let date: Date;
	if (value instanceof Date) date = value;
	else if (typeof value === 'number') date = new Date(value);
	else if (typeof value === 'string' && value.trim() !== '') date = new Date(value);
	else
		throw helperError(
			helper,
			`expected a date (ISO 8601 text, milliseconds or Date), got ${describe(value)}`,
		);
	if (Number.isNaN(date.getTime())) throw helperError(helper, `${describe(value)} is not a date`);
	return date;
}

/** `{{formatDate sentAt dateStyle="long" timeStyle="short" timeZone="Europe/Berlin"}}`. */
function formatDate(...args: unknown[]): string {
	const { params, options } = split(args);
	if (isBlank(params[0])) return '';
	const date = toDate('formatDate', params[0]);
	const dateStyle =
		options.hash.dateStyle ?? (options.hash.timeStyle === undefined ? 'medium' : undefined);
	const timeStyle = options.hash.timeStyle;
	for (const [name, value] of [
		['dateStyle', dateStyle],
		['timeStyle', timeStyle],
	]) {
		if (value !== undefined && !DATE_STYLES.includes(value)) {
			throw helperError('formatDate', `${name} must be one of ${DATE_STYLES.join(', ')}`);
		}
	}
	const timeZone = options.hash.timeZone ?? options.data?.timeZone ?? 'UTC';
	const locale = localeOf(options);
	const formatter = cached(
		'formatDate',
		`d|${locale}|${dateStyle}|${timeStyle}|${timeZone}`,
		() => new Intl.DateTimeFormat(locale, { dateStyle, timeStyle, timeZone }),
	);
	return formatter.format(date);
}

/** `{{plural count one="# friend" other="# friends"}}`: CLDR plural rules; `#` becomes the formatted count. */
function plural(...args: unknown[]): string {
	const { params, options } = split(args);
	const count = toNumber('plural', params[0]);
	const hash = options.hash as Record<string, unknown>;
	if (typeof hash.other !== 'string')
		throw helperError('plural', 'needs other="…" (and usually one="…")');
	const locale = localeOf(options);
	const category =
		count === 0 && typeof hash.zero === 'string'
			? 'zero'
			: cached('plural', `p|${locale}`, () => new Intl.PluralRules(locale)).select(count);
	const chosen = typeof hash[category] === 'string' ? hash[category] : hash.other;
	return chosen.includes('#')
		? chosen.split('#').join(numberFormat('plural', locale, {}).format(count))
		: chosen;
}

/** `{{default nickname "friend"}}`: the fallback when the value is missing or empty. */
function defaultHelper(...args: unknown[]): unknown {
	const { params } = split(args);
	if (params.length < 2) throw helperError('default', 'needs a value and a fallback');
	return isBlank(params[0]) ? params[1] : params[0];
}

function compare(helper: string, op: (a: number | string, b: number | string) => boolean) {
	return (...args: unknown[]): boolean => {
		const { params } = split(args);
		if (params.length !== 2) throw helperError(helper, 'needs exactly two values');
		const [a, b] = params;
		if (typeof a === 'number' && typeof b === 'number') return op(a, b);
		if (typeof a === 'string' && typeof b === 'string') return op(a, b);
		// Item JSON often carries numbers as text ("3"); compare those as numbers.
		return op(toNumber(helper, a), toNumber(helper, b));
	};
}

function eq(...args: unknown[]): boolean {
	const { params } = split(args);
	if (params.length !== 2) throw helperError('eq', 'needs exactly two values');
	return params[0] === params[1];
}

function ne(...args: unknown[]): boolean {
	return !eq(...args);
}

function and(...args: unknown[]): unknown {
	const { params } = split(args);
	if (params.length < 2) throw helperError('and', 'needs at least two values');
	return params.every((value) => truthy(value));
}

function or(...args: unknown[]): unknown {
	const { params } = split(args);
	if (params.length < 2) throw helperError('or', 'needs at least two values');
	return params.some((value) => truthy(value));
}

function not(...args: unknown[]): boolean {
	const { params } = split(args);
	if (params.length !== 1) throw helperError('not', 'needs exactly one value');
	return !truthy(params[0]);
}

/** Handlebars' own notion of truth (`#if`): empty lists are false too. */
function truthy(value: unknown): boolean {
	return Array.isArray(value) ? value.length > 0 : Boolean(value);
}

function text(helper: string, value: unknown): string {
	if (isBlank(value)) return '';
	if (typeof value === 'string') return value;
	if (typeof value === 'number' || typeof value === 'boolean') return String(value);
	throw helperError(helper, `expected text, got ${describe(value)}`);
}

/** `{{urlEncode code}}`: for putting a value inside a URL's query or path. */
function urlEncode(...args: unknown[]): string {
	const { params } = split(args);
	return encodeURIComponent(text('urlEncode', params[0]));
}

/**
 * `<a href="{{safeUrl link}}">`: accepts only absolute http(s) and mailto URLs, so a data value such as
 * `javascript:…` cannot become a link; in HTML it keeps `=` readable instead of `&#x3D;`.
 */
function safeUrl(...args: unknown[]): unknown {
	const { params, options } = split(args);
	const raw = text('safeUrl', params[0]).trim();
	if (raw === '') return '';
	let url: URL;
	try {
		url = new URL(raw);
	} catch {
		throw helperError('safeUrl', `${describe(raw)} is not an absolute URL; use https://…`);
	}
	if (!['http:', 'https:', 'mailto:'].includes(url.protocol)) {
		throw helperError(
			'safeUrl',
			`only http, https and mailto links are allowed, got "${url.protocol}"`,
		);
	}
	if (options.data?.format !== 'html') return url.href;
	return new SafeHtml(
		url.href
			.replace(/&/g, '&amp;')
			.replace(/"/g, '&quot;')
			.replace(/'/g, '&#x27;')
			.replace(/</g, '&lt;')
			.replace(/>/g, '&gt;'),
	);
}

/** Marks already-escaped HTML, like Handlebars.SafeString (which the renderer's escaper recognises through `toHTML`). */
export class SafeHtml {
	constructor(private readonly html: string) {}
	toString(): string {
		return this.html;
	}
	toHTML(): string {
		return this.html;
	}
}

const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/** `{{truncate description 80}}`: at most that many characters, the suffix (default "…") included. */
function truncate(...args: unknown[]): string {
	const { params, options } = split(args);
	const value = text('truncate', params[0]);
	const length = params[1];
	if (typeof length !== 'number' || !Number.isInteger(length) || length < 1) {
		throw helperError('truncate', 'needs a length: a whole number of at least 1');
	}
	const suffix = options.hash.suffix ?? '…';
	if (typeof suffix !== 'string') throw helperError('truncate', 'suffix must be text');
	const graphemes = Array.from(segmenter.segment(value), (s) => s.segment);
	if (graphemes.length <= length) return value;
	const keep = Math.max(0, length - Array.from(segmenter.segment(suffix)).length);
	return graphemes.slice(0, keep).join('').trimEnd() + suffix;
}

function upper(...args: unknown[]): string {
	const { params, options } = split(args);
	return text('upper', params[0]).toLocaleUpperCase(localeOf(options));
}

function lower(...args: unknown[]): string {
	const { params, options } = split(args);
	return text('lower', params[0]).toLocaleLowerCase(localeOf(options));
}

/** `{{capitalize firstName}}`: first letter upper-cased, the rest left alone. */
function capitalize(...args: unknown[]): string {
	const { params, options } = split(args);
	const value = text('capitalize', params[0]);
	// Two ASCII characters are never one grapheme (but CR LF, which upper-cases to itself), so the
	// usual name needs no segmenting.
	if (value.charCodeAt(0) < 0x80 && !(value.charCodeAt(1) >= 0x80))
		return value[0].toLocaleUpperCase(localeOf(options)) + value.slice(1);
	const first = segmenter.segment(value)[Symbol.iterator]().next();
	if (first.done) return '';
	return (
		first.value.segment.toLocaleUpperCase(localeOf(options)) +
		value.slice(first.value.segment.length)
	);
}

/** `{{join friends ", "}}`: list of texts or numbers. */
function join(...args: unknown[]): string {
	const { params } = split(args);
	const list = params[0];
	if (isBlank(list)) return '';
	if (!Array.isArray(list)) throw helperError('join', `expected a list, got ${describe(list)}`);
	const separator = params[1] ?? ', ';
	if (typeof separator !== 'string') throw helperError('join', 'separator must be text');
	return list.map((value) => text('join', value)).join(separator);
}

/** `{{toJson value}}`: JSON text (escaped like any other value in HTML). */
function toJson(...args: unknown[]): string {
	const { params } = split(args);
	return JSON.stringify(params[0]) ?? '';
}

export const helpers: Record<string, HelperDelegate> = {
	formatNumber,
	formatCurrency,
	formatDate,
	plural,
	default: defaultHelper,
	eq,
	ne,
	gt: compare('gt', (a, b) => a > b),
	gte: compare('gte', (a, b) => a >= b),
	lt: compare('lt', (a, b) => a < b),
	lte: compare('lte', (a, b) => a <= b),
	and,
	or,
	not,
	urlEncode,
	safeUrl,
	truncate,
	upper,
	lower,
	capitalize,
	join,
	toJson,
};

/** The names templates may call, besides the built-in block helpers if/unless/each/with. */
export const helperNames = Object.keys(helpers);
