import type { ActorStore, StateWrite, StoreSession } from '@holdfast/core/store';
import { afterEach, describe, expect, it } from 'vitest';

/** A store under test: a fresh, empty location, and a way to reach the same location again (a restart). */
export interface StoreUnderTest {
  readonly store: ActorStore;
  /** A new store object on the same data (for a durable store, the same file or database). */
  reopen(): ActorStore;
  cleanup(): Promise<void>;
}

/** The error code of a rejection (or a failure when it resolves). */
async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return (e as { code?: string }).code ?? `uncoded: ${(e as Error).message}`;
  }
  return 'resolved';
}

const write = (id: string, state: unknown, expected: number, version = 1): StateWrite => ({ type: 'account', id, state, version, expected });

/**
 * The contract every store keeps (see `@holdfast/core/store`), as one suite: run it against each
 * store with a factory that gives a fresh, empty location.
 */
export function storeConformance(label: string, make: () => Promise<StoreUnderTest>, options: { readonly shared?: boolean } = {}): void {
  describe(`store conformance: ${label}`, () => {
    const open: StoreSession[] = [];
    let current: StoreUnderTest | null = null;
    const fresh = async () => {
      current = await make();
      return current;
    };
    const session = async (store: ActorStore) => {
      const s = await store.open();
      open.push(s);
      return s;
    };
    afterEach(async () => {
      for (const s of open.splice(0)) await s.close().catch(() => {});
      await current?.cleanup();
      current = null;
    });

    it('gives every session a newer epoch than the last, across store objects on the same data', async () => {
      const t = await fresh();
      const a = await session(t.store);
      const b = await session(t.store);
      const c = await session(t.reopen());
      expect(a.epoch).toBeGreaterThanOrEqual(1);
      expect(b.epoch).toBeGreaterThan(a.epoch);
      expect(c.epoch).toBeGreaterThan(b.epoch);
    });

    it('stores a new row at revision 1 with the session’s epoch, and reads it back as JSON values', async () => {
      const t = await fresh();
      const s = await session(t.store);
      expect(await s.load('account', 'a1')).toBeNull();
      const state = { balance: 12, owner: 'Zoë ✓', tags: ['x', 'y'], nested: { ok: true, n: null } };
      await s.commit([write('a1', state, 0, 3)]);
      expect(await s.load('account', 'a1')).toEqual({ state, version: 3, revision: 1, epoch: s.epoch });
      // Another type with the same id is another row.
      expect(await s.load('ledger', 'a1')).toBeNull();
    });

    it('moves the revision by one per write, and refuses a write from a stale revision with STORE_CONFLICT, writing nothing', async () => {
      const t = await fresh();
      const s = await session(t.store);
      await s.commit([write('a1', { balance: 1 }, 0)]);
      await s.commit([write('a1', { balance: 2 }, 1)]);
      expect(await codeOf(s.commit([write('a1', { balance: 99 }, 1)]))).toBe('STORE_CONFLICT');
      expect(await codeOf(s.commit([write('a1', { balance: 99 }, 0)]))).toBe('STORE_CONFLICT');
      expect(await s.load('account', 'a1')).toMatchObject({ state: { balance: 2 }, revision: 2 });
    });

    it('commits all rows of a commit or none', async () => {
      const t = await fresh();
      const s = await session(t.store);
      await s.commit([write('a1', { balance: 1 }, 0)]);
      // The second row conflicts: the first, valid on its own, is not written either.
      expect(await codeOf(s.commit([write('a2', { balance: 5 }, 0), write('a1', { balance: 7 }, 0)]))).toBe('STORE_CONFLICT');
      expect(await s.load('account', 'a2')).toBeNull();
      expect(await s.load('account', 'a1')).toMatchObject({ state: { balance: 1 }, revision: 1 });
      const many = Array.from({ length: 1_000 }, (_, i) => write(`m${i}`, { balance: i }, 0));
      await s.commit(many);
      expect(await s.load('account', 'm999')).toMatchObject({ state: { balance: 999 }, revision: 1 });
    });

    it('fences an older session once a newer one opens: its commits and removals fail with STORE_FENCED and change nothing', async () => {
      const t = await fresh();
      const old = await session(t.store);
      await old.commit([write('a1', { balance: 1 }, 0)]);
      const newer = await session(t.reopen());
      expect(await codeOf(old.commit([write('a1', { balance: 666 }, 1)]))).toBe('STORE_FENCED');
      expect(await codeOf(old.commit([write('b1', { balance: 666 }, 0)]))).toBe('STORE_FENCED');
      expect(await codeOf(old.remove('account', 'a1', 1))).toBe('STORE_FENCED');
      expect(await newer.load('account', 'a1')).toMatchObject({ state: { balance: 1 }, revision: 1, epoch: old.epoch });
      expect(await newer.load('account', 'b1')).toBeNull();
      // The newer owner writes; the old one still reads what is there.
      await newer.commit([write('a1', { balance: 2 }, 1)]);
      expect(await old.load('account', 'a1')).toMatchObject({ state: { balance: 2 }, revision: 2, epoch: newer.epoch });
    });

    it('keeps what was committed for a new store object on the same data (a restart)', async () => {
      const t = await fresh();
      const s = await session(t.store);
      await s.commit([write('a1', { balance: 41 }, 0), write('a2', { balance: 1 }, 0)]);
      await s.commit([write('a1', { balance: 42 }, 1)]);
      await s.close();
      const again = await session(t.reopen());
      expect(await again.load('account', 'a1')).toEqual({ state: { balance: 42 }, version: 1, revision: 2, epoch: s.epoch });
      expect(await again.load('account', 'a2')).toMatchObject({ revision: 1 });
    });

    it('removes a row at its revision only; a removed row can be written again from revision 0', async () => {
      const t = await fresh();
      const s = await session(t.store);
      await s.commit([write('a1', { balance: 1 }, 0)]);
      expect(await codeOf(s.remove('account', 'a1', 2))).toBe('STORE_CONFLICT');
      await s.remove('account', 'a1', 1);
      expect(await s.load('account', 'a1')).toBeNull();
      await s.commit([write('a1', { balance: 3 }, 0)]);
      expect(await s.load('account', 'a1')).toMatchObject({ state: { balance: 3 }, revision: 1 });
    });

    it('refuses everything on a closed session with STORE_CLOSED', async () => {
      const t = await fresh();
      const s = await session(t.store);
      await s.close();
      expect(await codeOf(s.load('account', 'a1'))).toBe('STORE_CLOSED');
      expect(await codeOf(s.commit([write('a1', {}, 0)]))).toBe('STORE_CLOSED');
    });

    it('takes concurrent commits of one session on different rows, each landing once', async () => {
      const t = await fresh();
      const s = await session(t.store);
      await Promise.all(Array.from({ length: 50 }, (_, i) => s.commit([write(`c${i}`, { n: i }, 0)])));
      for (let i = 0; i < 50; i += 7) expect(await s.load('account', `c${i}`)).toMatchObject({ state: { n: i }, revision: 1 });
    });

    it('writes many rows of one batch, new and updated, in one commit; one stale row refuses the whole batch', async () => {
      const t = await fresh();
      const s = await session(t.store);
      await s.commit(Array.from({ length: 100 }, (_, i) => write(`b${i}`, { n: i }, 0)));
      await s.commit([
        ...Array.from({ length: 100 }, (_, i) => write(`b${i}`, { n: i + 1 }, 1)),
        ...Array.from({ length: 20 }, (_, i) => write(`n${i}`, { n: -i }, 0)),
      ]);
      expect(await s.load('account', 'b99')).toMatchObject({ state: { n: 100 }, revision: 2 });
      expect(await s.load('account', 'n19')).toMatchObject({ state: { n: -19 }, revision: 1 });
      expect(await codeOf(s.commit([write('b0', { n: 'x' }, 2), write('b1', { n: 'x' }, 1), write('fresh', {}, 0)]))).toBe('STORE_CONFLICT');
      expect(await s.load('account', 'b0')).toMatchObject({ state: { n: 1 }, revision: 2 });
      expect(await s.load('account', 'fresh')).toBeNull();
    });

    it('keeps reminders with the state that set them: set, moved, removed in the same transaction; due ones earliest first', async () => {
      const t = await fresh();
      const s = await session(t.store);
      const at = 1_700_000_000_000;
      await s.commit([
        { ...write('a1', { n: 1 }, 0), reminders: [{ name: 'bill', at: at + 30, message: 'charge', input: { cents: 5 } }] },
        {
          ...write('a2', { n: 1 }, 0),
          reminders: [
            { name: 'bill', at: at + 10, message: 'charge', input: { cents: 7 } },
            { name: 'ping', at: at + 20, message: 'ping', input: {} },
          ],
        },
      ]);
      expect(await s.dueReminders(at + 25, 10)).toEqual([
        { type: 'account', id: 'a2', name: 'bill', at: at + 10, message: 'charge', input: { cents: 7 } },
        { type: 'account', id: 'a2', name: 'ping', at: at + 20, message: 'ping', input: {} },
      ]);
      expect((await s.dueReminders(at + 100, 2)).map((r) => `${r.id}/${r.name}`)).toEqual(['a2/bill', 'a2/ping']);
      // Moved and removed with the next write of their actor.
      await s.commit([
        {
          ...write('a2', { n: 2 }, 1),
          reminders: [
            { name: 'bill', at: at + 40, message: 'charge', input: { cents: 8 } },
            { name: 'ping', at: null },
          ],
        },
      ]);
      expect((await s.dueReminders(at + 100, 10)).map((r) => `${r.id}/${r.name}@${r.at - at}`)).toEqual(['a1/bill@30', 'a2/bill@40']);
      // A refused commit sets no reminder; a reopened store still has them.
      expect(await codeOf(s.commit([{ ...write('a1', {}, 0), reminders: [{ name: 'x', at, message: 'm', input: null }] }]))).toBe('STORE_CONFLICT');
      const again = await session(t.reopen());
      expect((await again.dueReminders(at + 100, 10)).map((r) => `${r.id}/${r.name}`)).toEqual(['a1/bill', 'a2/bill']);
      // Removing an actor removes its reminders.
      await again.remove('account', 'a1', 1);
      expect((await again.dueReminders(at + 100, 10)).map((r) => `${r.id}/${r.name}`)).toEqual(['a2/bill']);
    });

    it('keeps the replies to keyed asks with the state: written in the same commit, kept by a write without them, replaced by one with them', async () => {
      const t = await fresh();
      const s = await session(t.store);
      const first = [{ key: 'k1', message: 'withdraw', ok: true, value: { balance: 70 } }];
      await s.commit([{ ...write('a1', { n: 1 }, 0), replies: first }, write('a2', { n: 1 }, 0)]);
      expect(await s.load('account', 'a1')).toMatchObject({ state: { n: 1 }, revision: 1, replies: first });
      expect((await s.load('account', 'a2'))?.replies).toBeUndefined();
      await s.commit([write('a1', { n: 2 }, 1)]);
      expect((await s.load('account', 'a1'))?.replies).toEqual(first);
      const refused = { code: 'REJECTED', name: 'Rejected', message: 'insufficient funds', details: { reason: 'insufficient funds' } };
      const second = [...first, { key: 'k2', message: 'withdraw', ok: false, error: refused }];
      await s.commit([{ ...write('a1', { n: 3 }, 2), replies: second }]);
      // A refused commit changes no reply; a reopened store still has them.
      expect(await codeOf(s.commit([{ ...write('a1', { n: 9 }, 2), replies: [] }]))).toBe('STORE_CONFLICT');
      const again = await session(t.reopen());
      expect(await again.load('account', 'a1')).toMatchObject({ state: { n: 3 }, revision: 3, replies: second });
    });

    if (options.shared === true)
      describe('shared sessions (a cluster): fenced per shard', () => {
        const shared = async (store: ActorStore) => {
          if (store.openShared === undefined) throw new Error('no openShared');
          const s = await store.openShared();
          open.push(s);
          return s;
        };
        const at = (shard: number, epoch: number) => ({ shard, epoch });
        const fenced = (id: string, state: unknown, expected: number, shard: number, epoch: number): StateWrite => ({
          ...write(id, state, expected),
          fence: at(shard, epoch),
        });

        it('lets two nodes write their own shards at once, and fences a node whose shard was claimed at a newer epoch', async () => {
          const t = await fresh();
          const a = await shared(t.store);
          const b = await shared(t.reopen());
          expect([a.epoch, b.epoch]).toEqual([0, 0]);
          await a.claimShard?.(1, 10);
          await b.claimShard?.(2, 11);
          await a.commit([fenced('x1', { n: 1 }, 0, 1, 10)]);
          await b.commit([fenced('y1', { n: 1 }, 0, 2, 11)]);
          // b takes shard 1 over at a newer epoch: a's writes there (updates, new rows, removals) are fenced.
          await b.claimShard?.(1, 12);
          const e = await a.commit([fenced('x1', { n: 666 }, 1, 1, 10)]).catch((err: unknown) => err as { code: string; details: unknown });
          expect(e).toMatchObject({ code: 'STORE_FENCED', details: { shard: 1, epoch: 10, newest: 12 } });
          expect(await codeOf(a.commit([fenced('x2', { n: 666 }, 0, 1, 10)]))).toBe('STORE_FENCED');
          expect(await codeOf(a.remove('account', 'x1', 1, at(1, 10)))).toBe('STORE_FENCED');
          // A batch with one fenced shard writes nothing, not even its rows of other shards.
          expect(await codeOf(b.commit([fenced('y1', { n: 2 }, 1, 2, 11), fenced('x1', { n: 2 }, 1, 1, 10)]))).toBe('STORE_FENCED');
          expect((await b.load('account', 'y1'))?.revision).toBe(1);
          await b.commit([fenced('x1', { n: 2 }, 1, 1, 12), fenced('y1', { n: 2 }, 1, 2, 11)]);
          expect((await a.load('account', 'x1'))?.state).toEqual({ n: 2 });
          expect(await a.load('account', 'x2')).toBeNull();
        });

        it('refuses a claim at an older epoch than the shard’s and a write without its shard; claiming again at the same epoch is allowed', async () => {
          const t = await fresh();
          const a = await shared(t.store);
          await a.claimShard?.(3, 20);
          await a.claimShard?.(3, 20);
          expect(await codeOf(a.claimShard?.(3, 19) ?? Promise.resolve())).toBe('STORE_FENCED');
          expect(await codeOf(a.commit([write('z', {}, 0)]))).toBe('STORE_FENCED');
          // A write to a shard nobody claimed is fenced too (its epoch is not the shard's).
          expect(await codeOf(a.commit([fenced('z', {}, 0, 4, 1)]))).toBe('STORE_FENCED');
          await a.commit([fenced('z', {}, 0, 3, 20)]);
        });

        it('gives each node the due reminders of the shards it names', async () => {
          const t = await fresh();
          const a = await shared(t.store);
          await a.claimShard?.(1, 5);
          await a.claimShard?.(2, 6);
          const due = 1_000;
          await a.commit([
            { ...fenced('r1', {}, 0, 1, 5), reminders: [{ name: 'tick', at: due, message: 'm', input: 1 }] },
            { ...fenced('r2', {}, 0, 2, 6), reminders: [{ name: 'tick', at: due + 1, message: 'm', input: 2 }] },
          ]);
          expect((await a.dueReminders(due + 10, 10, [1])).map((r) => r.id)).toEqual(['r1']);
          expect((await a.dueReminders(due + 10, 10, [2, 7])).map((r) => r.id)).toEqual(['r2']);
          expect((await a.dueReminders(due + 10, 10, [])).map((r) => r.id)).toEqual([]);
          expect((await a.dueReminders(due + 10, 10, [1, 2])).map((r) => r.input)).toEqual([1, 2]);
        });
      });
  });
}
