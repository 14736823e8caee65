/* Referral codes: one, a batch (multi-row inserts with collision retry), redemption, revocation, lookups. */
import type { LedgerCore, Work } from '../core';
import {
	CODE_ATTEMPTS,
	BULK_CHUNK,
	codeText,
	generated,
	inputObject,
	programIdOf,
} from '../inputs';
import { once } from '../once';
import { n, s, toCode } from '../rows';
import { Params, type Row } from '../sql';
import type {
	CodeQuery,
	CodeRecord,
	IssueCodeInput,
	IssueCodeResult,
	IssueCodesInput,
	IssueCodesResult,
	LedgerStore,
	ListCodesQuery,
	RedeemCodeInput,
	RedeemCodeResult,
	RedeemRefusal,
	RevokeCodeInput,
	RevokeCodeResult,
} from '../store';
import * as v from '../validate';
import { fail, LIMITS } from '../validate';

type Methods =
	'issueCode' | 'issueCodes' | 'redeemCode' | 'revokeCode' | 'lookupCode' | 'listCodes';

export class CodesTable implements Pick<LedgerStore, Methods> {
	constructor(private readonly core: LedgerCore) {}

	async issueCode(input: IssueCodeInput): Promise<IssueCodeResult> {
		return this.core.mutation<{ codeId: number }, IssueCodeResult>(
			'issueCode',
			input,
			(programId) => {
				const ownerId = v.optRowId(input.ownerId, 'ownerId');
				const vanity =
					input.code === undefined || input.code === null
						? undefined
						: codeText(input.code, 'code');
				const generate = input.generate;
				if (vanity === undefined && typeof generate !== 'function')
					fail(
						'required',
						'generate',
						'give generate (a function returning a candidate code) or code (a chosen code)',
					);
				const expiresAt = v.optTime(input.expiresAt, 'expiresAt');
				const maxUses = v.optInt(input.maxUses, 'maxUses', 1, 2_000_000_000);
				const events = v.events(input.events);
				const messages = v.owedMessages(input.messages);
				const insert = (w: Work, code: string) =>
					w.tx.get(
						`INSERT INTO codes (program_id, code, owner_id, status, expires_at, max_uses, uses, created_at, updated_at)
					VALUES ($1, $2, $3, 'active', $4, $5, 0, $6, $6) ON CONFLICT DO NOTHING RETURNING *`,
						[programId, code, ownerId ?? null, expiresAt ?? null, maxUses ?? null, w.now],
					);
				return {
					enter: async (w) => {
						if (ownerId !== undefined)
							await this.core.requireParticipant(w.tx, programId, ownerId, 'ownerId');
					},
					request: { ownerId, code: vanity, maxUses },
					derive: () =>
						ownerId !== undefined
							? `owner:${ownerId}`
							: vanity !== undefined
								? `code:${vanity}`
								: `terms:${expiresAt ?? ''}:${maxUses ?? ''}`,
					run: async (w) => {
						let row: Row | undefined;
						if (vanity !== undefined) {
							row = await insert(w, vanity);
							if (!row)
								fail(
									'code_taken',
									'code',
									'this code is already taken in this program; choose another',
								);
						}
						for (let attempt = 0; !row; attempt++) {
							if (attempt === CODE_ATTEMPTS)
								fail(
									'code_space_exhausted',
									'generate',
									`generate produced ${CODE_ATTEMPTS} taken codes in a row; use longer codes`,
								);
							row = await insert(w, generated(generate!));
						}
						const code = toCode(row, w.now);
						w.emitAll(programId, events, ownerId ?? null);
						w.oweAll(programId, messages, ownerId ?? null);
						return { receipt: { codeId: code.id }, result: { code, replayed: false } };
					},
					replay: async (r, w) => ({
						code: toCode(await this.core.loadRow(w.tx, 'codes', r.codeId), w.now),
						replayed: true,
					}),
				};
			},
		);
	}

	async issueCodes(count: number, input: IssueCodesInput): Promise<IssueCodesResult> {
		v.int(count, 'count', 1, LIMITS.batch);
		return this.core.mutation<{ codes: string[] }, IssueCodesResult>(
			'issueCodes',
			input,
			(programId) => {
				const ownerId = v.optRowId(input.ownerId, 'ownerId');
				const generate = input.generate;
				if (typeof generate !== 'function')
					fail('required', 'generate', 'give generate (a function returning a candidate code)');
				const expiresAt = v.optTime(input.expiresAt, 'expiresAt');
				const maxUses = v.optInt(input.maxUses, 'maxUses', 1, 2_000_000_000);
				return {
					enter: async (w) => {
						if (ownerId !== undefined)
							await this.core.requireParticipant(w.tx, programId, ownerId, 'ownerId');
					},
					request: { count, ownerId, maxUses },
					derive: () => `batch:${count}:${ownerId ?? ''}:${expiresAt ?? ''}:${maxUses ?? ''}`,
					run: async (w) => {
						const codes = await this.insertCodes(w, programId, count, generate, [
							ownerId ?? null,
							expiresAt ?? null,
							maxUses ?? null,
						]);
						return { receipt: { codes }, result: { programId, codes, replayed: false } };
					},
					replay: async (r) => ({ programId, codes: r.codes, replayed: true }),
				};
			},
		);
	}

	/**
	 * Multi-row inserts; collisions are replaced with fresh candidates. Fast path: a plain INSERT in a
	 * savepoint (the unique index still refuses any duplicate); only a chunk that meets a collision is
	 * redone with ON CONFLICT DO NOTHING RETURNING, whose per-row speculative insertion costs far more.
	 */
	private async insertCodes(
		w: Work,
		programId: string,
		count: number,
		generate: () => string,
		terms: [number | null, number | null, number | null],
	): Promise<string[]> {
		const issued: string[] = [];
		const tried = new Set<string>();
		const statements = new Map<string, string>();
		const statement = (rows: number, safe: boolean) => {
			const key = `${rows}:${safe}`;
			let sql = statements.get(key);
			if (!sql) {
				// Shared values are bound once ($1..$5); each row adds only its code.
				const values = Array.from(
					{ length: rows },
					(_, i) => `($1, $${i + 6}, $2, 'active', $3, $4, 0, $5, $5)`,
				);
				sql = `INSERT INTO codes (program_id, code, owner_id, status, expires_at, max_uses, uses, created_at, updated_at) VALUES ${values.join(', ')}`;
				if (safe) sql += ' ON CONFLICT DO NOTHING RETURNING code';
				statements.set(key, sql);
			}
			return sql;
		};
		for (let round = 0; issued.length < count; round++) {
			if (round === CODE_ATTEMPTS)
				fail(
					'code_space_exhausted',
					'generate',
					`generate kept producing taken codes after ${CODE_ATTEMPTS} rounds; use longer codes`,
				);
			const need = count - issued.length;
			const candidates: string[] = [];
			for (let draws = 0; candidates.length < need; draws++) {
				if (draws > need * CODE_ATTEMPTS + 100)
					fail(
						'code_space_exhausted',
						'generate',
						'generate keeps repeating itself; use longer codes',
					);
				const code = generated(generate);
				if (!tried.has(code)) {
					tried.add(code);
					candidates.push(code);
				}
			}
			for (let i = 0; i < candidates.length; i += BULK_CHUNK) {
				// Sorted, so the inserts walk the unique index in order instead of jumping about.
				const chunk = candidates.slice(i, i + BULK_CHUNK).sort();
				const params = [programId, ...terms, w.now, ...chunk];
				const clean = await w.tx
					.savepoint(() => w.tx.run(statement(chunk.length, false), params))
					.then(
						() => true,
						(error: unknown) => {
							if (!this.core.driver.isUniqueViolation(error)) throw error;
							return false;
						},
					);
				if (clean) issued.push(...chunk);
				else
					for (const r of await w.tx.all(statement(chunk.length, true), params))
						issued.push(s(r.code));
			}
		}
		return issued;
	}

	async redeemCode(input: RedeemCodeInput): Promise<RedeemCodeResult> {
		return this.core.mutation<
			{ codeId: number; redeemed: boolean; reason: RedeemRefusal | null },
			RedeemCodeResult
		>('redeemCode', input, (programId) => {
			const codeValue = codeText(input.code, 'code');
			const participantId = v.optRowId(input.participantId, 'participantId');
			const reference = v.optText(input.reference, 'reference', LIMITS.id);
			const events = v.events(input.events);
			return {
				enter: async (w) => {
					if (participantId !== undefined)
						await this.core.requireParticipant(w.tx, programId, participantId, 'participantId');
				},
				request: { code: codeValue, participantId, reference },
				derive: () => `${codeValue}|${participantId ?? ''}|${reference ?? ''}`,
				run: async (w) => {
					const found = await w.tx.get(`SELECT id FROM codes WHERE program_id = $1 AND code = $2`, [
						programId,
						codeValue,
					]);
					if (!found)
						fail('unknown_code', 'code', `this code does not exist in program "${programId}"`);
					// One statement checks and counts, so racing redemptions never exceed maxUses.
					const row = await w.tx.get(
						`UPDATE codes SET uses = uses + 1, updated_at = $2
						WHERE id = $1 AND status = 'active' AND (expires_at IS NULL OR expires_at > $2) AND (max_uses IS NULL OR uses < max_uses)
						RETURNING *`,
						[n(found.id), w.now],
					);
					if (!row) {
						const current = toCode(await this.core.loadRow(w.tx, 'codes', n(found.id)), w.now);
						const reason: RedeemRefusal = current.state === 'active' ? 'exhausted' : current.state;
						return {
							receipt: { codeId: current.id, redeemed: false, reason },
							result: { redeemed: false, reason, code: current, replayed: false },
						};
					}
					await w.tx.run(
						`INSERT INTO code_redemptions (program_id, code_id, participant_id, reference, created_at) VALUES ($1, $2, $3, $4, $5)`,
						[programId, n(row.id), participantId ?? null, reference ?? null, w.now],
					);
					const code = toCode(row, w.now);
					w.emitAll(programId, events, participantId ?? null);
					return {
						receipt: { codeId: code.id, redeemed: true, reason: null },
						result: { redeemed: true, reason: null, code, replayed: false },
					};
				},
				replay: async (r, w) => ({
					redeemed: r.redeemed,
					reason: r.reason,
					code: toCode(await this.core.loadRow(w.tx, 'codes', r.codeId), w.now),
					replayed: true,
				}),
			};
		});
	}

	async revokeCode(input: RevokeCodeInput): Promise<RevokeCodeResult> {
		return this.core.mutation<{ codeId: number; revoked: boolean }, RevokeCodeResult>(
			'revokeCode',
			input,
			(programId) => {
				const codeValue = codeText(input.code, 'code');
				const reason = v.optNote(input.reason, 'reason');
				const events = v.events(input.events);
				return {
					request: { code: codeValue },
					run: async (w) => {
						const row = await w.tx.get(
							`UPDATE codes SET status = 'revoked', revoked_reason = $3, updated_at = $4 WHERE program_id = $1 AND code = $2 AND status = 'active' RETURNING *`,
							[programId, codeValue, reason ?? null, w.now],
						);
						if (row) {
							w.emitAll(programId, events);
							return {
								receipt: { codeId: n(row.id), revoked: true },
								result: { revoked: true, code: toCode(row, w.now), replayed: false },
							};
						}
						const current = await w.tx.get(
							`SELECT * FROM codes WHERE program_id = $1 AND code = $2`,
							[programId, codeValue],
						);
						if (!current)
							fail('unknown_code', 'code', `this code does not exist in program "${programId}"`);
						return {
							receipt: { codeId: n(current.id), revoked: false },
							result: { revoked: false, code: toCode(current, w.now), replayed: false },
						};
					},
					replay: async (r, w) => ({
						revoked: r.revoked,
						code: toCode(await this.core.loadRow(w.tx, 'codes', r.codeId), w.now),
						replayed: true,
					}),
				};
			},
		);
	}

	async lookupCode(query: CodeQuery): Promise<CodeRecord | null> {
		inputObject(query, 'lookupCode');
		const programId = programIdOf(query);
		const code = codeText(query.code, 'code');
		const row = await this.core.read((tx) =>
			tx.get(`SELECT * FROM codes WHERE program_id = $1 AND code = $2`, [programId, code]),
		);
		return row ? toCode(row, this.core.now()) : null;
	}

	async listCodes(query: ListCodesQuery): Promise<CodeRecord[]> {
		inputObject(query, 'listCodes');
		const q = new Params();
		const where = [`program_id = ${q.p(programIdOf(query))}`];
		const ownerId = v.optRowId(query.ownerId, 'ownerId');
		const afterId = v.optRowId(query.afterId, 'afterId');
		if (ownerId !== undefined) where.push(`owner_id = ${q.p(ownerId)}`);
		if (afterId !== undefined) where.push(`id > ${q.p(afterId)}`);
		const sql = `SELECT * FROM codes WHERE ${where.join(' AND ')} ORDER BY id LIMIT ${q.p(v.limit(query.limit))}`;
		const now = this.core.now();
		return (await this.core.read((tx) => tx.all(sql, q.values))).map((r) => toCode(r, now));
	}
}

/** The owner's own code in this transaction, under issueCode's default key for the owner (so a later issueCode replays it). */
export async function issueOwnerCode(
	core: LedgerCore,
	w: Work,
	programId: string,
	ownerId: number,
	generate: () => string,
): Promise<CodeRecord> {
	const { code } = await once<{ codeId: number }, IssueCodeResult>(w, {
		programId,
		operation: 'issueCode',
		key: undefined,
		request: { ownerId, code: undefined, maxUses: undefined },
		derive: () => `owner:${ownerId}`,
		run: async () => {
			let row: Row | undefined;
			for (let attempt = 0; !row; attempt++) {
				if (attempt === CODE_ATTEMPTS)
					fail(
						'code_space_exhausted',
						'generate',
						`generate produced ${CODE_ATTEMPTS} taken codes in a row; use longer codes`,
					);
				row = await w.tx.get(
					`INSERT INTO codes (program_id, code, owner_id, status, expires_at, max_uses, uses, created_at, updated_at)
					VALUES ($1, $2, $3, 'active', NULL, NULL, 0, $4, $4) ON CONFLICT DO NOTHING RETURNING *`,
					[programId, generated(generate), ownerId, w.now],
				);
			}
			return {
				receipt: { codeId: n(row.id) },
				result: { code: toCode(row, w.now), replayed: false },
			};
		},
		replay: async (r) => ({
			code: toCode(await core.loadRow(w.tx, 'codes', r.codeId), w.now),
			replayed: true,
		}),
	});
	return code;
}
