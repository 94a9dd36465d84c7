import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type ActorRef, defineActor, defineProtocol } from '../src/index.js';
import { createTestSystem } from '../src/testing/index.js';
import { rejection, tick } from './fixtures.js';

const P = defineProtocol('peer', {
  setPeer: { input: z.object({ id: z.string() }) },
  ping: { input: z.object({ hops: z.number().int() }), reply: z.string() },
  pingAfterAwait: { input: z.object({ hops: z.number().int() }), reply: z.string() },
  self: { input: z.object({}), reply: z.string() },
  later: { input: z.object({}), reply: z.string() },
  hello: { input: z.object({}), reply: z.string() },
  // Tells whose handlers ask: the chain of a tell's turn.
  kickSync: { input: z.object({}) },
  kickAsync: { input: z.object({}) },
  kickSelf: { input: z.object({}) },
  outcome: { input: z.object({}), reply: z.string() },
  boom: { input: z.object({}) },
});

type Peer = ActorRef<typeof P>;

const PeerActor = defineActor(P, {
  init: () => ({ peer: null as Peer | null, outcome: 'none' }),
  handlers: {
    setPeer(s, { id }, ctx) {
      s.peer = ctx.system.lookup(P, id) ?? null;
    },
    // Asks through a ref held in state (not through ctx): the chain travels implicitly.
    async ping(s, { hops }, ctx) {
      if (hops === 0) return ctx.self.id;
      return `${ctx.self.id}>${await (s.peer as Peer).ask('ping', { hops: hops - 1 })}`;
    },
    async pingAfterAwait(s, { hops }, ctx) {
      await tick();
      if (hops === 0) return ctx.self.id;
      await tick();
      return `${ctx.self.id}>${await (s.peer as Peer).ask('pingAfterAwait', { hops: hops - 1 })}`;
    },
    self: async (_s, _i, ctx) => ctx.self.ask('hello', {}),
    later(s, _i, ctx) {
      // The turn ends now; the peer is asked from a continuation after the turn.
      const reply = ctx.defer();
      void tick()
        .then(() => (s.peer as Peer).ask('ping', { hops: 1 }))
        .then(
          (v) => reply.send(v),
          (e) => reply.fail(e),
        );
      return reply;
    },
    hello: () => 'hello',
    // A sync tell handler (no ctx) that asks: its turn ends when it returns, so the peer may call back.
    kickSync(s) {
      void (s.peer as Peer).ask('ping', { hops: 1 }).then(
        (v) => (s.outcome = v),
        (e: { code: string }) => (s.outcome = e.code),
      );
    },
    // An async tell handler: its turn lasts until the peer answers, so the peer calling back is a cycle.
    async kickAsync(s) {
      try {
        s.outcome = await (s.peer as Peer).ask('ping', { hops: 1 });
      } catch (e) {
        const cause = (e as { cause?: { code?: string; details?: { chain?: string[] } } }).cause;
        s.outcome = `${(e as { code: string }).code}: ${cause?.code} ${cause?.details?.chain?.join('>')}`;
      }
    },
    kickSelf(s, _i, ctx) {
      ctx.self.ask('hello', {}).catch((e: { code: string; details: { chain: string[] } }) => {
        s.outcome = `${e.code} ${e.details.chain.join('>')}`;
      });
    },
    outcome: (s) => s.outcome,
    boom() {
      throw new Error('boom');
    },
  },
});

function pair() {
  const t = createTestSystem();
  const a = t.system.spawn(PeerActor, { id: 'a' });
  const b = t.system.spawn(PeerActor, { id: 'b' });
  a.tell('setPeer', { id: 'b' });
  b.tell('setPeer', { id: 'a' });
  return { ...t, a, b };
}

describe('deadlock detection', () => {
  it('fails an ask cycle A -> B -> A with DEADLOCK instead of timing out', async () => {
    const { system, a } = pair();
    const err = await rejection(a.ask('ping', { hops: 2 }));
    // B's ask to A fails with DEADLOCK; B does not catch it, so B's turn fails, and so does A's.
    expect(err.code).toBe('ACTOR_CRASHED');
    const root = (e: unknown): { code?: string; details?: unknown } => {
      const c = (e as { cause?: unknown }).cause;
      return c === undefined ? (e as { code?: string }) : root(c);
    };
    expect(root(err)).toMatchObject({ code: 'DEADLOCK', details: { chain: ['a', 'b', 'a'] } });
    expect(system.stats()).toMatchObject({ deadlocks: 1, timeouts: 0 });
    await system.shutdown();
  });

  it('follows the chain across awaits inside async handlers', async () => {
    const { system, a } = pair();
    const err = await rejection(a.ask('pingAfterAwait', { hops: 2 }));
    expect(JSON.stringify(err.cause)).toContain('ask cycle: a -> b -> a');
    expect(system.stats().deadlocks).toBe(1);
    await system.shutdown();
  });

  it('fails an actor asking itself with DEADLOCK', async () => {
    const { system, a } = pair();
    const err = await rejection(a.ask('self', {}));
    expect(err.cause).toMatchObject({ code: 'DEADLOCK', details: { chain: ['a', 'a'] } });
    await system.shutdown();
  });

  it("allows a chain that does not loop, and a call back after the caller's turn has ended", async () => {
    const { system, a } = pair();
    expect(await a.ask('ping', { hops: 1 })).toBe('a>b');
    // a's turn ends at defer(); later b asks a again, which is free: no deadlock.
    expect(await a.ask('later', {})).toBe('b>a');
    expect(system.stats().deadlocks).toBe(0);
    await system.shutdown();
  });

  it('counts a tell whose handler asks as a turn of the chain while it runs, and not after', async () => {
    const { system, a } = pair();
    // Sync: a's turn ended when the handler returned; b's call back to a is served.
    a.tell('kickSync', {});
    await tick();
    await tick();
    expect(await a.ask('outcome', {})).toBe('b>a');
    // Async: a's turn waits for b, and b asks a: the cycle a -> b -> a fails fast.
    a.tell('kickAsync', {});
    await tick();
    await tick();
    expect(await a.ask('outcome', {})).toBe('ACTOR_CRASHED: DEADLOCK a>b>a');
    // A tell's handler asking its own actor can never be answered.
    a.tell('kickSelf', {});
    await tick();
    expect(await a.ask('outcome', {})).toBe('DEADLOCK a>a');
    expect(system.stats()).toMatchObject({ deadlocks: 2, timeouts: 0 });
    await system.shutdown();
  });

  it('does not take an ask made between turns (by an event listener) for part of the actor’s turn', async () => {
    const { system, a } = pair();
    const answers: Array<Promise<string>> = [];
    // The listener runs while the owner loop handles the crash, with a tell still queued behind it.
    const off = system.events.subscribe((e) => {
      if (e.type === 'crashed' && e.actor === 'a') answers.push(a.ask('hello', {}));
    });
    a.tell('boom', {});
    a.tell('hello', {});
    await tick();
    await tick();
    off();
    expect(answers).toHaveLength(1);
    expect(await answers[0]).toBe('hello');
    expect(system.stats().deadlocks).toBe(0);
    await system.shutdown();
  });
});
