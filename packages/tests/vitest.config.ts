import { defineProject, mergeConfig } from 'vitest/config';
import { shared } from '../../vitest.shared.js';

export default mergeConfig(
  shared,
  defineProject({
    // Real processes and real load: generous limits, and a file at a time within this project.
    test: {
      name: 'tests',
      include: ['test/**/*.test.ts'],
      testTimeout: 120_000,
      hookTimeout: 60_000,
      fileParallelism: false,
      setupFiles: ['./src/watchdog.ts'],
    },
  }),
);
