import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type DeferredReply, defineActor, defineProtocol, isHoldfastError } from '../src/index.js';
import { createTestSystem } from '../src/testing/index.js';
import { gate, rejection, tick, track } from './fixtures.js';

const P = defineProtocol('svc', {
  park: { input: z.object({ tag: z.string() }), reply: z.string() },
  hang: { input: z.object({}), reply: z.string() },
  fast: { input: z.object({}), reply: z.string() },
  release: { input: z.object({ tag: z.string(), value: z.string() }), reply: z.boolean() },
  watch: { input: z.object({}), reply: z.string() },
});

/** Parks deferred replies by tag; `release` sends one later, from another turn. */
function makeService() {
  const signals: AbortSignal[] = [];
  const hung = gate<string>();
  const Service = defineActor(P, {
    init: () => ({ parked: new Map<string, DeferredReply<string>>() }),
    handlers: {
      park(state, { tag }, ctx) {
        const reply = ctx.defer();
        state.parked.set(tag, reply);
        return reply;
      },
      hang: () => hung.promise,
      fast: () => 'fast',
      release(state, { tag, value }) {
        const r = state.parked.get(tag);
        if (!r) return false;
        state.parked.delete(tag);
        return r.send(value);
      },
      async watch(_s, _i, ctx) {
        signals.push(ctx.signal);
        await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve));
        return 'unreachable';
      },
    },
  });
  return { Service, signals, hung };
}

describe('reply channels', () => {
  it('defer() ends the turn: the actor serves other messages and replies later', async () => {
    const { system } = createTestSystem();
    const { Service } = makeService();
    const s = system.spawn(Service, { id: 's' });
    const parked = track(s.ask('park', { tag: 'a' }));
    expect(await s.ask('fast', {})).toBe('fast');
    await tick();
    expect(parked.settled).toBe(false);
    expect(system.actors()[0]?.deferred).toBe(1);
    expect(await s.ask('release', { tag: 'a', value: 'hello' })).toBe(true);
    await tick();
    expect(parked.value).toBe('hello');
    expect(system.actors()[0]?.deferred).toBe(0);
    await system.shutdown();
  });

  it('settles exactly once: a second send returns false and is counted as late', async () => {
    const { system, events } = createTestSystem();
    const P2 = defineProtocol('twice', { go: { input: z.object({}), reply: z.number() } });
    const results: boolean[] = [];
    const A = defineActor(P2, {
      init: () => null,
      handlers: {
        go(_s, _i, ctx) {
          const r = ctx.defer();
          results.push(r.send(1), r.send(2), r.fail(new Error('x')));
          return r;
        },
      },
    });
    const a = system.spawn(A);
    expect(await a.ask('go', {})).toBe(1);
    expect(results).toEqual([true, false, false]);
    expect(system.stats().lateReplies).toBe(2);
    expect(events.filter((e) => e.type === 'late-reply')).toHaveLength(2);
    await system.shutdown();
  });

  it('times out at exactly timeoutMs, not before, with ASK_TIMEOUT', async () => {
    const { system, clock } = createTestSystem();
    const { Service } = makeService();
    const s = system.spawn(Service, { id: 's' });
    const p = track(s.ask('park', { tag: 't' }, { timeoutMs: 100 }));
    await clock.advanceAsync(99);
    expect(p.settled).toBe(false);
    await clock.advanceAsync(1);
    expect(p.settled).toBe(true);
    expect(isHoldfastError(p.error, 'ASK_TIMEOUT')).toBe(true);
    expect((p.error as Error).message).toBe("ask 'park' to 's' timed out after 100 ms");
    expect(system.stats().timeouts).toBe(1);
    await system.shutdown({ timeoutMs: 1 }).then(
      () => undefined,
      () => undefined,
    );
  });

  it('keeps a deadline to the whole millisecond, rounded up: an ask started between milliseconds never times out early, and under 2 ms late', async () => {
    const { system, clock } = createTestSystem();
    const { Service } = makeService();
    const s = system.spawn(Service, { id: 's' });
    await clock.advanceAsync(0.4);
    const p = track(s.ask('park', { tag: 't' }, { timeoutMs: 100 }));
    // 100 ms after the start (t = 100.4) it is due; its deadline is t = 101, the next whole
    // millisecond, and the system's timer (whole milliseconds too) fires at t = 101.4.
    await clock.advanceAsync(100);
    expect(p.settled).toBe(false);
    await clock.advanceAsync(0.9);
    expect(p.settled).toBe(false);
    await clock.advanceAsync(0.1);
    expect(isHoldfastError(p.error, 'ASK_TIMEOUT')).toBe(true);
    await system.shutdown({ timeoutMs: 1 }).then(
      () => undefined,
      () => undefined,
    );
  });

  it('takes the timeout from the call, then the actor, then the system, then 5 s', async () => {
    const { system, clock } = createTestSystem({ askTimeoutMs: 300 });
    const { Service } = makeService();
    const byDefault = system.spawn(Service, { id: 'd' });
    const byActor = system.spawn(Service, { id: 'a', askTimeoutMs: 200 });
    const byCall = track(byActor.ask('park', { tag: 'x' }, { timeoutMs: 100 }));
    const actorLevel = track(byActor.ask('park', { tag: 'y' }));
    const systemLevel = track(byDefault.ask('park', { tag: 'z' }));
    const settledAt: Record<string, number> = {};
    for (let t = 0; t < 400; t += 50) {
      await clock.advanceAsync(50);
      for (const [k, v] of Object.entries({ byCall, actorLevel, systemLevel })) if (v.settled && settledAt[k] === undefined) settledAt[k] = clock.now();
    }
    expect(settledAt).toEqual({ byCall: 100, actorLevel: 200, systemLevel: 300 });
    const { system: plain, clock: c2 } = createTestSystem();
    const d = plain.spawn(Service, { id: 'p' });
    const fiveSeconds = track(d.ask('park', { tag: 'q' }));
    await c2.advanceAsync(4_999);
    expect(fiveSeconds.settled).toBe(false);
    await c2.advanceAsync(1);
    expect(isHoldfastError(fiveSeconds.error, 'ASK_TIMEOUT')).toBe(true);
  });

  it('drops a reply that comes after the timeout and counts it', async () => {
    const { system, clock, events } = createTestSystem();
    const { Service } = makeService();
    const s = system.spawn(Service, { id: 's' });
    const p = track(s.ask('park', { tag: 'late' }, { timeoutMs: 50 }));
    await clock.advanceAsync(50);
    expect(isHoldfastError(p.error, 'ASK_TIMEOUT')).toBe(true);
    expect(await s.ask('release', { tag: 'late', value: 'too late' })).toBe(false);
    expect(system.stats().lateReplies).toBe(1);
    expect(events.find((e) => e.type === 'late-reply')).toMatchObject({ actor: 's', message: 'park' });
    await system.shutdown();
  });

  it("cancels through the caller's AbortSignal: CANCELLED, and the handler sees ctx.signal abort", async () => {
    const { system } = createTestSystem();
    const { Service, signals } = makeService();
    const s = system.spawn(Service, { id: 's' });
    const ac = new AbortController();
    const p = s.ask('watch', {}, { signal: ac.signal });
    await tick();
    expect(signals).toHaveLength(1);
    expect(signals[0]?.aborted).toBe(false);
    ac.abort(new Error('user left'));
    const err = await rejection(p);
    expect(err.code).toBe('CANCELLED');
    expect(signals[0]?.aborted).toBe(true);
    // The turn ended when the handler saw the abort: the actor serves again.
    expect(await s.ask('fast', {})).toBe('fast');
    expect(system.stats().cancelled).toBe(1);
    await system.shutdown();
  });

  it('refuses an ask whose signal is already aborted, without queueing it', async () => {
    const { system } = createTestSystem();
    const { Service, signals } = makeService();
    const s = system.spawn(Service, { id: 's' });
    const err = await rejection(s.ask('watch', {}, { signal: AbortSignal.abort() }));
    expect(err.code).toBe('CANCELLED');
    await tick();
    expect(signals).toHaveLength(0);
    expect(system.actors()[0]?.turns).toBe(0);
    await system.shutdown();
  });

  it('never runs an ask that timed out or was cancelled while it was still queued', async () => {
    const { system, clock } = createTestSystem();
    const { Service, hung } = makeService();
    const s = system.spawn(Service, { id: 's' });
    const blocker = s.ask('hang', {}, { timeoutMs: 10_000 });
    const ac = new AbortController();
    const timedOut = track(s.ask('fast', {}, { timeoutMs: 10 }));
    const cancelled = track(s.ask('fast', {}, { signal: ac.signal }));
    const served = s.ask('fast', {});
    ac.abort();
    await clock.advanceAsync(10);
    expect(isHoldfastError(timedOut.error, 'ASK_TIMEOUT')).toBe(true);
    expect(isHoldfastError(cancelled.error, 'CANCELLED')).toBe(true);
    hung.open('done');
    expect(await blocker).toBe('done');
    expect(await served).toBe('fast');
    expect(system.actors()[0]?.turns).toBe(2); // hang and the last fast only
    await system.shutdown();
  });

  it('a deferred reply still obeys the ask deadline, and its signal aborts at the timeout', async () => {
    const { system, clock } = createTestSystem();
    let kept: DeferredReply<string> | undefined;
    const P2 = defineProtocol('d', { go: { input: z.object({}), reply: z.string() } });
    const A = defineActor(P2, {
      init: () => null,
      handlers: {
        go(_s, _i, ctx) {
          kept = ctx.defer();
          return kept;
        },
      },
    });
    const a = system.spawn(A);
    const p = track(a.ask('go', {}, { timeoutMs: 30 }));
    await tick();
    expect(kept?.signal.aborted).toBe(false);
    await clock.advanceAsync(30);
    expect(isHoldfastError(p.error, 'ASK_TIMEOUT')).toBe(true);
    expect(kept?.signal.aborted).toBe(true);
    expect(kept?.settled).toBe(true);
    expect(kept?.send('x')).toBe(false);
    await system.shutdown();
  });

  it('fails a deferred reply with the given error', async () => {
    const { system } = createTestSystem();
    const P2 = defineProtocol('d', { go: { input: z.object({}), reply: z.string() } });
    const A = defineActor(P2, {
      init: () => null,
      handlers: {
        go(_s, _i, ctx) {
          const r = ctx.defer();
          queueMicrotask(() => r.fail(new Error('backend down')));
          return r;
        },
      },
    });
    const a = system.spawn(A);
    const err = await rejection(a.ask('go', {}));
    expect(err.message).toBe('backend down');
    await system.shutdown();
  });

  it('rejects a non-positive or infinite per-call timeout with INVALID_ARGUMENT', async () => {
    const { system } = createTestSystem();
    const { Service } = makeService();
    const s = system.spawn(Service);
    expect((await rejection(s.ask('fast', {}, { timeoutMs: 0 }))).code).toBe('INVALID_ARGUMENT');
    expect((await rejection(s.ask('fast', {}, { timeoutMs: Number.POSITIVE_INFINITY }))).code).toBe('INVALID_ARGUMENT');
    // Never a synchronous throw, whatever the options.
    const bad = s.ask('fast', {}, { signal: { aborted: false } as unknown as AbortSignal });
    expect((await rejection(bad)).code).toBe('INVALID_ARGUMENT');
    expect(system.stats().pendingAsks).toBe(0);
    await system.shutdown();
  });
});
