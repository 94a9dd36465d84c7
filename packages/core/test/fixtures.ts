import { z } from 'zod';
import { defineActor, defineProtocol } from '../src/index.js';

export const CounterProtocol = defineProtocol('counter', {
  add: { input: z.object({ key: z.string(), by: z.number().int() }), reply: z.number() },
  get: { input: z.object({ key: z.string() }), reply: z.number() },
  reset: { input: z.object({}) },
});

export const Counter = defineActor(CounterProtocol, {
  init: (args: { start?: number } | undefined) => ({ counts: new Map<string, number>(), start: args?.start ?? 0 }),
  handlers: {
    add(state, { key, by }) {
      const v = (state.counts.get(key) ?? state.start) + by;
      state.counts.set(key, v);
      return v;
    },
    get: (state, { key }) => state.counts.get(key) ?? state.start,
    reset(state) {
      state.counts.clear();
    },
  },
});

/** A promise with its resolve function outside: a gate a test opens when it wants. */
export function gate<T = void>(): { promise: Promise<T>; open: (v: T) => void } {
  let open!: (v: T) => void;
  const promise = new Promise<T>((r) => {
    open = r;
  });
  return { promise, open };
}

/** The rejection of `p`, or a failure when it resolves. */
export async function rejection(p: Promise<unknown>): Promise<Error & { code?: string; details?: unknown }> {
  try {
    const v = await p;
    throw new Error(`expected a rejection, got ${JSON.stringify(v)}`);
  } catch (e) {
    return e as Error & { code?: string };
  }
}

/** Track whether a promise has settled, without awaiting it. */
export function track<T>(p: Promise<T>): { readonly settled: boolean; readonly value?: T; readonly error?: unknown } {
  const s: { settled: boolean; value?: T; error?: unknown } = { settled: false };
  p.then(
    (v) => {
      s.settled = true;
      s.value = v;
    },
    (e) => {
      s.settled = true;
      s.error = e;
    },
  );
  return s;
}

/** Let microtasks and immediates run. */
export const tick = () => new Promise<void>((r) => setImmediate(r));

export const WorkerProtocol = defineProtocol('worker', {
  /** Who answers: id, incarnation and the count. */
  get: { input: z.object({}), reply: z.object({ id: z.string(), inc: z.number(), n: z.number() }) },
  bump: { input: z.object({}), reply: z.number() },
  crash: { input: z.object({}) },
  exit: { input: z.object({}) },
  /** Waits for the test's gate, then writes `n = 99`, tells itself `bump` and replies 99. */
  hang: { input: z.object({}), reply: z.number() },
});

/**
 * A worker whose lifecycle is written to `log` (`id#incarnation:start`, `id#incarnation:stop:reason`),
 * with a gate the `hang` handler waits on and a record of what its zombie turns saw.
 */
export function makeWorker(log: string[]) {
  const release = gate();
  const seen: { aborted: boolean[] } = { aborted: [] };
  const Worker = defineActor(WorkerProtocol, {
    init: () => ({ n: 0 }),
    onStart: (_s, ctx) => {
      log.push(`${ctx.self.id}#${ctx.incarnation}:start`);
    },
    onStop: (_s, ctx, reason) => {
      log.push(`${ctx.self.id}#${ctx.incarnation}:stop:${reason}`);
    },
    handlers: {
      get: (s, _i, ctx) => ({ id: ctx.self.id, inc: ctx.incarnation, n: s.n }),
      bump: (s) => ++s.n,
      crash() {
        throw new Error('crash requested');
      },
      exit(_s, _i, ctx) {
        ctx.stop();
      },
      async hang(s, _i, ctx) {
        await release.promise;
        seen.aborted.push(ctx.signal.aborted);
        s.n = 99;
        ctx.self.tell('bump', {});
        return 99;
      },
    },
  });
  return { Worker, release: () => release.open(), seen };
}
