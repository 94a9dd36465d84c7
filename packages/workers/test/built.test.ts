import { execFile } from 'node:child_process';
import { copyFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..', '..');
const run = promisify(execFile);

describe('built output', () => {
  // What an application gets from the registry: dist/ only, plain node, no loader and no
  // source condition. Behaviour modules load on the thread whether JavaScript or TypeScript.
  it('runs worker-hosted actors from the built packages, with JavaScript and TypeScript behaviour modules', async () => {
    const tsc = join(root, 'node_modules', '.bin', 'tsc');
    await run(tsc, ['-p', join(root, 'packages/core/tsconfig.build.json')], { cwd: root });
    // What `pnpm build` does for the workers package.
    await run(tsc, ['-p', join(root, 'packages/workers/tsconfig.build.json')], { cwd: root });
    copyFileSync(join(root, 'packages/workers/src/internal/bootstrap.mjs'), join(root, 'packages/workers/dist/internal/bootstrap.mjs'));
    const { stdout } = await run(process.execPath, [join(here, 'fixtures/built/run.mjs')], { cwd: here, timeout: 30_000 });
    const result = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}');
    expect(result).toEqual({
      resolved: expect.stringMatching(/\/packages\/workers\/dist\/index\.js$/),
      js: 2,
      ts: 102,
      hosts: ['workers#1', 'workers#1'],
      shutdown: true,
    });
  }, 120_000);
});
