/**
 * Pages n8n serves as HTML (Webhook → a node of this package → Respond to Webhook): the shared
 * helpers (escaping, the page shell with its Content-Security-Policy, the one message catalogue in
 * English and German, QR codes as SVG) and the pages built on them. Nodes import this folder only
 * through this file.
 */
export {
	BASE_STYLE,
	cspHash,
	escapeAttr,
	escapeHtml,
	markup,
	pageShell,
	raw,
	SafeHtml,
	type PageShellInput,
	type ShellOutput,
} from './html';
export {
	acceptedLanguages,
	CATALOGUES,
	DEFAULT_LOCALE,
	formatDate,
	formatMoney,
	formatNumber,
	pageLocale,
	SUPPORTED_LOCALES,
	supportedLocale,
	t,
	type Message,
	type MessageKey,
	type MessageParams,
	type PluralMessage,
} from './i18n';
export { qrSvg } from './qr';
export {
	loadParticipantPage,
	personLabel,
	renderNotFoundPage,
	renderParticipantPage,
	type LoadOptions,
	type PageOutput,
	type PageReferral,
	type PageReward,
	type ParticipantPageModel,
	type PersonLabel,
	type RenderOptions,
} from './participant';
