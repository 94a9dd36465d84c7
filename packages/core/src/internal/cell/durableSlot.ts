// A durable actor's part of its cell (durable.ts is its chapter of the owner loop): the revision
// it read, whether its state changed since it was sealed into a commit, and the outputs (replies,
// messages) its turns hold until their state is committed — the output gate. Also what happens
// when a commit fails or a crash throws the dirty state away.
//
// Invariants:
// - `held` are the outputs of turns whose state is not sealed into a commit yet, in order;
//   `sealed` those waiting on the commit in flight. Both are released in order, or failed.
// - A read-only turn (`readonly: true` in the protocol) never dirties; its outputs leave at once
//   unless earlier outputs are still held (they would otherwise overtake them, or reveal state
//   that may yet roll back).
// - A crash throws away the dirty state: every held output fails, the in-flight commit (state
//   from before) still lands, and the next incarnation loads what is stored.
import { DEFAULT_KEEP_REPLIES, type DurableSpec, type Reminder } from '../../defineActor.js';
import { CommitFailed, type CrashReason, isHoldfastError, type StateInvalid } from '../../errors.js';
import type { ReminderWrite, ShardFence, StoredReply } from '../../store.js';
import { outputGate } from '../callChain.js';
import { ASK_ZOD, type CompiledCheck, compileSchema } from '../compileSchema.js';
import { type Durability, keyOf } from '../durable/Durability.js';
import { KeptReplies } from '../durable/KeptReplies.js';
import type { ReplyChannel } from '../ReplyChannel.js';
import type { Cell } from './Cell.js';
import { crash, reportError } from './lifecycle.js';
import { RUNNING } from './parts.js';

export interface ResolvedDurable {
  readonly schema: DurableSpec<unknown>['schema'];
  /** How many replies to keyed asks it keeps. */
  readonly keepReplies: number;
  /** The schema compiled to a plain check (zod's own output, or ASK_ZOD: ask zod), or null. */
  readonly fast: CompiledCheck | null;
  readonly version: number;
  readonly migrate: NonNullable<DurableSpec<unknown>['migrate']>;
}

export function resolveDurable(spec: DurableSpec<unknown>): ResolvedDurable {
  return {
    schema: spec.schema,
    keepReplies: spec.keepReplies ?? DEFAULT_KEEP_REPLIES,
    fast: compileSchema(spec.schema),
    version: spec.version ?? 1,
    migrate: spec.migrate ?? {},
  };
}

/** The state as zod's schema gives it, or zod's issues. Compiled when the schema allows it. */
export function checkState(spec: ResolvedDurable, state: unknown): { ok: true; data: unknown } | { ok: false; issues: StateInvalid['details']['issues'] } {
  if (spec.fast !== null) {
    const v = spec.fast(state);
    if (v !== ASK_ZOD) return { ok: true, data: v };
  }
  const r = spec.schema.safeParse(state);
  return r.success ? { ok: true, data: r.data } : { ok: false, issues: r.error.issues };
}

/** Something a turn sent or answered, waiting for the commit of the state that turn left. */
export class Held {
  constructor(
    /** A reply: the ask it answers. */
    readonly channel: ReplyChannel | null,
    readonly value: unknown,
    /** A reply that is a failure (a business refusal), or undefined. */
    readonly error: unknown,
    /** A message sent: queue it. */
    readonly send: (() => void) | null,
    /** A message sent: fail its sender (an ask), when the turn's state is thrown away. */
    readonly fail: ((e: unknown) => void) | null,
  ) {}

  release(): void {
    if (this.send !== null) this.send();
    else if (this.error !== undefined) (this.channel as ReplyChannel).failWith(this.error);
    else (this.channel as ReplyChannel).succeed(this.value);
  }

  drop(error: Error): void {
    if (this.channel !== null) {
      if (!this.channel.settled) this.channel.failWith(error);
    } else this.fail?.(error);
  }
}

/** A durable actor's part of its cell: revision, dirtiness, and the outputs its turns hold. */
export class DurableSlot {
  readonly key: string;
  readonly spec: ResolvedDurable;
  readonly durability: Durability;
  /** The revision of the stored row this state was loaded from or last written as (0: none). */
  revision = 0;
  /** The schema version the row was stored with, when it was loaded. */
  loadedVersion = 0;
  /** The state changed since it was last sealed into a commit. */
  dirty = false;
  /** Enlisted for the next commit. */
  enlisted = false;
  /** A commit with this actor's state is in flight. */
  inFlight = false;
  /** Outputs of turns not sealed into a commit yet, in order. */
  held: Held[] = [];
  /** Outputs waiting on the commit in flight. */
  sealed: Held[] | null = null;
  /** The running turn holds what it sends (it may write, or earlier outputs are held). */
  gatedTurn = false;
  /** When it last ran turns or woke (the system's clock). */
  lastUsed = 0;
  /** When it was last moved to the recent end of the active set. */
  touchedAt = 0;
  /** Reminders set or removed by turns not sealed into a commit yet (reminders.ts). */
  reminderOps: Map<string, ReminderWrite> | null = null;
  /** Deliveries (their keys) handled by turns not sealed into a commit yet. */
  delivered: string[] | null = null;
  /** The same two, for the commit in flight. */
  sealedOps: ReminderWrite[] | null = null;
  sealedDelivered: string[] | null = null;
  /** The reminder the running turn delivers (`ctx.reminder`), or null. */
  delivering: Reminder | null = null;
  /** In a cluster: the actor's shard and the epoch this node held it at when the actor woke. */
  fence: ShardFence | null = null;
  /** The replies it keeps to keyed asks (loaded with the state), or null before the first. */
  replies: KeptReplies | null = null;

  constructor(cell: Cell, durability: Durability) {
    this.key = keyOf(cell.def.name, cell.id);
    this.spec = resolveDurable(cell.def.behaviour.durable as DurableSpec<unknown>);
    this.durability = durability;
  }

  /** Outputs wait: a write is not committed yet, or earlier outputs still wait. */
  get pending(): boolean {
    return this.dirty || this.held.length > 0 || this.inFlight;
  }

  /** Awake with nothing to do and nothing owed: it may be put to sleep. */
  idle(cell: Cell): boolean {
    return (
      cell.status === RUNNING &&
      !cell.busy &&
      !this.pending &&
      !this.enlisted &&
      cell.mailbox.length === 0 &&
      cell.sys === null &&
      (cell.rare?.deferred?.size ?? 0) === 0
    );
  }

  /** The flush took this actor's state: what its turns held now waits on that commit. */
  sealBatch(): ReminderWrite[] | undefined {
    this.dirty = false;
    this.sealed = this.held;
    this.held = [];
    this.inFlight = true;
    this.sealedOps = this.reminderOps === null ? null : [...this.reminderOps.values()];
    this.reminderOps = null;
    this.sealedDelivered = this.delivered;
    this.delivered = null;
    return this.sealedOps ?? undefined;
  }

  committed(cell: Cell): void {
    this.inFlight = false;
    this.revision++;
    if (this.sealedOps !== null || this.sealedDelivered !== null) {
      this.durability.reminders.committed(cell.def.name, cell.id, this.sealedOps, this.sealedDelivered);
      this.sealedOps = this.sealedDelivered = null;
    }
    const sealed = this.sealed;
    this.sealed = null;
    if (sealed !== null) for (const h of sealed) h.release();
    // Read-only turns that queued behind the commit: nothing they saw is uncommitted any more.
    if (!this.dirty && this.held.length > 0) {
      const held = this.held;
      this.held = [];
      for (const h of held) h.release();
    }
    // It stopped taking turns while too much was held: go on.
    if (cell.ready && !cell.scheduled) cell.core.dispatcher.schedule(cell);
  }

  /** Keep the reply to a keyed ask (given by a turn that may write: committed with its state). */
  keepReply(reply: StoredReply): void {
    (this.replies ??= new KeptReplies(this.spec.keepReplies, undefined)).add(reply);
  }

  /** The kept replies for the commit being sealed, when they changed since the last one. */
  sealReplies(): StoredReply[] | undefined {
    return this.replies?.changed === true ? this.replies.seal() : undefined;
  }

  commitFailed(cell: Cell, error: CommitFailed): void {
    this.inFlight = false;
    this.sealedOps = null;
    if (this.sealedDelivered !== null) this.durability.reminders.failed(this.sealedDelivered);
    this.sealedDelivered = null;
    const sealed = this.sealed;
    this.sealed = null;
    if (sealed !== null) for (const h of sealed) h.drop(error);
    failDurable(cell, error, 'commit-failed');
  }

  /** The state failed its schema when it was about to be committed: the turns that made it crash. */
  commitRefused(cell: Cell, error: StateInvalid): void {
    failDurable(cell, error, 'invalid-state');
  }
}

/** Throw away the dirty state and fail what it held; crash the actor (it restarts from the store). */
function failDurable(cell: Cell, error: Error, reason: CrashReason): void {
  reportError(cell, reason === 'commit-failed' ? 'commit' : 'state check', error);
  dropUncommitted(cell, error);
  if (cell.status === RUNNING) crash(cell, null, error, reason);
}

/** A crash: the state since the last sealed commit is gone, and every output it held fails. */
export function dropUncommitted(cell: Cell, cause: Error): void {
  const slot = cell.durable;
  if (slot === null) return;
  endGatedTurn(slot);
  slot.dirty = false;
  slot.durability.withdraw(slot);
  slot.reminderOps = null;
  slot.delivering = null;
  if (slot.delivered !== null) slot.durability.reminders.failed(slot.delivered);
  slot.delivered = null;
  if (slot.held.length === 0) return;
  const held = slot.held;
  slot.held = [];
  const error = isHoldfastError(cause, 'COMMIT_FAILED') || isHoldfastError(cause, 'STATE_INVALID') ? cause : new CommitFailed(cell.id, cell.def.name, cause);
  for (const h of held) h.drop(error);
}

export function endGatedTurn(slot: DurableSlot): void {
  if (slot.gatedTurn) {
    slot.gatedTurn = false;
    outputGate.turns--;
  }
}
