import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineActor, defineProtocol } from '../src/index.js';
import { createTestSystem } from '../src/testing/index.js';
import { gate, makeWorker, rejection, tick, track } from './fixtures.js';

async function settle(times = 3) {
  for (let i = 0; i < times; i++) await tick();
}

describe('heartbeats and hang detection', () => {
  it('finds a hung async turn within timeoutMs + one sweep: ACTOR_CRASHED (hung) to its caller, the next message served, the zombie fenced', async () => {
    const { system, clock, events, deadLetters } = createTestSystem({ heartbeat: { timeoutMs: 1_000, sweepMs: 100 } });
    const { Worker, release, seen } = makeWorker([]);
    const w = system.spawn(Worker, { id: 'w', askTimeoutMs: 60_000 });
    await w.ask('bump', {});
    const hung = track(w.ask('hang', {}));
    const next = w.ask('get', {});
    await settle();

    // The turn started at t=0; the sweep at t=1 000 finds it silent for its whole timeout.
    await clock.advanceAsync(999);
    expect(hung.settled).toBe(false);
    await clock.advanceAsync(1);
    await settle();
    expect(hung.settled).toBe(true);
    const err = hung.error as Error & { code: string; details: unknown };
    expect(err.code).toBe('ACTOR_CRASHED');
    expect(err.details).toEqual({ actor: 'w', message: 'hang', reason: 'hung', decision: 'restart', incarnation: 1 });
    expect(events.find((e) => e.type === 'hung')).toMatchObject({ actor: 'w', message: 'hang', silentMs: 1_000, timeoutMs: 1_000, at: 1_000 });

    // The queued message is served by the new incarnation, with fresh state.
    expect(await next).toEqual({ id: 'w', inc: 2, n: 0 });

    // The zombie goes on: its signal was aborted, and its write, its reply and its tell to itself reach no one.
    release();
    await settle();
    expect(seen.aborted).toEqual([true]);
    expect(await w.ask('get', {})).toEqual({ id: 'w', inc: 2, n: 0 });
    expect(deadLetters.map((d) => `${d.actor}:${d.message}:${d.reason}`)).toEqual(['w:bump:fenced']);
    expect(system.stats()).toMatchObject({ lateReplies: 0, crashes: 1, restarts: 1 });
    // Once the zombie has ended, the actor's own sends are plain again.
    expect(await w.ask('bump', {})).toBe(1);
    await system.shutdown();
  });

  it('does not restart a long turn that calls ctx.heartbeat(), and does once it stops beating', async () => {
    const P = defineProtocol('indexer', { rebuild: { input: z.object({ steps: z.number() }), reply: z.number() } });
    const steps: Array<() => void> = [];
    const Indexer = defineActor(P, {
      init: () => ({}),
      handlers: {
        async rebuild(_s, { steps: n }, ctx) {
          for (let i = 0; i < n; i++) {
            await new Promise<void>((r) => steps.push(r));
            ctx.heartbeat();
          }
          return n;
        },
      },
    });
    const { system, clock, events } = createTestSystem({ heartbeat: { timeoutMs: 1_000, sweepMs: 100 } });
    const ix = system.spawn(Indexer, { id: 'ix', askTimeoutMs: 60_000 });
    const done = ix.ask('rebuild', { steps: 10 });
    for (let i = 0; i < 10; i++) {
      await settle();
      await clock.advanceAsync(700); // each step takes 700 ms: 7 s in all, far past the timeout
      steps.shift()?.();
    }
    expect(await done).toBe(10);
    expect(events.filter((e) => e.type === 'hung' || e.type === 'crashed')).toEqual([]);
    // One turn, ten heartbeats: counted by the actor and by the system.
    expect(system.actors()[0]).toMatchObject({ turns: 1 });
    expect(system.stats().turns).toBe(1);

    const stalls = track(ix.ask('rebuild', { steps: 3 }));
    await settle();
    await clock.advanceAsync(500);
    steps.shift()?.(); // one beat, then silence
    await settle();
    await clock.advanceAsync(1_200);
    await settle();
    expect((stalls.error as { details: { reason: string } }).details.reason).toBe('hung');
    await system.shutdown();
  });

  it("uses the actor's own timeout over its steward's, and Infinity turns detection off", async () => {
    const { system, clock, events } = createTestSystem({ heartbeat: { timeoutMs: 10_000, sweepMs: 100 } });
    const { Worker } = makeWorker([]);
    const quick = system.spawn(Worker, { id: 'quick', heartbeat: { timeoutMs: 500 }, askTimeoutMs: 60_000 });
    const never = system.spawn(Worker, { id: 'never', heartbeat: { timeoutMs: Number.POSITIVE_INFINITY }, askTimeoutMs: 60_000 });
    const a = track(quick.ask('hang', {}));
    const b = track(never.ask('hang', {}));
    await settle();
    await clock.advanceAsync(600);
    await settle();
    expect((a.error as { details: { reason: string } }).details.reason).toBe('hung');
    await clock.advanceAsync(30_000);
    expect(b.settled).toBe(false);
    expect(events.filter((e) => e.type === 'hung').map((e) => e.actor)).toEqual(['quick']);
    const report = system.shutdown({ timeoutMs: 10 });
    await clock.advanceAsync(10);
    expect((await report).unfinished.map((u) => u.id)).toEqual(['never']);
    expect((b.error as { details: unknown }).details).toEqual({ actor: 'never', reason: 'shutdown' });
  });

  it("finds a hang within the actor's own timeout plus one sweep, under a steward that sweeps more slowly (the sweep adapts)", async () => {
    // The system's default: a 30 s hang timeout, swept every 1 000 ms. The actor's own timeout is 150 ms.
    const { system, clock, events } = createTestSystem();
    const P = defineProtocol('beater', { work: { input: z.object({ beatAt: z.number() }), reply: z.number() } });
    const beat = gate();
    const Beater = defineActor(P, {
      init: () => ({}),
      handlers: {
        async work(_s, { beatAt }, ctx) {
          if (beatAt > 0) {
            await beat.promise;
            ctx.heartbeat();
          }
          return new Promise<number>(() => {});
        },
      },
    });
    const quick = system.spawn(Beater, { id: 'quick', heartbeat: { timeoutMs: 150 }, askTimeoutMs: 60_000 });
    const silent = track(quick.ask('work', { beatAt: 0 }));
    await settle();
    await clock.advanceAsync(149);
    expect(silent.settled).toBe(false);
    await clock.advanceAsync(15);
    await settle();
    expect((silent.error as { details: { reason: string } }).details.reason).toBe('hung');
    const first = events.find((e) => e.type === 'hung') as { at: number; silentMs: number };
    expect(first.at).toBeGreaterThanOrEqual(150);
    expect(first.at).toBeLessThanOrEqual(150 + 15);

    // A beat restarts the clock from the moment it was made.
    const beating = track(quick.ask('work', { beatAt: 100 }));
    await settle();
    const started = clock.now();
    await clock.advanceAsync(100);
    beat.open();
    await settle();
    await clock.advanceAsync(149);
    expect(beating.settled).toBe(false);
    await clock.advanceAsync(15);
    await settle();
    expect((beating.error as { details: { reason: string } }).details.reason).toBe('hung');
    const second = events.filter((e) => e.type === 'hung')[1] as { at: number; silentMs: number };
    expect(second.at - started).toBeGreaterThanOrEqual(250);
    expect(second.at - started).toBeLessThanOrEqual(250 + 15);
    await system.shutdown();
  });

  it('a steward sweeps all its actors with one timer, not one per actor', async () => {
    const { system, clock } = createTestSystem();
    const { Worker } = makeWorker([]);
    const before = clock.pending;
    system.spawn(Worker, { id: 'first' });
    expect(clock.pending).toBe(before + 1);
    for (let i = 0; i < 1_000; i++) system.spawn(Worker, { id: `w${i}` });
    const s = system.steward('s');
    for (let i = 0; i < 100; i++) s.spawn(Worker, { id: `s${i}` });
    expect(clock.pending).toBe(before + 2);
    // Actors with shorter hang timeouts of their own make the sweep more frequent, not more numerous.
    for (let i = 0; i < 10; i++) s.spawn(Worker, { id: `q${i}`, heartbeat: { timeoutMs: 1_000 - i * 50 } });
    expect(clock.pending).toBe(before + 2);
    await system.shutdown();
    expect(clock.pending).toBe(0);
  });

  it('a hang under a one-for-all steward restarts the siblings too', async () => {
    const log: string[] = [];
    const { system, clock } = createTestSystem({ heartbeat: { timeoutMs: 1_000, sweepMs: 100 } });
    const { Worker } = makeWorker(log);
    const s = system.steward('s', { strategy: 'one-for-all' });
    const a = s.spawn(Worker, { id: 'a', askTimeoutMs: 60_000 });
    s.spawn(Worker, { id: 'b' });
    log.length = 0;
    const p = rejection(a.ask('hang', {}));
    await settle();
    await clock.advanceAsync(1_100);
    expect((await p).details).toMatchObject({ reason: 'hung' });
    await settle();
    expect(log).toEqual(['b#1:stop:sibling-restart', 'a#1:stop:restarting', 'a#2:start', 'b#2:start']);
    await system.shutdown();
  });
});

describe('stopping a turn that does not end', () => {
  it('system.stop abandons a turn still running after stopTimeoutMs: its caller gets ACTOR_STOPPED and the stop completes', async () => {
    const { system, clock, events } = createTestSystem();
    const { Worker } = makeWorker([]);
    const w = system.spawn(Worker, { id: 'w', stopTimeoutMs: 300, askTimeoutMs: 60_000, heartbeat: { timeoutMs: Number.POSITIVE_INFINITY } });
    const stuck = track(w.ask('hang', {}));
    await settle();
    const stopped = track(system.stop(w));
    await clock.advanceAsync(299);
    expect(stopped.settled).toBe(false);
    await clock.advanceAsync(1);
    await settle();
    expect(stopped.settled).toBe(true);
    expect((stuck.error as { code: string; details: unknown }).details).toEqual({ actor: 'w', reason: 'stopped' });
    expect(events.find((e) => e.type === 'error')).toMatchObject({ actor: 'w', where: 'stop' });
    expect(system.lookup('w')).toBeUndefined();
    await system.shutdown();
  });

  it('a stop of an actor whose turn ends in time waits for the turn, and abandons nothing', async () => {
    const { system, clock, events } = createTestSystem();
    const g = gate<number>();
    const P = defineProtocol('slow', { work: { input: z.object({}), reply: z.number() } });
    const Slow = defineActor(P, { init: () => ({}), handlers: { work: () => g.promise } });
    const s = system.spawn(Slow, { id: 's', stopTimeoutMs: 300 });
    const work = s.ask('work', {});
    await settle();
    const stopped = system.stop(s);
    await clock.advanceAsync(100);
    g.open(7);
    expect(await work).toBe(7);
    await stopped;
    expect(events.filter((e) => e.type === 'error')).toEqual([]);
    await system.shutdown();
  });
});
