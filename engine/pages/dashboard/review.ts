import { randomBytes } from 'node:crypto';
import type { LedgerStore } from '../../ledger/store';
import { isEngineError } from '../../shared/errors';
import { checkFormToken, isCrossSite } from './csrf';
import { escapeHtml, pageHeaders, shell } from './shell';

/** What a page operation answers: the Respond to Webhook node sends it as is. */
export interface PageResponse {
	html: string;
	statusCode: number;
	headers: Record<string, string>;
}

/** The program's write-once secret for the review forms' tokens (first writer wins, kept in the ledger). */
export async function reviewSecret(ledger: LedgerStore, programId: string): Promise<string> {
	return await ledger.claimProgramSecret({
		programId,
		name: 'review-form',
		candidate: randomBytes(32).toString('hex'),
	});
}

export type Decision = 'approve' | 'reject';

export interface ReviewDecisionInput {
	programId: string;
	secret: string;
	sessionId: string | null;
	/** The POSTed form fields. */
	form: Record<string, unknown>;
	/** The request's headers (lower-case names), for the cross-site check. */
	headers: Record<string, unknown>;
	now: number;
	/** The review queue page's URL (POST-redirect-GET goes back there). */
	reviewUrl: string;
	/** Approve or reject: the Referral node's operations (ReferralService.approve / reject). */
	decide: (decision: Decision, referralId: string) => Promise<unknown>;
}

export interface ReviewDecisionOutcome extends PageResponse {
	ok: boolean;
	decision?: Decision;
	referralId?: string;
	/** Why it was refused (csrf, invalid_form, not_reviewable). */
	reason?: string;
}

/** The notices the review page shows after a decision (never text from the request). */
export const DECISION_NOTICES: Record<string, { kind: 'ok' | 'error'; text: string }> = {
	approve: { kind: 'ok', text: 'Approved.' },
	reject: { kind: 'ok', text: 'Rejected.' },
	not_reviewable: {
		kind: 'error',
		text: 'That referral could not be changed: it is not waiting for review any more.',
	},
};

function refusal(statusCode: number, reason: string, message: string): ReviewDecisionOutcome {
	return {
		ok: false,
		reason,
		statusCode,
		headers: pageHeaders(),
		html: shell({
			title: 'Referral review queue',
			body: `<div class="error" role="alert"><p>${escapeHtml(message)}</p></div>`,
		}),
	};
}

function redirect(reviewUrl: string, query: Record<string, string>): Record<string, string> {
	const q = new URLSearchParams(query).toString();
	return pageHeaders({ location: `${reviewUrl}${reviewUrl.includes('?') ? '&' : '?'}${q}` });
}

/**
 * A reviewer's Approve or Reject: the form token must fit this session, referral and action (CSRF),
 * the request must not come from another site, then the decision runs through the same engine
 * calls as the Referral node's Approve and Reject, which answer a replay like the first request.
 * Answers 303 See Other back to the queue (POST-redirect-GET: a reload does not post again).
 */
export async function reviewDecision(input: ReviewDecisionInput): Promise<ReviewDecisionOutcome> {
	const decision = input.form.decision;
	const referralId = String(input.form.referralId ?? '').trim();
	if ((decision !== 'approve' && decision !== 'reject') || !/^\d{1,18}$/.test(referralId))
		return refusal(
			400,
			'invalid_form',
			'The form was not complete: reload the review queue and try again.',
		);
	if (isCrossSite(input.headers))
		return refusal(403, 'csrf', 'Refused: the request came from another site.');
	const check = checkFormToken(
		input.secret,
		{ sessionId: input.sessionId ?? '', programId: input.programId, referralId, action: decision },
		input.form.token,
		input.now,
	);
	if (!check.ok)
		return refusal(
			403,
			'csrf',
			'Refused: the form has expired or does not belong to this session. Reload the review queue and try again.',
		);
	try {
		await input.decide(decision, referralId);
	} catch (error) {
		if (isEngineError(error) && error.code !== 'not_found' && /status|transition/.test(error.code))
			return {
				ok: false,
				decision,
				referralId,
				reason: 'not_reviewable',
				statusCode: 303,
				headers: redirect(input.reviewUrl, { notice: 'not_reviewable', referral: referralId }),
				html: '',
			};
		throw error;
	}
	return {
		ok: true,
		decision,
		referralId,
		statusCode: 303,
		headers: redirect(input.reviewUrl, { notice: decision, referral: referralId }),
		html: '',
	};
}
