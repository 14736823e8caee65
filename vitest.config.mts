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
		testTimeout: 60_000,
		hookTimeout: 120_000,
	},
});
