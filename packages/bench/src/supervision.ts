// Costs of supervision, measured on Holdfast alone (the floor has no supervisor to compare with):
// the steward's heartbeat sweep over many actors, hang detection at scale, and restarts.
import { type ActorRef, createSystem, defineActor, defineProtocol } from '@holdfast/core';
import { ManualClock } from '@holdfast/core/testing';
import { z } from 'zod';
import type { Sample } from './scenarios.js';

const P = defineProtocol('bench-worker', {
  get: { input: z.object({}), reply: z.number() },
  crash: { input: z.object({}) },
  park: { input: z.object({}) },
});

const Worker = defineActor(P, {
  init: () => ({ n: 0 }),
  onStop() {},
  handlers: {
    get: (s) => ++s.n,
    crash() {
      throw new Error('crash requested');
    },
    // A turn that never ends: what a hung handler looks like to the steward.
    park: () => new Promise<void>(() => {}),
  },
});

/** A supervision measurement. */
export interface SupervisionScenario {
  readonly id: string;
  readonly title: string;
  readonly unit: string;
  run(quick: boolean): Promise<Sample>;
}

const now = () => performance.now();

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1] as number;
}

/** One sweep over N idle actors: the price of hang detection when nothing is wrong. */
export const sweepIdle: SupervisionScenario = {
  id: 'sweep-idle',
  title: 'One heartbeat sweep over 100k idle supervised actors',
  unit: 'ms/sweep',
  async run(quick) {
    const n = quick ? 20_000 : 100_000;
    const clock = new ManualClock();
    const system = createSystem({ name: 'bench', clock, heartbeat: { timeoutMs: 30_000, sweepMs: 1_000 } });
    const refs: ActorRef<typeof P>[] = [];
    for (let i = 0; i < n; i++) refs.push(system.spawn(Worker, { id: `w${i}` }));
    await Promise.all(refs.map((r) => r.ask('get', {})));
    let hung = 0;
    system.events.subscribe((e) => {
      if (e.type === 'hung') hung++;
    });
    const times: number[] = [];
    for (let i = 0; i < 40; i++) {
      const t = now();
      clock.advance(1_000); // fires the root steward's one sweep timer
      times.push(now() - t);
    }
    const stats = system.stats();
    const shutdown = system.shutdown({ timeoutMs: 1 });
    clock.advance(1);
    await shutdown;
    return { value: median(times), verified: hung === 0 && stats.actors === n && stats.crashes === 0, note: `${n.toLocaleString('en')} actors` };
  },
};

/** 1% of N actors hang at once: the sweep finds exactly those and restarts them. */
export const hangDetection: SupervisionScenario = {
  id: 'hang-detection',
  title: 'Hang detection: 1k of 100k actors hang; the sweep that finds them, with their restarts',
  unit: 'ms/sweep',
  async run(quick) {
    const n = quick ? 20_000 : 100_000;
    const stuck = n / 100;
    const clock = new ManualClock();
    const system = createSystem({ name: 'bench', clock, askTimeoutMs: 3_600_000, heartbeat: { timeoutMs: 10_000, sweepMs: 1_000 } });
    const refs: ActorRef<typeof P>[] = [];
    for (let i = 0; i < n; i++) refs.push(system.spawn(Worker, { id: `w${i}` }));
    await Promise.all(refs.map((r) => r.ask('get', {})));
    const parked = refs.filter((_, i) => i % 100 === 0).map((r) => r.ask('park', {}).catch((e: { details?: { reason?: string } }) => e.details?.reason));
    await new Promise((r) => setImmediate(r));
    // Each turn's start is stamped: nine sweeps see them silent for less than the timeout.
    for (let i = 0; i < 9; i++) clock.advance(1_000);
    let hung = 0;
    system.events.subscribe((e) => {
      if (e.type === 'hung') hung++;
    });
    const t = now();
    clock.advance(1_000); // 10 s of silence: this sweep declares them hung and starts their restarts
    await new Promise((r) => setImmediate(r)); // the restarts run
    const dt = now() - t;
    const reasons = await Promise.all(parked);
    const restarted = (await Promise.all(refs.filter((_, i) => i % 100 === 0).map((r) => system.inspect(r)))).every((s) => s.incarnation === 2);
    const shutdown = system.shutdown({ timeoutMs: 1 });
    clock.advance(1);
    await shutdown;
    return {
      value: dt,
      verified: hung === stuck && reasons.every((r) => r === 'hung') && restarted,
      note: `${stuck.toLocaleString('en')} hung of ${n.toLocaleString('en')}`,
    };
  },
};

async function restartLoop(quick: boolean, strategy: 'one-for-one' | 'one-for-all', children: number): Promise<Sample> {
  const n = quick ? 2_000 : 20_000;
  const system = createSystem({ name: 'bench' });
  const s = system.steward('s', { strategy, intensity: { maxRestarts: 10 * n, withinMs: 3_600_000 } });
  const refs = Array.from({ length: children }, (_, i) => s.spawn(Worker, { id: `c${i}` }));
  const target = refs[0] as ActorRef<typeof P>;
  await target.ask('get', {});
  const t = now();
  let last = 0;
  for (let i = 0; i < n; i++) {
    await target.ask('crash', {}).catch(() => {});
    last = await target.ask('get', {}); // served by the new incarnation: fresh state, so 1
  }
  const dt = now() - t;
  const snap = await system.inspect(target);
  const others = await Promise.all(refs.slice(1).map((r) => system.inspect(r)));
  await system.shutdown();
  const expectedOthers = strategy === 'one-for-all' ? n + 1 : 1;
  return {
    value: (dt * 1000) / n,
    verified: last === 1 && snap.incarnation === n + 1 && others.every((o) => o.incarnation === expectedOthers),
    note: `${n.toLocaleString('en')} restarts`,
  };
}

/** A crash, the restart, and the next reply from the new incarnation. */
export const restartOne: SupervisionScenario = {
  id: 'restart',
  title: 'Restart: crash, one-for-one restart, next reply (µs per cycle)',
  unit: 'µs/restart',
  run: (quick) => restartLoop(quick, 'one-for-one', 1),
};

/** The same with ten children restarted together. */
export const restartGroup: SupervisionScenario = {
  id: 'restart-group',
  title: 'Group restart: crash under one-for-all with 10 children, next reply (µs per cycle)',
  unit: 'µs/restart',
  run: (quick) => restartLoop(quick, 'one-for-all', 10),
};

export const supervisionScenarios: SupervisionScenario[] = [sweepIdle, hangDetection, restartOne, restartGroup];
