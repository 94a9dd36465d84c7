// Keyed asks (`AskOptions.idempotencyKey`) to durable actors: the reply is kept with the state in
// the same commit, and a retry gets it back instead of running the handler again. The cluster
// tests retry on another node after a SIGKILL (packages/tests/test/cluster).
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type ActorSystem, createSystem, defineActor, defineProtocol, reject } from '../src/index.js';
import { type ActorStore, memoryStore, type StateWrite } from '../src/store.js';

const P = defineProtocol('wallet', {
  withdraw: { input: z.object({ amount: z.number().int().positive() }), reply: z.object({ balance: z.number() }) },
  deposit: { input: z.object({ amount: z.number().int().positive() }), reply: z.number() },
  note: { input: z.object({ text: z.string() }) },
  balance: { input: z.object({}), reply: z.number(), readonly: true },
  boom: { input: z.object({}), reply: z.number() },
});

let runs = 0;
const wallet = (keepReplies?: number) =>
  defineActor(P, {
    durable: { schema: z.object({ balance: z.number().int(), notes: z.number().int() }), ...(keepReplies !== undefined && { keepReplies }) },
    init: () => ({ balance: 100, notes: 0 }),
    handlers: {
      withdraw(s, { amount }) {
        runs++;
        if (amount > s.balance) reject('INSUFFICIENT_FUNDS', { balance: s.balance });
        s.balance -= amount;
        return { balance: s.balance };
      },
      deposit(s, { amount }) {
        runs++;
        s.balance += amount;
        return s.balance;
      },
      note(s) {
        runs++;
        s.notes++;
      },
      balance(s) {
        runs++;
        return s.balance;
      },
      boom(s) {
        runs++;
        s.balance = 0;
        throw new Error('boom');
      },
    },
  });
const Wallet = wallet();

/** A store whose commits are recorded and can be held until released. */
function recordingStore(inner: ActorStore = memoryStore()) {
  const commits: StateWrite[][] = [];
  let gate: Promise<void> | null = null;
  let open: (() => void) | null = null;
  const store: ActorStore = {
    name: 'recording',
    async open() {
      const s = await inner.open();
      return {
        ...s,
        epoch: s.epoch,
        load: (type, id) => s.load(type, id),
        commit: async (writes) => {
          if (gate !== null) await gate;
          await s.commit(writes);
          commits.push([...writes]);
        },
        dueReminders: (before, limit) => s.dueReminders(before, limit),
        remove: (type, id, expected) => s.remove(type, id, expected),
        close: () => s.close(),
      };
    },
  };
  return {
    store,
    commits,
    hold() {
      gate = new Promise((r) => {
        open = r;
      });
    },
    release() {
      gate = null;
      open?.();
    },
  };
}

const systems: ActorSystem[] = [];
function system(store: ActorStore): ActorSystem {
  const s = createSystem({ store });
  systems.push(s);
  return s;
}
afterEach(async () => {
  for (const s of systems.splice(0)) await s.shutdown({ timeoutMs: 2_000 });
  runs = 0;
});

const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (e: { code?: string }) => e.code,
  );

describe('keyed asks to durable actors', () => {
  it('run once: a retry with the same key gets the kept reply and changes nothing; another key runs again', async () => {
    const s = system(memoryStore());
    const w = s.ref(Wallet, 'w1');
    expect(await w.ask('withdraw', { amount: 30 }, { idempotencyKey: 'k1' })).toEqual({ balance: 70 });
    expect(await w.ask('withdraw', { amount: 30 }, { idempotencyKey: 'k1' })).toEqual({ balance: 70 });
    expect(runs).toBe(1);
    expect(await w.ask('withdraw', { amount: 30 }, { idempotencyKey: 'k2' })).toEqual({ balance: 40 });
    expect(await w.ask('withdraw', { amount: 30 })).toEqual({ balance: 10 });
    expect(runs).toBe(3);
    expect(await w.ask('balance', {})).toBe(10);
  });

  it('keep a refusal too: the retry gets the same REJECTED with its details, even after the balance would allow it', async () => {
    const s = system(memoryStore());
    const w = s.ref(Wallet, 'w1');
    const first = await w.ask('withdraw', { amount: 500 }, { idempotencyKey: 'big' }).catch((e: unknown) => e);
    expect(first).toMatchObject({ code: 'REJECTED', details: { reason: 'INSUFFICIENT_FUNDS', details: { balance: 100 } } });
    await w.ask('deposit', { amount: 1_000 });
    const again = await w.ask('withdraw', { amount: 500 }, { idempotencyKey: 'big' }).catch((e: unknown) => e);
    expect(again).toMatchObject({ code: 'REJECTED', details: { reason: 'INSUFFICIENT_FUNDS', details: { balance: 100 } } });
    expect(await w.ask('balance', {})).toBe(1_100);
  });

  it('write the reply in the same commit as the state it left, and find it again in a new system on the same store', async () => {
    const rec = recordingStore();
    const s = system(rec.store);
    const w = s.ref(Wallet, 'w1');
    await w.ask('withdraw', { amount: 1 }, { idempotencyKey: 'a' });
    const write = rec.commits.flat().find((c) => c.id === 'w1');
    expect(write).toMatchObject({ state: { balance: 99 }, replies: [{ key: 'a', message: 'withdraw', ok: true, value: { balance: 99 } }] });
    // A write with no keyed ask leaves the kept replies as they are.
    await w.ask('deposit', { amount: 1 });
    expect(rec.commits.at(-1)?.[0]?.replies).toBeUndefined();
    await s.shutdown();
    runs = 0;
    const again = system(rec.store).ref(Wallet, 'w1');
    expect(await again.ask('withdraw', { amount: 1 }, { idempotencyKey: 'a' })).toEqual({ balance: 99 });
    expect(runs).toBe(0);
    expect(await again.ask('balance', {})).toBe(100);
  });

  it('answer a retry that arrives while the first is not committed yet only once that commit lands, with the same reply', async () => {
    const rec = recordingStore();
    const w = system(rec.store).ref(Wallet, 'w1');
    await w.ask('deposit', { amount: 1 });
    rec.hold();
    const order: string[] = [];
    const first = w.ask('withdraw', { amount: 10 }, { idempotencyKey: 'k' }).then((v) => order.push(`first ${JSON.stringify(v)}`));
    const retry = w.ask('withdraw', { amount: 10 }, { idempotencyKey: 'k' }).then((v) => order.push(`retry ${JSON.stringify(v)}`));
    await new Promise((r) => setTimeout(r, 20));
    expect(order).toEqual([]);
    rec.release();
    await Promise.all([first, retry]);
    expect(order).toEqual(['first {"balance":91}', 'retry {"balance":91}']);
    expect(runs).toBe(2);
  });

  it('keep nothing from a turn that crashed (its state is thrown away): the retry runs the handler again', async () => {
    const w = system(memoryStore()).ref(Wallet, 'w1');
    expect(await codeOf(w.ask('boom', {}, { idempotencyKey: 'x' }))).toBe('ACTOR_CRASHED');
    expect(await codeOf(w.ask('boom', {}, { idempotencyKey: 'x' }))).toBe('ACTOR_CRASHED');
    expect(runs).toBe(2);
    expect(await w.ask('balance', {})).toBe(100);
  });

  it('keep the most recent keepReplies keys: an older key runs again', async () => {
    const Small = wallet(2);
    const w = system(memoryStore()).ref(Small, 'w1');
    for (const k of ['a', 'b', 'c']) await w.ask('deposit', { amount: 1 }, { idempotencyKey: k });
    expect(await w.ask('deposit', { amount: 1 }, { idempotencyKey: 'c' })).toBe(103);
    expect(await w.ask('deposit', { amount: 1 }, { idempotencyKey: 'b' })).toBe(102);
    expect(runs).toBe(3);
    expect(await w.ask('deposit', { amount: 1 }, { idempotencyKey: 'a' })).toBe(104);
    expect(runs).toBe(4);
  });

  it('do not keep read-only messages (running them again is safe) nor replies to messages without one', async () => {
    const rec = recordingStore();
    const w = system(rec.store).ref(Wallet, 'w1');
    expect(await w.ask('balance', {}, { idempotencyKey: 'r' })).toBe(100);
    expect(await w.ask('balance', {}, { idempotencyKey: 'r' })).toBe(100);
    expect(runs).toBe(2);
    expect(rec.commits).toEqual([]);
    expect(await w.ask('note', { text: 'hi' }, { idempotencyKey: 'n' })).toBeUndefined();
    expect(await w.ask('note', { text: 'hi' }, { idempotencyKey: 'n' })).toBeUndefined();
    expect(runs).toBe(3);
    expect(rec.commits.flat().map((c) => c.replies)).toEqual([[{ key: 'n', message: 'note', ok: true }]]);
  });

  it('refuse with INVALID_ARGUMENT, queueing nothing: a key kept for another message, a bad key, a key on send, a key to an actor that is not durable', async () => {
    const s = system(memoryStore());
    const w = s.ref(Wallet, 'w1');
    await w.ask('deposit', { amount: 5 }, { idempotencyKey: 'dep' });
    const reused = await w.ask('withdraw', { amount: 5 }, { idempotencyKey: 'dep' }).catch((e: Error & { code: string }) => e);
    expect(reused).toMatchObject({ code: 'INVALID_ARGUMENT', message: "idempotencyKey 'dep' of 'w1' was used for 'deposit', not 'withdraw'" });
    expect(await codeOf(w.ask('deposit', { amount: 5 }, { idempotencyKey: '' }))).toBe('INVALID_ARGUMENT');
    expect(await codeOf(w.ask('deposit', { amount: 5 }, { idempotencyKey: 'k'.repeat(201) }))).toBe('INVALID_ARGUMENT');
    expect(await codeOf(w.ask('deposit', { amount: 5 }, { idempotencyKey: 7 as unknown as string }))).toBe('INVALID_ARGUMENT');
    expect(await codeOf(w.send('note', { text: 'x' }, { idempotencyKey: 's' }))).toBe('INVALID_ARGUMENT');
    const Plain = defineActor(defineProtocol('plain', { get: { input: z.object({}), reply: z.number() } }), { init: () => ({}), handlers: { get: () => 1 } });
    const plain = s.spawn(Plain, { id: 'plain' });
    const refused = await plain.ask('get', {}, { idempotencyKey: 'p' }).catch((e: Error & { code: string }) => e);
    expect(refused).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect((refused as Error).message).toContain('is for asks to durable actors');
    expect(runs).toBe(1);
    expect(await w.ask('balance', {})).toBe(105);
  });

  it('refuse a keepReplies that is not an integer from 1 to 10000 when the type is defined', () => {
    expect(() => wallet(0)).toThrow('durable.keepReplies must be an integer from 1 to 10000, got 0');
    expect(() => wallet(1.5)).toThrow('durable.keepReplies must be an integer from 1 to 10000, got 1.5');
  });
});
