import { randomBytes } from 'node:crypto';
import { clientFromHeaders } from '../shared/clientIp';
import { EngineError } from '../shared/errors';
import { isRecord, requireInteger } from '../shared/guards';
import { DAY_MS, MINUTE_MS } from '../shared/time';
import type { ClickCodeStatus, ClickRecord } from '../ledger/store';
import { hashIdentifier } from './fraud';
import { canonicalCode, type ReferralContext } from './views';

/**
 * Tracked referral links (issue #17): `GET /r/<code>` records a click in the ledger and redirects
 * to the program's landing page (its share link base URL) with the code attached. The click keeps
 * no personal data: the ip and user agent as keyed hashes (HMAC-SHA256 with the program's secret
 * salt, the same hashes sign-ups keep, so fraud checks can compare them), the referring site as its
 * host name, the utm_* parameters, and a random first-party visitor id, which the answer's cookie
 * carries so that the sign-up can be attributed to the click later (see signUp.ts).
 *
 * Not counted: HEAD requests, bots and link previews (Slack, WhatsApp, Facebook, X, LinkedIn,
 * Discord, Telegram unfurlers, search engine crawlers, scripted clients), browser prefetches, and
 * clicks beyond the per-ip rate limit. They are still redirected (a preview shows the landing page).
 */

/** The cookie carrying the visitor id. */
export const VISITOR_COOKIE = 'rm_vid';
/** A visitor id: 16 random bytes, base64url (22 characters). Longer ids (up to 64) from the cookie are reused. */
const VISITOR_ID = /^[A-Za-z0-9_-]{16,64}$/;
const CODE_TEXT = /^[A-Za-z0-9_-]{1,64}$/;

/** Link-preview fetchers (unfurlers): the link was shared, nobody clicked it. */
const LINK_PREVIEWS: Array<[RegExp, string]> = [
	[/slackbot|slack-imgproxy/i, 'Slack'],
	[/whatsapp/i, 'WhatsApp'],
	[/facebookexternalhit|facebot|facebookcatalog/i, 'Facebook'],
	[/twitterbot/i, 'X'],
	[/linkedinbot/i, 'LinkedIn'],
	[/discordbot/i, 'Discord'],
	[/telegrambot/i, 'Telegram'],
	[/skypeuripreview/i, 'Skype'],
	[/microsoftpreview/i, 'Microsoft'],
	[/pinterest/i, 'Pinterest'],
	[/redditbot/i, 'Reddit'],
	[/embedly|iframely|vkshare|viber|mastodon|bluesky|cardyb/i, 'link preview'],
	[/applebot/i, 'Apple'],
];

/** Crawlers, monitors and scripted clients (plus any user agent saying bot, crawler or spider). */
const BOTS =
	/bot\b|bot\/|crawl|spider|slurp|googlebot|google-inspectiontool|adsbot|mediapartners|bingpreview|yandex|baiduspider|duckduckgo|petalbot|semrush|ahrefs|headlesschrome|phantomjs|lighthouse|pingdom|uptime|monitor|curl\/|wget\/|python-requests|python-urllib|aiohttp|go-http-client|okhttp|axios\/|node-fetch|undici|java\/|libwww|httpclient|scrapy|postman|^node$/i;

export type ClickReason =
	| 'counted'
	| 'unknown_code'
	| 'revoked_code'
	| 'head_request'
	| 'link_preview'
	| 'bot'
	| 'prefetch'
	| 'rate_limited';

/** A request for a referral link, as a Webhook node hands it over. */
export interface ClickRequest {
	/** The code from the path (`/r/<code>`), as sent. */
	code?: unknown;
	/** The request headers (any letter case). */
	headers?: unknown;
	/** The query parameters (utm_*). */
	query?: unknown;
	/** The HTTP method; GET by default. HEAD is never counted. */
	method?: unknown;
}

export interface ClickOptions {
	/** Proxies in front of n8n whose X-Forwarded-For / X-Forwarded-Proto are trusted (N8N_PROXY_HOPS). */
	proxyHops?: number;
	/** Per-ip rate limit: at most `maxPerIp` counted clicks per ip in `windowMinutes` (default 20 in 60). */
	maxPerIp?: number;
	windowMinutes?: number;
	/** `auto` (default): Secure when the request came over https (X-Forwarded-Proto of a trusted proxy). */
	secureCookie?: 'auto' | 'always' | 'never';
}

export interface ClickOutcome {
	/** Where to redirect (302): the landing page, with the code for a known code. */
	redirectUrl: string;
	/** The Set-Cookie header value carrying the visitor id, or null (not counted: no cookie). */
	setCookie: string | null;
	counted: boolean;
	reason: ClickReason;
	codeStatus: ClickCodeStatus;
}

function header(headers: Record<string, unknown>, name: string): string | undefined {
	const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
	const value = key === undefined ? undefined : headers[key];
	if (Array.isArray(value)) return value.map(String).join(', ');
	return typeof value === 'string' ? value : undefined;
}

/** Why a request is not a person clicking, or null. */
export function nonHumanReason(
	method: string,
	headers: Record<string, unknown>,
): Exclude<ClickReason, 'counted' | 'unknown_code' | 'revoked_code' | 'rate_limited'> | null {
	if (method === 'HEAD') return 'head_request';
	const agent = (header(headers, 'user-agent') ?? '').trim();
	if (agent === '') return 'bot';
	if (LINK_PREVIEWS.some(([pattern]) => pattern.test(agent))) return 'link_preview';
	if (BOTS.test(agent)) return 'bot';
	const purpose = `${header(headers, 'purpose') ?? ''} ${header(headers, 'sec-purpose') ?? ''} ${header(headers, 'x-moz') ?? ''}`;
	if (/prefetch|preview/i.test(purpose)) return 'prefetch';
	return null;
}

/** The visitor id of the request's cookie, when it has one of the right form. */
export function visitorIdFromCookie(
	cookieHeader: unknown,
	name: string = VISITOR_COOKIE,
): string | undefined {
	if (typeof cookieHeader !== 'string') return undefined;
	for (const part of cookieHeader.split(';')) {
		const eq = part.indexOf('=');
		if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
		const value = part.slice(eq + 1).trim();
		if (VISITOR_ID.test(value)) return value;
	}
	return undefined;
}

/** The visitor id of a request's headers (its Cookie header). */
export function visitorIdFromHeaders(headers: unknown): string | undefined {
	return isRecord(headers) ? visitorIdFromCookie(header(headers, 'cookie')) : undefined;
}

export function newVisitorId(): string {
	return randomBytes(16).toString('base64url');
}

/** The referring site's host name (lower case), from a Referer of http(s); never its path or query. */
export function referringSite(referer: string | undefined): string | null {
	if (!referer) return null;
	try {
		const url = new URL(referer);
		if (url.protocol !== 'https:' && url.protocol !== 'http:') return null;
		return url.hostname.toLowerCase().slice(0, 253) || null;
	} catch {
		return null;
	}
}

// Control characters (C0, DEL, C1) never reach the ledger.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;
const UTM = ['utm_source', 'utm_medium', 'utm_campaign', 'utm_content', 'utm_term'] as const;

function utmOf(query: unknown): Partial<Record<(typeof UTM)[number], string>> {
	const out: Partial<Record<(typeof UTM)[number], string>> = {};
	if (!isRecord(query)) return out;
	for (const name of UTM) {
		let value = query[name];
		if (Array.isArray(value)) value = value[0];
		if (typeof value !== 'string') continue;
		const text = value.replace(CONTROL, '').trim().slice(0, 256);
		if (text !== '') out[name] = text;
	}
	return out;
}

/** The channel of a click: utm_source, else the referring site, else `direct`. */
export function channelOf(utmSource: string | undefined, site: string | null): string {
	if (utmSource) return utmSource.toLowerCase();
	return site ?? 'direct';
}

function landingUrl(ctx: ReferralContext): URL {
	const base = ctx.program.config.share.baseUrl;
	if (!base)
		throw new EngineError(
			'required',
			`Program "${ctx.programId}" has no landing page: set Share Link › Base URL (Program › Create or Update); referral links redirect there.`,
			{ field: 'baseUrl' },
		);
	return new URL(base);
}

function cookieValue(visitorId: string, maxAgeSeconds: number, secure: boolean): string {
	return `${VISITOR_COOKIE}=${visitorId}; Max-Age=${maxAgeSeconds}; Path=/; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`;
}

function overHttps(headers: Record<string, unknown>, hops: number): boolean {
	if (hops <= 0) return false;
	const protos = (header(headers, 'x-forwarded-proto') ?? '')
		.split(',')
		.map((p) => p.trim().toLowerCase())
		.filter(Boolean);
	if (protos.length === 0) return false;
	return protos[Math.max(0, protos.length - hops)] === 'https';
}

/** Records a click of a referral link (when it counts) and answers where to redirect, with the visitor cookie. */
export async function trackClick(
	ctx: ReferralContext,
	request: ClickRequest,
	options: ClickOptions = {},
): Promise<ClickOutcome> {
	const landing = landingUrl(ctx);
	const headers = isRecord(request.headers) ? request.headers : {};
	const method =
		request.method === undefined || request.method === null || request.method === ''
			? 'GET'
			: String(request.method).toUpperCase();
	const hops = options.proxyHops ?? 0;
	const maxPerIp = requireInteger(options.maxPerIp ?? 20, 'maxPerIp', 1, 1_000_000);
	const windowMinutes = requireInteger(options.windowMinutes ?? 60, 'windowMinutes', 1, 43_200);

	// The code: a path segment of letters, digits, "_" and "-"; anything else is an unknown code.
	const typed = typeof request.code === 'string' ? request.code.trim() : '';
	let codeStatus: ClickCodeStatus = 'unknown';
	let code: string | null = null;
	let referrerId: number | null = null;
	let reason: ClickReason = 'unknown_code';
	if (CODE_TEXT.test(typed)) {
		const record = await ctx.ledger.lookupCode({
			programId: ctx.programId,
			code: canonicalCode(ctx, typed),
		});
		if (record) {
			code = record.code;
			if (record.state === 'active') {
				codeStatus = 'known';
				referrerId = record.ownerId;
				reason = 'counted';
			} else {
				codeStatus = 'revoked';
				reason = 'revoked_code';
			}
		}
	}

	const utm = utmOf(request.query);
	const target = new URL(landing.toString());
	const parameter = ctx.program.config.share.codeParameter ?? 'ref';
	for (const [name, value] of Object.entries(utm)) target.searchParams.set(name, value);
	if (codeStatus === 'known') target.searchParams.set(parameter, code!);
	else target.searchParams.delete(parameter);
	const redirectUrl = target.toString();

	const skip = nonHumanReason(method, headers);
	if (skip) return { redirectUrl, setCookie: null, counted: false, reason: skip, codeStatus };

	const client = clientFromHeaders(headers, hops);
	const salt = ctx.program.salt;
	const site = referringSite(header(headers, 'referer'));
	const visitorId = visitorIdFromCookie(header(headers, 'cookie')) ?? newVisitorId();
	const now = ctx.now();
	const { click, limited } = await ctx.ledger.recordClick({
		programId: ctx.programId,
		code,
		referrerId,
		codeStatus,
		at: now,
		ipHash: client.ip ? hashIdentifier('ip', client.ip, salt) : null,
		uaHash: client.userAgent ? hashIdentifier('user_agent', client.userAgent, salt) : null,
		referringSite: site,
		utmSource: utm.utm_source,
		utmMedium: utm.utm_medium,
		utmCampaign: utm.utm_campaign,
		utmContent: utm.utm_content,
		utmTerm: utm.utm_term,
		channel: channelOf(utm.utm_source, site),
		visitorId,
		rateLimit: { max: maxPerIp, since: now - windowMinutes * MINUTE_MS },
	});
	if (limited || !click)
		return { redirectUrl, setCookie: null, counted: false, reason: 'rate_limited', codeStatus };
	const secure =
		options.secureCookie === 'always' ||
		(options.secureCookie !== 'never' && overHttps(headers, hops));
	const maxAge = Math.max(
		1,
		Math.round((ctx.program.config.attribution.windowDays * DAY_MS) / 1000),
	);
	return {
		redirectUrl,
		setCookie: cookieValue(visitorId, maxAge, secure),
		counted: true,
		reason,
		codeStatus,
	};
}

/**
 * The click a sign-up's visitor id resolves to: the visitor's first (first-touch) or last
 * (last-touch) click of a known code with an owner within the attribution window before the
 * sign-up (clock skew allowed after it). Only server-recorded clicks: the visitor id merely names
 * one, and a random 128-bit id cannot be guessed.
 */
export async function clickForSignUp(
	ctx: ReferralContext,
	visitorId: string | undefined,
	at: number,
): Promise<ClickRecord | null> {
	if (visitorId === undefined || !VISITOR_ID.test(visitorId)) return null;
	const { windowDays, model, clockSkewMinutes } = ctx.program.config.attribution;
	return await ctx.ledger.visitorClick({
		programId: ctx.programId,
		visitorId,
		since: Math.max(0, at - windowDays * DAY_MS),
		until: at + clockSkewMinutes * MINUTE_MS,
		pick: model === 'first_touch' ? 'first' : 'last',
	});
}
