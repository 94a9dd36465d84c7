// holdfast run with a store: --store / HOLDFAST_STORE, the store opened before serving, its
// metrics, /readyz while it cannot be used, the REPL's view of a durable actor, and the errors a
// bad or unreachable store gives.
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { DebugClient, runOnce } from '@holdfast/repl';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURE, get, parseMetrics, runCli, type Started, startFixture, until } from '../../src/cli.js';
import { startPostgres, type TestPostgres } from '../../src/postgres.js';

async function repl(socket: string, line: string): Promise<string> {
  const client = await DebugClient.connect({ socket }, 'test');
  let text = '';
  try {
    await runOnce(client, line, { json: false, write: (t) => (text += t) });
  } finally {
    client.close();
  }
  return text;
}

describe('holdfast run with a store', () => {
  let pg: TestPostgres | null = null;
  beforeAll(async () => {
    pg = await startPostgres();
  }, 60_000);
  afterAll(() => pg?.stop());

  it('keeps a durable actor in the SQLite file it is given, across a restart; metrics, /readyz and the REPL show it', async () => {
    const path = join(mkdtempSync(join(os.tmpdir(), 'holdfast-run-store-')), 'fixture.db');
    let s: Started = await startFixture(['--store', `sqlite:${path}`]);
    try {
      expect(s.logs.find((l) => l.msg === 'store opened')).toMatchObject({ store: `sqlite:${path}`, epoch: 1 });
      expect(await get(`${s.admin}/readyz`)).toEqual({ status: 200, body: 'ready\n' });
      for (let i = 1; i <= 3; i++) expect(await get(`${s.front}/tally`)).toEqual({ status: 200, body: String(i) });
      const m = parseMetrics((await get(`${s.admin}/metrics`)).body);
      expect(m.get('holdfast_store_writes_total{service="fixture"}')).toBe(3);
      expect(m.get('holdfast_store_available{service="fixture"}')).toBe(1);
      expect(m.get('holdfast_durable_actors_active{service="fixture"}')).toBe(1);
      expect(m.get('holdfast_store_commit_batch_size_count{service="fixture"}')).toBe(m.get('holdfast_store_commits_total{service="fixture"}'));
      // The REPL: the durable actor's standing with the store, and putting it to sleep.
      expect(await repl(s.socket, '.state tally')).toContain('durable: revision 3, schema version 1, committed');
      expect(await repl(s.socket, '.passivate tally')).toBe('tally is asleep (its state is stored; its next message wakes it)\n');
      expect(await repl(s.socket, '.actors tally')).not.toContain('tally ');
      expect(await repl(s.socket, '.stats')).toMatch(/durable\.passivations\s+1\n/);
      expect(await repl(s.socket, '.passivate worker')).toBe("INVALID_ARGUMENT: passivate: 'worker' is not a durable actor\n");
      // Asleep, it is still reachable: the REPL wakes it from the store.
      expect(await repl(s.socket, '.state tally')).toBe('tally (tally) running, incarnation 1\n{ n: 3 }\ndurable: revision 3, schema version 1, committed\n');
      expect(await repl(s.socket, '.state nobody')).toBe("ACTOR_NOT_FOUND: no actor 'nobody'\n");
      expect(await get(`${s.front}/tally`)).toEqual({ status: 200, body: '4' });
      s.child.kill('SIGTERM');
      expect(await s.exited).toBe(0);
      // The same file, through the environment: the count goes on; the new process owns a newer epoch.
      s = await startFixture([], { HOLDFAST_STORE: `sqlite:${path}` });
      expect(s.logs.find((l) => l.msg === 'store opened')).toMatchObject({ epoch: 2 });
      expect(await get(`${s.front}/tally`)).toEqual({ status: 200, body: '5' });
      s.child.kill('SIGTERM');
      expect(await s.exited).toBe(0);
    } finally {
      s.child.kill('SIGKILL');
    }
  });

  it('on PostgreSQL: /readyz goes 503 and durable asks fail fast once the server is gone', async () => {
    const server = pg as TestPostgres;
    server.createDatabase('fixture_run');
    const s = await startFixture(['--store', server.url('fixture_run')]);
    try {
      expect(await get(`${s.front}/tally`)).toEqual({ status: 200, body: '1' });
      expect((await get(`${s.admin}/readyz`)).status).toBe(200);
      server.stop();
      pg = null;
      // The write fails, the store is probed, and from then on it is reported down.
      const failed = await get(`${s.front}/tally`);
      expect(failed.status).toBe(503);
      await until(async () => (await get(`${s.admin}/readyz`)).status === 503, '/readyz 503');
      const t0 = Date.now();
      const fast = await get(`${s.front}/tally`);
      expect([fast.status, JSON.parse(fast.body).error]).toEqual([503, 'STORE_UNAVAILABLE']);
      expect(Date.now() - t0).toBeLessThan(1_000);
      expect(parseMetrics((await get(`${s.admin}/metrics`)).body).get('holdfast_store_available{service="fixture"}')).toBe(0);
    } finally {
      s.child.kill('SIGKILL');
    }
  }, 60_000);

  it('refuses a store it cannot use: a bad spec is a usage error (2), an unreachable server fails the start (1)', async () => {
    const bad = await runCli(['run', FIXTURE, '--admin-port', '0', '--no-debug', '--store', 'mysql://x']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('invalid setting --store (HOLDFAST_STORE)="mysql://x"');
    const secret = await runCli(['run', FIXTURE, '--admin-port', '0', '--no-debug', '--store', 'postgres://u:hunter2@[bad']);
    expect(secret.code).toBe(2);
    expect(secret.stderr).not.toContain('hunter2');
    const down = await runCli(['run', FIXTURE, '--admin-port', '0', '--no-debug', '--no-pretty', '--store', 'postgres://holdfast@127.0.0.1:1/nothing']);
    expect(down.code).toBe(1);
    expect(down.stdout).toContain('the store could not be opened');
  }, 60_000);
});
