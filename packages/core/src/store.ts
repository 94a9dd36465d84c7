/**
 * The store seam: where durable actors keep their state. Core defines the contract and knows no
 * database; a store is its own package (`@holdfast/store-sqlite`, …) or the in-memory one for
 * tests ({@link memoryStore}). Every store passes the same conformance suite
 * (`packages/tests/src/storeConformance.ts`).
 *
 * The contract in short:
 * - A system **opens** a store and gets a session with a fresh **ownership epoch**, higher than
 *   any before it. Opening again (another process, or the same one after a restart) takes a newer
 *   epoch, and from then on the older session's writes are **fenced**: refused with
 *   `STORE_FENCED`, never applied.
 * - Each actor's state is one row: `(type, id) → (state, version, revision, epoch)`. `revision`
 *   starts at 1 and grows by one with every write; `version` is the state's schema version.
 * - A **commit** writes many rows in one transaction, all or none. A row lands only if its
 *   revision is the one the writer read (`expected`, 0 for a new row) and the session's epoch is
 *   still the store's newest; otherwise the whole commit fails (`STORE_CONFLICT` or
 *   `STORE_FENCED`) and nothing is written.
 * - Nothing is acknowledged before it is durable: `commit` resolves only once the store says the
 *   transaction is on disk (for SQLite with `synchronous=FULL`, after the fsync).
 * - A store that serves a cluster (`@holdfast/nats`) also opens **shared** sessions
 *   ({@link ActorStore.openShared}): many nodes write at once, each to the shards it owns. There
 *   the epoch is per shard: a node **claims** a shard with the epoch of its lease (higher than
 *   any before), and from then on a write to that shard carrying an older epoch is fenced.
 *
 * @module @holdfast/core/store
 */
import { HoldfastError, type SerializedError } from './errors.js';

/** One actor's stored state. */
export interface StoredState {
  readonly state: unknown;
  /** The schema version the state was written with. */
  readonly version: number;
  /** 1 for the first write, then +1 per write. */
  readonly revision: number;
  /** The epoch of the session that wrote it. */
  readonly epoch: number;
  /** The replies to its most recent keyed asks (`idempotencyKey`), oldest first, when it has any. */
  readonly replies?: readonly StoredReply[];
}

/**
 * The reply to an ask that carried an idempotency key, kept with the actor's state so that a
 * retry of the ask (after a timeout, or on another node after a failover) gets it back instead
 * of running the handler again. Stored as JSON.
 */
export interface StoredReply {
  /** The ask's idempotency key. */
  readonly key: string;
  /** The message it asked. */
  readonly message: string;
  /** The reply (`ok`), or the refusal (`REJECTED`) as `toJSON()` gives it. */
  readonly ok: boolean;
  readonly value?: unknown;
  readonly error?: SerializedError;
}

/** The shard a write belongs to and the epoch its writer claimed it at (shared sessions). */
export interface ShardFence {
  readonly shard: number;
  readonly epoch: number;
}

/** One row to write in a commit. */
export interface StateWrite {
  readonly type: string;
  readonly id: string;
  readonly state: unknown;
  readonly version: number;
  /** The revision the writer read: 0 when it found no row. The row lands only if it still is. */
  readonly expected: number;
  /** The actor's reminders set (`at` a time) or removed (`at` null) by the turns written here: in the same transaction. */
  readonly reminders?: readonly ReminderWrite[];
  /** In a shared session: the row's shard and its writer's epoch there. The row lands only if that is still the shard's newest. */
  readonly fence?: ShardFence;
  /** The actor's kept replies to keyed asks, all of them (they replace those stored); absent: the stored ones stay. */
  readonly replies?: readonly StoredReply[];
}

/** A durable reminder set or removed with an actor's state. */
export interface ReminderWrite {
  readonly name: string;
  /** When it is due (ms since the epoch), or null to remove it. */
  readonly at: number | null;
  /** The message it delivers, and its input (stored as JSON). */
  readonly message?: string;
  readonly input?: unknown;
}

/** A stored reminder. */
export interface StoredReminder {
  readonly type: string;
  readonly id: string;
  readonly name: string;
  readonly at: number;
  readonly message: string;
  readonly input: unknown;
}

/** A system's open session on a store. */
export interface StoreSession {
  /** This session's ownership epoch (higher than every earlier session's). */
  readonly epoch: number;
  /** The stored state of an actor, or null. */
  load(type: string, id: string): Promise<StoredState | null>;
  /**
   * Write every row in one durable transaction, all or none. Rejects with `STORE_CONFLICT` (a
   * row's revision moved), `STORE_FENCED` (a newer session exists) or `STORE_UNAVAILABLE`.
   */
  commit(writes: readonly StateWrite[]): Promise<void>;
  /**
   * Reminders due before `before` (ms since the epoch), earliest first, at most `limit`; in a
   * shared session, only those of `shards`.
   */
  dueReminders(before: number, limit: number, shards?: readonly number[]): Promise<StoredReminder[]>;
  /** Remove an actor's row (its state is gone for good) and its reminders. Fenced like a commit. */
  remove(type: string, id: string, expected: number, fence?: ShardFence): Promise<void>;
  /**
   * Shared sessions: take `shard` at `epoch`. Resolves once every later write to the shard with
   * an older epoch is fenced, and every earlier one has landed or failed (so what the claimant
   * loads next is final). Rejects with `STORE_FENCED` when the shard is already at a newer epoch;
   * claiming again at the same epoch is allowed.
   */
  claimShard?(shard: number, epoch: number): Promise<void>;
  /** Release the session (a later open still takes a newer epoch). */
  close(): Promise<void>;
  /**
   * Optional: tell `listener` about failures met outside any call (a pooled connection that
   * breaks while idle). A system logs them, counts them as store errors and checks that the
   * store still answers.
   */
  onError?(listener: (error: Error) => void): void;
}

/** A place where durable actors keep their state. */
export interface ActorStore {
  /** For logs and errors: `memory`, `sqlite:data/app.db`, … */
  readonly name: string;
  /** Open a session, taking a new ownership epoch. */
  open(): Promise<StoreSession>;
  /**
   * Open a session shared with other nodes of a cluster: it takes no store-wide epoch (its
   * `epoch` is 0) and fences nobody; every write carries its shard's fence instead
   * ({@link StateWrite.fence}), and the session has {@link StoreSession.claimShard}. Only stores
   * that many processes can reach offer it (PostgreSQL; the memory store, within one process).
   */
  openShared?(): Promise<StoreSession>;
}

/** Why a store refused or failed. */
export type StoreErrorCode = 'STORE_CONFLICT' | 'STORE_FENCED' | 'STORE_UNAVAILABLE' | 'STORE_CLOSED';

/**
 * A store's refusal or failure, coded and serialisable like every Holdfast error.
 * `STORE_UNAVAILABLE` is retryable; `STORE_FENCED` means another owner took over.
 */
export class StoreError extends HoldfastError<StoreErrorCode, Readonly<Record<string, unknown>>> {
  constructor(code: StoreErrorCode, message: string, details: Readonly<Record<string, unknown>> = {}, options?: { cause?: unknown }) {
    super(code, message, details, options);
  }
  override get name(): string {
    return 'StoreError';
  }

  /** The session was closed. */
  static closed(store: string, epoch: number): StoreError {
    return new StoreError('STORE_CLOSED', `store '${store}': this session is closed`, { epoch });
  }

  /** A newer owner (epoch `newest`) took `shard` over from `epoch` (shared sessions). */
  static shardFenced(store: string, shard: number, epoch: number, newest: number): StoreError {
    return new StoreError('STORE_FENCED', `store '${store}': shard ${shard} has a newer owner (epoch ${newest}) than epoch ${epoch}`, { shard, epoch, newest });
  }

  /** A newer session (epoch `newest`) took the store over from `epoch`. */
  static fenced(store: string, epoch: number, newest: number): StoreError {
    return new StoreError('STORE_FENCED', `store '${store}': a newer owner (epoch ${newest}) took over from epoch ${epoch}`, { epoch, newest });
  }

  /** A row is not at the revision its writer read. */
  static conflict(store: string, type: string, id: string, expected: number, actual: number): StoreError {
    return new StoreError('STORE_CONFLICT', `store '${store}': ${type} '${id}' is at revision ${actual}, not ${expected}`, { type, id, expected, actual });
  }

  /** The store failed (`what`: open, load, commit, remove), with the driver's error as the cause. */
  static unavailable(store: string, what: string, e: unknown): StoreError {
    const cause = e instanceof Error ? e : new Error(String(e));
    return new StoreError(
      'STORE_UNAVAILABLE',
      `store '${store}': ${what} failed: ${cause.message}`,
      { code: (cause as { code?: string }).code ?? null },
      { cause },
    );
  }
}

interface Row {
  state: string;
  version: number;
  revision: number;
  epoch: number;
  replies: string | null;
}

/**
 * A store in memory, for tests: the contract of every store (epochs, fencing, revisions, all-or-
 * none commits), nothing durable. Stored states are copied through JSON, as a database would.
 *
 * @example
 * ```ts
 * const store = memoryStore();
 * const session = await store.open();
 * await session.commit([{ type: 'account', id: 'a1', state: { balance: 5 }, version: 1, expected: 0 }]);
 * (await session.load('account', 'a1'))?.revision; // 1
 * ```
 */
export function memoryStore(name = 'memory'): ActorStore {
  const rows = new Map<string, Row>();
  const reminders = new Map<string, { type: string; id: string; name: string; at: number; message: string; input: string; shard: number | null }>();
  const shardEpochs = new Map<number, number>();
  const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  let newest = 0;
  const key = (type: string, id: string) => `${type}\u0000${id}`;
  const openSession = (shared: boolean): StoreSession => {
    const epoch = shared ? 0 : ++newest;
    let closed = false;
    const check = (fences: Iterable<ShardFence | undefined>) => {
      if (closed) throw StoreError.closed(name, epoch);
      if (!shared) {
        if (epoch !== newest) throw StoreError.fenced(name, epoch, newest);
        return;
      }
      for (const f of fences) {
        if (f === undefined) throw new StoreError('STORE_FENCED', `store '${name}': a write in a shared session must name its shard`, {});
        const now = shardEpochs.get(f.shard) ?? 0;
        if (now !== f.epoch) throw StoreError.shardFenced(name, f.shard, f.epoch, now);
      }
    };
    return {
      epoch,
      async load(type, id) {
        if (closed) throw StoreError.closed(name, epoch);
        const row = rows.get(key(type, id));
        if (row === undefined) return null;
        const stored = { state: JSON.parse(row.state), version: row.version, revision: row.revision, epoch: row.epoch };
        return row.replies === null ? stored : { ...stored, replies: JSON.parse(row.replies) };
      },
      async commit(writes) {
        check(writes.map((w) => w.fence));
        for (const w of writes) {
          const current = rows.get(key(w.type, w.id))?.revision ?? 0;
          if (current !== w.expected) {
            throw StoreError.conflict(name, w.type, w.id, w.expected, current);
          }
        }
        const encoded = writes.map((w) => [w, JSON.stringify(w.state), w.replies === undefined ? undefined : JSON.stringify(w.replies)] as const);
        for (const [w, state, replies] of encoded) {
          const k = key(w.type, w.id);
          rows.set(k, {
            state,
            version: w.version,
            revision: w.expected + 1,
            epoch: w.fence?.epoch ?? epoch,
            replies: replies ?? rows.get(k)?.replies ?? null,
          });
          for (const r of w.reminders ?? []) {
            const k = `${key(w.type, w.id)}\u0000${r.name}`;
            if (r.at === null) reminders.delete(k);
            else
              reminders.set(k, {
                type: w.type,
                id: w.id,
                name: r.name,
                at: r.at,
                message: String(r.message),
                input: JSON.stringify(r.input ?? null),
                shard: w.fence?.shard ?? null,
              });
          }
        }
      },
      async dueReminders(before, limit, shards) {
        if (closed) throw StoreError.closed(name, epoch);
        const only = shards === undefined ? null : new Set(shards);
        return [...reminders.values()]
          .filter((r) => r.at < before && (only === null || (r.shard !== null && only.has(r.shard))))
          .sort((a, b) => a.at - b.at || cmp(a.type, b.type) || cmp(a.id, b.id) || cmp(a.name, b.name))
          .slice(0, limit)
          .map(({ shard: _, ...r }) => ({ ...r, input: JSON.parse(r.input) }));
      },
      async remove(type, id, expected, fence) {
        check([fence]);
        const current = rows.get(key(type, id))?.revision ?? 0;
        if (current !== expected) {
          throw StoreError.conflict(name, type, id, expected, current);
        }
        rows.delete(key(type, id));
        for (const [k, r] of reminders) if (r.type === type && r.id === id) reminders.delete(k);
      },
      ...(shared
        ? {
            async claimShard(shard: number, at: number) {
              if (closed) throw StoreError.closed(name, epoch);
              const now = shardEpochs.get(shard) ?? 0;
              if (now > at) throw StoreError.shardFenced(name, shard, at, now);
              shardEpochs.set(shard, at);
            },
          }
        : {}),
      async close() {
        closed = true;
      },
    };
  };
  return {
    name,
    async open() {
      return openSession(false);
    },
    async openShared() {
      return openSession(true);
    },
  };
}
