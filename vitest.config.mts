import { defineConfig } from 'vitest/config';

export default defineConfig({
	test: {
		include: ['test/**/*.test.ts'],
		// *.e2e.test.ts start a real n8n: they run with `npm run test:e2e` (vitest.e2e.config.mts).
		exclude: [
			'test/e2e/**',
			'test/queue/**',
			'test/**/*.e2e.test.ts',
			'node_modules/**',
			'dist/**',
		],
		pool: 'forks',
		// Files share a worker process one after another instead of each getting a fresh one: n8n-core,
		// n8n-workflow, the engine and the built package load once per worker, not once per file (their
		// loading was more than half of the suite's time). No file needs a fresh process: each uses its
		// own database schema or file and fake servers on free ports, closes what it opens (afterAll),
		// and none mocks modules or globals. 8 files at load 17-20: 144-212 s isolated, 72 s not.
		isolate: false,
		testTimeout: 60_000,
		hookTimeout: 120_000,
	},
});
