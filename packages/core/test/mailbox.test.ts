import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineActor, defineProtocol, isHoldfastError } from '../src/index.js';
import { createTestSystem } from '../src/testing/index.js';
import { gate, rejection, tick, track } from './fixtures.js';

const P = defineProtocol('box', {
  block: { input: z.object({}) },
  put: { input: z.object({ n: z.number() }), reply: z.number() },
  note: { input: z.object({ n: z.number() }) },
  seen: { input: z.object({}), reply: z.array(z.number()) },
});

function makeBox() {
  const g = gate();
  const Box = defineActor(P, {
    init: () => [] as number[],
    handlers: {
      block: () => g.promise,
      put(state, { n }) {
        state.push(n);
        return n;
      },
      note(state, { n }) {
        state.push(n);
      },
      seen: (state) => [...state],
    },
  });
  return { Box, open: () => g.open() };
}

describe('mailbox bounds', () => {
  it('reject (default): a full mailbox refuses asks with MAILBOX_FULL and turns tells into dead letters', async () => {
    const { system, deadLetters } = createTestSystem();
    const { Box, open } = makeBox();
    const box = system.spawn(Box, { id: 'box', mailbox: { capacity: 2 } });
    box.tell('block', {});
    await tick(); // block is running: the mailbox is empty again
    const a = box.ask('put', { n: 1 });
    const b = box.ask('put', { n: 2 });
    const full = await rejection(box.ask('put', { n: 3 }));
    expect(full.code).toBe('MAILBOX_FULL');
    expect(full.details).toEqual({ actor: 'box', capacity: 2, dropped: false });
    box.tell('note', { n: 4 });
    expect(deadLetters).toMatchObject([{ actor: 'box', message: 'note', input: { n: 4 }, reason: 'mailbox-full', wasAsk: false }]);
    expect(system.actors()[0]?.mailbox).toBe(2);
    open();
    expect(await Promise.all([a, b])).toEqual([1, 2]);
    expect(await box.ask('seen', {})).toEqual([1, 2]);
    expect(system.stats().mailboxFull).toBe(2);
    await system.shutdown();
  });

  it('drop-oldest: the oldest queued message makes room; a dropped ask fails, a dropped tell is a dead letter', async () => {
    const { system, deadLetters } = createTestSystem();
    const { Box, open } = makeBox();
    const box = system.spawn(Box, { id: 'box', mailbox: { capacity: 2, overflow: 'drop-oldest' } });
    box.tell('block', {});
    await tick();
    const first = track(box.ask('put', { n: 1 }));
    box.tell('note', { n: 2 });
    const third = box.ask('put', { n: 3 }); // drops put 1
    box.tell('note', { n: 4 }); // drops note 2
    await tick();
    expect(isHoldfastError(first.error, 'MAILBOX_FULL')).toBe(true);
    expect((first.error as { details: unknown }).details).toEqual({ actor: 'box', capacity: 2, dropped: true });
    expect(deadLetters.map((d) => [d.message, d.input, d.reason, d.wasAsk])).toEqual([
      ['put', { n: 1 }, 'dropped', true],
      ['note', { n: 2 }, 'dropped', false],
    ]);
    open();
    expect(await third).toBe(3);
    expect(await box.ask('seen', {})).toEqual([3, 4]);
    expect(system.actors()[0]?.dropped).toBe(2);
    await system.shutdown();
  });

  it('drop-oldest from inside a turn never drops the message being handled', async () => {
    const P2 = defineProtocol('self', {
      flood: { input: z.object({ n: z.number() }), reply: z.string() },
      note: { input: z.object({ n: z.number() }) },
      seen: { input: z.object({}), reply: z.array(z.number()) },
    });
    const A = defineActor(P2, {
      init: () => [] as number[],
      handlers: {
        flood(_state, { n }, ctx) {
          for (let i = 1; i <= n; i++) ctx.self.tell('note', { n: i });
          return `flooded ${n}`;
        },
        note(state, { n }) {
          state.push(n);
        },
        seen: (state) => [...state],
      },
    });
    const { system, deadLetters } = createTestSystem();
    const a = system.spawn(A, { id: 'a', mailbox: { capacity: 3, overflow: 'drop-oldest' } });
    expect(await a.ask('flood', { n: 5 })).toBe('flooded 5');
    expect(await a.ask('seen', {})).toEqual([3, 4, 5]);
    expect(deadLetters.map((d) => [d.input, d.reason])).toEqual([
      [{ n: 1 }, 'dropped'],
      [{ n: 2 }, 'dropped'],
    ]);
    await system.shutdown();
  });

  it('wait: asks and sends wait for room in order; tells cannot wait and become dead letters', async () => {
    const { system, deadLetters } = createTestSystem();
    const { Box, open } = makeBox();
    const box = system.spawn(Box, { id: 'box', mailbox: { capacity: 1, overflow: 'wait' } });
    box.tell('block', {});
    await tick();
    const a = box.ask('put', { n: 1 }); // fills the mailbox
    const b = box.ask('put', { n: 2 }); // waits
    const sent = track(box.send('note', { n: 3 })); // waits behind b
    const c = box.ask('put', { n: 4 }); // waits behind the send
    box.tell('note', { n: 99 });
    await tick();
    expect(deadLetters.map((d) => [d.input, d.reason])).toEqual([[{ n: 99 }, 'mailbox-full']]);
    expect(sent.settled).toBe(false);
    expect(system.actors()[0]).toMatchObject({ mailbox: 1, waiting: 3 });
    open();
    expect(await Promise.all([a, b, c])).toEqual([1, 2, 4]);
    expect(sent.settled).toBe(true);
    expect(await box.ask('seen', {})).toEqual([1, 2, 3, 4]);
    await system.shutdown();
  });

  it('wait: a waiting ask still times out, and is never run', async () => {
    const { system, clock } = createTestSystem();
    const { Box, open } = makeBox();
    const box = system.spawn(Box, { id: 'box', mailbox: { capacity: 1, overflow: 'wait' } });
    box.tell('block', {});
    await tick();
    const a = box.ask('put', { n: 1 });
    const waiting = track(box.ask('put', { n: 2 }, { timeoutMs: 100 }));
    const waitingSend = track(box.send('note', { n: 3 }, { timeoutMs: 100 }));
    await clock.advanceAsync(100);
    expect(isHoldfastError(waiting.error, 'ASK_TIMEOUT')).toBe(true);
    expect(isHoldfastError(waitingSend.error, 'ASK_TIMEOUT')).toBe(true);
    open();
    expect(await a).toBe(1);
    expect(await box.ask('seen', {})).toEqual([1]);
    await system.shutdown();
  });

  it('send resolves at once when there is room, and rejects like an ask when it cannot queue', async () => {
    const { system } = createTestSystem();
    const { Box, open } = makeBox();
    const box = system.spawn(Box, { id: 'box', mailbox: { capacity: 1 } });
    await box.send('note', { n: 1 });
    expect(await box.ask('seen', {})).toEqual([1]);
    box.tell('block', {});
    await tick();
    await box.send('note', { n: 2 });
    expect((await rejection(box.send('note', { n: 3 }))).code).toBe('MAILBOX_FULL');
    expect((await rejection(box.send('note', { n: 'x' } as never))).code).toBe('INVALID_MESSAGE');
    open();
    await system.stop(box);
    expect((await rejection(box.send('note', { n: 4 }))).code).toBe('ACTOR_STOPPED');
    await system.shutdown();
  });

  it('rejects a bad mailbox option at spawn with INVALID_ARGUMENT', () => {
    const { system } = createTestSystem();
    const { Box } = makeBox();
    expect(() => system.spawn(Box, { mailbox: { capacity: 0 } })).toThrowError(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => system.spawn(Box, { mailbox: { overflow: 'spill' as never } })).toThrowError(/overflow must be/);
  });
});
