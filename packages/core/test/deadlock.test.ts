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
});

type Peer = ActorRef<typeof P>;

const PeerActor = defineActor(P, {
  init: () => ({ peer: null as Peer | null }),
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
});
