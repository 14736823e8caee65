import { EngineError } from '../shared/errors';
import { describe } from '../shared/guards';
import { orderConflict } from '../ledger/validate';
import type { Id, ReferralRecord } from '../ledger/store';
import { HELD_FOR_REVIEW, qualificationFor, validateConversion } from './conversion';
import {
	afterApproval,
	assertTransition,
	parseReferralStatus,
	publicStatus,
	type PublicReferralStatus,
	type ReferralStatus,
} from './lifecycle';
import { completeAssessment } from './signUp';
import {
	detail,
	refereeOf,
	requireReferral,
	type ReferralContext,
	type ReferralDetail,
} from './views';

/**
 * A referral's moves after sign-up: an order qualifies it (or is held while it is under review),
 * a reviewer approves, rejects or flags it. Each is one checked step of the lifecycle (move), and
 * a replay answers like the call that made the step.
 */

export interface ConversionInput {
	/** Find the referee by email, external id or ledger id, or name the referral directly. */
	email?: string;
	externalId?: string;
	participantId?: Id;
	referralId?: Id;
	orderId: string;
	amount: number;
	currency: string;
	at?: number | string | Date;
}

export interface ConversionOutcome {
	referral: { id: number; status: PublicReferralStatus } | null;
	/** True when this order qualified the referral (also on a replay of that order). */
	qualified: boolean;
	/** What happened: qualified, held (referral under review), ignored, replayed, not_referred, not_a_participant. */
	outcome: string;
	reason: string;
	replayed: boolean;
	orderId: string;
}

export interface TransitionOutcome {
	referral: ReferralDetail;
	/**
	 * True when this request moved the referral (a replay of it says so too: it answers from the
	 * referral's history like the first call); false when it was already there for another reason.
	 */
	changed: boolean;
	/** The status the request found (a replay: the one its first call found, from the history). */
	from: ReferralStatus;
	reason: string;
	/** True when an earlier call (a retry, a re-run, a racing copy) made the change this one answers with. */
	replayed: boolean;
}

const HELD_EVENT = 'referral.conversion_held';
/** No referral is ever in this status: the ledger stores the order without qualifying anything. */
const NO_STATUS = ['never_qualifies'];

/**
 * A referee's order: qualifies the referral once (idempotent by order id), is held while the
 * referral is under review, and is ignored for referrals that already qualified.
 */
export async function qualify(
	ctx: ReferralContext,
	input: ConversionInput,
): Promise<ConversionOutcome> {
	const timed = !(input.at === undefined || input.at === null || input.at === '');
	const conversion = validateConversion(
		{
			orderId: input.orderId,
			amount: input.amount,
			currency: input.currency,
			occurredAt: timed ? input.at : ctx.now(),
		},
		ctx.program.config.qualification,
	);
	const none = (outcome: string, reason: string): ConversionOutcome => ({
		referral: null,
		qualified: false,
		outcome,
		reason,
		replayed: false,
		orderId: conversion.orderId,
	});
	let referral: ReferralRecord | null;
	if (input.referralId !== undefined && input.referralId !== null && input.referralId !== '') {
		referral = await ctx.ledger.getReferral({ programId: ctx.programId, id: input.referralId });
		if (!referral)
			throw new EngineError(
				'unknown_referral',
				`Referral ${describe(input.referralId)} is not in program "${ctx.programId}".`,
				{ field: 'referralId' },
			);
	} else {
		const referee = await refereeOf(ctx, input);
		if (!referee)
			return none('not_a_participant', 'Nobody with this email is enrolled in the program.');
		referral = await ctx.ledger.findReferralByReferee({
			programId: ctx.programId,
			refereeId: referee.id,
		});
		if (!referral) return none('not_referred', 'The customer was not referred.');
	}
	if (referral.status === 'recorded') referral = await completeAssessment(ctx, referral);
	const status = parseReferralStatus(referral.status);
	const verdict = qualificationFor(
		status,
		referral.touchedAt,
		conversion,
		ctx.program.config.qualification,
	);
	if (verdict.outcome === 'hold') {
		// Kept as an event, not a conversion row, so approval can still qualify with this order id.
		// Only what the caller sent goes in: an order without a time is dated by the event's own
		// creation (the first arrival), so the server's clock never enters the request's fingerprint.
		const payload = {
			referralId: referral.id,
			orderId: conversion.orderId,
			amount: conversion.amount,
			currency: conversion.currency,
			...(timed ? { occurredAt: conversion.occurredAt } : {}),
		};
		let replayed: boolean;
		try {
			({ replayed } = await ctx.ledger.appendEvent({
				programId: ctx.programId,
				type: HELD_EVENT,
				payload,
				idempotencyKey: `conversion_held:${referral.id}:${conversion.orderId}`,
			}));
		} catch (error) {
			if (!(error instanceof EngineError && error.code === 'idempotency_key_reused')) throw error;
			const held = await heldConversion(ctx, referral.id, conversion.orderId);
			if (held) orderConflict(conversion.orderId, held, conversion.amount, conversion.currency);
			throw error;
		}
		return {
			referral: { id: referral.id, status: publicStatus(status) },
			qualified: false,
			outcome: 'held',
			reason: verdict.reason,
			replayed,
			orderId: conversion.orderId,
		};
	}
	// An order held under review answers "held" again whatever the review decided (a rejection
	// writes no order row, so that replay is caught here; an approval's is caught below).
	if (status === 'rejected') {
		const again = await heldReplay(ctx, referral.id, conversion);
		if (again) return again;
	}
	const result = await ctx.ledger.qualifyReferral({
		programId: ctx.programId,
		referralId: referral.id,
		orderId: conversion.orderId,
		amount: conversion.amount,
		currency: conversion.currency,
		occurredAt: conversion.occurredAt,
		fromStatuses: verdict.outcome === 'qualify' ? ['pending', 'approved'] : NO_STATUS,
		toStatus: 'qualified',
		reason: `order ${conversion.orderId}`,
	});
	const view = {
		id: result.referral.id,
		status: publicStatus(parseReferralStatus(result.referral.status)),
	};
	if (result.replayed) {
		// The same order again answers like its first request, from what the ledger stored with the
		// order (the referral's status then; the order's own time), whatever the referral did since.
		// An order first held under review, which its approval then qualified, answered "held".
		const held = await heldReplay(ctx, result.referral.id, conversion);
		if (held) return held;
		const then = result.conversion.referralStatus;
		if (then === null) {
			return {
				referral: view,
				qualified: result.qualified,
				outcome: 'replayed',
				reason: 'This order was already recorded; nothing changed.',
				replayed: true,
				orderId: conversion.orderId,
			};
		}
		const status = parseReferralStatus(then);
		const stored = { ...conversion, occurredAt: result.conversion.occurredAt };
		const first = qualificationFor(
			status,
			result.referral.touchedAt,
			stored,
			ctx.program.config.qualification,
		);
		const id = result.referral.id;
		if (result.qualified)
			return {
				referral: { id, status: 'qualified' },
				qualified: true,
				outcome: 'qualified',
				reason: first.reason,
				replayed: true,
				orderId: conversion.orderId,
			};
		const reason =
			first.outcome === 'ignore' ? first.reason : `The referral is ${then}; it cannot qualify.`;
		return {
			referral: { id, status: publicStatus(status) },
			qualified: false,
			outcome: 'ignored',
			reason,
			replayed: true,
			orderId: conversion.orderId,
		};
	}
	if (result.qualified)
		return {
			referral: view,
			qualified: true,
			outcome: 'qualified',
			reason: verdict.reason,
			replayed: false,
			orderId: conversion.orderId,
		};
	const reason =
		verdict.outcome === 'ignore'
			? verdict.reason
			: `The referral is ${result.referral.status}; it cannot qualify.`;
	return {
		referral: view,
		qualified: false,
		outcome: 'ignored',
		reason,
		replayed: false,
		orderId: conversion.orderId,
	};
}

/**
 * One checked step: the lifecycle says whether from → to is legal (an illegal one throws
 * `illegal_transition`), the ledger's compare-and-set makes it happen once. Asking for the
 * status the referral already has is a replay, not an error.
 */
export async function move(
	ctx: ReferralContext,
	referral: ReferralRecord,
	to: ReferralStatus,
	reason: string,
	reasons?: string[],
): Promise<{ record: ReferralRecord; changed: boolean }> {
	const from = parseReferralStatus(referral.status);
	if (from === to) return { record: referral, changed: false };
	assertTransition(from, to);
	const result = await ctx.ledger.transitionReferral({
		programId: ctx.programId,
		referralId: referral.id,
		from,
		to,
		reason,
		reasons,
	});
	if (!result.transitioned) {
		if (result.status === to) return { record: result.record, changed: false };
		throw new EngineError(
			'status_changed',
			`Referral ${referral.id} changed from "${from}" to "${result.status}" meanwhile; read it again and retry.`,
			{
				field: 'referralId',
				details: { from, now: result.status },
			},
		);
	}
	return { record: result.record, changed: true };
}

/**
 * The answer an order held under review got, for a replay of it (null when this order was not
 * held); the same order id with another amount or currency is a conflict naming orderId.
 */
async function heldReplay(
	ctx: ReferralContext,
	referralId: number,
	conversion: { orderId: string; amount: number; currency: string },
): Promise<ConversionOutcome | null> {
	const held = await heldConversion(ctx, referralId, conversion.orderId);
	if (!held) return null;
	orderConflict(conversion.orderId, held, conversion.amount, conversion.currency);
	return {
		referral: { id: referralId, status: publicStatus('flagged') },
		qualified: false,
		outcome: 'held',
		reason: HELD_FOR_REVIEW,
		replayed: true,
		orderId: conversion.orderId,
	};
}

/** The order held while the referral was under review (the first, or the one with this order id); dated by its arrival when the order had no time. */
export async function heldConversion(
	ctx: ReferralContext,
	referralId: number,
	orderId?: string,
): Promise<{ orderId: string; amount: number; currency: string; occurredAt: number } | null> {
	let afterId = 0;
	for (;;) {
		const page = await ctx.ledger.readEvents({
			afterId,
			types: [HELD_EVENT],
			programId: ctx.programId,
			limit: 1000,
		});
		const found = page.events.find(
			(e) =>
				e.payload.referralId === referralId &&
				(orderId === undefined || e.payload.orderId === orderId),
		);
		if (found) {
			const held = found.payload as unknown as {
				orderId: string;
				amount: number;
				currency: string;
				occurredAt?: number;
			};
			return { ...held, occurredAt: held.occurredAt ?? found.createdAt };
		}
		if (page.events.length < 1000) return null;
		afterId = page.cursor;
	}
}

/** A reviewer clears a flagged referral: back to pending, or straight to qualified when its order arrived meanwhile. */
export async function approve(
	ctx: ReferralContext,
	referralId: Id,
	note?: string,
): Promise<TransitionOutcome> {
	const referral = await requireReferral(ctx, referralId);
	const from = parseReferralStatus(referral.status);
	if (from !== 'flagged' && from !== 'approved') {
		// Already approved and moved on is a replay: it answers like the approval did; anything else is not reviewable.
		if (
			(from === 'pending' || from === 'qualified') &&
			(await reviewStep(ctx, referral.id, 'approved'))
		)
			return await approvalAnswer(ctx, referral, null);
		assertTransition(from, 'approved');
	}
	let step: { record: ReferralRecord; changed: boolean };
	try {
		step = await move(ctx, referral, 'approved', note || 'approved by reviewer');
	} catch (error) {
		// A racing copy of this request approved it and moved it on meanwhile: answer like it.
		if (
			error instanceof EngineError &&
			error.code === 'status_changed' &&
			(await reviewStep(ctx, referral.id, 'approved'))
		)
			return await approvalAnswer(ctx, await requireReferral(ctx, referral.id), null);
		throw error;
	}
	const held = await heldConversion(ctx, referral.id);
	const next = afterApproval(held !== null);
	let record = step.record;
	if (held) {
		const result = await ctx.ledger.qualifyReferral({
			programId: ctx.programId,
			referralId: referral.id,
			orderId: held.orderId,
			amount: held.amount,
			currency: held.currency,
			occurredAt: held.occurredAt,
			fromStatuses: ['approved'],
			toStatus: 'qualified',
			reason: `order ${held.orderId} (held for review)`,
		});
		record = result.referral;
	} else if (parseReferralStatus(record.status) === 'approved') {
		record = (await move(ctx, record, next, 'resumed after approval')).record;
	}
	return await approvalAnswer(ctx, record, step.changed ? from : null);
}

/** The approval's answer: `from` when this call approved, else (a replay) as the history has it. */
async function approvalAnswer(
	ctx: ReferralContext,
	record: ReferralRecord,
	from: ReferralStatus | null,
): Promise<TransitionOutcome> {
	const step = from === null ? await reviewStep(ctx, record.id, 'approved') : { from };
	const held = await heldConversion(ctx, record.id);
	const reason = held
		? `Approved; order ${held.orderId} arrived during review, so it qualified.`
		: "Approved; waiting for the referee's order.";
	if (!step)
		return {
			referral: await detail(ctx, record),
			changed: false,
			from: parseReferralStatus(record.status),
			reason: 'The referral was already approved.',
			replayed: true,
		};
	return {
		referral: await detail(ctx, record),
		changed: true,
		from: step.from,
		reason,
		replayed: from === null,
	};
}

/**
 * The reviewer's step to `to` as the referral's history has it (the last one; steps the sign-up's
 * fraud check made from `recorded` are not a reviewer's): what a replay of the request answers from.
 */
async function reviewStep(
	ctx: ReferralContext,
	referralId: number,
	to: ReferralStatus,
): Promise<{ from: ReferralStatus } | null> {
	const history = await ctx.ledger.referralHistory({ programId: ctx.programId, referralId });
	for (let i = history.length - 1; i >= 0; i--) {
		const h = history[i];
		if (h.to === to && h.from !== null && h.from !== 'recorded')
			return { from: parseReferralStatus(h.from) };
	}
	return null;
}

/** Reject and Flag for Review: one checked step; a replay (also a racing copy) answers like the call that made it. */
async function review(
	ctx: ReferralContext,
	referralId: Id,
	to: 'rejected' | 'flagged',
	note: string,
	done: string,
	already: string,
): Promise<TransitionOutcome> {
	const referral = await requireReferral(ctx, referralId);
	const from = parseReferralStatus(referral.status);
	const step = await move(ctx, referral, to, note);
	if (step.changed)
		return {
			referral: await detail(ctx, step.record),
			changed: true,
			from,
			reason: done,
			replayed: false,
		};
	const earlier = await reviewStep(ctx, referral.id, to);
	if (earlier)
		return {
			referral: await detail(ctx, step.record),
			changed: true,
			from: earlier.from,
			reason: done,
			replayed: true,
		};
	return {
		referral: await detail(ctx, step.record),
		changed: false,
		from,
		reason: already,
		replayed: true,
	};
}

export async function reject(
	ctx: ReferralContext,
	referralId: Id,
	note?: string,
): Promise<TransitionOutcome> {
	return await review(
		ctx,
		referralId,
		'rejected',
		note || 'rejected by reviewer',
		'Rejected.',
		'The referral was already rejected.',
	);
}

export async function flag(
	ctx: ReferralContext,
	referralId: Id,
	note?: string,
): Promise<TransitionOutcome> {
	return await review(
		ctx,
		referralId,
		'flagged',
		note || 'flagged for review',
		'Held for review.',
		'The referral was already flagged.',
	);
}
