import { defineConfig } from 'vitest/config';

// `nx e2e engine-e2e` (`npm run e2e`): the engine as separate processes from the bundles. One file, steps in
// order; the waits inside are bounded (see e2e/*.spec.ts).
export default defineConfig({
  test: {
    include: ['e2e/**/*.spec.ts'],
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
