import { EngineError } from '../shared/errors';
import type { LedgerStore } from '../ledger';

/**
 * Finding the referral or participant a request names, for the reward operations (Evaluate,
 * Reverse, Get Status, …): the ledger queries live here, the node only reads the item's field.
 * `field` names the parameter an error points at (as the guards' `field` does).
 */

/** How a request names a referral: its ledger ID, the order that qualified it, or its referee's email. */
export type ReferralLookup = 'id' | 'orderId' | 'refereeEmail';
/** How a request names a participant: ledger ID, email or external ID. */
export type ParticipantLookup = 'id' | 'email' | 'externalId';

/** The id of the referral `value` names; throws `unknown_referral` when there is none. Never creates one. */
export async function findReferral(
	ledger: LedgerStore,
	query: { programId: string; by: ReferralLookup; value: string | number },
	field = 'referralId',
): Promise<number> {
	const { programId, by, value } = query;
	let found: number | undefined;
	if (by === 'id') {
		if (Number.isInteger(Number(value))) return Number(value);
	} else if (by === 'orderId')
		found = (await ledger.findReferralByOrderId({ programId, orderId: String(value) }))?.id;
	else {
		const referee = await ledger.getParticipant({ programId, email: String(value) });
		if (referee)
			found = (await ledger.findReferralByReferee({ programId, refereeId: referee.id }))?.id;
	}
	if (found !== undefined) return found;
	throw new EngineError(
		'unknown_referral',
		`No referral found for ${by === 'orderId' ? 'order' : by === 'id' ? 'referral ID' : 'referee'} "${String(value)}"`,
		{ field },
	);
}

/** The id of the participant `value` names; throws when there is none (a status for a stranger is an error, never an enrolment). */
export async function findParticipant(
	ledger: LedgerStore,
	query: { programId: string; by: ParticipantLookup; value: string | number },
	field = 'participantId',
): Promise<number> {
	const { programId, by, value } = query;
	const participant = await ledger.getParticipant(
		by === 'id'
			? { programId, id: Number(value) }
			: by === 'email'
				? { programId, email: String(value) }
				: { programId, externalId: String(value) },
	);
	if (!participant)
		throw new EngineError(
			'unknown_participant',
			`No participant with ${by === 'id' ? 'ID' : by === 'email' ? 'email' : 'external ID'} "${String(value)}" in program "${programId}"`,
			{ field },
		);
	return participant.id;
}
