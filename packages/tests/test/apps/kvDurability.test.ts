// No acknowledged write is ever lost: the kv service runs as a real process under 12 concurrent
// writers, is killed with SIGKILL at random moments, restarted on the same store, and every key is
// checked against what its writer saw acknowledged. Against SQLite (a real file) and PostgreSQL (a
// real server started here).
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type TestPostgres } from '../../src/postgres.js';
import { appDir, request as call, freshStore, type RunningService, startService, until } from '../../src/service.js';

const app = appDir('kv');
const WRITERS = 12;
const KEYS_PER_WRITER = 3;
const ROUNDS = 4;

/** Per key: the last value its writer saw acknowledged, and whether an increment was in flight when the process died. */
interface KeyRecord {
  acked: number;
  inFlight: boolean;
}

/**
 * Run rounds of: start kv on `storeArgs`, check every key, write with 12 writers (each owns its
 * keys, so it knows exactly what was acknowledged), SIGKILL at a random moment.
 */
async function killAndCheck(storeArgs: readonly string[]): Promise<{ acknowledged: number; uncertain: number; landedUnacknowledged: number }> {
  const keys = new Map<string, KeyRecord>();
  for (let w = 0; w < WRITERS; w++) for (let k = 0; k < KEYS_PER_WRITER; k++) keys.set(`w${w}-k${k}`, { acked: 0, inFlight: false });
  let acknowledged = 0;
  let uncertain = 0;
  let landedUnacknowledged = 0;
  for (let round = 0; round <= ROUNDS; round++) {
    const s: RunningService = await startService(app, ['--config', 'port=0', ...storeArgs]);
    const agent = new http.Agent({ keepAlive: true, maxSockets: WRITERS + 4 });
    try {
      // Every acknowledged increment is there; an increment cut off by the kill either landed whole or not at all.
      for (const [key, rec] of keys) {
        const r = await call(agent, `${s.front}/kv/${key}`, 'GET');
        const found = r.status === 404 ? { value: '0', version: 0 } : (JSON.parse(r.body) as { value: string; version: number });
        const value = Number(found.value);
        const allowed = rec.inFlight ? [rec.acked, rec.acked + 1] : [rec.acked];
        expect(allowed, `${key} after round ${round}: stored ${found.value} (version ${found.version})`).toContain(value);
        // Whole, never half-applied: each increment moves value and version together.
        expect(found.version).toBe(value);
        if (value === rec.acked + 1) landedUnacknowledged++;
        rec.acked = value;
        rec.inFlight = false;
      }
      if (round === ROUNDS) {
        s.child.kill('SIGTERM');
        expect(await s.exited).toBe(0);
        break;
      }
      let dead = false;
      const writer = async (w: number) => {
        for (let i = 0; !dead; i++) {
          const key = `w${w}-k${i % KEYS_PER_WRITER}`;
          const rec = keys.get(key) as KeyRecord;
          rec.inFlight = true;
          let r: { status: number; body: string };
          try {
            r = await call(agent, `${s.front}/kv/${key}/incr?by=1`, 'POST');
          } catch {
            return; // The process died with this increment in flight: it stays uncertain.
          }
          if (r.status !== 200) throw new Error(`${key}: ${r.status} ${r.body}`);
          const v = Number((JSON.parse(r.body) as { value: string }).value);
          expect(v).toBe(rec.acked + 1);
          rec.acked = v;
          rec.inFlight = false;
          acknowledged++;
        }
      };
      const writers = Array.from({ length: WRITERS }, (_, w) => writer(w));
      await new Promise((r) => setTimeout(r, 300 + Math.random() * 700));
      s.child.kill('SIGKILL');
      await s.exited;
      dead = true;
      await Promise.all(writers);
      for (const rec of keys.values()) if (rec.inFlight) uncertain++;
    } finally {
      agent.destroy();
      s.child.kill('SIGKILL');
    }
  }
  return { acknowledged, uncertain, landedUnacknowledged };
}

describe('kv under SIGKILL: no acknowledged write is lost', () => {
  let pg: TestPostgres | null = null;
  beforeAll(async () => {
    pg = await startPostgres();
  }, 60_000);
  afterAll(() => pg?.stop());

  it('on SQLite (synchronous=FULL): 4 kills at random moments under 12 writers; every acknowledged increment is there, none half-applied', async () => {
    const r = await killAndCheck(freshStore('kv').args);
    expect(r.acknowledged).toBeGreaterThan(200);
    console.log(
      `sqlite: ${r.acknowledged} acknowledged increments survived ${ROUNDS} SIGKILLs; ${r.uncertain} in flight at a kill, ${r.landedUnacknowledged} of them landed`,
    );
  }, 120_000);

  it('on PostgreSQL: the same', async () => {
    const server = pg as TestPostgres;
    server.createDatabase('kv_kill');
    const r = await killAndCheck(['--store', server.url('kv_kill')]);
    expect(r.acknowledged).toBeGreaterThan(200);
    console.log(
      `postgres: ${r.acknowledged} acknowledged increments survived ${ROUNDS} SIGKILLs; ${r.uncertain} in flight at a kill, ${r.landedUnacknowledged} of them landed`,
    );
  }, 120_000);

  it('two processes on one SQLite file: the second takes over with a newer epoch; the first one’s writes are refused (503 COMMIT_FAILED, STORE_FENCED) and never land', async () => {
    const store = freshStore('kv').args;
    const first = await startService(app, ['--config', 'port=0', ...store]);
    let second: RunningService | null = null;
    const agent = new http.Agent({ keepAlive: true });
    try {
      expect((await call(agent, `${first.front}/kv/owner/incr?by=1`, 'POST')).status).toBe(200);
      second = await startService(app, ['--config', 'port=0', ...store]);
      expect(second.logs.find((l) => l.msg === 'store opened')).toMatchObject({ epoch: 2 });
      expect(first.logs.find((l) => l.msg === 'store opened')).toMatchObject({ epoch: 1 });
      expect(JSON.parse((await call(agent, `${second.front}/kv/owner/incr?by=10`, 'POST')).body)).toMatchObject({ value: '11', version: 2 });
      // The first process still runs, with the key in memory at 1: its write is fenced off.
      const refused = await call(agent, `${first.front}/kv/owner/incr?by=100`, 'POST');
      expect([refused.status, JSON.parse(refused.body).error]).toEqual([503, 'COMMIT_FAILED']);
      // (The log line comes through its pipe in its own time.)
      await until(() => first.logs.some((l) => l.msg === 'store: a newer owner took over; durable actors here are fenced off'), 'the fenced log line');
      // From then on it fails fast, and says it is not ready.
      const fast = await call(agent, `${first.front}/kv/other`, 'GET');
      expect([fast.status, JSON.parse(fast.body).error]).toEqual([503, 'STORE_UNAVAILABLE']);
      expect((await fetch(`${first.admin}/readyz`)).status).toBe(503);
      expect(JSON.parse((await call(agent, `${second.front}/kv/owner`, 'GET')).body)).toMatchObject({ value: '11', version: 2 });
    } finally {
      agent.destroy();
      first.child.kill('SIGKILL');
      second?.child.kill('SIGKILL');
    }
  });
});
