/* Twilio Messages.json fake: Basic SID:token, form fields, 201 message resource, errors
 * {code, message, more_info, status} (21610 unsubscribed recipient, 20429 too many requests). */
import { randomBytes } from 'node:crypto';
import { startHttpFake, type FakeResponse, type RecordedRequest } from '../http';
import type { ProviderFake } from './types';

const twilioError = (status: number, code: number, message: string) => ({
	code,
	message,
	more_info: `https://www.twilio.com/docs/errors/${code}`,
	status,
});
const PERMANENT = "The 'To' number +15005550001 is not a valid phone number.";

export async function startTwilioFake(
	credentials = { accountSid: 'AC' + '0'.repeat(32), authToken: 'twilio-token' },
): Promise<ProviderFake> {
	const acceptedIds: string[] = [];
	const expectedAuth =
		'Basic ' + Buffer.from(`${credentials.accountSid}:${credentials.authToken}`).toString('base64');
	const handler = (request: RecordedRequest): FakeResponse => {
		if (
			request.method !== 'POST' ||
			request.path !== `/2010-04-01/Accounts/${credentials.accountSid}/Messages.json`
		) {
			return { status: 404, body: twilioError(404, 20404, 'The requested resource was not found') };
		}
		if (request.headers.authorization !== expectedAuth)
			return { status: 401, body: twilioError(401, 20003, 'Authenticate') };
		const form = request.form ?? {};
		if (!form.To)
			return { status: 400, body: twilioError(400, 21604, "A 'To' phone number is required.") };
		if (!form.From && !form.MessagingServiceSid)
			return { status: 400, body: twilioError(400, 21603, "A 'From' phone number is required.") };
		if (!form.Body)
			return { status: 400, body: twilioError(400, 21602, 'Message body is required.') };
		if (form.Body.length > 1600)
			return {
				status: 400,
				body: twilioError(
					400,
					21617,
					'The concatenated message body exceeds the 1600 character limit.',
				),
			};
		const sid = 'SM' + randomBytes(16).toString('hex');
		acceptedIds.push(sid);
		return {
			status: 201,
			body: {
				sid,
				account_sid: credentials.accountSid,
				to: form.To,
				from: form.From ?? null,
				messaging_service_sid: form.MessagingServiceSid ?? null,
				body: form.Body,
				status: 'queued',
				num_segments: '1',
				direction: 'outbound-api',
				error_code: null,
				error_message: null,
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
				body: twilioError(429, 20429, 'Too Many Requests'),
			}),
			serverError: () => ({ status: 500, body: twilioError(500, 20500, 'Internal Server Error') }),
			permanent: () => ({ status: 400, body: twilioError(400, 21211, PERMANENT) }),
			suppressed: () => ({
				status: 400,
				body: twilioError(400, 21610, 'Attempt to send to unsubscribed recipient'),
			}),
		},
	};
}
