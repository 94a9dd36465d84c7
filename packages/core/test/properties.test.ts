import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type ActorRef, defineActor, defineProtocol, isHoldfastError, reject } from '../src/index.js';
import { createTestSystem } from '../src/testing/index.js';
import { tick } from './fixtures.js';

const ACCOUNTS = 1_000;
const OPENING = 100;

const BankProtocol = defineProtocol('account', {
  give: {
    input: z.object({ to: z.string(), amount: z.number().int().positive(), crash: z.boolean(), delay: z.number().int().min(0) }),
    reply: z.number(),
  },
  receive: { input: z.object({ amount: z.number().int().positive() }) },
});

/**
 * An account whose committed balance lives in a vault (standing in for persistence), so that a
 * restart resumes from what was committed. A transfer is one turn: check, debit, then tell the
 * payee — all or nothing — so money is only ever in a balance, in a mailbox, or a dead letter.
 */
function makeAccount(vault: Map<string, number>) {
  return defineActor(BankProtocol, {
    init: (args: { id: string }) => ({ id: args.id, balance: vault.get(args.id) ?? OPENING }),
    handlers: {
      async give(s, { to, amount, crash, delay }, ctx) {
        for (let i = 0; i < delay; i++) await tick();
        if (crash) throw new Error('random crash');
        if (ctx.signal.aborted) reject('GAVE_UP_BEFORE_COMMIT');
        if (amount > s.balance) reject('INSUFFICIENT_FUNDS', { balance: s.balance });
        const payee = ctx.system.lookup(BankProtocol, to);
        s.balance -= amount;
        vault.set(s.id, s.balance);
        if (payee === undefined) {
          // The payee gave up and is gone: refund, as a bank would.
          s.balance += amount;
          vault.set(s.id, s.balance);
          reject('NO_SUCH_PAYEE');
        }
        payee.tell('receive', { amount });
        return s.balance;
      },
      receive(s, { amount }) {
        s.balance += amount;
        vault.set(s.id, s.balance);
      },
    },
  });
}

const op = fc.record({
  from: fc.integer({ min: 0, max: ACCOUNTS - 1 }),
  to: fc.integer({ min: 0, max: ACCOUNTS - 1 }),
  amount: fc.integer({ min: 1, max: 150 }),
  crash: fc.boolean().map((b) => b && Math.random() < 0.2),
  delay: fc.integer({ min: 0, max: 3 }),
  timeoutMs: fc.option(fc.integer({ min: 1, max: 40 }), { nil: undefined }),
  abortAfterTicks: fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }),
});

let unhandled: unknown[] = [];
const onUnhandled = (e: unknown) => unhandled.push(e);
beforeEach(() => {
  unhandled = [];
  process.on('unhandledRejection', onUnhandled);
});
afterEach(() => {
  process.off('unhandledRejection', onUnhandled);
});

describe('properties', () => {
  it('1,000 actors under random asks with throws, delays, timeouts and aborts: every ask settles exactly once and money is conserved', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 300, maxLength: 1_500 }), async (ops) => {
        const vault = new Map<string, number>();
        const { system, clock, deadLetters } = createTestSystem({ mailbox: { capacity: 8 } });
        const Account = makeAccount(vault);
        const refs: ActorRef<typeof BankProtocol>[] = [];
        for (let i = 0; i < ACCOUNTS; i++) refs.push(system.spawn(Account, { id: `acct-${i}`, args: { id: `acct-${i}` } }));

        const settlements = new Array<number>(ops.length).fill(0);
        const outcomes: string[] = new Array(ops.length);
        const all = ops.map((o, i) => {
          const ac = o.abortAfterTicks === undefined ? undefined : new AbortController();
          if (ac !== undefined)
            void (async () => {
              for (let t = 0; t < (o.abortAfterTicks as number); t++) await tick();
              ac.abort();
            })();
          const options = { ...(o.timeoutMs === undefined ? {} : { timeoutMs: o.timeoutMs }), ...(ac === undefined ? {} : { signal: ac.signal }) };
          const from = refs[o.from] as ActorRef<typeof BankProtocol>;
          return from.ask('give', { to: `acct-${o.to}`, amount: o.amount, crash: o.crash, delay: o.delay }, options).then(
            () => {
              settlements[i] = (settlements[i] ?? 0) + 1;
              outcomes[i] = 'ok';
            },
            (e: unknown) => {
              settlements[i] = (settlements[i] ?? 0) + 1;
              outcomes[i] = isHoldfastError(e) ? e.code : `foreign:${String(e)}`;
            },
          );
        });
        // Let time pass on the manual clock until every ask has settled (bounded).
        let rounds = 0;
        while (settlements.some((n) => n === 0) && rounds++ < 200) await clock.advanceAsync(10);
        await Promise.all(all);
        // Drain the receive tells still queued.
        for (let i = 0; i < 20; i++) await tick();

        expect(settlements.every((n) => n === 1)).toBe(true);
        expect(outcomes.filter((o) => o.startsWith('foreign'))).toEqual([]);
        expect(new Set(outcomes)).toSatisfy((s: Set<string>) =>
          [...s].every((o) => ['ok', 'REJECTED', 'ACTOR_CRASHED', 'ACTOR_STOPPED', 'ASK_TIMEOUT', 'CANCELLED', 'MAILBOX_FULL'].includes(o)),
        );
        expect(system.actors().every((a) => a.mailbox === 0 && !a.busy)).toBe(true);
        const inVault = Array.from({ length: ACCOUNTS }, (_, i) => vault.get(`acct-${i}`) ?? OPENING).reduce((a, b) => a + b, 0);
        const inDeadLetters = deadLetters.filter((d) => d.message === 'receive').reduce((a, d) => a + (d.input as { amount: number }).amount, 0);
        expect(inVault + inDeadLetters).toBe(ACCOUNTS * OPENING);
        expect(system.stats().pendingAsks).toBe(0);
        await system.shutdown();
      }),
      { numRuns: 6 },
    );
    expect(unhandled).toEqual([]);
  });

  it('keeps FIFO per sender under random interleavings of tells and asks', async () => {
    const P = defineProtocol('fifo', {
      note: { input: z.object({ s: z.number(), n: z.number() }) },
      ask: { input: z.object({ s: z.number(), n: z.number() }), reply: z.number() },
      seen: { input: z.object({}), reply: z.array(z.tuple([z.number(), z.number()])) },
    });
    const A = defineActor(P, {
      init: () => [] as Array<[number, number]>,
      handlers: {
        note(st, { s, n }) {
          st.push([s, n]);
        },
        async ask(st, { s, n }) {
          st.push([s, n]);
          if (n % 2) await tick();
          return n;
        },
        seen: (st) => st,
      },
    });
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.integer({ min: 0, max: 4 }), fc.boolean()), { minLength: 1, maxLength: 300 }), async (plan) => {
        const { system } = createTestSystem();
        const a = system.spawn(A);
        const next = [0, 0, 0, 0, 0];
        const asks: Promise<number>[] = [];
        for (const [s, isAsk] of plan) {
          const n = next[s] ?? 0;
          next[s] = n + 1;
          if (isAsk) asks.push(a.ask('ask', { s, n }));
          else a.tell('note', { s, n });
        }
        await Promise.all(asks);
        const seen = await a.ask('seen', {});
        for (let s = 0; s < 5; s++) {
          expect(seen.filter(([x]) => x === s).map(([, n]) => n)).toEqual(Array.from({ length: next[s] as number }, (_, i) => i));
        }
        await system.shutdown();
      }),
      { numRuns: 50 },
    );
  });
});
