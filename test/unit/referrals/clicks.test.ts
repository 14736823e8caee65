/* Tracked referral links, the pure parts (engine/referrals/clicks.ts): which requests are people,
 * the visitor cookie, the referring site and the channel. */
import { describe, expect, it } from 'vitest';
import {
	channelOf,
	newVisitorId,
	nonHumanReason,
	referringSite,
	visitorIdFromCookie,
} from '../../../engine/referrals/clicks';

const CHROME =
	'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const IPHONE =
	'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1';

describe('nonHumanReason', () => {
	const ua = (agent: string) => nonHumanReason('GET', { 'User-Agent': agent });

	it('counts browsers (also in-app browsers that mention their app)', () => {
		expect(ua(CHROME)).toBeNull();
		expect(ua(IPHONE)).toBeNull();
		expect(ua(`${IPHONE} Instagram 350.0.0`)).toBeNull();
		expect(ua(`${IPHONE} [FBAN/FBIOS;FBAV/480.0]`)).toBeNull();
	});

	it.each([
		['Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)'],
		['Slackbot 1.0 (+https://api.slack.com/robots)'],
		['WhatsApp/2.23.20.0 A'],
		['facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)'],
		['Facebot'],
		['Twitterbot/1.0'],
		['LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)'],
		['Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)'],
		['TelegramBot (like TwitterBot)'],
		['Mozilla/5.0 (Windows NT 6.1; WOW64) SkypeUriPreview Preview/0.5'],
	])('link preview: %s', (agent) => {
		expect(ua(agent)).toBe('link_preview');
	});

	it.each([
		['Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)'],
		['Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)'],
		['Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)'],
		['curl/8.5.0'],
		['python-requests/2.31.0'],
		['Go-http-client/1.1'],
		[
			'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0 Safari/537.36',
		],
		[''],
	])('bot: %s', (agent) => {
		expect(ua(agent)).toBe('bot');
	});

	it('never counts HEAD, nor a request without a user agent, nor a browser prefetch', () => {
		expect(nonHumanReason('HEAD', { 'user-agent': CHROME })).toBe('head_request');
		expect(nonHumanReason('GET', {})).toBe('bot');
		expect(nonHumanReason('GET', { 'user-agent': CHROME, 'sec-purpose': 'prefetch' })).toBe(
			'prefetch',
		);
		expect(nonHumanReason('GET', { 'user-agent': CHROME, purpose: 'prefetch' })).toBe('prefetch');
	});
});

describe('visitor cookie', () => {
	it('new visitor ids are 128 random bits, URL-safe, never the same', () => {
		const ids = new Set(Array.from({ length: 1000 }, () => newVisitorId()));
		expect(ids.size).toBe(1000);
		for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
	});

	it('reads the rm_vid cookie among others, and only one of the right form', () => {
		const id = newVisitorId();
		expect(visitorIdFromCookie(`theme=dark; rm_vid=${id}; other=1`)).toBe(id);
		expect(visitorIdFromCookie(`rm_vid=${id}`)).toBe(id);
		expect(visitorIdFromCookie('rm_vid=short')).toBeUndefined();
		expect(visitorIdFromCookie('rm_vid=<script>alert(1)</script>xxxxxxxxxxxx')).toBeUndefined();
		expect(visitorIdFromCookie(`xrm_vid=${id}`)).toBeUndefined();
		expect(visitorIdFromCookie(undefined)).toBeUndefined();
	});
});

describe('referring site and channel', () => {
	it('keeps only the host of an http(s) Referer', () => {
		expect(referringSite('https://News.Example.com/a/b?secret=1#x')).toBe('news.example.com');
		expect(referringSite('android-app://com.slack')).toBeNull();
		expect(referringSite('not a url')).toBeNull();
		expect(referringSite(undefined)).toBeNull();
	});

	it('is utm_source, else the referring site, else direct', () => {
		expect(channelOf('Newsletter', 'x.com')).toBe('newsletter');
		expect(channelOf(undefined, 'x.com')).toBe('x.com');
		expect(channelOf(undefined, null)).toBe('direct');
	});
});
