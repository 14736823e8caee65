import { describe, expect, it } from 'vitest';

import { EngineError } from '../../../engine/shared/errors';
import {
	afterApproval,
	assertTransition,
	canTransition,
	internalStatusesFor,
	isTerminal,
	legalTargets,
	nextStatus,
	parseReferralStatus,
	publicStatus,
	REFERRAL_STATUSES,
	statusForDecision,
	transition,
	type ReferralStatus,
} from '../../../engine/referrals/lifecycle';

// The specification from the issue, written out independently of the engine's table.
const LEGAL: Array<[ReferralStatus, string, ReferralStatus]> = [
	['recorded', 'accept', 'pending'],
	['recorded', 'flag', 'flagged'],
	['recorded', 'block', 'rejected'],
	['pending', 'qualify', 'qualified'],
	['pending', 'flag', 'flagged'],
	['pending', 'reject', 'rejected'],
	['flagged', 'approve', 'approved'],
	['flagged', 'reject', 'rejected'],
	['approved', 'resume', 'pending'],
	['approved', 'qualify', 'qualified'],
	['qualified', 'reverse', 'reversed'],
];

function caught(fn: () => unknown): EngineError {
	try {
		fn();
	} catch (error) {
		expect(error).toBeInstanceOf(EngineError);
		return error as EngineError;
	}
	throw new Error('expected an EngineError');
}

describe('referral state machine', () => {
	it.each(LEGAL)('%s → %s is legal as event "%s"', (from, event, to) => {
		expect(assertTransition(from, to)).toBe(event);
		expect(nextStatus(from, event as never)).toBe(to);
		expect(canTransition(from, to)).toBe(true);
	});

	const illegal: Array<[ReferralStatus, ReferralStatus]> = [];
	for (const from of REFERRAL_STATUSES) {
		for (const to of REFERRAL_STATUSES) {
			if (!LEGAL.some(([f, , t]) => f === from && t === to)) illegal.push([from, to]);
		}
	}

	it('has exactly the specified legal moves and nothing else', () => {
		expect(illegal.length).toBe(REFERRAL_STATUSES.length ** 2 - LEGAL.length);
	});

	it.each(illegal)(
		'%s → %s is an illegal_transition naming both states and the legal targets',
		(from, to) => {
			const error = caught(() => assertTransition(from, to));
			expect(error.code).toBe('illegal_transition');
			expect(error.message).toContain(`"${from}"`);
			expect(error.message).toContain(`"${to}"`);
			const expectedTargets = LEGAL.filter(([f]) => f === from).map(([, , t]) => t);
			expect(error.details?.legalTargets).toEqual(expectedTargets);
			for (const target of expectedTargets) expect(error.message).toContain(`"${target}"`);
			expect(canTransition(from, to)).toBe(false);
		},
	);

	it('says a final status is final', () => {
		const error = caught(() => assertTransition('reversed', 'pending'));
		expect(error.message).toMatch(/final/);
		expect(isTerminal('reversed')).toBe(true);
		expect(isTerminal('rejected')).toBe(true);
		expect(isTerminal('pending')).toBe(false);
		expect(legalTargets('rejected')).toEqual([]);
	});

	it('rejects an event that does not apply to the current status', () => {
		const error = caught(() => nextStatus('pending', 'approve'));
		expect(error.code).toBe('illegal_transition');
		expect(error.message).toContain('approve');
	});

	it('refuses unknown statuses with the allowed list', () => {
		const error = caught(() => assertTransition('pending', 'paid' as ReferralStatus));
		expect(error.code).toBe('unknown_status');
		expect(error.field).toBe('to');
		expect(parseReferralStatus(' Qualified ')).toBe('qualified');
	});

	it('maps internal statuses to the public contract', () => {
		expect(publicStatus('recorded')).toBe('pending');
		expect(publicStatus('approved')).toBe('pending');
		expect(publicStatus('flagged')).toBe('flagged');
		expect(publicStatus('rejected')).toBe('rejected');
		expect(publicStatus('reversed')).toBe('reversed');
		expect(internalStatusesFor('pending').sort()).toEqual(['approved', 'pending', 'recorded']);
		expect(internalStatusesFor('qualified').sort()).toEqual(['qualified']);
	});

	it('sends an approved referral back into the normal path', () => {
		expect(afterApproval(false)).toBe('pending');
		expect(afterApproval(true)).toBe('qualified');
		// flagged → approved → (pending | qualified) are both legal chains
		expect(() => assertTransition('flagged', 'approved')).not.toThrow();
		expect(() => assertTransition('approved', afterApproval(false))).not.toThrow();
		expect(() => assertTransition('approved', afterApproval(true))).not.toThrow();
	});

	it('maps fraud decisions to the first status after recording', () => {
		expect(statusForDecision('allow')).toBe('pending');
		expect(statusForDecision('flag')).toBe('flagged');
		expect(statusForDecision('block')).toBe('rejected');
		for (const d of ['allow', 'flag', 'block'] as const)
			expect(canTransition('recorded', statusForDecision(d))).toBe(true);
	});

	it('builds history entries with event, time and reasons', () => {
		const entry = transition('pending', 'flagged', 1000, ['same_ip', 'velocity'], 'two signals');
		expect(entry).toEqual({
			from: 'pending',
			to: 'flagged',
			event: 'flag',
			at: 1000,
			reasons: ['same_ip', 'velocity'],
			note: 'two signals',
		});
		expect(caught(() => transition('pending', 'flagged', 1, ['fishy' as never])).code).toBe(
			'unknown_reason',
		);
		expect(caught(() => transition('pending', 'reversed', 1)).code).toBe('illegal_transition');
	});
});
