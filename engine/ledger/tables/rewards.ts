/* Rewards: awards (with their points), transitions with their history, and the queries over them.
 * A refund's changes to a referral and its rewards are in refunds.ts. */
import { EngineError } from '../../shared/errors';
import type { LedgerCore, Work } from '../core';
import { inputObject, keyOf, pointsChangeOf, programIdOf } from '../inputs';
import { n, s, toChange, toEntry, toReward } from '../rows';
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
	type RewardRecord,
	type StatusChange,
	type TransitionRewardInput,
	type TransitionRewardResult,
} from '../store';
import * as v from '../validate';
import { fail, LIMITS } from '../validate';
import { addPoints } from './points';
import { capUsageOfReward } from './counters';
import { rollupReward } from './rollups';

type Methods =
	| 'awardReward'
	| 'getReward'
	| 'listRewards'
	| 'transitionReward'
	| 'rewardHistory'
	| 'rewardsDueForApproval';

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
					// The reward already written under this key (its idempotency record pruned, or another
					// operation's key): answered as it stands, nothing written.
					const stored = async () => {
						const existing = await w.tx.get(
							`SELECT id FROM rewards WHERE program_id = $1 AND idempotency_key = $2`,
							[programId, rewardKey],
						);
						if (!existing) return undefined;
						const entry = await w.tx.get(
							`SELECT id FROM points_journal WHERE program_id = $1 AND idempotency_key = $2`,
							[programId, `auto:reward:${n(existing.id)}:awarded`],
						);
						const receipt = { rewardId: n(existing.id), pointsEntryId: entry ? n(entry.id) : null };
						return { receipt, result: await load(w, receipt.rewardId, receipt.pointsEntryId) };
					};
					if (referralRow && s(referralRow.status) === 'reversed') {
						const done = await stored();
						if (done) return done;
						fail(
							'referral_reversed',
							'referralId',
							`referral ${referralId} is reversed; a reversed referral earns no new reward (its rewards were taken back with it)`,
						);
					}
					// One statement for the usual case (a new key); a key taken already writes nothing and
					// answers the stored reward, as a look-up first would (issue #18: a statement less per award).
					const row = await w.tx.get(
						`INSERT INTO rewards (program_id, recipient_id, referral_id, side, rule, kind, amount, currency, status, hold_until, idempotency_key, metadata, created_at, updated_at)
						VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13)
						ON CONFLICT (program_id, idempotency_key) DO NOTHING RETURNING *`,
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
					if (!row) {
						const done = await stored();
						if (!done)
							throw new EngineError(
								'ledger_internal',
								`the reward under key ${rewardKey} vanished while it was awarded; retry`,
							);
						return done;
					}
					const reward = toReward(row);
					await rollupReward(w.tx, reward.id, 1);
					await capUsageOfReward(w.tx, this.core.backend, reward.id, 1);
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
					// The reward's row lock first: a racing copy of this change waits here and then takes
					// the reward out of the rollups as it is after the winner, not as it was.
					await this.core.requireReward(w.tx, programId, id, 'rewardId', true);
					await rollupReward(w.tx, id, -1);
					// Cap usage moves only when the reward enters or leaves 'reversed' (what caps count).
					const capsMove = (from === 'reversed') !== (to === 'reversed');
					if (capsMove) await capUsageOfReward(w.tx, this.core.backend, id, -1);
					const row = await w.tx.get(
						`UPDATE rewards SET status = $4, updated_at = $5 WHERE id = $1 AND program_id = $2 AND status = $3 RETURNING *`,
						[id, programId, from, to, w.now],
					);
					await rollupReward(w.tx, id, 1);
					if (capsMove) await capUsageOfReward(w.tx, this.core.backend, id, 1);
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
