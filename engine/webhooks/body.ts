/* The verified raw body as data. JSON is parsed from the very bytes that were signed (never from a
 * re-serialised copy), and integers beyond 2^53 (Shopify's sample order id 820982911946154508, for
 * one) are kept exactly, as text, instead of being rounded to a neighbouring id. */

/** Largest raw body read (1 MiB); providers' order events are a few kilobytes. */
export const MAX_BODY_BYTES = 1024 * 1024;

type Reviver = (
	this: unknown,
	key: string,
	value: unknown,
	context?: { source?: string },
) => unknown;

const keepBigIntegers: Reviver = (_key, value, context) => {
	if (
		typeof value === 'number' &&
		!Number.isSafeInteger(value) &&
		Number.isInteger(value) &&
		context?.source &&
		/^-?\d+$/.test(context.source)
	) {
		return context.source;
	}
	return value;
};

/** Parses a JSON body; `undefined` when it is not JSON (e.g. WooCommerce's form-encoded ping). */
export function parseJsonBody(raw: Buffer | string): unknown {
	const text = typeof raw === 'string' ? raw : raw.toString('utf8');
	if (text.trim() === '') return undefined;
	try {
		return JSON.parse(text, keepBigIntegers as Parameters<typeof JSON.parse>[1]);
	} catch {
		return undefined;
	}
}

/** `a=1&b=2` to an object (WooCommerce pings with `webhook_id=<id>`). */
export function parseFormBody(raw: Buffer | string): Record<string, string> {
	const text = typeof raw === 'string' ? raw : raw.toString('utf8');
	return Object.fromEntries(new URLSearchParams(text));
}
