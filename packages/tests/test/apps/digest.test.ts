import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { MAX_ROUNDS } from '@holdfast/example-digest/protocol';
import { describe, expect, it } from 'vitest';
import { appDir, startService, until } from '../../src/service.js';

const app = appDir('digest');

/** The expected digest, computed here independently of the service. */
function expected(text: string, rounds: number): string {
  let d = createHash('sha256').update(text).digest();
  for (let i = 1; i < rounds; i++) d = createHash('sha256').update(d).digest();
  return d.toString('hex');
}

/** The same, computed in another process: big ones would block this test's event loop for seconds. */
async function expectedElsewhere(text: string, rounds: number): Promise<string> {
  const code = `const { createHash } = require('node:crypto'); let d = createHash('sha256').update(process.argv[1]).digest(); for (let i = 1; i < Number(process.argv[2]); i++) d = createHash('sha256').update(d).digest(); process.stdout.write(d.toString('hex'));`;
  const { stdout } = await promisify(execFile)(process.execPath, ['-e', code, text, String(rounds)]);
  return stdout;
}

describe('digest service (hashers on worker threads)', () => {
  it('computes digests on worker threads while the front stays responsive, survives a stuck thread, and drains on SIGTERM', async () => {
    const { child, front, admin, logs, exited } = await startService(app, ['--config', 'port=0', '--config', 'heartbeatMs=500', '--config', 'allowStall=true']);
    try {
      const metric = async (name: string) => {
        const text = await (await fetch(`${admin}/metrics`)).text();
        const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes('host="hashers"'));
        return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
      };
      const digest = (text: string, rounds: number) =>
        fetch(`${front}/digest?rounds=${rounds}`, { method: 'POST', body: text }).then(async (r) => ({
          status: r.status,
          body: (await r.json()) as Record<string, unknown>,
        }));

      // A heavy batch: 24 texts × 40,000 rounds. The main thread only routes; a ping sent after
      // the batch starts is answered before the batch is done.
      const texts = Array.from({ length: 24 }, (_, i) => `block-${i}`);
      let batchDone = 0;
      const batch = Promise.all(texts.map((t) => digest(t, 40_000))).then((rs) => {
        batchDone = performance.now();
        return rs;
      });
      await new Promise((r) => setTimeout(r, 50));
      const ping = await fetch(`${front}/ping`);
      const pingDone = performance.now();
      expect(ping.status).toBe(200);
      const results = await batch;
      expect(pingDone).toBeLessThan(batchDone);
      expect(results.map((r) => r.status)).toEqual(texts.map(() => 200));
      expect(results.map((r) => r.body.hex)).toEqual(texts.map((t) => expected(t, 40_000)));
      expect(results.every((r) => r.body.cached === false)).toBe(true);
      // The same text again goes to the same hasher, which has it cached.
      const again = await digest('block-3', 40_000);
      expect(again.body).toMatchObject({ hex: expected('block-3', 40_000), cached: true, actor: results[3]?.body.actor });

      const before = (await (await fetch(`${front}/stats`)).json()) as {
        hashers: Record<string, { served: number }>;
        placement: Record<string, string>;
        threads: { replaced: number };
      };
      expect(Object.values(before.hashers).reduce((a, h) => a + h.served, 0)).toBe(25);
      expect(before.threads.replaced).toBe(0);
      expect(await metric('holdfast_worker_threads')).toBe(2);
      expect(await metric('holdfast_worker_threads_replaced_total')).toBe(0);
      // h0 and h2 share a thread (placed least-loaded first: h0, h1, h2, h3 → threads 1, 2, 1, 2).
      expect(before.placement).toMatchObject({ h0: 'hashers#1', h1: 'hashers#2', h2: 'hashers#1', h3: 'hashers#2' });

      // A handler that never returns: its thread is found by its heartbeat and replaced.
      const stall = await fetch(`${front}/stall?actor=0`, { method: 'POST' });
      expect(stall.status).toBe(503);
      expect(stall.headers.get('retry-after')).toBe('1');
      expect(await stall.json()).toEqual({ error: 'WORKER_LOST', message: 'unavailable: try again shortly' });
      const after = (await (await fetch(`${front}/stats`)).json()) as typeof before;
      expect(after.threads.replaced).toBe(1);
      expect(await metric('holdfast_worker_threads_replaced_total')).toBe(1);
      // The actors of the lost thread restarted with fresh state; the others kept theirs.
      expect(after.hashers.h0?.served).toBe(0);
      expect(after.hashers.h2?.served).toBe(0);
      expect(after.hashers.h1?.served).toBe(before.hashers.h1?.served);
      expect(after.hashers.h3?.served).toBe(before.hashers.h3?.served);
      expect(after.placement).toMatchObject({ h0: 'hashers#3', h1: 'hashers#2', h2: 'hashers#3', h3: 'hashers#2' });
      expect(await digest('block-0', 1_000)).toMatchObject({ status: 200, body: { hex: expected('block-0', 1_000) } });

      const invalid = await fetch(`${front}/digest?rounds=0`, { method: 'POST', body: 'x' });
      expect(invalid.status).toBe(400);
      const pastCap = await fetch(`${front}/digest?rounds=${MAX_ROUNDS + 1}`, { method: 'POST', body: 'x' });
      expect([pastCap.status, ((await pastCap.json()) as { issues: Array<{ path: string[] }> }).issues[0]?.path]).toEqual([400, ['querystring', 'rounds']]);

      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(logs.at(-1)).toMatchObject({ msg: 'stopped', clean: true, exitCode: 0 });
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('takes big jobs in slices: a small job is answered while big ones on its hasher run; a full hasher says BUSY', async () => {
    const svc = await startService(app, [
      '--config',
      'port=0',
      '--config',
      'hashers=1',
      '--config',
      'threads=1',
      '--config',
      'maxJobs=3',
      '--config',
      'heartbeatMs=500',
    ]);
    try {
      const order: string[] = [];
      const post = (name: string, text: string, rounds: number) =>
        fetch(`${svc.front}/digest?rounds=${rounds}`, { method: 'POST', body: text }).then(async (r) => {
          order.push(name);
          return { status: r.status, retryAfter: r.headers.get('retry-after'), body: (await r.json()) as Record<string, unknown> };
        });
      // Three big jobs (each ~30 slices) fill the only hasher; a fourth is refused at once.
      const BIG = 600_000;
      const big = [0, 1, 2].map((i) => post(`big${i}`, `big-${i}`, BIG));
      const want = Promise.all([0, 1, 2].map((i) => expectedElsewhere(`big-${i}`, BIG)));
      await until(async () => ((await (await fetch(`${svc.front}/stats`)).json()) as { hashers: { h0: { jobs: number } } }).hashers.h0.jobs === 3, '3 jobs');
      const refused = await post('refused', 'big-3', BIG);
      expect(refused).toMatchObject({ status: 503, retryAfter: '1', body: { error: 'BUSY', details: { jobs: 3, maxJobs: 3 } } });
      // A small job on the same hasher, sent while the three run: it takes its turn between their slices.
      const small = await post('small', 'small', 1_000);
      expect(small).toMatchObject({ status: 200, body: { hex: expected('small', 1_000), rounds: 1_000 } });
      const bigs = await Promise.all(big);
      expect(order.slice(0, 2)).toEqual(['refused', 'small']);
      expect(bigs.map((b) => [b.status, b.body.hex])).toEqual((await want).map((hex) => [200, hex]));
      const stats = (await (await fetch(`${svc.front}/stats`)).json()) as { threads: { replaced: number } };
      expect(stats.threads.replaced).toBe(0);
      const text = await (await fetch(`${svc.admin}/metrics`)).text();
      expect(text).toContain('digest_busy_total{hasher="h0",service="digest"} 1');
      svc.child.kill('SIGTERM');
      expect(await svc.exited).toBe(0);
    } finally {
      svc.child.kill('SIGKILL');
    }
  });

  it('runs a whole job at the cap in one turn, beating from inside its synchronous loop, without losing its thread', async () => {
    // One slice is the whole job: ~3.6 s in one synchronous turn, against a 500 ms thread heartbeat.
    const svc = await startService(app, ['--config', 'port=0', '--config', `sliceRounds=${MAX_ROUNDS}`, '--config', 'heartbeatMs=500']);
    try {
      const want = expectedElsewhere('one turn', MAX_ROUNDS);
      const r = await fetch(`${svc.front}/digest?rounds=${MAX_ROUNDS}`, { method: 'POST', body: 'one turn' });
      expect([r.status, ((await r.json()) as { hex: string }).hex]).toEqual([200, await want]);
      const stats = (await (await fetch(`${svc.front}/stats`)).json()) as { threads: { replaced: number } };
      expect(stats.threads.replaced).toBe(0);
      svc.child.kill('SIGTERM');
      expect(await svc.exited).toBe(0);
    } finally {
      svc.child.kill('SIGKILL');
    }
  });
});
