/* Get Stats by aggregate queries (stats.ts) answers exactly like the row-by-row version it replaced
 * (statsReference.ts), on random ledgers, on both backends: period edges (referrals touched and
 * participants and rewards created on the first and last millisecond of a period), reversed
 * referrals and rewards, several currencies (0, 2 and 3 decimals), orders without an amount,
 * re-qualified referrals (the latest qualifying order counts), points. */
import { DatabaseSync } from 'node:sqlite';
import { afterAll, describe, expect, it } from 'vitest';
import { openPostgresLedger, openSqliteLedger, type LedgerStore } from '../../../engine/ledger';
import type { BatchItem } from '../../../engine/ledger/core';
import {
	DDL_TYPES,
	LATEST_VERSION,
	MIGRATIONS,
	MIGRATIONS_TABLE,
} from '../../../engine/ledger/schema';
import { clickRollupBackfill } from '../../../engine/ledger/tables/clickRollups';
import { rollupBackfill } from '../../../engine/ledger/tables/rollups';
import { referralLeaderboard, referralStats } from '../../../engine/referrals/stats';
import { referralStatsReference } from '../../../engine/referrals/statsReference';
import { periodWindow, type Period, type WindowOptions } from '../../../engine/shared/periods';
import {
	dropSchema,
	pgAvailability,
	pgConfig,
	pgQuery,
	randomSchema,
	tempDir,
} from '../../support/databases';
import { createRandom as rng } from '../../../engine/scoring/random';

const DAY = 86_400_000;
/** Mid-month instant; the generated times cluster around this month's and year's edges. */
const AT = Date.UTC(2026, 5, 15, 10);
const PERIODS: Period[] = ['lifetime', 'year', 'month', 'week', 'day'];
/** UTC calendar periods (whole UTC days, months and years: rollups only), zones whose periods
 * start mid-UTC-day (+5:30, −5/−4 with DST: rollups plus partial-day edges) and rolling windows. */
const WINDOWS: Array<WindowOptions | undefined> = [
	undefined,
	{ timeZone: 'Asia/Kolkata' },
	{ timeZone: 'America/New_York' },
	{ mode: 'rolling' },
];

/** Small deterministic PRNG (mulberry32) so a failing seed can be replayed. */
const pg = pgAvailability();
const cleanups: Array<() => Promise<void> | void> = [];
afterAll(async () => {
	for (const c of cleanups) await c();
});

type Opened = {
	backend: 'sqlite' | 'postgres';
	ledger: LedgerStore;
	setNow: (t: number) => void;
	raw: (sql: string) => Promise<void>;
	rows: (sql: string) => Promise<Array<Record<string, unknown>>>;
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
				backend: 'sqlite',
				ledger,
				setNow: (t) => (now = t),
				raw: (sql) => {
					const db = new DatabaseSync(path);
					db.exec(sql);
					db.close();
					return Promise.resolve();
				},
				rows: (sql) => {
					const db = new DatabaseSync(path);
					const rows = db.prepare(sql).all();
					db.close();
					return Promise.resolve(rows);
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
				backend: 'postgres',
				ledger,
				setNow: (t) => (now = t),
				raw: async (sql) => void (await pgQuery(schema, sql)),
				rows: (sql) => pgQuery(schema, sql),
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

/** Thrown by an item of a batch after its writes, to have them undone. */
class Undone extends Error {}

/**
 * A random program's ledger; with `item` (a batch's, LedgerStore.batch), each referral's writes are
 * one item of it, and some of them fail at their end.
 */
async function randomLedger(
	opened: Opened,
	seed: number,
	programId: string,
	item?: BatchItem,
): Promise<void> {
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
	// Tracked link clicks (some seeds none): channels, code statuses, repeat visitors, referrers.
	const clicks: number[] = [];
	const clickCount = seed % 4 === 1 ? 0 : 5 + Math.floor(random() * 30);
	for (let i = 0; i < clickCount; i++)
		clicks.push(await randomClick(opened, random, programId, people));
	const referrals = 10 + Math.floor(random() * 25);
	let order = 0;
	for (let i = 0; i < referrals; i++) {
		// In a batch, some referrals are an item that fails after all its writes: they leave nothing.
		const undone = item !== undefined && random() < 0.15;
		const enrolled = people.length;
		const steps = async () => {
			const referrerId = pick(random, people.slice(0, 4 + Math.floor(random() * people.length)));
			const refereeId = await enrol();
			setNow(instant(random));
			const { referral } = await ledger.recordReferral({
				programId,
				referrerId,
				refereeId,
				touchedAt: instant(random),
				clickId: clicks.length > 0 && random() < 0.5 ? pick(random, clicks) : undefined,
			});
			const fate = random();
			if (fate < 0.15) {
				await ledger.transitionReferral({
					programId,
					referralId: referral.id,
					from: referral.status,
					to: pick(random, ['rejected', 'flagged', 'approved'] as const),
				});
				return;
			}
			if (fate < 0.25) return;
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
			const given: Array<{ id: number; status: 'approved' | 'reversed'; amount: number | null }> =
				[];
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
				const reversed = random() < 0.2;
				if (reversed)
					await ledger.transitionReward({
						programId,
						rewardId: reward.id,
						from: 'approved',
						to: 'reversed',
					});
				given.push({
					id: reward.id,
					status: reversed ? 'reversed' : 'approved',
					amount: reward.amount,
				});
			}
			const fateAfter = random();
			if (fateAfter < 0.15) {
				// A refund: in full (referral and rewards reversed) or in part (cash rewards halved).
				setNow(instant(random));
				const full = random() < 0.5;
				const current = (await ledger.listReferrals({ programId, refereeId, limit: 1 }))[0];
				await ledger.refundReferral({
					programId,
					referralId: referral.id,
					idempotencyKey: `refund-${seed}-${i}`,
					referralFrom: current.status,
					referralTo: full ? 'reversed' : undefined,
					rewardIds: given.map((g) => g.id),
					rewards: given
						.filter((g) => g.status === 'approved' && (full || g.amount !== null))
						.map((g) => ({
							rewardId: g.id,
							from: g.status,
							fromAmount: g.amount,
							...(full
								? { to: 'reversed' as const }
								: { amount: Math.round((g.amount! / 2) * 100) / 100 }),
						})),
					answer: { full },
				});
				return;
			} else if (fateAfter < 0.25) {
				// Reassigned to another referrer (a later touch), keeping its status.
				const current = (await ledger.listReferrals({ programId, refereeId, limit: 1 }))[0];
				const to = pick(
					random,
					people.filter((p) => p !== referrerId && p !== refereeId),
				);
				await ledger.reassignReferral({
					programId,
					referralId: referral.id,
					fromReferrerId: current.referrerId,
					toReferrerId: to,
					touchedAt: instant(random),
					fromStatuses: [current.status],
				});
				return;
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
		};
		const once = async () => {
			await steps();
			if (undone) throw new Undone();
		};
		if (item === undefined) await once();
		else
			await item(once).catch((error: unknown) => {
				if (!(error instanceof Undone)) throw error;
				people.length = enrolled;
			});
	}
	setNow(AT);
}

const VISITORS = Array.from({ length: 6 }, (_, i) => `visitor-${i}-0123456789abcdef`);
const CHANNELS = ['direct', 'newsletter', 'x.com', 'Zeta', 'zeta', 'éclair', 'b'];

/** One click at a random instant, of a random referrer's code (or an unknown or revoked one). */
async function randomClick(
	opened: Opened,
	random: () => number,
	programId: string,
	people: number[],
): Promise<number> {
	const codeStatus = pick(random, ['known', 'known', 'known', 'unknown', 'revoked'] as const);
	const { click } = await opened.ledger.recordClick({
		programId,
		code: codeStatus === 'unknown' ? null : 'CODE',
		referrerId: codeStatus === 'known' ? pick(random, people) : null,
		codeStatus,
		at: instant(random),
		channel: pick(random, CHANNELS),
		visitorId: pick(random, VISITORS),
	});
	return click!.id;
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
	// Such an order predates schema version 11: its migration's backfill counted it.
	await rebuildRollups(opened);
}

/** Schema version 11's and 14's backfills again over the whole ledger (the rows changed behind the ledger's back). */
async function rebuildRollups(opened: Opened): Promise<void> {
	for (const table of ['stats_days', 'stats_periods', ...CLICK_TABLES])
		await opened.raw(`DELETE FROM ${table}`);
	for (const sql of rollupBackfill(opened.backend)) await opened.raw(sql);
	for (const sql of clickRollupBackfill(opened.backend)) await opened.raw(sql);
}
const CLICK_TABLES = ['click_referrers', 'click_visitors', 'click_spans'];

/** The rollups' non-zero rows as they stand (numbers as numbers, amounts to 6 decimals). */
async function rollupRows(opened: Opened, programId: string): Promise<unknown> {
	const days = await opened.rows(
		`SELECT day, metric, k1, k2, n, total, amount FROM stats_days WHERE program_id = '${programId}' AND (n <> 0 OR total <> 0 OR amount <> 0) ORDER BY day, metric, k1, k2`,
	);
	const periods = await opened.rows(
		`SELECT span, start, participant_id, referrals, qualified, points FROM stats_periods WHERE program_id = '${programId}' AND (referrals <> 0 OR qualified <> 0 OR points <> 0) ORDER BY span, start, participant_id`,
	);
	const plain = (rows: Array<Record<string, unknown>>) =>
		rows.map((r) =>
			Object.fromEntries(
				Object.entries(r).map(([k, v]) => [
					k,
					k === 'amount'
						? Number(Number(v).toFixed(6))
						: typeof v === 'string' && /^-?\d+$/.test(v)
							? Number(v)
							: v,
				]),
			),
		);
	const referrers = await opened.rows(
		`SELECT span, start, referrer_id, clicks, sign_ups, qualified FROM click_referrers WHERE program_id = '${programId}' AND (clicks <> 0 OR sign_ups <> 0 OR qualified <> 0) ORDER BY span, start, referrer_id`,
	);
	const visitors = await opened.rows(
		`SELECT span, start, visitor_id FROM click_visitors WHERE program_id = '${programId}' ORDER BY span, start, visitor_id`,
	);
	const spans = await opened.rows(
		`SELECT span, start, visitors FROM click_spans WHERE program_id = '${programId}' ORDER BY span, start`,
	);
	return {
		days: plain(days),
		periods: plain(periods),
		clickReferrers: plain(referrers),
		clickVisitors: plain(visitors),
		clickSpans: plain(spans),
	};
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
						for (const window of WINDOWS) {
							const input = { programId, period, at, window };
							const label = `${name} seed ${seed} ${period} at ${new Date(at).toISOString()} ${JSON.stringify(window)}`;
							const expected = await referralStatsReference(opened.ledger, input);
							const actual = await referralStats(opened.ledger, input);
							expect(actual, label).toEqual(expected);
							expect(
								await referralStats(opened.ledger, { ...input, source: 'rows' }),
								label,
							).toEqual(expected);
							if (period === 'lifetime' && expected.warnings.some((w) => w.includes('not valid')))
								rogueSeen++;
							for (const by of ['qualifiedReferrals', 'points'] as const) {
								const board = { programId, by, period, at, window, limit: 3 + (seed % 5) };
								expect(await referralLeaderboard(opened.ledger, board), `${label} ${by}`).toEqual(
									await referralLeaderboard(opened.ledger, { ...board, source: 'rows' }),
								);
							}
						}
					}
				}
				// What the write paths kept equals a fresh backfill of the same rows.
				const kept = await rollupRows(opened, programId);
				await rebuildRollups(opened);
				expect(await rollupRows(opened, programId), `${name} seed ${seed} rollups`).toEqual(kept);
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
		// A correctness property, not a speed figure: the timeout only catches a hang. On PostgreSQL it
		// took 218-242 s at load 20-35 on 2 cores (every reward write also moves the cap usage now).
		600_000,
	);
});

describe.each(backends)('rollups under racing copies of one change (%s)', (name, open, skip) => {
	it.skipIf(skip)(
		'racing transitions and reassignments of one referral move its rollups once',
		async () => {
			const opened = await open();
			const { ledger } = opened;
			const programId = `race-${name.toLowerCase()}`;
			await ledger.ensureProgram({ id: programId });
			const enrol = async (email: string) =>
				(await ledger.enrolParticipant({ programId, email })).participant.id;
			const [ann, bea, cid] = [
				await enrol('ann@example.com'),
				await enrol('bea@example.com'),
				await enrol('cid@example.com'),
			];
			const { referral } = await ledger.recordReferral({
				programId,
				referrerId: ann,
				refereeId: cid,
			});
			const race = (change: () => Promise<unknown>) =>
				Promise.all(Array.from({ length: 6 }, change));
			await race(() =>
				ledger.transitionReferral({
					programId,
					referralId: referral.id,
					from: 'pending',
					to: 'flagged',
				}),
			);
			await race(() =>
				ledger.reassignReferral({
					programId,
					referralId: referral.id,
					fromReferrerId: ann,
					toReferrerId: bea,
					fromStatuses: ['flagged'],
				}),
			);
			await race(() =>
				ledger.transitionReferral({
					programId,
					referralId: referral.id,
					from: 'flagged',
					to: 'approved',
				}),
			);
			const kept = await rollupRows(opened, programId);
			await rebuildRollups(opened);
			expect(await rollupRows(opened, programId)).toEqual(kept);
		},
		120_000,
	);
});

describe.each(backends)(
	'counters under racing copies of one reward change (%s)',
	(name, open, skip) => {
		it.skipIf(skip)(
			'racing approvals, fulfilments and reversals of one reward move its rollups, reward counters and cap usage once',
			async () => {
				const opened = await open();
				const { ledger } = opened;
				const programId = `reward-race-${name.toLowerCase()}`;
				await ledger.ensureProgram({ id: programId });
				const enrol = async (email: string) =>
					(await ledger.enrolParticipant({ programId, email })).participant.id;
				const [ann, cid] = [await enrol('ann@example.com'), await enrol('cid@example.com')];
				const { referral } = await ledger.recordReferral({
					programId,
					referrerId: ann,
					refereeId: cid,
				});
				const award = async (kind: 'cash' | 'points', amount: number) =>
					(
						await ledger.awardReward({
							programId,
							recipientId: ann,
							referralId: referral.id,
							side: 'referrer',
							rule: `${kind}-rule`,
							kind,
							amount,
							...(kind === 'cash' ? { currency: 'EUR' } : {}),
							status: 'pending',
							metadata: { earnedAt: AT },
							...(kind === 'points' ? { points: { delta: amount } } : {}),
						})
					).reward.id;
				const cash = await award('cash', 12.5);
				const points = await award('points', 100);
				const race = (change: () => Promise<unknown>) =>
					Promise.all(Array.from({ length: 6 }, change));
				const move = (rewardId: number, from: string, to: string, delta?: number) =>
					race(() =>
						ledger.transitionReward({
							programId,
							rewardId,
							from: from as 'pending',
							to: to as 'approved',
							...(delta === undefined
								? {}
								: { points: { delta, reason: 'clawback', allowNegative: true } }),
						}),
					);
				await move(cash, 'pending', 'approved');
				await move(points, 'pending', 'approved');
				await move(cash, 'approved', 'fulfilled');
				await move(points, 'approved', 'reversed', -100);
				await move(cash, 'fulfilled', 'reversed');
				const kept = await counterRows(opened, programId);
				await rebuildCounters(opened);
				expect(await counterRows(opened, programId)).toEqual(kept);
				// Both rewards are reversed: nothing counts against a cap; the points came and went once.
				expect(
					await ledger.capUsage({ programId, participantId: ann, start: null, end: null }),
				).toEqual([]);
				expect(
					(await ledger.rewardCounters({ programId, participantId: ann })).lifetimePoints,
				).toBe(0);
			},
			120_000,
		);
	},
);

describe.each(backends)('rollups after batched writes (%s)', (name, open, skip) => {
	it.skipIf(skip)(
		'a batch counts what its items changed once, also read inside it; an item undone leaves nothing',
		async () => {
			const opened = await open();
			const { ledger } = opened;
			for (const seed of [11, 4243, 90001]) {
				const programId = `batch${seed}`;
				const input = { programId, period: 'lifetime' as const, at: AT };
				await ledger.batch(async (item) => {
					await randomLedger(opened, seed, programId, item);
					// A read of the rollups inside the batch counts its items so far.
					expect(await referralStats(ledger, input)).toEqual(
						await referralStats(ledger, { ...input, source: 'rows' }),
					);
					// An item that read them (and so had them brought up to date) and is undone after.
					await item(async () => {
						const [referral] = await ledger.listReferrals({ programId, limit: 1 });
						await referralStats(ledger, input);
						await ledger.transitionReferral({
							programId,
							referralId: referral.id,
							from: referral.status,
							to: 'rejected',
						});
						throw new Undone();
					}).catch((error: unknown) => {
						if (!(error instanceof Undone)) throw error;
					});
				});
				const kept = await counterRows(opened, programId);
				await rebuildCounters(opened);
				expect(await counterRows(opened, programId), `${name} seed ${seed}`).toEqual(kept);
				expect(await referralStats(ledger, input)).toEqual(
					await referralStatsReference(ledger, input),
				);
			}
		},
		300_000,
	);
});

/** The rollups, reward counters and cap usage again from the rows: the backfills of schema versions 10, 11, 13 and 14. */
async function rebuildCounters(opened: Opened): Promise<void> {
	await rebuildRollups(opened);
	await opened.raw('DELETE FROM reward_counters');
	await opened.raw('DELETE FROM reward_cap_usage');
	for (const sql of MIGRATIONS.filter((m) => m.version === 10 || m.version === 13)
		.flatMap((m) => m.statements(DDL_TYPES[opened.backend]))
		.filter((sql) => sql.trim().startsWith('INSERT INTO')))
		await opened.raw(sql);
}

/** The rollups, reward counters and cap usage rows of a program, as `rollupRows` gives them. */
async function counterRows(opened: Opened, programId: string): Promise<unknown> {
	const plain = (rows: Array<Record<string, unknown>>) =>
		rows.map((r) =>
			Object.fromEntries(
				Object.entries(r).map(([k, v]) => [
					k,
					typeof v === 'string' && /^-?\d+$/.test(v)
						? Number(v)
						: k === 'amount'
							? Number(Number(v).toFixed(6))
							: v,
				]),
			),
		);
	return {
		rollups: await rollupRows(opened, programId),
		counters: plain(
			await opened.rows(
				`SELECT participant_id, name, count, amount FROM reward_counters WHERE program_id = '${programId}' AND (count <> 0 OR amount <> 0) ORDER BY participant_id, name`,
			),
		),
		capUsage: plain(
			await opened.rows(
				`SELECT participant_id, span, bucket, rule, unit, count, amount FROM reward_cap_usage WHERE program_id = '${programId}' AND (count <> 0 OR amount <> 0) ORDER BY participant_id, span, bucket, rule, unit`,
			),
		),
	};
}

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

describe.each(backends)('click rollups after every step (%s)', (name, open, skip) => {
	it.skipIf(skip)(
		'equal a fresh recount after clicks, credited sign-ups, qualification, rejection, refunds',
		async () => {
			const opened = await open();
			const { ledger, setNow } = opened;
			const programId = `clicksteps-${name.toLowerCase()}`;
			await ledger.ensureProgram({ id: programId });
			const month = periodWindow('month', AT);
			const year = periodWindow('year', AT);
			const windows: Array<[string, number | undefined, number | undefined]> = [
				['lifetime', undefined, undefined],
				['month', month.start!, month.end!],
				['year', year.start!, year.end!],
				['days and edges', month.start! - DAY / 3, AT + DAY / 2],
				['one day', AT - DAY / 2, AT],
			];
			let steps = 0;
			const check = async (step: string) => {
				steps++;
				for (const [label, since, until] of windows) {
					for (const referrerIds of [undefined, people.slice(0, 3)]) {
						const q = { programId, since, until, referrerIds, limit: 2 };
						expect(await ledger.clickStats(q), `${name} ${step} ${label}`).toEqual(
							await ledger.clickStats({ ...q, source: 'rows' }),
						);
					}
				}
				const kept = await rollupRows(opened, programId);
				await rebuildRollups(opened);
				expect(await rollupRows(opened, programId), `${name} ${step} rollups`).toEqual(kept);
			};
			const people: number[] = [];
			for (const email of ['ann', 'bea', 'cid', 'dan', 'eve', 'fay'])
				people.push(
					(await ledger.enrolParticipant({ programId, email: `${email}@example.com` })).participant
						.id,
				);
			const [ann, bea, , dan, eve, fay] = people;
			const click = async (referrerId: number, at: number, channel: string, visitor: number) =>
				(
					await ledger.recordClick({
						programId,
						code: 'CODE',
						referrerId,
						codeStatus: 'known',
						at,
						channel,
						visitorId: VISITORS[visitor],
					})
				).click!;
			const c1 = await click(ann, AT - 2 * DAY, 'newsletter', 0);
			await check('click');
			const c2 = await click(ann, month.start! - 1, 'x.com', 1);
			await click(bea, AT, 'x.com', 0);
			await check('clicks across the month edge, a repeat visitor');
			setNow(AT);
			const credited = async (refereeId: number, clickId: number, touchedAt: number) =>
				(await ledger.recordReferral({ programId, referrerId: ann, refereeId, clickId, touchedAt }))
					.referral;
			const r1 = await credited(dan, c1.id, AT - DAY);
			await check('sign-up credited to a click');
			const r2 = await credited(eve, c2.id, month.start!);
			const r3 = await credited(fay, c1.id, AT);
			await check('more sign-ups');
			await ledger.qualifyReferral({
				programId,
				referralId: r1.id,
				orderId: 'o1',
				amount: 10,
				currency: 'EUR',
				fromStatuses: ['pending'],
				occurredAt: AT,
			});
			await ledger.qualifyReferral({
				programId,
				referralId: r2.id,
				orderId: 'o2',
				fromStatuses: ['pending'],
				occurredAt: AT,
			});
			await check('qualification');
			await ledger.transitionReferral({
				programId,
				referralId: r3.id,
				from: 'pending',
				to: 'rejected',
			});
			await check('rejection');
			await ledger.refundReferral({
				programId,
				referralId: r1.id,
				idempotencyKey: 'refund-r1',
				referralFrom: 'qualified',
				referralTo: 'reversed',
				rewardIds: [],
				rewards: [],
				answer: { full: true },
			});
			await check('refund');
			await ledger.reassignReferral({
				programId,
				referralId: r2.id,
				fromReferrerId: ann,
				toReferrerId: bea,
				touchedAt: AT + DAY,
				fromStatuses: ['qualified'],
			});
			await check('reassignment to another referrer, another day');
			// The figures are not all zero: the comparison above compared something.
			const lifetime = await ledger.clickStats({ programId });
			expect(lifetime).toMatchObject({ clicks: 3, signUps: 3, qualified: 1, visitors: 2 });
			expect(lifetime.byChannel.find((c) => c.channel === 'newsletter')).toMatchObject({
				clicks: 1,
				signUps: 2,
			});
			expect(steps).toBe(8);
		},
		120_000,
	);
});

describe('schema version 14 on a ledger with clicks', () => {
	it('backfills the click rollups from the clicks and referrals already there', async () => {
		const { dir, remove } = tempDir();
		cleanups.push(remove);
		const path = `${dir}/v13.sqlite`;
		let now = AT;
		const first = await openSqliteLedger({ backend: 'sqlite', path }, { now: () => now });
		const raw = (sql: string) => {
			const db = new DatabaseSync(path);
			db.exec(sql);
			db.close();
			return Promise.resolve();
		};
		const opened: Opened = {
			backend: 'sqlite',
			ledger: first,
			setNow: (t) => (now = t),
			raw,
			rows: (sql) => {
				const db = new DatabaseSync(path);
				const rows = db.prepare(sql).all();
				db.close();
				return Promise.resolve(rows);
			},
		};
		await randomLedger(opened, 4242, 'migrated');
		const kept = await rollupRows(opened, 'migrated');
		const lifetime = await first.clickStats({ programId: 'migrated' });
		expect(lifetime.clicks).toBeGreaterThan(0);
		await first.close();
		// The ledger as schema version 12 left it: no click rollups.
		await raw(`DROP TABLE click_referrers; DROP TABLE click_visitors; DROP TABLE click_spans; DROP INDEX stats_days_metric;
			DELETE FROM stats_days WHERE metric IN ('clicks', 'chclicks', 'chrefs');
			DELETE FROM ledger_migrations WHERE version = 14;`);
		const ledger = await openSqliteLedger({ backend: 'sqlite', path }, { now: () => now });
		cleanups.unshift(() => ledger.close());
		expect(await ledger.schemaVersion()).toBe(LATEST_VERSION);
		expect(await rollupRows({ ...opened, ledger }, 'migrated')).toEqual(kept);
		expect(await ledger.clickStats({ programId: 'migrated' })).toEqual(lifetime);
	});
});
