/* Referrals: recording (a referee is referred once per program), status transitions with their
 * history, reassignment and qualification by an order. The queries over them (lists, counts,
 * shared signals, edges, conversions, the leaderboard) are in referralQueries.ts. */
import { onReferralChanged } from './counters';
import { EngineError } from '../../shared/errors';
import type { LedgerCore, Work } from '../core';
import { codeText, inputObject, keyOf, programIdOf } from '../inputs';
import { digest } from '../once';
import { n, s, toChange, toConversion, toReferral } from '../rows';
import { Params } from '../sql';
import { rollupReferral } from './rollups';
import type {
	Id,
	LedgerStore,
	QualifyReferralInput,
	QualifyReferralResult,
	ReassignReferralInput,
	RecordReferralInput,
	RecordReferralResult,
	ReferralRecord,
	StatusChange,
	TransitionReferralInput,
	TransitionResult,
} from '../store';
import * as v from '../validate';
import { fail, LIMITS } from '../validate';

type Methods =
	| 'recordReferral'
	| 'getReferral'
	| 'findReferralByReferee'
	| 'findReferralByOrderId'
	| 'transitionReferral'
	| 'reassignReferral'
	| 'referralHistory'
	| 'qualifyReferral';

export class ReferralsTable implements Pick<LedgerStore, Methods> {
	constructor(private readonly core: LedgerCore) {}

	async recordReferral(input: RecordReferralInput): Promise<RecordReferralResult> {
		return this.core.mutation<{ referralId: number; created: boolean }, RecordReferralResult>(
			'recordReferral',
			input,
			(programId) => {
				const givenReferrer = v.optRowId(input.referrerId, 'referrerId');
				const refereeId = v.optRowId(input.refereeId, 'refereeId');
				const codeValue =
					input.code === undefined || input.code === null
						? undefined
						: codeText(input.code, 'code');
				const source = v.optText(input.source, 'source', LIMITS.name);
				const touchedAt = v.optTime(input.touchedAt, 'touchedAt');
				const ipHash = v.optText(input.ipHash, 'ipHash', LIMITS.id);
				const deviceHash = v.optText(input.deviceHash, 'deviceHash', LIMITS.id);
				const clickId = v.optRowId(input.clickId, 'clickId');
				const initial =
					input.status === undefined || input.status === null
						? 'pending'
						: v.status(input.status, 'status');
				const reasons = v.textList(input.reasons, 'reasons', 50, LIMITS.name);
				const riskScore = v.optNumber(input.riskScore, 'riskScore');
				const metadata = v.jsonObject(input.metadata, 'metadata');
				const events = v.events(input.events);
				const key = keyOf(input);
				if (givenReferrer === undefined && codeValue === undefined)
					fail('required', 'referrerId', 'give referrerId, or a code whose owner is the referrer');
				const byReferee = async (w: Work) => {
					const row = await w.tx.get(
						`SELECT * FROM referrals WHERE program_id = $1 AND referee_id = $2`,
						[programId, refereeId!],
					);
					return row ? toReferral(row) : undefined;
				};
				return {
					key,
					request: { referrerId: givenReferrer, refereeId, code: codeValue, source },
					// With a referee the unique (program, referee) is the natural key; without one, the inputs are.
					derive:
						refereeId === undefined
							? () => digest({ givenReferrer, codeValue, source, touchedAt, ipHash, deviceHash })
							: undefined,
					run: async (w) => {
						let referrerId = givenReferrer;
						let codeId: number | null = null;
						if (codeValue !== undefined) {
							const code = await w.tx.get(
								`SELECT id, owner_id FROM codes WHERE program_id = $1 AND code = $2`,
								[programId, codeValue],
							);
							if (!code)
								fail('unknown_code', 'code', `this code does not exist in program "${programId}"`);
							codeId = n(code.id);
							if (referrerId === undefined) {
								if (code.owner_id === null)
									fail('required', 'referrerId', 'this code has no owner; give referrerId');
								referrerId = n(code.owner_id);
							}
						}
						await this.core.requireParticipant(w.tx, programId, referrerId!, 'referrerId');
						if (
							clickId !== undefined &&
							!(await w.tx.get(`SELECT id FROM clicks WHERE id = $1 AND program_id = $2`, [
								clickId,
								programId,
							]))
						)
							fail(
								'unknown_click',
								'clickId',
								`clickId ${clickId} is not a click of program "${programId}"`,
							);
						if (refereeId !== undefined)
							await this.core.requireParticipant(w.tx, programId, refereeId, 'refereeId');
						// A referee already referred keeps their referral: the insert below writes nothing
						// (the unique program + referee) and it is read after, no look-up first (issue #18).
						const row = await w.tx.get(
							`INSERT INTO referrals (program_id, referrer_id, referee_id, code_id, source, touched_at, ip_hash, device_hash, status, reasons, risk_score, metadata, created_at, updated_at, click_id)
						VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13, $14) ON CONFLICT DO NOTHING RETURNING *`,
							[
								programId,
								referrerId!,
								refereeId ?? null,
								codeId,
								source ?? null,
								touchedAt ?? w.now,
								ipHash ?? null,
								deviceHash ?? null,
								initial,
								JSON.stringify(reasons),
								riskScore ?? null,
								metadata,
								w.now,
								clickId ?? null,
							],
						);
						if (!row) {
							// The referee has a referral already (also one a racing call recorded first): it stands.
							const winner = await byReferee(w);
							if (!winner)
								throw new EngineError(
									'ledger_internal',
									'referral insert conflicted but no referral matches; retry',
								);
							return {
								receipt: { referralId: winner.id, created: false },
								result: { referral: winner, created: false, replayed: false },
							};
						}
						const referral = toReferral(row);
						await rollupReferral(w.tx, this.core.backend, referral.id, 1);
						await onReferralChanged(w, null, row);
						await w.tx.run(
							`INSERT INTO referral_history (referral_id, from_status, to_status, reason, at) VALUES ($1, NULL, $2, 'recorded', $3)`,
							[referral.id, initial, w.now],
						);
						w.emit(programId, 'referral.recorded', { referral }, refereeId ?? null);
						w.emitAll(programId, events, refereeId ?? null);
						return {
							receipt: { referralId: referral.id, created: true },
							result: { referral, created: true, replayed: false },
						};
					},
					replay: async (r, w) => ({
						referral: toReferral(await this.core.loadRow(w.tx, 'referrals', r.referralId)),
						created: r.created,
						replayed: true,
					}),
				};
			},
		);
	}

	async getReferral(query: { programId: string; id: Id }): Promise<ReferralRecord | null> {
		inputObject(query, 'getReferral');
		const programId = programIdOf(query);
		const id = v.rowId(query.id, 'id');
		const row = await this.core.read((tx) =>
			tx.get(`SELECT * FROM referrals WHERE id = $1 AND program_id = $2`, [id, programId]),
		);
		return row ? toReferral(row) : null;
	}

	async findReferralByReferee(query: {
		programId: string;
		refereeId: Id;
	}): Promise<ReferralRecord | null> {
		inputObject(query, 'findReferralByReferee');
		const programId = programIdOf(query);
		const refereeId = v.rowId(query.refereeId, 'refereeId');
		const row = await this.core.read((tx) =>
			tx.get(`SELECT * FROM referrals WHERE program_id = $1 AND referee_id = $2`, [
				programId,
				refereeId,
			]),
		);
		return row ? toReferral(row) : null;
	}

	async findReferralByOrderId(query: {
		programId: string;
		orderId: string;
	}): Promise<ReferralRecord | null> {
		inputObject(query, 'findReferralByOrderId');
		const programId = programIdOf(query);
		const orderId = v.text(query.orderId, 'orderId', LIMITS.id);
		const row = await this.core.read((tx) =>
			tx.get(
				`SELECT r.* FROM conversions c JOIN referrals r ON r.id = c.referral_id WHERE c.program_id = $1 AND c.order_id = $2`,
				[programId, orderId],
			),
		);
		return row ? toReferral(row) : null;
	}

	async transitionReferral(
		input: TransitionReferralInput,
	): Promise<TransitionResult<ReferralRecord>> {
		return this.core.mutation<
			{ referralId: number; transitioned: boolean },
			TransitionResult<ReferralRecord>
		>('transitionReferral', input, (programId) => {
			const id = v.rowId(input.referralId, 'referralId');
			const from = v.status(input.from, 'from');
			const to = v.status(input.to, 'to');
			const reason = v.optNote(input.reason, 'reason');
			const reasons =
				input.reasons === undefined
					? undefined
					: v.textList(input.reasons, 'reasons', 50, LIMITS.name);
			const riskScore = v.optNumber(input.riskScore, 'riskScore');
			const events = v.events(input.events);
			// Without a key the compare-and-set is the idempotency: from → to wins once per time the referral is in `from`.
			return {
				request: { referralId: id, to },
				run: async (w) => {
					const q = new Params();
					const sets = [`status = ${q.p(to)}`, `updated_at = ${q.p(w.now)}`];
					if (reasons !== undefined) sets.push(`reasons = ${q.p(JSON.stringify(reasons))}`);
					if (riskScore !== undefined) sets.push(`risk_score = ${q.p(riskScore)}`);
					// The referral's row lock first: a racing copy of this change waits here and then
					// takes the referral out of the rollups as it is after the winner, not as it was
					// (on PostgreSQL each statement reads the latest committed rows).
					await this.core.requireReferral(w.tx, programId, id, 'referralId', true);
					await rollupReferral(w.tx, this.core.backend, id, -1);
					const row = await w.tx.get(
						`UPDATE referrals SET ${sets.join(', ')} WHERE id = ${q.p(id)} AND program_id = ${q.p(programId)} AND status = ${q.p(from)} RETURNING *`,
						q.values,
					);
					await rollupReferral(w.tx, this.core.backend, id, 1);
					if (!row) {
						const current = toReferral(
							await this.core.requireReferral(w.tx, programId, id, 'referralId'),
						);
						return {
							receipt: { referralId: id, transitioned: false },
							result: {
								transitioned: false,
								status: current.status,
								record: current,
								replayed: false,
							},
						};
					}
					const referral = toReferral(row);
					await onReferralChanged(w, { ...row, status: from }, row);
					await w.tx.run(
						`INSERT INTO referral_history (referral_id, from_status, to_status, reason, at) VALUES ($1, $2, $3, $4, $5)`,
						[id, from, to, reason ?? null, w.now],
					);
					w.emit(
						programId,
						`referral.${to}`,
						{ referral, from, to, reason: reason ?? null },
						referral.refereeId,
					);
					w.emitAll(programId, events, referral.refereeId);
					return {
						receipt: { referralId: id, transitioned: true },
						result: { transitioned: true, status: to, record: referral, replayed: false },
					};
				},
				replay: async (r, w) => {
					const record = toReferral(await this.core.loadRow(w.tx, 'referrals', r.referralId));
					return { transitioned: r.transitioned, status: record.status, record, replayed: true };
				},
			};
		});
	}

	async reassignReferral(input: ReassignReferralInput): Promise<TransitionResult<ReferralRecord>> {
		return this.core.mutation<
			{ referralId: number; transitioned: boolean },
			TransitionResult<ReferralRecord>
		>('reassignReferral', input, (programId) => {
			const id = v.rowId(input.referralId, 'referralId');
			const fromReferrer = v.rowId(input.fromReferrerId, 'fromReferrerId');
			const toReferrer = v.rowId(input.toReferrerId, 'toReferrerId');
			const code = v.optText(input.code, 'code', LIMITS.code);
			const touchedAt = v.optTime(input.touchedAt, 'touchedAt');
			const source = v.optText(input.source, 'source', LIMITS.name);
			const ipHash = v.optText(input.ipHash, 'ipHash', LIMITS.id);
			const deviceHash = v.optText(input.deviceHash, 'deviceHash', LIMITS.id);
			const fromStatuses = v.statusList(input.fromStatuses, 'fromStatuses');
			const reason = v.optNote(input.reason, 'reason');
			const events = v.events(input.events);
			return {
				request: {
					referralId: id,
					fromReferrerId: fromReferrer,
					toReferrerId: toReferrer,
					code,
					source,
				},
				run: async (w) => {
					// Locked: the rollups below take the referral out as it is (see transitionReferral).
					const current = toReferral(
						await this.core.requireReferral(w.tx, programId, id, 'referralId', true),
					);
					const target = await w.tx.get(
						`SELECT id FROM participants WHERE id = $1 AND program_id = $2`,
						[toReferrer, programId],
					);
					if (!target)
						fail(
							'unknown_participant',
							'toReferrerId',
							`participant ${toReferrer} does not exist in program "${programId}"`,
						);
					let codeId: number | null = null;
					if (code !== undefined) {
						const found = await w.tx.get(
							`SELECT id FROM codes WHERE program_id = $1 AND code = $2`,
							[programId, code],
						);
						if (!found)
							fail('unknown_code', 'code', `this code does not exist in program "${programId}"`);
						codeId = n(found.id);
					}
					const q = new Params();
					const sets = [
						`referrer_id = ${q.p(toReferrer)}`,
						`code_id = ${q.p(codeId)}`,
						`touched_at = ${q.p(touchedAt ?? w.now)}`,
						`source = ${q.p(source ?? null)}`,
						`ip_hash = ${q.p(ipHash ?? null)}`,
						`device_hash = ${q.p(deviceHash ?? null)}`,
						`updated_at = ${q.p(w.now)}`,
					];
					const statuses = fromStatuses.map((s) => q.p(s)).join(', ');
					await rollupReferral(w.tx, this.core.backend, id, -1);
					const row = await w.tx.get(
						`UPDATE referrals SET ${sets.join(', ')} WHERE id = ${q.p(id)} AND program_id = ${q.p(programId)} AND referrer_id = ${q.p(fromReferrer)} AND status IN (${statuses}) RETURNING *`,
						q.values,
					);
					await rollupReferral(w.tx, this.core.backend, id, 1);
					if (!row)
						return {
							receipt: { referralId: id, transitioned: false },
							result: {
								transitioned: false,
								status: current.status,
								record: current,
								replayed: false,
							},
						};
					const referral = toReferral(row);
					await onReferralChanged(w, { ...row, referrer_id: current.referrerId }, row);
					const note = `reassigned from participant ${fromReferrer} to ${toReferrer}${reason ? `: ${reason}` : ''}`;
					await w.tx.run(
						`INSERT INTO referral_history (referral_id, from_status, to_status, reason, at) VALUES ($1, $2, $3, $4, $5)`,
						[id, current.status, current.status, note.slice(0, LIMITS.text), w.now],
					);
					w.emit(
						programId,
						'referral.reassigned',
						{
							referral,
							fromReferrerId: fromReferrer,
							toReferrerId: toReferrer,
							reason: reason ?? null,
						},
						referral.refereeId,
					);
					w.emitAll(programId, events, referral.refereeId);
					return {
						receipt: { referralId: id, transitioned: true },
						result: {
							transitioned: true,
							status: referral.status,
							record: referral,
							replayed: false,
						},
					};
				},
				replay: async (r, w) => {
					const record = toReferral(await this.core.loadRow(w.tx, 'referrals', r.referralId));
					return { transitioned: r.transitioned, status: record.status, record, replayed: true };
				},
			};
		});
	}

	async referralHistory(query: { programId: string; referralId: Id }): Promise<StatusChange[]> {
		inputObject(query, 'referralHistory');
		const programId = programIdOf(query);
		const id = v.rowId(query.referralId, 'referralId');
		return this.core.read(async (tx) => {
			await this.core.requireReferral(tx, programId, id, 'referralId');
			return (
				await tx.all(`SELECT * FROM referral_history WHERE referral_id = $1 ORDER BY id`, [id])
			).map(toChange);
		});
	}

	async qualifyReferral(input: QualifyReferralInput): Promise<QualifyReferralResult> {
		return this.core.mutation<{ conversionId: number }, QualifyReferralResult>(
			'qualifyReferral',
			input,
			(programId) => {
				const id = v.rowId(input.referralId, 'referralId');
				const orderId = v.text(input.orderId, 'orderId', LIMITS.id);
				const { amount, currency } = v.orderMoney(input.amount, input.currency);
				const occurredAt = v.optTime(input.occurredAt, 'occurredAt');
				const fromStatuses = v.statusList(input.fromStatuses, 'fromStatuses');
				const to =
					input.toStatus === undefined || input.toStatus === null
						? 'qualified'
						: v.status(input.toStatus, 'toStatus');
				const reason = v.optNote(input.reason, 'reason');
				const events = v.events(input.events);
				const replay = async (w: Work, conversionId: number): Promise<QualifyReferralResult> => {
					const conversion = await this.core.loadRow(w.tx, 'conversions', conversionId);
					const referral = toReferral(
						await this.core.loadRow(w.tx, 'referrals', n(conversion.referral_id)),
					);
					return {
						qualified: n(conversion.qualified) === 1,
						referral,
						conversion: toConversion(conversion),
						replayed: true,
					};
				};
				// The unique (program, order id) on conversions is the natural key: an order qualifies once.
				return {
					request: { referralId: id, orderId, amount, currency, toStatus: to },
					run: async (w) => {
						// Locked so the status we check is the status we change.
						const locked = await this.core.requireReferral(w.tx, programId, id, 'referralId', true);
						const from = s(locked.status);
						const qualifies = fromStatuses.includes(from);
						const occurred = occurredAt ?? w.now;
						const inserted = await w.tx.get(
							`INSERT INTO conversions (program_id, referral_id, order_id, amount, currency, occurred_at, qualified, created_at, referral_status)
						VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING RETURNING *`,
							[
								programId,
								id,
								orderId,
								amount ?? null,
								currency ?? null,
								occurred,
								qualifies ? 1 : 0,
								w.now,
								from,
							],
						);
						if (!inserted) {
							const existing = (await w.tx.get(
								`SELECT * FROM conversions WHERE program_id = $1 AND order_id = $2`,
								[programId, orderId],
							))!;
							if (n(existing.referral_id) !== id)
								fail(
									'order_already_used',
									'orderId',
									`this orderId already belongs to referral ${n(existing.referral_id)}`,
								);
							v.orderConflict(orderId, toConversion(existing), amount, currency);
							return {
								receipt: { conversionId: n(existing.id) },
								result: await replay(w, n(existing.id)),
							};
						}
						const conversion = toConversion(inserted);
						if (!qualifies)
							return {
								receipt: { conversionId: conversion.id },
								result: {
									qualified: false,
									referral: toReferral(locked),
									conversion,
									replayed: false,
								},
							};
						await rollupReferral(w.tx, this.core.backend, id, -1);
						const row = await w.tx.get(
							// The qualifying order is kept on the referral too, for Get Stats' one-index scan.
							`UPDATE referrals SET status = $2, qualified_at = $3, updated_at = $4, order_amount = $5, order_currency = $6 WHERE id = $1 RETURNING *`,
							[id, to, occurred, w.now, amount ?? null, currency ?? null],
						);
						await rollupReferral(w.tx, this.core.backend, id, 1);
						const referral = toReferral(row!);
						await onReferralChanged(w, locked, row);
						await w.tx.run(
							`INSERT INTO referral_history (referral_id, from_status, to_status, reason, at) VALUES ($1, $2, $3, $4, $5)`,
							[id, from, to, reason ?? `order ${orderId}`, w.now],
						);
						w.emit(
							programId,
							`referral.${to}`,
							{ referral, conversion, from, to, reason: reason ?? null },
							referral.refereeId,
						);
						w.emitAll(programId, events, referral.refereeId);
						return {
							receipt: { conversionId: conversion.id },
							result: { qualified: true, referral, conversion, replayed: false },
						};
					},
					replay: (r, w) => replay(w, r.conversionId),
				};
			},
		);
	}
}
