/* Plivo Message API fake: Basic auth_id:auth_token, JSON, 202 {api_id, message, message_uuid[]}, errors {api_id, error}. */
import { randomUUID } from 'node:crypto';
import { startHttpFake, type FakeResponse, type RecordedRequest } from '../http';
import type { ProviderFake } from './types';

const PERMANENT = 'invalid destination number +15005550001';
const plivoError = (error: string) => ({ api_id: randomUUID(), error });

export async function startPlivoFake(
	credentials = { authId: 'MAXXXXXXXXXXXXXXXXXX', authToken: 'plivo-token' },
): Promise<ProviderFake> {
	const acceptedIds: string[] = [];
	const expectedAuth =
		'Basic ' + Buffer.from(`${credentials.authId}:${credentials.authToken}`).toString('base64');
	const handler = (request: RecordedRequest): FakeResponse => {
		if (request.method !== 'POST' || request.path !== `/v1/Account/${credentials.authId}/Message/`)
			return { status: 404, body: plivoError('not found') };
		if (request.headers.authorization !== expectedAuth)
			return {
				status: 401,
				body: 'Could not verify your access level for that URL.\nYou have to login with proper credentials',
			};
		const body = request.json as Record<string, any> | undefined;
		if (!body?.src && !body?.powerpack_uuid)
			return { status: 400, body: plivoError('src parameter not present') };
		if (!body.dst) return { status: 400, body: plivoError('dst parameter not present') };
		if (!body.text) return { status: 400, body: plivoError('text parameter not present') };
		const id = randomUUID();
		acceptedIds.push(id);
		return {
			status: 202,
			body: { api_id: randomUUID(), message: 'message(s) queued', message_uuid: [id] },
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
				body: plivoError('too many requests'),
			}),
			serverError: () => ({ status: 500, body: plivoError('unexpected error, please retry') }),
			permanent: () => ({ status: 400, body: plivoError(PERMANENT) }),
		},
	};
}
