/* Templated Message › Render through n8n's own execution engine (the in-process workflow harness,
 * dist/ loaded as n8n loads a community package): the time per item at 100,000 items against the
 * time per item at 1,000 items in the same run. No growth per item means a ratio near 1 (the target
 * allows 0.8: timing noise on a shared machine). Run `npm run build` first.
 * Run: npm run bench -- templatedMessage */
import { performance } from 'node:perf_hooks';
import { runWorkflow, singleNodeWorkflow } from '../test/harness';
import { report } from './lib';

const SMALL = 1_000;
const LARGE = Number(process.env.TEMPLATED_BENCH_ITEMS ?? 100_000);
const ROUNDS = 3;

const person = (i: number) => ({
	name: `ann ${i}`,
	referrer: 'Bob',
	amount: 15 + (i % 7),
	link: `https://shop.example.test/r/BOB-${i}?utm_source=referral`,
	email: `person${i}@example.test`,
});

const operations = [
	{
		name: 'SMS',
		parameters: {
			resource: 'sms',
			operation: 'render',
			smsText:
				'Hi {{capitalize name}}, {{referrer}} sent you {{formatCurrency amount "EUR"}} off: {{link}}',
		},
	},
	{
		name: 'email',
		parameters: {
			resource: 'email',
			operation: 'render',
			subject: '{{referrer}} sent you {{formatCurrency amount "EUR"}}',
			html: '<p>Hi {{capitalize name}},</p><p><a href="{{safeUrl link}}">Claim your reward</a></p>',
		},
	},
];

/** Microseconds per item of one execution over `count` items. */
async function perItem(parameters: object, count: number): Promise<number> {
	const items = Array.from({ length: count }, (_, i) => person(i));
	const start = performance.now();
	const result = await runWorkflow(
		singleNodeWorkflow({ type: 'templatedMessage', parameters: parameters as never }, items),
	);
	const elapsed = performance.now() - start;
	const out = result.items('Node');
	if (out.length !== count || !out[count - 1].json.rendered)
		throw new Error(`expected ${count} rendered items, got ${out.length}`);
	return (elapsed * 1000) / count;
}

async function main(): Promise<void> {
	for (const operation of operations) {
		await perItem(operation.parameters, SMALL); // warm-up: load, compile, JIT
		// Interleaved, best of each: load that comes and goes hits both sizes alike.
		let small = Infinity;
		let large = Infinity;
		for (let round = 0; round < ROUNDS; round++) {
			small = Math.min(small, await perItem(operation.parameters, SMALL));
			large = Math.min(large, await perItem(operation.parameters, LARGE));
		}
		report({
			name: `Templated Message › Render (${operation.name}) per item at ${LARGE.toLocaleString('en')} items`,
			baseline: `the same per item at ${SMALL.toLocaleString('en')} items, same run`,
			baselineSeconds: small / 1e6,
			subject: `one execution of ${LARGE.toLocaleString('en')} items (n8n-core WorkflowExecute, harness)`,
			subjectSeconds: large / 1e6,
			target: 0.8,
			note: `${small.toFixed(1)} µs/item at ${SMALL.toLocaleString('en')}, ${large.toFixed(1)} µs/item at ${LARGE.toLocaleString('en')} (best of ${ROUNDS})`,
		});
	}
}

main().catch((error) => {
	console.error(error);
	process.exit(1);
});
