/* Loyalty analytics on the full CDNOW master file (69,659 transactions, 23,570 customers):
 * RFM, BG/NBD and Gamma-Gamma fits and per-customer predictions, against just parsing and grouping
 * the same transaction items in the same run. Without ../shared/data/cdnow it runs on a simulated
 * data set of the same size and says so. Run: npx tsx bench/analytics.bench.ts */
import { clvFromTransactions, groupTransactions, rfmFromTransactions } from '../engine/analytics';
import { bestOf, report } from './lib';
import {
	hasCdnowMaster,
	readCdnowMaster,
	seededRandom,
	simulateCustomers,
} from '../test/unit/analytics/fixtures';

const fields = { customerField: 'customer', dateField: 'date', amountField: 'amount' };

function simulatedTransactions(): Record<string, unknown>[] {
	const start = Date.UTC(1997, 0, 1);
	const items: Record<string, unknown>[] = [];
	const customers = simulateCustomers(
		seededRandom(1),
		23_570,
		{ r: 0.27, alpha: 6, a: 0.48, b: 2.1 },
		[65, 78],
		0,
		{ p: 5, q: 4, v: 21 },
	);
	customers.forEach((c, id) => {
		const firstDay = Math.floor((78 - c.T) * 7);
		c.times.forEach((t, k) => {
			if (t <= c.T)
				items.push({
					customer: String(id),
					date: new Date(start + (firstDay + Math.floor(t * 7)) * 86_400_000)
						.toISOString()
						.slice(0, 10),
					amount: Math.round(c.values[k] * 100) / 100,
				});
		});
	});
	return items;
}

async function main(): Promise<void> {
	const items = hasCdnowMaster ? readCdnowMaster() : simulatedTransactions();
	const source = hasCdnowMaster ? 'CDNOW master' : 'simulated (CDNOW not found)';
	const customers = groupTransactions(items, fields).customers.length;
	const size = `${items.length.toLocaleString('en')} transactions, ${customers.toLocaleString('en')} customers, ${source}`;

	const parseAndGroup = await bestOf(5, () => groupTransactions(items, fields));
	const rfm = await bestOf(5, () => rfmFromTransactions(items, fields));
	const clv = await bestOf(3, () => clvFromTransactions(items, fields));
	const pipeline = await bestOf(3, () => {
		rfmFromTransactions(items, fields);
		clvFromTransactions(items, fields);
	});
	const baseline = 'parse + group the same items (engine/analytics groupTransactions)';
	const meaning =
		'ratio = parse+group time / subject time, i.e. the share of the subject spent reading the input';

	report({
		name: `RFM + CLV pipeline on ${size}`,
		baseline,
		baselineSeconds: parseAndGroup,
		subject:
			'rfmFromTransactions + clvFromTransactions (RFM scores and segments; BG/NBD and Gamma-Gamma fits; P(alive), 12-month purchases and discounted CLV per customer)',
		subjectSeconds: pipeline,
		note: `${meaning}; each call parses and groups on its own, as a node operation would. Full pipeline ${pipeline.toFixed(3)} s`,
	});
	report({
		name: `RFM on ${size}`,
		baseline,
		baselineSeconds: parseAndGroup,
		subject: 'rfmFromTransactions (tie-correct 1..5 scores, RF-grid segments, per-segment summary)',
		subjectSeconds: rfm,
		note: meaning,
	});
	report({
		name: `CLV on ${size}`,
		baseline,
		baselineSeconds: parseAndGroup,
		subject:
			'clvFromTransactions (summaries in weeks, BG/NBD + Gamma-Gamma MLE with standard errors, predictions for every customer)',
		subjectSeconds: clv,
		note: meaning,
	});
}

main().catch((error) => {
	console.error(error);
	process.exit(1);
});
