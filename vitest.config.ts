import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    // End-to-end tests start several processes each; on a shared two-CPU machine under load a
    // passing one has taken 60-100 s. Every wait inside a test has its own, shorter bound.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
