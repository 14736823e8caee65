/* Signing for tests that post to the signed sample webhooks (conversion, refund) and to the
 * provider workflows: the same construction a shop back-end or a provider uses. */
import { signWebhook, type WebhookSource } from '../../engine/webhooks/signatures';

/** The X-Referral-Signature secret the e2e instances are prepared with. */
export const TEST_WEBHOOK_SECRET = 'test-referral-webhook-secret-0123456789';
/** The Referral Link Secret (private status and unsubscribe links) of e2e instances that name one. */
export const TEST_LINK_SECRET = 'test-referral-link-secret-0123456789abcdef';
/** The lead-scoring webhook's Header Auth value in e2e instances. */
export const TEST_LEAD_SCORING_TOKEN = 'test-lead-scoring-token-0123456789';

/** Headers for a JSON body signed with `source`'s scheme (default: ours, X-Referral-Signature). */
export function signedHeaders(
	body: string,
	options: {
		secret?: string;
		source?: WebhookSource;
		timestamp?: number;
		extra?: Record<string, string>;
	} = {},
): Record<string, string> {
	const { header, value } = signWebhook({
		source: options.source ?? 'referral',
		body,
		secret: options.secret ?? TEST_WEBHOOK_SECRET,
		timestamp: options.timestamp,
	});
	return { 'content-type': 'application/json', [header]: value, ...(options.extra ?? {}) };
}

const lastTimestamp = new Map<string, number>();

/**
 * A fetch init posting `body` as JSON, signed as a sender signs each attempt anew. The same body
 * sent twice in one second would carry the same signature (a replay, refused), so a repeated body
 * gets a timestamp one second past its previous one, as a sender retrying a second later would.
 */
export function signedPost(
	body: unknown,
	options: Parameters<typeof signedHeaders>[1] = {},
): RequestInit {
	const text = typeof body === 'string' ? body : JSON.stringify(body);
	let timestamp = options.timestamp;
	if (timestamp === undefined) {
		const key = `${options.source ?? 'referral'}:${text}`;
		timestamp = Math.max(Math.floor(Date.now() / 1000), (lastTimestamp.get(key) ?? 0) + 1);
		lastTimestamp.set(key, timestamp);
	}
	return { method: 'POST', headers: signedHeaders(text, { ...options, timestamp }), body: text };
}
