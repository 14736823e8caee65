import { EngineError } from '../shared/errors';
import { describe, requireText } from '../shared/guards';

/**
 * Share links: the landing page with the participant's code and UTM parameters, so both this
 * package (code) and the site's analytics (utm_*) can attribute the visit.
 */

export interface ShareUrlOptions {
	/** Query parameter carrying the code; `ref` by default (others use via, fpr, grsf, refcode). */
	codeParameter?: string;
	utmSource?: string;
	utmMedium?: string;
	utmCampaign?: string;
	utmContent?: string;
	utmTerm?: string;
}

const PARAM_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

function parseBase(baseUrl: unknown): URL {
	const text = requireText(baseUrl, 'baseUrl', 2048);
	let url: URL;
	try {
		url = new URL(text);
	} catch {
		throw new EngineError(
			'invalid_url',
			`baseUrl must be a full web address such as https://example.com/join (got ${describe(text)}).`,
			{
				field: 'baseUrl',
			},
		);
	}
	if (url.protocol !== 'https:' && url.protocol !== 'http:') {
		throw new EngineError(
			'invalid_url',
			`baseUrl must start with https:// or http:// (got ${url.protocol}).`,
			{ field: 'baseUrl' },
		);
	}
	return url;
}

function codeParameterOf(options: ShareUrlOptions): string {
	const name = options.codeParameter ?? 'ref';
	if (typeof name !== 'string' || !PARAM_NAME.test(name) || name.toLowerCase().startsWith('utm_')) {
		throw new EngineError(
			'invalid_parameter_name',
			`codeParameter must be 1–64 letters, digits, "_", "." or "-" and not start with utm_ (got ${describe(name)}).`,
			{ field: 'codeParameter' },
		);
	}
	return name;
}

/**
 * The share URL. Existing query parameters and the fragment of `baseUrl` are kept; the code and
 * any given utm_* replace parameters of the same name. Empty utm values are left out.
 */
export function buildShareUrl(
	baseUrl: string,
	code: string,
	options: ShareUrlOptions = {},
): string {
	const url = parseBase(baseUrl);
	const param = codeParameterOf(options);
	url.searchParams.set(param, requireText(code, 'code', 256));
	const utm: Array<[string, string | undefined, string]> = [
		['utm_source', options.utmSource, 'utmSource'],
		['utm_medium', options.utmMedium, 'utmMedium'],
		['utm_campaign', options.utmCampaign, 'utmCampaign'],
		['utm_content', options.utmContent, 'utmContent'],
		['utm_term', options.utmTerm, 'utmTerm'],
	];
	for (const [name, value, field] of utm) {
		if (value === undefined || value === '') continue;
		url.searchParams.set(name, requireText(value, field, 256));
	}
	return url.toString();
}

export interface ParsedShareUrl {
	code: string | null;
	utm: Record<string, string>;
}

/** Reads the code and utm_* back from a landing URL (e.g. a page view the site forwards). */
export function parseShareUrl(
	url: string,
	options: Pick<ShareUrlOptions, 'codeParameter'> = {},
): ParsedShareUrl {
	const parsed = parseBase(url);
	const param = codeParameterOf(options);
	const utm: Record<string, string> = {};
	for (const [key, value] of parsed.searchParams) {
		if (key.startsWith('utm_') && value !== '') utm[key] = value;
	}
	const code = parsed.searchParams.get(param);
	return { code: code === null || code.trim() === '' ? null : code.trim(), utm };
}

/** Channels a participant can share their link through (the participant page's share buttons). */
export const SHARE_CHANNELS = ['email', 'sms', 'whatsapp', 'x', 'linkedin', 'facebook'] as const;
export type ShareChannel = (typeof SHARE_CHANNELS)[number];

/**
 * Links that open each channel with the text prefilled: `mailto:` and `sms:` open the person's own
 * apps; WhatsApp, X, LinkedIn and Facebook open their share dialogs (LinkedIn and Facebook take only
 * the URL, their dialogs read the page's preview). Nothing is fetched until the person clicks.
 */
export function socialShareLinks(input: {
	url: string;
	text: string;
	subject: string;
}): Record<ShareChannel, string> {
	const url = encodeURIComponent(input.url);
	const text = encodeURIComponent(input.text);
	return {
		email: `mailto:?subject=${encodeURIComponent(input.subject)}&body=${text}`,
		sms: `sms:?&body=${text}`,
		whatsapp: `https://wa.me/?text=${text}`,
		x: `https://x.com/intent/post?text=${text}`,
		linkedin: `https://www.linkedin.com/sharing/share-offsite/?url=${url}`,
		facebook: `https://www.facebook.com/sharer/sharer.php?u=${url}`,
	};
}

/**
 * The share text with `{code}`, `{link}` and `{program}` filled in; the link is appended when the
 * text does not place it, so every shared text carries it.
 */
export function fillShareText(
	template: string,
	values: { code: string; link: string; program: string },
): string {
	const filled = template.replace(/\{(code|link|program)\}/g, (_, name: keyof typeof values) =>
		String(values[name]),
	);
	return template.includes('{link}') || values.link === '' ? filled : `${filled} ${values.link}`;
}
