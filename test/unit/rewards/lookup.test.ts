import { describe, expect, it } from 'vitest';

import type { LedgerStore } from '../../../engine/ledger';
import { findParticipant, findReferral } from '../../../engine/rewards/lookup';
import { EngineError } from '../../../engine/shared/errors';

/** Just the three queries the lookups make, over one participant (7, ann@example.com, ext-7) referred in referral 70 by order o-1. */
const ledger = {
	getParticipant: async (q: { id?: number; email?: string; externalId?: string }) =>
		q.id === 7 || q.email === 'ann@example.com' || q.externalId === 'ext-7' ? { id: 7 } : null,
	findReferralByReferee: async (q: { refereeId: number }) =>
		q.refereeId === 7 ? { id: 70 } : null,
	findReferralByOrderId: async (q: { orderId: string }) =>
		q.orderId === 'o-1' ? { id: 70 } : null,
} as unknown as LedgerStore;

async function failure(promise: Promise<unknown>): Promise<EngineError> {
	const error = await promise.then(
		() => undefined,
		(e: unknown) => e,
	);
	expect(error).toBeInstanceOf(EngineError);
	return error as EngineError;
}

describe('finding what a reward request names (engine/rewards/lookup.ts)', () => {
	it('finds a referral by ID, qualifying order or referee email', async () => {
		expect(await findReferral(ledger, { programId: 'p', by: 'id', value: '70' })).toBe(70);
		expect(await findReferral(ledger, { programId: 'p', by: 'orderId', value: 'o-1' })).toBe(70);
		expect(
			await findReferral(ledger, { programId: 'p', by: 'refereeEmail', value: 'ann@example.com' }),
		).toBe(70);
	});

	it('refuses what names no referral, pointing at the field it is given', async () => {
		const e = await failure(
			findReferral(ledger, { programId: 'p', by: 'orderId', value: 'o-2' }, 'referralField'),
		);
		expect([e.code, e.message, e.field]).toEqual([
			'unknown_referral',
			'No referral found for order "o-2"',
			'referralField',
		]);
		expect(
			(await failure(findReferral(ledger, { programId: 'p', by: 'id', value: 'x' }))).message,
		).toBe('No referral found for referral ID "x"');
		expect(
			(
				await failure(
					findReferral(ledger, { programId: 'p', by: 'refereeEmail', value: 'bob@example.com' }),
				)
			).field,
		).toBe('referralId');
	});

	it('finds a participant by ID, email or external ID, and never enrols a stranger', async () => {
		for (const [by, value] of [
			['id', 7],
			['email', 'ann@example.com'],
			['externalId', 'ext-7'],
		] as const) {
			expect(await findParticipant(ledger, { programId: 'p', by, value })).toBe(7);
		}
		const e = await failure(
			findParticipant(
				ledger,
				{ programId: 'p', by: 'email', value: 'bob@example.com' },
				'participantField',
			),
		);
		expect([e.code, e.message, e.field]).toEqual([
			'unknown_participant',
			'No participant with email "bob@example.com" in program "p"',
			'participantField',
		]);
	});
});
