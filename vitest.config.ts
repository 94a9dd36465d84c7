import { defineConfig } from 'vitest/config';

// One run over every workspace package, so that CI gets one result file and one count.
export default defineConfig({
  test: {
    projects: ['packages/*/vitest.config.ts', 'apps/*/vitest.config.ts', 'docs/vitest.config.ts'],
  },
});
