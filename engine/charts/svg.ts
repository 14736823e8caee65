/**
 * A small server-side SVG chart helper for pages and email (no n8n, no browser, no canvas).
 *
 * Every chart is one self-contained <svg> string: role="img", aria-labelledby its <title> and
 * <desc>, text labels on the bars and points (a chart can be read without telling colours
 * apart), colours from the Okabe–Ito palette (safe for the common colour-vision deficiencies),
 * numbers formatted for the locale. The output depends on the input alone (ids are derived from
 * the title), so the same data gives the same bytes.
 */

/** Okabe–Ito: distinguishable with protanopia, deuteranopia and tritanopia. */
export const PALETTE = [
	'#0072B2',
	'#E69F00',
	'#009E73',
	'#CC79A7',
	'#56B4E9',
	'#D55E00',
	'#000000',
	'#F0E442',
] as const;

const FONT = 'DejaVu Sans, Verdana, Arial, sans-serif';
const INK = '#1a1a1a';
const GRID = '#d0d0d0';

export interface ChartBase {
	title: string;
	/** What the chart shows, in a sentence (read by screen readers); default: a summary of the data. */
	description?: string;
	width?: number;
	height?: number;
	/** BCP 47 locale for numbers (default en). */
	locale?: string;
	/** Number format options for values (default: up to 2 fraction digits). */
	format?: Intl.NumberFormatOptions;
}

export interface Series {
	name: string;
	values: readonly number[];
}

export interface TimeChart extends ChartBase {
	/** One label per point (e.g. the week's first day). */
	labels: readonly string[];
	series: readonly Series[];
	/** Fill the area under each line. */
	area?: boolean;
}

export interface Bar {
	label: string;
	value: number;
}

export interface BarChart extends ChartBase {
	bars: readonly Bar[];
}

/** Escapes text for XML/HTML content and attribute values. */
export function escapeXml(value: unknown): string {
	return String(value)
		.replace(/&/g, '&amp;')
		.replace(/</g, '&lt;')
		.replace(/>/g, '&gt;')
		.replace(/"/g, '&quot;')
		.replace(/'/g, '&#39;');
}

/** A number for the locale; non-finite values read as "–". */
export function formatNumber(
	value: number,
	locale = 'en',
	options: Intl.NumberFormatOptions = { maximumFractionDigits: 2 },
): string {
	if (!Number.isFinite(value)) return '–';
	return new Intl.NumberFormat(safeLocale(locale), options).format(value);
}

function safeLocale(locale: string): string {
	try {
		return Intl.NumberFormat.supportedLocalesOf([locale]).length > 0 ? locale : 'en';
	} catch {
		return 'en';
	}
}

/** Coordinates rounded to 0.01 so the output is short and stable. */
function r(x: number): string {
	return String(Math.round(x * 100) / 100);
}

/** A stable id from the title (FNV-1a), so two charts on a page do not share ids. */
function idOf(kind: string, title: string): string {
	let h = 0x811c9dc5;
	for (const ch of `${kind}:${title}`) {
		h ^= ch.codePointAt(0)!;
		h = Math.imul(h, 0x01000193) >>> 0;
	}
	return `chart-${kind}-${h.toString(36)}`;
}

function finite(values: readonly number[]): number[] {
	return values.map((v) => (typeof v === 'number' && Number.isFinite(v) ? v : 0));
}

/** A "nice" axis maximum (1, 2, 2.5, 5 × 10^n) at or above max. */
export function niceMax(max: number): number {
	if (!(max > 0)) return 1;
	const exp = Math.floor(Math.log10(max));
	const base = 10 ** exp;
	for (const step of [1, 2, 2.5, 5, 10]) if (step * base >= max) return step * base;
	return 10 * base;
}

function frame(
	kind: string,
	c: ChartBase,
	width: number,
	height: number,
	body: string,
	summary: string,
): string {
	const id = idOf(kind, c.title);
	const desc = c.description ?? summary;
	return (
		`<svg xmlns="http://www.w3.org/2000/svg" role="img" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" aria-labelledby="${id}-t ${id}-d" font-family="${FONT}" font-size="12">` +
		`<title id="${id}-t">${escapeXml(c.title)}</title><desc id="${id}-d">${escapeXml(desc)}</desc>` +
		`<rect width="${width}" height="${height}" fill="#ffffff"/>` +
		`<text x="12" y="20" font-size="14" font-weight="bold" fill="${INK}">${escapeXml(c.title)}</text>` +
		body +
		`</svg>`
	);
}

function empty(kind: string, c: ChartBase, width: number, height: number): string {
	return frame(
		kind,
		c,
		width,
		height,
		`<text x="${r(width / 2)}" y="${r(height / 2)}" text-anchor="middle" fill="${INK}">No data yet</text>`,
		'No data yet.',
	);
}

function fmt(c: ChartBase) {
	const locale = c.locale ?? 'en';
	return (v: number) => formatNumber(v, locale, c.format);
}

/** Lines (or areas) over time, one per series, with a legend, axis labels and the last value of each line. */
export function lineChart(c: TimeChart): string {
	const width = c.width ?? 640;
	const height = c.height ?? 260;
	const series = c.series.map((s) => ({ name: s.name, values: finite(s.values) }));
	const points = c.labels.length;
	if (points === 0 || series.length === 0) return empty('line', c, width, height);
	const f = fmt(c);
	const left = 56;
	const right = 16;
	const top = 48;
	const bottom = 40;
	const plotW = width - left - right;
	const plotH = height - top - bottom;
	const max = niceMax(Math.max(0, ...series.flatMap((s) => s.values)));
	const x = (i: number) => left + (points === 1 ? plotW / 2 : (plotW * i) / (points - 1));
	const y = (v: number) => top + plotH - (plotH * Math.max(0, v)) / max;
	let body = '';
	for (let t = 0; t <= 4; t++) {
		const v = (max * t) / 4;
		body += `<line x1="${left}" x2="${width - right}" y1="${r(y(v))}" y2="${r(y(v))}" stroke="${GRID}" stroke-width="1"/>`;
		body += `<text x="${left - 6}" y="${r(y(v) + 4)}" text-anchor="end" fill="${INK}">${escapeXml(f(v))}</text>`;
	}
	const every = Math.max(1, Math.ceil(points / 8));
	c.labels.forEach((label, i) => {
		// Counted from the last point, so the latest label always shows and never collides with another.
		if ((points - 1 - i) % every !== 0) return;
		body += `<text x="${r(x(i))}" y="${height - bottom + 16}" text-anchor="middle" fill="${INK}">${escapeXml(label)}</text>`;
	});
	// Legend: a swatch and the name of each series, with its dash pattern so lines differ without colour too.
	const dashes = ['', '6 3', '2 3', '8 3 2 3'];
	let lx = left;
	series.forEach((s, i) => {
		const colour = PALETTE[i % PALETTE.length];
		const dash = dashes[i % dashes.length];
		body += `<line x1="${lx}" x2="${lx + 18}" y1="36" y2="36" stroke="${colour}" stroke-width="3"${dash ? ` stroke-dasharray="${dash}"` : ''}/>`;
		body += `<text x="${lx + 22}" y="40" fill="${INK}">${escapeXml(s.name)}</text>`;
		lx += 30 + s.name.length * 7;
	});
	series.forEach((s, i) => {
		const colour = PALETTE[i % PALETTE.length];
		const dash = dashes[i % dashes.length];
		const path = s.values.map((v, j) => `${j === 0 ? 'M' : 'L'}${r(x(j))} ${r(y(v))}`).join(' ');
		if (c.area) {
			body += `<path d="${path} L${r(x(points - 1))} ${r(y(0))} L${r(x(0))} ${r(y(0))} Z" fill="${colour}" fill-opacity="0.15" stroke="none"/>`;
		}
		body += `<path d="${path}" fill="none" stroke="${colour}" stroke-width="2"${dash ? ` stroke-dasharray="${dash}"` : ''}/>`;
		s.values.forEach((v, j) => {
			body += `<circle cx="${r(x(j))}" cy="${r(y(v))}" r="2.5" fill="${colour}"><title>${escapeXml(`${s.name}, ${c.labels[j] ?? ''}: ${f(v)}`)}</title></circle>`;
		});
		const last = s.values[points - 1];
		body += `<text x="${r(Math.min(x(points - 1), width - right) - 4)}" y="${r(y(last) - 6)}" text-anchor="end" fill="${INK}">${escapeXml(f(last))}</text>`;
	});
	const summary = series
		.map((s) => `${s.name}: ${s.values.map((v, j) => `${c.labels[j]} ${f(v)}`).join(', ')}`)
		.join('. ');
	return frame(c.area ? 'area' : 'line', c, width, height, body, `${summary}.`);
}

/** Vertical bars with their values on top. */
export function barChart(c: BarChart & { gap?: number }): string {
	const width = c.width ?? 640;
	const height = c.height ?? 240;
	const bars = c.bars.map((b) => ({ label: b.label, value: finite([b.value])[0] }));
	if (bars.length === 0) return empty('bar', c, width, height);
	const f = fmt(c);
	const left = 16;
	const right = 16;
	const top = 44;
	const bottom = 36;
	const plotW = width - left - right;
	const plotH = height - top - bottom;
	const max = niceMax(Math.max(0, ...bars.map((b) => b.value)));
	const slot = plotW / bars.length;
	const gap = c.gap ?? Math.min(12, slot * 0.2);
	let body = `<line x1="${left}" x2="${width - right}" y1="${top + plotH}" y2="${top + plotH}" stroke="${INK}" stroke-width="1"/>`;
	bars.forEach((b, i) => {
		const h = (plotH * Math.max(0, b.value)) / max;
		const x0 = left + i * slot + gap / 2;
		const w = Math.max(1, slot - gap);
		body += `<rect x="${r(x0)}" y="${r(top + plotH - h)}" width="${r(w)}" height="${r(h)}" fill="${PALETTE[0]}"><title>${escapeXml(`${b.label}: ${f(b.value)}`)}</title></rect>`;
		body += `<text x="${r(x0 + w / 2)}" y="${r(top + plotH - h - 4)}" text-anchor="middle" fill="${INK}">${escapeXml(f(b.value))}</text>`;
		body += `<text x="${r(x0 + w / 2)}" y="${height - bottom + 16}" text-anchor="middle" fill="${INK}">${escapeXml(b.label)}</text>`;
	});
	return frame(
		'bar',
		c,
		width,
		height,
		body,
		`${bars.map((b) => `${b.label}: ${f(b.value)}`).join(', ')}.`,
	);
}

/** A histogram: touching bars over bins (labels name each bin, e.g. "0–10"). */
export function histogram(c: BarChart): string {
	return barChart({ ...c, gap: 1 }).replace(/chart-bar-/g, 'chart-hist-');
}

/** Horizontal bars, largest first as given (e.g. top referrers), label left, value right. */
export function horizontalBarChart(c: BarChart): string {
	const width = c.width ?? 640;
	const rowH = 24;
	const bars = c.bars.map((b) => ({ label: b.label, value: finite([b.value])[0] }));
	const height = c.height ?? 44 + Math.max(1, bars.length) * rowH + 12;
	if (bars.length === 0) return empty('hbar', c, width, height);
	const f = fmt(c);
	const labelW = Math.min(200, Math.max(60, ...bars.map((b) => b.label.length * 7 + 8)));
	const left = 12 + labelW;
	const right = 64;
	const plotW = width - left - right;
	const max = niceMax(Math.max(0, ...bars.map((b) => b.value)));
	let body = '';
	bars.forEach((b, i) => {
		const y0 = 40 + i * rowH;
		const w = (plotW * Math.max(0, b.value)) / max;
		body += `<text x="${left - 8}" y="${y0 + 15}" text-anchor="end" fill="${INK}">${escapeXml(truncate(b.label, 28))}</text>`;
		body += `<rect x="${left}" y="${y0 + 3}" width="${r(Math.max(1, w))}" height="${rowH - 6}" fill="${PALETTE[i === 0 ? 5 : 0]}"><title>${escapeXml(`${b.label}: ${f(b.value)}`)}</title></rect>`;
		body += `<text x="${r(left + w + 6)}" y="${y0 + 15}" fill="${INK}">${escapeXml(f(b.value))}</text>`;
	});
	return frame(
		'hbar',
		c,
		width,
		height,
		body,
		`${bars.map((b) => `${b.label}: ${f(b.value)}`).join(', ')}.`,
	);
}

/** A funnel: one centred bar per step, the count and the share of the first step on each. */
export function funnelChart(c: BarChart): string {
	const width = c.width ?? 640;
	const rowH = 38;
	const steps = c.bars.map((b) => ({ label: b.label, value: finite([b.value])[0] }));
	const height = c.height ?? 44 + Math.max(1, steps.length) * rowH + 8;
	if (steps.length === 0) return empty('funnel', c, width, height);
	const f = fmt(c);
	const pct = (v: number) =>
		formatNumber(v, c.locale ?? 'en', { style: 'percent', maximumFractionDigits: 1 });
	const first = steps[0].value;
	const max = Math.max(1, ...steps.map((s) => s.value));
	const labelW = 150;
	const plotW = width - labelW - 24;
	const centre = labelW + 12 + plotW / 2;
	let body = '';
	steps.forEach((s, i) => {
		const y0 = 40 + i * rowH;
		const w = Math.max(2, (plotW * Math.max(0, s.value)) / max);
		const share = first > 0 ? ` (${pct(s.value / first)})` : '';
		body += `<text x="${labelW}" y="${y0 + 21}" text-anchor="end" fill="${INK}">${escapeXml(s.label)}</text>`;
		body += `<rect x="${r(centre - w / 2)}" y="${y0 + 4}" width="${r(w)}" height="${rowH - 8}" fill="${PALETTE[i % PALETTE.length]}" fill-opacity="0.85"><title>${escapeXml(`${s.label}: ${f(s.value)}${share}`)}</title></rect>`;
		body += `<text x="${r(centre)}" y="${y0 + 23}" text-anchor="middle" fill="${INK}" font-weight="bold" paint-order="stroke" stroke="#ffffff" stroke-width="3">${escapeXml(`${f(s.value)}${share}`)}</text>`;
	});
	return frame(
		'funnel',
		c,
		width,
		height,
		body,
		`${steps.map((s) => `${s.label}: ${f(s.value)}`).join(' → ')}.`,
	);
}

function truncate(text: string, max: number): string {
	const chars = [...text];
	return chars.length > max ? `${chars.slice(0, max - 1).join('')}…` : text;
}
