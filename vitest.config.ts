import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Real servers on loopback and real retries: generous per-test time on a shared 2-core machine.
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
