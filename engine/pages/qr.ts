import { create } from 'qrcode';
import { escapeAttr, escapeHtml } from './html';

/**
 * A QR code as inline SVG, made here (the `qrcode` package's encoder, no canvas, no network): one
 * `<path>` of dark modules on a light square with a 4-module quiet zone. Dark on light whatever the
 * page's colour scheme, because scanners expect it.
 */
export function qrSvg(text: string, options: { title: string; size?: number }): string {
	const qr = create(text, { errorCorrectionLevel: 'M' });
	const n = qr.modules.size;
	const quiet = 4;
	const total = n + quiet * 2;
	let path = '';
	for (let row = 0; row < n; row++) {
		let col = 0;
		while (col < n) {
			if (!qr.modules.get(row, col)) {
				col++;
				continue;
			}
			const start = col;
			while (col < n && qr.modules.get(row, col)) col++;
			path += `M${start + quiet} ${row + quiet}h${col - start}v1h-${col - start}z`;
		}
	}
	const size = options.size ?? 200;
	return (
		`<svg xmlns="http://www.w3.org/2000/svg" class="qr" role="img" aria-label="${escapeAttr(options.title)}" width="${size}" height="${size}" viewBox="0 0 ${total} ${total}" shape-rendering="crispEdges">` +
		`<title>${escapeHtml(options.title)}</title>` +
		`<rect width="${total}" height="${total}" fill="#ffffff"/>` +
		`<path fill="#000000" d="${path}"/></svg>`
	);
}
