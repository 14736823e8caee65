import { defineConfig } from 'vitest/config';

// End-to-end tests against a real n8n (installed once into .cache by scripts/n8n.mjs).
export default defineConfig({
	test: {
		// test/scripts: npm start itself (scripts/n8n-runner.mjs) with a real n8n.
		include: ['test/e2e/**/*.e2e.test.ts', 'test/scripts/**/*.e2e.test.ts'],
		pool: 'forks',
		fileParallelism: false,
		testTimeout: 180_000,
		hookTimeout: 900_000,
	},
});
