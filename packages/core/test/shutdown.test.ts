import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type ActorRef, createSystem, defineActor, defineProtocol, isHoldfastError } from '../src/index.js';
import { createTestSystem } from '../src/testing/index.js';
import { Counter, gate, rejection, tick, track } from './fixtures.js';

const P = defineProtocol('worker', {
  job: { input: z.object({ n: z.number() }), reply: z.number() },
  relay: { input: z.object({ n: z.number() }), reply: z.number() },
  forever: { input: z.object({}) },
  done: { input: z.object({}), reply: z.array(z.number()) },
});

function makeWorker(order: string[], slow?: Promise<void>) {
  return defineActor(P, {
    init: () => ({ done: [] as number[], next: null as ActorRef<typeof P> | null }),
    onStop: (_s, ctx, reason) => {
      order.push(`${ctx.self.id}:${reason}`);
    },
    handlers: {
      async job(s, { n }) {
        if (slow) await slow;
        s.done.push(n);
        return n;
      },
      async relay(s, { n }, ctx) {
        // In-flight work asks another actor during the drain: it must be served.
        const other = ctx.system.lookup(P, 'w2') as ActorRef<typeof P>;
        if (slow) await slow;
        const v = await other.ask('job', { n: n * 10 });
        s.done.push(v);
        return v;
      },
      forever: () => new Promise<void>(() => {}),
      done: (s) => [...s.done],
    },
  });
}

describe('shutdown', () => {
  it('refuses new outside asks with SHUTTING_DOWN, finishes queued work, serves asks made by in-flight work', async () => {
    const order: string[] = [];
    const g = gate();
    const W = makeWorker(order, g.promise);
    const system = createSystem();
    const w1 = system.spawn(W, { id: 'w1' });
    system.spawn(W, { id: 'w2' });
    const queued = [w1.ask('job', { n: 1 }), w1.ask('relay', { n: 2 }), w1.ask('job', { n: 3 })];
    await tick();
    const report = system.shutdown();
    expect(system.status).toBe('draining');
    const refused = await rejection(w1.ask('job', { n: 4 }));
    expect(refused.code).toBe('SHUTTING_DOWN');
    expect(() => system.spawn(W, { id: 'w3' })).toThrowError(expect.objectContaining({ code: 'SHUTTING_DOWN' }));
    g.open();
    expect(await Promise.all(queued)).toEqual([1, 20, 3]);
    expect(await report).toMatchObject({ clean: true, unfinished: [] });
    expect(system.status).toBe('stopped');
    // Stopped in reverse spawn order.
    expect(order).toEqual(['w2:shutdown', 'w1:shutdown']);
  });

  it('turns outside tells into dead letters while draining', async () => {
    const { system, deadLetters } = createTestSystem();
    const c = system.spawn(Counter, { id: 'c' });
    const draining = system.shutdown();
    c.tell('add', { key: 'a', by: 1 });
    await draining;
    expect(deadLetters.map((d) => [d.actor, d.message, d.reason])).toEqual([['c', 'add', 'shutting-down']]);
  });

  it('abandons work still running at the deadline, names it, and fails its caller with ACTOR_STOPPED', async () => {
    const order: string[] = [];
    const { system, clock } = createTestSystem();
    const W = makeWorker(order);
    const stuck = system.spawn(W, { id: 'stuck' });
    system.spawn(W, { id: 'fine' });
    const forever = track(stuck.ask('forever', {}, { timeoutMs: 60_000 }));
    const behind = track(stuck.ask('job', { n: 1 }, { timeoutMs: 60_000 }));
    await tick();
    const report = track(system.shutdown({ timeoutMs: 1_000 }));
    await clock.advanceAsync(999);
    expect(report.settled).toBe(false);
    await clock.advanceAsync(1);
    await tick();
    expect(report.value).toMatchObject({ clean: false, unfinished: [{ id: 'stuck', type: 'worker', mailbox: 1, busy: true, deferred: 0 }] });
    expect(isHoldfastError(forever.error, 'ACTOR_STOPPED')).toBe(true);
    expect((forever.error as { details: unknown }).details).toEqual({ actor: 'stuck', reason: 'shutdown' });
    expect(isHoldfastError(behind.error, 'ACTOR_STOPPED')).toBe(true);
    expect(order).toEqual(['fine:shutdown', 'stuck:shutdown']);
  });

  it('returns the same report when called twice, and stop() of a stopped actor resolves', async () => {
    const system = createSystem();
    const c = system.spawn(Counter, { id: 'c' });
    const a = system.shutdown();
    const b = system.shutdown();
    expect(a).toBe(b);
    await a;
    expect((await rejection(c.ask('get', { key: 'a' }))).code).toBe('ACTOR_STOPPED');
  });
});

describe('stop', () => {
  it('jumps the queue: the running turn finishes, queued asks fail with ACTOR_STOPPED, queued tells become dead letters', async () => {
    const order: string[] = [];
    const g = gate();
    const W = makeWorker(order, g.promise);
    const { system, deadLetters } = createTestSystem();
    const w = system.spawn(W, { id: 'w' });
    const running = w.ask('job', { n: 1 });
    const queued = track(w.ask('job', { n: 2 }));
    w.tell('job', { n: 3 });
    await tick();
    const stopped = system.stop(w);
    g.open();
    expect(await running).toBe(1);
    await stopped;
    expect(isHoldfastError(queued.error, 'ACTOR_STOPPED')).toBe(true);
    expect(deadLetters.map((d) => [d.message, d.input, d.reason])).toEqual([['job', { n: 3 }, 'stopped']]);
    expect(order).toEqual(['w:stopped']);
    expect(system.lookup('w')).toBeUndefined();
    w.tell('job', { n: 4 });
    expect(deadLetters).toHaveLength(2);
    expect((await rejection(system.stop('w'))).code).toBe('ACTOR_NOT_FOUND');
    await system.shutdown();
  });

  it("lets a new actor take a stopped actor's id; the old ref stays stopped", async () => {
    const system = createSystem();
    const old = system.spawn(Counter, { id: 'c' });
    await system.stop(old);
    const fresh = system.spawn(Counter, { id: 'c' });
    expect(await fresh.ask('add', { key: 'a', by: 1 })).toBe(1);
    expect((await rejection(old.ask('get', { key: 'a' }))).code).toBe('ACTOR_STOPPED');
    await system.shutdown();
  });
});
