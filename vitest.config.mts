import { defineConfig } from 'vitest/config';

// Files that load n8n (n8n-workflow, n8n-core, the built nodes through the workflow harness).
const loadsN8n = [
	'test/nodes/**/*.test.ts',
	'test/unit/nodes/router.test.ts',
	'test/unit/messaging/smtp.test.ts',
	'test/unit/editorLabels.test.ts',
];
// *.e2e.test.ts start a real n8n: they run with `npm run test:e2e` (vitest.e2e.config.mts).
const notHere = [
	'test/e2e/**',
	'test/queue/**',
	'test/**/*.e2e.test.ts',
	'node_modules/**',
	'dist/**',
];

export default defineConfig({
	test: {
		pool: 'forks',
		// Files share a worker process one after another instead of each getting a fresh one: n8n-core,
		// n8n-workflow, the engine and dist/ load once per worker, not once per file (that loading was
		// more than half of the suite's time; 8 files at load 17-20: 144-212 s isolated, 72 s not).
		// No file mocks modules or globals; each uses its own schema, database file and free ports.
		isolate: false,
		testTimeout: 60_000,
		hookTimeout: 120_000,
		// Two groups, and vitest starts fresh worker processes between them: n8n-workflow patches
		// globals (BigInt.prototype.toJSON), which the engine's tests must not see (a BigInt in ledger
		// metadata is refused there).
		projects: [
			{ extends: true, test: { name: 'n8n', include: loadsN8n, exclude: notHere } },
			{
				extends: true,
				test: {
					name: 'engine',
					include: ['test/**/*.test.ts'],
					exclude: [...notHere, ...loadsN8n],
				},
			},
		],
	},
});
