/* Get Stats by aggregate queries (stats.ts) answers exactly like the row-by-row version it replaced
 * (statsReference.ts), on random ledgers, on both backends: period edges (referrals touched and
 * participants and rewards created on the first and last millisecond of a period), reversed
 * referrals and rewards, several currencies (0, 2 and 3 decimals), orders without an amount,
 * re-qualified referrals (the latest qualifying order counts), points. */
import { DatabaseSync } from 'node:sqlite';
import { afterAll, describe, expect, it } from 'vitest';
import { openPostgresLedger, openSqliteLedger, type LedgerStore } from '../../../engine/ledger';
import {
	DDL_TYPES,
	LATEST_VERSION,
	MIGRATIONS,
	MIGRATIONS_TABLE,
} from '../../../engine/ledger/schema';
import { referralLeaderboard, referralStats } from '../../../engine/referrals/stats';
import { referralStatsReference } from '../../../engine/referrals/statsReference';
import { periodWindow, type Period } from '../../../engine/shared/periods';
import {
	dropSchema,
	pgAvailability,
	pgConfig,
	pgQuery,
	randomSchema,
	tempDir,
} from '../../support/databases';

const DAY = 86_400_000;
/** Mid-month instant; the generated times cluster around this month's and year's edges. */
const AT = Date.UTC(2026, 5, 15, 10);
const PERIODS: Period[] = ['lifetime', 'year', 'month', 'week', 'day'];

/** Small deterministic PRNG (mulberry32) so a failing seed can be replayed. */
function rng(seed: number): () => number {
	let a = seed >>> 0;
	return () => {
		a = (a + 0x6d2b79f5) >>> 0;
		let t = a;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

const pg = pgAvailability();
const cleanups: Array<() => Promise<void> | void> = [];
afterAll(async () => {
	for (const c of cleanups) await c();
});

type Opened = {
	ledger: LedgerStore;
	setNow: (t: number) => void;
	raw: (sql: string) => Promise<void>;
};

const backends: Array<[string, () => Promise<Opened>, boolean]> = [
	[
		'SQLite',
		async () => {
			let now = AT;
			const { dir, remove } = tempDir();
			const path = `${dir}/ledger.sqlite`;
			const ledger = await openSqliteLedger({ backend: 'sqlite', path }, { now: () => now });
			cleanups.push(async () => {
				await ledger.close();
				remove();
			});
			return {
				ledger,
				setNow: (t) => (now = t),
				raw: (sql) => {
					const db = new DatabaseSync(path);
					db.exec(sql);
					db.close();
					return Promise.resolve();
				},
			};
		},
		false,
	],
	[
		'PostgreSQL',
		async () => {
			let now = AT;
			const schema = randomSchema('stats_sql');
			const ledger = await openPostgresLedger(pgConfig(schema), { now: () => now });
			cleanups.push(async () => {
				await ledger.close();
				await dropSchema(schema);
			});
			return {
				ledger,
				setNow: (t) => (now = t),
				raw: async (sql) => void (await pgQuery(schema, sql)),
			};
		},
		!pg.available,
	],
];

/** An instant near an edge of the periods around AT: exactly on it, a millisecond either side, or anywhere in the year. */
function instant(random: () => number): number {
	const edges = [
		...(['month', 'year', 'week', 'day'] as const).flatMap((p) => {
			const w = periodWindow(p, AT);
			return [w.start!, w.end!];
		}),
		AT,
	];
	if (random() < 0.6) {
		const edge = edges[Math.floor(random() * edges.length)];
		return edge + [-1, 0, 1, -DAY, DAY][Math.floor(random() * 5)];
	}
	return AT - Math.floor(random() * 500 * DAY) + Math.floor(random() * 40 * DAY);
}

const pick = <T>(random: () => number, list: readonly T[]): T =>
	list[Math.floor(random() * list.length)];

async function randomLedger(opened: Opened, seed: number, programId: string): Promise<void> {
	const { ledger, setNow } = opened;
	const random = rng(seed);
	setNow(instant(random));
	await ledger.ensureProgram({ id: programId });
	const people: number[] = [];
	const enrol = async () => {
		setNow(instant(random));
		const p = (
			await ledger.enrolParticipant({ programId, email: `p${people.length}-${seed}@example.com` })
		).participant;
		people.push(p.id);
		return p.id;
	};
	for (let i = 0; i < 4; i++) await enrol();
	const referrals = 10 + Math.floor(random() * 25);
	let order = 0;
	for (let i = 0; i < referrals; i++) {
		const referrerId = pick(random, people.slice(0, 4 + Math.floor(random() * people.length)));
		const refereeId = await enrol();
		setNow(instant(random));
		const { referral } = await ledger.recordReferral({
			programId,
			referrerId,
			refereeId,
			touchedAt: instant(random),
		});
		const fate = random();
		if (fate < 0.15) {
			await ledger.transitionReferral({
				programId,
				referralId: referral.id,
				from: referral.status,
				to: pick(random, ['rejected', 'flagged', 'approved'] as const),
			});
			continue;
		}
		if (fate < 0.25) continue;
		const qualify = async () => {
			const currency = pick(random, ['EUR', 'EUR', 'USD', 'JPY', 'KWD', undefined]);
			const amount =
				currency === undefined || random() < 0.1
					? undefined
					: currency === 'JPY'
						? Math.floor(random() * 20_000)
						: currency === 'KWD'
							? Math.floor(random() * 100_000) / 1000
							: Math.floor(random() * 100_000) / 100;
			// Sign-up sometimes after the order's time: time to convert counts it as 0.
			const occurredAt = random() < 0.1 ? referral.touchedAt - 5 : instant(random);
			await ledger.qualifyReferral({
				programId,
				referralId: referral.id,
				orderId: `o${order++}`,
				amount,
				currency: amount === undefined ? undefined : currency,
				fromStatuses: ['pending', 'recorded', 'approved', 'reversed'],
				occurredAt,
			});
		};
		await qualify();
		// Rewards: cash in one or two currencies, points, some reversed.
		const rewards = Math.floor(random() * 3);
		for (let r = 0; r < rewards; r++) {
			setNow(instant(random));
			const kind = pick(random, ['cash', 'cash', 'points', 'coupon'] as const);
			const { reward } = await ledger.awardReward({
				programId,
				recipientId: referrerId,
				referralId: referral.id,
				side: 'referrer',
				rule: `rule${r}`,
				kind,
				amount:
					kind === 'points'
						? 100
						: kind === 'coupon'
							? undefined
							: pick(random, [5, 10.5, 0.1, 0.2, 7.25]),
				currency:
					kind === 'cash' ? (seed % 3 === 0 ? pick(random, ['EUR', 'USD']) : 'EUR') : undefined,
				points: kind === 'points' ? { delta: 100, reason: 'award' } : undefined,
				status: 'approved',
			});
			if (random() < 0.2)
				await ledger.transitionReward({
					programId,
					rewardId: reward.id,
					from: 'approved',
					to: 'reversed',
				});
		}
		if (random() < 0.25) {
			await ledger.transitionReferral({
				programId,
				referralId: referral.id,
				from: 'qualified',
				to: 'reversed',
			});
			if (random() < 0.4) await qualify();
		}
	}
	setNow(AT);
}

/** An order stored before amounts were checked (20.005 has too many decimals in every currency
 * used here), in the conversion, on the referral and in its event: left out with a warning. */
async function rogueOrder(opened: Opened, programId: string): Promise<void> {
	const referrals = await opened.ledger.listReferrals({
		programId,
		status: 'qualified',
		limit: 100,
	});
	const conversions = await opened.ledger.listConversions({
		programId,
		referralIds: referrals.map((r) => r.id),
		qualifiedOnly: true,
	});
	const order = conversions.reverse().find((c) => c.amount !== null);
	if (!order) return;
	await opened.raw(`UPDATE conversions SET amount = 20.005 WHERE id = ${order.id}`);
	await opened.raw(`UPDATE referrals SET order_amount = 20.005 WHERE id = ${order.referralId}`);
	await opened.raw(
		`UPDATE outbox SET payload = REPLACE(payload, '"amount":${JSON.stringify(order.amount)},', '"amount":20.005,') WHERE program_id = '${programId}' AND type = 'referral.qualified' AND payload LIKE '%"referralId":${order.referralId},%'`,
	);
}

describe.each(backends)('Get Stats by aggregate queries (%s)', (name, open, skip) => {
	it.skipIf(skip)(
		'answers like the row-by-row reference on random ledgers, every period',
		async () => {
			const opened = await open();
			let rogueSeen = 0;
			const seeds = Array.from({ length: 12 }, (_, i) => 1000 + i * 7919);
			for (const seed of seeds) {
				const programId = `prop${seed}`;
				await randomLedger(opened, seed, programId);
				if (seed % 2 === 0) await rogueOrder(opened, programId);
				for (const period of PERIODS) {
					for (const at of [
						AT,
						periodWindow('month', AT).start!,
						periodWindow('year', AT).end! - 1,
					]) {
						const input = { programId, period, at };
						const expected = await referralStatsReference(opened.ledger, input);
						const actual = await referralStats(opened.ledger, input);
						expect(
							actual,
							`${name} seed ${seed} ${period} at ${new Date(at).toISOString()}`,
						).toEqual(expected);
						if (period === 'lifetime' && expected.warnings.some((w) => w.includes('not valid')))
							rogueSeen++;
					}
				}
				const board = await referralLeaderboard(opened.ledger, {
					programId,
					by: 'points',
					period: 'month',
					at: AT,
					limit: 3,
				});
				expect(board.every((l, i) => i === 0 || l.score <= board[i - 1].score)).toBe(true);
			}
			// The rogue orders were seen (the test compares a case that has a warning).
			expect(rogueSeen).toBeGreaterThan(0);
		},
		240_000,
	);
});

describe('schema version 8 on an older SQLite ledger', () => {
	it('fills the referrals’ qualifying order from their latest qualifying conversion', async () => {
		const { dir, remove } = tempDir();
		cleanups.push(remove);
		const path = `${dir}/v6.sqlite`;
		const db = new DatabaseSync(path);
		db.exec(MIGRATIONS_TABLE);
		for (const migration of MIGRATIONS.filter((m) => m.version <= 6)) {
			for (const statement of migration.statements(DDL_TYPES.sqlite)) db.exec(statement);
			db.prepare('INSERT INTO ledger_migrations (version, name, applied_at) VALUES (?, ?, 0)').run(
				migration.version,
				migration.name,
			);
		}
		db.exec(`INSERT INTO programs VALUES ('p', 'p', '{}', 0, 0);
			INSERT INTO participants (id, program_id, metadata, created_at, updated_at) VALUES (1, 'p', '{}', 0, 0), (2, 'p', '{}', 0, 0), (3, 'p', '{}', 0, 0);
			INSERT INTO referrals (id, program_id, referrer_id, referee_id, touched_at, status, reasons, metadata, qualified_at, created_at, updated_at)
				VALUES (1, 'p', 1, 2, 10, 'qualified', '[]', '{}', 20, 0, 0), (2, 'p', 1, 3, 10, 'pending', '[]', '{}', NULL, 0, 0);
			INSERT INTO conversions (id, program_id, referral_id, order_id, amount, currency, occurred_at, qualified, created_at)
				VALUES (1, 'p', 1, 'a', 10, 'EUR', 20, 1, 0), (2, 'p', 1, 'b', 25.5, 'USD', 20, 1, 0), (3, 'p', 1, 'c', 99, 'EUR', 20, 0, 0),
				(4, 'p', 2, 'd', 7, 'EUR', 20, 0, 0);`);
		db.close();
		const ledger = await openSqliteLedger({ backend: 'sqlite', path });
		cleanups.unshift(() => ledger.close());
		expect(await ledger.schemaVersion()).toBe(LATEST_VERSION);
		const totals = await ledger.referralStatsTotals({ programId: 'p' });
		expect(totals.orders).toEqual([
			{ currency: 'USD', orders: 1, invalid: 0, netOrders: 1, netMinor: 2550 },
		]);
		expect(totals.byStatus).toEqual({ qualified: 1, pending: 1 });
	});
});
