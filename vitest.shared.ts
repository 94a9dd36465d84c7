import { defineConfig } from 'vitest/config';

/** The settings every package's tests share: workspace packages resolve to their TypeScript source. */
export const shared = defineConfig({
  resolve: { conditions: ['holdfast:source', 'module', 'node', 'import', 'default'] },
  ssr: { resolve: { conditions: ['holdfast:source', 'module', 'node', 'import', 'default'], externalConditions: ['holdfast:source'] } },
  test: {
    environment: 'node',
    testTimeout: 20_000,
    hookTimeout: 20_000,
    typecheck: { enabled: true, include: ['test/**/*.test-d.ts'], tsconfig: './tsconfig.json' },
  },
});
