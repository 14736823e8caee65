import { defineConfig } from 'vitest/config';

// n8n in queue mode (main + workers on PostgreSQL and Redis) under concurrent load.
export default defineConfig({
	test: {
		include: ['test/queue/**/*.test.ts'],
		pool: 'forks',
		fileParallelism: false,
		testTimeout: 600_000,
		hookTimeout: 900_000,
	},
});
