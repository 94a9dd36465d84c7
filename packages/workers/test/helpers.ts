import type { ActorRef, ActorSystem, SpawnOptions } from '@holdfast/core';
import { createWorkerHost, type WorkerHost, workerActor } from '../src/index.js';
import { probeBehaviour } from './fixtures/probe.js';
import { ProbeProtocol } from './fixtures/protocols.js';

export type Probe = ActorRef<typeof ProbeProtocol>;
export type ProbeOptions = Omit<SpawnOptions<{ start?: number } | undefined>, 'host'>;

/** The worker-hosted twin of the in-thread probe: the same behaviour module, loaded on a thread. */
export const WorkerProbe = workerActor<typeof ProbeProtocol, { start?: number } | undefined>(ProbeProtocol, new URL('./fixtures/probe.ts', import.meta.url));

/** Where a probe runs: the same test cases run against each. */
export interface Placement {
  readonly name: 'in-thread' | 'worker';
  /** Called once per system; the returned spawn function places probes. */
  setup(system: ActorSystem): (options: ProbeOptions) => Probe;
}

export const inThread: Placement = {
  name: 'in-thread',
  setup: (system) => (options) => system.spawn(probeBehaviour, options),
};

export const onWorkers: Placement = {
  name: 'worker',
  setup(system) {
    const host: WorkerHost = createWorkerHost({ threads: 2, heartbeat: { timeoutMs: 2_000 } });
    return (options) => system.spawn(WorkerProbe, { ...options, host });
  },
};

/** Poll `check` every 10 ms until it holds (throws after `timeoutMs`). */
export async function until(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return;
    await sleep(10);
  }
  throw new Error(`timed out waiting for ${what}`);
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The outcome of a promise, as data: `{ ok: value }` or `{ code, … }`. */
export async function outcome<T>(p: Promise<T>): Promise<{ ok: T } | { code: string; details: unknown; cause: unknown }> {
  try {
    return { ok: await p };
  } catch (e) {
    const err = e as { code?: string; details?: unknown; cause?: unknown };
    return { code: err.code ?? 'NONE', details: err.details, cause: err.cause };
  }
}
