import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';

const docs = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(docs, '.vitepress', 'dist');
const bin = (name: string) => join(docs, 'node_modules', '.bin', name);

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

/** Where an internal href leads in the built site (clean URLs: /a/b → a/b.html or a/b/index.html). */
function target(from: string, href: string): string | null {
  const path = href.split('#')[0]?.split('?')[0] ?? '';
  if (path === '') return from;
  const abs = path.startsWith('/') ? join(dist, path) : join(dirname(from), path);
  for (const candidate of [abs, `${abs}.html`, join(abs, 'index.html')]) if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  return null;
}

describe('the documentation site', () => {
  let build = { stdout: '', stderr: '' };
  beforeAll(async () => {
    // The API reference from the doc comments, then the site (VitePress fails on a dead link).
    await promisify(execFile)(bin('typedoc'), ['--options', 'typedoc.json'], { cwd: docs, timeout: 120_000 });
    build = await promisify(execFile)(bin('vitepress'), ['build'], { cwd: docs, timeout: 180_000 });
  }, 300_000);

  it('builds every page of the sidebar, the API reference of every public entry point, and the benchmarks', () => {
    expect(build.stdout).toContain('build complete');
    const pages = [
      'index.html',
      'getting-started.html',
      'concepts/owner-loop.html',
      'concepts/reply-channels.html',
      'concepts/supervision.html',
      'concepts/workers.html',
      'concepts/durable-actors.html',
      'concepts/cluster.html',
      'concepts/architecture.html',
      'guides/running-a-service.html',
      'guides/durable-actors.html',
      'guides/deploying-a-cluster.html',
      'guides/debug-repl.html',
      'guides/testing-actors.html',
      'guides/patterns.html',
      'guides/from-go.html',
      'guides/from-nact-xstate.html',
      'reference/debug-protocol.html',
      'benchmarks.html',
      'api/index.html',
    ];
    for (const page of pages) expect(existsSync(join(dist, page)), page).toBe(true);
    // The home page's front matter was read as such (its hero and features are rendered).
    const home = readFileSync(join(dist, 'index.html'), 'utf8');
    expect(home).toContain('Stateful services on Node.js, without races');
    expect(home).toContain('Reply channels that settle once');
    for (const entry of [
      'core',
      'core/testing',
      'core/host',
      'core/store',
      'core/cluster',
      'runtime',
      'http',
      'workers',
      'repl',
      'repl/protocol',
      'store-sqlite',
      'store-postgres',
      'nats',
    ]) {
      expect(existsSync(join(dist, 'api', '@holdfast', entry, 'index.html')), entry).toBe(true);
    }
    // Public exports, with their doc comments' examples.
    const createSystem = readFileSync(join(dist, 'api/@holdfast/core/functions/createSystem.html'), 'utf8');
    expect(createSystem).toContain('Create an actor system');
    expect(createSystem).toContain('Example');
    for (const page of [
      'functions/defineProtocol',
      'functions/defineActor',
      'classes/ActorRef',
      'classes/ActorSystem',
      'functions/gather',
      'variables/RateLimiter',
    ]) {
      expect(existsSync(join(dist, 'api/@holdfast/core', `${page}.html`)), page).toBe(true);
    }
  });

  it('has no broken internal link or anchor in any built page', () => {
    const broken: string[] = [];
    const html = files(dist).filter((f) => f.endsWith('.html'));
    const ids = new Map<string, Set<string>>();
    const idsOf = (file: string) => {
      let set = ids.get(file);
      if (set === undefined) {
        set = new Set([...readFileSync(file, 'utf8').matchAll(/\sid="([^"]+)"/g)].map((m) => m[1] as string));
        ids.set(file, set);
      }
      return set;
    };
    let checked = 0;
    for (const file of html) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/<a [^>]*href="([^"]+)"/g)) {
        const href = (m[1] as string).replaceAll('&amp;', '&');
        if (/^[a-z]+:/i.test(href) || href.startsWith('//')) continue; // external
        checked++;
        const to = target(file, href);
        if (to === null) {
          broken.push(`${relative(dist, file)} → ${href}`);
          continue;
        }
        const anchor = href.includes('#') ? decodeURIComponent(href.slice(href.indexOf('#') + 1)) : '';
        if (anchor !== '' && to.endsWith('.html') && !idsOf(to).has(anchor)) broken.push(`${relative(dist, file)} → ${href} (no such anchor)`);
      }
    }
    expect(checked).toBeGreaterThan(500);
    expect(broken).toEqual([]);
  });
});
