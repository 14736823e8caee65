/* Get Stats' share-link figures (clicks, visitors, sign-ups and qualified referrals in total, per
 * channel and per referrer; K-factor's invites) over 1,000,000 tracked link clicks
 * (CLICKS_BENCH_CLICKS) and 100,000 referrals (CLICKS_BENCH_REFERRALS) on SQLite: the click
 * rollups (schema version 14, engine/ledger/tables/clickRollups.ts) against the aggregate queries
 * over the period's clicks and referrals they replace (`source: 'rows'`), in the same run, for the
 * lifetime and this month; the answers are checked equal. The ledger (test/support/statsLedger.ts,
 * clicks seeded by bulk SQL, rollups filled as migrations 11 and 14 fill them) is built once into
 * .cache/bench and reused. */
import { openSqliteLedger } from '../engine/ledger';
import { referralStats } from '../engine/referrals/stats';
import { periodWindow } from '../engine/shared/periods';
import { AT, cachedStatsLedger, PROGRAM } from '../test/support/statsLedger';
import { bestOf, report } from './lib';

const REFERRALS = Number(process.env.CLICKS_BENCH_REFERRALS ?? 100_000);
const CLICKS = Number(process.env.CLICKS_BENCH_CLICKS ?? 1_000_000);
const label = (n: number) => (n >= 1_000_000 ? `${n / 1_000_000}M` : `${n / 1000}k`);

async function main(): Promise<void> {
	const started = Date.now();
	const path = await cachedStatsLedger(REFERRALS, CLICKS);
	process.stderr.write(`ledger ready in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
	const ledger = await openSqliteLedger({ backend: 'sqlite', path });
	try {
		for (const period of ['lifetime', 'month'] as const) {
			const window = periodWindow(period, AT);
			const query = {
				programId: PROGRAM,
				since: window.start ?? undefined,
				until: window.end ?? undefined,
			};
			const ours = await ledger.clickStats(query);
			const rows = await ledger.clickStats({ ...query, source: 'rows' });
			if (JSON.stringify(ours) !== JSON.stringify(rows))
				throw new Error(`share-link figures differ (${period})`);
			const oursS = await bestOf(3, () => ledger.clickStats(query));
			const rowsS = await bestOf(1, () => ledger.clickStats({ ...query, source: 'rows' }), 0);
			report({
				name: `share-link figures ${period}, ${label(ours.clicks)} clicks of ${label(CLICKS)} (sqlite)`,
				baseline: 'aggregate SQL over the clicks (schema 9)',
				baselineSeconds: rowsS,
				subject: 'click rollups (schema 14)',
				subjectSeconds: oursS,
				figure: { value: Number(oursS.toFixed(4)), unit: 's', max: 1 },
				note: `${oursS.toFixed(4)} s; same answers checked`,
			});
			const input = { programId: PROGRAM, period, at: AT };
			const stats = await referralStats(ledger, input);
			const statsRows = await referralStats(ledger, { ...input, source: 'rows' });
			if (JSON.stringify(stats) !== JSON.stringify(statsRows))
				throw new Error(`Get Stats differs (${period})`);
			const statsS = await bestOf(3, () => referralStats(ledger, input));
			const statsRowsS = await bestOf(
				1,
				() => referralStats(ledger, { ...input, source: 'rows' }),
				0,
			);
			report({
				name: `Get Stats ${period}, ${label(REFERRALS)} referrals + ${label(CLICKS)} clicks (sqlite)`,
				baseline: 'aggregate SQL over the rows (schemas 8, 9)',
				baselineSeconds: statsRowsS,
				subject: 'rollups (schemas 11, 14)',
				subjectSeconds: statsS,
				figure: { value: Number(statsS.toFixed(3)), unit: 's', max: 1 },
				note: `${statsS.toFixed(3)} s (target < 1 s); K-factor invites = ${stats.shareLinks.clicks} clicks; same answers checked`,
			});
		}
	} finally {
		await ledger.close();
	}
}

main().catch((error: unknown) => {
	console.error(error);
	process.exitCode = 1;
});
