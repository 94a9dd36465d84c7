import { createHash } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { startService } from '../../../scripts/testing/service.js';

const app = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The expected digest, computed here independently of the service. */
function expected(text: string, rounds: number): string {
  let d = createHash('sha256').update(text).digest();
  for (let i = 1; i < rounds; i++) d = createHash('sha256').update(d).digest();
  return d.toString('hex');
}

describe('digest service (hashers on worker threads)', () => {
  it('computes digests on worker threads while the front stays responsive, survives a stuck thread, and drains on SIGTERM', async () => {
    const { child, front, admin, logs, exited } = await startService(app, 'src/service.ts', [
      '--config',
      'port=0',
      '--config',
      'heartbeatMs=500',
      '--config',
      'allowStall=true',
    ]);
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
      expect(await stall.json()).toEqual({ error: 'the worker thread was lost; retry', actor: 'h0' });
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

      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(logs.at(-1)).toMatchObject({ msg: 'stopped', clean: true, exitCode: 0 });
    } finally {
      child.kill('SIGKILL');
    }
  });
});
