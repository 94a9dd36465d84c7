import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type Cancel, defineActor, defineProtocol } from '../src/index.js';
import { createTestSystem } from '../src/testing/index.js';
import { rejection } from './fixtures.js';

const P = defineProtocol('ticker', {
  start: { input: z.object({ everyMs: z.number(), afterMs: z.number().optional() }) },
  once: { input: z.object({ afterMs: z.number() }) },
  tick: { input: z.object({ label: z.string() }) },
  cancel: { input: z.object({}) },
  bad: { input: z.object({}) },
  ticks: { input: z.object({}), reply: z.array(z.string()) },
});

const Ticker = defineActor(P, {
  init: () => ({ ticks: [] as string[], cancel: null as Cancel | null }),
  handlers: {
    start(s, { everyMs, afterMs }, ctx) {
      s.cancel = ctx.schedule('tick', { label: 'every' }, afterMs === undefined ? { everyMs } : { everyMs, afterMs });
    },
    once(_s, { afterMs }, ctx) {
      ctx.schedule('tick', { label: `once@${afterMs}` }, { afterMs });
    },
    tick(s, { label }, ctx) {
      s.ticks.push(`${label}#${ctx.incarnation}`);
    },
    cancel(s) {
      s.cancel?.();
    },
    bad(_s, _i, ctx) {
      ctx.schedule('tick', { label: 42 } as never, { afterMs: 1 });
    },
    ticks: (s) => [...s.ticks],
  },
});

describe('timers through the mailbox', () => {
  it('delivers afterMs once and everyMs repeatedly, as messages', async () => {
    const { system, clock } = createTestSystem();
    const t = system.spawn(Ticker, { id: 't' });
    t.tell('once', { afterMs: 50 });
    t.tell('start', { everyMs: 100, afterMs: 10 });
    await clock.advanceAsync(9);
    expect(await t.ask('ticks', {})).toEqual([]);
    await clock.advanceAsync(301); // t = 310
    expect(await t.ask('ticks', {})).toEqual(['every#1', 'once@50#1', 'every#1', 'every#1', 'every#1']);
    t.tell('cancel', {});
    await clock.advanceAsync(1_000);
    expect((await t.ask('ticks', {})).length).toBe(5);
    await system.shutdown();
  });

  it("cancels an incarnation's timers when the actor stops", async () => {
    const { system, clock, deadLetters } = createTestSystem();
    const t = system.spawn(Ticker, { id: 't' });
    t.tell('start', { everyMs: 10 });
    await clock.advanceAsync(25);
    expect(await t.ask('ticks', {})).toEqual(['every#1', 'every#1']);
    await system.stop(t);
    await clock.advanceAsync(100);
    // A timer that outlived its incarnation would tell a stopped actor: a dead letter.
    expect(deadLetters).toEqual([]);
    await system.shutdown();
  });

  it("cancels an incarnation's timers when the actor restarts", async () => {
    const { system, clock } = createTestSystem();
    const t = system.spawn(Ticker, { id: 't' });
    t.tell('start', { everyMs: 10 });
    await clock.advanceAsync(10);
    await system.restart(t);
    await clock.advanceAsync(50);
    expect(await t.ask('ticks', {})).toEqual([]);
    await system.shutdown();
  });

  it("checks a scheduled message's input when it is scheduled: the turn fails, nothing is queued", async () => {
    const { system, clock } = createTestSystem();
    const t = system.spawn(Ticker, { id: 't' });
    const err = await rejection(t.ask('bad', {}));
    expect(err.code).toBe('ACTOR_CRASHED');
    expect(err.cause).toMatchObject({ code: 'INVALID_MESSAGE' });
    await clock.advanceAsync(10);
    expect(await t.ask('ticks', {})).toEqual([]);
    await system.shutdown();
  });
});
