/* Refunds: a refund's changes to a referral and its rewards (reversals, lowered amounts, points
 * taken back, codes revoked, badges and tiers lost or granted) in one transaction. */
import { capUsageOfReward, onReferralChanged } from './counters';
import type { LedgerCore, Work } from '../core';
import { codeText, pointsChangeOf, standingOf, type CheckedStanding } from '../inputs';
import { n, toReferral, toReward } from '../rows';
import {
	REWARD_STATUSES,
	type LedgerStore,
	type RefundReferralInput,
	type RefundReferralResult,
} from '../store';
import * as v from '../validate';
import { fail, LIMITS } from '../validate';
import { addPoints } from './points';
import { rollupReferral, rollupReward } from './rollups';

/** JSON with object keys sorted: equal values compare equal whatever order a backend returned them in. */
function canonicalJson(value: unknown): string {
	return JSON.stringify(value, (_k, x: unknown) =>
		x && typeof x === 'object' && !Array.isArray(x)
			? Object.fromEntries(
					Object.entries(x as Record<string, unknown>).sort(([a], [b]) =>
						a < b ? -1 : a > b ? 1 : 0,
					),
				)
			: x,
	);
}

export class RefundsTable implements Pick<LedgerStore, 'refundReferral'> {
	constructor(private readonly core: LedgerCore) {}

	async refundReferral(input: RefundReferralInput): Promise<RefundReferralResult> {
		return this.core.mutation<{ answer: string }, RefundReferralResult>(
			'refundReferral',
			input,
			(programId) => {
				const referralId = v.rowId(input.referralId, 'referralId');
				const key = v.text(input.idempotencyKey, 'idempotencyKey', LIMITS.key);
				const referralFrom = v.status(input.referralFrom, 'referralFrom');
				const referralTo =
					input.referralTo === undefined || input.referralTo === null
						? undefined
						: v.status(input.referralTo, 'referralTo');
				const reason = v.optNote(input.reason, 'reason');
				const seen = new Set(v.idList(input.rewardIds, 'rewardIds'));
				if (!Array.isArray(input.rewards) || input.rewards.length > LIMITS.pageSize)
					fail(
						'invalid_type',
						'rewards',
						`rewards must be a list of at most ${LIMITS.pageSize} steps`,
					);
				const steps = input.rewards.map((step, i) => {
					const field = `rewards[${i}]`;
					if (step === null || typeof step !== 'object')
						fail(
							'invalid_type',
							field,
							`${field} must be an object {rewardId, from, fromAmount, to or amount}`,
						);
					const rewardId = v.rowId(step.rewardId, `${field}.rewardId`);
					if (!seen.has(rewardId))
						fail(
							'invalid_value',
							`${field}.rewardId`,
							`${field}.rewardId must be one of rewardIds (the referral's rewards the refund was planned from)`,
						);
					const to =
						step.to === undefined
							? undefined
							: v.oneOf(step.to, `${field}.to`, ['reversed'] as const);
					const amount = v.optNumber(step.amount, `${field}.amount`);
					if (to === undefined && amount === undefined)
						fail(
							'required',
							`${field}.to`,
							`${field} must reverse the reward (to: "reversed") or give its new amount`,
						);
					return {
						rewardId,
						from: v.oneOf(step.from, `${field}.from`, REWARD_STATUSES),
						fromAmount:
							step.fromAmount === null
								? null
								: (v.optNumber(step.fromAmount, `${field}.fromAmount`) ?? null),
						to,
						amount,
						points: pointsChangeOf(step.points, `${field}.points.`),
						metadata:
							step.metadata === undefined
								? undefined
								: (JSON.parse(v.jsonObject(step.metadata, `${field}.metadata`)) as Record<
										string,
										unknown
									>),
						revokeCode:
							step.revokeCode === undefined
								? undefined
								: codeText(step.revokeCode, `${field}.revokeCode`),
					};
				});
				const answer = v.jsonObject(input.answer, 'answer');
				const referralMetadata =
					input.referralMetadata === undefined
						? undefined
						: (JSON.parse(v.jsonObject(input.referralMetadata, 'referralMetadata')) as Record<
								string,
								unknown
							>);
				const events = v.events(input.events);
				const standing = standingOf(input.standing);
				const expectedMetadata =
					input.referralMetadataExpected === undefined
						? undefined
						: (JSON.parse(
								v.jsonObject(input.referralMetadataExpected, 'referralMetadataExpected'),
							) as Record<string, unknown>);
				const changed = (field: string, what: string, details: Record<string, unknown>): never =>
					fail(
						'status_changed',
						field,
						`${what} changed since the refund was planned; nothing was written (plan the refund again)`,
						details,
					);
				return {
					key: undefined,
					derive: () => key,
					request: {},
					run: async (w) => {
						const current = toReferral(
							await this.core.requireReferral(w.tx, programId, referralId, 'referralId', true),
						);
						if (current.status !== referralFrom)
							changed('referralId', `Referral ${referralId}'s status`, {
								from: referralFrom,
								now: current.status,
							});
						for (const [metaKey, value] of Object.entries(expectedMetadata ?? {})) {
							if (canonicalJson(current.metadata[metaKey] ?? null) !== canonicalJson(value ?? null))
								changed('referralMetadataExpected', `Referral ${referralId}'s ${metaKey}`, {
									key: metaKey,
								});
						}
						const rows = await w.tx.all(
							`SELECT id, status FROM rewards WHERE program_id = $1 AND referral_id = $2`,
							[programId, referralId],
						);
						for (const row of rows) {
							// A reward the plan did not see (awarded meanwhile) would escape the refund.
							if (!seen.has(n(row.id)))
								changed('rewardIds', `The rewards of referral ${referralId}`, {
									rewardId: n(row.id),
								});
						}
						let referral = current;
						if (referralMetadata !== undefined) {
							const merged = v.jsonObject(
								{ ...current.metadata, ...referralMetadata },
								'referralMetadata',
							);
							referral = toReferral(
								(await w.tx.get(
									`UPDATE referrals SET metadata = $3, updated_at = $4 WHERE id = $1 AND program_id = $2 RETURNING *`,
									[referralId, programId, merged, w.now],
								))!,
							);
						}
						if (referralTo !== undefined && referralTo !== current.status) {
							await rollupReferral(w.tx, this.core.backend, referralId, -1);
							const row = await w.tx.get(
								`UPDATE referrals SET status = $3, updated_at = $4 WHERE id = $1 AND program_id = $2 RETURNING *`,
								[referralId, programId, referralTo, w.now],
							);
							await rollupReferral(w.tx, this.core.backend, referralId, 1);
							referral = toReferral(row!);
							await onReferralChanged(w, { ...row, status: current.status }, row);
							await w.tx.run(
								`INSERT INTO referral_history (referral_id, from_status, to_status, reason, at) VALUES ($1, $2, $3, $4, $5)`,
								[referralId, current.status, referralTo, reason ?? null, w.now],
							);
							w.emit(
								programId,
								`referral.${referralTo}`,
								{ referral, from: current.status, to: referralTo, reason: reason ?? null },
								referral.refereeId,
							);
						}
						for (const step of steps) {
							const row = await w.tx.get(
								`SELECT * FROM rewards WHERE id = $1 AND program_id = $2 AND referral_id = $3${this.core.lockClause(true)}`,
								[step.rewardId, programId, referralId],
							);
							if (!row)
								fail(
									'unknown_reward',
									'rewardId',
									`reward ${step.rewardId} is not a reward of referral ${referralId} in program "${programId}"`,
								);
							const before = toReward(row);
							if (before.status !== step.from || before.amount !== step.fromAmount) {
								changed('rewardId', `Reward ${step.rewardId}`, {
									from: step.from,
									now: before.status,
									fromAmount: step.fromAmount,
									nowAmount: before.amount,
								});
							}
							const to = step.to ?? before.status;
							const metadata = step.metadata
								? v.jsonObject({ ...before.metadata, ...step.metadata }, 'metadata')
								: v.jsonObject(before.metadata, 'metadata');
							await rollupReward(w.tx, step.rewardId, -1);
							await capUsageOfReward(w.tx, this.core.backend, step.rewardId, -1);
							const updated = toReward(
								(await w.tx.get(
									`UPDATE rewards SET status = $3, amount = $4, metadata = $5, updated_at = $6 WHERE id = $1 AND program_id = $2 RETURNING *`,
									[step.rewardId, programId, to, step.amount ?? before.amount, metadata, w.now],
								))!,
							);
							await rollupReward(w.tx, step.rewardId, 1);
							await capUsageOfReward(w.tx, this.core.backend, step.rewardId, 1);
							const note = step.to
								? (reason ?? null)
								: `refund: amount ${before.amount} → ${updated.amount}${reason ? ` (${reason})` : ''}`;
							const change = await w.tx.get(
								`INSERT INTO reward_history (reward_id, from_status, to_status, reason, at) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
								[step.rewardId, before.status, to, note, w.now],
							);
							const pointsEntry = step.points
								? (
										await addPoints(
											w,
											programId,
											updated.recipientId,
											step.points,
											step.rewardId,
											`auto:reward:${step.rewardId}:${n(change!.id)}`,
										)
									).entry
								: null;
							if (step.revokeCode !== undefined) {
								await w.tx.run(
									`UPDATE codes SET status = 'revoked', revoked_reason = $3, updated_at = $4 WHERE program_id = $1 AND code = $2 AND status = 'active'`,
									[programId, step.revokeCode, `referral ${referralId} reversed`, w.now],
								);
							}
							if (step.to)
								w.emit(
									programId,
									'reward.reversed',
									{ reward: updated, from: before.status, to, reason: reason ?? null, pointsEntry },
									updated.recipientId,
								);
							else
								w.emit(
									programId,
									'reward.adjusted',
									{
										reward: updated,
										fromAmount: before.amount,
										amount: updated.amount,
										reason: note,
										pointsEntry,
									},
									updated.recipientId,
								);
						}
						w.emitAll(programId, events, referral.refereeId);
						if (standing) await this.refundStanding(w, programId, standing, reason, changed);
						return {
							receipt: { answer },
							result: { answer: JSON.parse(answer) as Record<string, unknown>, replayed: false },
						};
					},
					replay: async (r) => ({
						answer: JSON.parse(r.answer) as Record<string, unknown>,
						replayed: true,
					}),
				};
			},
		);
	}

	/** The badges and tiers a refund takes from (or gives to) a participant, inside the refund's transaction. */
	private async refundStanding(
		w: Work,
		programId: string,
		standing: CheckedStanding,
		reason: string | undefined,
		changed: (field: string, what: string, details: Record<string, unknown>) => never,
	): Promise<void> {
		const participantId = standing.participantId;
		const held = await w.tx.all(
			`SELECT id FROM rewards WHERE program_id = $1 AND recipient_id = $2 AND kind IN ('badge', 'tier') AND status <> 'reversed'`,
			[programId, participantId],
		);
		for (const row of held) {
			if (!standing.heldIds.has(n(row.id)))
				changed('standing.heldIds', `The badges and tiers of participant ${participantId}`, {
					rewardId: n(row.id),
				});
		}
		for (const [i, step] of standing.lose.entries()) {
			const row = await w.tx.get(
				`SELECT * FROM rewards WHERE id = $1 AND program_id = $2 AND recipient_id = $3 AND kind IN ('badge', 'tier')${this.core.lockClause(true)}`,
				[step.rewardId, programId, participantId],
			);
			if (!row)
				fail(
					'unknown_reward',
					`standing.lose[${i}].rewardId`,
					`reward ${step.rewardId} is not a badge or tier of participant ${participantId} in program "${programId}"`,
				);
			const before = toReward(row);
			if (before.status !== step.from)
				changed(`standing.lose[${i}].rewardId`, `Reward ${step.rewardId}`, {
					from: step.from,
					now: before.status,
				});
			await rollupReward(w.tx, step.rewardId, -1);
			await capUsageOfReward(w.tx, this.core.backend, step.rewardId, -1);
			const updated = toReward(
				(await w.tx.get(
					`UPDATE rewards SET status = 'reversed', updated_at = $3 WHERE id = $1 AND program_id = $2 RETURNING *`,
					[step.rewardId, programId, w.now],
				))!,
			);
			await rollupReward(w.tx, step.rewardId, 1);
			await capUsageOfReward(w.tx, this.core.backend, step.rewardId, 1);
			const note = `below minimum after refund${reason ? ` (${reason})` : ''}`;
			await w.tx.run(
				`INSERT INTO reward_history (reward_id, from_status, to_status, reason, at) VALUES ($1, $2, 'reversed', $3, $4)`,
				[step.rewardId, before.status, note, w.now],
			);
			w.emit(
				programId,
				'reward.reversed',
				{ reward: updated, from: before.status, to: 'reversed', reason: note, pointsEntry: null },
				participantId,
			);
		}
		for (const grant of standing.grant) {
			const existing = await w.tx.get(
				`SELECT id FROM rewards WHERE program_id = $1 AND idempotency_key = $2`,
				[programId, grant.idempotencyKey],
			);
			if (existing) continue;
			const row = await w.tx.get(
				`INSERT INTO rewards (program_id, recipient_id, referral_id, side, rule, kind, amount, currency, status, hold_until, idempotency_key, metadata, created_at, updated_at)
				VALUES ($1, $2, NULL, 'referrer', $3, $4, NULL, NULL, 'approved', NULL, $5, $6, $7, $7) RETURNING *`,
				[
					programId,
					participantId,
					grant.rule,
					grant.kind,
					grant.idempotencyKey,
					grant.metadata,
					w.now,
				],
			);
			const reward = toReward(row!);
			await rollupReward(w.tx, reward.id, 1);
			await capUsageOfReward(w.tx, this.core.backend, reward.id, 1);
			await w.tx.run(
				`INSERT INTO reward_history (reward_id, from_status, to_status, reason, at) VALUES ($1, NULL, 'approved', 'held after refund', $2)`,
				[reward.id, w.now],
			);
			w.emit(programId, 'reward.awarded', { reward, pointsEntry: null }, participantId);
		}
		w.emitAll(programId, standing.events, participantId);
	}
}
