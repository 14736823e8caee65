/* The suppression list (global: an opt-out holds across programs) and the message log: messages
 * reserved before sending, owed messages claimed for delivery, handed over and completed. */
import { randomBytes } from 'node:crypto';
import type { LedgerCore } from '../core';
import {
	addressOf,
	BULK_CHUNK,
	channelOf,
	inputObject,
	keyOf,
	programIdOf,
	spellingsOf,
} from '../inputs';
import { digest } from '../once';
import { n, s, toMessage, toSuppression } from '../rows';
import { Params, type Row, type Tx } from '../sql';
import type {
	ClaimMessagesInput,
	ClaimMessagesResult,
	CompleteMessageInput,
	LedgerStore,
	ListMessagesQuery,
	MessageRecord,
	RemoveSuppressionInput,
	ReserveMessageInput,
	ReserveMessageResult,
	SuppressionInput,
	SuppressionKey,
	SuppressionRecord,
} from '../store';
import * as v from '../validate';
import { fail, LIMITS } from '../validate';

/** A lapsed claim whose holder never handed the message over: nothing reached the provider. */
const DEAD_CLAIM = `(status = 'reserved' AND claimed_until IS NOT NULL AND claimed_until < $NOW AND handed_over_at IS NULL)`;
/** Owed and due. */
const DUE = `(status = 'owed' AND due_at <= $NOW)`;
const CLAIM_TTL = { min: 1_000, max: 600_000, default: 30_000 };
const MAX_CLAIM_KEYS = 1000;

type Methods =
	| 'addSuppression'
	| 'removeSuppression'
	| 'getSuppression'
	| 'suppressedAddresses'
	| 'reserveMessage'
	| 'completeMessage'
	| 'getMessage'
	| 'listMessages'
	| 'claimMessages'
	| 'renewMessageClaims'
	| 'handOverMessage';

export class MessagesTable implements Pick<LedgerStore, Methods> {
	constructor(private readonly core: LedgerCore) {}

	async addSuppression(
		input: SuppressionInput,
	): Promise<{ suppression: SuppressionRecord; created: boolean; replayed: boolean }> {
		return this.core.globalMutation<
			{ created: boolean },
			{ suppression: SuppressionRecord; created: boolean; replayed: boolean }
		>('addSuppression', input, () => {
			const channel = channelOf(input.channel);
			const address = addressOf(channel, input.address, 'address');
			const reason = v.optNote(input.reason, 'reason', LIMITS.name);
			const events = v.events(input.events);
			return {
				request: { channel, address },
				run: async (w) => {
					const before = await this.suppressionOf(w.tx, channel, address);
					if (before)
						return {
							receipt: { created: false },
							result: { suppression: before, created: false, replayed: false },
						};
					const row = await w.tx.get(
						`INSERT INTO suppressions (channel, address, reason, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING *`,
						[channel, address, reason ?? null, w.now],
					);
					const suppression = toSuppression(
						row ??
							(await w.tx.get(`SELECT * FROM suppressions WHERE channel = $1 AND address = $2`, [
								channel,
								address,
							]))!,
					);
					if (row) w.emitAll(null, events);
					return {
						receipt: { created: !!row },
						result: { suppression, created: !!row, replayed: false },
					};
				},
				replay: async (r, w) => {
					const suppression = (await this.suppressionOf(w.tx, channel, address)) ?? {
						channel,
						address,
						reason: reason ?? null,
						createdAt: w.now,
					};
					return { suppression, created: r.created, replayed: true };
				},
			};
		});
	}

	async removeSuppression(
		input: RemoveSuppressionInput,
	): Promise<{ removed: boolean; replayed: boolean }> {
		return this.core.globalMutation<{ removed: boolean }, { removed: boolean; replayed: boolean }>(
			'removeSuppression',
			input,
			() => {
				const channel = channelOf(input.channel);
				const address = addressOf(channel, input.address, 'address');
				const events = v.events(input.events);
				return {
					request: { channel, address },
					run: async (w) => {
						const q = new Params();
						const removed =
							(await w.tx.run(
								`DELETE FROM suppressions WHERE channel = ${q.p(channel)} AND address IN ${q.list(spellingsOf(channel, address))}`,
								q.values,
							)) > 0;
						if (removed) w.emitAll(null, events);
						return { receipt: { removed }, result: { removed, replayed: false } };
					},
					replay: async (r) => ({ removed: r.removed, replayed: true }),
				};
			},
		);
	}

	async getSuppression(query: SuppressionKey): Promise<SuppressionRecord | null> {
		inputObject(query, 'getSuppression');
		const channel = channelOf(query.channel);
		const address = addressOf(channel, query.address, 'address');
		return (await this.core.read((tx) => this.suppressionOf(tx, channel, address))) ?? null;
	}

	/** The suppression of an address in any spelling (the stored form first). */
	private async suppressionOf(
		tx: Tx,
		channel: string,
		address: string,
	): Promise<SuppressionRecord | undefined> {
		const q = new Params();
		const rows = await tx.all(
			`SELECT * FROM suppressions WHERE channel = ${q.p(channel)} AND address IN ${q.list(spellingsOf(channel, address))}`,
			q.values,
		);
		const row = rows.find((r) => s(r.address) === address) ?? rows[0];
		return row ? toSuppression(row) : undefined;
	}

	async suppressedAddresses(query: { channel: string; addresses: string[] }): Promise<string[]> {
		inputObject(query, 'suppressedAddresses');
		const channel = channelOf(query.channel);
		if (!Array.isArray(query.addresses) || query.addresses.length > LIMITS.pageSize)
			fail(
				'invalid_type',
				'addresses',
				`addresses must be a list of at most ${LIMITS.pageSize} addresses`,
			);
		const addresses = [
			...new Set(query.addresses.map((a, i) => addressOf(channel, a, `addresses[${i}]`))),
		];
		// Each address is looked up in every spelling and answered in its stored form.
		const bySpelling = new Map<string, string>();
		for (const a of addresses)
			for (const spelling of spellingsOf(channel, a)) bySpelling.set(spelling, a);
		const spellings = [...bySpelling.keys()];
		return this.core.read(async (tx) => {
			const found = new Set<string>();
			for (let i = 0; i < spellings.length; i += BULK_CHUNK) {
				const q = new Params();
				const sql = `SELECT address FROM suppressions WHERE channel = ${q.p(channel)} AND address IN ${q.list(spellings.slice(i, i + BULK_CHUNK))}`;
				for (const r of await tx.all(sql, q.values))
					found.add(bySpelling.get(s(r.address)) ?? s(r.address));
			}
			return [...found];
		});
	}

	async reserveMessage(input: ReserveMessageInput): Promise<ReserveMessageResult> {
		inputObject(input, 'reserveMessage');
		const channel = channelOf(input.channel);
		const recipient = addressOf(channel, input.recipient, 'recipient');
		const programId = v.optText(input.programId, 'programId', 128);
		const participantId = v.optRowId(input.participantId, 'participantId');
		const templateId = v.optText(input.templateId, 'templateId', LIMITS.id);
		const reference = v.optText(input.reference, 'reference', LIMITS.id);
		const staleAfterMs = v.optInt(input.staleAfterMs, 'staleAfterMs', 1);
		if (
			input.retryFailed !== undefined &&
			input.retryFailed !== null &&
			typeof input.retryFailed !== 'boolean'
		)
			fail('invalid_type', 'retryFailed', 'retryFailed must be true or false');
		const key =
			keyOf(input) ?? 'auto:' + digest({ channel, recipient, templateId, reference, programId });
		return this.core.write(async (w) => {
			if (programId !== undefined) await this.core.requireProgram(w.tx, programId);
			if (participantId !== undefined) {
				if (programId === undefined)
					fail('required', 'programId', 'give programId together with participantId');
				await this.core.requireParticipant(w.tx, programId, participantId, 'participantId');
			}
			// The message row is its own idempotency record: its key is unique.
			const row = await w.tx.get(
				`INSERT INTO messages (idempotency_key, program_id, participant_id, channel, recipient, status, attempts, created_at, updated_at)
				VALUES ($1, $2, $3, $4, $5, 'reserved', 1, $6, $6) ON CONFLICT DO NOTHING RETURNING *`,
				[key, programId ?? null, participantId ?? null, channel, recipient, w.now],
			);
			if (row) return { reserved: true, message: toMessage(row) };
			const existing = toMessage(
				(await w.tx.get(`SELECT * FROM messages WHERE idempotency_key = $1`, [key]))!,
			);
			const deadClaim =
				existing.status === 'reserved' &&
				existing.claimedUntil !== null &&
				existing.claimedUntil < w.now &&
				existing.handedOverAt === null;
			const takeOver =
				// An owed message sent the plain way (Send with its key) is delivered all the same.
				existing.status === 'owed' ||
				deadClaim ||
				(existing.status === 'failed' && input.retryFailed === true) ||
				(existing.status === 'reserved' &&
					existing.claimedUntil === null &&
					staleAfterMs !== undefined &&
					existing.updatedAt <= w.now - staleAfterMs);
			if (!takeOver) return { reserved: false, message: existing };
			// Compare-and-set on what we saw, so two retries cannot both take the key over.
			const taken = await w.tx.get(
				`UPDATE messages SET status = 'reserved', attempts = attempts + 1, error = NULL, claim_token = NULL, claimed_until = NULL, handed_over_at = NULL, updated_at = $4
				WHERE idempotency_key = $1 AND status = $2 AND updated_at = $3 RETURNING *`,
				[key, existing.status, existing.updatedAt, w.now],
			);
			return taken
				? { reserved: true, message: toMessage(taken) }
				: {
						reserved: false,
						message: toMessage(
							(await w.tx.get(`SELECT * FROM messages WHERE idempotency_key = $1`, [key]))!,
						),
					};
		});
	}

	async completeMessage(input: CompleteMessageInput): Promise<MessageRecord> {
		inputObject(input, 'completeMessage');
		const key = v.text(input.idempotencyKey, 'idempotencyKey', LIMITS.key);
		const token = v.optText(input.token, 'token', 64);
		const state = v.oneOf(
			input.status,
			'status',
			token === undefined
				? (['sent', 'failed'] as const)
				: (['sent', 'failed', 'skipped', 'unconfirmed', 'owed'] as const),
		);
		const providerId = v.optText(input.providerId, 'providerId', LIMITS.id);
		const error = v.optNote(input.error, 'error');
		const dueAt = v.optTime(input.dueAt, 'dueAt');
		return this.core.write(async (w) => {
			const row =
				token === undefined
					? await w.tx.get(
							`UPDATE messages SET status = $2, provider_id = COALESCE($3, provider_id), error = $4, updated_at = $5 WHERE idempotency_key = $1 AND status = 'reserved' RETURNING *`,
							[key, state, providerId ?? null, error ?? null, w.now],
						)
					: state === 'owed'
						? // Given back: due again later, nothing of this attempt reached the provider.
							await w.tx.get(
								`UPDATE messages SET status = 'owed', error = $3, due_at = $4, claim_token = NULL, claimed_until = NULL, handed_over_at = NULL, updated_at = $5
								WHERE idempotency_key = $1 AND claim_token = $2 AND status = 'reserved' RETURNING *`,
								[key, token, error ?? null, dueAt ?? w.now, w.now],
							)
						: await w.tx.get(
								`UPDATE messages SET status = $3, provider_id = COALESCE($4, provider_id), error = $5, claimed_until = NULL, updated_at = $6
								WHERE idempotency_key = $1 AND claim_token = $2 AND status = 'reserved' RETURNING *`,
								[key, token, state, providerId ?? null, error ?? null, w.now],
							);
			if (row) return toMessage(row);
			// Already completed (a replay), claimed by someone else since, or never reserved.
			const current = await w.tx.get(`SELECT * FROM messages WHERE idempotency_key = $1`, [key]);
			if (!current)
				fail(
					'unknown_message',
					'idempotencyKey',
					'no message was reserved with this idempotencyKey; reserve it before sending',
				);
			return toMessage(current);
		});
	}

	async getMessage(idempotencyKey: string): Promise<MessageRecord | null> {
		const key = v.text(idempotencyKey, 'idempotencyKey', LIMITS.key);
		const row = await this.core.read((tx) =>
			tx.get(`SELECT * FROM messages WHERE idempotency_key = $1`, [key]),
		);
		return row ? toMessage(row) : null;
	}

	async listMessages(query: ListMessagesQuery): Promise<MessageRecord[]> {
		inputObject(query, 'listMessages');
		const q = new Params();
		const where: string[] = [];
		if (query.programId !== undefined) where.push(`program_id = ${q.p(programIdOf(query))}`);
		if (query.status !== undefined)
			where.push(
				`status = ${q.p(v.oneOf(query.status, 'status', ['owed', 'reserved', 'sent', 'failed', 'skipped', 'unconfirmed'] as const))}`,
			);
		if (query.topic !== undefined) where.push(`topic = ${q.p(v.eventType(query.topic, 'topic'))}`);
		if (query.channel !== undefined) where.push(`channel = ${q.p(channelOf(query.channel))}`);
		if (query.participantId !== undefined)
			where.push(`participant_id = ${q.p(v.rowId(query.participantId, 'participantId'))}`);
		const afterId = v.optRowId(query.afterId, 'afterId');
		if (afterId !== undefined) where.push(`id > ${q.p(afterId)}`);
		const sql = `SELECT * FROM messages${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY id LIMIT ${q.p(v.limit(query.limit))}`;
		return (await this.core.read((tx) => tx.all(sql, q.values))).map(toMessage);
	}

	async claimMessages(input: ClaimMessagesInput): Promise<ClaimMessagesResult> {
		inputObject(input, 'claimMessages');
		const channel = v.oneOf(input.channel, 'channel', ['email', 'sms'] as const);
		const topic =
			input.topic === undefined || input.topic === null
				? undefined
				: v.eventType(input.topic, 'topic');
		const programId =
			input.programId === undefined || input.programId === null ? undefined : programIdOf(input);
		const keys = [...new Set(v.textList(input.keys, 'keys', MAX_CLAIM_KEYS, LIMITS.key))];
		const overdueAfterMs = v.optInt(input.overdueAfterMs, 'overdueAfterMs', 0, 30 * 24 * 3_600_000);
		if (overdueAfterMs !== undefined && topic === undefined)
			fail(
				'required',
				'topic',
				'give the topic of the overdue messages to claim (e.g. reward.earned)',
			);
		const limit = v.optInt(input.limit, 'limit', 1, MAX_CLAIM_KEYS) ?? 100;
		const ttlMs = v.optInt(input.ttlMs, 'ttlMs', CLAIM_TTL.min, CLAIM_TTL.max) ?? CLAIM_TTL.default;
		const token = randomBytes(12).toString('base64url');
		if (keys.length === 0 && overdueAfterMs === undefined)
			return { token, claimed: [], others: [] };
		return this.core.write(async (w) => {
			const scope = (q: Params) => {
				const parts = [`channel = ${q.p(channel)}`];
				if (topic !== undefined) parts.push(`topic = ${q.p(topic)}`);
				if (programId !== undefined) parts.push(`program_id = ${q.p(programId)}`);
				return parts.join(' AND ');
			};
			const now = (q: Params, sql: string) => sql.replaceAll('$NOW', q.p(w.now));
			const byKeys = (q: Params) => `msg_group IN ${q.list(keys)}`;
			const claimed: Row[] = [];
			const claim = async (pick: (q: Params) => string) => {
				const q = new Params();
				const sql = `UPDATE messages SET status = 'reserved', claim_token = ${q.p(token)}, claimed_until = ${q.p(w.now + ttlMs)}, handed_over_at = NULL,
					attempts = attempts + 1, updated_at = ${q.p(w.now)}
					WHERE ${pick(q)} AND ${scope(q)} AND (${now(q, DUE)} OR ${now(q, DEAD_CLAIM)}) RETURNING *`;
				claimed.push(...(await w.tx.all(sql, q.values)));
			};
			// Lapsed claims that had handed their message over: the provider may have it; never again.
			const settle = async (pick: (q: Params) => string) => {
				const q = new Params();
				await w.tx.run(
					`UPDATE messages SET status = 'unconfirmed', claimed_until = NULL, updated_at = ${q.p(w.now)},
					error = 'the sender stopped after handing the message to the provider and before its answer was recorded; not sent again'
					WHERE ${pick(q)} AND ${scope(q)} AND status = 'reserved' AND claimed_until IS NOT NULL AND claimed_until < ${q.p(w.now)} AND handed_over_at IS NOT NULL`,
					q.values,
				);
			};
			if (keys.length > 0) {
				await settle(byKeys);
				await claim(byKeys);
			}
			if (overdueAfterMs !== undefined) {
				await settle(() => 'TRUE');
				// Picked first, then claimed: as a subquery of the UPDATE, PostgreSQL may rescan it per row.
				const skipLocked =
					this.core.driver.dialect.name === 'postgres' ? ' FOR UPDATE SKIP LOCKED' : '';
				const q = new Params();
				const picked = await w.tx.all(
					`SELECT id FROM messages WHERE ${scope(q)} AND ((status = 'owed' AND due_at <= ${q.p(w.now)} AND created_at <= ${q.p(w.now - overdueAfterMs)}) OR ${now(q, DEAD_CLAIM)})
					ORDER BY id LIMIT ${q.p(limit)}${skipLocked}`,
					q.values,
				);
				if (picked.length > 0) await claim((p) => `id IN ${p.list(picked.map((r) => n(r.id)))}`);
			}
			const ids = new Set(claimed.map((r) => n(r.id)));
			let others: MessageRecord[] = [];
			if (keys.length > 0) {
				const q = new Params();
				others = (
					await w.tx.all(
						`SELECT * FROM messages WHERE ${byKeys(q)} AND channel = ${q.p(channel)} ORDER BY id`,
						q.values,
					)
				)
					.map(toMessage)
					.filter((m) => !ids.has(m.id));
			}
			return { token, claimed: claimed.map(toMessage).sort((a, b) => a.id - b.id), others };
		});
	}

	async renewMessageClaims(input: { token: string; ttlMs?: number }): Promise<number> {
		inputObject(input, 'renewMessageClaims');
		const token = v.text(input.token, 'token', 64);
		const ttlMs = v.optInt(input.ttlMs, 'ttlMs', CLAIM_TTL.min, CLAIM_TTL.max) ?? CLAIM_TTL.default;
		return this.core.write((w) =>
			w.tx.run(
				`UPDATE messages SET claimed_until = $2 WHERE claim_token = $1 AND status = 'reserved'`,
				[token, w.now + ttlMs],
			),
		);
	}

	async handOverMessage(
		input: { idempotencyKey: string; token: string },
		onCommitted?: () => void,
	): Promise<boolean> {
		inputObject(input, 'handOverMessage');
		const key = v.text(input.idempotencyKey, 'idempotencyKey', LIMITS.key);
		const token = v.text(input.token, 'token', 64);
		return this.core.write(
			async (w) =>
				(await w.tx.run(
					`UPDATE messages SET handed_over_at = $3, updated_at = $3 WHERE idempotency_key = $1 AND claim_token = $2 AND status = 'reserved'`,
					[key, token, w.now],
				)) === 1,
			onCommitted
				? (held) => {
						if (!held) return;
						try {
							onCommitted();
						} catch {
							// The sender's own affair: the record stands either way.
						}
					}
				: undefined,
		);
	}
}
