import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createSystem, defineActor, defineProtocol, firstReply, gather } from '../src/index.js';
import { createTestSystem } from '../src/testing/index.js';
import { Counter } from './fixtures.js';

/** The INVALID_ARGUMENT that `fn` throws, with its message and details. */
function thrown(fn: () => unknown): { code: string; message: string; details: unknown } {
  try {
    fn();
  } catch (e) {
    return e as { code: string; message: string; details: unknown };
  }
  throw new Error('expected a throw');
}

describe('options are checked strictly', () => {
  it('a steward given maxRestarts at the top level is refused, naming the key and where it belongs', () => {
    const { system } = createTestSystem();
    const e = thrown(() => system.steward('jobs', { maxRestarts: 10 } as never));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.details).toEqual({ option: 'maxRestarts', suggestion: 'intensity.maxRestarts' });
    expect(e.message).toMatch(/^steward 'jobs': unknown option 'maxRestarts' \(did you mean 'intensity\.maxRestarts'\?\)/);
    // Nothing was made: the name is still free.
    expect(system.steward('jobs', { intensity: { maxRestarts: 10 } }).name).toBe('jobs');
  });

  it('names a misspelt key and the nearest known one, at any depth', () => {
    const { system } = createTestSystem();
    expect(thrown(() => system.spawn(Counter, { id: 'c', askTimeout: 100 } as never)).details).toEqual({ option: 'askTimeout', suggestion: 'askTimeoutMs' });
    expect(thrown(() => system.spawn(Counter, { id: 'c', mailbox: { capacty: 10 } } as never)).details).toEqual({
      option: 'mailbox.capacty',
      suggestion: 'mailbox.capacity',
    });
    expect(thrown(() => system.steward('s', { heartbeat: { timeout: 10 } } as never)).details).toEqual({
      option: 'heartbeat.timeout',
      suggestion: 'heartbeat.timeoutMs',
    });
    // Far from every known key: named, with no suggestion.
    expect(thrown(() => system.spawn(Counter, { id: 'c', colour: 'red' } as never)).details).toEqual({ option: 'colour', suggestion: null });
    expect(system.lookup('c')).toBeUndefined();
  });

  it('checks the system, behaviour, protocol and schedule options', () => {
    expect(thrown(() => createSystem({ drainTimeout: 5 } as never)).details).toEqual({ option: 'drainTimeout', suggestion: 'drainTimeoutMs' });
    expect(thrown(() => createSystem({ turnObserver: { observe() {}, sampleEvry: 2 } } as never)).details).toEqual({
      option: 'turnObserver.sampleEvry',
      suggestion: 'turnObserver.sampleEvery',
    });
    const P = defineProtocol('p', { a: { input: z.object({}) } });
    expect(thrown(() => defineActor(P, { init: () => null, handlers: { a() {} }, onstop() {} } as never)).details).toEqual({
      option: 'onstop',
      suggestion: 'onStop',
    });
    expect(thrown(() => defineActor(P, { init: () => null, handlers: { a() {} }, options: { stopTimeout: 1 } } as never)).details).toEqual({
      option: 'options.stopTimeout',
      suggestion: 'options.stopTimeoutMs',
    });
    expect(thrown(() => defineProtocol('q', { a: { input: z.object({}), replies: z.number() } as never })).details).toEqual({
      option: 'replies',
      suggestion: 'reply',
    });
  });

  it('ctx.schedule refuses an unknown key in its timing, and schedules nothing', async () => {
    const P = defineProtocol('sched', { plan: { input: z.object({}), reply: z.unknown() }, tick: { input: z.object({}) } });
    let ticks = 0;
    const Planner = defineActor(P, {
      init: () => null,
      handlers: {
        plan(_s, _i, ctx) {
          try {
            ctx.schedule('tick', {}, { afterMS: 10 } as never);
            return 'scheduled';
          } catch (e) {
            return (e as { details: unknown }).details;
          }
        },
        tick() {
          ticks++;
        },
      },
    });
    const { system, clock } = createTestSystem();
    const p = system.spawn(Planner, { id: 'p' });
    expect(await p.ask('plan', {})).toEqual({ option: 'afterMS', suggestion: 'afterMs' });
    await clock.advanceAsync(1_000);
    expect(ticks).toBe(0);
    await system.shutdown();
  });

  it('an ask, a send, a shutdown, gather and firstReply reject (never throw) an unknown option, and queue nothing', async () => {
    const { system } = createTestSystem();
    const c = system.spawn(Counter, { id: 'c' });
    await expect(c.ask('add', { key: 'k', by: 1 }, { timeout: 10 } as never)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      details: { option: 'timeout', suggestion: 'timeoutMs' },
    });
    await expect(c.send('add', { key: 'k', by: 1 }, { signl: undefined } as never)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      details: { option: 'signl', suggestion: 'signal' },
    });
    expect(await c.ask('get', { key: 'k' })).toBe(0);
    await expect(gather([], { timeout: 1 } as never)).rejects.toMatchObject({ details: { option: 'timeout', suggestion: 'timeoutMs' } });
    await expect(firstReply([async () => 1], { nme: 'x' } as never)).rejects.toMatchObject({ details: { option: 'nme', suggestion: 'name' } });
    await expect(system.shutdown({ timeout: 1 } as never)).rejects.toMatchObject({ details: { option: 'timeout', suggestion: 'timeoutMs' } });
    expect(system.status).toBe('running');
    await system.shutdown();
  });

  it('takes every documented key', async () => {
    const system = createSystem({
      name: 'all',
      askTimeoutMs: 1_000,
      validate: { input: true, reply: true },
      mailbox: { capacity: 10, overflow: 'reject' },
      restart: 'permanent',
      intensity: { maxRestarts: 1, withinMs: 1_000 },
      drainTimeoutMs: 1_000,
      heartbeat: { timeoutMs: 1_000, sweepMs: 100 },
      backoff: { minMs: 1, maxMs: 2, factor: 2, jitter: 0 },
      whileDown: 'hold',
      rootIntensity: { maxRestarts: 1, withinMs: 1_000 },
      random: Math.random,
      turnObserver: { sampleEvery: 1, observe() {} },
    });
    const s = system.steward('s', {
      strategy: 'one-for-one',
      intensity: { maxRestarts: 1, withinMs: 1_000 },
      backoff: { minMs: 1, maxMs: 2 },
      heartbeat: { timeoutMs: 500, sweepMs: 50 },
      whileDown: 'refuse',
      restart: 'transient',
    });
    const c = s.spawn(Counter, {
      id: 'c',
      args: { start: 1 },
      mailbox: { capacity: 5, overflow: 'wait' },
      askTimeoutMs: 100,
      restart: 'temporary',
      intensity: { maxRestarts: 0, withinMs: 1 },
      validate: { input: false, reply: false },
      stopTimeoutMs: 10,
      heartbeat: { timeoutMs: 50 },
    });
    expect(await c.ask('add', { key: 'a', by: 1 }, { timeoutMs: 100, signal: new AbortController().signal, transfer: [] })).toBe(2);
    await system.shutdown({ timeoutMs: 100 });
  });
});
