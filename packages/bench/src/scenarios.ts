import type { Contestant } from './Contestant.js';

/** One measurement's outcome. A row whose result is not verified does not count. */
export interface Sample {
  readonly value: number;
  readonly verified: boolean;
  readonly note?: string;
}

/** A workload, run against each contestant in turn. */
export interface Scenario {
  readonly id: string;
  readonly title: string;
  readonly unit: string;
  /** Which way is better. */
  readonly better: 'lower' | 'higher';
  run(c: Contestant, quick: boolean): Promise<Sample>;
}

const now = () => performance.now();

export const sequentialAsk: Scenario = {
  id: 'sequential-ask',
  title: 'Sequential ask (one caller, await each reply)',
  unit: 'µs/ask',
  better: 'lower',
  async run(c, quick) {
    const n = quick ? 50_000 : 300_000;
    const sys = await c.open();
    const h = sys.spawn('counter');
    for (let i = 0; i < 10_000; i++) await h.ask(1);
    const t = now();
    let last = 0;
    for (let i = 0; i < n; i++) last = await h.ask(1);
    const dt = now() - t;
    await sys.close();
    return { value: (dt * 1000) / n, verified: last === 10_000 + n };
  },
};

export const pipelinedAsk: Scenario = {
  id: 'pipelined-ask',
  title: 'Pipelined ask (1,000 in flight)',
  unit: 'asks/s',
  better: 'higher',
  async run(c, quick) {
    const total = quick ? 200_000 : 1_000_000;
    const sys = await c.open();
    const h = sys.spawn('counter');
    let issued = 0;
    let max = 0;
    const lane = async () => {
      while (issued < total) {
        issued++;
        const v = await h.ask(1);
        if (v > max) max = v;
      }
    };
    const t = now();
    await Promise.all(Array.from({ length: 1_000 }, lane));
    const dt = now() - t;
    await sys.close();
    return { value: total / (dt / 1000), verified: max === total };
  },
};

export const tellThroughput: Scenario = {
  id: 'tell',
  title: 'Tell throughput (bursts of 5,000 tells, each followed by one ask)',
  unit: 'tells/s',
  better: 'higher',
  async run(c, quick) {
    const n = quick ? 500_000 : 3_000_000;
    const sys = await c.open();
    const h = sys.spawn('counter');
    const t = now();
    // Bursts of 5,000 (then one ask to wait for them): large enough that queueing dominates,
    // small enough that a burst fits V8's young generation, so that the figure measures the
    // framework rather than whether the GC happened to grow its nursery before the run.
    for (let done = 0; done < n; ) {
      const batch = Math.min(5_000, n - done);
      for (let i = 0; i < batch; i++) h.tell(1);
      done += batch;
      await h.ask(0);
    }
    const total = await h.ask(0);
    const dt = now() - t;
    await sys.close();
    return { value: n / (dt / 1000), verified: total === n };
  },
};

function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g === undefined) throw new Error('run with --expose-gc');
  g();
  g();
}

export const idleActors: Scenario = {
  id: 'idle-actors',
  title: 'Idle actor footprint (100k actors spawned, each asked once)',
  unit: 'bytes/actor',
  better: 'lower',
  async run(c, quick) {
    const n = quick ? 20_000 : 100_000;
    gc();
    const before = process.memoryUsage().heapUsed;
    const sys = await c.open();
    const handles = [];
    const t = now();
    for (let i = 0; i < n; i++) handles.push(sys.spawn(`a${i}`));
    const spawnMs = now() - t;
    const replies = await Promise.all(handles.map((h) => h.ask(1)));
    gc();
    const after = process.memoryUsage().heapUsed;
    const perActor = (after - before) / n;
    const verified = replies.length === n && replies.every((r) => r === 1);
    await sys.close();
    handles.length = 0;
    return { value: perActor, verified, note: `spawn ${((spawnMs * 1000) / n).toFixed(2)} µs/actor` };
  },
};

/** Scenario groups: each runs in its own process, contestants interleaved inside it. */
export const groups: Record<string, Scenario[]> = {
  messaging: [sequentialAsk, pipelinedAsk, tellThroughput],
  memory: [idleActors],
};
