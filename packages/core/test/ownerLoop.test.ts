import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type ActorRef, become, createSystem, defineActor, defineProtocol, reject } from '../src/index.js';
import { createTestSystem } from '../src/testing/index.js';
import { Counter, gate, rejection, tick } from './fixtures.js';

const LogProtocol = defineProtocol('log', {
  append: { input: z.object({ from: z.string(), n: z.number() }), reply: z.number() },
  note: { input: z.object({ from: z.string(), n: z.number() }) },
  read: { input: z.object({}), reply: z.array(z.string()) },
});

const Log = defineActor(LogProtocol, {
  init: () => [] as string[],
  handlers: {
    append(state, { from, n }) {
      state.push(`${from}:${n}`);
      return state.length;
    },
    note(state, { from, n }) {
      state.push(`${from}:${n}`);
    },
    read: (state) => [...state],
  },
});

describe('owner loop', () => {
  it('answers asks with the handler result, typed by the protocol', async () => {
    const system = createSystem();
    const counter = system.spawn(Counter, { id: 'c1', args: { start: 10 } });
    expect(await counter.ask('add', { key: 'a', by: 2 })).toBe(12);
    counter.tell('add', { key: 'a', by: 1 });
    expect(await counter.ask('get', { key: 'a' })).toBe(13);
    expect(await counter.ask('reset', {})).toBeUndefined();
    expect(await counter.ask('get', { key: 'a' })).toBe(10);
    await system.shutdown();
  });

  it('keeps FIFO order per sender across tells and asks from many senders', async () => {
    const system = createSystem();
    const log = system.spawn(Log, { id: 'log' });
    const pending: Promise<unknown>[] = [];
    for (let i = 0; i < 50; i++) {
      for (const from of ['a', 'b', 'c']) {
        if ((i + from.charCodeAt(0)) % 3 === 0) log.tell('note', { from, n: i });
        else pending.push(log.ask('append', { from, n: i }));
      }
    }
    await Promise.all(pending);
    const seen = await log.ask('read', {});
    expect(seen).toHaveLength(150);
    for (const from of ['a', 'b', 'c']) {
      const ns = seen.filter((s) => s.startsWith(`${from}:`)).map((s) => Number(s.slice(2)));
      expect(ns).toEqual(Array.from({ length: 50 }, (_, i) => i));
    }
    await system.shutdown();
  });

  it('runs one turn at a time, even when handlers await', async () => {
    const P = defineProtocol('serial', { work: { input: z.object({ n: z.number() }), reply: z.number() } });
    let active = 0;
    let maxActive = 0;
    const trace: string[] = [];
    const A = defineActor(P, {
      init: () => ({ total: 0 }),
      handlers: {
        async work(state, { n }) {
          active++;
          maxActive = Math.max(maxActive, active);
          trace.push(`start ${n}`);
          const before = state.total;
          await tick();
          await new Promise((r) => setTimeout(r, n % 3));
          state.total = before + n; // a read-modify-write across awaits: safe only without interleaving
          trace.push(`end ${n}`);
          active--;
          return state.total;
        },
      },
    });
    const system = createSystem();
    const a = system.spawn(A, { id: 'a' });
    const replies = await Promise.all(Array.from({ length: 20 }, (_, n) => a.ask('work', { n })));
    expect(maxActive).toBe(1);
    expect(replies[19]).toBe((19 * 20) / 2);
    expect(trace).toEqual(Array.from({ length: 20 }, (_, n) => [`start ${n}`, `end ${n}`]).flat());
    await system.shutdown();
  });

  it('replaces the state when a handler returns become(next, reply)', async () => {
    const P = defineProtocol('stack', {
      push: { input: z.object({ item: z.string() }), reply: z.number() },
      all: { input: z.object({}), reply: z.array(z.string()) },
    });
    const Stack = defineActor(P, {
      init: () => [] as readonly string[],
      handlers: {
        push: (state, { item }) => become([...state, item], state.length + 1),
        all: (state) => [...state],
      },
    });
    const system = createSystem();
    const s = system.spawn(Stack);
    expect(await s.ask('push', { item: 'x' })).toBe(1);
    expect(await s.ask('push', { item: 'y' })).toBe(2);
    expect(await s.ask('all', {})).toEqual(['x', 'y']);
    await system.shutdown();
  });

  it('runs onStart before the first message, and holds messages while an async onStart runs', async () => {
    const P = defineProtocol('boot', { read: { input: z.object({}), reply: z.array(z.string()) } });
    const g = gate();
    const A = defineActor(P, {
      init: () => ['init'],
      async onStart(state) {
        state.push('start-begin');
        await g.promise;
        state.push('start-end');
      },
      handlers: { read: (state) => [...state] },
    });
    const system = createSystem();
    const a = system.spawn(A, { id: 'a' });
    const reply = a.ask('read', {});
    await tick();
    expect(system.actors()[0]?.status).toBe('starting');
    g.open();
    expect(await reply).toEqual(['init', 'start-begin', 'start-end']);
    await system.shutdown();
  });

  it('passes the parsed input (defaults applied, unknown keys stripped) to the handler', async () => {
    const P = defineProtocol('parse', {
      echo: { input: z.object({ n: z.number().default(7) }), reply: z.unknown() },
    });
    const A = defineActor(P, { init: () => null, handlers: { echo: (_s, input) => input } });
    const system = createSystem();
    const a = system.spawn(A);
    expect(await a.ask('echo', { extra: 1 } as never)).toEqual({ n: 7 });
    await system.shutdown();
  });

  it('gives the handler ctx.self, ctx.system, ctx.message and ctx.incarnation', async () => {
    const P = defineProtocol('who', { who: { input: z.object({}), reply: z.string() } });
    const A = defineActor(P, {
      init: () => null,
      handlers: { who: (_s, _i, ctx) => `${ctx.self.id}/${ctx.message}/${ctx.incarnation}/${ctx.system.name}` },
    });
    const { system } = createTestSystem({ name: 'sys' });
    const a = system.spawn(A, { id: 'me' });
    expect(await a.ask('who', {})).toBe('me/who/1/sys');
    await system.restart(a);
    expect(await a.ask('who', {})).toBe('me/who/2/sys');
    await system.shutdown();
  });

  it('gives every handler its ctx, however its parameters are written (defaults, rest, arguments)', async () => {
    const P = defineProtocol('shapes', {
      defaulted: { input: z.object({ a: z.number().optional() }), reply: z.string() },
      rest: { input: z.object({}), reply: z.string() },
      legacy: { input: z.object({}), reply: z.string() },
      later: { input: z.object({ ms: z.number() }), reply: z.string() },
      note: { input: z.object({ tag: z.string() }) },
    });
    const seen: string[] = [];
    const A = defineActor(P, {
      init: () => null,
      handlers: {
        // One declared parameter by Function.length (a default parameter ends the count).
        defaulted: (_s, { a } = {} as never, ctx) => `${ctx.message}:${a ?? '-'}`,
        rest: (...args) => `${args[2].message}:${args.length}`,
        legacy(_s) {
          // biome-ignore lint/complexity/noArguments: the old way of reaching an undeclared parameter
          const ctx = arguments[2] as { message: string; incarnation: number };
          return `${ctx.message}:${ctx.incarnation}`;
        },
        async later(_s, { ms }, ctx) {
          await new Promise((r) => setTimeout(r, ms));
          // After an await, ctx still speaks of this turn.
          return `${ctx.message}:${ctx.signal.aborted}`;
        },
        note: (_s, { tag }, ctx) => {
          seen.push(`${ctx.message}:${tag}`);
        },
      },
    });
    const system = createSystem({ name: 'shapes' });
    const a = system.spawn(A, { id: 'a' });
    a.tell('note', { tag: 't1' });
    expect(
      await Promise.all([a.ask('defaulted', { a: 3 }), a.ask('defaulted', {}), a.ask('rest', {}), a.ask('legacy', {}), a.ask('later', { ms: 5 })]),
    ).toEqual(['defaulted:3', 'defaulted:-', 'rest:3', 'legacy:1', 'later:false']);
    expect(seen).toEqual(['note:t1']);
    await system.shutdown();
  });

  it('takes a refusal, a new state, a promise, a stop and a crash in the middle of a run of tells as it does single turns', async () => {
    const P = defineProtocol('run-of-tells', { step: { input: z.object({ n: z.number() }) } });
    const turns: string[] = [];
    let self: ActorRef<typeof P> | null = null;
    const system = createSystem({ name: 'runs' });
    const A = defineActor(P, {
      init: () => ({ mark: 'initial' }),
      handlers: {
        step(s, { n }) {
          turns.push(`${n}:${s.mark}`);
          if (n === 2) reject('not now');
          if (n === 3) return become({ mark: 'became' });
          if (n === 4) return new Promise<void>((r) => setTimeout(r, 5)).then(() => void turns.push('4:done'));
          if (n === 6) void system.stop(self as ActorRef<typeof P>);
          return undefined;
        },
      },
    });
    const errors: string[] = [];
    system.events.subscribe((e) => {
      if (e.type === 'error') errors.push(e.where);
    });
    const dead: string[] = [];
    system.deadLetters.subscribe((d) => dead.push(`${d.message}:${(d.input as { n: number }).n}:${d.reason}`));
    self = system.spawn(A, { id: 'a' });
    // Queued in one go: the actor takes them as one run of synchronous tells.
    for (let n = 1; n <= 8; n++) self.tell('step', { n });
    for (let i = 0; i < 100 && system.actors().length > 0; i++) await new Promise((r) => setTimeout(r, 5));
    // 2 refused (the run goes on), 3 replaced the state, 4 made the actor wait for its promise,
    // 6 stopped it: 7 and 8 never ran.
    expect(turns).toEqual(['1:initial', '2:initial', '3:initial', '4:became', '4:done', '5:became', '6:became']);
    expect(errors).toEqual(["tell 'step' rejected"]);
    expect(dead).toEqual(['step:7:stopped', 'step:8:stopped']);
    await system.shutdown();

    // A crash in the middle of a run: the rest of the run is taken by the next incarnation, in order.
    const log: string[] = [];
    const B = defineActor(P, {
      init: () => ({ n: 0 }),
      handlers: {
        step(s, { n }) {
          s.n++;
          log.push(`${n}:${s.n}`);
          if (n === 2) throw new Error('crash at 2');
        },
      },
    });
    const other = createSystem({ name: 'crash-in-run' });
    const b = other.spawn(B, { id: 'b' });
    for (let n = 1; n <= 4; n++) b.tell('step', { n });
    for (let i = 0; i < 100 && log.length < 4; i++) await new Promise((r) => setTimeout(r, 5));
    expect(log).toEqual(['1:1', '2:2', '3:1', '4:2']);
    await other.shutdown();
  });

  it('refuses ctx.defer() after its turn has ended: the reply went with the turn', async () => {
    const P = defineProtocol('late-defer', { keep: { input: z.object({}), reply: z.number() }, deferNow: { input: z.object({}), reply: z.number() } });
    let kept: { defer(): unknown } | null = null;
    const A = defineActor(P, {
      init: () => null,
      handlers: {
        keep: (_s, _i, ctx) => {
          kept = ctx;
          return 1;
        },
        deferNow: () => 2,
      },
    });
    const { system } = createTestSystem();
    const a = system.spawn(A, { id: 'a' });
    expect(await a.ask('keep', {})).toBe(1);
    expect(() => kept?.defer()).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/ctx\.defer\(\) is for the turn running now/) }),
    );
    // Nothing was taken from anyone: the next ask is answered as usual.
    expect(await a.ask('deferNow', {})).toBe(2);
    await system.shutdown();
  });

  it('looks actors up by id, typed by protocol, and lists them in spawn order', async () => {
    const system = createSystem();
    const c = system.spawn(Counter, { id: 'c1' });
    system.spawn(Log, { id: 'log' });
    expect(system.lookup(c.protocol, 'c1')).toBe(c);
    expect(system.lookup(LogProtocol, 'c1')).toBeUndefined();
    expect(system.lookup('nope')).toBeUndefined();
    expect(system.actors().map((a) => [a.id, a.type, a.status])).toEqual([
      ['c1', 'counter', 'running'],
      ['log', 'log', 'running'],
    ]);
    expect(() => system.spawn(Counter, { id: 'c1' })).toThrowError(expect.objectContaining({ code: 'ACTOR_EXISTS' }));
    await system.shutdown();
  });

  it('shows the state through inspect(), read between turns, and a JSON-safe default', async () => {
    const P = defineProtocol('insp', { slow: { input: z.object({}) }, bump: { input: z.object({}) } });
    const g = gate();
    const A = defineActor(P, {
      init: () => ({ n: 0, m: new Map([['k', new Set([1, 2])]]), big: 10n }),
      handlers: {
        async slow(s) {
          s.n = -1; // mid-turn value: never visible to inspect
          await g.promise;
          s.n = 1;
        },
        bump(s) {
          s.n++;
        },
      },
    });
    const B = defineActor(P, { init: () => ({ secret: 'x', n: 3 }), inspect: (s) => ({ n: s.n }), handlers: { slow() {}, bump() {} } });
    const system = createSystem();
    const a = system.spawn(A, { id: 'a' });
    const b = system.spawn(B, { id: 'b' });
    expect((await system.inspect('a')).state).toEqual({ n: 0, m: { k: [1, 2] }, big: '10n' });
    const slow = a.ask('slow', {});
    await tick();
    const snap = system.inspect(a);
    await tick();
    g.open();
    await slow;
    expect((await snap).state).toEqual({ n: 1, m: { k: [1, 2] }, big: '10n' });
    expect((await system.inspect(b)).state).toEqual({ n: 3 });
    expect((await rejection(system.inspect('zzz'))).code).toBe('ACTOR_NOT_FOUND');
    await system.shutdown();
  });
});
