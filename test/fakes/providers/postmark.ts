/* Postmark /email fake: X-Postmark-Server-Token, 200 {ErrorCode: 0, MessageID}, failures carry ErrorCode
 * (422 with 406 for an inactive recipient, 300 for an invalid request, 10 for a bad token). */
import { randomUUID } from 'node:crypto';
import { startHttpFake, type FakeResponse, type RecordedRequest } from '../http';
import type { ProviderFake } from './types';

const PERMANENT = "Invalid 'From' address: 'nobody'.";

export async function startPostmarkFake(
	credentials = { serverToken: 'server-token-test' },
): Promise<ProviderFake> {
	const acceptedIds: string[] = [];
	const handler = (request: RecordedRequest): FakeResponse => {
		if (request.method !== 'POST' || request.path !== '/email')
			return { status: 404, body: { ErrorCode: 404, Message: 'Not found' } };
		if (request.headers['x-postmark-server-token'] !== credentials.serverToken) {
			return {
				status: 401,
				body: {
					ErrorCode: 10,
					Message:
						'The Server Token you provided in the X-Postmark-Server-Token request header was invalid.',
				},
			};
		}
		const body = request.json as Record<string, any> | undefined;
		if (!body?.From || !body.To)
			return {
				status: 422,
				body: { ErrorCode: 300, Message: "Invalid email request: provide 'From' and 'To'." },
			};
		if (!body.HtmlBody && !body.TextBody)
			return {
				status: 422,
				body: { ErrorCode: 300, Message: 'Provide either email TextBody or HtmlBody or both.' },
			};
		const MessageID = randomUUID();
		acceptedIds.push(MessageID);
		return {
			status: 200,
			body: {
				To: body.To,
				SubmittedAt: new Date().toISOString(),
				MessageID,
				ErrorCode: 0,
				Message: 'OK',
			},
		};
	};
	const fake = await startHttpFake(handler);
	return {
		...fake,
		acceptedIds,
		permanentText: PERMANENT,
		failures: {
			rateLimited: (seconds) => ({
				status: 429,
				headers: { 'retry-after': String(seconds) },
				body: { ErrorCode: 429, Message: 'Rate limit exceeded' },
			}),
			serverError: () => ({ status: 500, body: { ErrorCode: 100, Message: 'Maintenance' } }),
			permanent: () => ({ status: 422, body: { ErrorCode: 300, Message: PERMANENT } }),
			suppressed: () => ({
				status: 422,
				body: {
					ErrorCode: 406,
					Message:
						'You tried to send to recipient(s) that have been marked as inactive. Found inactive addresses: friend@example.test. Inactive recipients are ones that have generated a hard bounce, a spam complaint, or a manual suppression.',
				},
			}),
		},
	};
}
