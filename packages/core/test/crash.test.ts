import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type ActorSystem, defineActor, defineProtocol, isHoldfastError, reject } from '../src/index.js';
import { createTestSystem } from '../src/testing/index.js';
import { gate, rejection, tick, track } from './fixtures.js';

const P = defineProtocol('account', {
  deposit: { input: z.object({ amount: z.number() }), reply: z.number() },
  withdraw: { input: z.object({ amount: z.number() }), reply: z.number() },
  boom: { input: z.object({ async: z.boolean().default(false) }) },
  park: { input: z.object({}), reply: z.number() },
  slow: { input: z.object({}) },
  balance: { input: z.object({}), reply: z.number() },
});

function makeAccount(stops: string[] = []) {
  const g = gate();
  const Account = defineActor(P, {
    init: () => ({ balance: 100 }),
    onStop: (_s, ctx, reason) => {
      stops.push(`${ctx.self.id}#${ctx.incarnation}:${reason}`);
    },
    handlers: {
      deposit(s, { amount }) {
        s.balance += amount;
        return s.balance;
      },
      withdraw(s, { amount }) {
        if (amount > s.balance) reject('INSUFFICIENT_FUNDS', { balance: s.balance, amount });
        s.balance -= amount;
        return s.balance;
      },
      async boom(_s, { async }) {
        if (async) await tick();
        throw new TypeError('kaboom');
      },
      park: (_s, _i, ctx) => ctx.defer(),
      slow: () => g.promise,
      balance: (s) => s.balance,
    },
  });
  return { Account, open: () => g.open() };
}

describe('crashes and business refusals', () => {
  it('reject(code, details) fails the caller with REJECTED; the state is kept and there is no restart', async () => {
    const { system, events } = createTestSystem();
    const { Account } = makeAccount();
    const acct = system.spawn(Account, { id: 'acct' });
    await acct.ask('deposit', { amount: 20 });
    const err = await rejection(acct.ask('withdraw', { amount: 500 }));
    expect(err.code).toBe('REJECTED');
    expect(err.details).toEqual({ reason: 'INSUFFICIENT_FUNDS', details: { balance: 120, amount: 500 } });
    expect(JSON.parse(JSON.stringify(err))).toMatchObject({ code: 'REJECTED', details: { reason: 'INSUFFICIENT_FUNDS' } });
    expect(await acct.ask('balance', {})).toBe(120);
    expect(events.filter((e) => e.type === 'crashed' || e.type === 'restarted')).toEqual([]);
    await system.shutdown();
  });

  it('a throwing handler fails its caller at once with ACTOR_CRASHED carrying the cause; the actor restarts with fresh state', async () => {
    for (const async of [false, true]) {
      const stops: string[] = [];
      const { system, events } = createTestSystem();
      const { Account } = makeAccount(stops);
      const acct = system.spawn(Account, { id: 'acct' });
      await acct.ask('deposit', { amount: 50 });
      const crashed = acct.ask('boom', { async });
      const queued = acct.ask('balance', {}); // queued behind the crash: served by the next incarnation
      const err = await rejection(crashed);
      expect(err.code).toBe('ACTOR_CRASHED');
      expect(err.details).toEqual({ actor: 'acct', message: 'boom', reason: 'threw', decision: 'restart', incarnation: 1 });
      expect(err.cause).toBeInstanceOf(TypeError);
      expect((err.cause as Error).message).toBe('kaboom');
      expect(await queued).toBe(100);
      expect(stops).toEqual(['acct#1:restarting']);
      expect(events.map((e) => e.type)).toEqual(['spawned', 'started', 'crashed', 'restarting', 'restarted', 'started']);
      expect(system.lookup('acct')).toBe(acct);
      expect(system.actors()[0]).toMatchObject({ incarnation: 2, restarts: 1 });
      await system.shutdown();
    }
  });

  it('fails the pending deferred replies of the crashed incarnation at once', async () => {
    const { system } = createTestSystem();
    const { Account } = makeAccount();
    const acct = system.spawn(Account, { id: 'acct' });
    const parked = track(acct.ask('park', {}));
    await tick();
    expect(parked.settled).toBe(false);
    await rejection(acct.ask('boom', {}));
    await tick();
    expect(isHoldfastError(parked.error, 'ACTOR_CRASHED')).toBe(true);
    await system.shutdown();
  });

  it('gives up after maxRestarts within the window: stopped, gave-up event, later asks get ACTOR_STOPPED', async () => {
    const { system, clock, events } = createTestSystem();
    const { Account } = makeAccount();
    const acct = system.spawn(Account, { id: 'acct', intensity: { maxRestarts: 2, withinMs: 1_000 } });
    const decisions: string[] = [];
    for (let i = 0; i < 3; i++) {
      const err = await rejection(acct.ask('boom', {}));
      decisions.push((err.details as { decision: string }).decision);
      await clock.advanceAsync(100);
    }
    expect(decisions).toEqual(['restart', 'restart', 'stop']);
    expect(events.filter((e) => e.type === 'gave-up')).toMatchObject([{ actor: 'acct', restarts: 2, withinMs: 1_000 }]);
    expect(events.at(-1)).toMatchObject({ type: 'stopped', reason: 'gave-up' });
    const err = await rejection(acct.ask('balance', {}));
    expect(err.code).toBe('ACTOR_STOPPED');
    expect(err.details).toEqual({ actor: 'acct', reason: 'gave-up' });
    expect(system.lookup('acct')).toBeUndefined();
    await system.shutdown();
  });

  it('does not accumulate crashes spaced wider than the window', async () => {
    const { system, clock } = createTestSystem();
    const { Account } = makeAccount();
    const acct = system.spawn(Account, { id: 'acct', intensity: { maxRestarts: 1, withinMs: 1_000 } });
    for (let i = 0; i < 5; i++) {
      const err = await rejection(acct.ask('boom', {}));
      expect((err.details as { decision: string }).decision).toBe('restart');
      await clock.advanceAsync(1_000);
    }
    expect(await acct.ask('balance', {})).toBe(100);
    expect(system.actors()[0]?.restarts).toBe(5);
    await system.shutdown();
  });

  it('never restarts a temporary actor', async () => {
    const { system, events } = createTestSystem();
    const { Account } = makeAccount();
    const acct = system.spawn(Account, { id: 't', restart: 'temporary' });
    const err = await rejection(acct.ask('boom', {}));
    expect((err.details as { decision: string }).decision).toBe('stop');
    await tick();
    expect(events.map((e) => e.type)).toEqual(['spawned', 'started', 'crashed', 'stopped']);
    expect((await rejection(acct.ask('balance', {}))).code).toBe('ACTOR_STOPPED');
    await system.shutdown();
  });

  it('a crash in a tell is reported on the event stream and the log, and the actor restarts', async () => {
    const { system, waitForEvent } = createTestSystem();
    const { Account } = makeAccount();
    const acct = system.spawn(Account, { id: 'acct' });
    acct.tell('boom', {});
    const crashed = await waitForEvent('crashed');
    expect(crashed).toMatchObject({ actor: 'acct', message: 'boom', reason: 'threw', decision: 'restart' });
    expect(crashed.error.message).toBe('kaboom');
    await waitForEvent('restarted');
    expect(await acct.ask('balance', {})).toBe(100);
    await system.shutdown();
  });

  it('an init that throws at spawn makes spawn throw ACTOR_CRASHED and registers nothing', () => {
    const Bad = defineActor(P, {
      init: (): { balance: number } => {
        throw new Error('no config');
      },
      handlers: { deposit: () => 0, withdraw: () => 0, boom() {}, park: () => 0, slow() {}, balance: () => 0 },
    });
    const { system } = createTestSystem();
    expect(() => system.spawn(Bad, { id: 'bad' })).toThrowError(
      expect.objectContaining({ code: 'ACTOR_CRASHED', message: expect.stringMatching(/start-failed/) }),
    );
    expect(system.lookup('bad')).toBeUndefined();
  });

  it('an actor is known by its id while its init runs: what init sends it fails when init throws, and its id cannot be taken meanwhile', async () => {
    const { system } = createTestSystem();
    const letters: string[] = [];
    system.deadLetters.subscribe((d) => letters.push(`${d.actor}/${d.message}/${d.reason}`));
    let asked: Promise<number> | null = null;
    let taken: unknown = null;
    const Bad = defineActor(P, {
      init: (a: { system: ActorSystem; fail: boolean }): { balance: number } => {
        const self = a.system.lookup(P, 'bad');
        if (self === undefined) throw new Error('not known while init runs');
        asked = self.ask('balance', {});
        self.tell('deposit', { amount: 1 });
        try {
          a.system.spawn(Bad, { id: 'bad', args: { system: a.system, fail: false } });
        } catch (e) {
          taken = e;
        }
        if (a.fail) throw new Error('no config');
        return { balance: 7 };
      },
      handlers: { deposit: (s, { amount }) => (s.balance += amount), withdraw: () => 0, boom() {}, park: () => 0, slow() {}, balance: (s) => s.balance },
    });
    expect(() => system.spawn(Bad, { id: 'bad', args: { system, fail: true } })).toThrowError(expect.objectContaining({ code: 'ACTOR_CRASHED' }));
    expect(taken).toMatchObject({ code: 'ACTOR_EXISTS' });
    expect(await rejection(asked as unknown as Promise<number>)).toMatchObject({ code: 'ACTOR_CRASHED', message: expect.stringMatching(/start-failed/) });
    expect(letters).toEqual(['bad/deposit/stopped']);
    expect(system.lookup('bad')).toBeUndefined();
    // The id is free again; this time init succeeds, and what it sent itself runs after it, in order.
    const good = system.spawn(Bad, { id: 'bad', args: { system, fail: false } });
    expect(await (asked as unknown as Promise<number>)).toBe(7);
    expect(await good.ask('balance', {})).toBe(8);
    await system.shutdown();
  });

  it('a failing onStart is a crash: restarted within the intensity, then given up', async () => {
    let starts = 0;
    const Flaky = defineActor(P, {
      init: () => ({ balance: 0 }),
      onStart() {
        starts++;
        throw new Error('cannot connect');
      },
      handlers: { deposit: () => 0, withdraw: () => 0, boom() {}, park: () => 0, slow() {}, balance: () => 0 },
    });
    const { system, waitForEvent } = createTestSystem();
    const f = system.spawn(Flaky, { id: 'f', intensity: { maxRestarts: 2, withinMs: 10_000 } });
    const pending = f.ask('balance', {});
    await waitForEvent('gave-up');
    expect(starts).toBe(3);
    const err = await rejection(pending);
    expect(err.code).toBe('ACTOR_STOPPED');
    await system.shutdown();
  });
});
