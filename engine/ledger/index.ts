/* Entry point for nodes: `openLedger(config)` returns a ledger shared by every execution in this
 * process (one SQLite connection or one PostgreSQL pool per configuration). */
import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';
import { EngineError } from '../shared/errors';
import type { SqlLedger } from './sqlLedger';
import { openPostgresLedger, testPostgres } from './postgres';
import { openSqliteLedger } from './sqlite';
import type { LedgerConfig, LedgerStore, OpenOptions } from './store';

export * from './store';
export { BatchConflict, BatchFallback, type BatchItem } from './core';
export { openSqliteLedger } from './sqlite';
export { openPostgresLedger } from './postgres';
export { allPages, pages } from './pages';

export const DEFAULT_SQLITE_FILE = 'referral-ledger.sqlite';

/** The zero-config ledger file in n8n's user folder (used when no credential is selected). */
export function defaultSqlitePath(userFolder: string): string {
	if (typeof userFolder !== 'string' || userFolder.trim() === '') {
		throw new EngineError(
			'required',
			'the n8n user folder is needed to place the SQLite ledger file',
			{ field: 'userFolder' },
		);
	}
	return join(userFolder, DEFAULT_SQLITE_FILE);
}

const cache = new Map<string, Promise<SqlLedger>>();

function checkConfig(config: LedgerConfig): LedgerConfig {
	if (config === null || typeof config !== 'object')
		throw new EngineError(
			'invalid_type',
			'ledger config must be an object with backend sqlite or postgres',
			{ field: 'backend' },
		);
	if (config.backend === 'sqlite') {
		if (typeof config.path !== 'string' || config.path.trim() === '')
			throw new EngineError('required', 'path is required for the SQLite ledger', {
				field: 'path',
			});
		return { ...config, path: config.path === ':memory:' ? config.path : resolve(config.path) };
	}
	if (config.backend === 'postgres') return config;
	throw new EngineError('invalid_value', 'backend must be sqlite or postgres', {
		field: 'backend',
	});
}

/** Hashed so the cache never holds a password in its keys. */
function cacheKey(config: LedgerConfig): string {
	const sorted = Object.fromEntries(Object.entries(config).sort(([a], [b]) => (a < b ? -1 : 1)));
	return createHash('sha256').update(JSON.stringify(sorted)).digest('hex');
}

/** Opens the ledger for this configuration, or returns the one this process already opened. */
export async function openLedger(
	config: LedgerConfig,
	options: OpenOptions = {},
): Promise<LedgerStore> {
	const checked = checkConfig(config);
	const key = cacheKey(checked);
	let entry = cache.get(key);
	if (entry) {
		const ledger = await entry.catch(() => undefined);
		if (ledger && !ledger.closed) return ledger;
		if (cache.get(key) === entry) cache.delete(key);
		entry = undefined;
	}
	entry =
		checked.backend === 'sqlite'
			? openSqliteLedger(checked, options)
			: openPostgresLedger(checked, options);
	cache.set(key, entry);
	entry.catch(() => {
		if (cache.get(key) === entry) cache.delete(key);
	});
	return entry;
}

/** Closes every cached ledger (tests, shutdown). */
export async function closeAllLedgers(): Promise<void> {
	const entries = [...cache.values()];
	cache.clear();
	await Promise.all(entries.map(async (entry) => (await entry.catch(() => undefined))?.close()));
}

export interface ConnectionTestResult {
	ok: boolean;
	message: string;
}

/** For the credential test: can we reach and use this ledger? Never throws. */
export async function testConnection(config: LedgerConfig): Promise<ConnectionTestResult> {
	try {
		const checked = checkConfig(config);
		if (checked.backend === 'postgres')
			return { ok: true, message: `Connected: ${await testPostgres(checked)}` };
		const ledger = await openLedger(checked);
		return {
			ok: true,
			message: `Opened the SQLite ledger (schema version ${await ledger.schemaVersion()})`,
		};
	} catch (error) {
		return { ok: false, message: (error as Error).message };
	}
}
