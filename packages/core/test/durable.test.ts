// Durable actors against the in-memory store (the SQLite and PostgreSQL stores pass the same
// store conformance suite; the kv service is killed with SIGKILL in packages/tests).
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type ActorSystem, createSystem, defineActor, defineProtocol, isHoldfastError, reject } from '../src/index.js';
import { type ActorStore, memoryStore, type StateWrite, StoreError, type StoreSession } from '../src/store.js';

const AccountProtocol = defineProtocol('account', {
  deposit: { input: z.object({ amount: z.number().int().positive() }), reply: z.number() },
  withdraw: { input: z.object({ amount: z.number().int().positive() }), reply: z.number() },
  balance: { input: z.object({}), reply: z.number(), readonly: true },
  boom: { input: z.object({}) },
  corrupt: { input: z.object({}) },
  pay: { input: z.object({ to: z.string(), amount: z.number().int().positive() }), reply: z.number() },
  credit: { input: z.object({ amount: z.number().int() }) },
});

let inits = 0;
const Account = defineActor(AccountProtocol, {
  durable: { schema: z.object({ balance: z.number().int().nonnegative() }), version: 1 },
  init: () => {
    inits++;
    return { balance: 0 };
  },
  handlers: {
    deposit(s, { amount }) {
      s.balance += amount;
      return s.balance;
    },
    withdraw(s, { amount }) {
      if (amount > s.balance) reject('INSUFFICIENT_FUNDS', { balance: s.balance });
      s.balance -= amount;
      return s.balance;
    },
    balance: (s) => s.balance,
    boom(s) {
      s.balance += 1_000_000;
      throw new Error('boom');
    },
    corrupt(s) {
      s.balance = -1;
    },
    pay(s, { to, amount }, ctx) {
      s.balance -= amount;
      ctx.system.ref(Account, to).tell('credit', { amount });
      return s.balance;
    },
    credit(s, { amount }) {
      s.balance += amount;
    },
  },
});

/** A store whose commits can be held, failed, or counted; loads pass through. */
function controlledStore(inner: ActorStore = memoryStore()) {
  const log: StateWrite[][] = [];
  let gate: Promise<void> | null = null;
  let open: (() => void) | null = null;
  let failNext: Error | null = null;
  let down = false;
  let last: StoreSession | null = null;
  const store: ActorStore = {
    name: 'controlled',
    async open(): Promise<StoreSession> {
      const s = await inner.open();
      last = s;
      return {
        epoch: s.epoch,
        load: async (type, id) => {
          if (down) throw StoreError.unavailable('controlled', 'load', new Error('connection refused'));
          return s.load(type, id);
        },
        commit: async (writes) => {
          if (gate !== null) await gate;
          if (down) throw StoreError.unavailable('controlled', 'commit', new Error('connection refused'));
          if (failNext !== null) {
            const e = failNext;
            failNext = null;
            throw e;
          }
          await s.commit(writes);
          log.push([...writes]);
        },
        dueReminders: (before, limit) => s.dueReminders(before, limit),
        remove: (type, id, expected) => s.remove(type, id, expected),
        close: () => s.close(),
      };
    },
  };
  return {
    store,
    inner,
    log,
    /** The stored row, read through the newest session (reading does not take a new epoch). */
    peek(id: string) {
      return (last as StoreSession).load('account', id);
    },
    hold() {
      gate = new Promise((r) => {
        open = r;
      });
    },
    release() {
      gate = null;
      open?.();
    },
    failNextCommit(e: Error) {
      failNext = e;
    },
    setDown(v: boolean) {
      down = v;
    },
  };
}

const systems: ActorSystem[] = [];
function system(store: ActorStore, durable: Parameters<typeof createSystem>[0] extends infer O ? (O extends { durable?: infer D } ? D : never) : never = {}) {
  const s = createSystem({ store, durable });
  systems.push(s);
  return s;
}
afterEach(async () => {
  for (const s of systems.splice(0)) await s.shutdown({ timeoutMs: 2_000 });
  inits = 0;
});

const tick = () => new Promise((r) => setImmediate(r));
/** The stored row, through a new session (after the system that wrote it has stopped, or to fence it). */
async function stored(store: ActorStore, id: string) {
  const session = await store.open();
  const row = await session.load('account', id);
  await session.close();
  return row;
}

describe('durable actors', () => {
  it('refuse, when defined, a state schema with a part JSON cannot carry, naming the part and what to use', () => {
    const P = defineProtocol('json-check', { get: { input: z.object({}), reply: z.number() } });
    const define = (schema: z.ZodType) => () => defineActor(P, { durable: { schema }, init: () => ({}) as never, handlers: { get: () => 1 } });
    expect(define(z.object({ at: z.date() }))).toThrow(
      "actor 'json-check': durable state is stored as JSON, which cannot carry the date at at: use an ISO string (z.iso.datetime()) or a number of milliseconds instead",
    );
    expect(define(z.object({ log: z.array(z.object({ tags: z.set(z.string()) })) }))).toThrow('cannot carry the set at log[].tags: use an array instead');
    expect(define(z.object({ byId: z.record(z.string(), z.map(z.string(), z.number())) }))).toThrow('cannot carry the map at byId[*]');
    expect(define(z.object({ n: z.bigint().optional() }))).toThrow('cannot carry the bigint at n');
    expect(define(z.map(z.string(), z.string()))).toThrow('cannot carry the map at (the state itself)');
    for (const schema of [
      z.object({ at: z.iso.datetime(), n: z.number().nullable(), tags: z.array(z.string()).default([]), byId: z.record(z.string(), z.number()) }),
      z.union([z.object({ k: z.literal('a') }), z.object({ k: z.literal('b'), v: z.string() })]),
      // What a transform makes cannot be known from the schema: let through.
      z.object({ s: z.string().transform((x) => x.trim()) }),
    ])
      expect(define(schema)).not.toThrow();
  });

  it('wake on their first message through system.ref, run init only when nothing is stored, and keep state across systems', async () => {
    const c = controlledStore();
    const a = system(c.store);
    const acct = a.ref(Account, 'acct-1');
    expect(a.ref(Account, 'acct-1')).toBe(acct);
    expect(await acct.ask('deposit', { amount: 5 })).toBe(5);
    expect(await acct.ask('deposit', { amount: 7 })).toBe(12);
    expect(inits).toBe(1);
    await a.shutdown();
    expect(await stored(c.inner, 'acct-1')).toMatchObject({ state: { balance: 12 }, version: 1, revision: 2 });
    const b = system(c.store);
    expect(await b.ref(Account, 'acct-1').ask('balance', {})).toBe(12);
    // Loaded, not made: init ran once, in the first system.
    expect(inits).toBe(1);
    expect((await b.inspect('acct-1')).durable).toEqual({ revision: 2, version: 1, storedVersion: 1, dirty: false, held: 0, committing: false });
  });

  it('releases a reply only after the state its turn left is committed (the output gate)', async () => {
    const c = controlledStore();
    const s = system(c.store);
    const acct = s.ref(Account, 'gate');
    expect(await acct.ask('deposit', { amount: 1 })).toBe(1);
    c.hold();
    let replied = false;
    const p = acct.ask('deposit', { amount: 2 }).then((v) => {
      replied = true;
      return v;
    });
    for (let i = 0; i < 5; i++) await tick();
    expect(replied).toBe(false);
    expect((await c.peek('gate'))?.state).toEqual({ balance: 1 });
    // A read-only ask behind an uncommitted write waits too: it would reveal the write.
    let read = false;
    const r = acct.ask('balance', {}).then((v) => {
      read = true;
      return v;
    });
    for (let i = 0; i < 5; i++) await tick();
    expect([replied, read]).toEqual([false, false]);
    c.release();
    expect(await p).toBe(3);
    expect(await r).toBe(3);
    expect((await c.peek('gate'))?.state).toEqual({ balance: 3 });
  });

  it('holds the messages a turn sends until its state is committed', async () => {
    const c = controlledStore();
    const s = system(c.store);
    const alice = s.ref(Account, 'alice');
    const bob = s.ref(Account, 'bob');
    await alice.ask('deposit', { amount: 10 });
    await bob.ask('deposit', { amount: 1 });
    c.hold();
    const paid = alice.ask('pay', { to: 'bob', amount: 4 });
    for (let i = 0; i < 5; i++) await tick();
    // Alice's turn is not committed: Bob has not been told.
    expect(await bob.ask('balance', {})).toBe(1);
    c.release();
    expect(await paid).toBe(6);
    await tick();
    await tick();
    expect(await bob.ask('balance', {})).toBe(5);
  });

  it('commits the turns of many actors that end close together in one transaction', async () => {
    const c = controlledStore();
    const s = system(c.store);
    const refs = Array.from({ length: 200 }, (_, i) => s.ref(Account, `g-${i}`));
    const replies = await Promise.all(refs.map((r, i) => r.ask('deposit', { amount: i + 1 })));
    expect(replies).toEqual(refs.map((_, i) => i + 1));
    const stats = s.stats().durable;
    expect(stats?.writes).toBe(200);
    expect(stats?.commits).toBeLessThanOrEqual(2);
    expect(c.log.flat().length).toBe(200);
    // 64 asks in flight to one actor: its state is written far fewer than 64 times.
    const one = s.ref(Account, 'hot');
    await one.ask('deposit', { amount: 1 });
    const before = s.stats().durable?.writes ?? 0;
    const hot = await Promise.all(Array.from({ length: 64 }, () => one.ask('deposit', { amount: 1 })));
    expect(hot.sort((a, b) => a - b)).toEqual(Array.from({ length: 64 }, (_, i) => i + 2));
    expect((s.stats().durable?.writes ?? 0) - before).toBeLessThanOrEqual(2);
    expect((await c.peek('hot'))?.state).toEqual({ balance: 65 });
  });

  it('read-only messages never write', async () => {
    const c = controlledStore();
    const s = system(c.store);
    const acct = s.ref(Account, 'ro');
    await acct.ask('deposit', { amount: 3 });
    const commits = c.log.length;
    for (let i = 0; i < 20; i++) expect(await acct.ask('balance', {})).toBe(3);
    expect(c.log.length).toBe(commits);
  });

  it('a turn that throws commits nothing: its caller gets ACTOR_CRASHED and the actor restarts from its last committed state, not from init', async () => {
    const c = controlledStore();
    const s = system(c.store);
    const acct = s.ref(Account, 'crashy');
    await acct.ask('deposit', { amount: 40 });
    const err = await acct.ask('boom', {}).catch((e: unknown) => e);
    expect(isHoldfastError(err, 'ACTOR_CRASHED')).toBe(true);
    expect(await acct.ask('balance', {})).toBe(40);
    expect(inits).toBe(1);
    expect((await c.peek('crashy'))?.state).toEqual({ balance: 40 });
    // A business refusal is not a crash: nothing changes, the actor goes on.
    const refused = await acct.ask('withdraw', { amount: 100 }).catch((e: unknown) => e);
    expect([(refused as { code: string }).code, (refused as { details: { reason: string } }).details.reason]).toEqual(['REJECTED', 'INSUFFICIENT_FUNDS']);
    expect(await acct.ask('withdraw', { amount: 15 })).toBe(25);
  });

  it('a state that fails its schema is never committed: STATE_INVALID, the actor restarts from what is stored', async () => {
    const c = controlledStore();
    const s = system(c.store);
    const acct = s.ref(Account, 'bad');
    await acct.ask('deposit', { amount: 9 });
    // The corrupt turn and the read behind it wait for the same commit, which is refused.
    const [corrupted, read] = await Promise.all([acct.ask('corrupt', {}), acct.ask('balance', {})].map((p) => p.catch((e: unknown) => e)));
    expect([(corrupted as { code: string }).code, (read as { code: string }).code]).toEqual(['STATE_INVALID', 'STATE_INVALID']);
    expect((corrupted as { details: unknown }).details).toMatchObject({ actor: 'bad', at: 'commit', issues: [{ path: ['balance'] }] });
    expect(await acct.ask('balance', {})).toBe(9);
    expect((await c.peek('bad'))?.state).toEqual({ balance: 9 });
  });

  it('a failed commit fails its callers with COMMIT_FAILED (retryable) and restarts the actor from the store', async () => {
    const c = controlledStore();
    const s = system(c.store);
    const acct = s.ref(Account, 'cf');
    await acct.ask('deposit', { amount: 2 });
    c.failNextCommit(StoreError.unavailable('controlled', 'commit', new Error('disk I/O error')));
    const errs = await Promise.all([acct.ask('deposit', { amount: 3 }), acct.ask('deposit', { amount: 4 })].map((p) => p.catch((e: unknown) => e)));
    expect(errs.map((e) => [(e as { code: string }).code, (e as { details: { storeCode: string } }).details.storeCode])).toEqual([
      ['COMMIT_FAILED', 'STORE_UNAVAILABLE'],
      ['COMMIT_FAILED', 'STORE_UNAVAILABLE'],
    ]);
    // One failed commit is not a store that is down: it answers the probe, and the actor goes on from what is stored.
    expect(await acct.ask('balance', {})).toBe(2);
    expect(s.stats().durable).toMatchObject({ available: true, storeErrors: 1 });
  });

  it('while the store is down, asks to durable actors fail fast with STORE_UNAVAILABLE; they work again once it answers', async () => {
    const c = controlledStore();
    const s = system(c.store);
    const acct = s.ref(Account, 'down');
    await acct.ask('deposit', { amount: 2 });
    c.setDown(true);
    const first = await acct.ask('deposit', { amount: 1 }).catch((e: unknown) => e);
    expect((first as { code: string }).code).toBe('COMMIT_FAILED');
    // The failed commit makes the system ask the store at once whether it answers; it does not.
    await new Promise((r) => setTimeout(r, 20));
    const t0 = Date.now();
    const fast = await acct.ask('balance', {}).catch((e: unknown) => e);
    expect((fast as { code: string }).code).toBe('STORE_UNAVAILABLE');
    expect(Date.now() - t0).toBeLessThan(100);
    expect(s.stats().durable?.available).toBe(false);
    c.setDown(false);
    await new Promise((r) => setTimeout(r, 1_300));
    expect(s.stats().durable?.available).toBe(true);
    expect(await acct.ask('deposit', { amount: 5 })).toBe(7);
  });

  it('passivates idle actors and wakes them through the same ref, with their state', async () => {
    const c = controlledStore();
    const s = system(c.store, { passivateAfterMs: 60 });
    const acct = s.ref(Account, 'sleepy');
    await acct.ask('deposit', { amount: 11 });
    const stopped: string[] = [];
    s.events.subscribe((e) => {
      if (e.type === 'stopped') stopped.push(`${e.actor}:${e.reason}`);
    });
    await new Promise((r) => setTimeout(r, 250));
    expect(stopped).toEqual(['sleepy:passivated']);
    expect(s.lookup('sleepy')).toBeUndefined();
    // find() looks a sleeping durable actor up in the store (under the types the system knows) and wakes it.
    expect(await s.find('no-such-account')).toBeUndefined();
    const found = await s.find('sleepy');
    expect([found?.id, found?.type, s.lookup('sleepy') === found]).toEqual(['sleepy', 'account', true]);
    expect(await acct.ask('deposit', { amount: 1 })).toBe(12);
    expect(s.lookup('sleepy')).toBeDefined();
    expect(s.stats().durable).toMatchObject({ activations: 2, passivations: 1 });
  });

  it('keeps at most maxActive actors awake: the least recently used idle ones sleep', async () => {
    const c = controlledStore();
    const s = system(c.store, { maxActive: 10 });
    for (let i = 0; i < 50; i++) await s.ref(Account, `lru-${i}`).ask('deposit', { amount: i + 1 });
    await tick();
    await tick();
    expect(s.stats().durable?.active).toBeLessThanOrEqual(11);
    expect(s.stats().actors).toBeLessThanOrEqual(11);
    for (let i = 0; i < 50; i++) expect(await s.ref(Account, `lru-${i}`).ask('balance', {})).toBe(i + 1);
  });

  it('migrates stored state step by step; a row that fails its schema is reported and left untouched', async () => {
    const store = memoryStore();
    const session = await store.open();
    await session.commit([
      { type: 'wallet', id: 'old', state: { cents: 250 }, version: 1, expected: 0 },
      { type: 'wallet', id: 'broken', state: { cents: 'lots' }, version: 1, expected: 0 },
      { type: 'wallet', id: 'future', state: { balance: 1, currency: 'EUR' }, version: 9, expected: 0 },
    ]);
    await session.close();
    const WalletProtocol = defineProtocol('wallet', {
      get: { input: z.object({}), reply: z.unknown(), readonly: true },
      add: { input: z.object({ n: z.number() }) },
    });
    const Wallet = defineActor(WalletProtocol, {
      durable: {
        schema: z.object({ balance: z.number(), currency: z.string() }),
        version: 3,
        migrate: {
          1: (v1: { cents: number }) => ({ balance: v1.cents / 100 }),
          2: (v2: { balance: number }) => ({ ...v2, currency: 'EUR' }),
        },
      },
      init: () => ({ balance: 0, currency: 'EUR' }),
      handlers: {
        get: (s) => s,
        add(s, { n }) {
          s.balance += n;
        },
      },
    });
    const s = system(store);
    expect(await s.ref(Wallet, 'old').ask('get', {})).toEqual({ balance: 2.5, currency: 'EUR' });
    await s.ref(Wallet, 'old').ask('add', { n: 1 });
    const broken = await s
      .ref(Wallet, 'broken')
      .ask('get', {})
      .catch((e: unknown) => e);
    expect((broken as { code: string }).code).toBe('STATE_INVALID');
    expect((broken as { details: unknown }).details).toMatchObject({
      actor: 'broken',
      type: 'wallet',
      at: 'migrate',
      version: 3,
      issues: [{ path: ['balance'] }],
    });
    const future = await s
      .ref(Wallet, 'future')
      .ask('get', {})
      .catch((e: unknown) => e);
    expect((future as { message: string }).message).toContain('stored with schema version 9, but this actor type is at version 3');
    await s.shutdown();
    const check = await store.open();
    expect(await check.load('wallet', 'old')).toMatchObject({ state: { balance: 3.5, currency: 'EUR' }, version: 3, revision: 2 });
    expect(await check.load('wallet', 'broken')).toMatchObject({ state: { cents: 'lots' }, version: 1, revision: 1 });
    expect(await check.load('wallet', 'future')).toMatchObject({ version: 9, revision: 1 });
  });

  it('a system whose store was taken over by a newer owner cannot write: COMMIT_FAILED (STORE_FENCED), the row untouched', async () => {
    const store = memoryStore();
    const first = system(store);
    const a1 = first.ref(Account, 'fence');
    await a1.ask('deposit', { amount: 1 });
    const second = system(store);
    await tick();
    expect(await second.ref(Account, 'fence').ask('deposit', { amount: 100 })).toBe(101);
    const err = await a1.ask('deposit', { amount: 5 }).catch((e: unknown) => e);
    expect([(err as { code: string }).code, (err as { details: { storeCode: string } }).details.storeCode]).toEqual(['COMMIT_FAILED', 'STORE_FENCED']);
    expect((await stored(store, 'fence'))?.state).toEqual({ balance: 101 });
    expect(first.stats().durable?.available).toBe(false);
  });

  it('the drain commits every turn it accepted before the system stops', async () => {
    const c = controlledStore();
    const s = system(c.store);
    const refs = Array.from({ length: 20 }, (_, i) => s.ref(Account, `d-${i}`));
    c.hold();
    const asks = refs.map((r) => r.ask('deposit', { amount: 3 }));
    await tick();
    const down = s.shutdown();
    setTimeout(() => c.release(), 50);
    expect(await Promise.all(asks)).toEqual(Array(20).fill(3));
    expect((await down).clean).toBe(true);
    for (let i = 0; i < 20; i++) expect((await stored(c.inner, `d-${i}`))?.state).toEqual({ balance: 3 });
  });

  it('delivers a reminder after a restart, once per schedule, with its due time; a cancelled one never fires', async () => {
    const ReminderProtocol = defineProtocol('subscription', {
      open: { input: z.object({ afterMs: z.number() }) },
      cancel: { input: z.object({}) },
      renew: { input: z.object({ plan: z.string() }) },
      seen: { input: z.object({}), reply: z.array(z.string()), readonly: true },
    });
    const Subscription = defineActor(ReminderProtocol, {
      durable: { schema: z.object({ renewals: z.array(z.string()) }) },
      init: () => ({ renewals: [] as string[] }),
      handlers: {
        open(_s, { afterMs }, ctx) {
          ctx.remind('renewal', { afterMs }, 'renew', { plan: 'gold' });
          ctx.remind('reminder-to-cancel', { afterMs }, 'renew', { plan: 'never' });
        },
        cancel(_s, _i, ctx) {
          ctx.cancelReminder('reminder-to-cancel');
        },
        renew(s, { plan }, ctx) {
          const r = ctx.reminder;
          s.renewals.push(`${plan}:${r?.name}:${typeof r?.at}`);
        },
        seen: (s) => s.renewals,
      },
    });
    const store = memoryStore();
    const first = system(store, { reminderPollMs: 20 });
    const sub = first.ref(Subscription, 'sub-1');
    await sub.tell('open', { afterMs: 150 });
    await sub.tell('cancel', {});
    expect(await sub.ask('seen', {})).toEqual([]);
    await first.shutdown();
    // A new system on the same store (a restart) knows the type from the start and delivers it.
    const second = system(store, { reminderPollMs: 20, types: [Subscription] });
    await new Promise((r) => setTimeout(r, 400));
    const s2 = second.ref(Subscription, 'sub-1');
    expect(await s2.ask('seen', {})).toEqual(['gold:renewal:number']);
    const session = await store.open();
    expect(await session.dueReminders(Date.now() + 60_000, 10)).toEqual([]);
    await session.close();
    // Refused where it cannot work.
    const plain = defineActor(defineProtocol('plain2', { x: { input: z.object({}) } }), {
      init: () => ({}),
      handlers: {
        x(_s, _i, ctx) {
          ctx.remind('r', { afterMs: 1 }, 'x', {});
        },
      },
    });
    const p = createSystem();
    systems.push(p);
    const ref = p.spawn(plain);
    const err = await ref.ask('x', {}).catch((e: unknown) => e);
    expect(String((err as { cause: Error }).cause.message)).toContain('ctx.remind() needs a durable actor');
  });

  it('refuses what cannot work: spawn of a durable type, ref of a plain one, a system without a store', () => {
    const s = system(memoryStore());
    expect(() => s.spawn(Account as never)).toThrow(/is durable: reach it with system.ref/);
    const plain = defineActor(defineProtocol('plain', { x: { input: z.object({}) } }), { init: () => ({}), handlers: { x() {} } });
    expect(() => s.ref(plain, 'p')).toThrow(/is not durable/);
    const none = createSystem();
    systems.push(none);
    expect(() => none.ref(Account, 'a')).toThrow(/has no store/);
    expect(() =>
      defineActor(AccountProtocol, {
        ...Account.behaviour,
        durable: { schema: z.object({ balance: z.number() }), version: 2, migrate: { 2: (x: unknown) => x } },
      }),
    ).toThrow(/steps go from 1 to 1/);
  });
});
