import { defineConfig } from 'vitest/config';

/**
 * Shared vitest config: every package re-exports this from its own `vitest.config.ts`.
 * Tests never sleep to let things settle, so the timeouts are the outer bound of a wait, not a pace.
 */
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Outer bounds of waits, not a pace: tests wait on events. Generous because CI has 2 cores and real
    // child processes start slowly under load. Two cores: real processes and sockets are more reliable
    // without heavy parallelism.
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default'],
    restoreMocks: true,
  },
});
