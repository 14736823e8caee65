/* HMAC-SHA256 and constant-time comparison: the primitives behind webhook signatures
 * (engine/webhooks) and signed links (signed tokens below). Plain node:crypto; no n8n. */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export type Bytes = string | Buffer | Uint8Array;

/** HMAC-SHA256 of the parts, concatenated without separators (strings as UTF-8). */
export function hmacSha256(secret: Bytes, ...parts: Bytes[]): Buffer {
	const mac = createHmac(
		'sha256',
		typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret,
	);
	for (const part of parts) mac.update(part);
	return mac.digest();
}

export function sha256Hex(...parts: Bytes[]): string {
	const hash = createHash('sha256');
	for (const part of parts) hash.update(part);
	return hash.digest('hex');
}

/**
 * Compares two byte strings in time that depends only on their lengths, never on where they
 * differ. Different lengths answer false (a length is no secret: every digest of a scheme has one).
 */
export function safeEqual(a: Buffer | Uint8Array, b: Buffer | Uint8Array): boolean {
	if (a.length !== b.length || a.length === 0) return false;
	return timingSafeEqual(a, b);
}

/** Lower-case hex of 2n digits to bytes; null when it is not hex of exactly `bytes` bytes. */
export function fromHex(text: string, bytes: number): Buffer | null {
	if (text.length !== bytes * 2 || !/^[0-9a-fA-F]+$/.test(text)) return null;
	return Buffer.from(text, 'hex');
}

/** Standard base64 (with padding) to bytes; null unless it decodes to exactly `bytes` bytes. */
export function fromBase64(text: string, bytes: number): Buffer | null {
	if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text)) return null;
	const decoded = Buffer.from(text, 'base64');
	return decoded.length === bytes && decoded.toString('base64') === text ? decoded : null;
}

export function base64url(bytes: Bytes): string {
	return Buffer.from(typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes).toString(
		'base64url',
	);
}
