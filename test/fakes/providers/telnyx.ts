/* Telnyx /v2/messages fake: Bearer key, 200 {data: {id, parts, encoding, to: [...]}}, errors
 * {errors: [{code, title, detail}]} (40300 blocked after the recipient texted STOP, 10011 too many requests). */
import { randomUUID } from 'node:crypto';
import { startHttpFake, type FakeResponse, type RecordedRequest } from '../http';
import type { ProviderFake } from './types';

const telnyxErrors = (code: string, title: string, detail: string) => ({
	errors: [
		{ code, title, detail, meta: { url: `https://developers.telnyx.com/api/errors/${code}` } },
	],
});
const PERMANENT = 'The phone number is invalid.';

export async function startTelnyxFake(
	credentials = { apiKey: 'KEYtelnyx' },
): Promise<ProviderFake> {
	const acceptedIds: string[] = [];
	const handler = (request: RecordedRequest): FakeResponse => {
		if (request.method !== 'POST' || request.path !== '/v2/messages')
			return {
				status: 404,
				body: telnyxErrors(
					'10005',
					'Resource not found',
					'The requested resource or URL could not be found.',
				),
			};
		if (request.headers.authorization !== `Bearer ${credentials.apiKey}`) {
			return {
				status: 401,
				body: telnyxErrors(
					'10009',
					'Authentication failed',
					'The required authentication headers were either invalid or not included in the request.',
				),
			};
		}
		const body = request.json as Record<string, any> | undefined;
		if (!body?.to)
			return {
				status: 422,
				body: telnyxErrors(
					'10004',
					'Missing required parameter',
					"The 'to' parameter is required.",
				),
			};
		if (!body.from && !body.messaging_profile_id)
			return {
				status: 422,
				body: telnyxErrors(
					'10004',
					'Missing required parameter',
					"The 'from' parameter is required.",
				),
			};
		if (!/^\+\d{6,15}$/.test(body.to))
			return {
				status: 422,
				body: telnyxErrors(
					'10016',
					'Phone number must be in +E.164 format',
					'The specified phone number parameter must be in +E.164 format.',
				),
			};
		const id = randomUUID();
		acceptedIds.push(id);
		return {
			status: 200,
			body: {
				data: {
					record_type: 'message',
					direction: 'outbound',
					id,
					type: 'SMS',
					from: { phone_number: body.from ?? null },
					to: [{ phone_number: body.to, status: 'queued' }],
					text: body.text,
					parts: 1,
					encoding: /^[\x20-\x7e\n\r]*$/.test(body.text ?? '') ? 'GSM-7' : 'UCS-2',
					messaging_profile_id: body.messaging_profile_id ?? null,
				},
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
				body: telnyxErrors(
					'10011',
					'Too many requests',
					'You have exceeded the maximum number of allowed requests.',
				),
			}),
			serverError: () => ({
				status: 500,
				body: telnyxErrors('10007', 'Unexpected error', 'An unexpected error occured.'),
			}),
			permanent: () => ({
				status: 422,
				body: telnyxErrors('10002', 'Invalid phone number', PERMANENT),
			}),
			// Telnyx documents HTTP 409 for this block rule.
			suppressed: () => ({
				status: 409,
				body: telnyxErrors(
					'40300',
					'Blocked due to STOP message',
					"Messages cannot be sent from '+15550001111' to '+15550002222' due to an existing block rule.",
				),
			}),
		},
	};
}
