/* Mailgun /v3/{domain}/messages fake: Basic "api:<key>", form fields, 200 {id, message}, errors {message}. */
import { randomBytes } from 'node:crypto';
import { startHttpFake, type FakeResponse, type RecordedRequest } from '../http';
import type { ProviderFake } from './types';

const PERMANENT = 'to parameter is not a valid address. please check documentation';

export async function startMailgunFake(
	credentials = { apiKey: 'key-test', domain: 'mg.example.test' },
): Promise<ProviderFake> {
	const acceptedIds: string[] = [];
	const expectedAuth = 'Basic ' + Buffer.from(`api:${credentials.apiKey}`).toString('base64');
	const handler = (request: RecordedRequest): FakeResponse => {
		if (request.method !== 'POST' || request.path !== `/v3/${credentials.domain}/messages`)
			return { status: 404, body: { message: 'Domain not found' } };
		if (request.headers.authorization !== expectedAuth) return { status: 401, body: 'Forbidden' };
		const form = request.form ?? {};
		for (const field of ['from', 'to', 'subject']) {
			if (!form[field])
				return { status: 400, body: { message: `'${field}' parameter is missing` } };
		}
		if (!form.text && !form.html)
			return {
				status: 400,
				body: { message: "Need at least one of 'text', 'html' or 'template' parameters specified" },
			};
		const id = `<${Date.now()}.${randomBytes(6).toString('hex')}@${credentials.domain}>`;
		acceptedIds.push(id);
		return { status: 200, body: { id, message: 'Queued. Thank you.' } };
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
				body: { message: 'Too many requests' },
			}),
			serverError: () => ({ status: 503, body: { message: 'Service Unavailable' } }),
			permanent: () => ({ status: 400, body: { message: PERMANENT } }),
		},
	};
}
