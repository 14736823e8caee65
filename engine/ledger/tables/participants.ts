/* Participants: enrolment (idempotent by external id and email), lookups, updates, erasure. */
import { EngineError } from '../../shared/errors';
import { emailSpellings, storedForm } from '../../shared/email';
import type { LedgerCore } from '../core';
import { inputObject, keyOf, programIdOf } from '../inputs';
import { toParticipant, toParticipantOrUndefined } from '../rows';
import { Params, type SqlValue, type Tx } from '../sql';
import type {
	EnrolParticipantInput,
	EnrolParticipantResult,
	EraseParticipantInput,
	LedgerStore,
	ListParticipantsQuery,
	ParticipantQuery,
	ParticipantRecord,
	UpdateParticipantInput,
} from '../store';
import * as v from '../validate';
import { fail, LIMITS } from '../validate';
import { issueOwnerCode } from './codes';
import { rollupParticipant } from './rollups';

type Methods =
	| 'enrolParticipant'
	| 'getParticipant'
	| 'updateParticipant'
	| 'listParticipants'
	| 'eraseParticipant';

export class ParticipantsTable implements Pick<LedgerStore, Methods> {
	constructor(private readonly core: LedgerCore) {}

	/**
	 * The participant holding this email (in any spelling an older ledger may hold, the stored form
	 * first, then the oldest); participants written before the one email rule may hold two
	 * spellings of one mailbox, and this picks one of them.
	 */
	private async participantByEmail(
		tx: Tx,
		programId: string,
		email: string,
	): Promise<ParticipantRecord | undefined> {
		const spellings = emailSpellings(email);
		const q = new Params();
		const rows = (
			await tx.all(
				`SELECT * FROM participants WHERE program_id = ${q.p(programId)} AND email IN ${q.list(spellings)} ORDER BY id`,
				q.values,
			)
		).map(toParticipant);
		return rows.find((r) => r.email === email) ?? rows[0];
	}

	/** The participant holding this external id or email; refuses when they name two different ones. */
	private async findParticipant(
		tx: Tx,
		programId: string,
		externalId: string | undefined,
		email: string | undefined,
	): Promise<ParticipantRecord | undefined> {
		const byExternalId =
			externalId === undefined
				? undefined
				: toParticipantOrUndefined(
						await tx.get(`SELECT * FROM participants WHERE program_id = $1 AND external_id = $2`, [
							programId,
							externalId,
						]),
					);
		const byEmail =
			email === undefined ? undefined : await this.participantByEmail(tx, programId, email);
		const found = byExternalId ?? byEmail;
		if (!found) return undefined;
		const sameMailbox = (stored: string | null) =>
			stored === null || email === undefined || emailSpellings(email).includes(stored);
		if (
			(byExternalId && byEmail && byExternalId.id !== byEmail.id) ||
			(externalId !== undefined && found.externalId !== null && found.externalId !== externalId) ||
			!sameMailbox(found.email)
		) {
			fail(
				'participant_conflict',
				'email',
				'this externalId and this email belong to different participants; update one of them first',
			);
		}
		return found;
	}

	async enrolParticipant(input: EnrolParticipantInput): Promise<EnrolParticipantResult> {
		return this.core.mutation<{ participantId: number; created: boolean }, EnrolParticipantResult>(
			'enrolParticipant',
			input,
			(programId) => {
				const externalId = v.optText(input.externalId, 'externalId', LIMITS.id);
				const email = v.optEmail(input.email);
				const phone = v.optPhone(input.phone);
				const name = v.optText(input.name, 'name', LIMITS.name);
				const metadata = v.jsonObject(input.metadata, 'metadata');
				const events = v.events(input.events);
				const messages = v.owedMessages(input.messages);
				const key = keyOf(input);
				if (externalId === undefined && email === undefined)
					fail(
						'required',
						'email',
						'give an email or an externalId to enrol a participant (they identify the participant)',
					);
				const generate = input.issueCode?.generate;
				if (input.issueCode !== undefined && typeof generate !== 'function')
					fail(
						'required',
						'issueCode',
						'give issueCode.generate (a function returning a candidate code)',
					);
				const welcome = input.welcomeMessages;
				if (welcome !== undefined && typeof welcome !== 'function')
					fail(
						'invalid_messages',
						'welcomeMessages',
						'give welcomeMessages as a function of the new participant and code',
					);
				// Idempotent by its natural keys (external id, email); an explicit key is remembered too.
				return {
					key,
					request: { externalId, email, phone, name },
					run: async (w) => {
						const existing = await this.findParticipant(w.tx, programId, externalId, email);
						if (existing)
							return {
								receipt: { participantId: existing.id, created: false },
								result: { participant: existing, created: false, replayed: false },
							};
						const row = await w.tx.get(
							`INSERT INTO participants (program_id, external_id, email, phone, name, metadata, created_at, updated_at)
						VALUES ($1, $2, $3, $4, $5, $6, $7, $7) ON CONFLICT DO NOTHING RETURNING *`,
							[
								programId,
								externalId ?? null,
								email ?? null,
								phone ?? null,
								name ?? null,
								metadata,
								w.now,
							],
						);
						if (!row) {
							// Lost a race on a natural key: the winner has committed, so it is visible now.
							const winner = await this.findParticipant(w.tx, programId, externalId, email);
							if (!winner)
								throw new EngineError(
									'ledger_internal',
									'participant insert conflicted but no participant matches; retry',
								);
							return {
								receipt: { participantId: winner.id, created: false },
								result: { participant: winner, created: false, replayed: false },
							};
						}
						const participant = toParticipant(row);
						await rollupParticipant(w.tx, participant.id);
						w.emit(programId, 'participant.enrolled', { participant }, participant.id);
						w.emitAll(programId, events, participant.id);
						w.oweAll(programId, messages, participant.id);
						const code = generate
							? await issueOwnerCode(this.core, w, programId, participant.id, generate)
							: undefined;
						if (welcome)
							w.oweAll(
								programId,
								v.owedMessages(welcome({ participant, code: code ?? null }), 'welcomeMessages'),
								participant.id,
							);
						return {
							receipt: { participantId: participant.id, created: true },
							result: { participant, created: true, replayed: false, ...(code ? { code } : {}) },
						};
					},
					replay: async (r, w) => ({
						participant: toParticipant(
							await this.core.loadRow(w.tx, 'participants', r.participantId),
						),
						created: r.created,
						replayed: true,
					}),
				};
			},
		);
	}

	async getParticipant(query: ParticipantQuery): Promise<ParticipantRecord | null> {
		inputObject(query, 'getParticipant');
		const programId = programIdOf(query);
		const q = new Params();
		let where: string;
		if (query.id !== undefined && query.id !== null) where = `id = ${q.p(v.rowId(query.id, 'id'))}`;
		else if (query.externalId !== undefined && query.externalId !== null)
			where = `external_id = ${q.p(v.text(query.externalId, 'externalId', LIMITS.id))}`;
		else if (query.email !== undefined && query.email !== null) {
			const email = v.email(query.email);
			return (await this.core.read((tx) => this.participantByEmail(tx, programId, email))) ?? null;
		} else fail('required', 'id', 'give id, externalId or email to find a participant');
		const row = await this.core.read((tx) =>
			tx.get(
				`SELECT * FROM participants WHERE ${where} AND program_id = ${q.p(programId)}`,
				q.values,
			),
		);
		return row ? toParticipant(row) : null;
	}

	async updateParticipant(
		input: UpdateParticipantInput,
	): Promise<{ participant: ParticipantRecord; replayed: boolean }> {
		try {
			return await this.core.mutation<
				{ participantId: number },
				{ participant: ParticipantRecord; replayed: boolean }
			>('updateParticipant', input, (programId) => {
				const id = v.rowId(input.participantId, 'participantId');
				const changes: Record<string, SqlValue> = {};
				if (input.externalId !== undefined)
					changes.external_id =
						input.externalId === null ? null : v.text(input.externalId, 'externalId', LIMITS.id);
				if (input.email !== undefined)
					changes.email = input.email === null ? null : v.email(input.email);
				if (input.phone !== undefined)
					changes.phone = input.phone === null ? null : (v.optPhone(input.phone) ?? null);
				if (input.name !== undefined)
					changes.name = input.name === null ? null : v.text(input.name, 'name', LIMITS.name);
				if (input.metadata !== undefined)
					changes.metadata = v.jsonObject(input.metadata, 'metadata');
				const events = v.events(input.events);
				return {
					request: { participantId: id, ...changes },
					run: async (w) => {
						await this.core.requireParticipant(w.tx, programId, id, 'participantId');
						for (const [column, field] of [
							['external_id', 'externalId'],
							['email', 'email'],
						] as const) {
							if (changes[column] === undefined || changes[column] === null) continue;
							const params = new Params();
							const values =
								column === 'email' ? emailSpellings(changes[column] as string) : [changes[column]];
							const other = await w.tx.get(
								`SELECT id FROM participants WHERE program_id = ${params.p(programId)} AND ${column} IN ${params.list(values)} AND id <> ${params.p(id)}`,
								params.values,
							);
							if (other)
								fail(
									'participant_conflict',
									field,
									`another participant of this program already has this ${field}`,
								);
						}
						const q = new Params();
						const sets = Object.entries(changes).map(
							([column, value]) => `${column} = ${q.p(value)}`,
						);
						const row = await w.tx.get(
							`UPDATE participants SET ${[...sets, `updated_at = ${q.p(w.now)}`].join(', ')} WHERE id = ${q.p(id)} RETURNING *`,
							q.values,
						);
						w.emitAll(programId, events, id);
						return {
							receipt: { participantId: id },
							result: { participant: toParticipant(row!), replayed: false },
						};
					},
					replay: async (r, w) => ({
						participant: toParticipant(
							await this.core.loadRow(w.tx, 'participants', r.participantId),
						),
						replayed: true,
					}),
				};
			});
		} catch (error) {
			if (this.core.driver.isUniqueViolation(error))
				fail(
					'participant_conflict',
					'email',
					'another participant of this program took this email or externalId at the same moment',
				);
			throw error;
		}
	}

	async listParticipants(query: ListParticipantsQuery): Promise<ParticipantRecord[]> {
		inputObject(query, 'listParticipants');
		const q = new Params();
		const where = [`program_id = ${q.p(programIdOf(query))}`];
		const afterId = v.optRowId(query.afterId, 'afterId');
		const since = v.optTime(query.createdSince, 'createdSince');
		const until = v.optTime(query.createdUntil, 'createdUntil');
		if (afterId !== undefined) where.push(`id > ${q.p(afterId)}`);
		if (since !== undefined) where.push(`created_at >= ${q.p(since)}`);
		if (until !== undefined) where.push(`created_at < ${q.p(until)}`);
		const sql = `SELECT * FROM participants WHERE ${where.join(' AND ')} ORDER BY id LIMIT ${q.p(v.limit(query.limit))}`;
		return (await this.core.read((tx) => tx.all(sql, q.values))).map(toParticipant);
	}

	async eraseParticipant(
		input: EraseParticipantInput,
	): Promise<{ participant: ParticipantRecord; replayed: boolean }> {
		return this.core.mutation<
			{ participantId: number },
			{ participant: ParticipantRecord; replayed: boolean }
		>('eraseParticipant', input, (programId) => {
			const id = v.rowId(input.participantId, 'participantId');
			const events = v.events(input.events);
			return {
				request: { participantId: id },
				run: async (w) => {
					const before = await this.core.requireParticipant(
						w.tx,
						programId,
						id,
						'participantId',
						true,
					);
					const row = await w.tx.get(
						`UPDATE participants SET external_id = NULL, email = NULL, phone = NULL, name = NULL, metadata = '{}',
						erased_at = COALESCE(erased_at, $2), updated_at = $2 WHERE id = $1 RETURNING *`,
						[id, w.now],
					);
					// Rows and aggregates stay; what could identify the person goes.
					await w.tx.run(
						`UPDATE referrals SET ip_hash = NULL, device_hash = NULL, metadata = '{}' WHERE referee_id = $1`,
						[id],
					);
					const q = new Params();
					// Messages to any spelling of their address (older ledgers kept internationalised domains as typed).
					const emails =
						before.email === null
							? []
							: [...new Set([before.email, ...emailSpellings(storedForm(before.email))])];
					const addresses = [...emails, ...(before.phone === null ? [] : [before.phone])];
					const byAddress = addresses.length ? ` OR recipient IN ${q.list(addresses)}` : '';
					// Owed messages to them are never sent now; every message loses its address and data.
					const scope = `participant_id = ${q.p(id)}${byAddress}`;
					await w.tx.run(
						`UPDATE messages SET status = CASE WHEN status = 'owed' THEN 'skipped' ELSE status END,
						error = CASE WHEN status = 'owed' THEN 'participant erased' ELSE error END,
						recipient = '[erased]', payload = CASE WHEN payload IS NULL THEN NULL ELSE '{}' END, updated_at = ${q.p(w.now)} WHERE ${scope}`,
						q.values,
					);
					await w.tx.run(`UPDATE outbox SET payload = $2 WHERE participant_id = $1`, [
						id,
						JSON.stringify({ participantId: id, erased: true }),
					]);
					w.emit(programId, 'participant.erased', { participantId: id });
					w.emitAll(programId, events);
					return {
						receipt: { participantId: id },
						result: { participant: toParticipant(row!), replayed: false },
					};
				},
				replay: async (r, w) => ({
					participant: toParticipant(
						await this.core.loadRow(w.tx, 'participants', r.participantId),
					),
					replayed: true,
				}),
			};
		});
	}
}
