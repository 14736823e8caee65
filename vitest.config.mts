import { defineConfig } from 'vitest/config';

export default defineConfig({
	test: {
		include: ['test/**/*.test.ts'],
		exclude: ['test/e2e/**', 'test/queue/**', 'node_modules/**', 'dist/**'],
		pool: 'forks',
		testTimeout: 60_000,
		hookTimeout: 120_000,
	},
});
