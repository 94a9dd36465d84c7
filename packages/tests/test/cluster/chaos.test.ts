// The chaos test: three node processes (the holdfast bin, `--cluster`), a real NATS server and a
// real PostgreSQL, under concurrent bank transfers, kv writes and witness touches, while for a
// minute nodes are SIGKILLed and restarted, SIGSTOPped and woken, and restarted with SIGTERM, at
// random (one at a time). Then:
// - money is conserved: once every transfer is final, the balances sum to what was opened;
// - every acknowledged kv write is there, with its value;
// - no actor ever had two owners: each witness's committed history of (epoch, node) has strictly
//   increasing epochs, and an epoch belongs to one node only, across all witnesses;
// - every request was answered with a reply or a coded error (no 500, nothing uncoded).
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClusterNode, settled } from '../../src/cluster.js';
import { startNats, type TestNats } from '../../src/nats.js';
import { startPostgres, type TestPostgres } from '../../src/postgres.js';
import { request } from '../../src/service.js';
import { ACCOUNTS, OPENING } from '../fixtures/clusterNode.js';

const CHAOS_MS = 60_000;
const MIN_ACTIONS = 10;
const SHARDS = 16;
const WITNESSES = 16;

let nats: TestNats;
let pg: TestPostgres;
const nodes: ClusterNode[] = [];
beforeAll(async () => {
  [nats, pg] = await Promise.all([startNats(), startPostgres()]);
}, 60_000);
afterAll(async () => {
  await Promise.all(nodes.map((n) => n.kill()));
  await nats?.stop();
  pg?.stop();
});

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)] as T;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
type Outcome = { status: number; body: Record<string, unknown> } | { status: 'no-connection' };

async function call(node: ClusterNode | undefined, method: string, path: string, body?: string): Promise<Outcome> {
  if (node === undefined || !node.running) {
    // No node to call (all down or paused): wait a little, so that a load loop never spins
    // without giving the event loop a turn.
    await sleep(20);
    return { status: 'no-connection' };
  }
  const front = node.front;
  try {
    const r = await request(agent, `${front}${path}`, method, body);
    return { status: r.status, body: JSON.parse(r.body) as Record<string, unknown> };
  } catch {
    // The client's connection to a node that was killed: not an ask's outcome.
    return { status: 'no-connection' };
  }
}

const up = () => nodes.filter((n) => n.running && !n.paused);

describe('chaos', () => {
  it('conserves money, keeps every acknowledged write, never runs an actor on two nodes, and answers every request with a reply or a coded error', async () => {
    pg.createDatabase('chaos');
    for (const name of ['node-1', 'node-2', 'node-3']) nodes.push(new ClusterNode(name, { nats, pg, database: 'chaos', cluster: 'chaos', shards: SHARDS }));
    for (const n of nodes) await n.start();
    await settled(nodes, SHARDS);

    const statuses = new Map<string, number>();
    const count = (o: Outcome, route: string) => {
      const key = `${route} ${o.status === 'no-connection' ? 'no-connection' : `${o.status} ${String(o.body.error ?? '')}`.trim()}`;
      statuses.set(key, (statuses.get(key) ?? 0) + 1);
    };
    const transfers: string[] = [];
    const acked = new Map<string, string>();
    const touches = new Map<string, number>();
    let stop = false;
    const loops: Array<Promise<void>> = [];
    for (let w = 0; w < 3; w++) {
      loops.push(
        (async () => {
          for (let i = 0; !stop; i++) {
            const id = `t${w}-${i}`;
            const from = pick(ACCOUNTS);
            const to = pick(ACCOUNTS.filter((a) => a !== from));
            transfers.push(id);
            count(
              await call(pick(up()), 'POST', `/transfer?from=${from}&to=${to}&amount=${1 + Math.floor(Math.random() * 50)}&id=${id}&timeoutMs=4000`),
              'transfer',
            );
          }
        })(),
      );
      loops.push(
        (async () => {
          for (let i = 0; !stop; i++) {
            const key = `w${w}-${i}`;
            const o = await call(pick(up()), 'PUT', `/kv/${key}?timeoutMs=4000`, `value-${key}`);
            count(o, 'kv');
            if (o.status === 200) acked.set(key, `value-${key}`);
          }
        })(),
      );
    }
    for (let w = 0; w < 2; w++) {
      loops.push(
        (async () => {
          while (!stop) {
            const id = `c${Math.floor(Math.random() * WITNESSES)}`;
            const o = await call(pick(up()), 'POST', `/witness/${id}?timeoutMs=4000`);
            count(o, 'witness');
            if (o.status === 200) touches.set(id, (touches.get(id) ?? 0) + 1);
          }
        })(),
      );
    }

    const actions: string[] = [];
    try {
      // At least a minute, and at least MIN_ACTIONS actions (a loaded machine restarts nodes slower).
      const end = Date.now() + CHAOS_MS;
      while (Date.now() < end || actions.length < MIN_ACTIONS) {
        await sleep(1_000 + Math.random() * 2_000);
        const victim = pick(up());
        const action = pick(['kill', 'kill', 'pause', 'pause', 'term']);
        actions.push(`${action} ${victim.name}`);
        if (action === 'kill') {
          await victim.kill();
          await sleep(500 + Math.random() * 1_500);
          await victim.start();
        } else if (action === 'pause') {
          victim.pause();
          await sleep(1_500 + Math.random() * 2_500);
          victim.resume();
        } else {
          await victim.terminate();
          await victim.start();
        }
      }
      await settled(nodes, SHARDS, 30_000);
    } finally {
      // However the chaos ends (a failed start fails the test), the load loops end with it.
      stop = true;
      await Promise.all(loops);
    }

    // Every transfer final (a reminder drives the unfinished ones), then the money adds up.
    const via = nodes[0] as ClusterNode;
    const stages = new Map<string, number>();
    for (const id of transfers) {
      let stage = '';
      for (let i = 0; i < 300; i++) {
        const o = await call(via, 'GET', `/transfers/${id}`);
        stage = o.status === 200 ? String(o.body.stage) : `http ${o.status}`;
        if (stage === 'done' || stage === 'refused' || stage === 'new') break;
        await sleep(100);
      }
      stages.set(stage, (stages.get(stage) ?? 0) + 1);
    }
    expect([...stages.keys()].filter((s) => s !== 'done' && s !== 'refused' && s !== 'new')).toEqual([]);
    const balances = await call(via, 'GET', '/accounts');
    expect(balances.status).toBe(200);
    const total = Object.values((balances as { body: Record<string, number> }).body).reduce((a, b) => a + b, 0);
    expect(total).toBe(ACCOUNTS.length * OPENING);

    // Every acknowledged write is there.
    for (const [key, value] of acked) {
      const o = await call(pick(nodes), 'GET', `/kv/${key}`);
      expect([key, o.status === 'no-connection' ? o.status : o.status, o.status === 'no-connection' ? null : o.body.value]).toEqual([key, 200, value]);
    }

    // No actor had two owners: epochs only grow along each history, and each epoch is one node's.
    const epochOwner = new Map<number, string>();
    for (let i = 0; i < WITNESSES; i++) {
      const o = await call(via, 'GET', `/witness/c${i}`);
      expect(o.status).toBe(200);
      const { n, owners } = (o as unknown as { body: { n: number; owners: Array<[number, string, number]> } }).body;
      const epochs = owners.map(([e]) => e);
      expect(epochs).toEqual([...new Set(epochs)].sort((a, b) => a - b));
      for (const [epoch, node] of owners) {
        expect([epoch, epochOwner.get(epoch) ?? node]).toEqual([epoch, node]);
        epochOwner.set(epoch, node);
      }
      // Every acknowledged touch was committed (and maybe some whose answer was lost).
      expect(n).toBeGreaterThanOrEqual(touches.get(`c${i}`) ?? 0);
    }

    // Every request had an outcome: a reply, a business refusal, or a coded retryable error. A
    // transfer saga whose account step failed for a retryable reason throws on purpose (its
    // caller gets ACTOR_CRASHED; its reminder finishes it), so only transfers may answer that.
    const retryable = [
      '503 NODE_LOST',
      '503 SHARD_MOVED',
      '503 COMMIT_FAILED',
      '503 STORE_UNAVAILABLE',
      '503 SHUTTING_DOWN',
      '503 ACTOR_STOPPED',
      '504 ASK_TIMEOUT',
      'no-connection',
    ];
    const allowed = new Set([
      ...['transfer', 'kv', 'witness'].flatMap((route) => ['200', ...retryable].map((k) => `${route} ${k}`)),
      'transfer 409 INSUFFICIENT_FUNDS',
      'transfer 500 ACTOR_CRASHED',
    ]);
    const summary = Object.fromEntries(statuses);
    expect(Object.keys(summary).filter((k) => !allowed.has(k))).toEqual([]);
    for (const route of ['transfer', 'kv', 'witness']) expect(summary[`${route} 200`] ?? 0).toBeGreaterThan(300);
    console.log(
      `chaos: ${actions.length} actions (${actions.join(', ')}); requests ${JSON.stringify(summary)}; transfers ${JSON.stringify(Object.fromEntries(stages))}; ${acked.size} writes acknowledged; ${epochOwner.size} owner epochs`,
    );
  }, 240_000);
});
