import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { type ActorRef, become, createSystem, type DeferredReply, defineActor, defineProtocol, type ReplyOf } from '../src/index.js';
import { Counter, CounterProtocol } from './fixtures.js';

const system = createSystem();

describe('types flow from the protocol', () => {
  it('ask returns the reply schema type, or void without one', () => {
    const c = system.spawn(Counter);
    expectTypeOf(c).toEqualTypeOf<ActorRef<typeof CounterProtocol>>();
    expectTypeOf(c.ask('add', { key: 'a', by: 1 })).toEqualTypeOf<Promise<number>>();
    expectTypeOf(c.ask('reset', {})).toEqualTypeOf<Promise<void>>();
    expectTypeOf<ReplyOf<typeof CounterProtocol, 'get'>>().toEqualTypeOf<number>();
    expectTypeOf(c.tell('add', { key: 'a', by: 1 })).toEqualTypeOf<void>();
    expectTypeOf(c.send('reset', {})).toEqualTypeOf<Promise<void>>();
  });

  it('rejects unknown message names and wrong inputs at compile time', () => {
    const c = system.spawn(Counter);
    // @ts-expect-error: no such message
    void c.ask('nope', {});
    // @ts-expect-error: key must be a string
    void c.ask('add', { key: 1, by: 1 });
    // @ts-expect-error: by is missing
    c.tell('add', { key: 'a' });
    // @ts-expect-error: input is required
    void c.ask('get');
  });

  it('types handler state, input and ctx from init and the protocol', () => {
    const P = defineProtocol('typed', {
      put: { input: z.object({ k: z.string(), v: z.number().default(0) }), reply: z.boolean() },
      later: { input: z.object({}), reply: z.string() },
    });
    defineActor(P, {
      init: (args: { cap: number }) => ({ cap: args.cap, m: new Map<string, number>() }),
      handlers: {
        put(state, input, ctx) {
          expectTypeOf(state.m).toEqualTypeOf<Map<string, number>>();
          // The handler sees the schema's output: the default is applied.
          expectTypeOf(input).toEqualTypeOf<{ k: string; v: number }>();
          expectTypeOf(ctx.signal).toEqualTypeOf<AbortSignal>();
          return state.m.size < state.cap;
        },
        later(_state, _input, ctx) {
          const reply = ctx.defer();
          expectTypeOf(reply).toEqualTypeOf<DeferredReply<string>>();
          // @ts-expect-error: the reply of 'later' is a string
          reply.send(1);
          return reply;
        },
      },
    });
  });

  it('rejects a handler whose return type does not match the reply', () => {
    const P = defineProtocol('wrong', { n: { input: z.object({}), reply: z.number() } });
    defineActor(P, {
      init: () => 0,
      handlers: {
        // @ts-expect-error: returns a string where the protocol says number
        n: () => 'x',
      },
    });
    defineActor(P, { init: () => 0, handlers: { n: (s) => become(s + 1, s) } });
    defineActor(P, { init: () => 0, handlers: { n: async (s) => s } });
  });

  it('requires spawn args exactly when init needs them', () => {
    const P = defineProtocol('args', { ping: { input: z.object({}) } });
    const Needs = defineActor(P, { init: (a: { n: number }) => a.n, handlers: { ping() {} } });
    system.spawn(Needs, { args: { n: 1 } });
    // @ts-expect-error: args are required
    system.spawn(Needs);
    // @ts-expect-error: args have the wrong type
    system.spawn(Needs, { args: { n: 'x' } });
    const Optional = defineActor(P, { init: () => 0, handlers: { ping() {} } });
    system.spawn(Optional);
  });

  it('types lookup by protocol', () => {
    expectTypeOf(system.lookup(CounterProtocol, 'c')).toEqualTypeOf<ActorRef<typeof CounterProtocol> | undefined>();
  });

  it('types a steward: spawn returns the typed ref and needs args when init does; options are checked', () => {
    const s = system.steward('typed', { strategy: 'rest-for-one', intensity: { maxRestarts: 1, withinMs: 1_000 } });
    expectTypeOf(s.spawn(Counter, { id: 'x', restart: 'transient' })).toEqualTypeOf<ActorRef<typeof CounterProtocol>>();
    const P = defineProtocol('args2', { ping: { input: z.object({}) } });
    const Needs = defineActor(P, { init: (a: { n: number }) => a, handlers: { ping() {} } });
    s.spawn(Needs, { args: { n: 1 } });
    // @ts-expect-error: args are required
    s.spawn(Needs, {});
    // @ts-expect-error: no such strategy
    system.steward('bad', { strategy: 'one-for-some' });
    expectTypeOf(s.steward('child').path).toEqualTypeOf<string>();
    // ctx.stop and ctx.heartbeat exist in handlers.
    defineActor(P, {
      init: () => ({}),
      handlers: {
        ping(_s, _i, ctx) {
          expectTypeOf(ctx.stop).toEqualTypeOf<() => void>();
          expectTypeOf(ctx.heartbeat).toEqualTypeOf<() => void>();
        },
      },
    });
  });
});
