import type { ActorRef } from '@holdfast/core';
import { createTestSystem, settle } from '@holdfast/core/testing';
import { describe, expect, it } from 'vitest';
import { type Entry, Membership, type MembershipProtocol } from '../src/membership.js';

// Three nodes' membership actors in one test system, on a manual clock, gossiping through a
// transport that asks the peer's actor directly (and fails for a node that is "down").
function cluster() {
  const t = createTestSystem();
  const refs = new Map<string, ActorRef<typeof MembershipProtocol>>();
  const down = new Set<string>();
  const transport = (peer: string, entries: readonly Entry[]) => {
    const ref = refs.get(peer);
    return ref === undefined || down.has(peer) ? Promise.reject(new Error(`${peer} unreachable`)) : ref.ask('exchange', { entries: [...entries] });
  };
  const start = (id: string, seed: string | null) => {
    const ref = t.system.spawn(Membership, {
      id,
      args: { self: id, seed, gossipMs: 100, failAfterMs: 1_000, forgetAfterMs: 3_000, fanout: 8, transport, now: () => t.clock.now() },
    });
    refs.set(id, ref);
    return ref;
  };
  /** Let `rounds` gossip rounds happen. */
  const rounds = async (n: number) => {
    for (let i = 0; i < n; i++) {
      await t.clock.advanceAsync(100);
      await settle();
    }
  };
  const view = async (ref: ActorRef<typeof MembershipProtocol>) => Object.fromEntries((await ref.ask('members', {})).map((m) => [m.id, m.status]));
  return { ...t, start, rounds, view, down };
}

describe('Membership (one node’s list, owned by an actor)', () => {
  it('converges through a seed, takes a silent member for dead, keeps stale gossip from reviving it, forgets it, and takes back a newer generation', async () => {
    const c = cluster();
    c.clock.advance(10_000); // generations are start times: not zero
    const a = c.start('a:1', null);
    const b = c.start('b:1', 'a:1');
    const x = c.start('x:1', 'a:1');
    await c.rounds(3);
    for (const ref of [a, b, x]) expect(await c.view(ref)).toEqual({ 'a:1': 'alive', 'b:1': 'alive', 'x:1': 'alive' });

    // x goes silent: its last entry, as a peer gossiped it, is kept to replay later.
    const stale = (await a.ask('exchange', { entries: [] })).find((e) => e.id === 'x:1') as Entry;
    c.down.add('x:1');
    await c.system.stop('x:1');
    await c.rounds(9);
    expect(await c.view(a)).toEqual({ 'a:1': 'alive', 'b:1': 'alive', 'x:1': 'alive' }); // 900 ms: not yet
    await c.rounds(3);
    expect(await c.view(a)).toEqual({ 'a:1': 'alive', 'b:1': 'alive', 'x:1': 'dead' });
    expect(await c.view(b)).toEqual({ 'a:1': 'alive', 'b:1': 'alive', 'x:1': 'dead' });
    // Dead is a local opinion that is not gossiped, and old news does not bring x back.
    expect((await a.ask('exchange', { entries: [stale] })).map((e) => e.id)).toEqual(['a:1', 'b:1']);
    expect((await c.view(a))['x:1']).toBe('dead');
    await c.rounds(31);
    expect(await c.view(a)).toEqual({ 'a:1': 'alive', 'b:1': 'alive' });

    // x restarts: a newer generation with a lower heartbeat still wins.
    c.down.delete('x:1');
    c.clock.advance(1);
    const x2 = c.start('x:2', 'b:1');
    await a.ask('exchange', { entries: [{ ...stale, generation: stale.generation + 5_000, heartbeat: 1 }] });
    expect((await c.view(a))['x:1']).toBe('alive');
    await c.rounds(3);
    expect(await c.view(x2)).toMatchObject({ 'a:1': 'alive', 'b:1': 'alive', 'x:2': 'alive' });
    await c.system.shutdown();
  });

  it('ignores what others say about itself, and a leave reaches every live peer at once', async () => {
    const c = cluster();
    c.clock.advance(10_000);
    const a = c.start('a:1', null);
    const b = c.start('b:1', 'a:1');
    const d = c.start('d:1', 'a:1');
    await c.rounds(3);
    await a.ask('exchange', { entries: [{ id: 'a:1', generation: 1e15, heartbeat: 1e9, status: 'left' }] });
    expect((await c.view(a))['a:1']).toBe('alive');

    expect(await b.ask('leave', { ms: 500 })).toEqual({ told: 2, acknowledged: 2 });
    expect(await c.view(a)).toEqual({ 'a:1': 'alive', 'b:1': 'left', 'd:1': 'alive' });
    expect(await c.view(d)).toEqual({ 'a:1': 'alive', 'b:1': 'left', 'd:1': 'alive' });
    // A departed member is not taken for dead later, and is forgotten after forgetAfterMs.
    await c.rounds(20);
    expect((await c.view(a))['b:1']).toBe('left');
    await c.rounds(15);
    expect(await c.view(a)).toEqual({ 'a:1': 'alive', 'd:1': 'alive' });
    expect(c.events.some((e) => e.type === 'crashed')).toBe(false);
    await c.system.shutdown();
  });

  it('refuses malformed gossip with zod issues and changes nothing', async () => {
    const c = cluster();
    const a = c.start('a:1', null);
    await c.rounds(1);
    const before = await a.ask('members', {});
    await expect(a.ask('exchange', { entries: [{ id: 'no port', generation: 1, heartbeat: 1, status: 'alive' }] })).rejects.toMatchObject({
      code: 'INVALID_MESSAGE',
      details: { issues: [expect.objectContaining({ path: ['entries', 0, 'id'] })] },
    });
    expect(await a.ask('members', {})).toEqual(before);
    await c.system.shutdown();
  });
});
