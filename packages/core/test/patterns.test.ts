import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createSystem, defineActor, defineProtocol, firstReply, gather, RateLimiter } from '../src/index.js';
import { createTestSystem, settle } from '../src/testing/index.js';

const P = defineProtocol('replica', {
  get: { input: z.object({ ms: z.number().int().min(0), fail: z.boolean().default(false) }), reply: z.string() },
  aborted: { input: z.object({}), reply: z.number() },
});

/** Answers its id after `ms` (real time), or fails; counts the turns whose signal aborted. */
const Replica = defineActor(P, {
  init: (id: string) => ({ id, aborted: 0 }),
  handlers: {
    get(s, { ms, fail }, ctx) {
      return new Promise<string>((resolve, reject) => {
        const t = setTimeout(() => (fail ? reject(new Error(`${s.id} failed`)) : resolve(s.id)), ms);
        ctx.signal.addEventListener('abort', () => {
          clearTimeout(t);
          s.aborted++;
          resolve('aborted');
        });
      });
    },
    aborted: (s) => s.aborted,
  },
});

function replicas(n: number) {
  const system = createSystem({ name: 'patterns' });
  return { system, refs: Array.from({ length: n }, (_, i) => system.spawn(Replica, { id: `r${i}`, args: `r${i}` })) };
}

describe('gather (fork-join)', () => {
  it('gathers every reply in task order', async () => {
    const { system, refs } = replicas(3);
    const got = await gather(refs.map((r, i) => (signal) => r.ask('get', { ms: 30 - i * 10 }, { signal })));
    expect(got).toEqual(['r0', 'r1', 'r2']);
    await system.shutdown();
  });

  it('fails with the first error at once and cancels the others through their signal', async () => {
    const { system, refs } = replicas(3);
    const started = Date.now();
    const r = await gather([
      (signal) => (refs[0] as (typeof refs)[0]).ask('get', { ms: 2_000 }, { signal }),
      (signal) => (refs[1] as (typeof refs)[0]).ask('get', { ms: 10, fail: true }, { signal }),
      (signal) => (refs[2] as (typeof refs)[0]).ask('get', { ms: 2_000 }, { signal }),
    ]).catch((e: unknown) => e);
    expect(r).toMatchObject({ code: 'ACTOR_CRASHED', details: { actor: 'r1' } });
    expect(Date.now() - started).toBeLessThan(1_500);
    await settle();
    expect([await refs[0]?.ask('aborted', {}), await refs[2]?.ask('aborted', {})]).toEqual([1, 1]);
    await system.shutdown();
  });

  it('has one deadline for the whole (ASK_TIMEOUT) and obeys the caller’s signal (CANCELLED)', async () => {
    const { system, refs } = replicas(2);
    const slow = refs.map((r) => (signal: AbortSignal) => r.ask('get', { ms: 2_000 }, { signal }));
    expect(await gather(slow, { timeoutMs: 50, name: 'balances' }).catch((e: unknown) => e)).toMatchObject({
      code: 'ASK_TIMEOUT',
      details: { actor: 'balances', message: '2 tasks', timeoutMs: 50 },
    });
    const ac = new AbortController();
    const pending = gather(slow, { signal: ac.signal }).catch((e: unknown) => e);
    ac.abort();
    expect(await pending).toMatchObject({ code: 'CANCELLED' });
    expect(await gather([], {})).toEqual([]);
    expect(await gather(slow, { timeoutMs: -1 }).catch((e: unknown) => e)).toMatchObject({ code: 'INVALID_ARGUMENT' });
    await system.shutdown();
  });
});

describe('firstReply (replicated requests)', () => {
  it('answers with the first success and cancels the rest, not the winner', async () => {
    const { system, refs } = replicas(3);
    const got = await firstReply([
      (signal) => (refs[0] as (typeof refs)[0]).ask('get', { ms: 500 }, { signal }),
      (signal) => (refs[1] as (typeof refs)[0]).ask('get', { ms: 20 }, { signal }),
      (signal) => (refs[2] as (typeof refs)[0]).ask('get', { ms: 500 }, { signal }),
    ]);
    expect(got).toBe('r1');
    await settle();
    expect(await Promise.all(refs.map((r) => r.ask('aborted', {})))).toEqual([1, 0, 1]);
    await system.shutdown();
  });

  it('a failure does not end it while another task may still succeed; all failing gives every error in order', async () => {
    const { system, refs } = replicas(3);
    expect(
      await firstReply([
        (signal) => (refs[0] as (typeof refs)[0]).ask('get', { ms: 5, fail: true }, { signal }),
        (signal) => (refs[1] as (typeof refs)[0]).ask('get', { ms: 40 }, { signal }),
      ]),
    ).toBe('r1');
    const all = (await firstReply(refs.map((r, i) => (signal: AbortSignal) => r.ask('get', { ms: 5 * i, fail: true }, { signal }))).catch(
      (e: unknown) => e,
    )) as AggregateError;
    expect(all).toBeInstanceOf(AggregateError);
    expect(all.message).toBe('first-reply: every task failed');
    expect(all.errors.map((e: { details: { actor: string } }) => e.details.actor)).toEqual(['r0', 'r1', 'r2']);
    expect(await firstReply([]).catch((e: unknown) => e)).toMatchObject({ code: 'INVALID_ARGUMENT' });
    await system.shutdown();
  });
});

describe('RateLimiter (token buckets owned by one actor)', () => {
  it('grants within every limit, refuses past one with the wait, and refills with time', async () => {
    const { system, clock } = createTestSystem();
    const limiter = system.spawn(RateLimiter, {
      id: 'limit',
      args: {
        limits: [
          { capacity: 3, perMs: 1_000 },
          { capacity: 5, perMs: 10_000 },
        ],
        now: () => clock.now(),
      },
    });
    const takes = [];
    for (let i = 0; i < 4; i++) takes.push(await limiter.ask('take', {}));
    expect(takes.map((t) => t.granted)).toEqual([true, true, true, false]);
    // 1 token comes back every 333.3 ms in the first bucket.
    expect(takes[3]).toEqual({ granted: false, retryAfterMs: 334, remaining: [0, 2] });
    clock.advance(334);
    expect(await limiter.ask('take', {})).toMatchObject({ granted: true });
    clock.advance(1_000);
    // The first bucket is full again; the second (5 per 10 s) has ~1.7 left: the minute limit binds.
    expect((await limiter.ask('take', { cost: 2 })).granted).toBe(false);
    expect(await limiter.ask('take', { cost: 9 }).catch((e: unknown) => e)).toMatchObject({ code: 'REJECTED', details: { reason: 'COST_TOO_HIGH' } });
    await system.shutdown();
  });

  it('acquire waits its turn, first come first served, within the ask’s deadline', async () => {
    const { system, clock } = createTestSystem();
    const limiter = system.spawn(RateLimiter, { id: 'limit', args: { limits: [{ capacity: 2, perMs: 1_000 }], now: () => clock.now() } });
    const order: string[] = [];
    const a = limiter.ask('acquire', { cost: 2 }).then((r) => order.push(`a:${r.waitedMs}`));
    const b = limiter.ask('acquire', { cost: 1 }).then((r) => order.push(`b:${r.waitedMs}`));
    const c = limiter.ask('acquire', { cost: 1 }).then((r) => order.push(`c:${r.waitedMs}`));
    const late = limiter.ask('acquire', { cost: 2 }, { timeoutMs: 100 }).catch((e: { code: string }) => order.push(`late:${e.code}`));
    await settle();
    expect(order).toEqual(['a:0']);
    // A take does not jump the queue.
    expect((await limiter.ask('take', {})).granted).toBe(false);
    clock.advance(100);
    await settle();
    expect(order).toEqual(['a:0', 'late:ASK_TIMEOUT']);
    clock.advance(400);
    await settle();
    expect(order).toEqual(['a:0', 'late:ASK_TIMEOUT', 'b:500']);
    clock.advance(500);
    await Promise.all([a, b, c, late]);
    expect(order).toEqual(['a:0', 'late:ASK_TIMEOUT', 'b:500', 'c:1000']);
    await system.shutdown();
  });

  it('refuses bad limits at spawn', () => {
    const system = createSystem({ name: 'bad-limits' });
    expect(() => system.spawn(RateLimiter, { id: 'x', args: { limits: [] } })).toThrow(expect.objectContaining({ code: 'ACTOR_CRASHED' }));
    expect(() => system.spawn(RateLimiter, { id: 'y', args: { limits: [{ capacity: 0, perMs: 1 }] } })).toThrow(
      expect.objectContaining({ code: 'ACTOR_CRASHED' }),
    );
    return system.shutdown();
  });
});
