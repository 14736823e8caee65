/* The ledger contract on SQLite (node:sqlite), plus what only SQLite has: the file, WAL, the cache. */
import { DatabaseSync } from 'node:sqlite';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
	closeAllLedgers,
	defaultSqlitePath,
	openLedger,
	openSqliteLedger,
	testConnection,
} from '../../engine/ledger';
import {
	DDL_TYPES,
	LATEST_VERSION,
	MIGRATIONS,
	MIGRATIONS_TABLE,
} from '../../engine/ledger/schema';
import { ledgerContract } from './contract';
import { outboxContract } from './outboxContract';
import { tempDir } from '../support/databases';

const tmp = tempDir();
afterAll(async () => {
	await closeAllLedgers();
	tmp.remove();
});

describe('SQLite ledger: contract', () => {
	const path = join(tmp.dir, 'contract.sqlite');
	ledgerContract({
		open: (now) => openSqliteLedger({ backend: 'sqlite', path }, { now }),
		openAgain: (now) => openSqliteLedger({ backend: 'sqlite', path }, { now }),
	});
});

describe('SQLite ledger: message outbox contract', () => {
	const path = join(tmp.dir, 'outbox.sqlite');
	outboxContract({
		open: (now) => openSqliteLedger({ backend: 'sqlite', path }, { now }),
		openAgain: (now) => openSqliteLedger({ backend: 'sqlite', path }, { now }),
	});
});

describe('SQLite ledger: the file', () => {
	it('rebuilds the message log for the outbox (migration 4) keeping every row, id and status', async () => {
		const path = join(tmp.dir, 'v3.sqlite');
		const db = new DatabaseSync(path);
		db.exec(MIGRATIONS_TABLE);
		for (const migration of MIGRATIONS.filter((m) => m.version <= 3)) {
			for (const statement of migration.statements(DDL_TYPES.sqlite)) db.exec(statement);
			db.prepare('INSERT INTO ledger_migrations (version, name, applied_at) VALUES (?, ?, 0)').run(
				migration.version,
				migration.name,
			);
		}
		const insert = db.prepare(
			`INSERT INTO messages (id, idempotency_key, channel, recipient, status, provider_id, attempts, created_at, updated_at) VALUES (?, ?, 'email', ?, ?, ?, 1, 5, 6)`,
		);
		insert.run(7, 'sent-before', 'ann@example.com', 'sent', '<p1@x>');
		insert.run(9, 'reserved-before', 'bob@example.com', 'reserved', null);
		db.close();
		const ledger = await openSqliteLedger({ backend: 'sqlite', path });
		expect(await ledger.schemaVersion()).toBe(LATEST_VERSION);
		expect(await ledger.getMessage('sent-before')).toMatchObject({
			id: 7,
			status: 'sent',
			providerId: '<p1@x>',
			recipient: 'ann@example.com',
			createdAt: 5,
			updatedAt: 6,
			topic: null,
			dueAt: null,
		});
		expect(await ledger.getMessage('reserved-before')).toMatchObject({
			id: 9,
			status: 'reserved',
			claimedUntil: null,
		});
		// A reservation made before the upgrade keeps its old meaning: never taken over unless asked.
		expect(
			(
				await ledger.reserveMessage({
					idempotencyKey: 'reserved-before',
					channel: 'email',
					recipient: 'bob@example.com',
				})
			).reserved,
		).toBe(false);
		await ledger.ensureProgram({ id: 'p' });
		const { participant } = await ledger.enrolParticipant({
			programId: 'p',
			email: 'cy@example.com',
			messages: [
				{ key: 'welcome-cy', channel: 'email', recipient: 'cy@example.com', topic: 'welcome' },
			],
		});
		expect(await ledger.getMessage('welcome-cy')).toMatchObject({
			status: 'owed',
			participantId: participant.id,
		});
		expect((await ledger.getMessage('welcome-cy'))!.id).toBeGreaterThan(9);
		await ledger.close();
	});

	it('creates the file and its folder, in WAL mode, with every migration recorded once', async () => {
		const path = join(tmp.dir, 'nested', 'folder', 'ledger.sqlite');
		const ledger = await openSqliteLedger({ backend: 'sqlite', path });
		await ledger.ensureProgram({ id: 'default' });
		await ledger.close();
		const reopened = await openSqliteLedger({ backend: 'sqlite', path });
		expect((await reopened.getProgram('default'))?.id).toBe('default');
		await reopened.close();
		const db = new DatabaseSync(path);
		try {
			expect(db.prepare('PRAGMA journal_mode').get()).toEqual({ journal_mode: 'wal' });
			const versions = db
				.prepare('SELECT version FROM ledger_migrations ORDER BY version')
				.all()
				.map((r) => r.version);
			expect(versions).toEqual(MIGRATIONS.map((m) => m.version));
		} finally {
			db.close();
		}
	});

	it('refuses an existing file that is not a ledger and leaves it untouched (issue #14)', async () => {
		// Another application's database: no WAL switch, no ledger tables added.
		const other = join(tmp.dir, 'crm.sqlite');
		const db = new DatabaseSync(other);
		db.exec(
			`CREATE TABLE contacts (id INTEGER PRIMARY KEY, email TEXT); INSERT INTO contacts (email) VALUES ('ann@example.com')`,
		);
		db.close();
		const before = readFileSync(other);
		await expect(openSqliteLedger({ backend: 'sqlite', path: other })).rejects.toMatchObject({
			code: 'not_a_ledger',
			field: 'path',
			message: expect.stringContaining('contacts'),
		});
		expect(readFileSync(other).equals(before)).toBe(true);
		expect(existsSync(`${other}-wal`)).toBe(false);
		const check = new DatabaseSync(other);
		try {
			expect(check.prepare('PRAGMA journal_mode').get()).toEqual({ journal_mode: 'delete' });
			expect(
				check
					.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`)
					.all()
					.map((r) => r.name),
			).toEqual(['contacts']);
		} finally {
			check.close();
		}
		// A file that is not a database at all.
		const notes = join(tmp.dir, 'notes.txt');
		writeFileSync(notes, 'shopping list: milk, eggs\n');
		await expect(openSqliteLedger({ backend: 'sqlite', path: notes })).rejects.toMatchObject({
			code: 'not_a_ledger',
		});
		expect(readFileSync(notes, 'utf8')).toBe('shopping list: milk, eggs\n');
		// An empty file is a new ledger.
		const empty = join(tmp.dir, 'empty.sqlite');
		writeFileSync(empty, '');
		const fresh = await openSqliteLedger({ backend: 'sqlite', path: empty });
		await fresh.close();
	});

	it('puts the default file in the n8n user folder', () => {
		expect(defaultSqlitePath('/home/node/.n8n')).toBe(
			join('/home/node/.n8n', 'referral-ledger.sqlite'),
		);
		expect(() => defaultSqlitePath('')).toThrow(/user folder/);
	});

	it('shares one ledger per file across executions, and reopens after a close', async () => {
		const path = join(tmp.dir, 'cached.sqlite');
		const [a, b] = await Promise.all([
			openLedger({ backend: 'sqlite', path }),
			openLedger({ backend: 'sqlite', path: join(tmp.dir, '.', 'cached.sqlite') }),
		]);
		expect(a).toBe(b);
		await a.close();
		const c = await openLedger({ backend: 'sqlite', path });
		expect(c).not.toBe(a);
		expect(await c.schemaVersion()).toBe(LATEST_VERSION);
	});

	it('tests a connection without throwing', async () => {
		const ok = await testConnection({ backend: 'sqlite', path: join(tmp.dir, 'probe.sqlite') });
		expect(ok).toEqual({ ok: true, message: expect.stringContaining('schema version') });
		expect(existsSync(join(tmp.dir, 'probe.sqlite'))).toBe(true);
		writeFileSync(join(tmp.dir, 'a-file'), '');
		const bad = await testConnection({
			backend: 'sqlite',
			path: join(tmp.dir, 'a-file', 'ledger.sqlite'),
		});
		expect(bad.ok).toBe(false);
		expect(bad.message).toMatch(/could not open the SQLite ledger/);
	});

	it('does not surface SQLITE_BUSY while another connection holds the write lock', async () => {
		const path = join(tmp.dir, 'busy.sqlite');
		const ledger = await openSqliteLedger({ backend: 'sqlite', path });
		await ledger.ensureProgram({ id: 'p' });
		const holder = new DatabaseSync(path);
		holder.exec('BEGIN IMMEDIATE');
		const started = Date.now();
		const pending = ledger.enrolParticipant({ programId: 'p', email: 'wait@example.com' });
		setTimeout(() => holder.exec('COMMIT'), 400);
		const result = await pending;
		expect(result.created).toBe(true);
		expect(Date.now() - started).toBeGreaterThanOrEqual(350);
		holder.close();
		await ledger.close();
	});
});
