import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { IDataObject, INodeExecutionData } from 'n8n-workflow';
import { describe, expect, it } from 'vitest';
import {
	bgnbdConditionalExpectedPurchases,
	clvFromSummaries,
	clvFromTransactions,
	loyaltyIndex,
	netPromoterScore,
	rfmFromSummaries,
	rfmFromTransactions,
} from '../../engine/analytics';
import { loadPackage, runWorkflow, singleNodeWorkflow } from '../harness';
import { SUMMARY_PAIRING_LIMIT } from '../../nodes/shared/aggregate';
import {
	CDNOW_BGNBD,
	CDNOW_GAMMA_GAMMA,
	hasCdnow,
	readCdnowCsv,
	seededRandom,
	simulateCustomers,
} from '../unit/analytics/fixtures';

const node = (parameters: Record<string, unknown>, continueOnFail = false) =>
	({ type: 'loyaltyInsights', parameters, continueOnFail }) as never;
const run = (parameters: Record<string, unknown>, items: IDataObject[], continueOnFail = false) =>
	runWorkflow(singleNodeWorkflow(node(parameters, continueOnFail), items));

const DAY = 86_400_000;

/** ~120 customers simulated from BG/NBD + Gamma-Gamma, as purchase rows in date order (so a customer's rows are scattered). */
function simulatedTransactions(): IDataObject[] {
	const random = seededRandom(2024);
	const customers = simulateCustomers(
		random,
		120,
		{ r: 0.8, alpha: 4, a: 0.8, b: 2.5 },
		[10, 40],
		0,
		CDNOW_GAMMA_GAMMA,
	);
	const end = Date.UTC(2024, 5, 30);
	const rows: { customerId: string; date: string; amount: number; at: number }[] = [];
	customers.forEach((customer, c) => {
		const start = end - customer.T * 7 * DAY;
		customer.times.forEach((t, k) => {
			const at = start + t * 7 * DAY;
			rows.push({
				customerId: `C${String(c).padStart(3, '0')}`,
				date: new Date(at).toISOString().slice(0, 10),
				amount: Math.round(customer.values[k] * 100) / 100,
				at,
			});
		});
	});
	return rows.sort((a, b) => a.at - b.at).map(({ at: _at, ...row }) => row);
}

const TRANSACTIONS = simulatedTransactions();

/** Input positions per value of a field: what a per-customer row must be paired with. */
function positionsOf(items: IDataObject[], field: string): Map<string, number[]> {
	const positions = new Map<string, number[]>();
	items.forEach((item, i) => {
		const key = String(item[field]);
		positions.set(key, [...(positions.get(key) ?? []), i]);
	});
	return positions;
}

function paired(item: INodeExecutionData): number[] {
	const p = item.pairedItem;
	if (p === undefined) return [];
	if (typeof p === 'number') return [p];
	return (Array.isArray(p) ? p : [p]).map((entry) => entry.item);
}

const all = (n: number) => Array.from({ length: n }, (_, i) => i);

function hintsOf(result: Awaited<ReturnType<typeof runWorkflow>>): string[] {
	return (result.run.data.resultData.runData.Node?.[0]?.hints ?? []).map((hint) => hint.message);
}

/** A per-customer row as the engine makes it, under the customer field name the user gave. */
function renamed<T extends { customer?: string }>(rows: T[], field: string): IDataObject[] {
	return rows.map(({ customer, ...rest }) => ({ [field]: customer, ...rest }) as IDataObject);
}

describe('Loyalty Insights node in the workflow harness', () => {
	it('is loaded from dist/ with themed icons and a codex file, not offered as an AI tool', async () => {
		const { packageNodeNames, nodeTypes } = await loadPackage();
		expect(packageNodeNames).toContain('loyaltyInsights');
		const description = (
			nodeTypes.getByName('n8n-nodes-referral-marketing.loyaltyInsights') as unknown as {
				description: IDataObject;
			}
		).description;
		// A population analysis cannot work on one tool call's item (issue #19).
		expect(description.usableAsTool).toBeUndefined();
		// The loader turns `icon: {light: 'file:…', dark: 'file:…'}` into icon URLs under the package's dist/.
		const icon = description.iconUrl as { light: string; dark: string };
		expect(icon.light).toMatch(/dist\/nodes\/LoyaltyInsights\/loyaltyInsights\.svg$/);
		expect(icon.dark).toMatch(/dist\/nodes\/LoyaltyInsights\/loyaltyInsights\.dark\.svg$/);
		const dir = path.resolve(__dirname, '../../dist/nodes/LoyaltyInsights');
		const light = readFileSync(path.join(dir, path.basename(icon.light)), 'utf8');
		const dark = readFileSync(path.join(dir, path.basename(icon.dark)), 'utf8');
		expect(light).not.toBe(dark);
		expect(existsSync(path.join(dir, 'LoyaltyInsights.node.json'))).toBe(true);
		const operations = (description.properties as IDataObject[]).find(
			(p) => p.name === 'operation',
		)!.options as IDataObject[];
		expect(operations.map((o) => o.value).sort()).toEqual(['clv', 'loyaltyIndex', 'nps', 'rfm']);
	});

	describe('RFM', () => {
		const parameters = {
			operation: 'rfm',
			customerField: 'customerId',
			dateField: 'date',
			amountField: 'amount',
		};

		it('gives the engine’s per-customer rows under the user’s customer field, each paired with all that customer’s inputs', async () => {
			const result = await run(parameters, TRANSACTIONS);
			const expected = rfmFromTransactions(TRANSACTIONS, {
				customerField: 'customerId',
				dateField: 'date',
				amountField: 'amount',
			});
			const items = result.items('Node');
			expect(items.map((i) => i.json)).toEqual(renamed(expected.rows, 'customerId'));
			expect(items.length).toBeGreaterThan(100);
			const positions = positionsOf(TRANSACTIONS, 'customerId');
			for (const item of items)
				expect(paired(item)).toEqual(positions.get(item.json.customerId as string));
			expect(new Set(items.map((i) => i.json.segment)).size).toBeGreaterThan(5);
		});

		it('passes score levels, mean monetary value, as-of date and frequency basis through unchanged', async () => {
			const options = { asOf: '2024-05-31T00:00:00', frequencyBasis: 'transactions' };
			const result = await run(
				{
					...parameters,
					scoreLevels: 4,
					monetary: 'mean',
					rfmOptions: options,
					rfmOutput: 'summary',
				},
				TRANSACTIONS,
			);
			const expected = rfmFromTransactions(TRANSACTIONS, {
				customerField: 'customerId',
				dateField: 'date',
				amountField: 'amount',
				scoreLevels: 4,
				monetary: 'mean',
				asOf: options.asOf,
				frequencyBasis: 'transactions',
			});
			const items = result.items('Node');
			expect(items).toHaveLength(1);
			expect(items[0].json).toEqual(expected.summary);
			expect(items[0].json).toMatchObject({
				scoreLevels: 4,
				monetary: 'mean',
				asOf: '2024-05-31',
				frequencyBasis: 'transactions',
			});
			expect((items[0].json.excluded as IDataObject).after_end_date).toBeGreaterThan(0);
			expect(paired(items[0])).toEqual(all(TRANSACTIONS.length));
		});

		it('gives one segment-summary item per segment, paired with the inputs of that segment’s customers', async () => {
			const result = await run({ ...parameters, rfmOutput: 'segments' }, TRANSACTIONS);
			const expected = rfmFromTransactions(TRANSACTIONS, {
				customerField: 'customerId',
				dateField: 'date',
				amountField: 'amount',
			});
			const items = result.items('Node');
			expect(items.map((i) => i.json)).toEqual(expected.summary.segments);
			const positions = positionsOf(TRANSACTIONS, 'customerId');
			for (const item of items) {
				const customers = expected.rows.filter((r) => r.segment === item.json.segment);
				const fromCustomers = customers
					.flatMap((r) => positions.get(r.customer)!)
					.sort((a, b) => a - b);
				expect(paired(item)).toEqual(
					customers.length > 0 ? fromCustomers : all(TRANSACTIONS.length),
				);
			}
		});

		it('a Segment Summary where one customer id holds 150,000 rows (a guest-checkout placeholder): no stack overflow, pairing bounded to that segment’s first rows', async () => {
			const guest = Array.from({ length: 150_000 }, (_, i) => ({
				customerId: 'GUEST',
				date: new Date(Date.UTC(2024, 0, 1) + (i % 150) * DAY).toISOString().slice(0, 10),
				amount: 10 + (i % 7),
			}));
			const items = [...TRANSACTIONS, ...guest];
			const result = await run({ ...parameters, rfmOutput: 'segments' }, items);
			const out = result.items('Node');
			const expected = rfmFromTransactions(items, {
				customerField: 'customerId',
				dateField: 'date',
				amountField: 'amount',
			});
			expect(out.map((i) => i.json)).toEqual(expected.summary.segments);
			const guestRow = expected.rows.find((r) => r.customer === 'GUEST')!;
			const guestSegment = out.find((i) => i.json.segment === guestRow.segment)!;
			expect(guestSegment.json.customers).toBeGreaterThanOrEqual(1);
			// Each pinned input item has its own upstream item, so the segment is paired with its
			// first SUMMARY_PAIRING_LIMIT rows, not with all 150,000 and more.
			const inSegment = new Set(
				expected.rows.filter((r) => r.segment === guestRow.segment).map((r) => r.customer),
			);
			const rowsOfSegment = items
				.map((item, i) => (inSegment.has(String(item.customerId)) ? i : -1))
				.filter((i) => i >= 0);
			expect(paired(guestSegment)).toEqual(rowsOfSegment.slice(0, SUMMARY_PAIRING_LIMIT));
			for (const item of out)
				expect(paired(item).length).toBeLessThanOrEqual(SUMMARY_PAIRING_LIMIT);
		}, 120_000);

		it('reads nested field names and keeps the path as the row’s customer field', async () => {
			const nested = TRANSACTIONS.map((t) => ({
				buyer: { id: t.customerId },
				order: { placed: t.date, total: t.amount },
			}));
			const result = await run(
				{
					operation: 'rfm',
					customerField: 'buyer.id',
					dateField: 'order.placed',
					amountField: 'order.total',
				},
				nested,
			);
			const flat = (await run(parameters, TRANSACTIONS)).json('Node');
			expect(result.json('Node')).toEqual(
				flat.map(({ customerId, ...rest }) => ({ 'buyer.id': customerId, ...rest })),
			);
		});

		it('scores per-customer summaries with custom segments, first match wins', async () => {
			const summaries = Array.from({ length: 30 }, (_, i) => ({
				id: `S${i}`,
				daysSince: (i * 7) % 61,
				orders: 1 + (i % 6),
				spent: 20 + ((i * 37) % 200),
			}));
			const rules = {
				segment: [
					{ name: 'Best', recency: '4-5', frequency: '4-5' },
					{ name: 'Big Spenders', monetary: '5' },
					{ name: 'Sleeping', recency: '1' },
				],
			};
			const result = await run(
				{
					operation: 'rfm',
					input: 'summaries',
					customerField: 'id',
					recencyField: 'daysSince',
					frequencyField: 'orders',
					monetaryField: 'spent',
					segmentRules: 'custom',
					customSegments: rules,
				},
				summaries,
			);
			const expected = rfmFromSummaries(summaries, {
				customerField: 'id',
				recencyField: 'daysSince',
				frequencyField: 'orders',
				monetaryField: 'spent',
				segments: [
					{ name: 'Best', recency: [4, 5], frequency: [4, 5] },
					{ name: 'Big Spenders', monetary: [5, 5] },
					{ name: 'Sleeping', recency: [1, 1] },
				],
			});
			const items = result.items('Node');
			expect(items.map((i) => i.json)).toEqual(renamed(expected.rows, 'id'));
			expect(new Set(items.map((i) => i.json.segment))).toEqual(
				new Set(['Best', 'Big Spenders', 'Sleeping', 'Others']),
			);
			items.forEach((item, i) => expect(item.pairedItem).toEqual({ item: i }));
		});

		it('rejects custom segment ranges that are not scores, naming the parameter', async () => {
			const base = { operation: 'rfm', segmentRules: 'custom' };
			const text = await run(
				{ ...base, customSegments: { segment: [{ name: 'VIP', recency: 'high' }] } },
				TRANSACTIONS,
			);
			expect(text.error('Node')?.message).toBe(
				'Segment "VIP": the Recency scores must be one score (5) or a range (4-5), or blank for any; got "high"',
			);
			expect(text.error('Node')?.description).toContain('Custom Segments');
			const beyond = await run(
				{
					...base,
					scoreLevels: 3,
					customSegments: { segment: [{ name: 'VIP', frequency: '4-5' }] },
				},
				TRANSACTIONS,
			);
			expect(beyond.error('Node')?.message).toMatch(
				/Segment "VIP": the frequency range must be two whole scores \[lowest, highest\] between 1 and 3/,
			);
		});

		it('leaves out and counts unparseable dates, negative and missing amounts, in the summary and as a hint', async () => {
			const bad = [
				...TRANSACTIONS,
				{ customerId: 'C000', date: '31/12/2023', amount: 5 },
				{ customerId: 'C001', date: '2024-02-30', amount: 5 },
				{ customerId: 'C002', date: '2024-01-02', amount: -12.5 },
				{ customerId: 'C003', date: '2024-01-02' },
				{ date: '2024-01-02', amount: 3 },
			];
			const result = await run({ ...parameters, rfmOutput: 'summary' }, bad);
			expect(result.json('Node')[0].excluded).toEqual({
				unparseable_date: 2,
				negative_amount: 1,
				missing_amount: 1,
				missing_customer: 1,
			});
			expect(result.json('Node')[0].transactions).toBe(TRANSACTIONS.length);
			expect(hintsOf(result)).toContain(
				'Left out of the RFM analysis: 2 unparseable date, 1 negative amount, 1 missing amount, 1 missing customer. The counts are in the summary\'s "excluded".',
			);
			// The same run's rows are those of the good rows alone.
			const rows = (await run(parameters, bad)).json('Node');
			expect(rows).toEqual((await run(parameters, TRANSACTIONS)).json('Node'));
		});
	});

	describe('NPS', () => {
		const channels = ['email', 'sms', 'web'];
		const responses: IDataObject[] = Array.from({ length: 45 }, (_, i) => ({
			id: i,
			channel: channels[i % 3],
			answer: (i * 7) % 11,
		}));
		responses[10] = { id: 10, channel: 'sms', answer: '' };

		it('gives the engine’s summary: overall NPS with interval, groups, blank answers counted', async () => {
			const result = await run(
				{ operation: 'nps', scoreField: 'answer', groupField: 'channel' },
				responses,
			);
			const expected = netPromoterScore(responses, { scoreField: 'answer', groupField: 'channel' });
			const items = result.items('Node');
			expect(items).toHaveLength(1);
			expect(items[0].json).toEqual(expected.summary);
			expect(items[0].json.excluded).toEqual({ no_answer: 1 });
			expect(paired(items[0])).toEqual(all(responses.length));
		});

		it('gives one item per group under the group field’s name, paired with that group’s responses', async () => {
			const result = await run(
				{ operation: 'nps', scoreField: 'answer', groupField: 'channel', npsOutput: 'groups' },
				responses,
			);
			const expected = netPromoterScore(responses, { scoreField: 'answer', groupField: 'channel' });
			const items = result.items('Node');
			expect(items.map((i) => i.json)).toEqual(
				expected.summary.groups.map(({ group, ...s }) => ({ channel: group, ...s })),
			);
			for (const item of items) {
				const from = responses.flatMap((r, i) =>
					r.channel === item.json.channel && r.answer !== '' ? [i] : [],
				);
				expect(paired(item)).toEqual(from);
			}
		});

		it('passes each answered response through with its category, paired with itself', async () => {
			const result = await run(
				{ operation: 'nps', scoreField: 'answer', npsOutput: 'responses' },
				responses,
			);
			const items = result.items('Node');
			expect(items).toHaveLength(44);
			for (const item of items) {
				const index = paired(item)[0];
				const score = responses[index].answer as number;
				expect(item.json).toEqual({
					...responses[index],
					npsCategory: score >= 9 ? 'promoter' : score >= 7 ? 'passive' : 'detractor',
				});
			}
		});

		it('stops on a score outside 0–10, naming the item and the Score Field', async () => {
			const bad = responses.map((r, i) => (i === 3 ? { ...r, answer: 11 } : r));
			const result = await run({ operation: 'nps', scoreField: 'answer' }, bad);
			const error = result.error('Node');
			expect(error?.name).toBe('NodeOperationError');
			expect(error?.message).toContain('the answer must be a whole number from 0 to 10, got "11"');
			expect(error?.message).toContain('[item 3]');
			expect(error?.description).toContain('Score Field');
		});

		it('with Continue On Fail outputs one item carrying the error, paired with the item at fault', async () => {
			const bad = responses.map((r, i) => (i === 3 ? { ...r, answer: 7.5 } : r));
			const result = await run({ operation: 'nps', scoreField: 'answer' }, bad, true);
			const items = result.items('Node');
			expect(items).toHaveLength(1);
			expect(items[0].json.error).toMatchObject({
				code: 'invalid_nps_score',
				field: 'answer',
				parameter: 'Score Field',
				item: 3,
			});
			expect(items[0].pairedItem).toEqual({ item: 3 });
		});

		it('tests the difference between two groups or periods (Difference Between Two Groups)', async () => {
			// Two quarters: 200 answers each, NPS +20 against +5.
			const quarter = (
				name: string,
				promoters: number,
				passives: number,
				detractors: number,
			): IDataObject[] => [
				...Array.from({ length: promoters }, () => ({ quarter: name, answer: 10 })),
				...Array.from({ length: passives }, () => ({ quarter: name, answer: 8 })),
				...Array.from({ length: detractors }, () => ({ quarter: name, answer: 3 })),
			];
			const answers = [
				...quarter('2024-Q1', 80, 50, 70),
				...quarter('2024-Q2', 100, 40, 60),
				...quarter('2024-Q3', 5, 5, 5),
			];
			const parameters = {
				operation: 'nps',
				scoreField: 'answer',
				groupField: 'quarter',
				npsOutput: 'difference',
				groupA: '2024-Q2',
				groupB: '2024-Q1',
			};
			const result = await run(parameters, answers);
			const [item] = result.items('Node');
			const json = item.json as IDataObject & {
				groupA: IDataObject;
				groupB: IDataObject;
				ci95: { low: number; high: number };
			};
			expect(json.groupA).toMatchObject({
				group: '2024-Q2',
				responses: 200,
				promoters: 100,
				detractors: 60,
			});
			expect(json.groupB).toMatchObject({
				group: '2024-Q1',
				responses: 200,
				promoters: 80,
				detractors: 70,
			});
			expect(json.groupA.nps).toBeCloseTo(20, 12);
			expect(json.groupB.nps).toBeCloseTo(5, 12);
			// By hand: SE² = 100²·(p + d − (p − d)²)/n per quarter.
			const se = Math.sqrt(
				(100 ** 2 * (0.5 + 0.3 - 0.2 ** 2)) / 200 + (100 ** 2 * (0.4 + 0.35 - 0.05 ** 2)) / 200,
			);
			expect(json.difference).toBeCloseTo(15, 12);
			expect(json.standardError).toBeCloseTo(se, 12);
			expect(json.zScore).toBeCloseTo(15 / se, 12);
			expect(json.ci95.low).toBeCloseTo(15 - 1.959963984540054 * se, 10);
			// Two-sided normal p-value of z = 15/8.6819 = 1.7277: erfc(z/√2) = 0.0840354135 (Python math.erfc); erfcc is good to 1.2e-7 relative.
			expect(Math.abs((json.pValue as number) - 0.08403541351844349)).toBeLessThan(1e-8);
			expect(json.significant).toBe(false);
			// Paired with the two quarters' answers only.
			expect(paired(item)).toEqual(all(400));
			const unknown = await run({ ...parameters, groupB: '2023-Q4' }, answers);
			expect(unknown.error('Node')?.message).toMatch(
				/^No response has "2023-Q4" in the group field "quarter"; the groups are "2024-Q1", "2024-Q2", "2024-Q3"/,
			);
			expect(unknown.error('Node')?.description).toBe('Check "Group B".');
			const noGroupField = await run({ ...parameters, groupField: '' }, answers);
			expect(noGroupField.error('Node')?.description).toBe('Check "Group By Field".');
		});

		it('asks for a Group By Field when one item per group is wanted', async () => {
			const result = await run(
				{ operation: 'nps', scoreField: 'answer', npsOutput: 'groups' },
				responses,
			);
			expect(result.error('Node')?.message).toBe(
				'One Item per Group needs a Group By Field, e.g. "channel"',
			);
			expect(result.error('Node')?.description).toContain('Group By Field');
		});
	});

	describe('CLV', () => {
		const settings = {
			timeUnit: 'weeks' as const,
			horizonMonths: 6,
			monthlyDiscountRate: 0.02,
			profitMargin: 0.3,
		};
		const parameters = {
			operation: 'clv',
			customerField: 'customerId',
			dateField: 'date',
			amountField: 'amount',
			...settings,
		};

		it('gives the engine’s per-customer rows (probability alive, churn risk, expected purchases and spend, discounted CLV)', async () => {
			const result = await run(parameters, TRANSACTIONS);
			const expected = clvFromTransactions(TRANSACTIONS, {
				customerField: 'customerId',
				dateField: 'date',
				amountField: 'amount',
				...settings,
			});
			const items = result.items('Node');
			expect(items.map((i) => i.json)).toEqual(renamed(expected.rows, 'customerId'));
			const positions = positionsOf(TRANSACTIONS, 'customerId');
			for (const item of items) {
				expect(paired(item)).toEqual(positions.get(item.json.customerId as string));
				expect(item.json.churnRisk).toBeCloseTo(1 - (item.json.probabilityAlive as number), 12);
			}
		});

		it('summarises the fits and counts one-purchase customers as left out of Gamma-Gamma (they still get a CLV)', async () => {
			const withBad = [
				...TRANSACTIONS,
				{ customerId: 'C000', date: 'yesterday', amount: 3 },
				{ customerId: 'C001', date: '2024-01-05', amount: -3 },
			];
			const result = await run({ ...parameters, clvOutput: 'summary' }, withBad);
			const expected = clvFromTransactions(withBad, {
				customerField: 'customerId',
				dateField: 'date',
				amountField: 'amount',
				...settings,
			});
			const summary = result.json('Node')[0];
			expect(summary).toEqual(JSON.parse(JSON.stringify(expected.summary)));
			const oneTimers = expected.rows.filter((r) => r.frequency === 0).length;
			expect(oneTimers).toBeGreaterThan(0);
			expect(summary.excluded).toEqual({
				unparseable_date: 1,
				negative_amount: 1,
				single_purchase_for_gamma_gamma: oneTimers,
			});
			expect(summary).toMatchObject({
				horizonMonths: 6,
				monthlyDiscountRate: 0.02,
				profitMargin: 0.3,
				bgnbd: { fitted: true },
				gammaGamma: { fitted: true },
			});
			expect(hintsOf(result)[0]).toMatch(
				/^Left out of the CLV: 1 unparseable date, 1 negative amount, \d+ single purchase for gamma gamma\./,
			);
		});

		it('uses given model parameters instead of fitting, and reads lifetimes-style customer summaries', async () => {
			const summaries = Array.from({ length: 12 }, (_, i) => ({
				customer: `K${i}`,
				frequency: i % 4,
				recency: i % 4 === 0 ? 0 : 10 + i,
				T: 40,
				monetary_value: i % 4 === 0 ? '' : 15 + i,
			}));
			const params = {
				bgnbd: { r: 0.2426, alpha: 4.4135, a: 0.7929, b: 2.4258 },
				gammaGamma: { p: 6.2488, q: 3.7446, v: 15.4477 },
			};
			const result = await run(
				{
					operation: 'clv',
					input: 'summaries',
					customerField: 'customer',
					clvOptions: {
						bgnbd: { values: params.bgnbd },
						gammaGamma: { values: params.gammaGamma },
					},
				},
				summaries,
			);
			const expected = clvFromSummaries(summaries, {
				customerField: 'customer',
				frequencyField: 'frequency',
				recencyField: 'recency',
				ageField: 'T',
				monetaryField: 'monetary_value',
				params,
			});
			expect(result.json('Node')).toEqual(
				JSON.parse(JSON.stringify(renamed(expected.rows, 'customer'))),
			);
			const summary = (
				await run(
					{
						operation: 'clv',
						input: 'summaries',
						customerField: 'customer',
						clvOutput: 'summary',
						clvOptions: {
							bgnbd: { values: params.bgnbd },
							gammaGamma: { values: params.gammaGamma },
						},
					},
					summaries,
				)
			).json('Node')[0];
			expect(summary).toMatchObject({
				bgnbd: { fitted: false, params: params.bgnbd },
				gammaGamma: { fitted: false, params: params.gammaGamma },
			});
		});

		it('stops when too few customers bought twice to fit Gamma-Gamma, naming the Amount Field; Continue On Fail carries on with one error item', async () => {
			// 12 customers, 4 of them with a second purchase: enough for BG/NBD, too few for Gamma-Gamma.
			const few: IDataObject[] = [];
			for (let c = 0; c < 12; c++) {
				few.push({
					customerId: `K${c}`,
					date: `2024-01-${String(c + 1).padStart(2, '0')}`,
					amount: 10 + c,
				});
				if (c < 4)
					few.push({
						customerId: `K${c}`,
						date: `2024-03-${String(c + 1).padStart(2, '0')}`,
						amount: 12 + c,
					});
			}
			const result = await run(parameters, few);
			const error = result.error('Node');
			expect(error?.name).toBe('NodeOperationError');
			expect(error?.message).toBe(
				'Fitting the Gamma-Gamma spend model needs at least 10 customers with repeat purchases of positive value; got 4',
			);
			expect(error?.description).toBe('Check "Amount Field".');
			const carried = await run(parameters, few, true);
			const items = carried.items('Node');
			expect(items).toHaveLength(1);
			expect(items[0].json.error).toMatchObject({
				code: 'insufficient_data',
				parameter: 'Amount Field',
			});
			expect(paired(items[0])).toEqual(all(few.length));
			// With fewer than 10 customers it is the purchase model that cannot be fitted.
			const tiny = await run(parameters, few.slice(0, 6));
			expect(tiny.error('Node')?.message).toBe(
				'Fitting BG/NBD needs at least 10 customers, some with repeat purchases; got 3 customers, 3 with repeat purchases',
			);
			expect(tiny.error('Node')?.description).toBe('Check "Customer ID Field".');
		});

		describe('customer summaries without a spend column (lifetimes’ cdnow_customers_summary.csv: ID, frequency, recency, T)', () => {
			const HEAD = readFileSync(
				path.resolve(__dirname, '../fixtures/cdnow/cdnow_customers_summary.head200.csv'),
				'utf8',
			);
			const csv = (text: string): IDataObject[] => {
				const [header, ...lines] = text.trim().split(/\r?\n/);
				const names = header.split(',');
				return lines.map((line) =>
					Object.fromEntries(line.split(',').map((v, i) => [names[i], Number(v)])),
				);
			};
			const head = csv(HEAD);
			const purchasesOnly = {
				operation: 'clv',
				input: 'summaries',
				customerField: 'ID',
				clvModel: 'purchasesOnly',
			};

			it('fits BG/NBD alone with Model › Purchases Only: probability alive and expected purchases, spend and CLV null', async () => {
				expect(head).toHaveLength(200);
				expect(Object.keys(head[0])).toEqual(['ID', 'frequency', 'recency', 'T']);
				const result = await run(purchasesOnly, head);
				const rows = result.json('Node');
				expect(rows).toHaveLength(200);
				const summary = (await run({ ...purchasesOnly, clvOutput: 'summary' }, head)).json(
					'Node',
				)[0] as IDataObject & {
					bgnbd: { fitted: boolean; params: { r: number; alpha: number; a: number; b: number } };
				};
				expect(summary).toMatchObject({
					model: 'purchasesOnly',
					repeatCustomers: head.filter((c) => (c.frequency as number) > 0).length,
					gammaGamma: { fitted: false, params: null },
				});
				expect(summary.excluded).toEqual({});
				const params = summary.bgnbd.params;
				head.forEach((c, i) => {
					const [x, tx, T] = [c.frequency as number, c.recency as number, c.T as number];
					expect(rows[i]).toMatchObject({
						ID: String(c.ID),
						frequency: x,
						recency: tx,
						age: T,
						monetaryValue: null,
						expectedSpend: null,
						clv: null,
					});
					// P(alive) from the closed form, independently of the engine's code path.
					const alive =
						x === 0
							? 1
							: 1 /
								(1 +
									(params.a / (params.b + x - 1)) *
										((params.alpha + T) / (params.alpha + tx)) ** (params.r + x));
					expect(rows[i].probabilityAlive as number).toBeCloseTo(alive, 12);
					expect(rows[i].expectedPurchases).toBeCloseTo(
						bgnbdConditionalExpectedPurchases(params, 12 * 4.345, x, tx, T),
						12,
					);
				});
			});

			it('with the default model and no spend column, stops naming the Monetary Value Field (not the Repeat Purchases Field)', async () => {
				const result = await run(
					{ operation: 'clv', input: 'summaries', customerField: 'ID' },
					head,
				);
				const error = result.error('Node');
				expect(error?.message).toMatch(
					/^None of the \d+ customers with repeat purchases has a number in "monetary_value"/,
				);
				expect(error?.message).toMatch(/model purchases only/);
				expect(error?.description).toBe('Check "Monetary Value Field".');
			});

			it.runIf(hasCdnow)(
				'on the whole CDNOW summary reproduces lifetimes’ published BG/NBD fit (r 0.2426, alpha 4.4135, a 0.7929, b 2.4258)',
				async () => {
					const all = readCdnowCsv('cdnow_customers_summary.csv');
					expect(all).toHaveLength(2357);
					const summary = (await run({ ...purchasesOnly, clvOutput: 'summary' }, all)).json(
						'Node',
					)[0] as IDataObject & {
						bgnbd: {
							fitted: boolean;
							params: Record<string, number>;
							fit: { logLikelihood: number };
						};
					};
					expect(summary.bgnbd.fitted).toBe(true);
					// Published to 4 decimals: each must round to it.
					for (const [name, value] of Object.entries(CDNOW_BGNBD))
						expect(Math.abs(summary.bgnbd.params[name] - value), name).toBeLessThanOrEqual(
							5e-5 + 1e-9,
						);
					expect(summary.bgnbd.fit.logLikelihood).toBeCloseTo(-9582.43, 2);
				},
			);

			it('gives E[Y(t)] for any period (Options › Expected Purchases Period), consistent with the monthly horizon', async () => {
				const rows = (
					await run(
						{ ...purchasesOnly, horizonMonths: 6, clvOptions: { purchasePeriod: 2.5 } },
						head,
					)
				).json('Node');
				const sixMonths = (
					await run(
						{ ...purchasesOnly, horizonMonths: 6, clvOptions: { purchasePeriod: 6 * 4.345 } },
						head,
					)
				).json('Node');
				const summary = (
					await run(
						{ ...purchasesOnly, clvOutput: 'summary', clvOptions: { purchasePeriod: 2.5 } },
						head,
					)
				).json('Node')[0] as IDataObject & {
					bgnbd: { params: { r: number; alpha: number; a: number; b: number } };
				};
				expect(summary.purchasePeriod).toBe(2.5);
				head.forEach((c, i) => {
					const [x, tx, T] = [c.frequency as number, c.recency as number, c.T as number];
					expect(rows[i].expectedPurchasesInPeriod).toBeCloseTo(
						bgnbdConditionalExpectedPurchases(summary.bgnbd.params, 2.5, x, tx, T),
						12,
					);
					expect(sixMonths[i].expectedPurchasesInPeriod).toBeCloseTo(
						sixMonths[i].expectedPurchases as number,
						12,
					);
				});
				const bad = await run({ ...purchasesOnly, clvOptions: { purchasePeriod: -1 } }, head);
				expect(bad.error('Node')?.description).toBe('Check "Options › Expected Purchases Period".');
			});

			it('converts given weekly BG/NBD parameters when Time Unit is Days (alpha × 7), so days and weeks agree', async () => {
				const inDays = head.map((c) => ({
					...c,
					recency: (c.recency as number) * 7,
					T: (c.T as number) * 7,
				}));
				const weekly = { r: 0.2426, alpha: 4.4135, a: 0.7929, b: 2.4258 };
				// The form's defaults are weekly values, marked Fitted In › Weeks.
				const days = (
					await run(
						{
							...purchasesOnly,
							timeUnit: 'days',
							clvOptions: { bgnbd: { values: { ...weekly, unit: 'weeks' } }, purchasePeriod: 70 },
						},
						inDays,
					)
				).json('Node');
				const weeks = (
					await run(
						{
							...purchasesOnly,
							timeUnit: 'weeks',
							clvOptions: { bgnbd: { values: weekly }, purchasePeriod: 10 },
						},
						head,
					)
				).json('Node');
				weeks.forEach((w, i) => {
					expect(days[i].probabilityAlive).toBeCloseTo(w.probabilityAlive as number, 12);
					expect(days[i].expectedPurchasesInPeriod).toBeCloseTo(
						w.expectedPurchasesInPeriod as number,
						12,
					);
				});
				const summary = (
					await run(
						{
							...purchasesOnly,
							timeUnit: 'days',
							clvOutput: 'summary',
							clvOptions: { bgnbd: { values: { ...weekly, unit: 'weeks' } } },
						},
						inDays,
					)
				).json('Node')[0];
				expect(summary.bgnbd).toMatchObject({
					fitted: false,
					params: { r: 0.2426, alpha: 4.4135 * 7, a: 0.7929, b: 2.4258 },
				});
				// Parameters fitted in days are used as they are.
				const asGiven = (
					await run(
						{
							...purchasesOnly,
							timeUnit: 'days',
							clvOutput: 'summary',
							clvOptions: { bgnbd: { values: { ...weekly, unit: 'days' } } },
						},
						inDays,
					)
				).json('Node')[0];
				expect(asGiven.bgnbd).toMatchObject({ params: weekly });
			});
		});

		it('names the Monthly Discount Rate when it is out of range', async () => {
			const result = await run({ ...parameters, monthlyDiscountRate: 1.5 }, TRANSACTIONS);
			expect(result.error('Node')?.message).toMatch(
				/monthlyDiscountRate must be a fraction from 0 to below 1/,
			);
			expect(result.error('Node')?.description).toBe('Check "Monthly Discount Rate".');
		});
	});

	describe('Loyalty index', () => {
		const customers: IDataObject[] = Array.from({ length: 20 }, (_, i) => ({
			email: `c${i}@example.com`,
			orders: (i * 3) % 17,
			daysSinceLastOrder: (i * 11) % 90,
			nps: i % 5 === 0 ? null : (i * 7) % 11,
		}));
		const indicators = [
			{ field: 'orders', weight: 2, direction: 'higherIsBetter', normalisation: 'percentileRank' },
			{
				field: 'daysSinceLastOrder',
				label: 'recency',
				weight: 1,
				direction: 'lowerIsBetter',
				normalisation: 'minMax',
				useFixedBounds: true,
				min: 0,
				max: 60,
			},
			{
				field: 'nps',
				weight: 1.5,
				direction: 'higherIsBetter',
				normalisation: 'minMax',
				min: 3,
				max: 4,
			},
		];

		it('adds the engine’s index, band, coverage and contributions to each item, paired with itself', async () => {
			const result = await run(
				{ operation: 'loyaltyIndex', indicators: { indicator: indicators } },
				customers,
			);
			const expected = loyaltyIndex(customers, {
				indicators: [
					{
						field: 'orders',
						weight: 2,
						direction: 'higherIsBetter',
						normalisation: 'percentileRank',
					},
					{
						field: 'daysSinceLastOrder',
						label: 'recency',
						weight: 1,
						direction: 'lowerIsBetter',
						normalisation: 'minMax',
						min: 0,
						max: 60,
					},
					// Bounds without "Use Fixed Bounds" are not used.
					{ field: 'nps', weight: 1.5, direction: 'higherIsBetter', normalisation: 'minMax' },
				],
			});
			const items = result.items('Node');
			expect(items.map((i) => i.json)).toEqual(
				expected.rows.map((row) => ({
					...customers[row.item],
					loyaltyIndex: row.loyaltyIndex,
					loyaltyBand: row.band,
					loyaltyCoverage: row.coverage,
					loyaltyContributions: row.contributions,
				})),
			);
			items.forEach((item, i) => expect(item.pairedItem).toEqual({ item: i }));
			const partial = items.find((i) => i.json.nps === null)!;
			expect(partial.json.loyaltyCoverage).toBeCloseTo(3 / 4.5, 12);
		});

		it('gives a summary with custom bands and counts customers without any indicator', async () => {
			const withEmpty = [...customers, { email: 'nobody@example.com' }];
			const bands = {
				band: [
					{ name: 'Gold', min: 70 },
					{ name: 'Silver', min: 40 },
					{ name: 'Bronze', min: 0 },
				],
			};
			const result = await run(
				{
					operation: 'loyaltyIndex',
					indicators: { indicator: indicators.slice(0, 2) },
					bands: 'custom',
					customBands: bands,
					loyaltyOutput: 'summary',
				},
				withEmpty,
			);
			const expected = loyaltyIndex(withEmpty, {
				indicators: [
					{
						field: 'orders',
						weight: 2,
						direction: 'higherIsBetter',
						normalisation: 'percentileRank',
					},
					{
						field: 'daysSinceLastOrder',
						label: 'recency',
						weight: 1,
						direction: 'lowerIsBetter',
						normalisation: 'minMax',
						min: 0,
						max: 60,
					},
				],
				bands: bands.band,
			});
			const summary = result.json('Node')[0];
			expect(summary).toEqual(expected.summary);
			expect(summary.excluded).toEqual({ no_indicator_values: 1 });
			expect((summary.bands as IDataObject[]).map((b) => b.name)).toEqual([
				'Gold',
				'Silver',
				'Bronze',
			]);
		});

		it('puts an index exactly on a band’s minimum in that band (613 boundary cases of two weighted indicators)', async () => {
			const weights = [1, 2, 3, 0.1, 0.2, 0.3, 0.7, 1.5, 2.5];
			const grid: IDataObject[] = [];
			for (let a = 0; a <= 10; a++) for (let b = 0; b <= 10; b++) grid.push({ a, b });
			let boundary = 0;
			for (const wa of weights) {
				for (const wb of weights) {
					const indicator = (field: string, weight: number) => ({
						field,
						weight,
						normalisation: 'minMax',
						useFixedBounds: true,
						min: 0,
						max: 10,
					});
					const items = (
						await run(
							{
								operation: 'loyaltyIndex',
								indicators: { indicator: [indicator('a', wa), indicator('b', wb)] },
							},
							grid,
						)
					).json('Node');
					// Exact in integers: index = 10·(WA·a + WB·b)/(WA + WB) with WA, WB the weights × 10.
					const [WA, WB] = [Math.round(wa * 10), Math.round(wb * 10)];
					items.forEach((item, i) => {
						const { a, b } = grid[i] as { a: number; b: number };
						for (const [min, band] of [
							[80, 'Champion'],
							[60, 'Healthy'],
							[40, 'Needs Attention'],
						] as const) {
							if (10 * (WA * a + WB * b) !== min * (WA + WB)) continue;
							boundary++;
							expect(item.loyaltyIndex, `weights ${wa}, ${wb}; a ${a}, b ${b}`).toBe(min);
							expect(item.loyaltyBand, `weights ${wa}, ${wb}; a ${a}, b ${b}`).toBe(band);
						}
					});
				}
			}
			expect(boundary).toBe(613);
		});

		it('describes Percentile Rank as what it computes, and the form’s weight minimum is one the engine accepts', async () => {
			const { nodeTypes } = await loadPackage();
			const properties = (
				nodeTypes.getByName('n8n-nodes-referral-marketing.loyaltyInsights') as unknown as {
					description: { properties: IDataObject[] };
				}
			).description.properties;
			const values = (properties.find((p) => p.name === 'indicators')!.options as IDataObject[])[0]
				.values as IDataObject[];
			const percentile = (
				values.find((v) => v.name === 'normalisation')!.options as IDataObject[]
			).find((o) => o.value === 'percentileRank')!;
			expect(percentile.description).toMatch(/smallest value 0, largest 100/i);
			expect(percentile.description).toMatch(/ties share/i);
			// Five distinct values: evenly spaced ranks 0, 25, 50, 75, 100 (not "share with a smaller value": 0, 20, 40, 60, 80).
			const five = [3, 9, 1, 7, 5].map((orders) => ({ orders }));
			const scored = (
				await run(
					{
						operation: 'loyaltyIndex',
						indicators: { indicator: [{ field: 'orders', normalisation: 'percentileRank' }] },
					},
					five,
				)
			).json('Node');
			expect(scored.map((j) => j.loyaltyIndex)).toEqual([25, 100, 0, 75, 50]);
			const weight = values.find((v) => v.name === 'weight')!;
			const minValue = (weight.typeOptions as { minValue: number }).minValue;
			expect(minValue).toBeGreaterThan(0);
			const atMinimum = await run(
				{
					operation: 'loyaltyIndex',
					indicators: { indicator: [{ field: 'orders', weight: minValue }] },
				},
				five,
			);
			expect(atMinimum.json('Node').map((j) => j.loyaltyIndex)).toEqual([25, 100, 0, 75, 50]);
		});

		it('rejects a weight of 0 naming Indicators; no bands gives null bands', async () => {
			const zero = await run(
				{ operation: 'loyaltyIndex', indicators: { indicator: [{ field: 'orders', weight: 0 }] } },
				customers,
			);
			expect(zero.error('Node')?.message).toBe(
				'The weight of indicator "orders" must be a number above 0, got 0',
			);
			expect(zero.error('Node')?.description).toBe('Check "Indicators".');
			const none = await run(
				{
					operation: 'loyaltyIndex',
					indicators: { indicator: [{ field: 'orders' }] },
					bands: 'none',
				},
				customers,
			);
			expect(
				none
					.json('Node')
					.every((j) => j.loyaltyBand === null && typeof j.loyaltyIndex === 'number'),
			).toBe(true);
		});
	});

	describe('input the engine cannot use at all', () => {
		it('no usable transaction stops the node with a message naming the fields and the Date Field', async () => {
			const result = await run({ operation: 'rfm' }, [
				{ customerId: 'a', date: '03/05/2024', amount: 1 },
				{ customerId: 'b', date: 'soon', amount: 2 },
			]);
			const error = result.error('Node');
			expect(error?.message).toMatch(
				/^None of the 2 transactions could be used \(2 unparseable date\)\. Check the field names \("customerId", "date", "amount"\)/,
			);
			expect(error?.message).not.toContain('[item');
			expect(error?.description).toBe('Check "Date Field".');
		});

		it('an empty item (what an "Always Output Data" node sends for no data) gets a clear error, or one error item with Continue On Fail', async () => {
			const result = await run({ operation: 'clv' }, [{}]);
			expect(result.error('Node')?.message).toMatch(
				/^None of the 1 transactions could be used \(1 missing customer\)/,
			);
			expect(result.error('Node')?.description).toBe('Check "Customer ID Field".');
			const carried = await run({ operation: 'nps' }, [{}], true);
			expect(carried.json('Node')).toEqual([
				{
					error: {
						message:
							'None of the 1 items has an answer in "score"; answers must be whole numbers from 0 to 10',
						code: 'no_valid_responses',
						field: 'score',
						parameter: 'Score Field',
					},
				},
			]);
		});
	});
});
