import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

/** The installed versions of the peers the bench runs against. */
export function peerVersions(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of ['async-mutex', 'nact', 'xstate', 'comedy', 'effect']) {
    out[name] = versionOf(name);
  }
  return out;
}

function versionOf(name: string): string {
  try {
    // Not every package exports its package.json: walk up from its entry point.
    for (let dir = dirname(require.resolve(name)); dir !== dirname(dir); dir = dirname(dir)) {
      const file = join(dir, 'package.json');
      if (!existsSync(file)) continue;
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === name && pkg.version !== undefined) return pkg.version;
    }
  } catch {
    // Not installed: say so.
  }
  return 'unknown';
}
