import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { appDir, freshStore, startService } from '../../src/service.js';

const app = appDir('showcase');

describe('showcase service', () => {
  it('runs under holdfast run: transfers over HTTP conserve the total, refusals map to 409/400, SIGTERM drains and exits 0', async () => {
    const socket = join(mkdtempSync(join(os.tmpdir(), 'showcase-')), 'debug.sock');
    const { child, front, admin, logs, exited } = await startService(app, ['--config', 'port=0', '--debug-socket', socket, ...freshStore('showcase').args]);
    try {
      expect(logs.find((l) => l.msg === 'service started')).toMatchObject({ debugSocket: socket });
      expect((await fetch(`${admin}/readyz`)).status).toBe(200);
      const ids = ['alice', 'bob', 'carol'];
      const transfers = await Promise.all(
        Array.from({ length: 60 }, (_, i) =>
          fetch(`${front}/transfer?from=${ids[i % 3]}&to=${ids[(i + 1) % 3]}&amount=${1 + (i % 7)}`, { method: 'POST' }).then((r) => r.status),
        ),
      );
      expect(transfers).toEqual(Array.from({ length: 60 }, () => 200));
      const balances = (await (await fetch(`${front}/accounts`)).json()) as Record<string, number>;
      expect(Object.values(balances).reduce((a, b) => a + b, 0)).toBe(3_000);
      const refused = await fetch(`${front}/transfer?from=alice&to=bob&amount=1000000`, { method: 'POST' });
      expect(refused.status).toBe(409);
      expect(await refused.json()).toMatchObject({ error: 'INSUFFICIENT_FUNDS' });
      const invalid = await fetch(`${front}/transfer?from=alice&to=bob&amount=-5`, { method: 'POST' });
      expect(invalid.status).toBe(400);
      expect(await invalid.json()).toMatchObject({ error: 'INVALID_MESSAGE', issues: [{ path: ['amount'] }] });
      // An idempotency key moves money once, however often it is sent.
      const twice = [];
      for (let i = 0; i < 2; i++) twice.push(await fetch(`${front}/transfer?from=carol&to=alice&amount=5&id=once`, { method: 'POST' }).then((r) => r.json()));
      expect(twice).toEqual([
        { ok: true, id: 'once' },
        { ok: true, id: 'once' },
      ]);
      expect(await (await fetch(`${front}/transfers/once`)).json()).toEqual({ id: 'once', stage: 'done', error: null });
      const after = (await (await fetch(`${front}/accounts`)).json()) as Record<string, number>;
      expect([after.carol, after.alice]).toEqual([(balances.carol as number) - 5, (balances.alice as number) + 5]);
      expect((await fetch(`${front}/transfer?from=carol&to=alice&amount=6&id=once`, { method: 'POST' })).status).toBe(409);
      expect((await fetch(`${front}/transfer?from=alice&to=nobody&amount=1`, { method: 'POST' })).status).toBe(404);
      expect(Object.values((await (await fetch(`${front}/accounts`)).json()) as Record<string, number>).reduce((a, b) => a + b, 0)).toBe(3_000);
      expect((await fetch(`${front}/accounts/nobody`)).status).toBe(404);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(logs.at(-1)).toMatchObject({ msg: 'stopped', clean: true, exitCode: 0 });
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('keeps its money across SIGKILL: transfers cut off mid-flight are finished by their reminders after a restart, and the total holds', async () => {
    const store = freshStore('showcase').args;
    const ids = ['alice', 'bob', 'carol'];
    const sent: string[] = [];
    for (let round = 0; round < 3; round++) {
      const s = await startService(app, ['--config', 'port=0', ...store]);
      try {
        let dead = false;
        const client = async (c: number) => {
          for (let i = 0; !dead; i++) {
            const id = `r${round}-c${c}-${i}`;
            sent.push(id);
            try {
              await fetch(`${s.front}/transfer?from=${ids[(c + i) % 3]}&to=${ids[(c + i + 1) % 3]}&amount=${1 + ((c * 7 + i) % 13)}&id=${id}`, {
                method: 'POST',
              });
            } catch {
              return;
            }
          }
        };
        const clients = Array.from({ length: 8 }, (_, c) => client(c));
        await new Promise((r) => setTimeout(r, 300 + Math.random() * 500));
        s.child.kill('SIGKILL');
        await s.exited;
        dead = true;
        await Promise.all(clients);
      } finally {
        s.child.kill('SIGKILL');
      }
    }
    const s = await startService(app, ['--config', 'port=0', ...store]);
    try {
      // Every transfer that was recorded ends done or refused (the reminders drive the rest, 1 s apart).
      const deadline = Date.now() + 30_000;
      let stages: string[] = [];
      for (;;) {
        stages = await Promise.all(sent.map(async (id) => ((await (await fetch(`${s.front}/transfers/${id}`)).json()) as { stage: string }).stage));
        if (stages.every((st) => st === 'done' || st === 'refused' || st === 'new')) break;
        if (Date.now() > deadline) throw new Error(`not final: ${stages.filter((st) => st !== 'done' && st !== 'refused' && st !== 'new').join(', ')}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(stages.filter((st) => st === 'done').length).toBeGreaterThan(50);
      const balances = (await (await fetch(`${s.front}/accounts`)).json()) as Record<string, number>;
      expect(Object.values(balances).reduce((a, b) => a + b, 0)).toBe(3_000);
      s.child.kill('SIGTERM');
      expect(await s.exited).toBe(0);
    } finally {
      s.child.kill('SIGKILL');
    }
  }, 90_000);
});
