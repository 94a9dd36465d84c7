import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineProject, mergeConfig } from 'vitest/config';
import { shared } from '../vitest.shared.js';

// The samples of the docs that are tests (```ts [name.test.ts]) run as tests: extract them first.
const here = dirname(fileURLToPath(import.meta.url));
execFileSync(process.execPath, [join(here, 'scripts', 'samples.mjs')], { stdio: 'ignore' });

export default mergeConfig(shared, defineProject({ test: { name: 'docs', include: ['test/**/*.test.ts', '.samples/**/*.test.ts'] } }));
