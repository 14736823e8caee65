import { describe, expect, it } from 'vitest';
import {
	barChart,
	escapeXml,
	formatNumber,
	funnelChart,
	histogram,
	horizontalBarChart,
	lineChart,
	niceMax,
	svgToPng,
} from '../../../engine/charts';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function pngSize(png: Buffer): { width: number; height: number } {
	return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

const charts = {
	line: () =>
		lineChart({
			title: 'Sign-ups',
			labels: ['2026-01-05', '2026-01-12', '2026-01-19'],
			series: [
				{ name: 'Sign-ups', values: [3, 7, 12] },
				{ name: 'Qualified', values: [1, 2, 5] },
			],
		}),
	area: () =>
		lineChart({
			title: 'Area',
			labels: ['a', 'b'],
			series: [{ name: 'x', values: [1, 2] }],
			area: true,
		}),
	bar: () =>
		barChart({
			title: 'Segments',
			bars: [
				{ label: 'Champions', value: 40 },
				{ label: 'At risk', value: 12 },
			],
		}),
	histogram: () =>
		histogram({
			title: 'Loyalty',
			bars: [
				{ label: '0–9', value: 2 },
				{ label: '10–19', value: 5 },
			],
		}),
	hbar: () =>
		horizontalBarChart({
			title: 'Top',
			bars: [
				{ label: 'Ana', value: 9 },
				{ label: 'Bo', value: 4 },
			],
		}),
	funnel: () =>
		funnelChart({
			title: 'Funnel',
			bars: [
				{ label: 'Sign-ups', value: 200 },
				{ label: 'Qualified', value: 50 },
				{ label: 'Rewarded', value: 40 },
			],
		}),
};

describe('the SVG charts', () => {
	for (const [kind, make] of Object.entries(charts)) {
		it(`${kind}: one accessible SVG that a real renderer (resvg) accepts, the same bytes every time`, () => {
			const svg = make();
			expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg" role="img"')).toBe(true);
			expect(svg.endsWith('</svg>')).toBe(true);
			const labelled = /aria-labelledby="([^" ]+) ([^"]+)"/.exec(svg)!;
			expect(svg).toContain(`<title id="${labelled[1]}">`);
			expect(svg).toContain(`<desc id="${labelled[2]}">`);
			expect(make()).toBe(svg);
			const png = svgToPng(svg, { scale: 1 });
			expect(png.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
			const { width, height } = pngSize(png);
			expect(width).toBe(Number(/ width="(\d+)"/.exec(svg)![1]));
			expect(height).toBe(Number(/ height="(\d+)"/.exec(svg)![1]));
		});
	}

	it('writes the values as text labels, so the chart reads without telling colours apart', () => {
		const svg = charts.funnel();
		expect(svg).toContain('>200 (100%)<');
		expect(svg).toContain('>50 (25%)<');
		expect(svg).toContain('Sign-ups: 200 → Qualified: 50 → Rewarded: 40.');
		expect(charts.hbar()).toMatch(/>9<\/text>/);
	});

	it('escapes labels, titles and names: markup in data stays text', () => {
		const evil = '<script>alert(1)</script> & "quotes" \'x\'';
		for (const svg of [
			barChart({ title: evil, bars: [{ label: evil, value: 1 }] }),
			horizontalBarChart({ title: 'T', bars: [{ label: evil, value: 1 }] }),
			lineChart({ title: 'T', labels: [evil], series: [{ name: evil, values: [1] }] }),
			funnelChart({ title: 'T', bars: [{ label: evil, value: 1 }], description: evil }),
		]) {
			expect(svg).not.toContain('<script>');
			expect(svg).not.toContain('"quotes"');
			expect(svg).toContain('&lt;script&gt;');
			expect(() => svgToPng(svg, { scale: 1 })).not.toThrow();
		}
		expect(escapeXml(`<a href="x">'&'</a>`)).toBe(
			'&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;',
		);
	});

	it('says "No data yet" for empty data and never draws NaN', () => {
		for (const svg of [
			lineChart({ title: 'Empty', labels: [], series: [] }),
			barChart({ title: 'Empty', bars: [] }),
			horizontalBarChart({ title: 'Empty', bars: [] }),
			funnelChart({ title: 'Empty', bars: [] }),
			histogram({ title: 'Empty', bars: [] }),
		]) {
			expect(svg).toContain('No data yet');
			expect(() => svgToPng(svg, { scale: 1 })).not.toThrow();
		}
		const zeros = lineChart({
			title: 'Z',
			labels: ['a', 'b'],
			series: [{ name: 's', values: [0, Number.NaN] }],
		});
		expect(zeros).not.toContain('NaN');
		expect(funnelChart({ title: 'Z', bars: [{ label: 'a', value: 0 }] })).not.toContain('NaN');
	});

	it('formats numbers for the locale', () => {
		expect(formatNumber(1234.5, 'de-DE')).toBe('1.234,5');
		expect(formatNumber(1234.5, 'en')).toBe('1,234.5');
		expect(formatNumber(1234.5, 'not a locale!')).toBe('1,234.5');
		expect(
			barChart({ title: 'B', locale: 'de-DE', bars: [{ label: 'x', value: 1234.5 }] }),
		).toContain('>1.234,5<');
	});

	it('keeps two charts of a page apart (ids from the title) and picks round axis tops', () => {
		const a = barChart({ title: 'A', bars: [{ label: 'x', value: 1 }] });
		const b = barChart({ title: 'B', bars: [{ label: 'x', value: 1 }] });
		expect(/<title id="([^"]+)"/.exec(a)![1]).not.toBe(/<title id="([^"]+)"/.exec(b)![1]);
		expect([niceMax(0), niceMax(7), niceMax(12), niceMax(230), niceMax(1000)]).toEqual([
			1, 10, 20, 250, 1000,
		]);
	});
});
