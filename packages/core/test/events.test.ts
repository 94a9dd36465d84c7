import { describe, expect, it } from 'vitest';
import { EventStream } from '../src/index.js';
import { createTestSystem } from '../src/testing/index.js';
import { Counter } from './fixtures.js';

describe('EventStream', () => {
  it('delivers to every listener in subscription order, until unsubscribed', () => {
    const s = new EventStream<number>();
    const got: string[] = [];
    const offA = s.subscribe((n) => got.push(`a${n}`));
    s.subscribe((n) => got.push(`b${n}`));
    s.emit(1);
    offA();
    offA();
    s.emit(2);
    expect(got).toEqual(['a1', 'b1', 'b2']);
    expect(s.count).toBe(2);
    expect(s.listenerCount).toBe(1);
  });

  it('keeps delivering when a listener throws, and reports the error', () => {
    const errors: unknown[] = [];
    const s = new EventStream<number>((e) => errors.push(e));
    const got: number[] = [];
    s.subscribe(() => {
      throw new Error('bad listener');
    });
    s.subscribe((n) => got.push(n));
    s.emit(7);
    expect(got).toEqual([7]);
    expect((errors[0] as Error).message).toBe('bad listener');
  });
});

describe('dead letters and lifecycle events', () => {
  it('counts every dead letter and lets subscribers come and go', async () => {
    const { system } = createTestSystem();
    const c = system.spawn(Counter, { id: 'c' });
    await system.stop(c);
    const seen: string[] = [];
    const off = system.deadLetters.subscribe((d) => seen.push(`${d.actor}/${d.message}/${d.reason}`));
    c.tell('add', { key: 'a', by: 1 });
    off();
    c.tell('reset', {});
    expect(seen).toEqual(['c/add/stopped']);
    expect(system.stats().deadLetters).toBe(2);
    await system.shutdown();
  });

  it('emits spawned, started and stopped with actor, type and incarnation', async () => {
    const { system, events } = createTestSystem();
    const c = system.spawn(Counter, { id: 'c' });
    await system.stop(c);
    expect(events.map((e) => ({ ...e, at: 0 }))).toEqual([
      { type: 'spawned', actor: 'c', actorType: 'counter', at: 0 },
      { type: 'started', actor: 'c', actorType: 'counter', incarnation: 1, at: 0 },
      { type: 'stopped', actor: 'c', actorType: 'counter', incarnation: 1, reason: 'stopped', at: 0 },
    ]);
  });
});

describe('turn observer', () => {
  it('times one synchronous turn in sampleEvery and every async turn, by actor type and message', async () => {
    const { defineActor, defineProtocol } = await import('../src/index.js');
    const { z } = await import('zod');
    const P = defineProtocol('observed', { quick: { input: z.object({}) }, slow: { input: z.object({}), reply: z.number() } });
    const A = defineActor(P, {
      init: () => ({}),
      handlers: {
        quick() {},
        async slow() {
          await new Promise((r) => setTimeout(r, 5));
          return 1;
        },
      },
    });
    const seen: Array<[string, string, number]> = [];
    const { createSystem } = await import('../src/index.js');
    const system = createSystem({
      turnObserver: {
        sampleEvery: 4,
        observe: (type, message, ms) => {
          seen.push([type, message, ms]);
          if (message === 'quick' && seen.length === 1) throw new Error('a broken observer does not break turns');
        },
      },
    });
    const a = system.spawn(A, { id: 'a' });
    for (let i = 0; i < 12; i++) a.tell('quick', {});
    expect(await a.ask('slow', {})).toBe(1);
    expect(seen.filter(([, m]) => m === 'quick').length).toBe(3);
    const slow = seen.filter(([, m]) => m === 'slow');
    expect(slow.map(([t]) => t)).toEqual(['observed']);
    expect(slow[0]?.[2]).toBeGreaterThanOrEqual(4);
    expect(system.stats().turns).toBe(13);
    await system.shutdown();
  });
});

describe('message trace', () => {
  it('reports asks and tells in and the outcome of asks out, only while traced', async () => {
    const { createSystem } = await import('../src/index.js');
    const { Counter } = await import('./fixtures.js');
    const system = createSystem();
    const c = system.spawn(Counter, { id: 'c' });
    await c.ask('add', { key: 'a', by: 1 });
    const seen: string[] = [];
    const off = system.trace('c', (e) => seen.push(`${e.dir} ${e.kind} ${e.message} ${JSON.stringify(e.input ?? e.value ?? e.error?.message ?? null)}`));
    c.tell('add', { key: 'a', by: 2 });
    expect(await c.ask('get', { key: 'a' })).toBe(3);
    await c.ask('add', { key: 'a', by: 0.5 }).catch(() => {});
    await new Promise((r) => setImmediate(r));
    off();
    await c.ask('get', { key: 'a' });
    expect(seen).toEqual(['in tell add {"key":"a","by":2}', 'in ask get {"key":"a"}', 'out reply get 3']);
    expect(() => system.trace('nobody', () => {})).toThrowError(expect.objectContaining({ code: 'ACTOR_NOT_FOUND' }));
    expect(system.actors()[0]).toMatchObject({ host: 'main', steward: 'root' });
    expect(typeof system.actors()[0]?.lastTurnAt).toBe('number');
    await system.shutdown();
  });
});
