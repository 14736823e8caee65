/* SendGrid v3 /v3/mail/send fake: Bearer key, 202 + X-Message-Id, errors as {errors: [{message, field, help}]}. */
import { randomBytes } from 'node:crypto';
import { startHttpFake, type FakeResponse, type RecordedRequest } from '../http';
import type { ProviderFake } from './types';

const errors = (message: string, field: string | null = null) => ({
	errors: [{ message, field, help: null }],
});
const PERMANENT =
	'The from address does not match a verified Sender Identity. Mail cannot be sent until this error is resolved.';

export async function startSendGridFake(
	credentials = { apiKey: 'SG.test-key' },
): Promise<ProviderFake> {
	const acceptedIds: string[] = [];
	const handler = (request: RecordedRequest): FakeResponse => {
		if (request.method !== 'POST' || request.path !== '/v3/mail/send')
			return { status: 404, body: errors('Not found') };
		if (request.headers.authorization !== `Bearer ${credentials.apiKey}`) {
			return {
				status: 401,
				body: errors('The provided authorization grant is invalid, expired, or revoked'),
			};
		}
		const body = request.json as Record<string, any> | undefined;
		if (!body?.personalizations?.[0]?.to?.[0]?.email)
			return {
				status: 400,
				body: errors(
					'The to array is required for all personalization objects, and must have at least one email object with a valid email address.',
					'personalizations.0.to',
				),
			};
		if (!body.from?.email)
			return {
				status: 400,
				body: errors('The from object must be provided for every email send.', 'from'),
			};
		if (!body.subject)
			return {
				status: 400,
				body: errors(
					'The subject is required. You can get around this requirement if you use a template with a subject defined.',
					'subject',
				),
			};
		if (!Array.isArray(body.content) || body.content[0]?.type !== 'text/plain') {
			return {
				status: 400,
				body: errors(
					'If present, text/plain content must be first, followed by any other content.',
					'content',
				),
			};
		}
		const id = randomBytes(11).toString('base64url');
		acceptedIds.push(id);
		return { status: 202, headers: { 'x-message-id': id } };
	};
	const fake = await startHttpFake(handler);
	return {
		...fake,
		acceptedIds,
		permanentText: PERMANENT,
		failures: {
			rateLimited: (seconds) => ({
				status: 429,
				headers: {
					'retry-after': String(seconds),
					'x-ratelimit-limit': '600',
					'x-ratelimit-remaining': '0',
				},
				body: errors('too many requests'),
			}),
			serverError: () => ({ status: 500, body: errors('internal error') }),
			permanent: () => ({ status: 403, body: errors(PERMANENT, 'from') }),
		},
	};
}
