// Worker-hosted actors, measured against what they are built on and what they replace, in the
// same process: a raw worker_threads MessagePort round trip (the floor of any cross-thread call),
// and the same CPU-bound actor run on the main thread.
import { MessageChannel, Worker } from 'node:worker_threads';
import { type ActorRef, createSystem } from '@holdfast/core';
import { createWorkerHost, workerActor } from '@holdfast/workers';
import Cruncher, { CruncherProtocol, countPrimes } from './workload/cruncher.js';

/** One sample of a worker measurement: a contestant's figure in one round. */
export interface WorkerSample {
  readonly scenario: string;
  readonly contestant: string;
  readonly value: number;
  readonly verified: boolean;
  readonly note?: string;
}

/** A measurement: its rows (contestants), which of them is the baseline, and which way is better. */
export interface WorkerMeasurement {
  readonly id: string;
  readonly title: string;
  readonly unit: string;
  readonly better: 'lower' | 'higher';
  /** The contestant the others are divided by (null: absolute figures). */
  readonly baseline: string | null;
  /** What the target says, for the table. */
  readonly target: string;
  /** How the ratio reads: `cost` (Holdfast over the baseline: ×1.00 = as fast) or `gain` (how many times better). */
  readonly ratio?: 'cost' | 'gain';
}

export const RAW = 'raw MessagePort';
export const HOLDFAST_WORKER = 'holdfast (worker thread)';
export const IN_THREAD = 'holdfast (main thread)';

export const workerMeasurements: WorkerMeasurement[] = [
  { id: 'worker-ask', title: 'Sequential ask round trip to a worker thread', unit: 'µs/ask', better: 'lower', baseline: RAW, target: '≤ ×1.3 of the raw port' },
  {
    id: 'worker-pipelined',
    title: 'Pipelined asks to one worker-hosted actor (1,000 in flight)',
    unit: 'asks/s',
    better: 'higher',
    baseline: RAW,
    target: '≥ 100k asks/s',
  },
  {
    id: 'worker-cpu',
    title: 'CPU-bound jobs, 2 actors: on 2 worker threads vs on the main thread',
    unit: 'jobs/s',
    better: 'higher',
    baseline: IN_THREAD,
    target: 'more throughput',
    ratio: 'gain',
  },
  {
    id: 'worker-cpu-lag',
    title: 'Main-thread event-loop delay (p99) while those jobs run',
    unit: 'ms',
    better: 'lower',
    baseline: IN_THREAD,
    target: 'the main thread stays responsive',
    ratio: 'gain',
  },
  { id: 'worker-restart', title: 'Worker-hosted actor: crash → restart → next reply', unit: 'ms', better: 'lower', baseline: null, target: 'tens of ms' },
  {
    id: 'worker-stuck',
    title: 'Stuck thread (timeout 200 ms, sweep 20 ms): found and failed',
    unit: 'ms',
    better: 'lower',
    baseline: null,
    target: '≤ timeout + one sweep (+ one beat)',
  },
  {
    id: 'worker-recovered',
    title: 'Stuck thread: from the stall to the actor answering on a fresh thread',
    unit: 'ms',
    better: 'lower',
    baseline: null,
    target: 'tens of ms past detection',
  },
];

const Worked = workerActor(CruncherProtocol, new URL('./workload/cruncher.ts', import.meta.url));

function percentile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? 0 : (s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)] as number);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1] as number;
}

/** A plain worker thread that echoes what it is sent over a MessagePort of its own. */
async function rawEcho(): Promise<{ port: import('node:worker_threads').MessagePort; close: () => Promise<number> }> {
  const w = new Worker(
    `const { parentPort } = require('node:worker_threads');
     parentPort.once('message', (port) => port.on('message', (m) => port.postMessage(m.i.n)));`,
    { eval: true },
  );
  const { port1, port2 } = new MessageChannel();
  w.postMessage(port2, [port2]);
  return { port: port1, close: () => w.terminate() };
}

/** Sequential round trips: raw port and worker ask alternate, in the same process; medians of each. */
async function askRoundTrip(quick: boolean): Promise<WorkerSample[]> {
  const n = quick ? 500 : 3_000;
  const reps = quick ? 3 : 9;
  const raw = await rawEcho();
  let resolve: (v: number) => void = () => {};
  raw.port.on('message', (v: number) => resolve(v));
  const rawAsk = (k: number) =>
    new Promise<number>((r) => {
      resolve = r;
      raw.port.postMessage({ m: 'echo', i: { n: k } });
    });
  const system = createSystem({ name: 'bench-workers' });
  const host = createWorkerHost({ threads: 1 });
  const ref = system.spawn(Worked, { id: 'echo', host });
  await ref.ask('echo', { n: 0 });
  let sumRaw = 0;
  let sumOurs = 0;
  const runRaw = async () => {
    const t = performance.now();
    for (let i = 0; i < n; i++) sumRaw += await rawAsk(i);
    return ((performance.now() - t) / n) * 1_000;
  };
  const runOurs = async () => {
    const t = performance.now();
    for (let i = 0; i < n; i++) sumOurs += await ref.ask('echo', { n: i });
    return ((performance.now() - t) / n) * 1_000;
  };
  await runRaw();
  await runOurs();
  sumRaw = 0;
  sumOurs = 0;
  const raws: number[] = [];
  const ours: number[] = [];
  for (let r = 0; r < reps; r++) {
    raws.push(await runRaw());
    ours.push(await runOurs());
  }
  const expected = (reps * n * (n - 1)) / 2;
  await system.shutdown();
  await raw.close();
  return [
    { scenario: 'worker-ask', contestant: RAW, value: median(raws), verified: sumRaw === expected },
    { scenario: 'worker-ask', contestant: HOLDFAST_WORKER, value: median(ours), verified: sumOurs === expected },
  ];
}

/** Pipelined: 1,000 asks in flight at all times until `total` are answered. */
async function pipelined(quick: boolean): Promise<WorkerSample[]> {
  const total = quick ? 20_000 : 100_000;
  const window = 1_000;
  const reps = quick ? 1 : 3;
  const raw = await rawEcho();
  const system = createSystem({ name: 'bench-workers' });
  const host = createWorkerHost({ threads: 1 });
  const ref = system.spawn(Worked, { id: 'echo', host });
  await ref.ask('echo', { n: 0 });

  const runRaw = () =>
    new Promise<{ rate: number; ok: boolean }>((done) => {
      let sent = 0;
      let got = 0;
      let sum = 0;
      const t = performance.now();
      const onMessage = (v: number) => {
        sum += v;
        if (++got === total) {
          raw.port.off('message', onMessage);
          done({ rate: total / ((performance.now() - t) / 1_000), ok: sum === (total * (total - 1)) / 2 });
        } else if (sent < total) raw.port.postMessage({ m: 'echo', i: { n: sent++ } });
      };
      raw.port.on('message', onMessage);
      while (sent < window) raw.port.postMessage({ m: 'echo', i: { n: sent++ } });
    });
  const runOurs = () =>
    new Promise<{ rate: number; ok: boolean }>((done) => {
      let sent = 0;
      let got = 0;
      let sum = 0;
      const t = performance.now();
      const onReply = (v: number) => {
        sum += v;
        if (++got === total) done({ rate: total / ((performance.now() - t) / 1_000), ok: sum === (total * (total - 1)) / 2 });
        else if (sent < total) void ref.ask('echo', { n: sent++ }).then(onReply);
      };
      while (sent < window) void ref.ask('echo', { n: sent++ }).then(onReply);
    });
  await runRaw();
  await runOurs();
  const raws: Array<{ rate: number; ok: boolean }> = [];
  const ours: Array<{ rate: number; ok: boolean }> = [];
  for (let r = 0; r < reps; r++) {
    raws.push(await runRaw());
    ours.push(await runOurs());
  }
  await system.shutdown();
  await raw.close();
  return [
    { scenario: 'worker-pipelined', contestant: RAW, value: median(raws.map((x) => x.rate)), verified: raws.every((x) => x.ok) },
    { scenario: 'worker-pipelined', contestant: HOLDFAST_WORKER, value: median(ours.map((x) => x.rate)), verified: ours.every((x) => x.ok) },
  ];
}

/** CPU-bound jobs through 2 actors: on the main thread, then on 2 worker threads. */
async function cpuBound(quick: boolean): Promise<WorkerSample[]> {
  const jobs = quick ? 40 : 200;
  const below = 60_000;
  const expected = countPrimes(below);
  const run = async (place: (system: ReturnType<typeof createSystem>, id: string) => ActorRef<typeof CruncherProtocol>) => {
    const system = createSystem({ name: 'bench-cpu' });
    const actors = [place(system, 'c1'), place(system, 'c2')];
    await Promise.all(actors.map((a) => a.ask('crunch', { below: 1_000 })));
    // A timer that wants to run every 5 ms, as a server's I/O would: how late each run is, is the
    // event-loop delay that the server's requests would see.
    const delays: number[] = [];
    let last = performance.now();
    const tick = setInterval(() => {
      const now = performance.now();
      delays.push(Math.max(0, now - last - 5));
      last = now;
    }, 5);
    const t = performance.now();
    const answers = await Promise.all(
      Array.from({ length: jobs }, (_, i) => (actors[i % 2] as ActorRef<typeof CruncherProtocol>).ask('crunch', { below }, { timeoutMs: 120_000 })),
    );
    const seconds = (performance.now() - t) / 1_000;
    // Let the last delayed run land: a blocked loop shows up in the run that comes when it frees.
    await new Promise((r) => setTimeout(r, 20));
    clearInterval(tick);
    await system.shutdown();
    return { rate: jobs / seconds, p99: percentile(delays, 0.99), ok: answers.every((a) => a === expected) };
  };
  const main = await run((system, id) => system.spawn(Cruncher, { id }));
  const workers = await run((system, id) => system.spawn(Worked, { id, host: hostFor(system) }));
  const note = `${jobs} jobs (primes below ${below.toLocaleString('en')})`;
  return [
    { scenario: 'worker-cpu', contestant: IN_THREAD, value: main.rate, verified: main.ok, note },
    { scenario: 'worker-cpu', contestant: HOLDFAST_WORKER, value: workers.rate, verified: workers.ok, note },
    { scenario: 'worker-cpu-lag', contestant: IN_THREAD, value: main.p99, verified: main.ok },
    { scenario: 'worker-cpu-lag', contestant: HOLDFAST_WORKER, value: workers.p99, verified: workers.ok },
  ];
}

const hosts = new WeakMap<object, ReturnType<typeof createWorkerHost>>();
function hostFor(system: object) {
  let h = hosts.get(system);
  if (h === undefined) {
    h = createWorkerHost({ threads: 2 });
    hosts.set(system, h);
  }
  return h;
}

/** Crash → restart → next reply, and a stuck thread found and replaced. */
async function recovery(quick: boolean): Promise<WorkerSample[]> {
  const reps = quick ? 3 : 15;
  const system = createSystem({ name: 'bench-recovery', intensity: { maxRestarts: 1_000, withinMs: 1_000 } });
  const host = createWorkerHost({ threads: 2, heartbeat: { timeoutMs: 200, sweepMs: 20 } });
  const ref = system.spawn(Worked, { id: 'r', host });
  await ref.ask('echo', { n: 1 });
  const restarts: number[] = [];
  let restartsOk = true;
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    const crashed = await ref.ask('crash', {}).then(
      () => false,
      (e: { code?: string }) => e.code === 'ACTOR_CRASHED',
    );
    const answer = await ref.ask('echo', { n: i });
    restarts.push(performance.now() - t);
    restartsOk &&= crashed && answer === i;
  }
  const found: number[] = [];
  const back: number[] = [];
  let stuckOk = true;
  const stuckReps = quick ? 1 : 5;
  for (let i = 0; i < stuckReps; i++) {
    // Let the new spare boot before the next stall: recovery is measured with a warm spare.
    const bootBy = performance.now() + 30_000;
    while (host.stats().spare?.booted !== true && performance.now() < bootBy) await new Promise((r) => setTimeout(r, 20));
    await ref.ask('echo', { n: i });
    const t = performance.now();
    const lost = await ref.ask('spin', {}, { timeoutMs: 10_000 }).then(
      () => false,
      (e: { code?: string }) => e.code === 'WORKER_LOST',
    );
    found.push(performance.now() - t);
    const answer = await ref.ask('echo', { n: i }, { timeoutMs: 10_000 });
    back.push(performance.now() - t);
    stuckOk &&= lost && answer === i;
  }
  stuckOk &&= host.stats().replaced === stuckReps;
  await system.shutdown();
  return [
    { scenario: 'worker-restart', contestant: HOLDFAST_WORKER, value: median(restarts), verified: restartsOk, note: `median of ${reps}` },
    { scenario: 'worker-stuck', contestant: HOLDFAST_WORKER, value: median(found), verified: stuckOk, note: `median of ${stuckReps}` },
    { scenario: 'worker-recovered', contestant: HOLDFAST_WORKER, value: median(back), verified: stuckOk, note: `median of ${stuckReps}` },
  ];
}

/** Every worker measurement, in this process. */
export async function runWorkerMeasurements(quick: boolean): Promise<WorkerSample[]> {
  return [...(await askRoundTrip(quick)), ...(await pipelined(quick)), ...(await cpuBound(quick)), ...(await recovery(quick))];
}
