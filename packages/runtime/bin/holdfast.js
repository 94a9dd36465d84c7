#!/usr/bin/env node
// The `holdfast` command.
//
// Installed as a dependency (the package lives under node_modules), it runs the built CLI in
// dist/, which `prepack` builds into every published package. In a checkout of the Holdfast
// repository (a workspace package, not under node_modules) it runs the TypeScript source through
// tsx, resolving the other @holdfast packages to their source too (the `holdfast:source`
// condition), so that nothing needs a build first and a stale dist/ is never what runs.
import { existsSync, realpathSync } from 'node:fs';
import { register } from 'node:module';
import { sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = realpathSync(fileURLToPath(import.meta.url));
const installed = here.split(sep).includes('node_modules');
const built = new URL('../dist/cli.js', import.meta.url);

if (installed) {
  if (!existsSync(built)) {
    process.stderr.write(`holdfast: ${fileURLToPath(built)} is missing: this copy of @holdfast/runtime was not built; reinstall it\n`);
    process.exit(1);
  }
  await import(built.href);
} else {
  const { register: registerTsx } = await import('tsx/esm/api');
  registerTsx();
  globalThis[Symbol.for('holdfast.tsx')] = true;
  // Registered after tsx, so it runs first and hands tsx the extra condition.
  register('./sourceConditions.mjs', import.meta.url);
  await import(new URL('../src/cli.ts', import.meta.url).href);
}
