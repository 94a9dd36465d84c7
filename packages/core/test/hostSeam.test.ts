import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { HOST_SEAM_VERSION, hostSeam } from '../src/host.js';
import { defineActor, defineProtocol } from '../src/index.js';
import { createTestSystem } from '../src/testing/index.js';
import { Counter } from './fixtures.js';

const RelayProtocol = defineProtocol('relay', {
  ping: { input: z.object({ n: z.number() }), reply: z.number() },
  note: { input: z.object({ n: z.number() }) },
});

describe('the host seam', () => {
  it('is one object per system, of the version hosts are built for', () => {
    const { system } = createTestSystem();
    const seam = hostSeam(system);
    expect(seam.version).toBe(HOST_SEAM_VERSION);
    expect(hostSeam(system)).toBe(seam);
    expect(seam.system).toBe(system);
  });

  it('refuses a ref of another system, and forward() outside a handler', () => {
    const a = createTestSystem().system;
    const b = createTestSystem().system;
    const ref = b.spawn(Counter, { id: 'c' });
    expect(() => hostSeam(a).settings(ref)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => hostSeam(a).forward()).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(hostSeam(b).settings(ref)).toMatchObject({ id: 'c', incarnation: 1, capacity: 10_000, hangTimeoutMs: 30_000 });
  });

  it('counts what a host reports in the system’s stats, stamped on the system’s clock', () => {
    const { system, clock } = createTestSystem();
    const ref = system.spawn(Counter, { id: 'c' });
    const seam = hostSeam(system);
    const letters: unknown[] = [];
    const events: unknown[] = [];
    system.deadLetters.subscribe((d) => letters.push(d));
    system.events.subscribe((e) => events.push(e));
    clock.advance(1234);
    seam.deadLetter(ref, { message: 'add', input: { key: 'k', by: 1 }, reason: 'mailbox-full', wasAsk: false });
    seam.lateReply(ref, 'get');
    expect(system.stats()).toMatchObject({ deadLetters: 1, lateReplies: 1 });
    expect(letters).toEqual([{ actor: 'c', message: 'add', input: { key: 'k', by: 1 }, reason: 'mailbox-full', wasAsk: false, at: 1234 }]);
    expect(events).toContainEqual({ type: 'late-reply', actor: 'c', actorType: 'counter', message: 'get', at: 1234 });
  });

  it('forward() takes the running ask’s reply channel out of the turn; the host answers it later', async () => {
    const { system } = createTestSystem();
    const held: Array<{ reply: unknown; n: number }> = [];
    const Relay = defineActor(RelayProtocol, {
      init: () => ({}),
      handlers: {
        ping(_s, { n }) {
          held.push({ reply: hostSeam(system).forward().reply, n });
          // The reply left the turn with forward(): what the handler returns is not sent.
          return 0;
        },
        note(_s, { n }) {
          held.push({ reply: hostSeam(system).forward().reply, n });
        },
      },
    });
    const ref = system.spawn(Relay, { id: 'r' });
    ref.tell('note', { n: 1 });
    const answer = ref.ask('ping', { n: 2 });
    await Promise.resolve();
    await Promise.resolve();
    expect(held.map((h) => [h.n, h.reply === null])).toEqual([
      [1, true],
      [2, false],
    ]);
    const seam = hostSeam(system);
    const reply = held[1]?.reply as Parameters<typeof seam.deliver>[0];
    expect(seam.remainingMs(reply)).toBe(5_000);
    expect(seam.deliver(reply, 42)).toBe(true);
    expect(await answer).toBe(42);
    // Settled once: a second answer is late.
    expect(seam.deliver(reply, 43)).toBe(false);
    expect(system.stats().lateReplies).toBe(1);
  });
});
