/* The ledger contract on PostgreSQL, in a fresh random schema dropped afterwards, plus what only
 * PostgreSQL has: migrations racing across workers, the schema option, the credential test. */
import { afterAll, describe, expect, it } from 'vitest';
import { openPostgresLedger, testConnection, type LedgerStore } from '../../engine/ledger';
import { LATEST_VERSION, MIGRATIONS } from '../../engine/ledger/schema';
import { ledgerContract } from './contract';
import { outboxContract } from './outboxContract';
import {
	dropSchema,
	IN_CI,
	PG_URL,
	pgAvailability,
	pgConfig,
	pgQuery,
	randomSchema,
} from '../support/databases';

const { available, problem } = pgAvailability();
const schemas: string[] = [];
const fresh = () => {
	const schema = randomSchema();
	schemas.push(schema);
	return schema;
};

afterAll(async () => {
	if (available) await Promise.all(schemas.map(dropSchema));
});

describe.skipIf(!available && !IN_CI)('PostgreSQL ledger', () => {
	if (!available) {
		it('reaches PostgreSQL (required under CI=true)', () => {
			throw new Error(`PostgreSQL is unreachable at ${PG_URL}: ${problem}`);
		});
		return;
	}

	describe('contract', () => {
		const schema = fresh();
		ledgerContract({
			open: (now) => openPostgresLedger(pgConfig(schema), { now }),
			openAgain: (now) => openPostgresLedger(pgConfig(schema), { now }),
		});
	});

	describe('message outbox contract', () => {
		const schema = fresh();
		outboxContract({
			open: (now) => openPostgresLedger(pgConfig(schema), { now }),
			openAgain: (now) => openPostgresLedger(pgConfig(schema), { now }),
		});
	});

	describe('migrations and schema', () => {
		it('migrates once when several workers start at the same moment', async () => {
			const schema = fresh();
			const ledgers: LedgerStore[] = await Promise.all(
				Array.from({ length: 6 }, () => openPostgresLedger(pgConfig(schema))),
			);
			try {
				expect(await Promise.all(ledgers.map((l) => l.schemaVersion()))).toEqual(
					Array(6).fill(LATEST_VERSION),
				);
				const rows = await pgQuery<{ version: number }>(
					schema,
					'SELECT version FROM ledger_migrations ORDER BY version',
				);
				expect(rows.map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version));
				await ledgers[0].ensureProgram({ id: 'kept' });
			} finally {
				await Promise.all(ledgers.map((l) => l.close()));
			}
			// Opening again later changes nothing and keeps the data.
			const again = await openPostgresLedger(pgConfig(schema));
			expect(await again.getProgram('kept')).not.toBeNull();
			await again.close();
		});

		it('keeps its tables in the chosen schema, out of public', async () => {
			const schema = fresh();
			const ledger = await openPostgresLedger(pgConfig(schema));
			await ledger.close();
			const tables = await pgQuery<{ table_schema: string }>(
				schema,
				`SELECT DISTINCT table_schema FROM information_schema.tables WHERE table_name = 'referrals'`,
			);
			expect(tables.map((t) => t.table_schema)).toContain(schema);
			await expect(
				openPostgresLedger({ ...pgConfig(schema), schema: 'Robert"); DROP' }),
			).rejects.toMatchObject({ code: 'invalid_schema', field: 'schema' });
		});

		it('tests a connection without throwing, and says where it failed', async () => {
			expect(await testConnection(pgConfig(fresh()))).toEqual({
				ok: true,
				message: expect.stringMatching(/^Connected: PostgreSQL \d+/),
			});
			const bad = await testConnection({
				backend: 'postgres',
				host: '127.0.0.1',
				port: 1,
				database: 'test',
				user: 'postgres',
				password: 's3cret-pw',
			});
			expect(bad.ok).toBe(false);
			expect(bad.message).toMatch(/could not reach the PostgreSQL ledger at 127\.0\.0\.1:1/);
			expect(bad.message).not.toContain('s3cret-pw');
		});
	});
});
