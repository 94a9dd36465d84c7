import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { appDir, startService } from '../../src/service.js';

const app = appDir('showcase');

describe('showcase service', () => {
  it('runs under holdfast run: transfers over HTTP conserve the total, refusals map to 409/400, SIGTERM drains and exits 0', async () => {
    const socket = join(mkdtempSync(join(os.tmpdir(), 'showcase-')), 'debug.sock');
    const { child, front, admin, logs, exited } = await startService(app, ['--config', 'port=0', '--debug-socket', socket]);
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
      expect((await fetch(`${front}/accounts/nobody`)).status).toBe(404);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(logs.at(-1)).toMatchObject({ msg: 'stopped', clean: true, exitCode: 0 });
    } finally {
      child.kill('SIGKILL');
    }
  });
});
