import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// The arrows between packages that docs/concepts/architecture.md draws: each package may import
// only the packages listed here, and nothing imports a package's internals.
const ROOT = resolve(import.meta.dirname, '../../..');
const ALLOWED: Record<string, readonly string[]> = {
  core: [],
  workers: ['core'],
  http: ['core'],
  repl: ['core'],
  runtime: ['core', 'repl', 'store-sqlite', 'store-postgres', 'nats'],
  'store-sqlite': ['core'],
  'store-postgres': ['core'],
  nats: ['core'],
};
const PACKAGES = Object.keys(ALLOWED);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.(ts|mts|js|mjs)$/.test(e.name) && !e.name.endsWith('.d.ts'))
    .map((e) => join(e.parentPath, e.name));
}

/** The module specifiers a file re-exports from. */
function reexports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:^|\n)\s*export\b[^'"`;]*?from\s*['"]([^'"]+)['"]/g)].map((m) => m[1] as string);
}

/** Every module specifier a file imports or re-exports (static and dynamic). */
function specifiers(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const found: string[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"`;]*?from\s*['"]([^'"]+)['"]/g)) found.push(m[1] as string);
  for (const m of text.matchAll(/(?:^|\n)\s*import\s*['"]([^'"]+)['"]/g)) found.push(m[1] as string);
  for (const m of text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) found.push(m[1] as string);
  return found;
}

describe('the architecture', () => {
  it.each(PACKAGES)('%s imports only the packages it may, and none through a relative path', (name) => {
    const dir = join(ROOT, 'packages', name, 'src');
    const used = new Set<string>();
    const escapes: string[] = [];
    for (const file of sourceFiles(dir)) {
      for (const spec of specifiers(file)) {
        const pkg = /^@holdfast\/([^/]+)/.exec(spec)?.[1];
        if (pkg !== undefined) used.add(pkg);
        if (spec.startsWith('.') && !resolve(file, '..', spec).startsWith(join(ROOT, 'packages', name))) escapes.push(`${relative(ROOT, file)} → ${spec}`);
      }
    }
    used.delete(name);
    expect([...used].filter((p) => !ALLOWED[name]?.includes(p))).toEqual([]);
    expect(escapes).toEqual([]);
    // What the code imports is what the manifest declares.
    // A driver a package loads only when asked for (the runtime's stores) is an optional peer.
    const manifest = JSON.parse(readFileSync(join(ROOT, 'packages', name, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
      peerDependencies?: Record<string, string>;
    };
    const declared = [...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.peerDependencies ?? {})]
      .filter((d) => d.startsWith('@holdfast/'))
      .map((d) => d.slice('@holdfast/'.length));
    expect(declared.sort()).toEqual([...used].sort());
  });

  it.each(PACKAGES)('%s: no public module re-exports from internal/, and no other package imports its internals', (name) => {
    const manifest = JSON.parse(readFileSync(join(ROOT, 'packages', name, 'package.json'), 'utf8')) as {
      exports: Record<string, null | string | Record<string, string>>;
    };
    const entries = Object.values(manifest.exports)
      .map((e) => (e !== null && typeof e === 'object' ? e['holdfast:source'] : undefined))
      .filter((e): e is string => e !== undefined);
    expect(entries.length).toBeGreaterThan(0);
    for (const entry of entries) {
      const internal = reexports(join(ROOT, 'packages', name, entry)).filter((s) => s.includes('/internal/'));
      expect({ entry, internal }).toEqual({ entry, internal: [] });
    }
    const deep: string[] = [];
    for (const other of [...PACKAGES, '../apps']) {
      const dir = other === '../apps' ? join(ROOT, 'apps') : join(ROOT, 'packages', other, 'src');
      for (const file of sourceFiles(dir).filter((f) => !f.includes('node_modules'))) {
        for (const spec of specifiers(file)) if (spec.startsWith(`@holdfast/${name}/internal`)) deep.push(`${relative(ROOT, file)} → ${spec}`);
      }
    }
    expect(deep).toEqual([]);
  });

  it.each([
    ['@holdfast/core/internal/cell/Cell.js'],
    ['@holdfast/core/src/internal/ReplyChannel.ts'],
    ['@holdfast/core/dist/internal/HostSeamImpl.js'],
    ['@holdfast/workers/internal/wire.js'],
    ['@holdfast/runtime/internal/debugServer.js'],
    ['@holdfast/http/src/createHttpFront.ts'],
    ['@holdfast/repl/client'],
    ['@holdfast/store-sqlite/src/sqliteStore.ts'],
    ['@holdfast/store-postgres/src/postgresStore.ts'],
  ])('the exports map refuses %s to a user’s import', (spec) => {
    // A real Node resolution, as a user's code gets it (not the test runner's resolver).
    const r = spawnSync(
      process.execPath,
      ['--input-type=module', '-e', `import(${JSON.stringify(spec)}).then(() => console.log('loaded'), (e) => console.log(e.code))`],
      {
        cwd: join(ROOT, 'packages', 'tests'),
        encoding: 'utf8',
      },
    );
    expect(r.stdout.trim()).toBe('ERR_PACKAGE_PATH_NOT_EXPORTED');
  });
});
