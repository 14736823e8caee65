/* Programs (never deleted) and what hangs off them rather than off a table of their own: write-once
 * secrets, leases, one-time nonces, lead scoring models, kept answers and idempotency housekeeping. */
import { randomBytes } from 'node:crypto';
import { EngineError } from '../../shared/errors';
import { BatchConflict, type LedgerCore } from '../core';
import { inputObject, pickerPage, programIdOf } from '../inputs';
import { n, s, toModel, toProgram } from '../rows';
import { backoffMs, Params, sleep } from '../sql';
import type {
	ClaimNonceInput,
	EnsureProgramInput,
	KeepAnswerInput,
	LeaseInput,
	LedgerStore,
	ProgramRecord,
	SaveScoringModelInput,
	SaveScoringModelResult,
	ScoringModelRecord,
} from '../store';
import * as v from '../validate';
import { fail, LIMITS } from '../validate';

type Methods =
	| 'ensureProgram'
	| 'claimProgramSecret'
	| 'getProgramSecret'
	| 'withLease'
	| 'claimNonce'
	| 'getProgram'
	| 'listPrograms'
	| 'saveScoringModel'
	| 'loadScoringModel'
	| 'keepAnswer'
	| 'keptAnswer'
	| 'schemaVersion';

export class ProgramsTable implements Pick<LedgerStore, Methods> {
	constructor(private readonly core: LedgerCore) {}

	async ensureProgram(input: EnsureProgramInput): Promise<ProgramRecord> {
		inputObject(input, 'ensureProgram');
		const id = v.text(input.id, 'programId', 128);
		const name = v.optText(input.name, 'name', LIMITS.name);
		const settings =
			input.settings === undefined ? undefined : v.jsonObject(input.settings, 'settings');
		const program = await this.core.write(async (w) => {
			await w.tx.run(
				`INSERT INTO programs (id, name, settings, created_at, updated_at) VALUES ($1, $2, $3, $4, $4) ON CONFLICT (id) DO NOTHING`,
				[id, name ?? id, settings ?? '{}', w.now],
			);
			if (name !== undefined || settings !== undefined) {
				const q = new Params();
				const sets = [
					name !== undefined ? `name = ${q.p(name)}` : '',
					settings !== undefined ? `settings = ${q.p(settings)}` : '',
				].filter(Boolean);
				await w.tx.run(
					`UPDATE programs SET ${sets.join(', ')}, updated_at = ${q.p(w.now)} WHERE id = ${q.p(id)}`,
					q.values,
				);
			}
			return toProgram((await w.tx.get(`SELECT * FROM programs WHERE id = $1`, [id]))!);
		});
		this.core.knowProgram(id);
		return program;
	}

	async claimProgramSecret(input: {
		programId: string;
		name: string;
		candidate: string;
	}): Promise<string> {
		inputObject(input, 'claimProgramSecret');
		const programId = programIdOf(input);
		const name = v.text(input.name, 'name', LIMITS.name);
		const candidate = v.text(input.candidate, 'candidate', LIMITS.key);
		return this.core.write(async (w) => {
			await this.core.requireProgram(w.tx, programId);
			await w.tx.run(
				`INSERT INTO program_secrets (program_id, name, secret, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (program_id, name) DO NOTHING`,
				[programId, name, candidate, w.now],
			);
			const row = await w.tx.get(
				`SELECT secret FROM program_secrets WHERE program_id = $1 AND name = $2`,
				[programId, name],
			);
			return String(row!.secret);
		});
	}

	async getProgramSecret(query: { programId: string; name: string }): Promise<string | null> {
		inputObject(query, 'getProgramSecret');
		const programId = programIdOf(query);
		const name = v.text(query.name, 'name', LIMITS.name);
		const row = await this.core.read((tx) =>
			tx.get(`SELECT secret FROM program_secrets WHERE program_id = $1 AND name = $2`, [
				programId,
				name,
			]),
		);
		return row ? String(row.secret) : null;
	}

	async withLease<T>(input: LeaseInput, fn: () => Promise<T>): Promise<T> {
		inputObject(input, 'withLease');
		const programId = programIdOf(input);
		const name = v.text(input.name, 'name', LIMITS.key);
		const ttlMs = v.optInt(input.ttlMs, 'ttlMs', 1_000, 600_000) ?? 30_000;
		const waitMs = v.optInt(input.waitMs, 'waitMs', 0, 600_000) ?? 30_000;
		if (typeof fn !== 'function')
			fail('invalid_input', 'fn', 'withLease needs a function to run under the lease.');
		const holder = randomBytes(12).toString('hex');
		// Wall-clock time on purpose: every process must agree on when a lease has expired.
		const take = () =>
			this.core.write(async (w) => {
				await this.core.requireProgram(w.tx, programId);
				const now = Date.now();
				await w.tx.run(
					`DELETE FROM ledger_leases WHERE program_id = $1 AND name = $2 AND expires_at <= $3`,
					[programId, name, now],
				);
				const taken = await w.tx.run(
					`INSERT INTO ledger_leases (program_id, name, holder, expires_at) VALUES ($1, $2, $3, $4) ON CONFLICT (program_id, name) DO NOTHING`,
					[programId, name, holder, now + ttlMs],
				);
				return taken === 1;
			});
		const deadline = Date.now() + waitMs;
		// In a batch the write lock is held: waiting for another holder could wait forever (it may
		// need that lock to finish); the batch lets go and runs again instead.
		const inBatch = this.core.inBatch();
		for (let attempt = 0; !(await take()); attempt++) {
			if (inBatch) throw new BatchConflict(`the lease "${name}"`);
			if (Date.now() >= deadline) {
				throw new EngineError(
					'lease_timeout',
					`The lease "${name}" of program "${programId}" stayed taken for ${waitMs} ms; another execution holds it.`,
					{ field: 'name' },
				);
			}
			await sleep(2 + backoffMs(attempt, 4, 100));
		}
		// A lease taken in a batch is not visible to others before the batch commits (they wait on
		// its row), and the batch deletes it again before that: nothing to renew.
		const renew = setInterval(
			() => {
				if (inBatch) return;
				void this.core.driver
					.write((tx) =>
						tx.run(
							`UPDATE ledger_leases SET expires_at = $1 WHERE program_id = $2 AND name = $3 AND holder = $4`,
							[Date.now() + ttlMs, programId, name, holder],
						),
					)
					.catch(() => undefined);
			},
			Math.max(250, Math.floor(ttlMs / 3)),
		);
		renew.unref?.();
		try {
			return await fn();
		} finally {
			clearInterval(renew);
			await this.core
				.write((w) =>
					w.tx.run(
						`DELETE FROM ledger_leases WHERE program_id = $1 AND name = $2 AND holder = $3`,
						[programId, name, holder],
					),
				)
				.catch(() => undefined);
		}
	}

	async claimNonce(input: ClaimNonceInput): Promise<boolean> {
		inputObject(input, 'claimNonce');
		const scope = v.text(input.scope, 'scope', LIMITS.name);
		const nonce = v.text(input.nonce, 'nonce', LIMITS.key);
		const expiresAt = v.time(input.expiresAt, 'expiresAt');
		return this.core.write(async (w) => {
			// Expired keys of the scope go first (the sweep keeps the table to the live window), so an
			// expired key can be claimed again; a live one makes the insert a no-op.
			await w.tx.run(`DELETE FROM ledger_nonces WHERE scope = $1 AND expires_at <= $2`, [
				scope,
				w.now,
			]);
			if (expiresAt <= w.now) return true;
			const inserted = await w.tx.run(
				`INSERT INTO ledger_nonces (scope, nonce, expires_at, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (scope, nonce) DO NOTHING`,
				[scope, nonce, expiresAt, w.now],
			);
			return inserted === 1;
		});
	}

	async getProgram(id: string): Promise<ProgramRecord | null> {
		const programId = v.text(id, 'programId', 128);
		const row = await this.core.read((tx) =>
			tx.get(`SELECT * FROM programs WHERE id = $1`, [programId]),
		);
		return row ? toProgram(row) : null;
	}

	async listPrograms(
		query: { search?: string; limit?: number } = {},
	): Promise<Array<{ id: string; name: string }>> {
		const rows = await this.core.read((tx) =>
			tx.all(`SELECT id, name FROM programs ORDER BY id`, []),
		);
		return pickerPage(
			rows.map((row) => ({ id: s(row.id), name: s(row.name) })),
			(program) => `${program.id} ${program.name}`,
			query,
		);
	}

	async saveScoringModel(input: SaveScoringModelInput): Promise<SaveScoringModelResult> {
		return this.core.globalMutation<{ changed: boolean }, SaveScoringModelResult>(
			'saveScoringModel',
			input,
			() => {
				const name = v.text(input.name, 'name', LIMITS.name);
				if (input.model === undefined)
					fail('required', 'model', 'model is required: any JSON value');
				const model = v.jsonValue(input.model, 'model', 1024 * 1024);
				const events = v.events(input.events);
				return {
					request: { name, model },
					run: async (w) => {
						// The version moves only when the content does, so saving the same model twice is a no-op.
						const row = await w.tx.get(
							`INSERT INTO scoring_models (name, model, version, updated_at) VALUES ($1, $2, 1, $3)
						ON CONFLICT (name) DO UPDATE SET model = excluded.model, version = scoring_models.version + 1, updated_at = excluded.updated_at
						WHERE scoring_models.model <> excluded.model RETURNING *`,
							[name, model, w.now],
						);
						const current =
							row ?? (await w.tx.get(`SELECT * FROM scoring_models WHERE name = $1`, [name]))!;
						if (row) w.emitAll(null, events);
						return {
							receipt: { changed: !!row },
							result: { model: toModel(current), changed: !!row, replayed: false },
						};
					},
					replay: async (r, w) => ({
						model: toModel(
							(await w.tx.get(`SELECT * FROM scoring_models WHERE name = $1`, [name]))!,
						),
						changed: r.changed,
						replayed: true,
					}),
				};
			},
		);
	}

	async loadScoringModel(name: string): Promise<ScoringModelRecord | null> {
		const modelName = v.text(name, 'name', LIMITS.name);
		const row = await this.core.read((tx) =>
			tx.get(`SELECT * FROM scoring_models WHERE name = $1`, [modelName]),
		);
		return row ? toModel(row) : null;
	}

	async keepAnswer(
		input: KeepAnswerInput,
	): Promise<{ answer: Record<string, unknown>; replayed: boolean }> {
		inputObject(input, 'keepAnswer');
		const programId = programIdOf(input);
		const operation = v.text(input.operation, 'operation', 64);
		const key = v.text(input.key, 'key', LIMITS.key);
		const answer = v.jsonObject(input.answer, 'answer');
		const where = [programId, `answer:${operation}`, key];
		return this.core.write(async (w) => {
			// The first answer stays: a racing or later copy of the request gets it back.
			const inserted = await w.tx.get(
				`INSERT INTO idempotency_keys (program_id, operation, idem_key, fingerprint, receipt, created_at) VALUES ($1, $2, $3, NULL, $4, $5) ON CONFLICT DO NOTHING RETURNING receipt`,
				[...where, answer, w.now],
			);
			if (inserted)
				return { answer: JSON.parse(answer) as Record<string, unknown>, replayed: false };
			const row = await w.tx.get(
				`SELECT receipt FROM idempotency_keys WHERE program_id = $1 AND operation = $2 AND idem_key = $3`,
				where,
			);
			return { answer: JSON.parse(s(row!.receipt)) as Record<string, unknown>, replayed: true };
		});
	}

	async keptAnswer(query: {
		programId: string;
		operation: string;
		key: string;
	}): Promise<Record<string, unknown> | null> {
		inputObject(query, 'keptAnswer');
		const programId = programIdOf(query);
		const where = [
			programId,
			`answer:${v.text(query.operation, 'operation', 64)}`,
			v.text(query.key, 'key', LIMITS.key),
		];
		return this.core.read(async (tx) => {
			const row = await tx.get(
				`SELECT receipt FROM idempotency_keys WHERE program_id = $1 AND operation = $2 AND idem_key = $3`,
				where,
			);
			return row && row.receipt !== null
				? (JSON.parse(s(row.receipt)) as Record<string, unknown>)
				: null;
		});
	}

	async schemaVersion(): Promise<number> {
		return this.core.read(async (tx) =>
			n((await tx.get(`SELECT COALESCE(MAX(version), 0) AS v FROM ledger_migrations`))!.v),
		);
	}
}
