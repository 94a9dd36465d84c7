// The packages as a user outside this repository gets them: packed with `pnpm pack`, installed
// with npm into a new project, and its TypeScript service run through the `holdfast` bin (no
// build step of the user's), with an HTTP front and an actor on a worker thread; then
// `holdfast repl` attached to it, a durable actor in the embedded SQLite store (better-sqlite3 built
// by npm) killed with SIGKILL and read back, and a drain on SIGTERM.
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { root } from '../src/service.js';

const run = promisify(execFile);
/** In dependency order: each package's prepack builds it against the ones packed before it. */
const PACKAGES = ['core', 'repl', 'http', 'workers', 'store-sqlite', 'runtime'];

const SERVICE = `import { createHttpFront } from '@holdfast/http';
import { defineService } from '@holdfast/runtime';
import { createWorkerHost, workerActor } from '@holdfast/workers';
import { defineActor, defineProtocol } from '@holdfast/core';
import { z } from 'zod';
import { SquareProtocol } from './protocol.js';

const Square = workerActor(SquareProtocol, new URL('./square.actor.ts', import.meta.url));
const Tally = defineActor(defineProtocol('tally', { add: { input: z.object({}), reply: z.number() } }), {
  durable: { schema: z.object({ n: z.number().int() }) },
  init: () => ({ n: 0 }),
  handlers: { add: (s) => ++s.n },
});

export default defineService({
  name: 'outside',
  store: 'sqlite',
  config: z.object({ port: z.coerce.number().int().default(0) }),
  async start({ system, config, log, metrics }) {
    const host = createWorkerHost({ threads: 1 });
    const square = system.spawn(Square, { id: 'square', host });
    const front = createHttpFront({ name: 'outside', log, metrics });
    front.app.post('/tally', () => system.ref(Tally, 'tally').ask('add', {}));
    front.app.get('/square/:n', { schema: { params: z.object({ n: z.coerce.number().int() }) } }, (req) => square.ask('square', { n: req.params.n }));
    log.info({ front: await front.listen({ port: config.port, host: '127.0.0.1' }) }, 'front listening');
    return front.close;
  },
});
`;

const PROTOCOL = `import { defineProtocol } from '@holdfast/core';
import { z } from 'zod';
export const SquareProtocol = defineProtocol('square', { square: { input: z.object({ n: z.number().int() }), reply: z.object({ n: z.number(), square: z.number(), thread: z.boolean() }) } });
`;

const ACTOR = `import { isMainThread } from 'node:worker_threads';
import { defineActor } from '@holdfast/core';
import { SquareProtocol } from './protocol.js';
export default defineActor(SquareProtocol, { init: () => ({}), handlers: { square: (_s, { n }) => ({ n, square: n * n, thread: !isMainThread }) } });
`;

describe('the packages as installed', () => {
  it('run a TypeScript service through the holdfast bin of a project outside this repository, attach the repl to it, and keep the writes of a durable actor across a SIGKILL', async () => {
    const work = mkdtempSync(join(os.tmpdir(), 'holdfast-installed-'));
    const packs = join(work, 'packs');
    mkdirSync(packs);
    const pnpm = join(root, 'node_modules', '.bin', 'pnpm');
    for (const p of PACKAGES) await run(pnpm, ['pack', '--pack-destination', packs], { cwd: join(root, 'packages', p), timeout: 120_000 });
    const tarballs = readdirSync(packs);
    expect(tarballs.sort()).toEqual(PACKAGES.map((p) => `holdfast-${p}-0.1.0.tgz`).sort());

    const project = join(work, 'project');
    mkdirSync(join(project, 'src'), { recursive: true });
    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify({
        name: 'outside',
        private: true,
        type: 'module',
        dependencies: { ...Object.fromEntries(PACKAGES.map((p) => [`@holdfast/${p}`, `file:${join(packs, `holdfast-${p}-0.1.0.tgz`)}`])), zod: '^4.6.7' },
      }),
    );
    writeFileSync(join(project, 'src', 'service.ts'), SERVICE);
    writeFileSync(join(project, 'src', 'protocol.ts'), PROTOCOL);
    writeFileSync(join(project, 'src', 'square.actor.ts'), ACTOR);
    // npm as a user runs it: without the npm_config_* settings this repository's own scripts run under.
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith('npm_config_')));
    await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: project, env, timeout: 300_000 });

    const bin = join(project, 'node_modules', '.bin', 'holdfast');
    const help = await run(bin, ['--help'], { cwd: project, env });
    expect(help.stdout).toContain('Usage: holdfast [options] [command]');
    expect(help.stdout).toMatch(/run \[options\] <entry>/);

    const socket = join(work, 'debug.sock');
    const start = async () => {
      const child = spawn(bin, ['run', 'src/service.ts', '--admin-port', '0', '--no-pretty', '--debug-socket', socket], { cwd: project, env });
      const exited = new Promise<number | string | null>((r) => child.on('close', (code, signal) => r(code ?? signal)));
      const logs: Array<Record<string, unknown>> = [];
      let stderr = '';
      child.stderr.on('data', (d) => {
        stderr += d;
      });
      const front = await new Promise<string>((resolve, reject) => {
        let buffered = '';
        let url = '';
        child.stdout.on('data', (d: Buffer) => {
          buffered += d.toString();
          for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
            const line = JSON.parse(buffered.slice(0, nl)) as Record<string, unknown>;
            buffered = buffered.slice(nl + 1);
            logs.push(line);
            if (typeof line.front === 'string') url = line.front;
            if (line.msg === 'service started') resolve(url);
          }
        });
        void exited.then((code) => reject(new Error(`exited (${code}): ${stderr}`)));
      });
      return { child, exited, logs, front };
    };
    const tally = async (front: string) => (await fetch(`${front}/tally`, { method: 'POST' })).text();
    let { child, exited, logs, front } = await start();
    try {
      // It runs from the built packages: the runtime under node_modules, not this checkout's source.
      expect(logs.some((l) => l.msg === 'service started')).toBe(true);
      const r = await fetch(`${front}/square/12`);
      expect([r.status, await r.json()]).toEqual([200, { n: 12, square: 144, thread: true }]);

      const repl = await run(bin, ['repl', '--socket', socket, '--eval', '.actors', '--json'], { cwd: project, env });
      const actors = JSON.parse(repl.stdout) as Array<{ id: string; type: string; host: string }>;
      expect(actors.map((a) => [a.id, a.type])).toEqual([['square', 'square']]);
      expect(actors[0]?.host).toMatch(/^workers#\d+$/);

      // A durable actor in the embedded store (data/outside.db): its acknowledged writes survive a SIGKILL.
      expect([await tally(front), await tally(front), await tally(front)]).toEqual(['1', '2', '3']);
      expect(logs.find((l) => l.msg === 'store opened')).toMatchObject({ store: `sqlite:${join(project, 'data', 'outside.db')}` });
      child.kill('SIGKILL');
      expect(await exited).toBe('SIGKILL');
      ({ child, exited, logs, front } = await start());
      expect(await tally(front)).toBe('4');

      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(logs.at(-1)).toMatchObject({ msg: 'stopped', clean: true, exitCode: 0 });
    } finally {
      child.kill('SIGKILL');
    }
    // Packing six packages and an npm install with a native addon (better-sqlite3) take about two
    // minutes here, more on a slow network.
  }, 360_000);
});
