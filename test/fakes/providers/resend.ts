/* Resend /emails fake: Bearer key, 200 {id}, errors {statusCode, name, message}. It honours
 * Idempotency-Key as Resend documents: the same key and body replay the first answer; the same key
 * with another body is 409 invalid_idempotent_request. */
import { createHash, randomUUID } from 'node:crypto';
import { startHttpFake, type FakeResponse, type RecordedRequest } from '../http';
import type { ProviderFake } from './types';

const PERMANENT =
	'Invalid `from` field. The email address needs to follow the `email@example.com` or `Name <email@example.com>` format.';
const error = (statusCode: number, name: string, message: string) => ({
	statusCode,
	name,
	message,
});

export async function startResendFake(
	credentials = { apiKey: 're_test_key' },
): Promise<ProviderFake & { sentCount(): number }> {
	const acceptedIds: string[] = [];
	const byKey = new Map<string, { bodyHash: string; id: string }>();
	const handler = (request: RecordedRequest): FakeResponse => {
		if (request.method !== 'POST' || request.path !== '/emails')
			return {
				status: 404,
				body: error(404, 'not_found', 'The requested endpoint does not exist.'),
			};
		if (!request.headers.authorization)
			return {
				status: 401,
				body: error(401, 'missing_api_key', 'Missing API key in the authorization header.'),
			};
		if (request.headers.authorization !== `Bearer ${credentials.apiKey}`)
			return { status: 403, body: error(403, 'invalid_api_key', 'API key is invalid') };
		const body = request.json as Record<string, any> | undefined;
		for (const field of ['from', 'to', 'subject']) {
			if (!body?.[field])
				return {
					status: 422,
					body: error(422, 'missing_required_field', `Missing \`${field}\` field.`),
				};
		}
		const key = request.headers['idempotency-key'];
		const bodyHash = createHash('sha256').update(request.rawBody).digest('hex');
		if (key) {
			const previous = byKey.get(key);
			if (previous && previous.bodyHash !== bodyHash) {
				return {
					status: 409,
					body: error(
						409,
						'invalid_idempotent_request',
						'Same idempotency key used with a different request payload.',
					),
				};
			}
			if (previous) return { status: 200, body: { id: previous.id } };
		}
		const id = randomUUID();
		if (key) byKey.set(key, { bodyHash, id });
		acceptedIds.push(id);
		return { status: 200, body: { id } };
	};
	const fake = await startHttpFake(handler);
	return {
		...fake,
		acceptedIds,
		sentCount: () => acceptedIds.length,
		permanentText: PERMANENT,
		failures: {
			rateLimited: (seconds) => ({
				status: 429,
				headers: {
					'retry-after': String(seconds),
					'ratelimit-limit': '2',
					'ratelimit-remaining': '0',
					'ratelimit-reset': String(seconds),
				},
				body: error(
					429,
					'rate_limit_exceeded',
					'Too many requests. You can only make 2 requests per second.',
				),
			}),
			serverError: () => ({
				status: 500,
				body: error(500, 'application_error', 'An unexpected error occurred.'),
			}),
			permanent: () => ({ status: 422, body: error(422, 'validation_error', PERMANENT) }),
		},
	};
}

export function resendQuotaExceeded(): FakeResponse {
	return {
		status: 429,
		body: error(429, 'daily_quota_exceeded', 'You have reached your daily email sending quota.'),
	};
}
