// Two nodes of one cluster in one process: real NATS (JetStream) and a real PostgreSQL, each
// started by the test on loopback. What a user sees through refs: the same replies and errors
// wherever an actor runs, shards split fairly, and a node that leaves hands its shards over
// without a failed ask.
import { type ActorSystem, createSystem, defineActor, defineProtocol, reject } from '@holdfast/core';
import { shardOf } from '@holdfast/core/cluster';
import { natsCluster } from '@holdfast/nats';
import { postgresStore } from '@holdfast/store-postgres';
import { connect } from '@nats-io/transport-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { startNats, type TestNats } from '../../src/nats.js';
import { startPostgres, type TestPostgres } from '../../src/postgres.js';

const AccountProtocol = defineProtocol('account', {
  deposit: { input: z.object({ amount: z.number().int().positive() }), reply: z.number() },
  withdraw: { input: z.object({ amount: z.number().int().positive() }), reply: z.number() },
  balance: { input: z.object({}), reply: z.number(), readonly: true },
  where: { input: z.object({}), reply: z.string(), readonly: true },
  /** Wait `ms` or until the ask's signal aborts; record which. */
  nap: { input: z.object({ ms: z.number().int() }), reply: z.string(), readonly: true },
});

/** What naps saw, as `node id aborted|slept`. */
const naps: string[] = [];

function accountType(node: string) {
  return defineActor(AccountProtocol, {
    durable: { schema: z.object({ balance: z.number().int() }) },
    init: () => ({ balance: 0 }),
    handlers: {
      deposit: (s, { amount }) => {
        s.balance += amount;
        return s.balance;
      },
      withdraw: (s, { amount }) => {
        if (amount > s.balance) reject('insufficient-funds', { balance: s.balance });
        s.balance -= amount;
        return s.balance;
      },
      balance: (s) => s.balance,
      where: () => node,
      async nap(_s, { ms }, ctx) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, ms);
          ctx.signal.addEventListener(
            'abort',
            () => {
              clearTimeout(t);
              resolve();
            },
            { once: true },
          );
        });
        naps.push(`${node} ${ctx.self.id} ${ctx.signal.aborted ? 'aborted' : 'slept'}`);
        return node;
      },
    },
  });
}

let nats: TestNats;
let pg: TestPostgres;
let databases = 0;
beforeAll(async () => {
  [nats, pg] = await Promise.all([startNats(), startPostgres()]);
}, 60_000);
afterAll(async () => {
  await nats?.stop();
  pg?.stop();
});

const systems: ActorSystem[] = [];
afterEach(async () => {
  await Promise.all(systems.splice(0).map((s) => s.shutdown({ timeoutMs: 5_000 })));
});

function node(name: string, db: string, cluster: string) {
  const Account = accountType(name);
  const system = createSystem({
    name,
    store: postgresStore({ connectionString: pg.url(db) }),
    durable: { types: [Account] },
    cluster: natsCluster({ servers: nats.url, node: name, name: cluster, shards: 8, leaseTtlMs: 2_000, pingEveryMs: 50, pingTimeoutMs: 200 }),
  });
  systems.push(system);
  return { system, Account };
}

async function until(what: string, check: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const owned = (s: ActorSystem) => s.cluster()?.nodes.find((n) => n.self)?.shards.length ?? 0;

/** Two nodes of a fresh cluster (own database, own name), started at once, each serving its 4 shards. */
async function twoNodesStartedTogether() {
  const db = `cluster_${++databases}`;
  pg.createDatabase(db);
  const a = node('node-a', db, `c${databases}`);
  const b = node('node-b', db, `c${databases}`);
  await Promise.all([a.system.openStore(), b.system.openStore()]);
  await until('each node serves 4 shards', () => owned(a.system) === 4 && owned(b.system) === 4);
  return [a, b] as const;
}

describe('a cluster of two nodes in one process', () => {
  it('splits the shards fairly; a ref reaches an actor wherever it runs, with the same replies and coded errors', async () => {
    const db = `cluster_${++databases}`;
    pg.createDatabase(db);
    const a = node('node-a', db, `c${databases}`);
    await a.system.openStore();
    const b = node('node-b', db, `c${databases}`);
    await b.system.openStore();
    await until('each node serves 4 of the 8 shards', () => owned(a.system) === 4 && owned(b.system) === 4);

    const ids = Array.from({ length: 40 }, (_, i) => `acct-${i}`);
    // Deposits through node a, reads through node b: every actor runs on exactly one of them.
    for (const [i, id] of ids.entries()) expect(await a.system.ref(a.Account, id).ask('deposit', { amount: i + 1 })).toBe(i + 1);
    for (const [i, id] of ids.entries()) expect(await b.system.ref(b.Account, id).ask('balance', {})).toBe(i + 1);
    const where = await Promise.all(ids.map((id) => a.system.ref(a.Account, id).ask('where', {})));
    expect(new Set(where)).toEqual(new Set(['node-a', 'node-b']));
    for (const [i, id] of ids.entries()) expect(await b.system.ref(b.Account, id).ask('where', {})).toBe(where[i]);

    const remote = ids[where.indexOf('node-b')] as string;
    const ref = a.system.ref(a.Account, remote);
    // A business refusal crosses the wire with its code and details; the state is kept.
    const refused = await ref.ask('withdraw', { amount: 1_000 }).catch((e: unknown) => e as { code: string; details: unknown });
    expect(refused).toMatchObject({ code: 'REJECTED', details: { reason: 'insufficient-funds', details: { balance: ids.indexOf(remote) + 1 } } });
    // Bad input is refused by the sender: nothing crosses, nothing changes.
    const invalid = (await ref.ask('deposit', { amount: -5 } as never).catch((e: unknown) => e)) as { code: string };
    expect(invalid.code).toBe('INVALID_MESSAGE');
    expect(await ref.ask('balance', {})).toBe(ids.indexOf(remote) + 1);
    // tell and send reach a remote actor too (in order: the send resolves once queued there, behind the tell).
    ref.tell('deposit', { amount: 10 });
    await ref.send('deposit', { amount: 100 });
    expect(await b.system.ref(b.Account, remote).ask('balance', {})).toBe(ids.indexOf(remote) + 1 + 110);
    // Node a's view of the cluster.
    const view = a.system.cluster();
    expect(view?.nodes.map((n) => [n.node, n.shards.length])).toEqual([
      ['node-a', 4],
      ['node-b', 4],
    ]);
    expect(view?.unowned).toEqual([]);
  }, 60_000);

  it('honours on the owning node a remote ask’s deadline and its caller’s cancellation', async () => {
    const [a] = await twoNodesStartedTogether();
    let remote = '';
    for (let i = 0; remote === ''; i++) if ((await a.system.ref(a.Account, `n-${i}`).ask('where', {})) === 'node-b') remote = `n-${i}`;
    const ref = a.system.ref(a.Account, remote);
    naps.length = 0;
    // The deadline travels with the ask: the owner's turn sees its signal abort when it passes.
    expect(await ref.ask('nap', { ms: 10_000 }, { timeoutMs: 200 }).catch((e: { code: string }) => e.code)).toBe('ASK_TIMEOUT');
    await until('the owner saw the deadline', () => naps.length === 1);
    expect(naps).toEqual([`node-b ${remote} aborted`]);
    // The caller's signal: CANCELLED here at once, and the owner's turn is told.
    const ctl = new AbortController();
    const cancelled = ref.ask('nap', { ms: 10_000 }, { timeoutMs: 20_000, signal: ctl.signal }).catch((e: { code: string }) => e.code);
    await new Promise((r) => setTimeout(r, 100));
    ctl.abort();
    expect(await cancelled).toBe('CANCELLED');
    await until('the owner saw the cancellation', () => naps.length === 2);
    expect(naps).toEqual([`node-b ${remote} aborted`, `node-b ${remote} aborted`]);
    // An ask left alone is answered.
    expect(await ref.ask('nap', { ms: 10 })).toBe('node-b');
    expect(naps[2]).toBe(`node-b ${remote} slept`);
  }, 60_000);

  it('answers hostile bytes on a shard subject with a coded error, queues nothing, and goes on serving', async () => {
    const [a, b] = await twoNodesStartedTogether();
    const cluster = `c${databases}`;
    const mine = b.system.cluster()?.nodes.find((n) => n.self)?.shards[0] as number;
    let id = '';
    for (let i = 0; id === ''; i++) if (shardOf(`h-${i}`, 8) === mine) id = `h-${i}`;
    const nc = await connect({ servers: nats.url });
    const enc = new TextEncoder();
    const ask = async (payload: string | Uint8Array) => {
      const m = await nc.request(`holdfast.${cluster}.shard.${mine}`, typeof payload === 'string' ? enc.encode(payload) : payload, { timeout: 5_000 });
      return JSON.parse(new TextDecoder().decode(m.data)) as { v?: unknown; e?: { code: string } };
    };
    const call = (over: Record<string, unknown>) =>
      JSON.stringify({ type: 'account', id, message: 'deposit', input: { amount: 1 }, timeoutMs: 5_000, rid: 'x.1', ...over });
    try {
      expect((await ask(new Uint8Array([0xff, 0x00, 0x7b]))).e?.code).toBe('INVALID_MESSAGE');
      expect((await ask('[1,2,3]')).e?.code).toBe('INVALID_MESSAGE');
      expect((await ask(call({ timeoutMs: -1 }))).e?.code).toBe('INVALID_MESSAGE');
      expect((await ask(call({ rid: 'r'.repeat(100) }))).e?.code).toBe('INVALID_MESSAGE');
      expect((await ask(call({ input: { amount: 'lots' } }))).e?.code).toBe('INVALID_MESSAGE');
      expect((await ask(call({ message: 'steal' }))).e?.code).toBe('INVALID_MESSAGE');
      expect((await ask(call({ type: 'vault' }))).e?.code).toBe('INVALID_ARGUMENT');
      expect((await ask(call({ idempotencyKey: 'k'.repeat(500) }))).e?.code).toBe('INVALID_ARGUMENT');
      // An id of another shard is not this subject's to answer.
      let other = '';
      for (let i = 0; other === ''; i++) if (shardOf(`o-${i}`, 8) !== mine) other = `o-${i}`;
      expect((await ask(call({ id: other }))).e?.code).toBe('SHARD_MOVED');
      // Nothing was applied; a well-formed call through the same subject, and an ask through a ref, still work.
      expect(await a.system.ref(a.Account, id).ask('balance', {})).toBe(0);
      expect((await ask(call({}))).v).toBe(1);
      expect(await a.system.ref(a.Account, id).ask('deposit', { amount: 2 })).toBe(3);
    } finally {
      await nc.close();
    }
  }, 60_000);

  it('hands a leaving node’s shards over without failing an ask: every deposit lands exactly once', async () => {
    const [a, b] = await twoNodesStartedTogether();
    const ids = Array.from({ length: 24 }, (_, i) => `acct-${i}`);
    const refs = ids.map((id) => a.system.ref(a.Account, id));
    let stop = false;
    const sent = new Map<string, number>(ids.map((id) => [id, 0]));
    const failures: unknown[] = [];
    const writers = refs.map(async (ref) => {
      while (!stop) {
        try {
          await ref.ask('deposit', { amount: 1 }, { timeoutMs: 10_000 });
          sent.set(ref.id, (sent.get(ref.id) ?? 0) + 1);
        } catch (e) {
          failures.push(e);
          // A failure fails the test below; until then, do not spin on it (the timers must run).
          await new Promise((r) => setTimeout(r, 10));
        }
      }
    });
    await new Promise((r) => setTimeout(r, 300));
    const report = await b.system.shutdown({ timeoutMs: 10_000 });
    expect(report.clean).toBe(true);
    await until('node a serves all 8 shards', () => owned(a.system) === 8);
    await new Promise((r) => setTimeout(r, 200));
    stop = true;
    await Promise.all(writers);
    expect(failures).toEqual([]);
    for (const ref of refs) {
      expect(await ref.ask('where', {})).toBe('node-a');
      expect(await ref.ask('balance', {})).toBe(sent.get(ref.id));
    }
    expect([...sent.values()].every((n) => n > 0)).toBe(true);
  }, 60_000);
});
