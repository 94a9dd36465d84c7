// Nodes as real processes through the holdfast bin (`--cluster`), on a real NATS server and a real
// PostgreSQL: a node killed with SIGKILL, a node paused with SIGSTOP and woken, and a rolling
// restart of every node under load.
import http from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ClusterNode, settled } from '../../src/cluster.js';
import { startNats, type TestNats } from '../../src/nats.js';
import { startPostgres, type TestPostgres } from '../../src/postgres.js';
import { request } from '../../src/service.js';

let nats: TestNats;
let pg: TestPostgres;
let clusters = 0;
beforeAll(async () => {
  [nats, pg] = await Promise.all([startNats(), startPostgres()]);
}, 60_000);
afterAll(async () => {
  await nats?.stop();
  pg?.stop();
});

const nodes: ClusterNode[] = [];
afterEach(async () => {
  await Promise.all(nodes.splice(0).map((n) => n.kill()));
});

const SHARDS = 16;

async function cluster(names: readonly string[]): Promise<ClusterNode[]> {
  const database = `failover_${++clusters}`;
  pg.createDatabase(database);
  const made = names.map((name) => new ClusterNode(name, { nats, pg, database, cluster: `f${clusters}`, shards: SHARDS }));
  nodes.push(...made);
  // One after the other: the first opens the schema and the accounts.
  for (const n of made) await n.start();
  await settled(made, SHARDS);
  return made;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
async function call(node: ClusterNode, method: string, path: string, body?: string, headers?: Record<string, string>) {
  const r = await request(agent, `${node.front}${path}`, method, body, headers);
  return { status: r.status, body: JSON.parse(r.body) as Record<string, unknown> };
}

/** The shard a node serves that holds witness `id`, found by asking: the witness says where it runs. */
async function witnessOn(via: ClusterNode, node: string): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const r = await call(via, 'POST', `/witness/w${i}`);
    if (r.status === 200 && r.body.node === node) return `w${i}`;
  }
  throw new Error(`no witness found on ${node}`);
}

describe('a cluster of processes', () => {
  it('serves a SIGKILLed node’s shards from the others, with every acknowledged write kept and a keyed ask answered once', async () => {
    const [a, b, c] = (await cluster(['node-a', 'node-b', 'node-c'])) as [ClusterNode, ClusterNode, ClusterNode];
    const onC = await witnessOn(a, 'node-c');
    // A keyed touch, answered by node c before it dies: its reply is kept with the witness's state.
    const keyed = await call(a, 'POST', `/witness/${onC}`, undefined, { 'idempotency-key': 'touch-once' });
    expect([keyed.status, keyed.body.node, keyed.body.n]).toEqual([200, 'node-c', 2]);
    const acked = new Map<string, string>();
    let stop = false;
    let unknown = 0;
    const writer = (async () => {
      for (let i = 0; !stop; i++) {
        const key = `k${i}`;
        const r = await call(i % 2 === 0 ? a : b, 'PUT', `/kv/${key}?timeoutMs=5000`, `v${i}`).catch(() => null);
        if (r?.status === 200) acked.set(key, `v${i}`);
        else {
          unknown++;
          // A node that is down fails at once: wait a little, so that the loop never spins.
          await new Promise((r) => setTimeout(r, 10));
        }
      }
    })();
    let after: Record<string, unknown> | null = null;
    try {
      await new Promise((r) => setTimeout(r, 500));
      await c.kill();
      // The witness that lived on node c answers again, from a or b, with a newer epoch. (Retried
      // with one key: a try that timed out but was applied is not counted twice.)
      for (let i = 0; i < 200 && after === null; i++) {
        const r = await call(a, 'POST', `/witness/${onC}?timeoutMs=2000`, undefined, { 'idempotency-key': 'after-kill' });
        if (r.status === 200) after = r.body;
        else expect([503, 504]).toContain(r.status);
      }
      expect(['node-a', 'node-b']).toContain(after?.node);
      expect(after?.n).toBe(3);
      // Retried after the failover (through the other node), the keyed touch gets the reply node c
      // gave, and counts nothing again.
      expect(await call(b, 'POST', `/witness/${onC}`, undefined, { 'idempotency-key': 'touch-once' })).toEqual(keyed);
      expect((await call(b, 'GET', `/witness/${onC}`)).body.n).toBe(3);
      const owned = await settled([a, b], SHARDS);
      expect([...owned.values()].map((s) => s.length).sort()).toEqual([8, 8]);
    } finally {
      // However the test ends, the writer ends with it.
      stop = true;
      await writer;
    }
    expect(acked.size).toBeGreaterThan(50);
    for (const [key, value] of acked) {
      const r = await call(b, 'GET', `/kv/${key}`);
      expect([key, r.status, r.body.value]).toEqual([key, 200, value]);
    }
    // The witness's history: node c, then its new owner, at a newer epoch.
    const h = (await call(b, 'GET', `/witness/${onC}`)).body as { owners: Array<[number, string, number]> };
    expect(h.owners.map(([, node]) => node)).toEqual(['node-c', after?.node]);
    const [first, second] = h.owners.map(([epoch]) => epoch);
    expect(second).toBeGreaterThan(first as number);
    expect(unknown).toBeLessThan(acked.size);
  }, 90_000);

  it('settles asks in flight to a node that is SIGKILLed: a keyed one is sent to the new owner and answered once, an unkeyed one fails with NODE_LOST', async () => {
    const [a, b] = (await cluster(['node-a', 'node-b'])) as [ClusterNode, ClusterNode];
    const onB = await witnessOn(a, 'node-b');
    // Both reach node b and wait there (the first naps, the second queues behind it) when it dies.
    const unkeyed = call(a, 'POST', `/witness/${onB}/nap?ms=3000&timeoutMs=20000`);
    await new Promise((r) => setTimeout(r, 100));
    const keyed = call(a, 'POST', `/witness/${onB}/nap?ms=0&timeoutMs=20000`, undefined, { 'idempotency-key': 'nap-once' });
    await new Promise((r) => setTimeout(r, 300));
    await b.kill();
    // Whether it was applied is unknown (it was not: its turn never committed): the caller is told.
    const lost = await unkeyed;
    expect([lost.status, lost.body.error]).toEqual([503, 'NODE_LOST']);
    // Safe to send again: the new owner ran it, from the state node b last committed.
    const done = await keyed;
    expect([done.status, done.body.node, done.body.n]).toEqual([200, 'node-a', 2]);
    expect(await call(a, 'POST', `/witness/${onB}/nap?ms=0`, undefined, { 'idempotency-key': 'nap-once' })).toEqual(done);
    expect((await call(a, 'GET', `/witness/${onB}`)).body.n).toBe(2);
  }, 90_000);

  it('fences a node paused with SIGSTOP: its shards are taken over, and when it wakes it serves them no more', async () => {
    const [a, b] = (await cluster(['node-a', 'node-b'])) as [ClusterNode, ClusterNode];
    const onB = await witnessOn(a, 'node-b');
    b.pause();
    // Node a finds b silent, takes its shards: the witness answers from a.
    let taken: Record<string, unknown> | null = null;
    for (let i = 0; i < 200 && taken === null; i++) {
      const r = await call(a, 'POST', `/witness/${onB}?timeoutMs=1000`);
      if (r.status === 200) taken = r.body;
      else expect([503, 504]).toContain(r.status);
    }
    expect(taken?.node).toBe('node-a');
    b.resume();
    // Woken, b serves nothing it lost; asked through b, the witness still runs on a.
    const through = await call(b, 'POST', `/witness/${onB}?timeoutMs=5000`);
    expect([through.status, through.body.node]).toEqual([200, 'node-a']);
    const h = (await call(a, 'GET', `/witness/${onB}`)).body as { owners: Array<[number, string, number]> };
    expect(h.owners.slice(0, 2).map(([, node]) => node)).toEqual(['node-b', 'node-a']);
    const epochs = h.owners.map(([e]) => e);
    expect(epochs).toEqual([...epochs].sort((x, y) => x - y));
    expect(new Set(epochs).size).toBe(epochs.length);
    // Then the two share the shards again.
    const owned = await settled([a, b], SHARDS);
    expect([...owned.values()].map((s) => s.length)).toEqual([8, 8]);
  }, 90_000);

  it('restarts every node in turn under load (SIGTERM: hand-over) without a failed ask', async () => {
    const all = await cluster(['node-a', 'node-b', 'node-c']);
    let restarting: ClusterNode | null = null;
    let stop = false;
    const failures: Array<{ status: number; body: unknown }> = [];
    let ok = 0;
    const load = Array.from({ length: 8 }, async (_, w) => {
      for (let i = 0; !stop; i++) {
        const via = all.filter((n) => n !== restarting && n.running);
        const node = via[i % via.length] as ClusterNode;
        const r = await call(node, 'POST', `/witness/r${(w * 7 + i) % 24}?timeoutMs=15000`);
        if (r.status === 200) ok++;
        else failures.push(r);
      }
    });
    try {
      await new Promise((r) => setTimeout(r, 300));
      for (const n of all) {
        restarting = n;
        expect(await n.terminate()).toBe(0);
        await n.start();
        await settled(all, SHARDS);
        restarting = null;
        await new Promise((r) => setTimeout(r, 200));
      }
    } finally {
      // However the test ends, the load ends with it.
      stop = true;
      await Promise.allSettled(load);
    }
    await Promise.all(load);
    expect(failures).toEqual([]);
    expect(ok).toBeGreaterThan(100);
  }, 120_000);
});
