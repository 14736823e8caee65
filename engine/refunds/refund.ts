import { createHash } from 'node:crypto';
import { EngineError, isEngineError } from '../shared/errors';
import { allPages } from '../ledger/pages';
import type { Id, LedgerStore, ReferralRecord, RewardRecord } from '../ledger/store';
import { requireAmount } from '../shared/money';
import {
	type Demotion,
	planRefundRewards,
	type RefundRewardsPlan,
	standingAfterReversal,
} from '../rewards';
import { NEGATIVE_BALANCE_POLICIES, type NegativeBalancePolicy } from '../rewards';
import {
	parseReferralStatus,
	shouldReverse,
	type ReferralDetail,
	type ReferralStatus,
	type RefundPolicy,
} from '../referrals';
import { describe, requireText } from '../shared/guards';

/**
 * The refund operation: the one place that decides what a refund or cancellation takes back.
 *
 * 1. Find the referral (by order id or referral id) and its qualifying order.
 * 2. The refund policy decides whether the referral is reversed (shouldReverse: never for a
 *    refund of 0; for a partial refund as the program says).
 * 3. The rewards follow the referral (planRefundRewards): all per-referral rewards reversed with
 *    it, or, when it stands, only percent-of-order rewards scaled down. Never rewards alone.
 * 4. The ledger writes the referral's move and every reward step in one transaction, with
 *    compare-and-set on everything the plan read; if anything moved meanwhile, plan again.
 *
 * The answer is stored with the refund under a key made of the request alone (order or referral,
 * refunded amount, order amount, cancelled): a replay gets the first answer, whatever happened since.
 */

export interface RefundInput {
	orderId?: string;
	referralId?: Id;
	/** Refunded so far, this refund included (or this refund alone, see `refundedAmountIs`); leave out for a full refund. */
	refundedAmount?: number;
	/**
	 * `total_so_far` (default): `refundedAmount` is everything refunded on the order so far.
	 * `this_refund`: it is this refund's own amount (Shopify's refunds/create); the ledger sums the
	 * distinct `refundId`s of the order, in the refund's transaction (a replayed refund id adds nothing).
	 */
	refundedAmountIs?: RefundedAmountIs;
	/** `this_refund`: the provider's id of this refund. */
	refundId?: string;
	/** The order's amount; read from the stored conversion when left out. */
	orderAmount?: number;
	cancelled?: boolean;
	note?: string;
	/** What a claw-back does when the balance is smaller than the points to take back (default allow_negative). */
	negativeBalancePolicy?: NegativeBalancePolicy;
}

export interface RefundOutcome {
	referral: ReferralDetail;
	/** What the refund did: reversed (the referral and its rewards), adjusted (percent-of-order rewards scaled down), unchanged. */
	outcome: 'reversed' | 'adjusted' | 'unchanged';
	/** True when this refund changed the ledger (stored with the answer: a replay says what the first call did). */
	changed: boolean;
	/** The referral's status before the refund. */
	from: ReferralStatus;
	reason: string;
	orderId: string | null;
	/** Ids of the referral's rewards that are reversed (by this refund or an earlier one). */
	reversed: number[];
	adjusted: RefundRewardsPlan['adjusted'];
	clawedBack: RefundRewardsPlan['clawedBack'];
	manual: RefundRewardsPlan['manual'];
	kept: RefundRewardsPlan['kept'];
	shortfall: RefundRewardsPlan['shortfall'];
	/**
	 * The referrer's badges and tiers this refund took away: the value that earned them (lifetime
	 * points less claw-backs, or qualified referrals) fell below their minimum and their program says
	 * demote. `heldInstead`: the lower tier of the same rule the referrer holds now.
	 */
	demoted: Demotion[];
	/** True when an earlier call with the same request wrote this answer. */
	replayed: boolean;
}

export type { Demotion };

export const REFUNDED_AMOUNT_IS = ['total_so_far', 'this_refund'] as const;
export type RefundedAmountIs = (typeof REFUNDED_AMOUNT_IS)[number];

/** Where a referral keeps the refunds counted per refund id (`this_refund`). */
const PARTS = 'refundParts';

export interface RefundContext {
	ledger: LedgerStore;
	programId: string;
	refundPolicy: RefundPolicy;
	minOrderAmount?: number;
	detail: (referral: ReferralRecord) => Promise<ReferralDetail>;
	requireReferral: (id: Id | undefined) => Promise<ReferralRecord>;
}

const PAGE = 10_000;
const ATTEMPTS = 8;

function optionalAmount(value: unknown, field: string): number | undefined {
	if (value === undefined || value === null || value === '') return undefined;
	return requireAmount(value, field, { allowZero: true });
}

async function rewardsOf(ctx: RefundContext, referralId: number): Promise<RewardRecord[]> {
	return await allPages(
		(afterId, limit) =>
			ctx.ledger.listRewards({ programId: ctx.programId, referralId, afterId, limit }),
		PAGE,
	);
}

export async function refundReferral(
	ctx: RefundContext,
	input: RefundInput,
): Promise<RefundOutcome> {
	const orderId =
		input.orderId === undefined || input.orderId === null || input.orderId === ''
			? undefined
			: requireText(input.orderId, 'orderId', 256);
	const refundedAmount = optionalAmount(input.refundedAmount, 'refundedAmount');
	const givenOrderAmount = optionalAmount(input.orderAmount, 'orderAmount');
	if (
		input.cancelled !== undefined &&
		input.cancelled !== null &&
		typeof input.cancelled !== 'boolean'
	) {
		throw new EngineError(
			'invalid_option',
			`cancelled must be true or false (got ${describe(input.cancelled)}).`,
			{ field: 'cancelled' },
		);
	}
	const cancelled = input.cancelled ?? undefined;
	const policy = input.negativeBalancePolicy ?? 'allow_negative';
	if (!(NEGATIVE_BALANCE_POLICIES as readonly string[]).includes(policy)) {
		throw new EngineError(
			'invalid_value',
			`negativeBalancePolicy must be one of ${NEGATIVE_BALANCE_POLICIES.join(', ')} (got ${describe(policy)}).`,
			{ field: 'negativeBalancePolicy' },
		);
	}
	const note =
		input.note === undefined || input.note === null || input.note === ''
			? undefined
			: String(input.note).slice(0, 1024);
	const amountIs = input.refundedAmountIs ?? 'total_so_far';
	if (!(REFUNDED_AMOUNT_IS as readonly string[]).includes(amountIs)) {
		throw new EngineError(
			'invalid_value',
			`refundedAmountIs must be one of ${REFUNDED_AMOUNT_IS.join(', ')} (got ${describe(amountIs)}).`,
			{ field: 'refundedAmountIs' },
		);
	}
	let refundId: string | undefined;
	if (amountIs === 'this_refund') {
		if (input.refundId === undefined || input.refundId === null || input.refundId === '') {
			throw new EngineError(
				'required',
				"refundId is required when the refunded amount is this refund's own (summed per refund ID): give the provider's id of the refund.",
				{
					field: 'refundId',
					hint: 'The input has no refund ID: set Refund Fields › Refund ID Field',
				},
			);
		}
		refundId = requireText(String(input.refundId), 'refundId', 256);
		if (refundedAmount === undefined) {
			throw new EngineError(
				'required',
				`refundedAmount is required when the refunded amount is this refund's own (refund ${refundId.slice(0, 64)}).`,
				{ field: 'refundedAmount' },
			);
		}
	}

	let first: ReferralRecord;
	if (orderId !== undefined) {
		const found = await ctx.ledger.findReferralByOrderId({ programId: ctx.programId, orderId });
		if (!found)
			throw new EngineError(
				'unknown_order',
				`No referral of program "${ctx.programId}" has the order "${orderId.slice(0, 64)}"; give the order ID the conversion was recorded with.`,
				{ field: 'orderId' },
			);
		first = found;
	} else {
		first = await ctx.requireReferral(input.referralId);
	}
	// The request alone names the refund: nothing the server reads or generates enters the key.
	const request = JSON.stringify([
		orderId ?? null,
		orderId === undefined ? first.id : null,
		refundedAmount ?? null,
		givenOrderAmount ?? null,
		cancelled ?? null,
		// Total-so-far keys stay as they were, so replays of refunds sent before this option answer the same.
		...(refundId !== undefined ? ['this_refund', refundId] : []),
	]);
	const idempotencyKey = `refund:${first.id}:${createHash('sha256').update(request).digest('hex').slice(0, 40)}`;

	for (let attempt = 1; ; attempt++) {
		const referral = attempt === 1 ? first : await ctx.requireReferral(first.id);
		try {
			return await attemptRefund(ctx, referral, {
				orderId,
				refundedAmount,
				givenOrderAmount,
				cancelled,
				policy,
				note,
				idempotencyKey,
				...(refundId !== undefined ? { refundId } : {}),
			});
		} catch (error) {
			// Something the plan read moved meanwhile (a concurrent refund, an award, an approval): plan again.
			if (!(isEngineError(error) && error.code === 'status_changed') || attempt >= ATTEMPTS)
				throw error;
		}
	}
}

interface CheckedRefund {
	orderId?: string;
	refundedAmount?: number;
	givenOrderAmount?: number;
	cancelled?: boolean;
	policy: NegativeBalancePolicy;
	note?: string;
	idempotencyKey: string;
	/** `this_refund`: `refundedAmount` is this refund's own amount, summed with the order's other refund ids. */
	refundId?: string;
}

/** The refunds of the referral's order counted so far, by refund id (`this_refund`). */
function partsOf(referral: ReferralRecord): Record<string, number> {
	const raw = referral.metadata?.[PARTS];
	const out: Record<string, number> = {};
	if (raw && typeof raw === 'object' && !Array.isArray(raw))
		for (const [id, value] of Object.entries(raw)) if (typeof value === 'number') out[id] = value;
	return out;
}

async function attemptRefund(
	ctx: RefundContext,
	referral: ReferralRecord,
	checked: CheckedRefund,
): Promise<RefundOutcome> {
	const from = parseReferralStatus(referral.status);
	// This refund's own amount: the total is the sum over the order's distinct refund ids, this one once.
	const parts = checked.refundId !== undefined ? partsOf(referral) : undefined;
	const newPart = parts !== undefined && parts[checked.refundId as string] === undefined;
	const r: CheckedRefund =
		parts === undefined
			? checked
			: {
					...checked,
					refundedAmount: Number(
						(
							Object.values(parts).reduce((sum, v) => sum + v, 0) +
							(newPart ? (checked.refundedAmount as number) : 0)
						).toFixed(6),
					),
				};
	const [qualifying] = await ctx.ledger.listConversions({
		programId: ctx.programId,
		referralIds: [referral.id],
		qualifiedOnly: true,
	});
	const orderAmount = r.givenOrderAmount ?? qualifying?.amount ?? undefined;
	if (
		r.refundedAmount !== undefined &&
		orderAmount !== undefined &&
		r.refundedAmount > orderAmount
	) {
		throw new EngineError(
			'invalid_amount',
			parts !== undefined
				? `refundedAmount: refund ${String(checked.refundId).slice(0, 64)} (${checked.refundedAmount}) brings the order's refunds to ${r.refundedAmount}, more than the order amount (${orderAmount}).`
				: `refundedAmount (${r.refundedAmount}) cannot exceed the order amount (${orderAmount}): give the total refunded so far, from 0 to ${orderAmount}.`,
			{
				field: 'refundedAmount',
			},
		);
	}
	let verdict: { reverse: boolean; reason: string };
	if (r.orderId !== undefined && qualifying?.orderId !== r.orderId) {
		verdict = {
			reverse: false,
			reason: `Order "${r.orderId.slice(0, 64)}" did not qualify referral ${referral.id}; its refund changes nothing.`,
		};
	} else if (from !== 'reversed' && from !== 'qualified') {
		verdict = {
			reverse: false,
			reason: `The referral is ${from}; only a qualified referral is reversed by a refund.`,
		};
	} else if (from === 'reversed') {
		// Already reversed: the rewards follow (a no-op unless an older version left some behind).
		verdict = { reverse: true, reason: 'The referral was already reversed.' };
	} else if (r.refundedAmount === undefined) {
		verdict =
			r.cancelled === false
				? { reverse: false, reason: 'Nothing was refunded.' }
				: shouldReverse(
						from,
						{
							orderAmount: orderAmount ?? 0,
							refundedAmount: orderAmount ?? 0,
							cancelled: r.cancelled,
						},
						ctx.refundPolicy,
						{ minOrderAmount: ctx.minOrderAmount },
					);
	} else if (r.refundedAmount === 0 && r.cancelled !== true) {
		verdict = { reverse: false, reason: 'Nothing was refunded.' };
	} else {
		if (orderAmount === undefined) {
			throw new EngineError(
				'required',
				'orderAmount is needed to judge a partial refund: give the order amount (the ledger has no amount stored for this order).',
				{ field: 'orderAmount' },
			);
		}
		verdict = shouldReverse(
			from,
			{ orderAmount, refundedAmount: r.refundedAmount, cancelled: r.cancelled },
			ctx.refundPolicy,
			{ minOrderAmount: ctx.minOrderAmount },
		);
	}

	const rewards = await rewardsOf(ctx, referral.id);
	const balances: Record<string, number> = {};
	if (verdict.reverse) {
		for (const id of new Set(
			rewards
				.filter((w) => w.kind === 'points' && w.status !== 'reversed' && w.status !== 'pending')
				.map((w) => w.recipientId),
		)) {
			balances[String(id)] = await ctx.ledger.pointsBalance({
				programId: ctx.programId,
				participantId: id,
			});
		}
	}
	const stands = from === 'qualified';
	const plan = planRefundRewards({
		programId: ctx.programId,
		referralId: referral.id,
		reverse: verdict.reverse,
		rewards,
		// Pro rata only while the referral stands and an amount was refunded.
		...(stands &&
		!verdict.reverse &&
		r.refundedAmount !== undefined &&
		r.refundedAmount > 0 &&
		orderAmount !== undefined
			? {
					order: {
						amount: orderAmount,
						currency: qualifying?.currency ?? null,
						refunded: r.refundedAmount,
					},
				}
			: {}),
		balances,
		policy: r.policy,
	});
	const moves = verdict.reverse && from !== 'reversed';
	// The referral leaves the referrer's qualified count with this refund (unless it was reversed before).
	const standing = verdict.reverse
		? await standingAfterReversal(ctx.ledger, ctx.programId, {
				referral,
				leaving: moves && referral.status === 'qualified',
				plan,
			})
		: { demoted: [] as Demotion[] };
	// The refunded amount is remembered on a standing referral, so a later evaluation rewards what is left of the order.
	const before = Number(
		(referral.metadata?.refund as { refundedAmount?: number } | undefined)?.refundedAmount ?? 0,
	);
	const remember =
		stands &&
		!verdict.reverse &&
		r.refundedAmount !== undefined &&
		r.refundedAmount > before &&
		qualifying !== undefined;
	const after: ReferralRecord = moves ? { ...referral, status: 'reversed' } : referral;
	const outcome: RefundOutcome['outcome'] = verdict.reverse
		? 'reversed'
		: plan.adjusted.length > 0
			? 'adjusted'
			: 'unchanged';
	const answer: Omit<RefundOutcome, 'replayed'> = {
		referral: await ctx.detail(after),
		outcome,
		changed: moves || plan.steps.length > 0 || remember || newPart || standing.demoted.length > 0,
		from,
		reason: verdict.reason,
		orderId: r.orderId ?? qualifying?.orderId ?? null,
		reversed: plan.reversed,
		adjusted: plan.adjusted,
		clawedBack: plan.clawedBack,
		manual: plan.manual,
		kept: plan.kept,
		shortfall: plan.shortfall,
		demoted: standing.demoted,
	};
	const stored = await ctx.ledger.refundReferral({
		programId: ctx.programId,
		referralId: referral.id,
		idempotencyKey: r.idempotencyKey,
		referralFrom: referral.status,
		...(moves ? { referralTo: 'reversed' } : {}),
		reason: r.note ?? verdict.reason,
		...(remember || newPart
			? {
					referralMetadata: {
						...(remember
							? { refund: { orderId: qualifying.orderId, refundedAmount: r.refundedAmount } }
							: {}),
						...(newPart
							? { [PARTS]: { ...parts, [checked.refundId as string]: checked.refundedAmount } }
							: {}),
					},
				}
			: {}),
		// The parts this plan summed must still be the referral's: a concurrent refund of another id plans again.
		...(parts !== undefined
			? { referralMetadataExpected: { [PARTS]: referral.metadata?.[PARTS] ?? null } }
			: {}),
		rewardIds: rewards.map((w) => w.id),
		rewards: plan.steps,
		answer: answer,
		...(standing.input ? { standing: standing.input } : {}),
	});
	return {
		...(stored.answer as unknown as Omit<RefundOutcome, 'replayed'>),
		replayed: stored.replayed,
	};
}
