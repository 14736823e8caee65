import { describe, expect, it } from 'vitest';
import { signToken, verifyToken } from '../../../engine/shared/tokens';

const SECRET = 'token-secret-0123456789abcdef';
const NOW = Date.UTC(2026, 2, 1);

describe('signed tokens', () => {
	const token = signToken({
		purpose: 'participant-status',
		claims: { participantId: 42, program: 'default' },
		secret: SECRET,
		expiresAt: NOW + 3_600_000,
	});

	it('verify with their claims until they expire', () => {
		expect(
			verifyToken(token, { purpose: 'participant-status', secrets: [SECRET], now: NOW }),
		).toEqual({
			ok: true,
			purpose: 'participant-status',
			claims: { participantId: 42, program: 'default' },
			expiresAt: NOW + 3_600_000,
		});
		expect(
			verifyToken(token, {
				purpose: 'participant-status',
				secrets: [SECRET],
				now: NOW + 3_600_000,
			}),
		).toMatchObject({ ok: false, reason: 'expired' });
	});

	it('refuse a changed claim, another secret, another purpose and garbage', () => {
		const [payload, signature] = token.split('.');
		const forged = Buffer.from(
			Buffer.from(payload, 'base64url').toString().replace('42', '43'),
		).toString('base64url');
		expect(
			verifyToken(`${forged}.${signature}`, {
				purpose: 'participant-status',
				secrets: [SECRET],
				now: NOW,
			}),
		).toMatchObject({ ok: false, reason: 'bad_signature' });
		expect(
			verifyToken(token, {
				purpose: 'participant-status',
				secrets: ['another-secret-0123456789'],
				now: NOW,
			}),
		).toMatchObject({ ok: false, reason: 'bad_signature' });
		expect(
			verifyToken(token, { purpose: 'unsubscribe', secrets: [SECRET], now: NOW }),
		).toMatchObject({ ok: false, reason: 'wrong_purpose' });
		for (const bad of ['', 'abc', 'a.b.c', 'x'.repeat(5000), 42, null]) {
			expect(
				verifyToken(bad, { purpose: 'participant-status', secrets: [SECRET], now: NOW }).ok,
			).toBe(false);
		}
	});

	it('verify with the previous secret during a rotation', () => {
		expect(
			verifyToken(token, {
				purpose: 'participant-status',
				secrets: ['new-secret-0123456789abcdef', SECRET],
				now: NOW,
			}).ok,
		).toBe(true);
	});
});
