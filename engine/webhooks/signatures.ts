/* Webhook signatures over the RAW request body: our own scheme for shop back-ends and the schemes
 * of Stripe, Shopify, WooCommerce and Paddle Billing. Every digest is compared in constant time,
 * every secret of a rotation is tried, and signed timestamps must lie within a tolerance.
 * Replay protection (each signature accepted once) lives in replay.ts, on the ledger.
 * Plain TypeScript: no n8n. */
import { fromBase64, fromHex, hmacSha256, safeEqual, sha256Hex } from '../shared/hmac';

export const WEBHOOK_SOURCES = ['referral', 'stripe', 'shopify', 'woocommerce', 'paddle'] as const;
export type WebhookSource = (typeof WEBHOOK_SOURCES)[number];

export interface SchemeInfo {
	label: string;
	/** The request header that carries the signature (as n8n shows headers: lower case). */
	header: string;
	/** Whether the signature covers a timestamp (then the tolerance applies to it). */
	timestamped: boolean;
}

export const SCHEMES: Record<WebhookSource, SchemeInfo> = {
	referral: {
		label: 'Referral signature (X-Referral-Signature)',
		header: 'x-referral-signature',
		timestamped: true,
	},
	stripe: { label: 'Stripe', header: 'stripe-signature', timestamped: true },
	shopify: { label: 'Shopify', header: 'x-shopify-hmac-sha256', timestamped: false },
	woocommerce: { label: 'WooCommerce', header: 'x-wc-webhook-signature', timestamped: false },
	paddle: { label: 'Paddle Billing', header: 'paddle-signature', timestamped: true },
};

/** Five minutes, as Stripe's libraries default to. */
export const DEFAULT_TOLERANCE_SECONDS = 300;
/** A header longer than this is refused unread (a real one is under 300 characters). */
const MAX_HEADER_LENGTH = 4096;

export type SignatureFailure =
	| 'missing_signature'
	| 'malformed_signature'
	| 'timestamp_out_of_tolerance'
	| 'signature_mismatch'
	| 'no_secret';

export type VerifyResult =
	| {
			ok: true;
			source: WebhookSource;
			/** The signed time (epoch seconds), or null for schemes without one (Shopify, WooCommerce). */
			timestamp: number | null;
			/** Identifies this signed delivery for replay protection (a hash, never the secret). */
			replayKey: string;
			/** Epoch ms until which a second use of the signature counts as a replay. */
			replayUntil: number;
			/** Which configured secret matched: 0 the current one, 1 the previous one (rotation). */
			secretIndex: number;
	  }
	| { ok: false; source: WebhookSource; reason: SignatureFailure; message: string };

export interface VerifyInput {
	source: WebhookSource;
	/** The body exactly as received: the bytes the sender signed. */
	rawBody: Buffer | Uint8Array | string;
	/** Request headers (any case); array values count as repeated headers. */
	headers: Record<string, unknown>;
	/** The current secret first, then any previous one still accepted during a rotation. */
	secrets: string[];
	/** Allowed distance between the signed time and now, in seconds (default 300). */
	toleranceSeconds?: number;
	/** Epoch milliseconds (default Date.now()). */
	now?: number;
}

export function isWebhookSource(value: unknown): value is WebhookSource {
	return typeof value === 'string' && (WEBHOOK_SOURCES as readonly string[]).includes(value);
}

/** A header's value, case-insensitively; repeated headers are joined with a comma (RFC 9110). */
export function headerValue(headers: Record<string, unknown>, name: string): string | undefined {
	const wanted = name.toLowerCase();
	for (const [key, value] of Object.entries(headers ?? {})) {
		if (key.toLowerCase() !== wanted) continue;
		if (Array.isArray(value)) return value.map(String).join(',');
		if (value === undefined || value === null) return undefined;
		return String(value);
	}
	return undefined;
}

function bytesOf(body: Buffer | Uint8Array | string): Buffer {
	return typeof body === 'string'
		? Buffer.from(body, 'utf8')
		: Buffer.isBuffer(body)
			? body
			: Buffer.from(body);
}

/** `t=1,v1=a,v1=b` (Stripe, ours) or `ts=1;h1=a` (Paddle) into its pairs; null when malformed. */
function parsePairs(header: string, separator: ',' | ';'): Array<[string, string]> | null {
	const pairs: Array<[string, string]> = [];
	for (const part of header.split(separator)) {
		const eq = part.indexOf('=');
		if (eq <= 0) return null;
		pairs.push([part.slice(0, eq).trim(), part.slice(eq + 1).trim()]);
	}
	return pairs;
}

interface Parsed {
	timestamp: number | null;
	/** Candidate digests in the scheme's encoding, decoded to bytes. */
	digests: Buffer[];
	/** What the sender signed. */
	signed: (raw: Buffer) => Buffer[];
}

function parse(source: WebhookSource, header: string): Parsed | string {
	if (source === 'shopify' || source === 'woocommerce') {
		const digest = fromBase64(header.trim(), 32);
		if (!digest) return 'is not a base64 HMAC-SHA256 digest';
		return { timestamp: null, digests: [digest], signed: (raw) => [raw] };
	}
	const paddle = source === 'paddle';
	const pairs = parsePairs(header, paddle ? ';' : ',');
	if (!pairs)
		return paddle
			? 'must look like ts=<unix seconds>;h1=<hex>'
			: 'must look like t=<unix seconds>,v1=<hex>';
	const timeKey = paddle ? 'ts' : 't';
	const digestKey = paddle ? 'h1' : 'v1';
	const times = pairs.filter(([k]) => k === timeKey).map(([, value]) => value);
	if (times.length !== 1 || !/^\d{1,12}$/.test(times[0]))
		return `needs exactly one ${timeKey}=<unix seconds>`;
	const digests = pairs
		.filter(([k]) => k === digestKey)
		.map(([, value]) => fromHex(value, 32))
		.filter((d): d is Buffer => d !== null);
	if (digests.length === 0) return `has no ${digestKey}=<64 hex digits> signature`;
	const t = times[0];
	return {
		timestamp: Number(t),
		digests,
		signed: (raw) => [Buffer.from(`${t}${paddle ? ':' : '.'}`, 'utf8'), raw],
	};
}

/** Checks a delivery's signature. Never throws for bad input: a failure says why. */
export function verifyWebhookSignature(input: VerifyInput): VerifyResult {
	const { source } = input;
	const scheme = SCHEMES[source];
	if (!scheme) throw new Error(`Unknown webhook source "${String(source)}"`);
	const fail = (reason: SignatureFailure, message: string): VerifyResult => ({
		ok: false,
		source,
		reason,
		message,
	});
	const secrets = (input.secrets ?? []).filter((s) => typeof s === 'string' && s.length > 0);
	if (secrets.length === 0)
		return fail(
			'no_secret',
			'No signing secret is configured; set one in the Webhook Signing Secret credential.',
		);
	const header = headerValue(input.headers, scheme.header);
	if (header === undefined || header.trim() === '')
		return fail(
			'missing_signature',
			`The request has no ${canonicalHeader(source)} header; it is not signed.`,
		);
	if (header.length > MAX_HEADER_LENGTH)
		return fail('malformed_signature', `The ${canonicalHeader(source)} header is too long.`);
	const parsed = parse(source, header);
	if (typeof parsed === 'string')
		return fail('malformed_signature', `The ${canonicalHeader(source)} header ${parsed}.`);
	const now = input.now ?? Date.now();
	const tolerance = input.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
	if (!(Number.isFinite(tolerance) && tolerance > 0))
		throw new Error('toleranceSeconds must be a positive number');
	const raw = bytesOf(input.rawBody);
	// Every secret and every digest is tried, so the time taken says nothing about which matched.
	let matched = -1;
	let matchedDigest: Buffer | undefined;
	secrets.forEach((secret, index) => {
		const expected = hmacSha256(secret, ...parsed.signed(raw));
		for (const digest of parsed.digests) {
			if (safeEqual(expected, digest) && matched === -1) {
				matched = index;
				matchedDigest = digest;
			}
		}
	});
	if (matched === -1)
		return fail(
			'signature_mismatch',
			'The signature does not match the body: the body was changed or signed with another secret.',
		);
	// The time is checked after the digest: an unsigned time is never trusted, a signed one is.
	if (parsed.timestamp !== null && Math.abs(now / 1000 - parsed.timestamp) > tolerance) {
		return fail(
			'timestamp_out_of_tolerance',
			`The signature's timestamp is more than ${tolerance} seconds away from now: an old (replayed) or mis-timed delivery.`,
		);
	}
	const replayUntil =
		parsed.timestamp !== null
			? (parsed.timestamp + tolerance) * 1000 + 1000
			: now + tolerance * 1000;
	return {
		ok: true,
		source,
		timestamp: parsed.timestamp,
		replayKey: `${source}:${sha256Hex(String(parsed.timestamp ?? ''), ':', matchedDigest!)}`,
		replayUntil,
		secretIndex: matched,
	};
}

export function canonicalHeader(source: WebhookSource): string {
	return {
		referral: 'X-Referral-Signature',
		stripe: 'Stripe-Signature',
		shopify: 'X-Shopify-Hmac-Sha256',
		woocommerce: 'X-WC-Webhook-Signature',
		paddle: 'Paddle-Signature',
	}[source];
}

export interface SignInput {
	source: WebhookSource;
	body: Buffer | Uint8Array | string;
	secret: string;
	/** Epoch seconds for timestamped schemes (default now). */
	timestamp?: number;
}

/**
 * The header a sender of `source` would attach to `body` (for shop back-ends that sign with our
 * scheme, for tests, and for the docs' examples). Returns the header's canonical name and value.
 */
export function signWebhook(input: SignInput): { header: string; value: string } {
	const raw = bytesOf(input.body);
	const header = canonicalHeader(input.source);
	if (!input.secret) throw new Error('signWebhook needs a secret');
	if (input.source === 'shopify' || input.source === 'woocommerce') {
		return { header, value: hmacSha256(input.secret, raw).toString('base64') };
	}
	const t = Math.floor(input.timestamp ?? Date.now() / 1000);
	if (input.source === 'paddle')
		return {
			header,
			value: `ts=${t};h1=${hmacSha256(input.secret, `${t}:`, raw).toString('hex')}`,
		};
	return { header, value: `t=${t},v1=${hmacSha256(input.secret, `${t}.`, raw).toString('hex')}` };
}
