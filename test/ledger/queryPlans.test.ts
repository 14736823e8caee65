/* Issue #18: every write path answers from an index, whatever the size of the program. Runs the real
 * operations (enrol, record a referral with every fraud check on, qualify, evaluate and award,
 * reverse, a page of referrals) on a SQLite ledger seeded with 20,000 referrals, captures every
 * statement they prepare, and asks SQLite for each one's plan, without statistics (the ledger never
 * runs ANALYZE) and after ANALYZE: none may scan a program's referrals or participants, nor walk
 * them on program_id alone. */
import { DatabaseSync } from 'node:sqlite';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { closeAllLedgers, openSqliteLedger } from '../../engine/ledger';
import { saveReferralProgram } from '../../engine/referrals';
import { ReferralService } from '../../engine/refunds';
import { RewardService } from '../../engine/rewards';
import { sampleRewardProgram } from '../fixtures/sampleRewardProgram';
import { tempDir } from '../support/databases';

const tmp = tempDir();
afterAll(async () => {
	await closeAllLedgers();
	tmp.remove();
});

const PROGRAM = 'plans';
const SIZE = 20_000;
const REFERRERS = 2_000;

function seed(db: DatabaseSync): void {
	const series = (count: number) =>
		`(WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM seq WHERE i + 1 < ${count}) SELECT i FROM seq)`;
	const t0 = Date.now() - 365 * 86_400_000;
	db.exec('BEGIN');
	db.exec(`INSERT INTO participants (id, program_id, email, metadata, created_at, updated_at)
		SELECT i + 1, '${PROGRAM}', 'r' || i || '@example.com', '{}', ${t0}, ${t0} FROM ${series(REFERRERS)}`);
	db.exec(`INSERT INTO participants (id, program_id, email, metadata, created_at, updated_at)
		SELECT ${REFERRERS} + i + 1, '${PROGRAM}', 'f' || i || '@example.org', '{}', ${t0}, ${t0} FROM ${series(SIZE)}`);
	// Half the sign-ups carry no ip or device hash (API callers often give none): NULL-heavy columns
	// are what tempts a planner with statistics away from the signal indexes.
	db.exec(`INSERT INTO referrals (id, program_id, referrer_id, referee_id, touched_at, ip_hash, device_hash, status, reasons, metadata, qualified_at, created_at, updated_at)
		SELECT i + 1, '${PROGRAM}', (i % ${REFERRERS}) + 1, ${REFERRERS} + i + 1, ${t0} + i * 1000,
			CASE WHEN i % 2 = 0 THEN 'ip' || (i % 500) END, CASE WHEN i % 2 = 0 THEN 'dev' || (i % 500) END,
			CASE WHEN i % 3 = 0 THEN 'qualified' ELSE 'pending' END, '[]', '{}',
			CASE WHEN i % 3 = 0 THEN ${t0} + i * 1000 END, ${t0}, ${t0}
		FROM ${series(SIZE)}`);
	db.exec('COMMIT');
}

/**
 * A plan that reads a program's referrals or participants without narrowing past program_id. A
 * keyset page walking (program, id) in order, with no sort, is bounded by its LIMIT: allowed.
 */
function wholeProgram(plan: string[]): boolean {
	return plan.some((line) => {
		if (/^SCAN (referrals|participants)\b/.test(line)) return true;
		const walk =
			/^SEARCH (referrals|participants) USING INDEX \1_program \(program_id=\?( AND id>\?)?\)$/;
		if (walk.test(line) && !plan.some((l) => l.includes('TEMP B-TREE'))) return false;
		return narrowedByProgramOnly(line);
	});
}

function narrowedByProgramOnly(line: string): boolean {
	const search = /^SEARCH (referrals|participants) USING (?:COVERING )?INDEX \w+ \((.*)\)$/.exec(
		line,
	);
	if (!search) return false;
	// Narrowed: an equality on something besides program_id (a range alone on touched_at or referee_id is not).
	const terms = search[2].split(' AND ').filter((t) => !t.startsWith('program_id='));
	return !terms.some((t) => /^[a-z_]+=\?$/.test(t) || /^ANY\(/.test(t));
}

describe('SQLite query plans of the write paths (issue #18)', () => {
	it('answer every look-up from an index, with and without ANALYZE', async () => {
		const path = join(tmp.dir, 'plans.sqlite');
		const ledger = await openSqliteLedger({ backend: 'sqlite', path });
		await ledger.ensureProgram({ id: PROGRAM });
		const raw = new DatabaseSync(path);
		seed(raw);
		await saveReferralProgram(ledger, { programId: PROGRAM });
		const referrals = await ReferralService.open(ledger, PROGRAM);
		const rewards = new RewardService(ledger, sampleRewardProgram(PROGRAM));
		// The same with caps (their usage read from reward_cap_usage, migration 13), for the second referral.
		const capped = new RewardService(ledger, {
			...sampleRewardProgram(PROGRAM),
			timeZone: 'Europe/Berlin',
			caps: [{ id: 'month', period: 'month', unit: 'points', maxValue: 1_000_000 }],
		});

		const captured = new Set<string>();
		const prepare = DatabaseSync.prototype.prepare;
		const spy = vi.spyOn(DatabaseSync.prototype, 'prepare').mockImplementation(function (
			this: DatabaseSync,
			sql: string,
		) {
			captured.add(sql);
			return prepare.call(this, sql);
		});
		try {
			const { participant } = await referrals.enrol({ email: 'new-referrer@example.com' });
			// A referrer with history (seeded referrer 1), and the new one by code.
			for (const [i, by] of [{ referrerId: 1 }, { referralCode: participant.code! }].entries()) {
				const { referral } = await referrals.recordReferral({
					email: `new-friend-${i}@example.org`,
					...by,
					ip: `203.0.113.${i + 7}`,
					userAgent: 'Browser/1',
					device: `device-${i}`,
				});
				expect(referral).not.toBeNull();
				const id = referral!.id;
				expect(
					(
						await referrals.qualify({
							referralId: id,
							orderId: `o-${i}`,
							amount: 40,
							currency: 'EUR',
						})
					).qualified,
				).toBe(true);
				expect(
					(await (i === 0 ? rewards : capped).evaluateReferral(id)).rewards.length,
				).toBeGreaterThan(0);
				expect((await referrals.reverse({ referralId: id })).referral.status).toBe('reversed');
			}
			const page = await ledger.listReferrals({ programId: PROGRAM, limit: 50 });
			await ledger.listReferrals({ programId: PROGRAM, afterId: page[49].id, limit: 50 });
		} finally {
			spy.mockRestore();
		}

		const statements = [...captured].filter((sql) => /^\s*(SELECT|UPDATE|DELETE|WITH)/i.test(sql));
		expect(statements.length).toBeGreaterThan(20);
		const plan = (sql: string) => {
			const params = (sql.match(/\?\d+/g) ?? []).reduce(
				(m, p) => Math.max(m, Number(p.slice(1))),
				0,
			);
			return (
				raw.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...Array<number>(params).fill(1)) as Array<{
					detail: string;
				}>
			).map((r) => r.detail);
		};
		for (const stats of ['without statistics', 'after ANALYZE']) {
			if (stats === 'after ANALYZE') raw.exec('ANALYZE');
			const offending = statements
				.map((sql) => ({ sql: sql.replace(/\s+/g, ' '), plan: plan(sql) }))
				.filter((s) => wholeProgram(s.plan));
			expect(offending, stats).toEqual([]);
			// The keyset page walks (program, id) (or the ids, with one program), from the cursor: no sort of the program per page.
			const pageSql = statements.find((s) =>
				/^SELECT \* FROM referrals WHERE program_id = \?1 AND id > \?2 ORDER BY id LIMIT/.test(s),
			);
			expect(pageSql, 'the second page query').toBeDefined();
			const pagePlan = plan(pageSql!).join(' | ');
			expect(pagePlan, stats).not.toContain('TEMP B-TREE');
			expect(pagePlan, stats).toMatch(
				/referrals_program \(program_id=\? AND id>\?\)$|INTEGER PRIMARY KEY \(rowid>\?\)$/,
			);
			// A cap's usage: index ranges of the referrer's buckets of one span, never their history.
			const capSql = statements.filter((s) => /FROM reward_cap_usage WHERE/.test(s));
			expect(capSql.length, 'the cap usage read').toBeGreaterThan(0);
			for (const sql of capSql)
				for (const line of plan(sql).filter((l) => l.includes('reward_cap_usage')))
					expect(line, stats).toMatch(
						/^SEARCH reward_cap_usage USING INDEX \w+ \(program_id=\? AND participant_id=\? AND span=\? AND bucket>\? AND bucket<\?\)$/,
					);
		}
		raw.close();
	});
});
