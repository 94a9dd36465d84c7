// Money is conserved however the bank fails: thousands of random runs, each with accounts,
// transfers (some overdrawn, some to accounts that do not exist), commits that fail, commits that
// land but whose answer is lost (a crash between commit and reply), and a failover half-way (a
// second system takes the store over; the first one's later writes are fenced off). At the end
// every transfer is final and the balances sum to what was opened.
import { type ActorSystem, createSystem, isHoldfastError } from '@holdfast/core';
import { type ActorStore, memoryStore, StoreError, type StoreSession } from '@holdfast/core/store';
import { describe, expect, it } from 'vitest';
import { LedgerAccount, Transfer } from '../src/ledger.js';

/** A small, seeded random source (mulberry32), so that a failing run can be replayed by its seed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The store, seen through a faulty connection: some commits fail before landing, some land and then report a failure. */
function faulty(inner: ActorStore, rnd: () => number, failBefore: number, failAfter: number): ActorStore {
  return {
    name: 'faulty',
    async open(): Promise<StoreSession> {
      const s = await inner.open();
      return {
        epoch: s.epoch,
        load: (type, id) => s.load(type, id),
        dueReminders: (before, limit) => s.dueReminders(before, limit),
        remove: (type, id, expected) => s.remove(type, id, expected),
        close: () => s.close(),
        async commit(writes) {
          if (rnd() < failBefore) throw StoreError.unavailable('faulty', 'commit', new Error('connection reset'));
          await s.commit(writes);
          if (rnd() < failAfter) throw StoreError.unavailable('faulty', 'commit', new Error('connection reset after COMMIT'));
        },
      };
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function oneRun(seed: number): Promise<{ transfers: number; done: number; refused: number; failedCalls: number }> {
  const rnd = random(seed);
  const store = memoryStore();
  const accounts = Array.from({ length: 2 + Math.floor(rnd() * 3) }, (_, i) => `acct-${i}`);
  const openings = accounts.map(() => Math.floor(rnd() * 100));
  const total = openings.reduce((a, b) => a + b, 0);
  const durable = { reminderPollMs: 10, types: [LedgerAccount, Transfer] };
  const systems: ActorSystem[] = [];
  const first = createSystem({ store: faulty(store, rnd, 0.08, 0.08), durable });
  systems.push(first);
  try {
    // Open the accounts (retrying what the faults refuse: opening is idempotent).
    for (const [i, id] of accounts.entries()) {
      for (;;) {
        const r = await first
          .ref(LedgerAccount, id)
          .ask('open', { opening: openings[i] as number })
          .catch((e: unknown) => e);
        if (typeof r === 'number') break;
        await sleep(1);
      }
    }
    // Transfers at once, some to an account that was never opened, some for more than there is.
    const n = 3 + Math.floor(rnd() * 8);
    const ids: string[] = [];
    const calls: Array<Promise<unknown>> = [];
    let failedCalls = 0;
    for (let t = 0; t < n; t++) {
      const from = accounts[Math.floor(rnd() * accounts.length)] as string;
      let to = rnd() < 0.15 ? 'nobody' : (accounts[Math.floor(rnd() * accounts.length)] as string);
      if (to === from) to = accounts[(accounts.indexOf(from) + 1) % accounts.length] as string;
      const id = `t-${seed}-${t}`;
      ids.push(id);
      calls.push(
        first
          .ref(Transfer, id)
          .ask('start', { from, to, amount: 1 + Math.floor(rnd() * 60), retryMs: 20 })
          .catch((e: unknown) => {
            if (!isHoldfastError(e, 'REJECTED')) failedCalls++;
          }),
      );
    }
    // A failover at a random moment: the second system takes the store over (a new epoch), the
    // first one is fenced off mid-flight; the second drives what was left through the reminders.
    await sleep(rnd() * 15);
    const second = createSystem({ store, durable });
    systems.push(second);
    await Promise.all(calls);
    // Until every transfer that was recorded is final (asked through the second system: opening
    // the store again would take it over from the second one too).
    const deadline = Date.now() + 20_000;
    let stages: string[] = [];
    const settled = (p: Promise<unknown>) => p.catch((e: unknown) => (e as Error).message);
    for (;;) {
      stages = await Promise.all(
        ids.map(async (id) =>
          String(
            await settled(
              second
                .ref(Transfer, id)
                .ask('status', {})
                .then((r) => r.stage),
            ),
          ),
        ),
      );
      // 'new': its start never got committed (the caller was told it failed); nothing moved.
      if (stages.every((s) => s === 'done' || s === 'refused' || s === 'new')) break;
      if (Date.now() > deadline) throw new Error(`seed ${seed}: transfers not final: ${stages.join(', ')}`);
      await sleep(10);
    }
    const balances = await Promise.all(accounts.map((id) => second.ref(LedgerAccount, id).ask('balance', {})));
    expect(
      balances.reduce((a, b) => a + b, 0),
      `seed ${seed}: balances ${balances.join(', ')} vs openings ${openings.join(', ')}`,
    ).toBe(total);
    for (const b of balances) expect(b, `seed ${seed}`).toBeGreaterThanOrEqual(0);
    await second.shutdown({ timeoutMs: 2_000 });
    // What the store holds agrees, and nobody's account was ever opened by a transfer to it.
    const session = await store.open();
    const stored = await Promise.all(accounts.map(async (id) => (await session.load('ledger-account', id))?.state));
    expect(stored.map((s) => (s as { balance: number } | undefined)?.balance)).toEqual(balances);
    expect(((await session.load('ledger-account', 'nobody'))?.state as { opened?: boolean } | undefined)?.opened ?? false).toBe(false);
    await session.close();
    return { transfers: n, done: stages.filter((s) => s === 'done').length, refused: stages.filter((s) => s === 'refused').length, failedCalls };
  } finally {
    for (const s of systems) await s.shutdown({ timeoutMs: 200 });
  }
}

describe('the durable ledger', () => {
  it('conserves money over 2,000 random runs of faulty commits, lost replies and a failover mid-flight', async () => {
    const RUNS = Number(process.env.LEDGER_RUNS ?? 2_000);
    const AT_ONCE = 40;
    const totals = { transfers: 0, done: 0, refused: 0, failedCalls: 0 };
    for (let start = 1; start <= RUNS; start += AT_ONCE) {
      const results = await Promise.all(Array.from({ length: Math.min(AT_ONCE, RUNS - start + 1) }, (_, i) => oneRun(start + i)));
      for (const r of results) {
        totals.transfers += r.transfers;
        totals.done += r.done;
        totals.refused += r.refused;
        totals.failedCalls += r.failedCalls;
      }
    }
    // The runs exercised what they claim: transfers done and refused, and callers that saw a failure.
    expect(totals.done).toBeGreaterThan(1_000);
    expect(totals.refused).toBeGreaterThan(100);
    expect(totals.failedCalls).toBeGreaterThan(100);
    console.log(
      `ledger: ${RUNS} runs, ${totals.transfers} transfers (${totals.done} done, ${totals.refused} refused), ${totals.failedCalls} calls failed by faults`,
    );
  }, 300_000);
});
