/* Ledger backends for node tests: a fresh PostgreSQL schema per test, dropped afterwards. */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export function pgTestUrl(): string | undefined {
	return process.env.LEDGER_TEST_PG_URL || (process.env.CI || process.env.PG_TESTS !== 'off' ? 'postgres://postgres@127.0.0.1:5432/test' : undefined);
}

export async function withPgSchema(): Promise<{ credential: Record<string, unknown>; cleanup: () => Promise<void> }> {
	const url = pgTestUrl()!;
	const schema = `rm_node_${randomBytes(6).toString('hex')}`;
	return {
		credential: { backend: 'postgres', connection: 'url', connectionStringSecret: url, schema },
		cleanup: async () => {
			const client = new pg.Client({ connectionString: url });
			await client.connect();
			await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
			await client.end();
		},
	};
}
