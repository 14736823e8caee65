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
		// Each file gets a fresh worker process (isolate). Sharing one across files loaded n8n and the
		// engine once instead of per file (8 files at load 17-20: 72 s instead of 144-212 s), but the
		// files' PostgreSQL pools then outlived them: in a clean-clone CI the replay matrix on PostgreSQL
		// failed with "sorry, too many clients already" (max_connections 100). Sharing comes back once
		// every file closes what it opens.
		isolate: true,
		testTimeout: 60_000,
		hookTimeout: 120_000,
		// Two groups, named in the report: the files that load n8n and the engine's own. n8n-workflow
		// patches globals (BigInt.prototype.toJSON), which the engine's tests must not see (a BigInt in
		// ledger metadata is refused there); isolation keeps them apart in any case.
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
