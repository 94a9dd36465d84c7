import { defineConfig } from 'vitest/config';

/** The settings every package's tests share: workspace packages resolve to their TypeScript source. */
export const shared = defineConfig({
  // Not 'import' or 'module': vitest hands these to Node as --conditions, and Node would then take a
  // package's ESM entry for a require() too (pg's require('pg-pool') would get a module namespace).
  resolve: { conditions: ['holdfast:source', 'node', 'default'] },
  ssr: { resolve: { conditions: ['holdfast:source', 'node', 'default'], externalConditions: ['holdfast:source'] } },
  test: {
    environment: 'node',
    testTimeout: 20_000,
    hookTimeout: 20_000,
    typecheck: { enabled: true, include: ['test/**/*.test-d.ts'], tsconfig: './tsconfig.json' },
  },
});
