import { Resvg } from '@resvg/resvg-js';

/**
 * An SVG chart as PNG, for mail clients that do not show inline SVG (Gmail, Outlook). resvg is a
 * Rust renderer shipped as a prebuilt binary per platform: no browser, no canvas, no network.
 * Text uses the system fonts (DejaVu on Debian); `scale` 2 gives sharp images on HiDPI screens.
 */
export function svgToPng(svg: string, options: { scale?: number } = {}): Buffer {
	const scale = options.scale ?? 2;
	const resvg = new Resvg(svg, {
		fitTo: { mode: 'zoom', value: scale },
		font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' },
		background: '#ffffff',
	});
	return resvg.render().asPng();
}
