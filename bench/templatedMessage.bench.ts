/* Templated Message › Render through n8n's own execution engine (the in-process workflow harness,
 * dist/ loaded as n8n loads a community package): the time per item of one execution of 100,000
 * items against the time per item of executions of 1,000 items covering as many items, in the same
 * run. No growth per item means a ratio near 1 (the target allows 0.8: timing noise on a shared
 * machine). Run `npm run build` first.
 * Run: npm run bench -- templatedMessage */
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { runWorkflow, singleNodeWorkflow } from '../test/harness';
import { report } from './lib';

const SMALL = 1_000;
const LARGE = Number(process.env.TEMPLATED_BENCH_ITEMS ?? 100_000);
/** Rounds of both sizes back to back, alternating which goes first; odd, so one round holds the median ratio. */
const ROUNDS = 3;

// A full collection before each measurement, outside it: garbage one measurement left behind is not
// collected (and billed) inside the next.
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

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

/**
 * Microseconds per item of executions over `count` items each, as many as cover `total` items: both
 * sizes then process as many items and collect the garbage they make within their measurement (a
 * single short execution ends before any collection; its garbage would be billed to whatever runs next).
 */
async function perItem(parameters: object, count: number, total = count): Promise<number> {
	const items = Array.from({ length: count }, (_, i) => person(i));
	const executions = Math.max(1, Math.round(total / count));
	collectGarbage();
	const start = performance.now();
	for (let execution = 0; execution < executions; execution++) {
		const result = await runWorkflow(
			singleNodeWorkflow({ type: 'templatedMessage', parameters: parameters as never }, items),
		);
		const out = result.items('Node');
		if (out.length !== count || !out[count - 1].json.rendered)
			throw new Error(`expected ${count} rendered items, got ${out.length}`);
	}
	const elapsed = performance.now() - start;
	return (elapsed * 1000) / (count * executions);
}

async function main(): Promise<void> {
	for (const operation of operations) {
		await perItem(operation.parameters, SMALL, SMALL * 10); // warm-up: load, compile, JIT
		// Both sizes back to back in each round, so load that comes and goes hits them alike.
		const rounds: Array<{ small: number; large: number }> = [];
		for (let round = 0; round < ROUNDS; round++) {
			const measure = {
				small: () => perItem(operation.parameters, SMALL, LARGE),
				large: () => perItem(operation.parameters, LARGE),
			};
			const order = round % 2 === 0 ? (['small', 'large'] as const) : (['large', 'small'] as const);
			const times = { small: 0, large: 0 };
			for (const size of order) times[size] = await measure[size]();
			rounds.push(times);
		}
		rounds.sort((a, b) => a.small / a.large - b.small / b.large);
		const { small, large } = rounds[(ROUNDS - 1) / 2];
		report({
			name: `Templated Message › Render (${operation.name}) per item at ${LARGE.toLocaleString('en')} items`,
			baseline: `the same per item in executions of ${SMALL.toLocaleString('en')} items, same run`,
			baselineSeconds: small / 1e6,
			subject: `one execution of ${LARGE.toLocaleString('en')} items (n8n-core WorkflowExecute, harness)`,
			subjectSeconds: large / 1e6,
			target: 0.8,
			note: `${small.toFixed(1)} µs/item in ${Math.round(LARGE / SMALL)} executions of ${SMALL.toLocaleString('en')}, ${large.toFixed(1)} µs/item in one of ${LARGE.toLocaleString('en')} (median of ${ROUNDS} rounds)`,
		});
	}
}

main().catch((error) => {
	console.error(error);
	process.exit(1);
});
