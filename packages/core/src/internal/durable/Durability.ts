// A system's side of its store: the session (opened once, with its ownership epoch), the group
// commit that writes the state of every durable actor whose turns ended close together in one
// transaction, the store's health (asks fail fast while it is down), and the active set of
// durable actors, put to sleep (passivated) when idle or when there are more than `maxActive`.
//
// The group commit: turns mark their actor dirty and enlist it; one flush runs at a time. A flush
// takes every enlisted actor, checks its state against its schema, writes all of them in one
// commit, then releases the outputs (replies, messages) their turns held. Turns that end while a
// commit is in flight wait for the next one, so under load each commit carries many turns and
// throughput does not pay one fsync per ask.
import type { TimerHandle } from '../../Clock.js';
import { CommitFailed, StateInvalid, StoreUnavailable, toError } from '../../errors.js';
import type { DurableStats } from '../../inspection.js';
import type { ActorStore, StateWrite, StoredState, StoreSession } from '../../store.js';
import type { Cell } from '../cell/Cell.js';
import type { DurableSlot } from '../cell/durableSlot.js';
import { checkState } from '../cell/durableSlot.js';
import { GATE_STORE } from '../cell/parts.js';
import type { SystemCore } from '../SystemCore.js';
import { Reminders } from './Reminders.js';

/** How a system runs its durable actors. */
export interface DurabilitySettings {
  readonly store: ActorStore;
  /** Put an actor to sleep after this long without a turn. */
  readonly passivateAfterMs: number;
  /** At most this many durable actors awake; past it, the least recently used idle ones sleep. */
  readonly maxActive: number;
  /** How often the store is asked for reminders coming due. */
  readonly reminderPollMs: number;
  /** One node of a cluster: open a shared session, fenced per shard. */
  readonly shared: boolean;
}

/** Told about every commit: how long it took and how many states it wrote. */
export type CommitObserver = (durationMs: number, writes: number, ok: boolean) => void;

const RETRY_MS = 1_000;

export class Durability {
  readonly store: ActorStore;
  readonly passivateAfterMs: number;
  readonly maxActive: number;
  readonly reminderPollMs: number;
  readonly shared: boolean;
  readonly core: SystemCore;
  /** Durable reminders: due ones found in the store and delivered. */
  readonly reminders: Reminders;
  session: StoreSession | null = null;
  /** Why the store cannot be used now (down, or fenced off), or null. */
  down: Error | null = null;
  /** A newer owner took the store over: permanent for this system. */
  fenced: Error | null = null;
  /** Actors whose state changed since their last write, waiting for the next flush. */
  #dirty: Cell[] = [];
  /** Keys (type, id) with a write enlisted or in flight: an actor waking under one waits. */
  readonly #pending = new Map<string, number>();
  #flushing = false;
  #flushQueued = false;
  #batchWaiters: Array<() => void> = [];
  #opening: Promise<StoreSession> | null = null;
  #retry: TimerHandle | null = null;
  #sweep: TimerHandle | null = null;
  #closed = false;
  /** Awake durable actors, least recently used first. */
  readonly active = new Map<Cell, true>();
  #trimQueued = false;
  observer: CommitObserver | null = null;
  activations = 0;
  passivations = 0;
  commits = 0;
  writes = 0;
  largestBatch = 0;
  storeErrors = 0;

  constructor(core: SystemCore, settings: DurabilitySettings) {
    this.core = core;
    this.store = settings.store;
    this.passivateAfterMs = settings.passivateAfterMs;
    this.maxActive = settings.maxActive;
    this.reminderPollMs = settings.reminderPollMs;
    this.shared = settings.shared;
    this.reminders = new Reminders(
      core,
      settings.reminderPollMs,
      () => this.open(),
      (what, e) => this.#failed(what, e),
    );
    void this.open().catch(() => {});
  }

  /** The open session; opens it (again) if needed. Rejects with `STORE_UNAVAILABLE`. */
  open(): Promise<StoreSession> {
    if (this.session !== null) return Promise.resolve(this.session);
    if (this.fenced !== null) return Promise.reject(this.fenced);
    this.#opening ??= (this.shared ? (this.store.openShared as () => Promise<StoreSession>).call(this.store) : this.store.open()).then(
      (session) => {
        this.#opening = null;
        if (this.#closed) {
          void session.close();
          throw new StoreUnavailable(this.store.name, '*', new Error('the system is stopped'));
        }
        this.session = session;
        session.onError?.((e) => this.#failed('connection', e));
        this.#up();
        this.core.logger.info({ store: this.store.name, epoch: session.epoch }, 'store opened');
        return session;
      },
      (e: unknown) => {
        this.#opening = null;
        this.#failed('open', e);
        throw this.down;
      },
    );
    return this.#opening;
  }

  get available(): boolean {
    return this.session !== null && this.down === null && this.fenced === null;
  }

  /** The error for an ask to `actor` while the store cannot be used, or null. */
  refusal(actor: string): Error | null {
    if (this.fenced !== null) return new StoreUnavailable(this.store.name, actor, this.fenced);
    if (this.down !== null) return new StoreUnavailable(this.store.name, actor, this.down);
    return null;
  }

  /** The store cannot be used: every awake durable actor's gate sends senders the slow way, which refuses. */
  #gate(closed: boolean): void {
    for (const cell of this.active.keys()) {
      if (closed) cell.gate |= GATE_STORE;
      else cell.gate &= ~GATE_STORE;
    }
  }

  /** The store answers again. */
  #up(): void {
    if (this.down === null) return;
    this.down = null;
    if (this.fenced === null) this.#gate(false);
  }

  /** A store operation failed: count it, log it, and if the store is down, fail fast until a probe succeeds. */
  #failed(what: string, e: unknown): void {
    this.storeErrors++;
    const error = toError(e);
    const code = (error as { code?: unknown }).code;
    if (code === 'STORE_FENCED' && this.shared) {
      // A cluster's shard has a newer owner: this node stops serving it; the rest goes on.
      const shard = (error as { details?: { shard?: unknown } }).details?.shard;
      this.core.logger.warn({ err: error, store: this.store.name, shard }, 'store: a newer owner holds the shard; it is no longer served here');
      if (typeof shard === 'number') this.core.placement?.fenced(shard);
      return;
    }
    if (code === 'STORE_FENCED') {
      if (this.fenced === null) {
        this.fenced = error;
        this.#gate(true);
        this.core.logger.error({ err: error, store: this.store.name }, 'store: a newer owner took over; durable actors here are fenced off');
        this.core.emit({ type: 'error', actor: this.store.name, actorType: 'store', incarnation: 0, where: `store ${what}`, error, at: this.core.clock.now() });
      }
      return;
    }
    if (code === 'STORE_CONFLICT') return;
    // One failed operation is not a store that is down: ask it at once whether it answers, and
    // fail fast only if it does not.
    if (what !== 'open' && what !== 'probe' && this.down === null) {
      this.core.logger.warn({ err: error, store: this.store.name }, `store ${what} failed; checking whether the store answers`);
      this.#scheduleProbe(0);
      return;
    }
    if (this.down === null) {
      this.down = error;
      this.#gate(true);
      this.core.logger.error({ err: error, store: this.store.name }, `store ${what} failed; durable actors fail fast until it answers`);
      this.core.emit({ type: 'error', actor: this.store.name, actorType: 'store', incarnation: 0, where: `store ${what}`, error, at: this.core.clock.now() });
    }
    this.#scheduleProbe(RETRY_MS);
  }

  #scheduleProbe(ms: number): void {
    if (this.#retry !== null || this.#closed || this.fenced !== null) return;
    this.#retry = this.core.clock.setTimeout(() => {
      this.#retry = null;
      void this.#probe();
    }, ms);
    unref(this.#retry);
  }

  async #probe(): Promise<void> {
    try {
      const session = await this.open();
      await session.load('holdfast', 'probe');
      if (this.down !== null) this.core.logger.info({ store: this.store.name }, 'store answers again');
      this.#up();
    } catch (e) {
      this.#failed('probe', e);
    }
  }

  // ---------------------------------------------------------------- loading

  /** The stored row of (type, id), once no write of it is pending. */
  async load(type: string, id: string): Promise<StoredState | null> {
    const key = keyOf(type, id);
    while (this.#pending.has(key)) await this.#nextBatch();
    const session = await this.open();
    try {
      return await session.load(type, id);
    } catch (e) {
      this.#failed('load', e);
      throw new StoreUnavailable(this.store.name, id, e);
    }
  }

  #nextBatch(): Promise<void> {
    return new Promise((resolve) => {
      this.#batchWaiters.push(resolve);
      this.#queueFlush();
    });
  }

  // ---------------------------------------------------------------- the group commit

  /** `cell`'s state changed in a turn: write it with the next commit. */
  enlist(cell: Cell, slot: DurableSlot): void {
    if (slot.enlisted) return;
    slot.enlisted = true;
    this.#dirty.push(cell);
    const key = slot.key;
    this.#pending.set(key, (this.#pending.get(key) ?? 0) + 1);
    this.#queueFlush();
  }

  /** A crashed actor's dirty state is thrown away: forget its enlistment. */
  withdraw(slot: DurableSlot): void {
    if (!slot.enlisted) return;
    slot.enlisted = false;
    this.#unpend(slot.key);
  }

  #unpend(key: string): void {
    const n = (this.#pending.get(key) ?? 1) - 1;
    if (n <= 0) this.#pending.delete(key);
    else this.#pending.set(key, n);
  }

  #queueFlush(): void {
    if (this.#flushQueued || this.#flushing) return;
    this.#flushQueued = true;
    // After the current run of turns: every actor whose turns end in this macrotask shares the commit.
    setImmediate(() => {
      this.#flushQueued = false;
      void this.#flush();
    });
  }

  async #flush(): Promise<void> {
    if (this.#flushing) return;
    this.#flushing = true;
    try {
      while (this.#dirty.length > 0) {
        await this.#commitBatch();
        // Let the turns that the released replies set off run first (their callers ask again at
        // once): they join the next commit instead of trickling into several small ones.
        await new Promise((r) => setImmediate(r));
      }
    } finally {
      this.#flushing = false;
      const waiters = this.#batchWaiters;
      this.#batchWaiters = [];
      for (const w of waiters) w();
      if (this.core.draining) this.core.noteIdle();
    }
  }

  async #commitBatch(): Promise<void> {
    const cells = this.#dirty;
    this.#dirty = [];
    const batch: Cell[] = [];
    const writes: StateWrite[] = [];
    for (const cell of cells) {
      const slot = cell.durable as DurableSlot;
      if (!slot.enlisted) continue;
      slot.enlisted = false;
      const checked = checkState(slot.spec, cell.state);
      if (!checked.ok) {
        this.#unpend(slot.key);
        const error = new StateInvalid({ actor: cell.id, type: cell.def.name, at: 'commit', version: slot.spec.version, issues: checked.issues });
        slot.commitRefused(cell, error);
        continue;
      }
      const reminders = slot.sealBatch();
      const replies = slot.sealReplies();
      writes.push({
        type: cell.def.name,
        id: cell.id,
        state: checked.data,
        version: slot.spec.version,
        expected: slot.revision,
        ...(reminders && { reminders }),
        ...(replies && { replies }),
        ...(slot.fence !== null && { fence: slot.fence }),
      });
      batch.push(cell);
    }
    if (writes.length === 0) return;
    const t0 = performance.now();
    let failure: unknown = null;
    try {
      const session = this.session ?? (await this.open());
      await session.commit(writes);
    } catch (e) {
      failure = e;
    }
    const ms = performance.now() - t0;
    this.observer?.(ms, writes.length, failure === null);
    if (failure === null) {
      this.commits++;
      this.writes += writes.length;
      if (writes.length > this.largestBatch) this.largestBatch = writes.length;
      this.#up();
    } else {
      this.#failed('commit', failure);
    }
    for (const cell of batch) {
      const slot = cell.durable as DurableSlot;
      this.#unpend(slot.key);
      if (failure === null) slot.committed(cell);
      else slot.commitFailed(cell, new CommitFailed(cell.id, cell.def.name, failure));
    }
  }

  /** True while a write is enlisted or in flight. */
  get busy(): boolean {
    return this.#flushing || this.#flushQueued || this.#dirty.length > 0;
  }

  // ---------------------------------------------------------------- the active set

  /** `cell` ran turns or woke: it is the most recently used. */
  touch(cell: Cell): void {
    const active = this.active;
    if (active.has(cell)) active.delete(cell);
    active.set(cell, true);
    if (active.size > this.maxActive && !this.#trimQueued) {
      this.#trimQueued = true;
      setImmediate(() => {
        this.#trimQueued = false;
        this.#trim();
      });
    }
    if (this.#sweep === null && !this.#closed) this.#startSweep();
  }

  /** `cell` stopped (passivated, or for good). */
  forget(cell: Cell): void {
    this.active.delete(cell);
    this.core.placement?.untrack(cell);
  }

  /** Resolves once nothing is enlisted or in flight. */
  async settled(): Promise<void> {
    while (this.busy) await this.#nextBatch();
  }

  /**
   * In a cluster: take `shard` at `epoch` in the store. Resolves once writes there with an older
   * epoch are fenced and earlier ones have landed, so what is loaded next is final.
   */
  async claim(shard: number, epoch: number): Promise<void> {
    const session = await this.open();
    if (session.claimShard === undefined)
      throw new StoreUnavailable(this.store.name, `shard ${shard}`, new Error('the store cannot serve a cluster (no claimShard)'));
    try {
      await session.claimShard(shard, epoch);
    } catch (e) {
      if ((e as { code?: unknown }).code !== 'STORE_FENCED') this.#failed('claim', e);
      throw e;
    }
  }

  #trim(): void {
    let over = this.active.size - this.maxActive;
    if (over <= 0) return;
    for (const cell of this.active.keys()) {
      if (over <= 0) break;
      if ((cell.durable as DurableSlot).idle(cell)) {
        this.#passivate(cell);
        over--;
      }
    }
  }

  #startSweep(): void {
    const every = Math.max(50, Math.min(this.passivateAfterMs / 4, 5_000));
    this.#sweep = this.core.clock.setTimeout(() => {
      this.#sweep = null;
      const now = this.core.clock.now();
      for (const cell of this.active.keys()) {
        const slot = cell.durable as DurableSlot;
        // Least recently used first: the first one used too recently ends the sweep.
        if (now - slot.lastUsed < this.passivateAfterMs) break;
        if (slot.idle(cell)) this.#passivate(cell);
      }
      if (this.active.size > 0 && !this.#closed) this.#startSweep();
    }, every);
    unref(this.#sweep);
  }

  #passivate(cell: Cell): void {
    void this.passivate(cell);
  }

  /** Put `cell` to sleep (it is idle): its state is in the store; the next message wakes it. */
  passivate(cell: Cell): Promise<void> {
    this.active.delete(cell);
    this.passivations++;
    return cell.stopFor('passivated', null);
  }

  stats(): DurableStats {
    return {
      store: this.store.name,
      available: this.available,
      active: this.active.size,
      activations: this.activations,
      passivations: this.passivations,
      commits: this.commits,
      writes: this.writes,
      largestBatch: this.largestBatch,
      storeErrors: this.storeErrors,
    };
  }

  /** After the drain: commit what is left, then release the session. */
  async close(): Promise<void> {
    while (this.busy) await this.#nextBatch();
    this.#closed = true;
    if (this.#retry !== null) this.core.clock.clearTimeout(this.#retry);
    if (this.#sweep !== null) this.core.clock.clearTimeout(this.#sweep);
    this.reminders.close();
    this.#retry = this.#sweep = null;
    const session = this.session;
    this.session = null;
    if (session !== null) {
      try {
        await session.close();
      } catch (e) {
        this.core.logger.error({ err: toError(e), store: this.store.name }, 'closing the store failed');
      }
    }
  }
}

export function keyOf(type: string, id: string): string {
  return `${type}\u0000${id}`;
}

function unref(t: TimerHandle): void {
  (t as { unref?: () => void }).unref?.();
}
