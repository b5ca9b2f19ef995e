import { defineConfig } from 'vitest/config';

// `nx run engine-e2e:stack`: the root README's walkthrough against the compose stack (Docker engine needed;
// the first image builds take a few minutes).
export default defineConfig({
  test: {
    include: ['stack/**/*.spec.ts'],
    environment: 'node',
    testTimeout: 300_000,
    hookTimeout: 900_000,
    fileParallelism: false,
  },
});
