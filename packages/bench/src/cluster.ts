// The cluster on NATS, measured between real processes on one real NATS server (PostgreSQL as the
// store): a remote ask (this process asks an actor another node owns) against a raw NATS
// request-reply between the same two processes, one and 64 in flight; and failover — a node
// owning an actor is SIGKILLed, and the time to the first successful reply from its new owner is
// measured, trial after trial.
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { type ActorSystem, createSystem, defineActor, defineProtocol } from '@holdfast/core';
import { shardOf } from '@holdfast/core/cluster';
import { natsCluster } from '@holdfast/nats';
import { postgresStore } from '@holdfast/store-postgres';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { z } from 'zod';
import type { DurableMeasurement, DurableSample } from './durable.js';

export const REMOTE = 'holdfast (remote ask)';
export const RAW_NATS = 'raw NATS request-reply';
export const FAILOVER = 'holdfast (failover)';
/** The lease TTL the failover trials run with: the default. */
export const LEASE_TTL_MS = 3_000;

export const clusterMeasurements: DurableMeasurement[] = [
  {
    id: 'cluster-seq-p50',
    title: 'Sequential ask to an actor on another node, p50',
    unit: 'µs',
    better: 'lower',
    baseline: RAW_NATS,
    target: '≤ ×1.3 of raw NATS',
  },
  {
    id: 'cluster-seq-p99',
    title: 'Sequential ask to an actor on another node, p99',
    unit: 'µs',
    better: 'lower',
    baseline: RAW_NATS,
    target: '≤ ×1.3 of raw NATS',
  },
  { id: 'cluster-1', title: 'Remote asks, 1 in flight: throughput', unit: 'asks/s', better: 'higher', baseline: RAW_NATS, target: '≤ ×1.3 of raw NATS' },
  {
    id: 'cluster-64',
    title: 'Remote asks, 64 in flight (64 actors): throughput',
    unit: 'asks/s',
    better: 'higher',
    baseline: RAW_NATS,
    target: '≤ ×1.3 of raw NATS',
  },
  {
    id: 'cluster-failover-p50',
    title: 'Failover: SIGKILL of the owner → first successful reply from the new owner, median of the trials',
    unit: 'ms',
    better: 'lower',
    baseline: null,
    target: '≤ 1,000 ms',
  },
  {
    id: 'cluster-failover-max',
    title: 'Failover: the slowest trial',
    unit: 'ms',
    better: 'lower',
    baseline: null,
    target: `≤ lease TTL + 1 s (${(LEASE_TTL_MS + 1_000).toLocaleString('en-US')} ms)`,
  },
];

// ---------------------------------------------------------------- the actor and the nodes

const EchoProtocol = defineProtocol('bench-echo', {
  /** Answer `n` (read-only: no commit, so that the figure is the messaging's). */
  echo: { input: z.object({ n: z.number() }), reply: z.number(), readonly: true },
  bump: { input: z.object({}), reply: z.number() },
  get: { input: z.object({}), reply: z.number(), readonly: true },
});

export const Echo = defineActor(EchoProtocol, {
  durable: { schema: z.object({ n: z.number().int() }) },
  init: () => ({ n: 0 }),
  handlers: {
    echo: (_s, { n }) => n,
    bump: (s) => ++s.n,
    get: (s) => s.n,
  },
});

export const rawSubject = (cluster: string, node: string) => `bench.${cluster}.raw.${node}`;

const SHARDS = 16;
const here = import.meta.dirname;

/** A node in a process of its own (clusterNode.ts), ready once it printed `ready`. */
async function startNode(nats: string, pg: string, node: string, cluster: string): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    ['--conditions=holdfast:source', '--import', 'tsx', `${here}/clusterNode.ts`, nats, pg, node, cluster, String(SHARDS)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  await new Promise<void>((resolve, reject) => {
    lines.once('line', (l) => (l === 'ready' ? resolve() : reject(new Error(`node ${node}: ${l}`))));
    child.once('exit', (code) => reject(new Error(`node ${node} exited (${code}) before it was ready`)));
  });
  return child;
}

function stopNode(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}

/** This process as a node. */
async function localNode(nats: string, pg: string, node: string, cluster: string): Promise<ActorSystem> {
  const system = createSystem({
    store: postgresStore({ connectionString: pg }),
    durable: { types: [Echo] },
    cluster: natsCluster({ servers: nats, node, name: cluster, shards: SHARDS }),
  });
  await system.openStore();
  return system;
}

/** Until `system` sees exactly `nodes` nodes, each with its fair share, every shard owned. */
async function settled(system: ActorSystem, nodes: number, timeoutMs = 30_000): Promise<Map<number, string>> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const info = system.cluster();
    if (info !== null && info.nodes.length === nodes && info.unowned.length === 0) {
      const fair = info.nodes.every((n) => n.shards.length >= Math.floor(SHARDS / nodes) && n.shards.length <= Math.ceil(SHARDS / nodes));
      if (fair) return new Map(info.nodes.flatMap((n) => n.shards.map((s) => [s, n.node] as const)));
    }
    if (Date.now() > end) throw new Error(`the cluster did not settle: ${JSON.stringify(info)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** `count` actor ids whose shards `node` owns. */
function idsOn(owners: Map<number, string>, node: string, count: number, prefix: string): string[] {
  const ids: string[] = [];
  for (let i = 0; ids.length < count; i++) {
    const id = `${prefix}-${i}`;
    if (owners.get(shardOf(id, SHARDS)) === node) ids.push(id);
  }
  return ids;
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] as number;

// ---------------------------------------------------------------- remote asks

interface Asker {
  ask(id: string, n: number): Promise<number>;
}

async function timeSequential(a: Asker, id: string, count: number): Promise<{ p50: number; p99: number; rate: number; ok: boolean }> {
  const times = new Float64Array(count);
  let ok = true;
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    const s = performance.now();
    const v = await a.ask(id, i);
    times[i] = performance.now() - s;
    if (v !== i) ok = false;
  }
  const total = performance.now() - t0;
  const sorted = [...times].sort((x, y) => x - y);
  return { p50: percentile(sorted, 0.5) * 1000, p99: percentile(sorted, 0.99) * 1000, rate: count / (total / 1000), ok };
}

async function timeConcurrent(a: Asker, ids: readonly string[], total: number): Promise<{ rate: number; ok: boolean }> {
  let next = 0;
  let ok = true;
  const t0 = performance.now();
  await Promise.all(
    ids.map(async (id) => {
      while (next < total) {
        const n = next++;
        if ((await a.ask(id, n)) !== n) ok = false;
      }
    }),
  );
  return { rate: total / ((performance.now() - t0) / 1000), ok };
}

/**
 * One round: this process (node-a) and a node in another process (node-b); Holdfast's asks go to
 * Echo actors node-b owns, the raw requests to node-b's raw responder, the same JSON shape both ways.
 */
export async function measureRemote(nats: string, pg: string, quick: boolean, round: number): Promise<DurableSample[]> {
  const cluster = `bench${round}`;
  const b = await startNode(nats, pg, 'node-b', cluster);
  const system = await localNode(nats, pg, 'node-a', cluster);
  let nc: NatsConnection | null = null;
  try {
    const owners = await settled(system, 2);
    const ids = idsOn(owners, 'node-b', 64, 'echo');
    const holdfast: Asker = { ask: (id, n) => system.ref(Echo, id).ask('echo', { n }) as Promise<number> };
    // As a careful hand-written client connects: no stack traces captured per request.
    nc = await connect({ servers: nats, noAsyncTraces: true });
    const conn = nc;
    const enc = new TextEncoder();
    const dec = new TextDecoder();
    const subject = rawSubject(cluster, 'node-b');
    let rid = 0;
    const raw: Asker = {
      async ask(id, n) {
        const call = { type: 'bench-echo', id, message: 'echo', input: { n }, timeoutMs: 5_000, rid: `a.${++rid}` };
        const m = await conn.request(subject, enc.encode(JSON.stringify(call)), { timeout: 5_000 });
        const reply = JSON.parse(dec.decode(m.data)) as { ok: boolean; value: number };
        return reply.value;
      },
    };
    const seqCount = quick ? 300 : 5_000;
    const total = quick ? 2_000 : 30_000;
    const samples: DurableSample[] = [];
    // Warm both paths (and wake the actors), then measure in an order that alternates by round.
    const order: Array<[string, Asker]> =
      round % 2 === 0
        ? [
            [RAW_NATS, raw],
            [REMOTE, holdfast],
          ]
        : [
            [REMOTE, holdfast],
            [RAW_NATS, raw],
          ];
    for (const [, a] of order) {
      await timeConcurrent(a, ids, quick ? 500 : 5_000);
      await timeSequential(a, ids[0] as string, quick ? 200 : 2_000);
    }
    for (const [name, a] of order) {
      const seq = await timeSequential(a, ids[0] as string, seqCount);
      const many = await timeConcurrent(a, ids, total);
      samples.push(
        { scenario: 'cluster-seq-p50', contestant: name, value: seq.p50, verified: seq.ok },
        { scenario: 'cluster-seq-p99', contestant: name, value: seq.p99, verified: seq.ok },
        { scenario: 'cluster-1', contestant: name, value: seq.rate, verified: seq.ok },
        { scenario: 'cluster-64', contestant: name, value: many.rate, verified: many.ok },
      );
    }
    return samples;
  } finally {
    await nc?.close();
    await system.shutdown();
    await stopNode(b);
  }
}

// ---------------------------------------------------------------- failover

/**
 * Trials of failover: this process (node-a) and node-b stay; each trial starts node `x<i>`, waits
 * for it to take its share, writes to an actor it owns, SIGKILLs it and times the first successful
 * reply to that actor (from whichever node takes the shard), checking the value written survived.
 */
export async function measureFailover(nats: string, pg: string, quick: boolean, round: number): Promise<DurableSample[]> {
  const cluster = `failover${round}`;
  const trials = quick ? 3 : 12;
  const b = await startNode(nats, pg, 'node-b', cluster);
  const system = await localNode(nats, pg, 'node-a', cluster);
  const times: number[] = [];
  let ok = true;
  try {
    await settled(system, 2);
    for (let t = 0; t < trials; t++) {
      const name = `x${t}`;
      const x = await startNode(nats, pg, name, cluster);
      const owners = await settled(system, 3);
      const [id] = idsOn(owners, name, 1, `victim${t}`) as [string];
      const victim = system.ref(Echo, id);
      const written = (await victim.ask('bump', {}, { timeoutMs: 10_000 })) as number;
      const killedAt = performance.now();
      x.kill('SIGKILL');
      // The ask retries on the new owner within its deadline; it never needs a second one.
      const after = (await victim.ask('get', {}, { timeoutMs: 15_000 })) as number;
      times.push(performance.now() - killedAt);
      if (after !== written) ok = false;
      await stopNode(x, 'SIGKILL');
      await settled(system, 2);
    }
  } finally {
    await system.shutdown();
    await stopNode(b);
  }
  const sorted = [...times].sort((p, q) => p - q);
  const note = `${trials} trials: ${sorted.map((v) => Math.round(v)).join(', ')} ms`;
  return [
    { scenario: 'cluster-failover-p50', contestant: FAILOVER, value: percentile(sorted, 0.5), verified: ok, note },
    { scenario: 'cluster-failover-max', contestant: FAILOVER, value: sorted.at(-1) as number, verified: ok, note },
  ];
}
