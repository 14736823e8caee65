/* Rewards: awards (with their points), transitions with their history, a refund's changes to a
 * referral and its rewards in one transaction, and the queries over them. */
import type { LedgerCore, Work } from '../core';
import {
	codeText,
	inputObject,
	keyOf,
	pointsChangeOf,
	programIdOf,
	standingOf,
	type CheckedStanding,
} from '../inputs';
import { n, s, toChange, toEntry, toReferral, toReward } from '../rows';
import { Params } from '../sql';
import {
	REWARD_KINDS,
	REWARD_SIDES,
	REWARD_STATUSES,
	type AwardRewardInput,
	type AwardRewardResult,
	type DueRewardsQuery,
	type Id,
	type LedgerStore,
	type ListRewardsQuery,
	type RefundReferralInput,
	type RefundReferralResult,
	type RewardRecord,
	type StatusChange,
	type TransitionRewardInput,
	type TransitionRewardResult,
} from '../store';
import * as v from '../validate';
import { fail, LIMITS } from '../validate';
import { addPoints } from './points';

type Methods =
	| 'awardReward'
	| 'getReward'
	| 'listRewards'
	| 'transitionReward'
	| 'refundReferral'
	| 'rewardHistory'
	| 'rewardsDueForApproval';

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

export class RewardsTable implements Pick<LedgerStore, Methods> {
	constructor(private readonly core: LedgerCore) {}

	async awardReward(input: AwardRewardInput): Promise<AwardRewardResult> {
		return this.core.mutation<
			{ rewardId: number; pointsEntryId: number | null },
			AwardRewardResult
		>('awardReward', input, (programId) => {
			const recipientId = v.rowId(input.recipientId, 'recipientId');
			const referralId = v.optRowId(input.referralId, 'referralId');
			const side = v.oneOf(input.side, 'side', REWARD_SIDES);
			const rule = v.text(input.rule, 'rule', LIMITS.name);
			const kind = v.oneOf(input.kind, 'kind', REWARD_KINDS);
			const amount = v.optNumber(input.amount, 'amount');
			const currency = v.optText(input.currency, 'currency', 8)?.toUpperCase();
			const initial = v.optOneOf(input.status, 'status', REWARD_STATUSES) ?? 'pending';
			const holdUntil = v.optTime(input.holdUntil, 'holdUntil');
			const metadata = v.jsonObject(input.metadata, 'metadata');
			const points = pointsChangeOf(input.points, 'points.');
			const events = v.events(input.events);
			const messages = v.owedMessages(input.messages);
			const key = keyOf(input);
			// Per-side default, so one side's retry never blocks the other side's reward.
			const rewardKey = key ?? `auto:${referralId ?? '-'}:${recipientId}:${side}:${rule}`;
			const load = async (
				w: Work,
				rewardId: number,
				entryId: number | null,
			): Promise<AwardRewardResult> => ({
				reward: toReward(await this.core.loadRow(w.tx, 'rewards', rewardId)),
				pointsEntry:
					entryId === null
						? null
						: toEntry(await this.core.loadRow(w.tx, 'points_journal', entryId)),
				replayed: true,
			});
			return {
				key,
				request: {
					recipientId,
					referralId,
					side,
					rule,
					kind,
					amount,
					currency,
					points: points?.delta,
				},
				derive: () => rewardKey.slice('auto:'.length),
				run: async (w) => {
					await this.core.requireParticipant(w.tx, programId, recipientId, 'recipientId');
					// Locked, so a refund reversing the referral and this award cannot pass each other.
					const referralRow =
						referralId === undefined
							? undefined
							: await this.core.requireReferral(w.tx, programId, referralId, 'referralId', true);
					const existing = await w.tx.get(
						`SELECT id FROM rewards WHERE program_id = $1 AND idempotency_key = $2`,
						[programId, rewardKey],
					);
					if (!existing && referralRow && s(referralRow.status) === 'reversed') {
						fail(
							'referral_reversed',
							'referralId',
							`referral ${referralId} is reversed; a reversed referral earns no new reward (its rewards were taken back with it)`,
						);
					}
					if (existing) {
						const entry = await w.tx.get(
							`SELECT id FROM points_journal WHERE program_id = $1 AND idempotency_key = $2`,
							[programId, `auto:reward:${n(existing.id)}:awarded`],
						);
						const receipt = { rewardId: n(existing.id), pointsEntryId: entry ? n(entry.id) : null };
						return { receipt, result: await load(w, receipt.rewardId, receipt.pointsEntryId) };
					}
					const row = await w.tx.get(
						`INSERT INTO rewards (program_id, recipient_id, referral_id, side, rule, kind, amount, currency, status, hold_until, idempotency_key, metadata, created_at, updated_at)
						VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13) RETURNING *`,
						[
							programId,
							recipientId,
							referralId ?? null,
							side,
							rule,
							kind,
							amount ?? null,
							currency ?? null,
							initial,
							holdUntil ?? null,
							rewardKey,
							metadata,
							w.now,
						],
					);
					const reward = toReward(row!);
					await w.tx.run(
						`INSERT INTO reward_history (reward_id, from_status, to_status, reason, at) VALUES ($1, NULL, $2, 'awarded', $3)`,
						[reward.id, initial, w.now],
					);
					const pointsEntry = points
						? (
								await addPoints(
									w,
									programId,
									recipientId,
									points,
									reward.id,
									`auto:reward:${reward.id}:awarded`,
								)
							).entry
						: null;
					w.emit(programId, 'reward.awarded', { reward, pointsEntry }, recipientId);
					w.emitAll(programId, events, recipientId);
					w.oweAll(programId, messages, recipientId);
					return {
						receipt: { rewardId: reward.id, pointsEntryId: pointsEntry?.id ?? null },
						result: { reward, pointsEntry, replayed: false },
					};
				},
				replay: (r, w) => load(w, r.rewardId, r.pointsEntryId),
			};
		});
	}

	async getReward(query: { programId: string; id: Id }): Promise<RewardRecord | null> {
		inputObject(query, 'getReward');
		const programId = programIdOf(query);
		const id = v.rowId(query.id, 'id');
		const row = await this.core.read((tx) =>
			tx.get(`SELECT * FROM rewards WHERE id = $1 AND program_id = $2`, [id, programId]),
		);
		return row ? toReward(row) : null;
	}

	async listRewards(query: ListRewardsQuery): Promise<RewardRecord[]> {
		inputObject(query, 'listRewards');
		const q = new Params();
		const where = [`program_id = ${q.p(programIdOf(query))}`];
		const recipientId = v.optRowId(query.recipientId, 'recipientId');
		const referralId = v.optRowId(query.referralId, 'referralId');
		const state = v.optOneOf(query.status, 'status', REWARD_STATUSES);
		const kind = v.optOneOf(query.kind, 'kind', REWARD_KINDS);
		const side = v.optOneOf(query.side, 'side', REWARD_SIDES);
		const afterId = v.optRowId(query.afterId, 'afterId');
		if (recipientId !== undefined) where.push(`recipient_id = ${q.p(recipientId)}`);
		if (referralId !== undefined) where.push(`referral_id = ${q.p(referralId)}`);
		if (state !== undefined) where.push(`status = ${q.p(state)}`);
		if (kind !== undefined) where.push(`kind = ${q.p(kind)}`);
		if (side !== undefined) where.push(`side = ${q.p(side)}`);
		if (afterId !== undefined) where.push(`id > ${q.p(afterId)}`);
		const sql = `SELECT * FROM rewards WHERE ${where.join(' AND ')} ORDER BY id LIMIT ${q.p(v.limit(query.limit))}`;
		return (await this.core.read((tx) => tx.all(sql, q.values))).map(toReward);
	}

	async transitionReward(input: TransitionRewardInput): Promise<TransitionRewardResult> {
		return this.core.mutation<
			{ rewardId: number; transitioned: boolean; pointsEntryId: number | null },
			TransitionRewardResult
		>('transitionReward', input, (programId) => {
			const id = v.rowId(input.rewardId, 'rewardId');
			const from = v.oneOf(input.from, 'from', REWARD_STATUSES);
			const to = v.oneOf(input.to, 'to', REWARD_STATUSES);
			const reason = v.optNote(input.reason, 'reason');
			const points = pointsChangeOf(input.points, 'points.');
			const events = v.events(input.events);
			const messages = v.owedMessages(input.messages);
			return {
				request: { rewardId: id, to, points: points?.delta },
				run: async (w) => {
					const row = await w.tx.get(
						`UPDATE rewards SET status = $4, updated_at = $5 WHERE id = $1 AND program_id = $2 AND status = $3 RETURNING *`,
						[id, programId, from, to, w.now],
					);
					if (!row) {
						const current = toReward(
							await this.core.requireReward(w.tx, programId, id, 'rewardId'),
						);
						return {
							receipt: { rewardId: id, transitioned: false, pointsEntryId: null },
							result: {
								transitioned: false,
								status: current.status,
								record: current,
								pointsEntry: null,
								replayed: false,
							},
						};
					}
					const reward = toReward(row);
					const change = await w.tx.get(
						`INSERT INTO reward_history (reward_id, from_status, to_status, reason, at) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
						[id, from, to, reason ?? null, w.now],
					);
					const pointsEntry = points
						? (
								await addPoints(
									w,
									programId,
									reward.recipientId,
									points,
									id,
									`auto:reward:${id}:${n(change!.id)}`,
								)
							).entry
						: null;
					w.emit(
						programId,
						`reward.${to}`,
						{ reward, from, to, reason: reason ?? null, pointsEntry },
						reward.recipientId,
					);
					w.emitAll(programId, events, reward.recipientId);
					w.oweAll(programId, messages, reward.recipientId);
					return {
						receipt: { rewardId: id, transitioned: true, pointsEntryId: pointsEntry?.id ?? null },
						result: {
							transitioned: true,
							status: to,
							record: reward,
							pointsEntry,
							replayed: false,
						},
					};
				},
				replay: async (r, w) => {
					const record = toReward(await this.core.loadRow(w.tx, 'rewards', r.rewardId));
					const pointsEntry =
						r.pointsEntryId === null
							? null
							: toEntry(await this.core.loadRow(w.tx, 'points_journal', r.pointsEntryId));
					return {
						transitioned: r.transitioned,
						status: record.status,
						record,
						pointsEntry,
						replayed: true,
					};
				},
			};
		});
	}

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
							const row = await w.tx.get(
								`UPDATE referrals SET status = $3, updated_at = $4 WHERE id = $1 AND program_id = $2 RETURNING *`,
								[referralId, programId, referralTo, w.now],
							);
							referral = toReferral(row!);
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
							const updated = toReward(
								(await w.tx.get(
									`UPDATE rewards SET status = $3, amount = $4, metadata = $5, updated_at = $6 WHERE id = $1 AND program_id = $2 RETURNING *`,
									[step.rewardId, programId, to, step.amount ?? before.amount, metadata, w.now],
								))!,
							);
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
			const updated = toReward(
				(await w.tx.get(
					`UPDATE rewards SET status = 'reversed', updated_at = $3 WHERE id = $1 AND program_id = $2 RETURNING *`,
					[step.rewardId, programId, w.now],
				))!,
			);
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
			await w.tx.run(
				`INSERT INTO reward_history (reward_id, from_status, to_status, reason, at) VALUES ($1, NULL, 'approved', 'held after refund', $2)`,
				[reward.id, w.now],
			);
			w.emit(programId, 'reward.awarded', { reward, pointsEntry: null }, participantId);
		}
		w.emitAll(programId, standing.events, participantId);
	}

	async rewardHistory(query: { programId: string; rewardId: Id }): Promise<StatusChange[]> {
		inputObject(query, 'rewardHistory');
		const programId = programIdOf(query);
		const id = v.rowId(query.rewardId, 'rewardId');
		return this.core.read(async (tx) => {
			await this.core.requireReward(tx, programId, id, 'rewardId');
			return (
				await tx.all(`SELECT * FROM reward_history WHERE reward_id = $1 ORDER BY id`, [id])
			).map(toChange);
		});
	}

	async rewardsDueForApproval(query: DueRewardsQuery): Promise<RewardRecord[]> {
		inputObject(query, 'rewardsDueForApproval');
		const programId = programIdOf(query);
		const now =
			query.now === undefined || query.now === null ? this.core.now() : v.time(query.now, 'now');
		const limit = v.limit(query.limit);
		const rows = await this.core.read((tx) =>
			tx.all(
				`SELECT * FROM rewards WHERE program_id = $1 AND status = 'pending' AND (hold_until IS NULL OR hold_until <= $2)
				ORDER BY COALESCE(hold_until, created_at), id LIMIT $3`,
				[programId, now, limit],
			),
		);
		return rows.map(toReward);
	}
}
