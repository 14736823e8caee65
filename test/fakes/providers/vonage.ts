/* Vonage SMS API /sms/json fake: api_key/api_secret in the form, HTTP 200 even on failure with a
 * per-part `status` ("0" accepted; 1 throttled, 5 internal error, 7 number barred, 3 invalid params). */
import { randomBytes } from 'node:crypto';
import { startHttpFake, type FakeResponse, type RecordedRequest } from '../http';
import type { ProviderFake } from './types';

const failure = (status: string, errorText: string): FakeResponse => ({
	status: 200,
	body: { 'message-count': '1', messages: [{ status, 'error-text': errorText }] },
});
const PERMANENT = 'Invalid to param';

export async function startVonageFake(
	credentials = { apiKey: 'vonage-key', apiSecret: 'vonage-secret' },
): Promise<ProviderFake> {
	const acceptedIds: string[] = [];
	const handler = (request: RecordedRequest): FakeResponse => {
		if (request.method !== 'POST' || request.path !== '/sms/json')
			return { status: 404, body: 'Not Found' };
		const form = request.form ?? {};
		if (form.api_key !== credentials.apiKey || form.api_secret !== credentials.apiSecret)
			return failure('4', 'Bad Credentials');
		for (const field of ['from', 'to', 'text'])
			if (!form[field]) return failure('2', `Missing ${field} param`);
		if (form.to.startsWith('+')) return failure('3', 'Invalid to param');
		// Long texts are split into parts, each reported separately.
		const perPart = form.type === 'unicode' ? 67 : 153;
		const limit = form.type === 'unicode' ? 70 : 160;
		const parts = form.text.length <= limit ? 1 : Math.ceil(form.text.length / perPart);
		const messages = Array.from({ length: parts }, () => {
			const id = randomBytes(8).toString('hex').toUpperCase();
			acceptedIds.push(id);
			return {
				to: form.to,
				'message-id': id,
				status: '0',
				'remaining-balance': '3.14159265',
				'message-price': '0.03330000',
				network: '12345',
				...(form['client-ref'] ? { 'client-ref': form['client-ref'] } : {}),
			};
		});
		return { status: 200, body: { 'message-count': String(parts), messages } };
	};
	const fake = await startHttpFake(handler);
	return {
		...fake,
		acceptedIds,
		permanentText: PERMANENT,
		failures: {
			rateLimited: () => failure('1', 'Throughput Rate Exceeded - please wait [ 30 ] and retry'),
			serverError: () => failure('5', 'Internal Error'),
			permanent: () => failure('3', PERMANENT),
			suppressed: () => failure('7', 'Number barred.'),
		},
	};
}
