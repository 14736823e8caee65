import { defineConfig } from 'vitest/config';

// n8n in queue mode (main + workers on PostgreSQL and Redis) under concurrent load.
export default defineConfig({
	test: {
		include: ['test/queue/**/*.test.ts'],
		pool: 'forks',
		fileParallelism: false,
		testTimeout: 1_200_000, // beside the n8n 2.x e2e lane in CI; at load 23 the load test ran past 600 s
		hookTimeout: 900_000,
	},
});
