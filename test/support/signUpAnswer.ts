/* The sample sign-up webhook answers every valid sign-up alike (202 and a neutral message, issue
 * #14): no code, no participant, no referral. Tests that need those read them where the person and
 * the program find them: the ledger (here) or the welcome email. */
import { openLedger } from '../../engine/ledger';
import {
	ReferralService,
	type ParticipantView,
	type ReferralSummary,
} from '../../engine/referrals';

/** The one answer the sample sign-up gives every valid sign-up (new, repeated, already enrolled). */
export const NEUTRAL_SIGN_UP_ANSWER = {
	message:
		'Thanks for signing up. If this address can join the program, your referral code is on its way by email.',
};

export interface SignedUp {
	status: number;
	/** The webhook's answer as sent. */
	answer: any;
	/** From the ledger, after the answer: the participant with that email (null when none). */
	participant: ParticipantView | null;
	/** From the ledger: the participant's referral as the old answer gave it, or null. */
	referral: ReferralSummary | null;
}

/** The participant and referral the ledger holds for an email (the sample program `default` unless told). */
export async function enrolledIn(
	ledgerPath: string,
	email: string,
	programId = 'default',
): Promise<{ participant: ParticipantView | null; referral: ReferralSummary | null }> {
	const ledger = await openLedger({ backend: 'sqlite', path: ledgerPath });
	const service = await ReferralService.open(ledger, programId);
	let participant: ParticipantView;
	try {
		({ participant } = await service.getParticipant({ email }));
	} catch {
		return { participant: null, referral: null };
	}
	const found = await ledger.findReferralByReferee({ programId, refereeId: participant.id });
	if (!found) return { participant, referral: null };
	const { id, status, referrerCode, reasons } = await service.getReferral(found.id);
	return { participant, referral: { id, status, referrerCode, reasons } };
}

/** POSTs a sign-up to the sample webhook and reads what it did from the ledger. */
export async function signUpAnswer(
	url: string,
	body: Record<string, unknown>,
	options: { ledgerPath: string; headers?: Record<string, string>; programId?: string },
): Promise<SignedUp> {
	const response = await fetch(url, {
		method: 'POST',
		headers: { 'content-type': 'application/json', ...options.headers },
		body: JSON.stringify(body),
	});
	const text = await response.text();
	let answer: any = text;
	try {
		answer = JSON.parse(text);
	} catch {
		/* not JSON: kept as text */
	}
	if (response.status !== 202 || typeof body.email !== 'string')
		return { status: response.status, answer, participant: null, referral: null };
	return {
		status: response.status,
		answer,
		...(await enrolledIn(options.ledgerPath, body.email, options.programId)),
	};
}
